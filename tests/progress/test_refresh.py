"""The aggregates the dashboards read: recomputed set-based, per small area and per day, and kept current."""

from __future__ import annotations

import datetime
import time

import pytest
from django.db.models import Count, Q, Sum
from django.utils import timezone

from census.models import SmallArea
from enumeration.models import SIGNED_STATES, Household, HouseholdState, Person
from supervision.progress.models import DailyProgress, SmallAreaProgress
from supervision.progress.selectors import totals
from supervision.progress.services import progress_refresh, progress_refresh_changed
from tests.census.factories import SmallAreaFactory
from tests.progress.conftest import Registration
from tests.progress.factories import HouseholdFactory, PersonFactory, cst

pytestmark = pytest.mark.django_db

STATE_FIELDS = {f"hh_{state.value}": state for state in HouseholdState}


def expected_row(area: SmallArea) -> dict[str, int]:
    """The counts of one small area straight from the households and persons."""
    households = Household.objects.filter(small_area=area)
    row = households.aggregate(
        households=Count("pk"),
        persons_expected=Sum("expected_persons", default=0),
        aware_answered=Count("pk", filter=Q(aware_of_census__isnull=False)),
        aware=Count("pk", filter=Q(aware_of_census=True)),
        **{name: Count("pk", filter=Q(state=state)) for name, state in STATE_FIELDS.items()},
    )
    persons = Person.objects.filter(small_area=area)
    row["persons_registered"] = persons.exclude(household__state=HouseholdState.LISTED).count()
    row["persons_accepted"] = persons.filter(
        household__state__in=(HouseholdState.ACCEPTED, HouseholdState.LOCKED)
    ).count()
    return row


def stored_row(area: SmallArea) -> dict[str, int]:
    progress = SmallAreaProgress.objects.get(small_area=area)
    return {name: getattr(progress, name) for name in expected_row(area)}


class TestFullRefresh:
    def test_every_small_area_gets_the_counts_of_its_households_and_persons(self, registration: Registration) -> None:
        cast = registration.cast
        for area in (cast.area_a1, cast.area_a2, cast.area_b1):
            assert stored_row(area) == expected_row(area)
        assert SmallAreaProgress.objects.get(small_area=cast.area_a1).hh_accepted == 3
        assert SmallAreaProgress.objects.count() == SmallArea.objects.count()

    def test_a_small_area_without_households_has_a_row_of_zeros(self, registration: Registration) -> None:
        empty = SmallAreaFactory(village=registration.cast.village_a)
        progress_refresh()
        row = SmallAreaProgress.objects.get(small_area=empty)
        assert (row.households, row.persons_registered, row.township_id) == (0, 0, empty.township_id)

    def test_running_it_twice_gives_the_same_rows(self, registration: Registration) -> None:
        before = list(SmallAreaProgress.objects.values(*expected_row(registration.cast.area_a1)).order_by("pk"))
        daily = list(DailyProgress.objects.values("small_area_id", "day", "started", "signed").order_by("pk"))
        progress_refresh()
        assert list(SmallAreaProgress.objects.values(*expected_row(registration.cast.area_a1)).order_by("pk")) == before
        assert sorted(DailyProgress.objects.values_list("small_area_id", "day", "started", "signed")) == sorted(
            (d["small_area_id"], d["day"], d["started"], d["signed"]) for d in daily
        )


class TestDailyProgress:
    def test_days_count_started_and_currently_signed_forms_in_china_standard_time(self, cast) -> None:  # type: ignore[no-untyped-def]
        area = cast.area_a1
        # 00:30 in Beijing on 11-03 is still 11-02 in UTC: the day is Beijing's.
        HouseholdFactory(
            small_area=area,
            state=HouseholdState.SIGNED,
            signed_at=cst(2020, 11, 3, 0, 30),
            started_at=cst(2020, 11, 2, 23, 50),
            registrar=cast.enumerator_a1,
        )
        HouseholdFactory(
            small_area=area,
            state=HouseholdState.ACCEPTED,
            signed_at=cst(2020, 11, 3, 15),
            started_at=cst(2020, 11, 3, 14),
            registrar=cast.enumerator_a1,
        )
        # Returned to its registrar: started, but not counted as signed.
        returned = HouseholdFactory(
            small_area=area, state=HouseholdState.RETURNED, started_at=cst(2020, 11, 3, 9), registrar=cast.enumerator_a1
        )
        Household.objects.filter(pk=returned.pk).update(signed_at=cst(2020, 11, 3, 10))
        HouseholdFactory(small_area=area, state=HouseholdState.LISTED)
        progress_refresh(small_area_ids=[area.pk])
        days = {row.day: (row.started, row.signed) for row in DailyProgress.objects.filter(small_area=area)}
        assert days == {datetime.date(2020, 11, 2): (1, 0), datetime.date(2020, 11, 3): (2, 2)}

    def test_the_cumulative_signed_count_ends_at_the_forms_signed_now(self, registration: Registration) -> None:
        signed_now = Household.objects.filter(state__in=SIGNED_STATES).count()
        assert DailyProgress.objects.aggregate(n=Sum("signed"))["n"] == signed_now
        started = Household.objects.exclude(state=HouseholdState.LISTED).count()
        assert DailyProgress.objects.aggregate(n=Sum("started"))["n"] == started


