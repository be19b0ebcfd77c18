"""Reads of the census calendar (S19): the phases with their dates, the countdown, the planned-against-actual
progress of a phase, and each role's to-dos of the phases under way."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, F, Min, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from census.models import FIELD_ROLES, Role, StaffMember
from supervision.organisation.models import (
    DEFAULT_PHASES,
    CensusPhase,
    Phase,
    ReadinessComponent,
    ReadinessItem,
    ReadinessStatus,
)


@dataclass(frozen=True)
class PhaseRow:
    key: str
    label: str
    start: datetime.date
    end: datetime.date
    own: bool  # the district moved it

    def state(self, today: datetime.date) -> str:
        if today < self.start:
            return "planned"
        return "under_way" if today <= self.end else "over"


def census_calendar(district_id: str | None) -> list[PhaseRow]:
    """Every phase in the order of its start, with the district's own dates where it set them."""
    own = {row.phase: row for row in CensusPhase.objects.filter(district_id=district_id or "")}
    rows = []
    for key, label in Phase.choices:
        start, end = DEFAULT_PHASES[key]
        if key in own:
            start, end = own[key].planned_start, own[key].planned_end
        rows.append(PhaseRow(key, str(label), start, end, key in own))
    return sorted(rows, key=lambda r: (r.start, r.end))


def request_calendar(request: Any) -> list[PhaseRow]:
    """The district's calendar, read once per request: a dashboard shows the countdown, the to-dos and the
    registration's planned line."""
    phases: list[PhaseRow] | None = getattr(request, "_census_calendar", None)
    if phases is None:
        phases = census_calendar(request.user.district_id)
        request._census_calendar = phases
    return phases


@dataclass(frozen=True)
class Countdown:
    today: datetime.date
    registration_start: datetime.date
    under_way: list[tuple[PhaseRow, int]]  # each phase under way with the days left in it (0 on its last day)
    next_phase: PhaseRow | None

    @property
    def days_to_registration(self) -> int:
        return (self.registration_start - self.today).days

    @property
    def days_to_next(self) -> int | None:
        return (self.next_phase.start - self.today).days if self.next_phase else None


def countdown(district_id: str | None, today: datetime.date, phases: list[PhaseRow] | None = None) -> Countdown:
    phases = census_calendar(district_id) if phases is None else phases
    registration = next(p for p in phases if p.key == Phase.REGISTRATION)
    under_way = [(p, (p.end - today).days) for p in phases if p.start <= today <= p.end]
    upcoming = [p for p in phases if p.start > today]
    return Countdown(today, registration.start, under_way, upcoming[0] if upcoming else None)


# --- planned against actual ------------------------------------------------------------------------------------


def _daily_counts(qs: QuerySet[Any], field: str) -> dict[datetime.date, int]:
    """How many rows reached the state on each day (``field``: a date field, or a datetime truncated to the
    local day)."""
    day: Any = F(field) if field.endswith("_on") else TruncDate(field)
    rows = qs.filter(**{f"{field}__isnull": False}).annotate(day=day).values("day").annotate(n=Count("pk")).order_by()
    return {r["day"]: r["n"] for r in rows}


