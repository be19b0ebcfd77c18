"""Celery tasks of the quality part: each wraps one service and is safe to run twice."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="quality.run_check_part", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_check_part(part_id: int) -> bool:
    """One township (or the district part) of a check run. Does nothing if it is done or running elsewhere."""
    from supervision.quality.services import check_run_part_execute

    return check_run_part_execute(part_id=part_id)


@shared_task(name="quality.run_check_parts", acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def run_check_parts(part_ids: list[int]) -> int:
    """A group of small township parts of an incremental run, checked together (``check_run_parts_execute``).
    Does nothing for a part done or running elsewhere."""
    from supervision.quality.services import check_run_parts_execute

    return check_run_parts_execute(part_ids=part_ids)


@shared_task(name="quality.nightly_run", ignore_result=True)
def nightly_run(mode: str = "incremental") -> int:
    """Celery beat's nightly run of the whole catalogue over every district."""
    from supervision.quality.services import check_runs_start_nightly

    return check_runs_start_nightly(mode=mode)


@shared_task(name="quality.escalate_overdue", ignore_result=True)
def escalate_overdue() -> int:
    """Open findings past their time go to the township office."""
    from supervision.quality.services import findings_escalate_overdue

    return findings_escalate_overdue()


@shared_task(name="quality.city_duplicates", ignore_result=True)
def city_duplicates() -> int:
    """Celery beat's city-level duplicate check of every city the installation has (none for a single district),
    after the districts' nightly runs; how many numbers were found in two districts."""
    from census.models import City
    from supervision.quality.services import city_duplicates_check

    return sum(city_duplicates_check(city=city).numbers for city in City.objects.order_by("code"))
