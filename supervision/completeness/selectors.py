"""Reads of completeness: each dwelling unit's outcome, each small area's count, the enumerator's callbacks.

A unit's outcome is read from two sources: a signed form of a household listed in it (registered), and its latest
visit. It is final when registered, or when its latest visit found it vacant or not a dwelling; nobody at home
and a refusal are not final. Ageing counts from the unit's first visit. Everything is set-based SQL per request
(one statement for the offices' page, whatever the number of small areas).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from census.models import SmallArea, StaffMember
from enumeration.models import SIGNED_STATES, DwellingUnit
from supervision.completeness.models import FINAL_OUTCOMES, Outcome, Visit

_SIGNED = tuple(str(state) for state in SIGNED_STATES)
_FINAL = tuple(str(outcome) for outcome in FINAL_OUTCOMES)

# Per dwelling unit of the given small areas: its latest visit, its first visit, its nobody-home count, whether a
# form of a household in it is signed.
_UNITS_SQL = """
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

_AREA_SQL = (
    _UNITS_SQL
    + """
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
)


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


def _run(sql: str, area_ids: list[int]) -> list[dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, {"areas": area_ids, "signed": list(_SIGNED), "final": list(_FINAL)})
        columns = [c.name for c in cursor.description or ()]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def area_completeness(areas: QuerySet[SmallArea]) -> list[AreaCompleteness]:
    """Each small area's count of dwelling units by outcome, in code order (areas without units count 0)."""
    from supervision.progress.models import SmallAreaProgress

    listed = list(areas.select_related("village", "township").order_by("code"))
    ids = [a.pk for a in listed]
    rows = {row["small_area_id"]: row for row in _run(_AREA_SQL, ids)}
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
    rows = {row["id"]: row for row in _run(_UNITS_SQL + "SELECT * FROM status", [area.pk])}
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
