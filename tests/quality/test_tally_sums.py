"""The kept sums per small area and registrar (``quality_arearegistrartally``), which the area rules, the
coverage of persons and the enumerator anomalies read (issue 26: an incremental part sums a few hundred of them
instead of every household of the township). After a full run and after incremental runs that add, change and take
households away, they are what an independent count of the signed forms gives — and what a full rebuild gives."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from django.db import connection

from enumeration.models import Household, HouseholdState
from enumeration.services import household_return
from supervision.quality.checks import runner
from tests.conftest import Cast
from tests.enumeration.factories import four_person_form
from tests.quality.factories import persons_of, resign, run, sign_family

pytestmark = pytest.mark.django_db

SIGNED = {HouseholdState.SIGNED, HouseholdState.APPROVED, HouseholdState.ACCEPTED, HouseholdState.LOCKED}
KEPT = (
    "households, persons, family_households, family_persons, family_male, family_female, listed_households, "
    "listed_persons, listed_expected"
)

EVERY = (
    f"{KEPT}, infants, births, birth_month_known, born_january, hukou_pending, family_whipple_persons, "
    "family_whipple_heaped, family_age_group_male, family_age_group_female"
)


@pytest.fixture(autouse=True)
def no_margin(settings: Any) -> None:
    settings.QUALITY = {**settings.QUALITY, "INCREMENTAL_MARGIN_SECONDS": 0}


def kept(columns: str = KEPT) -> dict[tuple[int, int | None], tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT small_area_id, registrar_id, {columns} FROM quality_arearegistrartally")
        return {(row[0], row[1]): tuple(row[2:]) for row in cursor.fetchall()}


def counted() -> dict[tuple[int, int | None], tuple[int, ...]]:
    """The same sums counted from the forms themselves: every household here is a counted family household on the
    listing (no 999, no foreign form)."""
    sums: dict[tuple[int, int | None], Counter[str]] = {}
    for household in Household.objects.filter(state__in=SIGNED).prefetch_related("persons"):
        row = sums.setdefault((household.small_area_id, household.registrar_id), Counter())
        sexes = [person.d4_sex for person in household.persons.all()]
        row.update(
            households=1,
            persons=len(sexes),
            family_male=sexes.count(1),
            family_female=sexes.count(2),
            listed=1,
            expected=household.expected_persons,
        )
    return {
        key: (
            c["households"],
            c["persons"],
            c["households"],
            c["persons"],
            c["family_male"],
            c["family_female"],
            c["listed"],
            c["persons"],
            c["expected"],
        )
        for key, c in sums.items()
    }


def test_the_kept_sums_follow_the_forms_through_incremental_runs(cast: Cast) -> None:
    first = sign_family(cast.area_a1, cast.enumerator_a1, head="王伟")
    second = sign_family(cast.area_a1, cast.enumerator_a1, head="李强")
    sign_family(cast.area_a2, cast.enumerator_a2, head="张勇")
    run()
    assert kept() == counted() and len(kept()) == 2
    # A form signed again with four persons, a form returned to its registrar (no longer signed), and a new form
    # in an area with no sums yet.
    _form, four = four_person_form()
    resign(first, cast.enumerator_a1, persons=four, data={"h2_present": 4})
    household_return(household=second, actor=cast.supervisor_a, comments=[("H1", "请核实")])
    sign_family(cast.area_b1, cast.enumerator_b1, head="刘洋")
    run(mode="incremental")
    expected = counted()
    assert kept() == expected
    assert expected[(cast.area_a1.pk, cast.enumerator_a1.pk)][:2] == (1, 4)
    # The last form of an area and registrar returned: its row goes.
    household_return(household=Household.objects.get(pk=first.pk), actor=cast.supervisor_a, comments=[("H1", "请核实")])
    run(mode="incremental")
    assert (cast.area_a1.pk, cast.enumerator_a1.pk) not in kept()
    assert kept() == counted()
    # A full run rebuilds the sums from the persons: the same rows, age groups and Whipple's counts included.
    moved = kept(EVERY)
    run()
    assert kept(EVERY) == moved


@pytest.mark.django_db(transaction=True)
def test_a_full_run_leaves_the_tables_it_rewrote_vacuumed(cast: Cast, monkeypatch: pytest.MonkeyPatch) -> None:
    """A full run rewrites every tally row; the incremental parts look rows up in those tables, so the run vacuums
    them whether or not the server's autovacuum would (this machine's has it off). Runs here are made outside a
    test transaction: VACUUM refuses to run inside one."""
    household = sign_family(cast.area_a1, cast.enumerator_a1)
    tables = [
        "quality_householdtally",
        "quality_arearegistrartally",
        "quality_rosterhouseholdcount",
        "quality_rostermatch",
    ]

    def last_vacuums() -> dict[str, Any]:
        with connection.cursor() as cursor:
            cursor.execute("SELECT relname, last_vacuum FROM pg_stat_user_tables WHERE relname = ANY(%s)", [tables])
            return dict(cursor.fetchall())

    def database_now() -> Any:
        with connection.cursor() as cursor:
            cursor.execute("SELECT clock_timestamp()")
            return cursor.fetchone()[0]

    started = database_now()
    run()
    after = last_vacuums()
    assert set(after) == set(tables) and all(moment is not None and moment >= started for moment in after.values())
    # An incremental run rewrites the rows of its changed households only: no vacuum.
    resign(household, cast.enumerator_a1, persons=persons_of(household))
    run(mode="incremental")
    assert last_vacuums() == after
    # One whose townships had no watermark — the first after the rules changed — rewrote them all: vacuumed.
    monkeypatch.setattr(runner, "catalogue_fingerprint", lambda: "another catalogue")
    started = database_now()
    run(mode="incremental")
    assert all(moment >= started for moment in last_vacuums().values())
