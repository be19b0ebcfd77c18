"""Reads of the 督察整改 register."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Q, QuerySet

from census.models import StaffMember
from supervision.organisation.models import ItemStatus, RectificationItem, RectificationTask, TaskStatus
from supervision.organisation.models.rectification import RectificationItemQuerySet, RectificationTaskQuerySet
from supervision.organisation.services.common import today as _today


def rectification_item_list(
    *, user: StaffMember | AnonymousUser, today: datetime.date | None = None
) -> RectificationItemQuerySet:
    day = today or _today()
    return (
        RectificationItem.objects.visible_to(user)
        .select_related("lead_department")
        .annotate(
            task_count=Count("tasks", distinct=True),
            answered_count=Count("tasks", filter=Q(tasks__status=TaskStatus.ANSWERED), distinct=True),
            overdue_count=Count(
                "tasks", filter=Q(tasks__status=TaskStatus.OPEN, tasks__deadline__lt=day), distinct=True
            ),
        )
    )


def rectification_task_list(*, user: StaffMember | AnonymousUser) -> RectificationTaskQuerySet:
    return RectificationTask.objects.visible_to(user).select_related("item", "department").with_evidence_count()


def rectification_recheck_due(
    user: StaffMember | AnonymousUser, *, today: datetime.date | None = None
) -> QuerySet[RectificationItem]:
    """Closed items whose routine re-check is due: they are back on the list (长久立)."""
    return RectificationItem.objects.visible_to(user).recheck_due(today or _today()).order_by("recheck_on")


def rectification_tasks_overdue(
    user: StaffMember | AnonymousUser, *, today: datetime.date | None = None
) -> QuerySet[RectificationTask]:
    return rectification_task_list(user=user).overdue(today or _today()).order_by("deadline")


@dataclass(frozen=True)
class DepartmentTasks:
    department: str
    open: int
    answered: int
    overdue: int


def rectification_summary_by_department(
    user: StaffMember | AnonymousUser, *, today: datetime.date | None = None
) -> list[DepartmentTasks]:
    day = today or _today()
    rows = (
        RectificationTask.objects.visible_to(user)
        .values("department__name", "department__code")
        .annotate(
            open=Count("pk", filter=Q(status=TaskStatus.OPEN)),
            answered=Count("pk", filter=Q(status=TaskStatus.ANSWERED)),
            overdue=Count("pk", filter=Q(status=TaskStatus.OPEN, deadline__lt=day)),
        )
        .order_by("department__code")
    )
    return [
        DepartmentTasks(department=r["department__name"], open=r["open"], answered=r["answered"], overdue=r["overdue"])
        for r in rows
    ]


def rectification_counts(user: StaffMember | AnonymousUser, *, today: datetime.date | None = None) -> dict[str, int]:
    day = today or _today()
    items = RectificationItem.objects.visible_to(user)
    return {
        **items.aggregate(
            open=Count("pk", filter=Q(status=ItemStatus.OPEN)),
            closed=Count("pk", filter=Q(status=ItemStatus.CLOSED)),
            recheck_due=Count("pk", filter=Q(status=ItemStatus.CLOSED, recheck_on__lte=day)),
        ),
        "tasks_overdue": RectificationTask.objects.visible_to(user).overdue(day).count(),
    }
