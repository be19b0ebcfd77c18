"""API endpoints of this part of supervision; included under /api/."""

from django.urls import URLPattern, URLResolver, path

from supervision.organisation import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("organisation/awareness/", api.AwarenessApi.as_view(), name="api-organisation-awareness"),
    path("organisation/readiness/", api.ReadinessListApi.as_view(), name="api-organisation-readiness"),
    path(
        "organisation/readiness/overdue/", api.ReadinessOverdueApi.as_view(), name="api-organisation-readiness-overdue"
    ),
    path("organisation/subsidies/", api.SubsidyDueListApi.as_view(), name="api-organisation-subsidies"),
    path(
        "organisation/rectification/tasks/",
        api.RectificationTaskListApi.as_view(),
        name="api-organisation-rectification-tasks",
    ),
    path("organisation/directory/", api.DirectoryUnitListApi.as_view(), name="api-organisation-directory"),
    path(
        "organisation/directory/<int:pk>/",
        api.DirectoryUnitDetailApi.as_view(),
        name="api-organisation-directory-unit",
    ),
]
