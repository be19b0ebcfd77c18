"""What the dashboard tables read: counts per village, township, small area and enumerator, the score, the
ranks, the daily series and the optional sources (findings, organisation readiness)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Count, Q

from enumeration.models import Household, HouseholdState, Person, ReviewComment
from supervision.progress import hooks, scoring, selectors
from tests.progress.conftest import Registration

pytestmark = pytest.mark.django_db

SIGNED_OR_FURTHER = (HouseholdState.SIGNED, HouseholdState.APPROVED, HouseholdState.ACCEPTED, HouseholdState.LOCKED)
ACCEPTED = (HouseholdState.ACCEPTED, HouseholdState.LOCKED)


def counts_of(households: Any) -> dict[str, int]:
    """Independent of the aggregates: the same figures from the households themselves."""
    return households.aggregate(
        households=Count("pk"),
        registered=Count("pk", filter=~Q(state=HouseholdState.LISTED)),
        signed_total=Count("pk", filter=Q(state__in=SIGNED_OR_FURTHER)),
        accepted_total=Count("pk", filter=Q(state__in=ACCEPTED)),
    )


class TestScore:
    def test_the_formula_on_known_numbers(self) -> None:
        # R = 0.8, A = 0.5, Q = 1 − (9 per 90 registered = 10 per 100) / 10 = 0 → 40 + 15 + 0.
        assert scoring.score(households=100, signed=80, accepted=50, registered=90, open_findings=9) == Decimal("55.0")
        # No open findings: the 20 quality points in full.
        assert scoring.score(households=100, signed=80, accepted=50, registered=90, open_findings=0) == Decimal("75.0")
        # Nothing registered earns nothing, not even quality points.
        assert scoring.score(households=10, signed=0, accepted=0, registered=0, open_findings=0) == Decimal("0.0")
        assert scoring.points(Decimal("55.0")) == Decimal("110.0")

    def test_the_weights_come_from_the_settings(self, settings) -> None:  # type: ignore[no-untyped-def]
        settings.PROGRESS_SCORE = {**settings.PROGRESS_SCORE, "registration": 100, "acceptance": 0, "quality": 0}
        assert scoring.score(households=4, signed=1, accepted=0, registered=4, open_findings=0) == Decimal("25.0")

    def test_ties_share_a_rank(self) -> None:
        ordered = [("a", Decimal("80.0")), ("b", Decimal("80.0")), ("c", Decimal("70.5"))]
        assert scoring.ranks(ordered) == {"a": 1, "b": 1, "c": 3}

    def test_a_table_row_is_scored_from_its_own_counts(self, registration: Registration) -> None:
        """Small area A1: 11 households, 2 only listed, 7 signed or further (1 signed, 2 approved, 3 accepted,
        1 locked), 4 accepted or locked, no findings: 50 × 7/11 + 30 × 4/11 + 20 × 1 = 62.7 (by hand)."""
        cast = registration.cast
        rows = selectors.scored_rows(
            selectors.enumerator_rows(user=cast.township_office_a, township=cast.township_a), "username"
        )
        row = next(row for row in rows if row["username"] == "enum_a1")
        assert (row["households"], row["registered"], row["signed_total"], row["accepted_total"]) == (11, 9, 7, 4)
        assert row["score"] == Decimal("62.7") and row["points"] == Decimal("125.4")
        assert row["completion"] == Decimal("63.6")


class TestTables:
    def test_village_rows_count_the_villages_households(self, registration: Registration) -> None:
        cast = registration.cast
        rows = selectors.scored_rows(
            selectors.village_rows(user=cast.township_office_a, township=cast.township_a), "code"
        )
        assert [row["code"] for row in rows] == [cast.village_a.code]
        expected = counts_of(Household.objects.filter(village=cast.village_a))
        assert {key: rows[0][key] for key in expected} == expected
        assert (
            rows[0]["persons_registered"]
            == Person.objects.filter(village=cast.village_a).exclude(household__state=HouseholdState.LISTED).count()
        )
        assert rows[0]["completion"] == Decimal(100 * expected["signed_total"] / expected["households"]).quantize(
            Decimal("0.1")
        )

    def test_a_township_office_sees_only_its_township(self, registration: Registration) -> None:
        cast = registration.cast
        assert [row["code"] for row in selectors.township_rows(user=cast.township_office_a)] == [cast.township_a.code]
        assert selectors.village_rows(user=cast.township_office_a, township=cast.township_b) == []
        totals = selectors.totals(user=cast.township_office_a)
        assert totals.households == Household.objects.filter(township=cast.township_a).count()

    def test_township_rows_for_the_district(self, registration: Registration) -> None:
        cast = registration.cast
        rows = {
            row["code"]: row
            for row in selectors.scored_rows(selectors.township_rows(user=cast.district_office), "code")
        }
        for township in (cast.township_a, cast.township_b):
            expected = counts_of(Household.objects.filter(township=township))
            assert {key: rows[township.code][key] for key in expected} == expected

    def test_enumerator_rows_follow_the_assignments(self, registration: Registration) -> None:
        cast = registration.cast
        rows = {
            row["username"]: row
            for row in selectors.scored_rows(
                selectors.enumerator_rows(user=cast.township_office_a, township=cast.township_a), "username"
            )
        }
        assert set(rows) == {"enum_a1", "enum_a2"}
        expected = counts_of(Household.objects.filter(small_area=cast.area_a1))
        assert {key: rows["enum_a1"][key] for key in expected} == expected
        assert rows["enum_a1"]["supervisor"] == cast.supervisor_a.get_full_name()
        assert rows["enum_a1"]["small_areas"] == 1

    def test_small_area_rows_name_their_enumerators_and_filter_by_village(self, registration: Registration) -> None:
        cast = registration.cast
        rows = {
            row["code"]: row for row in selectors.small_area_rows(user=cast.district_office, township=cast.township_a)
        }
        assert set(rows) == {cast.area_a1.code, cast.area_a2.code}
        assert rows[cast.area_a1.code]["enumerators"] == cast.enumerator_a1.get_full_name()
        assert not selectors.small_area_rows(
            user=cast.district_office, township=cast.township_a, village=cast.village_b.code
        ).exists()

    def test_ranks_are_by_descending_score(self, registration: Registration) -> None:
        cast = registration.cast
        rows = selectors.scored_rows(selectors.township_rows(user=cast.district_office), "code")
        by_score = sorted(rows, key=lambda row: -row["score"])
        assert [row["rank"] for row in by_score] == [1, 2]
        assert by_score[0]["score"] > by_score[1]["score"]

    def test_the_daily_series_is_cumulative_over_the_window(self, registration: Registration) -> None:
        cast = registration.cast
        series = selectors.daily_series(user=cast.township_office_a)
        assert series["days"][0] == "2020-11-01" and series["days"][-1] == "2020-12-10" and len(series["days"]) == 40
        assert series["signed"] == sorted(series["signed"])
        signed = Household.objects.filter(township=cast.township_a, state__in=SIGNED_OR_FURTHER).count()
        assert series["signed"][-1] == signed
        started = Household.objects.filter(township=cast.township_a).exclude(state=HouseholdState.LISTED).count()
        assert series["started"][-1] == started


def fake_readiness(*, user: Any) -> dict[str, float]:
    """A stand-in for the organisation part's selector, named by the settings in a test."""
    return {"511504101": 0.5, "511504102": 1.0}


