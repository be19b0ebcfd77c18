"""Reads of the quality part. Everything starts from ``visible_to(user)``.

For the dashboards (supervision.progress): ``Finding.objects.visible_to(user).open()`` counts per township,
village, small area and responsible person (``hooks.open_findings``), and :func:`roster_classification` gives
the roster comparison per area::

    roster_classification(user, level="township")   # level: "township" | "village" | "small_area"
    → [{"code": "511504101", "name": "柏溪镇", "roster": 41230, "living_here": …, "living_elsewhere": …,
        "not_registered": …, "registered": …, "not_on_roster_local": …, "not_on_roster_other": …}, …]
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Case, Count, IntegerField, Q, QuerySet, Sum, Value, When

from census.models import Role, SmallArea, SmallAreaAssignment, StaffMember, Township, Village
from supervision.quality.checks import roster as roster_checks
from supervision.quality.models import (
    AWAITING_VERIFICATION,
    CheckRun,
    Finding,
    FindingEvent,
    FindingQuerySet,
    FindingState,
    RosterAreaCount,
    RunStatus,
)

ROSTER_LEVELS = {"township": "township_id", "village": "village_id", "small_area": "small_area_id"}
ROSTER_MEASURES = (
    "roster",
    "living_here",
    "living_elsewhere",
    "not_registered",
    "registered",
    "not_on_roster_local",
    "not_on_roster_other",
)
# Open first, then what waits for the supervisor, then the rest.
STATE_ORDER = Case(
    When(state=FindingState.OPEN, then=Value(0)),
    When(state__in=AWAITING_VERIFICATION, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


def findings_visible(*, user: StaffMember) -> FindingQuerySet:
    return Finding.objects.visible_to(user).select_related(  # type: ignore[no-any-return]
        "responsible", "supervisor", "small_area", "township", "household__small_area"
    )


_WHOLE_ID_NUMBER = re.compile(r"^(?:ROSTER:)?\s*([0-9]{17}[0-9X])$")


def findings_search(findings: QuerySet[Finding], query: str, *, fields: Sequence[str]) -> QuerySet[Finding]:
    """Findings whose ``fields`` contain ``query`` — and, for a whole ID number (with or without ``roster:``), the
    roster finding of that person, found by the pseudonym of the number: record keys hold no ID numbers, so part
    of a number finds no roster finding, and only whoever already knows a whole number can look one up. (Eighteen
    digits are also a small area's code and a 户编号: those records are still found by their key.)"""
    matches = reduce(or_, (Q(**{f"{name}__icontains": query}) for name in fields))
    whole = _WHOLE_ID_NUMBER.match(query.strip().upper())
    if whole:
        matches |= Q(record_key=roster_checks.roster_record_key(whole.group(1)))
    return findings.filter(matches)


def my_findings(*, user: StaffMember, show: str = "act") -> QuerySet[Finding]:
    """Findings routed to a field worker: ``act`` — open ones they are responsible for; ``verify`` — corrected or
    explained ones of the enumerators they supervise; ``areas`` — unresolved ones in the small areas assigned to
    them about records someone else registered (a predecessor's, after a hand-over: the registrar still answers
    for them, 谁普查、谁负责, and the successor should know); ``all`` — everything routed to them."""
    findings = findings_visible(user=user)
    if show == "areas":
        own_areas = SmallAreaAssignment.objects.filter(staff=user).values("small_area_id")
        findings = (
            findings.filter(small_area_id__in=own_areas, responsible__isnull=False)
            .exclude(responsible=user)
            .unresolved()
        )
    elif show == "act":
        findings = findings.responsible_is(user).open()
    elif show == "verify":
        findings = findings.supervised_by(user).awaiting_verification()
    else:
        findings = findings.filter(Q(responsible=user) | Q(supervisor=user))
    return findings.annotate(state_order=STATE_ORDER).order_by("state_order", "-first_seen_at", "-id")


@dataclass(frozen=True)
class FindingsSummary:
    open: int
    to_verify: int
    escalated: int
    first: list[Finding]


def my_findings_summary(*, user: StaffMember, first: int = 5) -> FindingsSummary:
    """What a field worker's start page shows first (谁普查、谁负责)."""
    mine = Finding.objects.visible_to(user).responsible_is(user).open()
    counts = mine.aggregate(open=Count("pk"), escalated=Count("pk", filter=Q(escalated_at__isnull=False)))
    to_verify = Finding.objects.visible_to(user).supervised_by(user).awaiting_verification().count()
    return FindingsSummary(
        open=counts["open"],
        to_verify=to_verify,
        escalated=counts["escalated"],
        first=list(
            mine.select_related("household__small_area", "small_area").order_by("-escalated_at", "first_seen_at", "id")[
                :first
            ]
        ),
    )


def finding_list(
    *,
    user: StaffMember,
    state: str = "unresolved",
    rule: str = "",
    township: str = "",
    escalated: bool = False,
) -> QuerySet[Finding]:
    findings = findings_visible(user=user)
    if state == "unresolved":
        findings = findings.unresolved()
    elif state in FindingState.values:
        findings = findings.filter(state=state)
    if rule:
        findings = findings.of_rule(rule)
    if township:
        findings = findings.filter(township_id=township)
    if escalated:
        findings = findings.escalated()
    return findings.annotate(state_order=STATE_ORDER)


def finding_counts(*, user: StaffMember) -> dict[str, int]:
    findings = Finding.objects.visible_to(user)
    return findings.aggregate(
        open=Count("pk", filter=Q(state=FindingState.OPEN)),
        awaiting=Count("pk", filter=Q(state__in=AWAITING_VERIFICATION)),
        escalated=Count("pk", filter=Q(state=FindingState.OPEN, escalated_at__isnull=False)),
        verified=Count("pk", filter=Q(state=FindingState.VERIFIED)),
        closed=Count("pk", filter=Q(state__in=(FindingState.CLOSED, FindingState.CORRECTED))),
    )


def finding_rules_in_use(*, user: StaffMember) -> list[dict[str, Any]]:
    return list(
        Finding.objects.visible_to(user).unresolved().values("rule").annotate(n=Count("pk")).order_by("-n", "rule")
    )


def finding_events(*, finding: Finding) -> QuerySet[FindingEvent]:
    return finding.events.select_related("actor").order_by("at", "id")


def finding_last_checked_at(*, finding: Finding) -> datetime | None:
    """When a finished run over the finding's area last left it standing, for a finding still detected (open,
    explained, or verified with an explanation); None for one that is gone.

    A run does not rewrite a finding it finds again unchanged (``runner.merge``), but a run over its township that
    no longer found it would have closed it: so the latest finished run over its area found it still there.
    """
    if finding.is_gone:
        return None
    latest = (
        CheckRun.objects.filter(
            Q(township__isnull=True, district_id=finding.township.district_id) | Q(township_id=finding.township_id),
            status=RunStatus.DONE,
            finished_at__gte=finding.last_seen_at,
        )
        .order_by("-finished_at")
        .values_list("finished_at", flat=True)
        .first()
    )
    return latest or finding.last_seen_at


def check_runs(*, user: StaffMember) -> QuerySet[CheckRun]:
    return CheckRun.objects.visible_to(user).select_related("township", "started_by", "job")  # type: ignore[no-any-return]


def townships_for_runs(*, user: StaffMember) -> QuerySet[Township]:
    return Township.objects.visible_to(user).order_by("code")  # type: ignore[no-any-return]


def roster_classification(user: StaffMember, *, level: str = "township") -> list[dict[str, Any]]:
    """The roster comparison per area of ``level``, within what the user may see. Roster persons count where
    their hukou is, registered persons not on the roster where they were registered (see ``checks.roster``)."""
    if level not in ROSTER_LEVELS:
        raise ValueError(f"level is one of {', '.join(ROSTER_LEVELS)}")
    path = ROSTER_LEVELS[level]
    rows = list(
        RosterAreaCount.objects.visible_to(user)
        .exclude(**{f"{path}__isnull": True})
        .values(path)
        .annotate(**{name: Sum(name) for name in ROSTER_MEASURES})
        .order_by(path)
    )
    names: dict[Any, tuple[str, str]]
    keys = [row[path] for row in rows]
    if level == "township":
        names = {t.code: (t.code, t.name) for t in Township.objects.filter(code__in=keys)}
    elif level == "village":
        names = {v.code: (v.code, v.name) for v in Village.objects.filter(code__in=keys)}
    else:
        names = {
            a.pk: (a.code, f"{a.village.name}{a.name}")
            for a in SmallArea.objects.filter(pk__in=keys).select_related("village")
        }
    return [
        {"code": names.get(row[path], (str(row[path]), ""))[0], "name": names.get(row[path], ("", ""))[1]}
        | {name: int(row[name] or 0) for name in ROSTER_MEASURES}
        for row in rows
    ]


def may_start_runs(user: StaffMember) -> bool:
    return bool(user.is_superuser or user.role in (Role.TOWNSHIP_OFFICE, Role.DISTRICT_OFFICE))
