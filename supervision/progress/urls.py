"""Pages of this part of supervision; included under the ``supervision`` namespace."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
