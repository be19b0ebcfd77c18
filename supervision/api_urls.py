from django.urls import include, path

urlpatterns = [
    path("", include("supervision.organisation.api_urls")),
    path("", include("supervision.quality.api_urls")),
    path("", include("supervision.progress.api_urls")),
]
