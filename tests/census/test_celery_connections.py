"""A Celery worker's database connection (census/celery.py): kept from one task to the next, as a web process keeps
its connection between requests (a check run's 39 parts paid a new server process each when Celery's Django fix-up
closed it around every task), and dropped after a task that did not succeed. The worker's own hooks run here as
the worker runs them: Celery's fix-up, then the project's signal handlers."""

from __future__ import annotations

import pytest
from celery.fixups.django import DjangoWorkerFixup  # type: ignore[attr-defined]  # (not in celery-types' stubs)
from celery.signals import task_postrun, task_prerun
from django.db import connection

from census.celery import app
from supervision.quality.tasks import run_check_part


def _around_task(fixup: DjangoWorkerFixup, state: str) -> None:
    fixup.on_task_prerun(sender=run_check_part)
    task_prerun.send(sender=run_check_part, task_id="t", task=run_check_part, args=(), kwargs={})
    fixup.on_task_postrun(sender=run_check_part)
    task_postrun.send(
        sender=run_check_part, task_id="t", task=run_check_part, args=(), kwargs={}, retval=None, state=state
    )


@pytest.mark.django_db(transaction=True)
def test_a_worker_keeps_its_connection_after_a_task_that_succeeded_and_drops_it_after_one_that_failed() -> None:
    fixup = DjangoWorkerFixup(app)
    connection.ensure_connection()
    server = connection.connection
    _around_task(fixup, "SUCCESS")
    _around_task(fixup, "SUCCESS")
    assert connection.connection is server and not server.closed
    _around_task(fixup, "FAILURE")
    assert connection.connection is None and server.closed
