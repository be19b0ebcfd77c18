"""Check runs: fanned out per township, incremental by default, safe to run twice, and a worker killed in the
middle of a township leaves nothing behind — the next attempt completes and the findings are those of a clean
run. Also the nightly task, the coordinating job and ``run_checks``."""

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
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction

from census.jobs import job_run
from census.models import Job, JobStatus
from supervision.quality.models import CheckRun, CheckRunPart, Finding, FindingEvent, RosterAreaCount
from supervision.quality.services import check_run_create, check_run_execute, check_run_start
from supervision.quality.tasks import nightly_run
from tests.conftest import Cast
from tests.quality.factories import persons_of, resign, run, sign_family, tamper

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def no_margin(settings: Any) -> None:
    """Incremental runs here look exactly at what changed since the last run (no safety margin)."""
    settings.QUALITY = {**settings.QUALITY, "INCREMENTAL_MARGIN_SECONDS": 0}


@pytest.mark.django_db
def test_an_incremental_run_checks_only_households_changed_since_the_last_run(cast: Cast) -> None:
    first = sign_family(cast.area_a1, cast.enumerator_a1)
    sign_family(cast.area_a2, cast.enumerator_a2, head="李强")
    full = run()
    assert full.stats["households"] == 2
    nothing = run(mode="incremental")
    assert nothing.stats["households"] == 0
    part = nothing.parts.get(township=cast.township_a)
    assert part.since is not None and part.since <= full.parts.get(township=cast.township_a).started_at
    resign(first, cast.enumerator_a1, persons=persons_of(first))
    changed = run(mode="incremental")
    assert changed.stats["households"] == 1
    # An incremental run of a township that never ran is a full one.
    assert run(mode="incremental", township=cast.township_b).parts.get(township=cast.township_b).since is not None


@pytest.mark.django_db
def test_an_edit_behind_the_application_s_back_waits_for_a_full_run(cast: Cast) -> None:
    household = sign_family(cast.area_a1, cast.enumerator_a1)
    run()
    tamper("UPDATE enumeration_person SET d1_name = '改名' WHERE household_id = %s AND row_no = 2", [household.pk])
    run(mode="incremental")
    assert not Finding.objects.exists()
    run(mode="full")
    assert list(Finding.objects.values_list("rule", flat=True)) == ["CONTENT_CHANGED_AFTER_SIGNING"]


@pytest.mark.django_db
def test_a_township_office_runs_its_township_and_the_district_part(cast: Cast) -> None:
    done = check_run_create(user=cast.township_office_a, mode="full")
    assert set(done.parts.values_list("township_id", flat=True)) == {cast.township_a.code, None}
    assert CheckRun.objects.visible_to(cast.township_office_a).filter(pk=done.pk).exists()
    assert not CheckRun.objects.visible_to(cast.township_office_b).filter(pk=done.pk).exists()


@pytest.mark.django_db
def test_the_office_s_run_is_a_job_whose_progress_the_parts_move(
    cast: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    sign_family(cast.area_a1, cast.enumerator_a1)
    with django_capture_on_commit_callbacks() as callbacks:
        started = check_run_start(user=cast.district_office, mode="full")
    assert started.job is not None and started.job.kind == "quality_check_run"
    assert len(callbacks) == 2  # the job, and the part tasks
    job_run(started.job.pk)  # the coordinator works the parts itself when no other worker does
    job = Job.objects.get(pk=started.job.pk)
    assert job.status == JobStatus.DONE and job.progress == job.total == 3
    assert CheckRun.objects.get(pk=started.pk).status == "done"
    assert job.result["run_id"] == started.pk


@pytest.mark.django_db
def test_the_nightly_task_starts_a_run_over_the_district(cast: Cast) -> None:
    assert nightly_run("incremental") == 1
    nightly = CheckRun.objects.get()
    assert nightly.started_by is None and nightly.township is None and nightly.parts_total == 3
    assert "quality-nightly-incremental" in settings.CELERY_BEAT_SCHEDULE
    assert "quality-escalate-overdue" in settings.CELERY_BEAT_SCHEDULE


@pytest.mark.django_db
def test_run_checks_from_the_shell(cast: Cast) -> None:
    household = sign_family(cast.area_a1, cast.enumerator_a1)
    tamper("UPDATE enumeration_household SET h7_rooms = 16, h6_floor_area = 400 WHERE id = %s", [household.pk])
    out = io.StringIO()
    call_command("run_checks", full=True, township=cast.township_a.code, workers=1, verbosity=2, stdout=out)
    assert "done in" in out.getvalue() and "ROOMS_HIGH" in out.getvalue()
    assert Finding.objects.filter(rule="ROOMS_HIGH").exists()


# --- a worker killed in the middle ----------------------------------------------------------------------------


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


def _worker(queue: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "census.test_settings",
        "CENSUS_DATABASE_NAME": connection.settings_dict["NAME"],
    }
    return subprocess.Popen(
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
            cursor.execute("SELECT pid FROM pg_stat_activity WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))")
            row = cursor.fetchone()
            if row:
                return int(row[0])
            time.sleep(0.2)
        cursor.execute(
            "SELECT pid, pg_blocking_pids(pid), state, wait_event_type, wait_event, left(query, 80) "
            "FROM pg_stat_activity WHERE datname = current_database()"
        )
        sessions = cursor.fetchall()
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
