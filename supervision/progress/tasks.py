"""Celery tasks of the progress part: each wraps one service and is safe to run twice."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="progress.refresh_small_areas", acks_late=True, ignore_result=True)
def refresh_small_areas(small_area_ids: list[int]) -> int:
    from supervision.progress.services import progress_refresh

    return progress_refresh(small_area_ids=small_area_ids)


@shared_task(name="progress.refresh_changed", acks_late=True, ignore_result=True)
def refresh_changed() -> int:
    from supervision.progress.services import progress_refresh_changed

    return progress_refresh_changed()


@shared_task(name="progress.refresh_all", acks_late=True, ignore_result=True)
def refresh_all() -> int:
    from supervision.progress.services import progress_refresh, progress_tables_vacuum

    refreshed = progress_refresh()
    progress_tables_vacuum()
    return refreshed


@shared_task(name="progress.exports_expire", acks_late=True, ignore_result=True)
def exports_expire() -> int:
    from supervision.progress.services import exports_expire

    return exports_expire()


# A burst of saves in one small area (a supervisor approving a dozen forms) gives one refresh.
DEBOUNCE_SECONDS = 5


def schedule_refresh(small_area_id: int) -> None:
    """Refresh one small area's aggregates a few seconds from now, unless that is already scheduled."""
    import logging

    from django.core.cache import cache

    try:
        if cache.add(f"progress:refresh:{small_area_id}", 1, timeout=DEBOUNCE_SECONDS):
            refresh_small_areas.apply_async(args=([small_area_id],), countdown=DEBOUNCE_SECONDS)
    except Exception:
        # Redis unreachable: the form is saved all the same, and the beat run picks the change up.
        logging.getLogger(__name__).warning("could not schedule a progress refresh", exc_info=True)
