"""Celery tasks of the organisation part: each wraps one service and is safe to run twice."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="supervision.organisation.tasks.flag_unpaid_subsidies")
def flag_unpaid_subsidies() -> int:
    """Beat, daily: flag to the district every subsidy still unpaid 30 days after it fell due (不得拖欠)."""
    from supervision.organisation.services import subsidy_flag_overdue

    return subsidy_flag_overdue()