def _measure(phase: str, user: StaffMember | AnonymousUser) -> tuple[dict[datetime.date, int], int, str] | None:
    """What a phase's actual progress counts: per day the number done, the total to do, and what it is.
    None for a phase without a measure in the system (its planned line is still shown)."""
    if phase == Phase.ORGANISATION:
        items = ReadinessItem.objects.visible_to(user).filter(component=ReadinessComponent.ORGANISATION)
        done = items.filter(status=ReadinessStatus.DONE)
        return _daily_counts(done, "completed_on"), items.count(), str(_("organisations set up (四落实 机构)"))
    if phase == Phase.STAFF:
        staff = StaffMember.objects.visible_to(user).filter(role__in=FIELD_ROLES)
        return _daily_counts(staff, "trained_on"), staff.count(), str(_("enumerators and supervisors trained"))
    if phase in (Phase.LISTING, Phase.REGISTRATION):
        from enumeration.models import Household

        households = Household.objects.visible_to(user)
        field = "listed_at" if phase == Phase.LISTING else "signed_at"
        what = _("households listed") if phase == Phase.LISTING else _("forms signed")
        return _daily_counts(households, field), households.count(), str(what)
    if phase == Phase.LONG_FORM:
        from enumeration.models import Household

        sample = Household.objects.visible_to(user).filter(in_long_form_sample=True)
        return _daily_counts(sample, "signed_at"), sample.count(), str(_("long forms signed (of the sample)"))
    if phase == Phase.ACCEPTANCE:
        from enumeration.models import SIGNED_STATES, Household, HouseholdState, HouseholdTransition

        ACCEPTED_STATES = (HouseholdState.ACCEPTED, HouseholdState.LOCKED)

        # A household counts on the day it was first accepted (a district lock after acceptance is not a second).
        accepted = (
            HouseholdTransition.objects.visible_to(user)
            .filter(to_state=HouseholdState.ACCEPTED, household__state__in=ACCEPTED_STATES)
            .values("household_id")
            .annotate(at=Min("at"))
        )
        counts: dict[datetime.date, int] = {}
        for row in accepted:
            day = timezone.localdate(row["at"])
            counts[day] = counts.get(day, 0) + 1
        signed = Household.objects.visible_to(user).filter(state__in=SIGNED_STATES).count()
        return counts, signed, str(_("signed forms accepted (验收)"))
    return None


@dataclass(frozen=True)
class PhaseLines:
    phase: PhaseRow
    days: list[datetime.date]
    planned: list[float]
    actual: list[float | None] | None  # None: no measure; a None day: in the future
    measure: str
    total: int


def planned_percent(phase: PhaseRow, day: datetime.date) -> float:
    """The planned line: the share of the phase's days gone by the end of ``day`` (0 before it, 100 after)."""
    span = (phase.end - phase.start).days + 1
    return round(100.0 * min(max((day - phase.start).days + 1, 0), span) / span, 1)


def phase_lines(phase: PhaseRow, *, user: StaffMember | AnonymousUser, today: datetime.date) -> PhaseLines:
    """The planned line (straight from 0% on the first day to 100% on the last) and the actual line (the share
    done by the end of each day, up to today) of one phase."""
    span = (phase.end - phase.start).days + 1
    days = [phase.start + datetime.timedelta(days=i) for i in range(span)]
    planned = [planned_percent(phase, day) for day in days]
    measured = _measure(phase.key, user)
    if measured is None:
        return PhaseLines(phase, days, planned, None, "", 0)
    counts, total, what = measured
    before = sum(n for day, n in counts.items() if day < phase.start)
    actual: list[float | None] = []
    running = before
    for day in days:
        running += counts.get(day, 0)
        actual.append(round(100.0 * running / total, 1) if total and day <= today else None)
    return PhaseLines(phase, days, planned, actual, what, total)


# The phases whose actual progress is cheap enough for every dashboard view (small tables); registration's comes
# from the dashboard's own aggregates, the listing's would count every household and stays on the calendar page.
CHEAP_MEASURES = (Phase.ORGANISATION, Phase.STAFF)


@dataclass(frozen=True)
class PhaseProgress:
    phase: PhaseRow
    days_left: int
    planned: float  # percent of the phase's days gone by the end of today
    actual: float | None  # percent done, or None where the dashboard does not measure it


def phases_under_way_progress(
    phases: list[PhaseRow],
    *,
    user: StaffMember | AnonymousUser,
    today: datetime.date,
    registration_done: float | None = None,
) -> list[PhaseProgress]:
    """Planned against actual, today, for each phase under way (the dashboards' countdown card).
    ``registration_done``: the share of listed households signed, in percent, from the dashboard's totals."""
    rows = []
    for phase in phases:
        if not phase.start <= today <= phase.end:
            continue
        planned = planned_percent(phase, today)
        actual: float | None = None
        if phase.key == Phase.REGISTRATION:
            actual = registration_done
        elif phase.key in CHEAP_MEASURES:
            line = phase_lines(phase, user=user, today=today).actual or []
            actual = next((value for value in reversed(line) if value is not None), None)
        rows.append(PhaseProgress(phase, (phase.end - today).days, planned, actual))
    return rows


