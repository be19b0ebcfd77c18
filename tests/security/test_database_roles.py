"""The application's database role owns nothing and may only insert into and read the audit log.

`migrate`, run as the owner with ``CENSUS_APP_DB_ROLE`` set (as docker compose's migrate step does), creates the
role and grants it (census/database_roles.py). Then, as that role (``SET ROLE`` on the test's own connection,
inside the test's transaction, so the role and its grants vanish with the rollback; and once over a real login
connection), every way of rewriting the audit log that the owner or a superuser has is refused by PostgreSQL —
while the application's own work (a household submission, a review, an export job, a check run, a login, the
audit log page) goes through with nothing but the role's privileges.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from census.jobs import job_run
from census.models import AuditAction, AuditEvent, JobStatus
from census.services import audit_record
from enumeration.models import Household, HouseholdState
from supervision.progress.services import EXPORT_SUMMARY, export_start
from supervision.quality.models import RunStatus
from tests.conftest import Cast
from tests.enumeration.factories import four_person_form
from tests.enumeration.test_services_registration import png_data_url
from tests.quality.factories import run

INSUFFICIENT_PRIVILEGE = "42501"
# What an insider with the application's database password would try, with the owner's or a superuser's rights.
TAMPERING = {
    "TRUNCATE": "TRUNCATE census_auditevent",
    "DISABLE TRIGGER": "ALTER TABLE census_auditevent DISABLE TRIGGER ALL",
    "session_replication_role": "SET session_replication_role = replica",
    "UPDATE": "UPDATE census_auditevent SET actor_username = 'someone else'",
    "DELETE": "DELETE FROM census_auditevent",
    "DROP": "DROP TABLE census_auditevent",
    "DROP TRIGGER": "DROP TRIGGER census_auditevent_no_update_or_delete ON census_auditevent",
    "OWNER TO itself": "ALTER TABLE census_auditevent OWNER TO CURRENT_USER",
    "a table of its own": "CREATE TABLE census_mine (x int)",
}


def _role_name() -> str:
    # Roles belong to the whole PostgreSQL server: one per test database, so parallel runs never share one.
    return f"{connection.settings_dict['NAME']}_app"[:63]


@pytest.fixture
def app_role(db: None, settings: Any) -> str:
    """The role as docker compose's migrate step leaves it: created and granted by `migrate` run as the owner."""
    settings.CENSUS_APP_DB_ROLE = _role_name()
    settings.CENSUS_APP_DB_PASSWORD = secrets.token_urlsafe(24)
    call_command("migrate", verbosity=0)
    return settings.CENSUS_APP_DB_ROLE


@contextmanager
def acting_as(role: str) -> Iterator[None]:
    with connection.cursor() as cursor:
        cursor.execute(f"SET ROLE {connection.ops.quote_name(role)}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET ROLE")


def _refused(statement: str) -> str:
    """The SQLSTATE and message of a statement PostgreSQL refuses, in a savepoint so the test goes on."""
    with pytest.raises(DatabaseError) as refused, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    cause = refused.value.__cause__
    return f"{getattr(cause, 'pgcode', None)} {refused.value}"


def _audit_count() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM census_auditevent")
        return int(cursor.fetchone()[0])


def test_as_the_application_role_the_audit_log_can_be_read_and_appended_to_and_nothing_else(
    app_role: str, cast: Cast
) -> None:
    audit_record(actor=cast.district_office, action=AuditAction.EXPORT, object_type="before")
    before = _audit_count()
    with acting_as(app_role):
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user, usesuper FROM pg_user WHERE usename = current_user")
            assert cursor.fetchone() == (app_role, False)
        for what, statement in TAMPERING.items():
            refusal = _refused(statement)
            assert refusal.startswith(INSUFFICIENT_PRIVILEGE), (
                f"{what} was not refused for lack of privilege: {refusal}"
            )
        # What the application does with the log: append, and read (the auditor's page, the API).
        written = audit_record(actor=cast.district_office, action=AuditAction.EXPORT, object_type="as the app role")
        assert AuditEvent.objects.filter(pk=written.pk, object_type="as the app role").exists()
        assert _audit_count() == before + 1
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = current_user"
            )
            assert cursor.fetchone()[0] == 0, "the application role owns nothing"


