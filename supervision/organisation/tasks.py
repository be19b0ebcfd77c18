"""Celery tasks of the organisation part: each wraps one service and is safe to run twice."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="supervision.organisation.tasks.flag_unpaid_subsidies")
def flag_unpaid_subsidies() -> int:
    """Beat, daily: flag to the district every subsidy still unpaid 30 days after it fell due (不得拖欠)."""
    from supervision.organisation.services import subsidy_flag_overdue

    return subsidy_flag_overdue()


@shared_task(name="supervision.organisation.tasks.escalate_overdue_work", ignore_result=True)
def escalate_overdue_work() -> int:
    """Beat, daily: overdue work climbs its responsible person's chain (一级抓一级); idempotent."""
    from supervision.organisation.services.responsibility import work_escalate_overdue

    return work_escalate_overdue()
