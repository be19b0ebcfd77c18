"""A worker killed in the middle of a checks run (issue "Security and reliability" §6), run by
``tests/quality/test_runs.py`` in a pytest process of its own with a test database of its own: the scenario
holds row locks and kills a Celery worker, and in the long suite's process earlier tests' threads and
connections got in its way (the worker received the part and never reached the database).

Not collected on its own (the file name does not start with ``test_``)."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from supervision.quality.models import CheckRun, CheckRunPart, Finding, FindingEvent, RosterAreaCount
from supervision.quality.services import check_run_create, check_run_execute

ROOT = Path(__file__).resolve().parents[2]


def _snapshot() -> set[tuple[Any, ...]]:
    return {
        (rule, key, state, record_key, str(sorted(evidence.items())))
        for rule, key, state, record_key, evidence in Finding.objects.values_list(
            "rule", "key", "state", "record_key", "evidence"
        )
    }


def _forget_findings() -> None:
    FindingEvent.objects.all().delete()
    Finding.objects.all().delete()
    CheckRunPart.objects.all().delete()
    CheckRun.objects.all().delete()
    RosterAreaCount.objects.all().delete()


WORKER_LOG = Path(tempfile.gettempdir()) / f"quality-kill-worker-{os.getpid()}.log"


def _worker_name(queue: str) -> str:
    return f"{queue}@{os.uname().nodename}"


_WORKERS: list[subprocess.Popen[bytes]] = []


def _worker(queue: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "census.test_settings",
        "CENSUS_DATABASE_NAME": connection.settings_dict["NAME"],
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "census",
            "worker",
            "-P",
            "solo",
            "-Q",
            queue,
            "-n",
            _worker_name(queue),
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel",
            "INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=WORKER_LOG.open("wb"),
        stderr=subprocess.STDOUT,
    )
    _WORKERS.append(worker)
    return worker


def _worker_log() -> str:
    return WORKER_LOG.read_text(errors="replace")[-3000:] if WORKER_LOG.exists() else ""


def _wait_ready(worker: subprocess.Popen[bytes], queue: str, timeout: float = 90) -> None:
    """Until this worker (not any other one a test left running) answers."""
    from census.celery import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert worker.poll() is None, f"the worker stopped: {_worker_log()}"
        if app.control.ping(destination=[_worker_name(queue)], timeout=0.5):
            return
    raise AssertionError(f"the worker did not start: {_worker_log()}")


def _blocked_backend(timeout: float = 90) -> int:
    """The worker's database session, once it waits for our lock on the part's row: every check has run and its
    findings are written, not yet committed."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            # pg_stat_activity is a snapshot taken once per transaction, and this one holds the part's row:
            # without a fresh snapshot a worker that blocks after the first look would never be seen.
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute("SELECT pid FROM pg_stat_activity WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))")
            row = cursor.fetchone()
            if row:
                return int(row[0])
            time.sleep(0.2)
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT pid, pg_blocking_pids(pid), state, wait_event_type, wait_event, left(query, 80) "
            "FROM pg_stat_activity WHERE datname = current_database()"
        )
        sessions = cursor.fetchall()
    if _WORKERS:
        os.kill(_WORKERS[-1].pid, signal.SIGUSR1)  # Celery logs the traceback of every thread
        time.sleep(2)
    raise AssertionError(f"the worker never reached the end of its part: {sessions}\n{_worker_log()}")


@pytest.mark.django_db(transaction=True)
@pytest.mark.celery_worker
@pytest.mark.slow
def test_a_worker_killed_in_the_middle_leaves_no_trace_and_the_next_attempt_completes() -> None:
    from supervision.quality.tasks import run_check_part

    call_command("seed_district", persons=3000, seed=9, plant_errors=os.devnull, stdout=io.StringIO())
    check_run_execute(run_id=check_run_create(user=None, mode="full").pk, poll=0.05)
    clean = _snapshot()
    assert len(clean) > 40
    _forget_findings()

    interrupted = check_run_create(user=None, mode="full")
    part = interrupted.parts.exclude(township__isnull=True).order_by("township_id").first()
    assert part is not None
    queue = f"quality-kill-{os.getpid()}"
    worker = _worker(queue)
    _wait_ready(worker, queue)
    try:
        with transaction.atomic():
            # Hold the part's row: the worker runs every check, writes every finding, and then waits here.
            CheckRunPart.objects.select_for_update().get(pk=part.pk)
            run_check_part.apply_async(args=[part.pk], queue=queue)
            backend = _blocked_backend()
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM quality_finding")
                assert cursor.fetchone()[0] == 0, "nothing the worker wrote is visible before it commits"
            os.kill(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)
        # The dead worker's session goes once PostgreSQL notices; its transaction (and part lock) go with it.
        deadline = time.monotonic() + 30
        with connection.cursor() as cursor:
            while time.monotonic() < deadline:
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [backend])
                if cursor.fetchone()[0] == 0:
                    break
                time.sleep(0.2)
        assert not Finding.objects.exists(), "the killed worker left no finding behind"
        assert CheckRunPart.objects.get(pk=part.pk).status == "queued"
    finally:
        if worker.poll() is None:
            worker.kill()
    # The next attempt (here the coordinator; the re-delivered task would do the same) completes the run.
    done = check_run_execute(run_id=interrupted.pk, poll=0.05)
    assert done.status == "done"
    assert _snapshot() == clean
    assert Finding.objects.count() == len(clean)
