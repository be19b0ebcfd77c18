"""API endpoints of this part of supervision; included under /api/."""

from django.urls import URLPattern, URLResolver, path

from supervision.progress import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("progress/small-areas/", api.SmallAreaProgressListApi.as_view(), name="api-progress-small-areas"),
    path("progress/townships/", api.TownshipScoreListApi.as_view(), name="api-progress-townships"),
]