class TestIncrementalRefresh:
    def test_only_the_small_areas_whose_households_changed_are_refreshed(self, registration: Registration) -> None:
        cast = registration.cast
        # As after a quiet hour: the households last changed two hours ago, the aggregates saw it an hour ago.
        now = timezone.now()
        Household.objects.update(updated_at=now - datetime.timedelta(hours=2))
        SmallAreaProgress.objects.update(last_change_at=now - datetime.timedelta(hours=1))
        stamps = dict(SmallAreaProgress.objects.values_list("small_area_id", "refreshed_at"))
        # A mark in an unchanged small area's row: a recomputation would wipe it.
        SmallAreaProgress.objects.filter(small_area=cast.area_a1).update(persons_expected=999)
        household = Household.objects.filter(small_area=cast.area_b1, state=HouseholdState.SIGNED).get()
        Household.objects.filter(pk=household.pk).update(state=HouseholdState.APPROVED, updated_at=timezone.now())
        assert progress_refresh_changed() == 1
        after = dict(SmallAreaProgress.objects.values_list("small_area_id", "refreshed_at"))
        assert after[cast.area_b1.pk] > stamps[cast.area_b1.pk]
        assert SmallAreaProgress.objects.get(small_area=cast.area_a1).persons_expected == 999  # not recomputed
        assert stored_row(cast.area_b1) == expected_row(cast.area_b1)
        assert SmallAreaProgress.objects.get(small_area=cast.area_b1).hh_approved == 1

    def test_the_figures_are_as_of_the_last_run_although_most_small_areas_did_not_change(
        self, registration: Registration
    ) -> None:
        """The dashboards say "figures as of <the oldest refreshed_at>": a run that finds one small area changed
        has looked at all the others too, so the date moves for every one of them (issue 21, item 7)."""
        cast = registration.cast
        now = timezone.now()
        Household.objects.update(updated_at=now - datetime.timedelta(hours=2))
        SmallAreaProgress.objects.update(
            last_change_at=now - datetime.timedelta(hours=1), refreshed_at=now - datetime.timedelta(hours=1)
        )
        household = Household.objects.filter(small_area=cast.area_b1, state=HouseholdState.SIGNED).get()
        Household.objects.filter(pk=household.pk).update(state=HouseholdState.APPROVED, updated_at=timezone.now())
        before_the_run = timezone.now()
        progress_refresh_changed()
        stamps = dict(SmallAreaProgress.objects.values_list("small_area_id", "refreshed_at"))
        assert all(stamp >= before_the_run for stamp in stamps.values()), stamps
        assert totals(user=cast.district_office).refreshed_at >= before_the_run
        # A quiet minute: nothing changed, the figures are still as of that minute.
        before_a_quiet_run = timezone.now()
        progress_refresh_changed()
        assert totals(user=cast.district_office).refreshed_at >= before_a_quiet_run

    def test_a_new_small_area_gets_its_row_in_the_next_run(self, registration: Registration) -> None:
        SmallAreaProgress.objects.update(last_change_at=timezone.now() + datetime.timedelta(hours=1))
        new = SmallAreaFactory(village=registration.cast.village_b)
        assert progress_refresh_changed() == 1
        assert SmallAreaProgress.objects.filter(small_area=new).exists()

    def test_the_first_run_refreshes_everything(self, registration: Registration) -> None:
        SmallAreaProgress.objects.all().delete()
        assert progress_refresh_changed() == SmallArea.objects.count()


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_saving_a_household_brings_its_small_area_up_to_date_through_a_worker(cast, celery_worker: None) -> None:  # type: ignore[no-untyped-def]
    """The receiver schedules a refresh on commit; a real worker runs it through Redis."""
    progress_refresh()
    household = HouseholdFactory(small_area=cast.area_b1, state=HouseholdState.LISTED)
    PersonFactory(household=household)
    household.state = HouseholdState.DRAFT
    household.registrar = cast.enumerator_b1
    household.started_at = cst(2020, 11, 4)
    household.save()
    for _ in range(100):
        row = SmallAreaProgress.objects.get(small_area=cast.area_b1)
        if row.hh_draft == 1:
            break
        time.sleep(0.2)
    assert (row.households, row.hh_draft, row.persons_registered) == (1, 1, 1)


@pytest.mark.django_db(transaction=True)
def test_the_nightly_full_refresh_leaves_no_dead_rows_in_the_tables_the_dashboards_read(cast) -> None:  # type: ignore[no-untyped-def]
    """A full refresh rewrites every aggregate row; the nightly task vacuums the tables after it, whether or not
    the server's autovacuum would (this machine's has it off), so the dashboards do not read a full set of dead
    rows after each night. Every refresh task is run here: VACUUM refuses to run inside a transaction."""
    from django.db import connection

    from supervision.progress.tasks import refresh_all

    HouseholdFactory(small_area=cast.area_b1, state=HouseholdState.ACCEPTED)
    progress_refresh()
    refresh_all()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, last_vacuum IS NOT NULL FROM pg_stat_user_tables WHERE relname = ANY(%s)",
            [["progress_smallareaprogress", "progress_dailyprogress", "progress_agesexprogress"]],
        )
        vacuumed = dict(cursor.fetchall())
    assert vacuumed == {
        "progress_smallareaprogress": True,
        "progress_dailyprogress": True,
        "progress_agesexprogress": True,
    }
