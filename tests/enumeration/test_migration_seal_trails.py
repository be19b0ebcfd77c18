"""Upgrading a deployed database: migration 0005 seals the state changes already recorded, so that their trails
verify afterwards and an edit made after the upgrade is caught."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from enumeration.models import HouseholdTransition
from enumeration.services import household_approve, household_return
from enumeration.verification import verify_small_area
from tests.conftest import Cast
from tests.enumeration.test_services_registration import register

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = ("enumeration", "0004_fewer_indexes")


def migrate(target: list[tuple[str, str]]) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target)


def test_the_upgrade_seals_the_trails_already_recorded(cast: Cast, password: str) -> None:
    # A district of an installation that predates the trail's seal also predates keys per district: it signs
    # under the installation's key (census migration 0011), as migration 0005 seals.
    district = cast.township_a.district
    district.ledger_key_version = 0
    district.save()
    approved = household_approve(household=register(cast, password), actor=cast.supervisor_a)
    returned = household_return(
        household=register(cast, password), actor=cast.supervisor_a, comments=[("H6", "请核实建筑面积")]
    )
    register(cast, password, sign=False)
    # What the services sealed as they wrote: the seal of the upgrade must come to the same.
    sealed = dict(HouseholdTransition.objects.values_list("id", "hmac"))
    assert len(sealed) == 3 + 3 + 1 and verify_small_area(cast.area_a1) == []

    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    migrate([BEFORE])  # a database of before the trail was sealed: no hmac column
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM enumeration_householdtransition")
        assert cursor.fetchone()[0] == len(sealed)
        cursor.execute(
            "SELECT count(*) FROM information_schema.columns"
            " WHERE table_name = 'enumeration_householdtransition' AND column_name = 'hmac'"
        )
        assert cursor.fetchone()[0] == 0
    migrate(latest)

    assert dict(HouseholdTransition.objects.values_list("id", "hmac")) == sealed
    assert verify_small_area(cast.area_a1) == []
    # And from now on an edit of the trail is caught.
    HouseholdTransition.objects.filter(household=approved, to_state="approved").update(actor=cast.supervisor_b)
    HouseholdTransition.objects.filter(household=returned, to_state="returned").update(reason="")
    assert sorted((m.kind, m.household_id) for m in verify_small_area(cast.area_a1)) == sorted(
        [("transition", approved.pk), ("transition", returned.pk)]
    )
