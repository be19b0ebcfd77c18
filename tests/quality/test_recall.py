"""The acceptance test of the nightly checks: ``seed_district --plant-errors`` then ``run_checks --full`` finds
every planted error, and finds nothing else — on the planted district and on a clean one (20,000 persons)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from enumeration.rules.catalogue import CATALOGUE
from supervision.quality.models import Finding, HukouRosterEntry, RosterAreaCount

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

PERSONS = 20_000


def _run() -> set[tuple[str, str]]:
    out = io.StringIO()
    call_command("run_checks", full=True, workers=2, stdout=out)
    assert "done in" in out.getvalue()
    return set(Finding.objects.values_list("rule", "record_key"))


def test_every_planted_error_is_found_and_nothing_else(tmp_path: Path) -> None:
    manifest_path = tmp_path / "manifest.json"
    call_command("seed_district", persons=PERSONS, seed=2020, plant_errors=str(manifest_path), stdout=io.StringIO())
    manifest = json.loads(manifest_path.read_text())
    planted = {(code, key) for code, keys in manifest.items() for key in keys}
    found = _run()
    assert planted - found == set(), "recall: every planted error is found"
    assert found - planted == set(), "precision: nothing is flagged that the manifest does not explain"
    # The district is large enough to plant (almost) every rule of the catalogue.
    missing = set(CATALOGUE) - {code for code, _ in planted}
    assert missing <= {
        "ID_FORMAT",
        "HOURS_RANGE",
        "HOUSING_NOT_ASKED",
        "AREA_SEX_RATIO",
        "AREA_HOUSEHOLD_SIZE",
        "AREA_INFANTS_VS_BIRTHS",
        "AREA_MONTH_HEAPING",
        "AREA_HUKOU_PENDING_SHARE",
        # The synthetic district has no self-enumeration; tests/enumeration/test_self_enumeration_services.py
        # plants this one.
        "SELF_REPORTED_AND_DOOR",
        # A city's check over its districts (one district here); tests/districts/test_city_duplicates.py plants it.
        "ID_DUPLICATE_CITY",
    }, missing
    # Running again changes nothing.
    assert _run() == found
    assert Finding.objects.filter(state="open").count() == len(found)


def test_a_clean_district_raises_nothing() -> None:
    call_command("seed_district", persons=PERSONS, seed=2021, stdout=io.StringIO())
    assert _run() == set()
    # The roster of the district is compared too: everyone on it is registered.
    assert HukouRosterEntry.objects.count() > PERSONS * 0.7
    counts = RosterAreaCount.objects.all()
    assert sum(c.not_registered for c in counts) == 0
    assert sum(c.roster for c in counts) == HukouRosterEntry.objects.values("id_number", "village").distinct().count()
