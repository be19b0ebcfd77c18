"""Scoping through the HTML pages and the API, by list and by direct id: outside the scope is 404, not 403."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from tests.conftest import Cast

pytestmark = pytest.mark.django_db


def api_as(user) -> APIClient:  # type: ignore[no-untyped-def]
    client = APIClient()
    client.force_authenticate(user)
    return client


class TestEnumeratorScope:
    def test_the_api_lists_only_their_small_area(self, cast: Cast) -> None:
        response = api_as(cast.enumerator_a1).get(reverse("api-small-area-list"))
        assert response.status_code == 200
        assert [row["code"] for row in response.json()["results"]] == [cast.area_a1.code]

    def test_another_enumerators_small_area_by_id_is_404_in_the_api(self, cast: Cast) -> None:
        client = api_as(cast.enumerator_a1)
        assert client.get(reverse("api-small-area-detail", args=[cast.area_a1.pk])).status_code == 200
        assert client.get(reverse("api-small-area-detail", args=[cast.area_a2.pk])).status_code == 404
        assert client.get(reverse("api-small-area-detail", args=[cast.area_b1.pk])).status_code == 404

    def test_another_enumerators_small_area_page_is_404(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        client = login(cast.enumerator_a1)
        assert client.get(reverse("frame:small-area", args=[cast.area_a1.pk])).status_code == 200
        assert client.get(reverse("frame:small-area", args=[cast.area_a2.pk])).status_code == 404

    def test_the_small_area_list_page_shows_only_their_area(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        body = login(cast.enumerator_a1).get(reverse("frame:small-areas")).content.decode()
        assert cast.area_a1.code in body
        assert cast.area_a2.code not in body and cast.area_b1.code not in body


class TestTownshipOfficeScope:
    def test_the_api_lists_only_their_township(self, cast: Cast) -> None:
        response = api_as(cast.township_office_a).get(reverse("api-township-list"))
        assert [row["code"] for row in response.json()["results"]] == [cast.township_a.code]

    def test_another_township_by_code_is_404_in_the_api_and_pages(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        assert (
            api_as(cast.township_office_a).get(reverse("api-township-detail", args=[cast.township_b.code])).status_code
            == 404
        )
        assert (
            api_as(cast.township_office_a).get(reverse("api-village-detail", args=[cast.village_b.code])).status_code
            == 404
        )
        client = login(cast.township_office_a)
        assert client.get(reverse("frame:township", args=[cast.township_a.code])).status_code == 200
        assert client.get(reverse("frame:township", args=[cast.township_b.code])).status_code == 404
        assert client.get(reverse("frame:village", args=[cast.village_b.code])).status_code == 404

    def test_the_township_list_page_shows_only_their_township(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        body = login(cast.township_office_a).get(reverse("frame:townships")).content.decode()
        assert cast.township_a.code in body and cast.township_b.code not in body

    def test_the_export_holds_only_their_township(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        response = login(cast.township_office_a).get(reverse("frame:export") + "?level=small_area&format=csv")
        body = response.content.decode("utf-8-sig")
        assert cast.area_a1.code in body and cast.area_b1.code not in body


class TestRoleGates:
    def test_an_enumerator_may_not_open_the_frame_pages(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        assert login(cast.enumerator_a1).get(reverse("frame:townships")).status_code == 403

    def test_anonymous_visitors_are_sent_to_the_login_page(self, cast: Cast, client) -> None:  # type: ignore[no-untyped-def]
        response = client.get(reverse("frame:townships"))
        assert response.status_code == 302 and reverse("login") in response["Location"]

    def test_the_api_refuses_anonymous_visitors(self, cast: Cast) -> None:
        assert APIClient().get(reverse("api-small-area-list")).status_code in (401, 403)


class TestTokens:
    def test_a_token_works_until_it_expires(self, cast: Cast, settings) -> None:  # type: ignore[no-untyped-def]
        import datetime

        from django.utils import timezone
        from rest_framework.authtoken.models import Token

        token = Token.objects.create(user=cast.enumerator_a1)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        assert client.get(reverse("api-small-area-list")).status_code == 200
        Token.objects.filter(pk=token.pk).update(
            created=timezone.now() - datetime.timedelta(days=settings.API_TOKEN_MAX_AGE_DAYS + 1)
        )
        response = client.get(reverse("api-small-area-list"))
        assert response.status_code in (401, 403)
        assert "expired" in response.json()["detail"] or "过期" in response.json()["detail"]

    def test_an_unknown_token_and_a_deactivated_accounts_token_are_refused(self, cast: Cast) -> None:
        from rest_framework.authtoken.models import Token

        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
        refused = client.get(reverse("api-small-area-list"))
        assert refused.status_code in (401, 403)
        assert refused.json()["detail"] == "认证令牌无效。"
        token = Token.objects.create(user=cast.enumerator_a1)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        # The status is what switches an account off (is_active follows it, census.models.staff).
        cast.enumerator_a1.is_active, cast.enumerator_a1.status = False, "suspended"
        cast.enumerator_a1.save(update_fields=["is_active", "status"])
        inactive = client.get(reverse("api-small-area-list"))
        assert inactive.status_code in (401, 403)
        assert inactive.json()["detail"] == "用户未激活或已删除。"

    def test_a_token_authenticates_its_own_user_in_one_query(self, cast: Cast, django_assert_num_queries: Any) -> None:
        from rest_framework.authtoken.models import Token
        from rest_framework.test import APIRequestFactory

        from census.authentication import ExpiringTokenAuthentication

        token = Token.objects.create(user=cast.enumerator_a1)
        request = APIRequestFactory().get("/", HTTP_AUTHORIZATION=f"Token {token.key}")
        with django_assert_num_queries(1):
            user, auth = ExpiringTokenAuthentication().authenticate(request)  # type: ignore[misc]
        assert user == cast.enumerator_a1
        assert user.role == cast.enumerator_a1.role and user.password == cast.enumerator_a1.password
        assert (auth.key, auth.user_id, auth.created) == (token.key, token.user_id, token.created)
