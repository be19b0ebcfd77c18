"""census.db: database constraint violations as form errors, statements prepared once per connection and new rows of
several models in one statement; census.postgresql: the health check."""

from __future__ import annotations

import time
from typing import Any
from unittest.mock import patch

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.test.utils import CaptureQueriesContext

from census.db import constraint_errors, execute_prepared, rows_insert
from census.models import AuditAction, AuditEvent
from census.services import audit_event
from enumeration.models import DwellingUnit
from tests.census.factories import BuildingFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("savepoint", [True, False])
def test_a_refused_row_is_a_message_by_the_constraint_s_name_and_nothing_of_the_block_stays(savepoint: bool) -> None:
    building = BuildingFactory()

    def write_two() -> None:
        with transaction.atomic():
            DwellingUnit.objects.create(building=building, number="101")
            with constraint_errors(DwellingUnit, label="number", savepoint=savepoint):
                DwellingUnit.objects.create(building=building, number="no #")

    with pytest.raises(ValidationError) as refused:
        write_two()
    assert "dwelling_unit_number_format" in str(refused.value.message_dict["number"])
    # The connection goes on (the enclosing block rolled back to its savepoint) and the block left nothing.
    assert not DwellingUnit.objects.filter(building=building).exists()


def test_with_its_own_savepoint_the_caller_goes_on_after_a_refusal() -> None:
    building = BuildingFactory()
    with transaction.atomic():
        DwellingUnit.objects.create(building=building, number="101")
        with pytest.raises(ValidationError), constraint_errors(DwellingUnit):
            DwellingUnit.objects.create(building=building, number="no #")
        DwellingUnit.objects.create(building=building, number="102")
    assert sorted(DwellingUnit.objects.filter(building=building).values_list("number", flat=True)) == ["101", "102"]


def test_rows_insert_writes_several_models_in_one_statement_and_reads_the_ids_back(
    django_assert_num_queries: Any,
) -> None:
    building = BuildingFactory()
    units = [DwellingUnit(building=building, number=f"{n}01", note="东") for n in (1, 2, 3)]
    event = audit_event(actor=None, action=AuditAction.RECORD_CHANGE, object_type="dwelling_unit", detail={"n": 3})
    with django_assert_num_queries(1):
        rows_insert(units, [], [event])
    stored = list(DwellingUnit.objects.filter(building=building).order_by("pk").values_list("pk", "number", "note"))
    assert stored == [(unit.pk, unit.number, "东") for unit in units]
    assert all(not unit._state.adding for unit in [*units, event])
    # auto_now_add is set on the instance as save() would, and the row holds what the instance holds.
    row = AuditEvent.objects.get(pk=event.pk)
    assert event.at is not None and row.at == event.at and row.detail == {"n": 3}


def test_rows_insert_keeps_ids_taken_beforehand_and_leaves_the_rest_as_save_would() -> None:
    building = BuildingFactory()
    saved = DwellingUnit.objects.create(building=building, number="101", note="a")
    inserted = DwellingUnit(pk=saved.pk + 1000, building=building, number="102", note="a")
    rows_insert([inserted])
    assert inserted.pk == saved.pk + 1000
    columns = [f.attname for f in DwellingUnit._meta.concrete_fields if f.attname not in ("id", "number")]
    assert DwellingUnit.objects.values(*columns).get(pk=inserted.pk) == DwellingUnit.objects.values(*columns).get(
        pk=saved.pk
    )


def test_rows_insert_refused_by_a_constraint_is_a_message_and_writes_nothing() -> None:
    building = BuildingFactory()
    good, bad = DwellingUnit(building=building, number="101"), DwellingUnit(building=building, number="no #")
    with pytest.raises(ValidationError) as refused, transaction.atomic(), constraint_errors(DwellingUnit, label="x"):
        rows_insert([good, bad])
    assert "dwelling_unit_number_format" in str(refused.value.message_dict["x"])
    assert not DwellingUnit.objects.filter(building=building).exists()


def test_rows_insert_takes_a_group_of_one_model_with_ids_all_given_or_all_not() -> None:
    building = BuildingFactory()
    with pytest.raises(TypeError):
        rows_insert([DwellingUnit(building=building, number="101"), DwellingUnit(pk=10**9, building=building)])
    with pytest.raises(TypeError):
        rows_insert([DwellingUnit(building=building, number="101"), AuditEvent(action="x")])
    assert not DwellingUnit.objects.filter(building=building).exists()


def test_a_kept_alive_connection_is_checked_without_a_query_and_a_terminated_one_is_found_out() -> None:
    """census.postgresql: the health check looks at the socket; only a socket with something to read costs
    Django's ``SELECT 1`` — and a connection the server ended is then reported unusable."""
    from django.db import connection, connections
    from django.db.backends.postgresql.base import DatabaseWrapper as DjangoWrapper

    kept = connections.create_connection("default")
    kept.connect()
    try:
        with kept.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        with patch.object(DjangoWrapper, "is_usable", side_effect=AssertionError("a query was sent")):
            assert kept.is_usable() is True
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        deadline = time.monotonic() + 10
        while kept.is_usable() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert kept.is_usable() is False
    finally:
        kept.close()


@pytest.mark.django_db(transaction=True)
def test_a_statement_is_prepared_once_per_connection_and_outlives_a_rollback() -> None:
    from django.db import connection

    sql = "SELECT %s::int + %s::int, 'a%%b'"

    def run(a: int, b: int) -> tuple[int, str]:
        with connection.cursor() as cursor:
            execute_prepared(cursor, sql, [a, b])
            return cursor.fetchone()  # type: ignore[no-any-return]

    def prepared() -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT statement FROM pg_prepared_statements WHERE statement LIKE %s", ["%$1::int%"])
            return [row[0] for row in cursor.fetchall()]

    with CaptureQueriesContext(connection) as queries:
        assert run(1, 2) == (3, "a%b")
    assert len(queries.captured_queries) == 1 and queries.captured_queries[0]["sql"].startswith("EXECUTE census_")
    with transaction.atomic():
        assert run(2, 2) == (4, "a%b")
        transaction.set_rollback(True)
    assert run(5, 5) == (10, "a%b")
    assert len(prepared()) == 1
    connection.close()  # a new connection prepares it again
    assert prepared() == [] and run(1, 1) == (2, "a%b") and len(prepared()) == 1
    with pytest.raises(ValueError), connection.cursor() as cursor:
        execute_prepared(cursor, sql, [1])
