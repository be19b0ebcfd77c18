"""Celery tasks of completeness: each wraps one service, takes ids and is safe to run twice."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="completeness.refresh_small_areas", acks_late=True, ignore_result=True)
def refresh_small_areas(small_area_ids: list[int]) -> int:
    from supervision.completeness.services import completeness_refresh

    return completeness_refresh(small_area_ids=small_area_ids)


@shared_task(name="completeness.refresh_all", acks_late=True, ignore_result=True)
def refresh_all() -> int:
    """Every small area's figures (the beat: catches bulk updates, which send no signal)."""
    from supervision.completeness.services import completeness_refresh

    return completeness_refresh()


@shared_task(name="completeness.coverage_refresh", acks_late=True, ignore_result=True)
def coverage_refresh(draw_id: int) -> int:
    from supervision.completeness.recheck import coverage_refresh as refresh

    return refresh(draw_id=draw_id)


@shared_task(name="completeness.coverage_refresh_latest", acks_late=True, ignore_result=True)
def coverage_refresh_latest() -> int:
    """The estimates and re-check scores of each district's latest draw (the beat: the forms change under them)."""
    from supervision.completeness.recheck import coverage_refresh_latest as refresh

    return refresh()
