"""The Celery application. Tasks live in each app's ``tasks.py`` and wrap one service each.

Database connections: Celery's Django fix-up closes every connection before and after each task unless
``CELERY_DB_REUSE_MAX`` is set (settings.py sets it), so a worker would connect anew for every task — and every
part of a check run would pay the new server process, its cold catalogue caches and its session's temporary
tables again (at 6,000,000 persons, 0.1–0.2 s of each of 39 parts: most of an incremental run over a few changes
per township). Tasks are treated as Django treats requests instead: before and after each, a connection older than
``CONN_MAX_AGE`` or found broken (the health check of ``census.postgresql``) is closed, and the others are kept.
"""

import os
from typing import Any

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "census.settings")

app = Celery("census")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
def _close_old_connections(**kwargs: Any) -> None:
    from django.db import close_old_connections

    close_old_connections()


@task_postrun.connect
def _close_connections_after_task(state: str | None = None, **kwargs: Any) -> None:
    """After a task: old or broken connections closed; after one that did not succeed, every connection — whatever
    it left in its session (a lock it could not release, a setting) goes with it, as it did before connections were
    kept."""
    from django.db import close_old_connections, connections

    if state == "SUCCESS":
        close_old_connections()
    else:
        connections.close_all()
