"""Celery tasks of the census frame."""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone


@shared_task(name="census.tasks.heartbeat", ignore_result=False)
def heartbeat() -> str:
    """Record that beat and a worker are alive; /healthz shows the time of the last beat."""
    now = timezone.now().isoformat()
    cache.set("census:last-heartbeat", now, timeout=None)
    return now


@shared_task(name="census.tasks.ping", ignore_result=False)
def ping() -> str:
    return "pong"
