"""The short version of the load benchmark (issue "Security and reliability" §7, the full one is a row of
``make bench``): the same locust scenario — enumerators submitting households and reading their lists, office
users on dashboards — headless and bounded in time, against gunicorn on loopback serving the test database.
No request may fail, and every acknowledged submission must be in the database, signed."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection

from bench.load_users import prepare_users
from bench.server import free_port, wait_for_server
from enumeration.models import Household, HouseholdState

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ENUMERATORS = 12
OFFICES = 4
DURATION = "15s"


def test_a_short_load_run_serves_every_request_and_keeps_every_submission(tmp_path: Path) -> None:
    call_command("seed_district", persons=4000, seed=17, stdout=io.StringIO())
    signed_before = Household.objects.filter(state=HouseholdState.SIGNED).count()
    users = prepare_users(enumerators=ENUMERATORS, offices=OFFICES)
    assert len(users["enumerators"]) == ENUMERATORS and users["offices"]
    (tmp_path / "users.json").write_text(json.dumps(users))

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "census.test_settings",
        "CENSUS_DATABASE_NAME": connection.settings_dict["NAME"],
        "PYTHONPATH": str(ROOT),
        "CENSUS_LOAD_USERS": str(tmp_path / "users.json"),
    }
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "census.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "gunicorn.log").open("wb"),
    )
    try:
        wait_for_server(server, port)
        locust = subprocess.run(
            [
                str(BIN / "locust"),
                "-f",
                str(ROOT / "bench" / "locustfile.py"),
                "--headless",
                "-u",
                str(ENUMERATORS + len(users["offices"])),
                "-r",
                "24",
                "-t",
                DURATION,
                "--host",
                f"http://127.0.0.1:{port}",
                "--csv",
                str(tmp_path / "stats"),
                "--only-summary",
                "--stop-timeout",
                "10",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    with open(tmp_path / "stats_stats.csv", encoding="utf-8") as handle:
        rows = {row["Name"]: row for row in csv.DictReader(handle)}
    total, submit = rows["Aggregated"], rows["submit household"]
    print(
        f"\n[load] {total['Request Count']} requests, {total['Failure Count']} failures; all p50 {total['50%']} ms "
        f"p95 {total['95%']} ms; {submit['Request Count']} submissions, p50 {submit['50%']} ms p95 {submit['95%']} ms"
    )
    failures = (tmp_path / "stats_failures.csv").read_text(encoding="utf-8")
    assert int(total["Failure Count"]) == 0, failures + locust.stderr[-2000:]
    submitted = int(submit["Request Count"])
    assert submitted > 0, locust.stderr[-2000:]
    assert int(rows["office page"]["Request Count"]) > 0
    # Every 201 the enumerators got is a signed household in the database. A request cut off when the run stopped
    # may have committed without its answer being counted: at most one per enumerator.
    stored = Household.objects.filter(state=HouseholdState.SIGNED).count() - signed_before
    assert submitted <= stored <= submitted + ENUMERATORS
