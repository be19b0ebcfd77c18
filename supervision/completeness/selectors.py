"""Reads of completeness: each dwelling unit's outcome, each small area's count, the enumerator's callbacks.

A unit's outcome is read from two sources: a signed form of a household listed in it (registered), and its latest
visit. It is final when registered, or when its latest visit found it vacant or not a dwelling; nobody at home
and a refusal are not final. Ageing counts from the unit's first visit.

The offices' page reads the figures kept per small area (``AreaFigures``, refreshed a few seconds after each
visit or saved form and every few minutes by the beat, ``services.completeness_refresh``) and says as of when;
a small area without figures yet is counted live. One small area's page is always live (one set-based statement).
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Count, F, Min, Q, QuerySet, Sum
from django.utils import timezone

from census.models import SmallArea, StaffMember
from enumeration.models import SIGNED_STATES, DwellingUnit, Household, Person
from supervision.completeness.comparison import PASSED, Answers, Comparison, Thresholds, compare_household, verdict
from supervision.completeness.models import (
    FINAL_OUTCOMES,
    AreaFigures,
    Outcome,
    RecheckArea,
    RecheckHousehold,
    RecheckPerson,
    Visit,
)

_SIGNED = tuple(str(state) for state in SIGNED_STATES)
_FINAL = tuple(str(outcome) for outcome in FINAL_OUTCOMES)

# Per dwelling unit of the given small areas: its latest visit, its first visit, its nobody-home count, whether a
# form of a household in it is signed.
UNITS_SQL = """
WITH units AS (
    SELECT u.id, b.small_area_id
    FROM enumeration_dwellingunit u JOIN census_building b ON b.id = u.building_id
    WHERE b.small_area_id = ANY(%(areas)s)
), last AS (
    SELECT DISTINCT ON (v.dwelling_unit_id) v.dwelling_unit_id, v.outcome, v.callback_due, v.escalated_to, v.at
    FROM completeness_visit v WHERE v.small_area_id = ANY(%(areas)s)
    ORDER BY v.dwelling_unit_id, v.at DESC, v.id DESC
), counts AS (
    SELECT v.dwelling_unit_id, min(v.at) AS first_at, count(*) FILTER (WHERE v.outcome = 'nobody_home') AS nobody_home
    FROM completeness_visit v WHERE v.small_area_id = ANY(%(areas)s) GROUP BY v.dwelling_unit_id
), registered AS (
    SELECT DISTINCT h.dwelling_unit_id FROM enumeration_household h
    WHERE h.small_area_id = ANY(%(areas)s) AND h.dwelling_unit_id IS NOT NULL AND h.state = ANY(%(signed)s)
), status AS (
    SELECT units.id, units.small_area_id, last.outcome, last.callback_due, last.escalated_to, counts.first_at,
           coalesce(counts.nobody_home, 0) AS nobody_home, registered.dwelling_unit_id IS NOT NULL AS registered,
           (registered.dwelling_unit_id IS NOT NULL OR coalesce(last.outcome = ANY(%(final)s), false)) AS final
    FROM units
    LEFT JOIN last ON last.dwelling_unit_id = units.id
    LEFT JOIN counts ON counts.dwelling_unit_id = units.id
    LEFT JOIN registered ON registered.dwelling_unit_id = units.id
)
"""

AREA_SELECT = """
SELECT small_area_id,
       count(*) AS units,
       count(*) FILTER (WHERE final) AS final,
       count(*) FILTER (WHERE NOT final AND outcome IS NULL) AS no_outcome,
       count(*) FILTER (WHERE NOT final AND outcome = 'nobody_home') AS callbacks,
       count(*) FILTER (WHERE NOT final AND outcome = 'refused') AS refusals,
       count(*) FILTER (WHERE NOT final AND escalated_to <> '') AS escalated,
       min(first_at) FILTER (WHERE NOT final) AS oldest_open
