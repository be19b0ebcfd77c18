"""Reads of the progress dashboards, all from the aggregates and all through ``visible_to(user)``.

Every table is one query over ``SmallAreaProgress`` (one row per small area), grouped by village, township or
enumerator in the database, with the open findings (``hooks``) as a correlated count — at most a few
thousand aggregate rows in, a few hundred table rows out. The figures derived from the counts (completion,
the score, its rank) are computed once per row in Python by :func:`derive`, with the same function the
totals use, so the one formula in ``scoring`` is the only one.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Min, OuterRef, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, Concat

from census.models import District, SmallAreaAssignment, StaffMember, Township, Village
from census.scoping import ScopeKind, scope_of
from supervision.progress import hooks, scoring
from supervision.progress.models import AgeSexProgress, DailyProgress, SmallAreaProgress, TownshipAgeSexProgress

STATE_FIELDS = ("hh_listed", "hh_draft", "hh_signed", "hh_returned", "hh_approved", "hh_accepted", "hh_locked")
COUNT_FIELDS = (
    "households",
    *STATE_FIELDS,
    "persons_expected",
    "persons_registered",
    "persons_accepted",
    "residents",
    "hukou_population",
    "separated",
    "within_city",
    "floating",
    "away_long",
    "aware_answered",
    "aware",
)


def _sums(prefix: str) -> dict[str, Any]:
    """Household and person counts of the aggregate rows under ``prefix``, summed per group."""
    return {name: Coalesce(Sum(f"{prefix}{name}"), 0) for name in COUNT_FIELDS}


def percent(part: int, whole: int) -> Decimal:
    return (Decimal(100 * part) / Decimal(whole)).quantize(Decimal("0.1")) if whole else Decimal("0.0")


def awareness(aware: int, answered: int) -> Decimal | None:
    """知晓率 in percent; ``None`` (shown as —) while no household of the area has been asked."""
    return percent(aware, answered) if answered else None


def derive(row: dict[str, Any], w: scoring.ScoreWeights | None = None) -> dict[str, Any]:
    """Add the figures derived from a row's counts: registered, signed or further, accepted, completion %,
    publicity awareness %, the score and the assessment points."""
    registered = row["households"] - row["hh_listed"]
    signed = row["hh_signed"] + row["hh_approved"] + row["hh_accepted"] + row["hh_locked"]
    accepted = row["hh_accepted"] + row["hh_locked"]
    score = scoring.score(
        households=row["households"],
        signed=signed,
        accepted=accepted,
        registered=registered,
        open_findings=row["findings"],
        w=w,
    )
    row.update(
        registered=registered,
        signed_total=signed,
        accepted_total=accepted,
        completion=percent(signed, row["households"]),
        awareness=awareness(row["aware"], row["aware_answered"]),
        score=score,
        points=scoring.points(score, w),
    )
    return row


# --- the four dashboard tables (counts per row; ``derive`` adds the rest) --------------------------------------


def _with_area_sums(rows: QuerySet[Any], level: str, areas: QuerySet[Any]) -> list[dict[str, Any]]:
    """The township or village ``rows`` (code, name, findings), each with the counts of its small areas summed.

    Two statements, merged here: one GROUP BY over the aggregate rows of ``areas`` for every count at once, and
    the rows with their open findings as a correlated count. Summed in the rows' own statement, each count was a
    correlated subquery (fourteen per row, each a scan of the row's small areas, growing with the district); and
    a join with GROUP BY there would group by the findings subquery too, evaluating it once per small area."""
    sums = {row.pop("key"): row for row in areas.order_by().values(key=F(f"{level}_id")).annotate(**_sums(""))}
    empty = dict.fromkeys(COUNT_FIELDS, 0)
    return [{**row, **sums.get(row["code"], empty)} for row in rows]


def village_rows(*, user: StaffMember, township: Township) -> list[dict[str, Any]]:
    findings = hooks.findings_count(hooks.open_findings(user=user), "village", "code")
    rows = Village.objects.visible_to(user).filter(township=township).values("code", "name", findings=findings)
    areas = SmallAreaProgress.objects.visible_to(user).filter(township=township)
    return _with_area_sums(rows.order_by("code"), "village", areas)


def township_rows(*, user: StaffMember) -> list[dict[str, Any]]:
    findings = hooks.findings_count(hooks.open_findings(user=user), "township", "code")
    rows = Township.objects.visible_to(user).values("code", "name", findings=findings)
    return _with_area_sums(rows.order_by("code"), "township", SmallAreaProgress.objects.visible_to(user))


def small_area_rows(*, user: StaffMember, township: Township, village: str = "") -> QuerySet[Any]:
    findings = hooks.findings_count(hooks.open_findings(user=user), "small_area", "small_area_id")
    enumerators = (
        SmallAreaAssignment.objects.filter(small_area_id=OuterRef("small_area_id"))
        .order_by()
        .values("small_area_id")
        .annotate(names=_string_agg(Concat("staff__last_name", "staff__first_name")))
        .values("names")
    )
    rows = SmallAreaProgress.objects.visible_to(user).filter(township=township)
    if village:
        rows = rows.filter(village_id=village)
    return rows.values(
        *COUNT_FIELDS,
        code=F("small_area__code"),
        name=F("small_area__name"),
        village_name=F("village__name"),
        enumerators=Subquery(enumerators),
        findings=findings,
    ).order_by("small_area__code")


def enumerator_rows(*, user: StaffMember, township: Township) -> QuerySet[Any]:
    """Enumerators (and supervisors who enumerate) with the small areas assigned to them. A small area with
    two enumerators counts for both."""
    findings = hooks.findings_count(hooks.open_findings(user=user), "responsible", "id")
    assigned = SmallAreaAssignment.objects.visible_to(user).values("staff_id")
    return (
        StaffMember.objects.visible_to(user)
        .filter(township=township, pk__in=assigned)
        .values(
            "id",
            "username",
            name=Concat("last_name", "first_name"),
            supervisor=Concat("supervision__supervisor__last_name", "supervision__supervisor__first_name"),
        )
        .annotate(
            **_sums("area_assignments__small_area__progress__"),
            small_areas=Count("area_assignments", distinct=True),
            findings=findings,
        )
        .order_by("username")
    )


def _string_agg(expression: Any) -> Any:
    from django.contrib.postgres.aggregates import StringAgg

    return StringAgg(expression, delimiter="、", order_by=expression)


def scored_rows(rows: Iterable[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """Every row of a table with its derived figures and its rank (descending score, ties share a rank)."""
    w = scoring.weights()
    derived = [derive(dict(row), w) for row in rows]
    ordered = sorted(derived, key=lambda row: (-row["score"], row[key]))
    ranks = scoring.ranks([(row[key], row["score"]) for row in ordered])
    for row in derived:
        row["rank"] = ranks[row[key]]
    return derived


# --- totals, states, days -----------------------------------------------------------------------------------


@dataclass
class Totals:
    households: int = 0
    hh_listed: int = 0
    hh_draft: int = 0
    hh_signed: int = 0
    hh_returned: int = 0
    hh_approved: int = 0
    hh_accepted: int = 0
    hh_locked: int = 0
    persons_expected: int = 0
    persons_registered: int = 0
    persons_accepted: int = 0
    residents: int = 0
    hukou_population: int = 0
    separated: int = 0
    within_city: int = 0
    floating: int = 0
    away_long: int = 0
    aware_answered: int = 0
    aware: int = 0
    findings: int = 0
    small_areas: int = 0
    refreshed_at: datetime.datetime | None = None

    @property
    def registered(self) -> int:
        return self.households - self.hh_listed

    @property
    def signed_total(self) -> int:
        return self.hh_signed + self.hh_approved + self.hh_accepted + self.hh_locked

    @property
    def accepted_total(self) -> int:
        return self.hh_accepted + self.hh_locked

    @property
    def pending(self) -> int:
        return self.households - self.accepted_total

    @property
    def completion(self) -> Decimal:
        return percent(self.signed_total, self.households)

    @property
    def awareness(self) -> Decimal | None:
        return awareness(self.aware, self.aware_answered)

    @property
    def acceptance(self) -> Decimal:
        return percent(self.accepted_total, self.households)

    @property
    def pending_share(self) -> Decimal:
        return percent(self.pending, self.households)

    @property
    def score(self) -> Decimal:
        return scoring.score(
            households=self.households,
            signed=self.signed_total,
            accepted=self.accepted_total,
            registered=self.registered,
            open_findings=self.findings,
        )


def totals(*, user: StaffMember, township: Township | None = None) -> Totals:
    rows = SmallAreaProgress.objects.visible_to(user)
    if township is not None:
        rows = rows.filter(township=township)
    sums = rows.aggregate(
        **{name: Coalesce(Sum(name), 0) for name in COUNT_FIELDS},
        small_areas=Count("pk"),
        refreshed_at=Min("refreshed_at"),
    )
    result = Totals(**sums)
    source = hooks.open_findings(user=user)
    result.findings = hooks.findings_total(source, township=township.code) if township else hooks.findings_total(source)
    return result


def daily_series(*, user: StaffMember, township: Township | None = None) -> dict[str, Any]:
    """Cumulative forms started and signed per day of the registration window (what came before the
    window is counted on its first day)."""
    start, end = (datetime.date.fromisoformat(day) for day in settings.PROGRESS_WINDOW)
    rows = DailyProgress.objects.visible_to(user)
    if township is not None:
        rows = rows.filter(township=township)
    per_day = {
        row["day"]: (row["started"], row["signed"])
        for row in rows.filter(day__lte=end).values("day").annotate(started=Sum("started"), signed=Sum("signed"))
    }
    started = signed = 0
    for day, (day_started, day_signed) in per_day.items():
        if day < start:
            started += day_started
            signed += day_signed
    days: list[str] = []
    started_series: list[int] = []
    signed_series: list[int] = []
    day = start
    while day <= end:
        day_started, day_signed = per_day.get(day, (0, 0))
        started += day_started
        signed += day_signed
        days.append(day.isoformat())
        started_series.append(started)
        signed_series.append(signed)
        day += datetime.timedelta(days=1)
    return {"days": days, "started": started_series, "signed": signed_series}


def planned_signed(days: list[str], *, households: int, start: datetime.date, end: datetime.date) -> list[int]:
    """The registration phase's planned line (S19) on the daily chart: the households planned to be signed by
    the end of each day, a straight line from the phase's first day to all of them on its last (the district's
    calendar dates), 0 before it and all of them after."""
    span = (end - start).days + 1
    planned = []
    for day in days:
        elapsed = (datetime.date.fromisoformat(day) - start).days + 1
        planned.append(households * min(max(elapsed, 0), span) // span)
    return planned


def state_chart(rows: list[dict[str, Any]], label: str) -> dict[str, Any]:
    """Households by state for each row of a table (a stacked bar chart)."""
    return {
        "categories": [row[label] for row in rows],
        "series": {name: [row[name] for row in rows] for name in STATE_FIELDS},
    }


def age_pyramid(*, user: StaffMember, township: Township | None = None) -> dict[str, Any]:
    """Residents of accepted forms by five-year age group and sex, for the pyramid chart: the group labels from
    the youngest up, men (as negative numbers, drawn to the left) and women."""
    rows: QuerySet[Any]
    if township is None and scope_of(user).kind in (ScopeKind.EVERYTHING, ScopeKind.DISTRICT, ScopeKind.TOWNSHIP):
        # Whole townships: their sums (a supervisor's or enumerator's small areas are summed one by one).
        rows = TownshipAgeSexProgress.objects.visible_to(user)
    else:
        rows = AgeSexProgress.objects.visible_to(user)
        if township is not None:
            rows = rows.filter(township=township)
    found = {
        row["age_group"]: (row["m"], row["f"])
        for row in rows.values("age_group").annotate(m=Sum("male"), f=Sum("female"))
    }
    groups = range(21)
    return {
        "groups": [f"{5 * group}–{5 * group + 4}" if group < 20 else "100+" for group in groups],
        "male": [-found.get(group, (0, 0))[0] for group in groups],
        "female": [found.get(group, (0, 0))[1] for group in groups],
    }


# --- the city office ----------------------------------------------------------------------------------------


@dataclass
class DistrictTotals:
    code: str
    name: str
    totals: Totals


def city_district_rows(*, user: StaffMember) -> list[DistrictTotals]:
    """The progress of each district a city office oversees: one query over the aggregates, grouped by district
    (counts only — the aggregates hold nothing personal), and the districts' names."""
    sums: dict[str, dict[str, Any]] = {
        str(row["district"]): {name: value for name, value in row.items() if name != "district"}
        for row in SmallAreaProgress.objects.visible_to(user)
        .values(district=F("township__district_id"))
        .annotate(
            **{name: Coalesce(Sum(name), 0) for name in COUNT_FIELDS},
            small_areas=Count("pk"),
            refreshed_at=Min("refreshed_at"),
        )
        .order_by()
    }
    # The city's districts, also those without figures yet (District has no personal data and no scope of its own:
    # its rows are picked by the city's code, as ScopeKind.CITY picks the aggregates').
    districts = District.objects.filter(code__startswith=user.city_id) if user.city_id else District.objects.none()
    return [
        DistrictTotals(code, name, Totals(**sums.get(code, {})))
        for code, name in districts.order_by("code").values_list("code", "name")
    ]


def city_totals(*, user: StaffMember) -> Totals:
    """The city's figures: the aggregates of all its districts summed at once (no findings: a city office sees
    none)."""
    sums = SmallAreaProgress.objects.visible_to(user).aggregate(
        **{name: Coalesce(Sum(name), 0) for name in COUNT_FIELDS},
        small_areas=Count("pk"),
        refreshed_at=Min("refreshed_at"),
    )
    return Totals(**sums)
