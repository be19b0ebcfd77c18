"""Reads of the 两员 subsidies."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Q, QuerySet, Sum

from census.models import StaffMember, Township
from supervision.organisation.models import SubsidyDue, SubsidyPhase
from supervision.organisation.models.subsidies import SubsidyDueQuerySet
from supervision.organisation.services.common import today as _today

ZERO = Decimal("0.00")


def subsidy_due_list(*, user: StaffMember | AnonymousUser) -> SubsidyDueQuerySet:
    return SubsidyDue.objects.visible_to(user).select_related("staff", "township")


def subsidy_overdue(user: StaffMember | AnonymousUser, *, today: datetime.date | None = None) -> QuerySet[SubsidyDue]:
    """Dues still (partly) unpaid more than ``ORGANISATION_SUBSIDY_UNPAID_DAYS`` after they fell due."""
    day = today or _today()
    cutoff = day - datetime.timedelta(days=settings.ORGANISATION_SUBSIDY_UNPAID_DAYS)
    return subsidy_due_list(user=user).filter(outstanding__gt=0, due_on__lt=cutoff).order_by("due_on", "township_id")


@dataclass(frozen=True)
class TownshipSubsidies:
    code: str
    name: str
    people: int
    due: Decimal
    paid: Decimal
    outstanding: Decimal
    overdue: int


def subsidy_summary_by_township(
    user: StaffMember | AnonymousUser, *, today: datetime.date | None = None
) -> list[TownshipSubsidies]:
    day = today or _today()
    cutoff = day - datetime.timedelta(days=settings.ORGANISATION_SUBSIDY_UNPAID_DAYS)
    rows = (
        SubsidyDue.objects.visible_to(user)
        .values("township_id", "township__name")
        .annotate(
            people=Count("staff", distinct=True),
            # Named apart from the columns, so the filter below reads the column, not the sum.
            due_sum=Sum("amount_due"),
            paid_sum=Sum("amount_paid"),
            outstanding_sum=Sum("outstanding"),
            overdue=Count("pk", filter=Q(outstanding__gt=0, due_on__lt=cutoff)),
        )
        .order_by("township_id")
    )
    return [
        TownshipSubsidies(
            code=r["township_id"],
            name=r["township__name"],
            people=r["people"],
            due=r["due_sum"] or ZERO,
            paid=r["paid_sum"] or ZERO,
            outstanding=r["outstanding_sum"] or ZERO,
            overdue=r["overdue"],
        )
        for r in rows
    ]


@dataclass
class SheetRow:
    """One person on a township's payment sheet: what they earned, were reduced, were paid, by phase."""

    staff: StaffMember
    households: dict[str, int] = field(default_factory=dict)
    earned: dict[str, Decimal] = field(default_factory=dict)
    reduction: Decimal = ZERO
    due: Decimal = ZERO
    paid: Decimal = ZERO
    outstanding: Decimal = ZERO
    reduction_reasons: list[str] = field(default_factory=list)


def subsidy_sheet_rows(*, user: StaffMember | AnonymousUser, township: Township) -> list[SheetRow]:
    rows: dict[int, SheetRow] = {}
    dues = (
        SubsidyDue.objects.visible_to(user)
        .filter(township=township)
        .select_related("staff")
        .order_by("staff__role", "staff__username", "phase")
    )
    for due in dues:
        row = rows.setdefault(due.staff_id, SheetRow(staff=due.staff))
        row.households[due.phase] = due.households
        row.earned[due.phase] = due.computed_amount
        row.reduction += due.reduction_amount
        row.due += due.amount_due
        row.paid += due.amount_paid
        row.outstanding += due.outstanding
        if due.reduction_amount:
            row.reduction_reasons.append(f"{SubsidyPhase(due.phase).label}: {due.reduction_reason}")
    return list(rows.values())
