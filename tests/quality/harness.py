"""Running the nightly SQL of the household rules over plain dicts, to compare it with the Python entry rules.

The forms go into temporary look-alikes of the household, person and death tables (same columns, none of the
CHECK constraints — so values the database would refuse can be checked too), and the part's own SQL
(``runner.create_signed``/``create_household_tables``/``run_checks``) reads them from there. Everything happens
in a savepoint that is rolled back.
"""

from __future__ import annotations

import datetime
import json
import tempfile
from typing import Any

from django.db import connection, transaction

from census.models import SmallArea
from enumeration.rules.entry import validate_household
from supervision.quality.checks import (
    COUNTED_SECTIONS,
    FORM_SECTIONS,
    HOUSEHOLD_CHECKS,
    PartContext,
    runner,
)

Form = tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]
Verdict = tuple[int, str, int | None, str]  # household index, rule, row, item

STAGING = runner.Tables(household="q_in_household", person="q_in_person", death="q_in_death")
# Process rules read the signature ledger, which these look-alike tables do not have.
SQL_CHECKS = [check for check in HOUSEHOLD_CHECKS if check.group != "process"]
MOMENT = datetime.datetime(2020, 11, 5, 10, 0, tzinfo=datetime.UTC)


class _Rollback(Exception):
    pass


def _insert(cursor: Any, table: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    columns = sorted({name for row in rows for name in row})
    cursor.executemany(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})",
        [[_adapt(row.get(name)) for name in columns] for row in rows],
    )


def _adapt(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, dict) else value


# How the nightly SQL runs the household rules: as a township part (over tables built first), as a full run's
# forms sections (each section over views of the forms), or as those sections read on a replica (the views as
# CTEs of statements that create nothing, their rows copied into the part's q_det).
MODES = ("township_part", "forms_sections", "forms_sections_read_only")


