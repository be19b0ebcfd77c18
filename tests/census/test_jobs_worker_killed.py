"""A Celery worker killed in the middle of a job leaves no half-written result, and the job completes when
it is started again (by the recovery beat task) on another worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django.test import override_settings

from census.celery import app
from census.jobs import job_start, jobs_recover
from census.models import Job, JobStatus
from tests.census import slow_job  # noqa: F401 - registers the job kind in this process too

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def _worker(settings) -> subprocess.Popen[bytes]:  # type: ignore[no-untyped-def]
    database = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "census.test_settings",
        "CENSUS_DATABASE_NAME": database["NAME"],
        "PRIVATE_MEDIA_ROOT": str(settings.PRIVATE_MEDIA_ROOT),
        "PYTHONPATH": str(ROOT),
    }
    if not os.environ.get("DATABASE_URL"):
        env["CENSUS_DATABASE_NAME"] = database["NAME"]
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "census",
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "WARNING",
            "--include",
            "tests.census.slow_job",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait(job: Job, test, timeout: float = 60) -> Job:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if test(job):
            return job
        time.sleep(0.2)
    raise AssertionError(f"job {job.pk} stayed {job.status} at {job.progress}/{job.total}")


def test_a_killed_worker_leaves_no_result_and_the_job_completes_on_another(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    settings.MEDIA_ROOT = tmp_path
    app.control.purge()
    first = _worker(settings)
    try:
        job = job_start(kind="test_slow_count", title="slow", user=None, params={"steps": 25, "pause": 0.2})
        job = _wait(job, lambda j: j.status == JobStatus.RUNNING and j.progress >= 3)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        time.sleep(1.5)
        job.refresh_from_db()
        assert job.status == JobStatus.RUNNING and not job.file, "a killed worker must leave no result behind"
        assert not list(tmp_path.rglob("*.txt"))
    finally:
        if first.poll() is None:
            first.kill()
    with override_settings(CENSUS_JOB_STALE_SECONDS=1):
        assert jobs_recover() == [job.pk]
    second = _worker(settings)
    try:
        job = _wait(job, lambda j: j.status in (JobStatus.DONE, JobStatus.FAILED))
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=30)
    assert job.status == JobStatus.DONE, job.error
    assert job.attempts == 2
    assert job.file.read().decode().splitlines() == [f"line {n}" for n in range(25)]
    assert job.progress == job.total == 25


def test_a_job_that_keeps_losing_its_worker_fails_with_the_reason() -> None:
    job = Job.objects.create(kind="test_slow_count", title="x", status=JobStatus.RUNNING, attempts=3)
    Job.objects.filter(pk=job.pk).update(heartbeat_at="2020-01-01T00:00:00Z")
    with override_settings(CENSUS_JOB_STALE_SECONDS=1):
        assert jobs_recover() == []
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "3" in job.error