# --- to-dos ------------------------------------------------------------------------------------------------------

# What each role does in each phase (the speech and the reference §4), shown on the role's start page while the
# phase is under way.
TODOS: dict[str, dict[str, list[Any]]] = {
    Phase.ORGANISATION: {
        Role.DISTRICT_OFFICE: [_("Check every township's and department's 四落实 and chase the overdue items.")],
        Role.TOWNSHIP_OFFICE: [_("Set up the leading group and office; put staff, funds and conditions in place.")],
        Role.DEPARTMENT: [_("Set up your census organisation by 31 July and answer your census tasks.")],
    },
    Phase.MAPPING: {
        Role.TOWNSHIP_OFFICE: [_("Divide the census areas and small areas and draw their maps.")],
        Role.DISTRICT_OFFICE: [_("Check that every small area has exactly one enumerator.")],
    },
    Phase.STAFF: {
        Role.TOWNSHIP_OFFICE: [
            _("Select the enumerators and supervisors, record their training and print their credentials.")
        ],
        Role.DISTRICT_OFFICE: [_("Follow the selection and training of the 两员 in every township.")],
    },
    Phase.PUBLICITY: {
        Role.DEPARTMENT: [_("Deliver your publicity tasks (大国点名，没你不行) with their evidence.")],
        Role.TOWNSHIP_OFFICE: [_("Hand out the letter to households and put up the posters.")],
    },
    Phase.LISTING: {
        Role.ENUMERATOR: [_("Walk every building of your small areas and list every household (摸底).")],
        Role.SUPERVISOR: [_("Check the listing of the enumerators you oversee.")],
        Role.TOWNSHIP_OFFICE: [_("Import and check the listing of every small area.")],
    },
    Phase.SELF_ENUMERATION: {
        Role.ENUMERATOR: [_("Give households that report themselves their code, and review what they filled in.")],
    },
    Phase.REGISTRATION: {
        Role.ENUMERATOR: [_("Register every household of your small areas and have each form signed.")],
        Role.SUPERVISOR: [_("Review the signed forms of your enumerators every day.")],
        Role.TOWNSHIP_OFFICE: [_("Follow the daily progress and the open findings of every small area.")],
        Role.DISTRICT_OFFICE: [_("Follow every township's progress and the ranking.")],
    },
    Phase.LONG_FORM: {
        Role.ENUMERATOR: [_("Fill in the long form for the households of the sample.")],
    },
    Phase.ACCEPTANCE: {
        Role.TOWNSHIP_OFFICE: [_("Accept (验收) the approved forms of your township.")],
        Role.SUPERVISOR: [_("Answer the findings of your small areas before acceptance.")],
    },
    Phase.MATCHING: {
        Role.DEPARTMENT: [_("Deliver your records for matching (公安 hukou, 卫健 births, 民政) with the evidence.")],
        Role.ENUMERATOR: [_("Go back to the households the matching found missing or wrong.")],
        Role.DISTRICT_OFFICE: [_("Import the hukou roster and follow the matching findings.")],
    },
    Phase.PES: {
        Role.DISTRICT_OFFICE: [_("Support the post-enumeration survey and keep the records ready.")],
    },
}


def role_todos(
    role: str, today: datetime.date, district_id: str | None, phases: list[PhaseRow] | None = None
) -> list[tuple[PhaseRow, str]]:
    """The to-dos of a role for the phases under way today, phase by phase."""
    return [
        (phase, str(todo))
        for phase in (census_calendar(district_id) if phases is None else phases)
        if phase.start <= today <= phase.end
        for todo in TODOS.get(phase.key, {}).get(role, [])
    ]