def sql_verdicts(
    forms: list[Form], area: SmallArea, *, mode: str = "township_part"
) -> tuple[set[Verdict], dict[Verdict, dict[str, Any]]]:
    """The household rules as the nightly SQL finds them, run the way ``mode`` names (``MODES``); households are
    numbered by their index in ``forms``."""
    verdicts: set[Verdict] = set()
    evidence: dict[Verdict, dict[str, Any]] = {}
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            for real, staging in (
                ("enumeration_household", STAGING.household),
                ("enumeration_person", STAGING.person),
                ("enumeration_deathrecord", STAGING.death),
            ):
                cursor.execute(f"CREATE TEMP TABLE {staging} (LIKE {real} INCLUDING DEFAULTS) ON COMMIT DROP")
            households, persons, deaths = [], [], []
            place = {"small_area_id": area.pk, "village_id": area.village_id, "township_id": area.township_id}
            for index, (household, person_rows, death_rows) in enumerate(forms, start=1):
                row = {name: value for name, value in household.items() if name in _household_fields()}
                row.update(
                    {
                        "id": index,
                        **place,
                        "state": "signed",
                        "household_no": household.get("household_no") or 1,
                        "form_kind": household.get("form_kind") or "census",
                        "collection_mode": household.get("collection_mode") or "in_person",
                        "warning_notes": household.get("warning_notes") or {},
                        "in_long_form_sample": bool(household.get("in_long_form_sample")),
                        "version": 1,
                        "expected_persons": 0,
                        "head_name_listed": "",
                        "form_position": "",
                        "created_at": MOMENT,
                        "updated_at": MOMENT,
                    }
                )
                households.append(row)
                persons.extend(
                    {
                        **{name: value for name, value in person.items() if name in _person_fields()},
                        **place,
                        "household_id": index,
                    }
                    for person in person_rows
                )
                for number, death in enumerate(death_rows, start=1):
                    deaths.append(
                        {
                            **{name: value for name, value in death.items() if name in _death_fields()},
                            **place,
                            "id": 100000 * index + number,
                            "household_id": index,
                        }
                    )
            for number, person in enumerate(persons, start=1):
                person["id"] = number
                for name in _person_text_fields():
                    if person.get(name) is None:
                        person[name] = ""
            for death in deaths:
                for name in ("name", "id_number", "ethnicity"):
                    if death.get(name) is None:
                        death[name] = ""
            _insert(cursor, STAGING.household, households)
            _insert(cursor, STAGING.person, persons)
            _insert(cursor, STAGING.death, deaths)
            context = PartContext(
                run_id=0, township=area.township_id, district=area.township_id[:6], full=True, since=None
            )
            runner.tune_session(cursor)
            rows = []
            if mode == "forms_sections":
                for section, checks in FORM_SECTIONS.items():
                    runner.create_detections(cursor)
                    runner.create_form_views(cursor, [area.township_id], STAGING, counted=section in COUNTED_SECTIONS)
                    runner.run_checks(cursor, context, [c for c in checks if c in SQL_CHECKS], runner.PartResult())
                    cursor.execute("SELECT household_id, code, row_no, item, evidence FROM q_det")
                    rows += cursor.fetchall()
                    runner.drop_part_tables(cursor)
            elif mode == "forms_sections_read_only":
                for section, checks in FORM_SECTIONS.items():
                    statements = runner.form_detection_statements(
                        cursor,
                        [area.township_id],
                        [c for c in checks if c in SQL_CHECKS],
                        STAGING,
                        counted=section in COUNTED_SECTIONS,
                    )
                    before = _temporary_objects(cursor)
                    with tempfile.TemporaryFile() as spool:
                        runner.read_rows(cursor, statements, spool, runner.PartResult())
                        # What a hot standby requires: the reads made no temporary table, view or index.
                        assert _temporary_objects(cursor) == before
                        runner.create_detections(cursor)
                        runner.load_rows(cursor, spool, "q_det", runner.HOUSEHOLD_DET_COLUMNS)
                    cursor.execute("SELECT household_id, code, row_no, item, evidence FROM q_det")
                    rows += cursor.fetchall()
                    runner.drop_part_tables(cursor)
            else:
                runner.create_signed(cursor, [area.township_id], STAGING)
                runner.create_detections(cursor)
                runner.create_household_tables(cursor, [area.township_id], None, STAGING)
                runner.run_checks(cursor, context, SQL_CHECKS, runner.PartResult())
                cursor.execute("SELECT household_id, code, row_no, item, evidence FROM q_det")
                rows = cursor.fetchall()
                runner.drop_part_tables(cursor)
            for household_id, code, row_no, item, values in rows:
                verdict = (int(household_id), code, row_no, item or "")
                verdicts.add(verdict)
                # Django reads jsonb as text.
                evidence[verdict] = json.loads(values) if isinstance(values, str) else values
            raise _Rollback
    except _Rollback:
        pass
    return verdicts, evidence


def _temporary_objects(cursor: Any) -> int:
    cursor.execute("SELECT count(*) FROM pg_class WHERE relnamespace = pg_my_temp_schema()")
    return int(cursor.fetchone()[0])


def python_verdicts(forms: list[Form]) -> tuple[set[Verdict], dict[Verdict, list[dict[str, Any]]]]:
    """The entry rules' verdicts, each with the values of every issue behind it (an item can be wrong twice on
    one row — a D7 code and a D7 county — and is then one verdict)."""
    verdicts: set[Verdict] = set()
    values: dict[Verdict, list[dict[str, Any]]] = {}
    for index, (household, persons, deaths) in enumerate(forms, start=1):
        for issue in validate_household(household, persons, deaths):
            verdict = (index, issue.code, issue.row, issue.item)
            verdicts.add(verdict)
            values.setdefault(verdict, []).append(dict(issue.values))
    return verdicts, values


def _model_fields(model_label: str) -> set[str]:
    from django.apps import apps

    model = apps.get_model(model_label)
    return {field.attname for field in model._meta.concrete_fields}


def _household_fields() -> set[str]:
    return _model_fields("enumeration.Household") - {"id", "small_area_id", "village_id", "township_id"}


def _person_fields() -> set[str]:
    return _model_fields("enumeration.Person") - {"id", "household_id", "small_area_id", "village_id", "township_id"}


def _death_fields() -> set[str]:
    return _model_fields("enumeration.DeathRecord") - {
        "id",
        "household_id",
        "small_area_id",
        "village_id",
        "township_id",
    }


def _person_text_fields() -> set[str]:
    from django.apps import apps
    from django.db import models

    model = apps.get_model("enumeration.Person")
    return {f.attname for f in model._meta.concrete_fields if isinstance(f, models.CharField)}
