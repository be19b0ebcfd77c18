"""API endpoints of this part of supervision; included under /api/."""

from django.urls import URLPattern, URLResolver, path

from supervision.quality import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("quality/findings/", api.FindingListApi.as_view(), name="api-finding-list"),
    path("quality/findings/<int:pk>/", api.FindingDetailApi.as_view(), name="api-finding-detail"),
    path("quality/findings/<int:pk>/explain/", api.FindingExplainApi.as_view(), name="api-finding-explain"),
    path("quality/findings/<int:pk>/verify/", api.FindingVerifyApi.as_view(), name="api-finding-verify"),
    path("quality/findings/<int:pk>/reject/", api.FindingRejectApi.as_view(), name="api-finding-reject"),
    path("quality/runs/", api.CheckRunListCreateApi.as_view(), name="api-check-run-list"),
    path("quality/runs/<int:pk>/", api.CheckRunDetailApi.as_view(), name="api-check-run-detail"),
    path("quality/roster/", api.RosterClassificationApi.as_view(), name="api-roster-classification"),
]