class TestOptionalSources:
    def test_without_a_findings_model_findings_count_zero(self, registration: Registration, settings) -> None:  # type: ignore[no-untyped-def]
        settings.PROGRESS_FINDINGS_SOURCE = {**settings.PROGRESS_FINDINGS_SOURCE, "model": "quality.NoSuchFinding"}
        cast = registration.cast
        assert hooks.open_findings(user=cast.district_office) is None
        assert {
            row["findings"] for row in selectors.village_rows(user=cast.district_office, township=cast.township_a)
        } == {0}
        assert selectors.totals(user=cast.district_office).findings == 0

    def test_a_findings_model_that_meets_the_contract_is_counted(self, registration: Registration, settings) -> None:  # type: ignore[no-untyped-def]
        """Review comments have the same shape (scoped queryset, open(), a staff foreign key): they stand in for
        the quality part's findings, so this is the real counting path."""
        settings.PROGRESS_FINDINGS_SOURCE = {
            "model": "enumeration.ReviewComment",
            "responsible_field": "author",
            "open_method": "open",
        }
        cast = registration.cast
        households = [h for h in registration.households if h.small_area_id == cast.area_a1.pk]
        for household in households[:3]:
            ReviewComment.objects.create(household=household, item="H6", text="请核实", author=cast.enumerator_a1)
        closed = ReviewComment.objects.create(
            household=households[3], item="D5", text="已改", author=cast.enumerator_a1
        )
        ReviewComment.objects.filter(pk=closed.pk).update(resolved_at="2020-11-05T10:00:00+08:00")
        ReviewComment.objects.create(
            household=registration.households[-1], item="H7", text="请核实", author=cast.enumerator_b1
        )
        rows = {
            row["username"]: row
            for row in selectors.scored_rows(
                selectors.enumerator_rows(user=cast.township_office_a, township=cast.township_a), "username"
            )
        }
        assert (rows["enum_a1"]["findings"], rows["enum_a2"]["findings"]) == (3, 0)
        villages = {
            row["code"]: row["findings"]
            for row in selectors.village_rows(user=cast.district_office, township=cast.township_a)
        }
        assert villages == {cast.village_a.code: 3}
        assert selectors.totals(user=cast.township_office_a, township=cast.township_a).findings == 3
        assert selectors.totals(user=cast.district_office).findings == 4
        # 3 open findings on 9 registered households = 33.3 per 100 ≥ 10: no quality points left (62.7 − 20).
        assert rows["enum_a1"]["score"] == Decimal("42.7")

    def test_a_findings_model_that_breaks_the_contract_fails_loudly(self, settings) -> None:  # type: ignore[no-untyped-def]
        settings.PROGRESS_FINDINGS_SOURCE = {
            "model": "enumeration.ReviewComment",
            "responsible_field": "author",
            "open_method": "unresolved",
        }
        with pytest.raises(ImproperlyConfigured):
            hooks.open_findings(user=None)  # type: ignore[arg-type]

    def test_readiness_comes_from_the_organisation_selector_when_it_exists(
        self, registration: Registration, settings
    ) -> None:  # type: ignore[no-untyped-def]
        settings.PROGRESS_READINESS_SOURCE = "tests.progress.test_dashboard_reads.fake_readiness"
        assert hooks.readiness_by_township(user=registration.cast.district_office) == {
            "511504101": 0.5,
            "511504102": 1.0,
        }

    def test_without_the_organisation_selector_there_is_no_readiness(self, settings) -> None:  # type: ignore[no-untyped-def]
        settings.PROGRESS_READINESS_SOURCE = "supervision.organisation.no_such_module.readiness_by_township"
        assert hooks.readiness_by_township(user=None) is None  # type: ignore[arg-type]
