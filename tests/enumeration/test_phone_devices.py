"""Issue 19, item 7: a lost phone is revoked by the township office and deletes its copy at its next contact.

A phone registers when the offline pages run (it gets a key in an HTTP-only cookie); the office's page lists its
own people's phones; revoking needs the actor's password, ends the phone's login and is audit-logged; every later
request carrying the phone's key is answered 410 ``device_revoked`` with ``Clear-Site-Data``."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from census.api import ApplicationError
from census.models import AuditEvent, StaffMember
from enumeration.middleware import DEVICE_COOKIE
from enumeration.models import PhoneDevice
from enumeration.models.devices import device_key_digest
from enumeration.services.devices import phone_device_revoke
from tests.conftest import Cast

pytestmark = pytest.mark.django_db
REGISTER = reverse("enumeration:device-register")
PHONES = reverse("enumeration:phones")
MY_AREAS = reverse("enumeration:my-areas")


def phone_of(user: StaffMember) -> tuple[Client, PhoneDevice]:
    """A phone logged in as ``user`` that ran the offline pages once."""
    client = Client(HTTP_USER_AGENT="Mozilla/5.0 (Linux; Android 10) Chrome/120")
    client.force_login(user)
    response = client.post(REGISTER, content_type="application/json", HTTP_ACCEPT="application/json")
    assert response.status_code == 200, response.content
    key = response.cookies[DEVICE_COOKIE]
    assert key["httponly"] and key.value
    return client, PhoneDevice.objects.get(key_sha256=device_key_digest(key.value))


def office(user: StaffMember) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_phone_registers_once_and_keeps_its_key(cast: Cast) -> None:
    client, device = phone_of(cast.enumerator_a1)
    again = client.post(REGISTER, content_type="application/json", HTTP_ACCEPT="application/json")
    assert again.status_code == 200 and DEVICE_COOKIE not in again.cookies  # the same key, no new one
    assert PhoneDevice.objects.count() == 1
    assert device.staff == cast.enumerator_a1 and device.session_key == client.session.session_key
    assert "Android" in device.label
    # Only field staff's phones keep work; an office's browser is not registered.
    assert office(cast.township_office_a).post(REGISTER, content_type="application/json").status_code == 403


def test_the_office_lists_only_its_own_peoples_phones(cast: Cast, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    _, mine = phone_of(cast.enumerator_a1)
    _, theirs = phone_of(cast.enumerator_b1)
    page = office(cast.township_office_a).get(PHONES)
    assert page.status_code == 200
    assert [d.pk for d in page.context["listing"].page] == [mine.pk]
    district = office(cast.district_office).get(PHONES)
    assert {d.pk for d in district.context["listing"].page} == {mine.pk, theirs.pk}
    assert office(cast.enumerator_a1).get(PHONES).status_code == 403
    assert office(cast.auditor).get(PHONES).status_code == 403
    # Search and filters.
    client = office(cast.district_office)
    assert [d.pk for d in client.get(PHONES, {"q": "enum_b1"}).context["listing"].page] == [theirs.pk]
    assert [d.pk for d in client.get(PHONES, {"state": "revoked"}).context["listing"].page] == []
    # A constant number of queries, whatever the number of phones.
    with django_assert_max_num_queries(12):
        client.get(PHONES)
    for _ in range(15):
        phone_of(cast.enumerator_a2)
    with django_assert_max_num_queries(12):
        many = client.get(PHONES)
    assert many.context["listing"].page.paginator.count == 17


def test_township_a_cannot_revoke_township_bs_phone(cast: Cast, password: str) -> None:
    _, theirs = phone_of(cast.enumerator_b1)
    url = reverse("enumeration:phone-revoke", args=[theirs.pk])
    client = office(cast.township_office_a)
    assert client.get(url).status_code == 404
    assert client.post(url, {"password": password}).status_code == 404
    with pytest.raises(ApplicationError) as refused:
        phone_device_revoke(device=theirs, actor=cast.township_office_a, password=password)
    assert refused.value.code == "not_managed"
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_revoking_needs_the_actors_password(cast: Cast, password: str) -> None:
    _, device = phone_of(cast.enumerator_a1)
    url = reverse("enumeration:phone-revoke", args=[device.pk])
    client = office(cast.township_office_a)
    assert client.get(url).status_code == 200  # the confirm step
    wrong = client.post(url, {"password": password + "x"})
    assert wrong.status_code == 400
    with translation.override("zh-hans"):
        assert translation.gettext("The password is wrong; the phone was not revoked.") in wrong.content.decode()
    assert client.post(url, {"password": ""}).status_code == 400
    device.refresh_from_db()
    assert device.revoked_at is None


def test_a_revoked_phone_is_told_to_delete_its_copy_at_its_next_contact(cast: Cast, password: str) -> None:
    phone, device = phone_of(cast.enumerator_a1)
    other_phone, other = phone_of(cast.enumerator_a2)
    assert phone.get(MY_AREAS).status_code == 200
    response = office(cast.township_office_a).post(
        reverse("enumeration:phone-revoke", args=[device.pk]), {"password": password}
    )
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.revoked_at is not None and device.revoked_by == cast.township_office_a
    event = AuditEvent.objects.get(object_type="phone_device", object_id=str(device.pk))
    assert event.actor_username == cast.township_office_a.username
    assert event.detail["username"] == cast.enumerator_a1.username

    # The outbox sending (a script's POST): 410 with the code the phone's script acts on.
    sent = phone.post(
        reverse("enumeration:household-autosave", args=[1]),
        {},
        content_type="application/json",
        HTTP_ACCEPT="application/json",
    )
    assert sent.status_code == 410 and sent.json()["code"] == "device_revoked"
    assert sent["Clear-Site-Data"] == '"cache", "storage"'
    # A page opened: the page that deletes the copy, and the login is over.
    page = phone.get(MY_AREAS)
    assert page.status_code == 410 and b"data-device-revoked" in page.content
    assert "_auth_user_id" not in phone.session
    # Registering again does not give the revoked phone a new key.
    again = phone.post(REGISTER, content_type="application/json", HTTP_ACCEPT="application/json")
    assert again.status_code == 410 and DEVICE_COOKIE not in again.cookies
    # The phone reports its copy deleted: the office sees when, and the key is forgotten.
    wiped = phone.post(reverse("enumeration:device-wiped"))
    assert wiped.status_code == 200 and wiped.cookies[DEVICE_COOKIE].value == ""
    device.refresh_from_db()
    assert device.wiped_at is not None
    # Another phone of the township is not touched.
    assert other_phone.get(MY_AREAS).status_code == 200
    other.refresh_from_db()
    assert other.revoked_at is None


def test_a_phone_that_is_not_revoked_cannot_report_a_deletion(cast: Cast) -> None:
    phone, device = phone_of(cast.enumerator_a1)
    assert phone.post(reverse("enumeration:device-wiped")).status_code == 404
    assert Client().post(reverse("enumeration:device-wiped")).status_code == 404
    device.refresh_from_db()
    assert device.wiped_at is None


def test_the_phones_key_is_read_once_per_session(cast: Cast) -> None:
    """In the session the phone registered in (which revoking deletes) its requests read no device row; in any
    other session — a new login, no login at all — every request with the key reads it."""
    phone, _ = phone_of(cast.enumerator_a1)

    def device_reads() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert phone.get(MY_AREAS).status_code in (200, 302)
        return sum('"enumeration_phonedevice"' in query["sql"] for query in queries.captured_queries)

    assert device_reads() == 0
    key = phone.cookies[DEVICE_COOKIE].value
    phone.logout()  # the test client forgets every cookie: the phone keeps its key
    phone.cookies[DEVICE_COOKIE] = key
    assert device_reads() == 1  # no login: the key is read
    phone.force_login(cast.enumerator_a1)
    assert device_reads() == 1  # a new session the phone has not registered in