FROM status GROUP BY small_area_id
"""
_AREA_SQL = UNITS_SQL + AREA_SELECT


@dataclass
class AreaCompleteness:
    small_area: SmallArea
    # Registration progress, next to completeness: forms signed (and every state after) and households listed,
    # from the progress aggregates (supervision.progress, refreshed every minute).
    signed: int = 0
    listed: int = 0
    units: int = 0
    final: int = 0
    no_outcome: int = 0
    callbacks: int = 0
    refusals: int = 0
    escalated: int = 0
    oldest_open: datetime.datetime | None = None
    # When the figures were counted (``None``: just now, live).
    as_of: datetime.datetime | None = None

    @property
    def complete(self) -> bool:
        """Every listed dwelling unit has a final outcome (and at least one was listed)."""
        return self.units > 0 and self.final == self.units

    @property
    def share(self) -> float:
        return 100.0 * self.final / self.units if self.units else 0.0

    @property
    def progress(self) -> float:
        return 100.0 * self.signed / self.listed if self.listed else 0.0

    @property
    def age_days(self) -> int | None:
        if self.oldest_open is None:
            return None
        return (timezone.now() - self.oldest_open).days


def sql_params(area_ids: list[int]) -> dict[str, Any]:
    return {"areas": area_ids, "signed": list(_SIGNED), "final": list(_FINAL)}


def _run(sql: str, area_ids: list[int]) -> list[dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, sql_params(area_ids))
        columns = [c.name for c in cursor.description or ()]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


_FIGURE_FIELDS = ("units", "final", "no_outcome", "callbacks", "refusals", "escalated", "oldest_open")


def _stored(ids: list[int]) -> dict[int, dict[str, Any]]:
    return {
        row["small_area_id"]: row
        for row in AreaFigures.objects.filter(small_area_id__in=ids).values(
            "small_area_id", *_FIGURE_FIELDS, as_of=F("refreshed_at")
        )
    }


def area_completeness(areas: QuerySet[SmallArea], *, stored: bool = False) -> list[AreaCompleteness]:
    """Each small area's count of dwelling units by outcome, in code order (areas without units count 0): live,
    or (``stored``) from the kept figures, live only for areas that have none yet."""
    from supervision.progress.models import SmallAreaProgress

    listed = list(areas.select_related("village", "township").order_by("code"))
    ids = [a.pk for a in listed]
    rows = _stored(ids) if stored else {}
    missing = [pk for pk in ids if pk not in rows]
    if missing:
        rows.update({row["small_area_id"]: row for row in _run(_AREA_SQL, missing)})
    progress = {
        pk: (hh_signed + hh_approved + hh_accepted + hh_locked, households)
        for pk, hh_signed, hh_approved, hh_accepted, hh_locked, households in SmallAreaProgress.objects.filter(
            small_area_id__in=ids
        ).values_list("small_area_id", "hh_signed", "hh_approved", "hh_accepted", "hh_locked", "households")
    }
    out = []
    for area in listed:
        row = rows.get(area.pk, {})
        signed, households = progress.get(area.pk, (0, 0))
        out.append(
            AreaCompleteness(
                area,
                signed=signed,
                listed=households,
                **{k: v for k, v in row.items() if k != "small_area_id"},  # type: ignore[arg-type]
            )
        )
    return out


def township_completeness(areas: QuerySet[SmallArea]) -> dict[str, dict[str, Any]]:
    """Per township code, the totals of its small areas among ``areas`` from the kept figures (a few aggregate
    statements, whatever the number of small areas); small areas without figures yet are counted live."""
    from supervision.progress.models import SmallAreaProgress

    totals: dict[str, dict[str, Any]] = {}
    sums = {f"sum_{key}": Sum(key) for key in _FIGURE_FIELDS[:-1]}
    figures = (
        AreaFigures.objects.filter(small_area__in=areas)
        .values("township_id")
        .annotate(
            n_areas=Count("pk"),
            n_complete=Count("pk", filter=Q(units__gt=0, final=F("units"))),
            first_open=Min("oldest_open"),
            as_of=Min("refreshed_at"),
            **sums,
        )
    )
    for grouped in figures:
        figure: dict[str, Any] = dict(grouped)
        totals[figure["township_id"]] = {key: figure[f"sum_{key}"] for key in _FIGURE_FIELDS[:-1]} | {
            "areas": figure["n_areas"],
            "complete_areas": figure["n_complete"],
            "oldest_open": figure["first_open"],
            "as_of": figure["as_of"],
        }
    missing = areas.exclude(pk__in=AreaFigures.objects.values("small_area_id"))
    for area in area_completeness(missing) if missing.exists() else []:
        row = totals.setdefault(
            area.small_area.township_id,
            dict.fromkeys(("areas", "complete_areas", *_FIGURE_FIELDS[:-1]), 0) | {"oldest_open": None},
        )
        row["areas"] += 1
        row["complete_areas"] += int(area.complete)
        for key in _FIGURE_FIELDS[:-1]:
            row[key] += getattr(area, key)
        if area.oldest_open is not None:
            row["oldest_open"] = min(filter(None, (row["oldest_open"], area.oldest_open)))
    progress = (
        SmallAreaProgress.objects.filter(small_area__in=areas)
        .values("township_id")
        .annotate(
            signed=Sum(F("hh_signed") + F("hh_approved") + F("hh_accepted") + F("hh_locked")),
            listed=Sum("households"),
        )
    )
    for done in progress:
        if done["township_id"] in totals:
            totals[done["township_id"]].update(signed=done["signed"], listed=done["listed"])
    for row in totals.values():
        row["signed"] = row.get("signed") or 0
        row["listed"] = row.get("listed") or 0
        row["share"] = 100.0 * row["final"] / row["units"] if row["units"] else 0.0
        row["progress"] = 100.0 * row["signed"] / row["listed"] if row["listed"] else 0.0
        oldest = row.get("oldest_open")
        row["oldest_days"] = (timezone.now() - oldest).days if oldest else None
    return totals


def small_area_complete(area: SmallArea) -> bool:
    return area_completeness(SmallArea.objects.filter(pk=area.pk))[0].complete


@dataclass
class UnitStatus:
    unit: DwellingUnit
    outcome: str | None
    registered: bool
    final: bool
    callback_due: datetime.datetime | None
    escalated_to: str
    nobody_home: int
    first_at: datetime.datetime | None

    @property
    def outcome_label(self) -> str:
        if self.registered:
            return str(Outcome.REGISTERED.label)
        return str(Outcome(self.outcome).label) if self.outcome else ""

    @property
    def age_days(self) -> int | None:
        return None if self.first_at is None or self.final else (timezone.now() - self.first_at).days


def unit_statuses(area: SmallArea) -> list[UnitStatus]:
    rows = {row["id"]: row for row in _run(UNITS_SQL + "SELECT * FROM status", [area.pk])}
    units = (
        DwellingUnit.objects.filter(pk__in=list(rows))
        .select_related("building__small_area")
        .order_by("building__number", "number")
    )
    return [
        UnitStatus(
            unit=unit,
            outcome=rows[unit.pk]["outcome"],
            registered=rows[unit.pk]["registered"],
            final=rows[unit.pk]["final"],
            callback_due=rows[unit.pk]["callback_due"] if not rows[unit.pk]["final"] else None,
            escalated_to=rows[unit.pk]["escalated_to"] or "" if not rows[unit.pk]["final"] else "",
            nobody_home=rows[unit.pk]["nobody_home"],
            first_at=rows[unit.pk]["first_at"],
        )
        for unit in units
    ]


def callbacks_due(*, user: StaffMember, until: datetime.datetime | None = None) -> list[UnitStatus]:
    """The enumerator's callbacks due by the end of today (or ``until``): units of their small areas whose latest
    visit found nobody at home and that are not yet registered."""
    if until is None:
        today = timezone.localdate()
        until = timezone.make_aware(datetime.datetime.combine(today + datetime.timedelta(days=1), datetime.time()))
    areas = SmallArea.objects.filter(assignments__staff=user)
    due: list[UnitStatus] = []
    for area in areas.order_by("code"):
        due.extend(
            status
            for status in unit_statuses(area)
            if status.outcome == Outcome.NOBODY_HOME
            and not status.final
            and status.callback_due is not None
            and status.callback_due < until
        )
    return sorted(due, key=lambda s: s.callback_due or until)


def visits_of(unit: DwellingUnit) -> QuerySet[Visit]:
    return Visit.objects.filter(dwelling_unit=unit).select_related("visitor", "evidence").order_by("-at", "-id")


def area_visits(area: SmallArea) -> QuerySet[Visit]:
    return Visit.objects.filter(small_area=area).select_related("visitor").order_by("dwelling_unit_id", "-at", "-id")


# --- the re-check (复查) compared with the forms -----------------------------------------------------------


@dataclass
class RecheckResult:
    """One re-checked small area's comparison as of now, with its verdict and the key an override covers."""

    area: RecheckArea
    drawn: int
    comparison: Comparison
    by_household: dict[int, Comparison]
    verdict: str

    @property
    def key(self) -> str:
        c = self.comparison
        return (
            f"recheck:{self.area.pk}:{self.verdict}:{c.households}/{self.drawn}:{c.persons_in_error}/"
            f"{c.persons_checked}:{c.items_in_error}/{c.items_checked}:{c.births_in_error}"
        )

    @property
    def passed(self) -> bool:
        return self.verdict == PASSED


