"""Fixtures of the quality tests: generated districts (seeded once per module, emptied afterwards)."""

from __future__ import annotations

import io
import json
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from census.models import SmallArea
from enumeration.management.commands.seed_district import reset_census_data
from enumeration.models import SIGNED_STATES, DeathRecord, Household, Person


def forms_of(households: Any) -> list[tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]]:
    ids = [h["id"] for h in households]
    persons: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for person in Person.objects.filter(household_id__in=ids).values():
        persons[person["household_id"]].append(person)
    deaths: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for death in DeathRecord.objects.filter(household_id__in=ids).values():
        deaths[death["household_id"]].append(death)
    return [
        (h, sorted(persons[h["id"]], key=lambda p: p["row_no"]), sorted(deaths[h["id"]], key=lambda d: d["row_no"]))
        for h in households
    ]


@pytest.fixture(scope="module")
def planted(django_db_setup: None, django_db_blocker: Any, tmp_path_factory: Any) -> Iterator[dict[str, Any]]:
    """A district of 6,000 persons with every plantable error, committed to the test database."""
    manifest = Path(tmp_path_factory.mktemp("manifest")) / "manifest.json"
    with django_db_blocker.unblock():
        call_command(
            "seed_district", persons=6000, seed=5, reset=True, plant_errors=str(manifest), stdout=io.StringIO()
        )
        yield {"manifest": json.loads(manifest.read_text())}
        reset_census_data()
        # The seeding's own audit events too: later tests count the log from empty. (TRUNCATE is not a row
        # DELETE, so the append-only trigger lets the test database be emptied.)
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE census_auditevent RESTART IDENTITY")


@pytest.fixture(scope="module")
def planted_forms(planted: dict[str, Any], django_db_blocker: Any) -> list[Any]:
    with django_db_blocker.unblock():
        return forms_of(list(Household.objects.filter(state__in=SIGNED_STATES).order_by("id").values()))


@pytest.fixture
def some_area(planted: dict[str, Any]) -> SmallArea:
    return SmallArea.objects.order_by("code").first()  # type: ignore[return-value]
