"""First login and passwords (issue 20, part 4): a one-time password opens the password page and nothing else
until its owner has chosen their own; an office resets the password of its own staff (audited, shown once); API
clients get tokens from an endpoint documented in the schema, and tokens are revoked by their device or an
office."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from census.api import ApplicationError
from census.models import AuditEvent, Role, StaffMember
from census.staffing import services
from census.staffing.services import StaffPermissionError
from tests.census.factories import PASSWORD, staff_id_number
from tests.conftest import Cast

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "yibin-river-2020-autumn"


def new_person(cast: Cast, username: str = "zhao") -> StaffMember:
    return services.staff_create(
        username=username,
        role=Role.ENUMERATOR,
        district_id="511504",
        township_id=cast.township_a.code,
        full_name="赵敏",
        id_number=staff_id_number(11),
        phone="13600001111",
        actor=cast.township_office_a,
    )


def reset_on_the_page(office: Client, member: StaffMember) -> str:
    """The office gives a new one-time password; the page shows it once."""
    page = office.post(reverse("frame:staff-password-reset", args=[member.pk]))
    assert page.status_code == 200 and "no-store" in page.get("Cache-Control", "")
    found = re.search(r'id="one-time-password">([^<]+)<', page.content.decode())
    assert found is not None
    return found.group(1)


def sign_in(username: str, password: str) -> Client:
    client = Client()
    response = client.post(reverse("login"), {"username": username, "password": password})
    assert response.status_code == 302, f"{username} could not sign in"
    return client


def cannot_sign_in(username: str, password: str) -> bool:
    return Client().post(reverse("login"), {"username": username, "password": password}).status_code == 200


def test_a_one_time_password_opens_the_password_page_only_until_a_new_one_is_chosen(cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
    member = new_person(cast)
    services.small_area_assign(staff=member, small_area=cast.area_a2, actor=cast.township_office_a)
    one_time = reset_on_the_page(login(cast.township_office_a), member)
    client = sign_in("zhao", one_time)
    for path in (reverse("home"), reverse("enumeration:my-areas"), reverse("frame:small-areas")):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"] == reverse("password-change"), path
    api = client.get("/api/frame/me/")
    assert api.status_code == 403 and api.json()["code"] == "password_change_required"
    page = client.get(reverse("password-change")).content.decode()
    assert 'name="current_password"' in page and 'class="warn-box"' in page

    # The one-time password itself, and a too short one, are refused.
    same = {"current_password": one_time, "new_password1": one_time, "new_password2": one_time}
    assert client.post(reverse("password-change"), same).status_code == 400
    short = {"current_password": one_time, "new_password1": "abc", "new_password2": "abc"}
    assert client.post(reverse("password-change"), short).status_code == 400
    chosen = {"current_password": one_time, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    response = client.post(reverse("password-change"), chosen)
    assert response.status_code == 302 and response["Location"] == reverse("home")
    # This session goes on, now to the enumerator's areas: exactly the one assigned.
    areas = client.get(reverse("enumeration:my-areas"))
    assert areas.status_code == 200
    assert cast.area_a2.code in areas.content.decode() and cast.area_a1.code not in areas.content.decode()
    member.refresh_from_db()
    assert not member.must_change_password
    assert cannot_sign_in("zhao", one_time)
    sign_in("zhao", NEW_PASSWORD)
    changes = [e.detail.get("change") for e in AuditEvent.objects.filter(object_type="staff", object_id=str(member.pk))]
    assert "password_reset" in changes and "password_changed" in changes
    reset = AuditEvent.objects.get(object_type="staff", object_id=str(member.pk), detail__change="password_reset")
    assert reset.actor_username == "office_a" and one_time not in json.dumps(reset.detail)


def test_a_wrong_current_password_is_refused_and_counted(cast: Cast) -> None:
    with pytest.raises(ApplicationError) as refused:
        services.staff_password_change(member=cast.enumerator_a1, current_password="not-it", new_password=NEW_PASSWORD)
    assert refused.value.code == "bad_password"
    cast.enumerator_a1.refresh_from_db()
    assert cast.enumerator_a1.check_password(PASSWORD)


def test_an_office_resets_the_passwords_of_its_own_staff_only(cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
    office = login(cast.township_office_a)
    assert office.post(reverse("frame:staff-password-reset", args=[cast.enumerator_b1.pk])).status_code == 404
    with pytest.raises(StaffPermissionError):
        services.staff_password_reset(member=cast.enumerator_b1, actor=cast.township_office_a)
    with pytest.raises(ApplicationError):
        services.staff_password_reset(member=cast.district_office, actor=cast.district_office)
    cast.enumerator_b1.refresh_from_db()
    assert cast.enumerator_b1.check_password(PASSWORD) and not cast.enumerator_b1.must_change_password


def test_a_reset_ends_the_persons_sessions_and_tokens(cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
    enumerator = cast.enumerator_a1
    session = sign_in("enum_a1", PASSWORD)
    token = Token.objects.create(user=enumerator)
    reset_on_the_page(login(cast.township_office_a), enumerator)
    assert session.get(reverse("enumeration:my-areas"))["Location"].startswith(reverse("login"))
    assert Client(HTTP_AUTHORIZATION=f"Token {token.key}").get("/api/frame/me/").status_code == 401
    assert cannot_sign_in("enum_a1", PASSWORD)


# --- API tokens -----------------------------------------------------------------------------------------------


def obtain(username: str, password: str) -> tuple[int, dict[str, object]]:
    response = Client().post(
        "/api/auth/token/", json.dumps({"username": username, "password": password}), content_type="application/json"
    )
    return response.status_code, response.json()


def test_a_device_gets_a_token_with_the_persons_password_and_a_new_one_ends_the_old(cast: Cast) -> None:
    status, body = obtain("enum_a1", PASSWORD)
    assert status == 201 and body["username"] == "enum_a1" and body["role"] == Role.ENUMERATOR
    first = str(body["token"])
    assert Token.objects.get(user=cast.enumerator_a1).key == first
    me = Client(HTTP_AUTHORIZATION=f"Token {first}").get("/api/frame/me/")
    assert me.status_code == 200 and me.json()["username"] == "enum_a1"
    _status, again = obtain("enum_a1", PASSWORD)
    assert Client(HTTP_AUTHORIZATION=f"Token {first}").get("/api/frame/me/").status_code == 401
    assert Client(HTTP_AUTHORIZATION=f"Token {again['token']}").get("/api/frame/me/").status_code == 200
    assert AuditEvent.objects.filter(action="login", actor_username="enum_a1", detail__via="api_token").count() == 2


def test_wrong_passwords_and_one_time_passwords_get_no_token(cast: Cast, settings) -> None:  # type: ignore[no-untyped-def]
    status, body = obtain("enum_a1", "wrong-password")
    assert status == 401 and body["code"] == "bad_credentials"
    for _ in range(settings.AXES_FAILURE_LIMIT):
        obtain("enum_a2", "wrong-password")
    status, body = obtain("enum_a2", PASSWORD)  # the right one, but the login is locked for a while
    assert status == 429 and body["code"] == "locked_out"
    member = new_person(cast)
    one_time = services.staff_password_reset(member=member, actor=cast.township_office_a)
    status, body = obtain("zhao", one_time)
    assert status == 403 and body["code"] == "password_change_required"
    assert not Token.objects.filter(user__in=[cast.enumerator_a2, member]).exists()


def test_a_device_signs_out_and_an_office_ends_a_lost_phones_token(cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
    _status, body = obtain("enum_a1", PASSWORD)
    device = Client(HTTP_AUTHORIZATION=f"Token {body['token']}")
    assert device.post("/api/auth/token/revoke/").status_code == 204
    assert device.get("/api/frame/me/").status_code == 401
    _status, body = obtain("enum_a1", PASSWORD)
    office = login(cast.township_office_a)
    assert office.post(reverse("frame:staff-tokens-revoke", args=[cast.enumerator_a1.pk])).status_code == 302
    assert Client(HTTP_AUTHORIZATION=f"Token {body['token']}").get("/api/frame/me/").status_code == 401
    ended = AuditEvent.objects.filter(object_type="staff", detail__change="tokens_revoked").order_by("id")
    assert [e.actor_username for e in ended] == ["enum_a1", "office_a"]
    assert office.post(reverse("frame:staff-tokens-revoke", args=[cast.enumerator_b1.pk])).status_code == 404


def test_the_token_endpoint_is_in_the_openapi_schema(cast: Cast) -> None:
    client = Client()
    client.force_login(cast.district_office)
    schema = json.loads(client.get("/api/schema/", {"format": "json"}).content)
    operation = schema["paths"]["/api/auth/token/"]["post"]
    assert "201" in operation["responses"] and "requestBody" in operation
    assert "post" in schema["paths"]["/api/auth/token/revoke/"]