def test_every_append_only_model_is_insert_and_select_only_and_every_other_table_fully_writable(app_role: str) -> None:
    """Read back from PostgreSQL's own privilege functions, table by table, for every model of the project."""
    from django.apps import apps

    append_only = {
        m._meta.db_table for m in apps.get_models(include_auto_created=True) if getattr(m, "census_append_only", False)
    }
    assert "census_auditevent" in append_only
    others = {m._meta.db_table for m in apps.get_models(include_auto_created=True)} - append_only
    privileges = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
    with connection.cursor() as cursor:

        def held(table: str) -> set[str]:
            cursor.execute(
                "SELECT p FROM unnest(%s::text[]) AS p WHERE has_table_privilege(%s, %s, p)",
                [list(privileges), app_role, table],
            )
            return {row[0] for row in cursor.fetchall()}

        for table in sorted(append_only):
            assert held(table) == {"SELECT", "INSERT"}, table
        for table in sorted(others):
            assert held(table) == {"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE"}, table
        assert held("django_migrations") == {"SELECT"}
        cursor.execute(
            # CASE: the planner may test the privilege before the relkind, and only sequences have one.
            "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace "
            "AND CASE WHEN relkind = 'S' THEN NOT has_sequence_privilege(%s, oid, 'USAGE') ELSE false END",
            [app_role],
        )
        assert cursor.fetchone()[0] == 0, "every sequence is usable"


def test_privileges_granted_by_hand_are_taken_back_and_a_superuser_role_is_demoted(app_role: str) -> None:
    quoted = connection.ops.quote_name(app_role)
    with connection.cursor() as cursor:
        cursor.execute(f"GRANT UPDATE, DELETE, TRUNCATE, TRIGGER ON census_auditevent TO {quoted}")
        cursor.execute(f"ALTER ROLE {quoted} SUPERUSER CREATEROLE")
        cursor.execute(f"GRANT pg_write_all_data TO {quoted}")
        cursor.execute(f"ALTER TABLE census_job OWNER TO {quoted}")
    from census.database_roles import app_role_grant

    grants = app_role_grant(role=app_role)
    assert set(grants.attributes_removed) == {"NOSUPERUSER", "NOCREATEROLE"}
    assert grants.memberships_revoked == ["pg_write_all_data"]
    assert grants.ownership_reassigned
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT has_table_privilege(%s, 'census_auditevent', 'UPDATE, DELETE, TRUNCATE, TRIGGER')", [app_role]
        )
        assert cursor.fetchone()[0] is False
        cursor.execute("SELECT pg_get_userbyid(relowner) = %s FROM pg_class WHERE relname = 'census_job'", [app_role])
        assert cursor.fetchone()[0] is False
        cursor.execute("SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = %s", [app_role])
        assert cursor.fetchone()[0] is False


