"""The audit log: append-only in the database, readable by the auditor, editable by nobody — not even the
Django admin."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse

from census.models import AuditAction, AuditEvent, Role
from census.services import audit_record
from tests.census.factories import StaffMemberFactory
from tests.conftest import Cast
from tests.security.conftest import World

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(cast: Cast) -> AuditEvent:
    return audit_record(
        actor=cast.district_office, action=AuditAction.EXPORT, object_type="households", detail={"rows": 80}
    )


def _refused(operation) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(DatabaseError) as refused, transaction.atomic():
        operation()
    return str(refused.value)


def test_update_and_delete_are_refused_by_the_database(event: AuditEvent) -> None:
    assert "append-only" in _refused(lambda: AuditEvent.objects.filter(pk=event.pk).update(object_type="nothing"))
    assert "append-only" in _refused(lambda: AuditEvent.objects.filter(pk=event.pk).delete())
    event.detail = {"rows": 0}
    assert "append-only" in _refused(event.save)
    assert "append-only" in _refused(event.delete)


def test_raw_sql_cannot_rewrite_history_either(event: AuditEvent) -> None:
    def update() -> None:
        with connection.cursor() as cursor:
            cursor.execute("UPDATE census_auditevent SET actor_username = 'someone else' WHERE id = %s", [event.pk])

    def delete() -> None:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM census_auditevent")

    assert "UPDATE is not allowed" in _refused(update)
    assert "DELETE is not allowed" in _refused(delete)
    stored = AuditEvent.objects.get(pk=event.pk)
    assert (stored.actor_username, stored.detail) == ("district", {"rows": 80})


def test_the_auditor_reads_the_log_of_their_district(world: World) -> None:
    cast = world.cast
    mine = audit_record(actor=cast.district_office, action=AuditAction.EXPORT, object_type="summary_tables")
    other = audit_record(actor=world.other_office, action=AuditAction.EXPORT, object_type="other_district_export")
    client = Client()
    client.force_login(cast.auditor)
    response = client.get(reverse("frame:audit-log"))
    assert response.status_code == 200
    body = response.content.decode()
    assert mine.object_type in body and other.object_type not in body


@pytest.mark.parametrize("role", [Role.ENUMERATOR, Role.SUPERVISOR, Role.TOWNSHIP_OFFICE, Role.DEPARTMENT])
def test_other_roles_may_not_read_it(cast: Cast, role: str) -> None:
    client = Client()
    client.force_login(cast.by_role()[role])
    assert client.get(reverse("frame:audit-log")).status_code == 403


@pytest.fixture
def admin_client_(cast: Cast) -> Client:
    root = StaffMemberFactory(username="root", is_superuser=True, is_staff=True, role=Role.DISTRICT_OFFICE)
    client = Client()
    client.force_login(root)
    return client


def test_the_admin_shows_the_log_read_only(event: AuditEvent, admin_client_: Client) -> None:
    changelist = admin_client_.get(reverse("admin:census_auditevent_changelist"))
    assert changelist.status_code == 200 and "households" in changelist.content.decode()
    assert reverse("admin:census_auditevent_add") not in changelist.content.decode()
    assert 'name="action"' not in changelist.content.decode()  # no "delete selected" action
    page = admin_client_.get(reverse("admin:census_auditevent_change", args=[event.pk]))
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode() and "deletelink" not in page.content.decode()


def test_the_admin_refuses_to_add_change_or_delete(event: AuditEvent, admin_client_: Client) -> None:
    before = list(AuditEvent.objects.values_list("id", "object_type", "detail"))
    assert admin_client_.get(reverse("admin:census_auditevent_add")).status_code == 403
    assert admin_client_.post(reverse("admin:census_auditevent_add"), {"action": "export"}).status_code == 403
    change = reverse("admin:census_auditevent_change", args=[event.pk])
    assert admin_client_.post(change, {"object_type": "rewritten", "action": "export"}).status_code == 403
    delete = reverse("admin:census_auditevent_delete", args=[event.pk])
    assert admin_client_.get(delete).status_code == 403
    assert admin_client_.post(delete, {"post": "yes"}).status_code == 403
    changelist = reverse("admin:census_auditevent_changelist")
    admin_client_.post(changelist, {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"})
    after = list(
        AuditEvent.objects.filter(pk__in=[row[0] for row in before]).values_list("id", "object_type", "detail")
    )
    assert after == before
