"""Reads of the 四落实 readiness, always through ``visible_to(user)``. The district dashboard calls
:func:`readiness_overdue` and :func:`readiness_summary_by_township`."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Q, QuerySet

from census.models import StaffMember, Township
from supervision.organisation.models import (
    ReadinessComponent,
    ReadinessDeadline,
    ReadinessStatus,
    UnitKind,
    UnitReadiness,
    default_item_deadline,
)
from supervision.organisation.models.readiness import UnitReadinessQuerySet
from supervision.organisation.services.common import today as _today


def readiness_list(*, user: StaffMember | AnonymousUser, today: datetime.date | None = None) -> UnitReadinessQuerySet:
    """Each unit with its ``deadline`` (the earliest of the items not done), ``done_count`` (of the four),
    ``has_overdue`` and ``has_late`` (decided per item against the item's own deadline)."""
    return (
        UnitReadiness.objects.visible_to(user)
        .with_deadline()
        .with_state(today or _today())
        .with_done_count()
        .select_related("township", "village", "department")
    )


def readiness_overdue(
    user: StaffMember | AnonymousUser, *, today: datetime.date | None = None
) -> QuerySet[UnitReadiness]:
    """Units whose four are not all in place although their deadline has passed, earliest deadline first."""
    return (
        readiness_list(user=user, today=today)
        .overdue(today or _today())
        .order_by("deadline", "unit_kind", "township_id", "village_id", "department_id")  # type: ignore[misc]
    )


@dataclass(frozen=True)
class TownshipReadiness:
    """A township with its villages: how many units, how many ready, how many overdue."""

    code: str
    name: str
    units: int
    ready: int
    late: int
    overdue: int

    @property
    def not_ready(self) -> int:
        return self.units - self.ready

    @property
    def ready_rate(self) -> float:
        return self.ready / self.units if self.units else 0.0


def readiness_summary_by_township(
    user: StaffMember | AnonymousUser, *, today: datetime.date | None = None
) -> list[TownshipReadiness]:
    """Per township (its own checklist and its villages'), in code order: one query."""
    day = today or _today()
    visible = UnitReadiness.objects.visible_to(user).exclude(unit_kind=UnitKind.DEPARTMENT)
    overdue_ids = visible.overdue(day).values("pk")
    late_ids = visible.late().values("pk")
    rows = (
        visible.values("township_id")
        .annotate(
            units=Count("pk"),
            ready=Count("pk", filter=Q(ready_on__isnull=False)),
            late=Count("pk", filter=Q(pk__in=late_ids)),
            overdue=Count("pk", filter=Q(pk__in=overdue_ids)),
        )
        .order_by("township_id")
    )
    names = dict(Township.objects.filter(code__in=[r["township_id"] for r in rows]).values_list("code", "name"))
    return [
        TownshipReadiness(
            code=r["township_id"],
            name=names.get(r["township_id"], r["township_id"]),
            units=r["units"],
            ready=r["ready"],
            late=r["late"],
            overdue=r["overdue"],
        )
        for r in rows
    ]


@dataclass(frozen=True)
class ReadinessTotals:
    units: int
    ready: int
    late: int
    overdue: int
    by_component: dict[str, int]


def readiness_totals(user: StaffMember | AnonymousUser, *, today: datetime.date | None = None) -> ReadinessTotals:
    visible = UnitReadiness.objects.visible_to(user)
    counts = visible.aggregate(
        units=Count("pk"),
        ready=Count("pk", filter=Q(ready_on__isnull=False)),
    )
    overdue = visible.overdue(today or _today()).count()
    done = dict(
        visible.filter(items__status=ReadinessStatus.DONE)
        .values_list("items__component")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return ReadinessTotals(
        units=counts["units"], ready=counts["ready"], late=visible.late().count(), overdue=overdue, by_component=done
    )


def readiness_by_township(*, user: StaffMember | AnonymousUser) -> dict[str, float]:
    """Share (0–1) of each township's units — its own and its villages' — whose four are all in place.
    The progress dashboard reads this (settings.PROGRESS_READINESS_SOURCE)."""
    return {row.code: row.ready_rate for row in readiness_summary_by_township(user)}


@dataclass(frozen=True)
class DeadlineRow:
    """One kind of unit: the deadline of each of the four, and which of them the district chose itself."""

    kind: str
    label: str
    due: dict[str, datetime.date]
    own: frozenset[str]


def readiness_deadlines(*, district_id: str | None) -> list[DeadlineRow]:
    """The deadlines of a district per kind of unit and item: its own where it set one, else the default."""
    own = {
        (row.unit_kind, row.component): row.due_on
        for row in ReadinessDeadline.objects.filter(district_id=district_id or "")
    }
    return [
        DeadlineRow(
            kind=kind,
            label=str(label),
            due={c: own.get((kind, c), default_item_deadline(kind, c)) for c in ReadinessComponent.values},
            own=frozenset(c for c in ReadinessComponent.values if (kind, c) in own),
        )
        for kind, label in UnitKind.choices
    ]