def _api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_application_works_with_only_the_application_roles_privileges(
    app_role: str, cast: Cast, password: str, settings: Any, tmp_path: Path
) -> None:
    settings.PRIVATE_MEDIA_ROOT = settings.MEDIA_ROOT = tmp_path
    data, persons = four_person_form()
    with acting_as(app_role):
        # A household submission: the one-statement write, its signature, ledger and audit rows.
        submitted = _api(cast.enumerator_a1).post(
            reverse("api-household-submit"),
            {
                "small_area": cast.area_a1.pk,
                "household": data,
                "persons": persons,
                "respondent": {"name": "王伟", "relationship": 0, "signature_image": png_data_url()},
                "password": password,
            },
            format="json",
        )
        assert submitted.status_code == 201, submitted.content
        household_id = submitted.json()["id"]
        # A review: the supervisor approves (row locks, a state change, the history).
        approved = _api(cast.supervisor_a).post(
            reverse("api-household-transition", args=[household_id]), {"action": "approve"}, format="json"
        )
        assert approved.status_code == 200 and approved.json()["state"] == "approved", approved.content
        # An export job, run to its end as the worker runs it.
        job = export_start(user=cast.district_office, kind=EXPORT_SUMMARY, params={"format": "csv"})
        job_run(job.pk)
        job.refresh_from_db()
        assert job.status == JobStatus.DONE, job.error
        # A check run: temporary tables, TRUNCATE of the roster working tables, findings.
        checked = run()
        assert checked.status == RunStatus.DONE, checked.stats
        # Signing in (sessions, django-axes, the audit log) and the auditor's page of the log.
        client = Client()
        assert (
            client.post(reverse("login"), {"username": cast.auditor.username, "password": password}).status_code == 302
        )
        page = client.get(reverse("frame:audit-log"))
        assert page.status_code == 200
    household = Household.objects.get(pk=household_id)
    assert household.state == HouseholdState.APPROVED
    assert AuditEvent.objects.filter(action=AuditAction.LOGIN, actor_username=cast.auditor.username).exists()


@pytest.fixture
def login_role(django_db_blocker: Any, django_db_setup: None) -> Iterator[tuple[str, str]]:
    """A real login role, committed, for a second connection of its own; dropped afterwards."""
    name = f"{_role_name()[:58]}_live"
    password = secrets.token_urlsafe(24)
    from census.database_roles import app_role_grant

    with django_db_blocker.unblock():
        with connection.cursor() as cursor:
            cursor.execute(f"DROP ROLE IF EXISTS {connection.ops.quote_name(name)}")
        app_role_grant(role=name, password=password)
        audit_record(actor=None, action=AuditAction.EXPORT, object_type="committed before the attempt")
    try:
        yield name, password
    finally:
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            quoted = connection.ops.quote_name(name)
            cursor.execute(f"DROP OWNED BY {quoted}")
            cursor.execute(f"DROP ROLE {quoted}")


def _connect(role: str, password: str) -> Any:
    db = connection.settings_dict
    return psycopg2.connect(
        dbname=db["NAME"], user=role, password=password, host=db["HOST"] or None, port=db["PORT"] or None
    )


@pytest.mark.django_db(transaction=True)
def test_over_its_own_login_connection_the_application_role_cannot_empty_or_unprotect_the_log(
    login_role: tuple[str, str],
) -> None:
    role, password = login_role
    live = _connect(role, password)
    try:
        live.autocommit = True
        refusals: dict[str, str] = {}
        with live.cursor() as cursor:
            for what, statement in TAMPERING.items():
                try:
                    cursor.execute(statement)
                except psycopg2.Error as exc:
                    refusals[what] = exc.pgcode or ""
            cursor.execute(
                "INSERT INTO census_auditevent (at, actor_username, actor_role, district_id, action, object_type, "
                "object_id, detail) VALUES (now(), '', '', '', 'export', 'over a login connection', '', '{}')"
            )
            cursor.execute("SELECT count(*) FROM census_auditevent")
            count = cursor.fetchone()[0]
    finally:
        live.close()
    assert refusals == dict.fromkeys(TAMPERING, INSUFFICIENT_PRIVILEGE)
    assert count == 2
    assert list(AuditEvent.objects.order_by("pk").values_list("object_type", flat=True)) == [
        "committed before the attempt",
        "over a login connection",
    ]


def test_migrate_refuses_to_grant_when_it_runs_as_the_application_role_itself(app_role: str, settings: Any) -> None:
    from django.core.exceptions import ImproperlyConfigured

    from census.database_roles import app_role_grant

    with acting_as(app_role), pytest.raises(ImproperlyConfigured, match="run migrations as the owner"):
        app_role_grant(role=app_role)