def _form_answers(household_ids: list[int]) -> dict[int, list[Answers]]:
    out: dict[int, list[Answers]] = defaultdict(list)
    for row in (
        Person.objects.filter(household_id__in=household_ids)
        .order_by("household_id", "row_no")
        .values_list(
            "household_id",
            "pk",
            "d1_name",
            "d3_id_number",
            "d4_sex",
            "d5_birth_year",
            "d5_birth_month",
            "d2_relationship",
            "d7_residence",
            "d8_hukou_place",
        )
    ):
        out[row[0]].append(Answers(*row[1:]))
    return out


def recheck_answers(area_ids: list[int]) -> dict[int, list[Answers]]:
    """The re-check's persons per household of the given re-checked areas, in the order they were entered."""
    out: dict[int, list[Answers]] = defaultdict(list)
    for row in (
        RecheckPerson.objects.filter(area_id__in=area_ids, household__isnull=False)
        .order_by("household_id", "id")
        .values_list(
            "household_id",
            "pk",
            "name",
            "id_number",
            "sex",
            "birth_year",
            "birth_month",
            "relationship",
            "residence",
            "hukou_place",
        )
    ):
        out[row[0]].append(Answers(f"r{row[1]}", *row[2:]))
    return out


def recheck_results(areas: Iterable[RecheckArea], thresholds: Thresholds | None = None) -> list[RecheckResult]:
    """Each area's re-check compared with the forms as they are now (a handful of queries for any number)."""
    thresholds = thresholds or Thresholds.configured()
    areas = list(areas)
    done: dict[int, set[int]] = defaultdict(set)
    for area_id, household_id in RecheckHousehold.objects.filter(area__in=areas).values_list("area_id", "household_id"):
        done[area_id].add(household_id)
    finished = {area.pk: [pk for pk in area.household_ids if pk in done[area.pk]] for area in areas}
    forms = _form_answers([pk for ids in finished.values() for pk in ids])
    checked = recheck_answers([area.pk for area in areas])
    results = []
    for area in areas:
        by_household = {pk: compare_household(forms.get(pk, []), checked.get(pk, [])) for pk in finished[area.pk]}
        total = sum(by_household.values(), Comparison())
        drawn = len(area.household_ids)
        results.append(
            RecheckResult(area, drawn, total, by_household, verdict(total, drawn=drawn, thresholds=thresholds))
        )
    return results


def latest_recheck_areas(small_area_ids: Iterable[int]) -> QuerySet[RecheckArea]:
    """The latest re-check (the newest draw) of each of the given small areas that was drawn at all."""
    return (
        RecheckArea.objects.filter(small_area_id__in=list(small_area_ids))
        .order_by("small_area_id", "-draw_id")
        .distinct("small_area_id")
    )


def recheck_by_registrar(results: Iterable[RecheckResult]) -> list[tuple[int | None, Comparison]]:
    """The comparison summed per registrar (普查员) of the re-checked households: the enumerator's error rate."""
    registrar = dict(
        Household.objects.filter(pk__in=[pk for result in results for pk in result.by_household]).values_list(
            "pk", "registrar_id"
        )
    )
    sums: dict[int | None, Comparison] = defaultdict(Comparison)
    for result in results:
        for household_id, comparison in result.by_household.items():
            sums[registrar.get(household_id)] = sums[registrar.get(household_id)] + comparison
    return sorted(sums.items(), key=lambda item: (item[0] is None, item[0] or 0))
