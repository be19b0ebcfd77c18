"""A real Celery worker against real Redis, and /healthz reporting database, Redis and worker reachability."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from celery.contrib.testing.worker import start_worker
from django.test import Client, override_settings

from census.celery import app
from census.jobs import JobOutput, ProgressReporter, job_handler, job_start
from census.models import Job, JobStatus
from census.tasks import heartbeat, ping


@pytest.fixture
def celery_worker() -> Iterator[None]:
    """A worker thread consuming the test Redis database (tests/… settings give it its own db number)."""
    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=10):
        yield


@job_handler("test_count_to")
def _count_to(job: Job, report: ProgressReporter) -> JobOutput:
    n = int(job.params["n"])
    report.total(n)
    for _ in range(n):
        report.advance()
    return JobOutput(content=b"done\n", file_name="count.txt", result={"counted": n})


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_tasks_sent_through_redis(celery_worker: None) -> None:
    assert ping.delay().get(timeout=20) == "pong"
    assert heartbeat.delay().get(timeout=20)


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_job_enqueued_on_commit_runs_in_the_worker_and_keeps_its_file(
    celery_worker: None, settings, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    settings.MEDIA_ROOT = tmp_path
    job = job_start(kind="test_count_to", title="count", user=None, params={"n": 5})
    for _ in range(200):
        job.refresh_from_db()
        if job.is_finished:
            break
        import time

        time.sleep(0.1)
    assert job.status == JobStatus.DONE, job.error
    assert job.progress == job.total == 5
    assert job.result == {"counted": 5}
    assert job.file.read() == b"done\n"


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_healthz_is_200_when_database_redis_and_a_worker_answer(celery_worker: None) -> None:
    response = Client().get("/healthz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["checks"]["database"]["ok"] and body["checks"]["redis"]["ok"] and body["checks"]["worker"]["ok"]


@pytest.mark.django_db
def test_healthz_is_503_when_no_worker_answers() -> None:
    response = Client().get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"]["ok"] and body["checks"]["redis"]["ok"]
    assert body["checks"]["worker"] == {"ok": False, "detail": "no worker answered"}


@pytest.mark.django_db
def test_healthz_is_503_when_redis_is_unreachable() -> None:
    with override_settings(REDIS_URL="redis://127.0.0.1:1/0"):
        response = Client().get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["redis"]["ok"] is False
