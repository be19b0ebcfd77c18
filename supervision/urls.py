"""Supervision pages, one namespace (``supervision:``) over its parts."""

from django.urls import include, path

app_name = "supervision"

urlpatterns = [
    path("", include("supervision.organisation.urls")),
    path("", include("supervision.quality.urls")),
    path("", include("supervision.progress.urls")),
    path("", include("supervision.completeness.urls")),
]
