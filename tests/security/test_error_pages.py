"""What an unexpected error answers: 500 with a page of the site in the reader's language, and JSON on the API —
not Django's bare English "Server Error (500)". The project's URLs are served with two more that fail (this
module is the URL conf), under the project's own ``handler500``."""

from __future__ import annotations

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client, override_settings
from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from census import urls as project_urls
from tests.security.bad_input import error_messages_of, has_chinese, has_english
from tests.security.xss import is_html, is_json, text_of


def _page_that_fails(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug in a page")


class _ApiThatFails(APIView):
    authentication_classes = ()
    permission_classes = ()

    def get(self, request: Request) -> Response:
        raise RuntimeError("a bug in the API")


urlpatterns = [
    path("api/test-fails/", _ApiThatFails.as_view()),
    path("test-fails/", _page_that_fails),
    *project_urls.urlpatterns,
]
handler500 = getattr(project_urls, "handler500", None)  # the project's, or Django's default when it has none


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_an_unexpected_error_is_a_page_of_the_site_and_json_on_the_api(language: str) -> None:
    client = Client(raise_request_exception=False)
    page = client.get("/test-fails/", HTTP_ACCEPT_LANGUAGE=language)
    assert page.status_code == 500 and is_html(page)
    text = error_messages_of(text_of(page))
    assert has_chinese(text) if language == "zh-hans" else has_english(text) and not has_chinese(text)
    assert "a bug in a page" not in text_of(page)  # what went wrong is for the log, not for the visitor
    api = client.get("/api/test-fails/", HTTP_ACCEPT_LANGUAGE=language)
    assert api.status_code == 500 and is_json(api), api.content[:200]
    assert api.json()["code"] == "server_error"
    detail = api.json()["detail"]
    assert has_chinese(detail) if language == "zh-hans" else has_english(detail) and not has_chinese(detail)
