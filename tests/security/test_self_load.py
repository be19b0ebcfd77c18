"""The short version of the self-enumeration load row (issue 24; the full one is ``self_enumeration_load`` of
``make bench``): the same locust scenario — respondents walking the public pages, each with its own client address
behind a trusted proxy, while enumerators submit — with short think times, against gunicorn on loopback serving
the test database. No request may fail, the throttles stay on, and every acknowledged declaration is in the
database."""

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

from bench.load_users import prepare_invitations, prepare_users
from bench.server import free_port, wait_for_server
from enumeration.self_enumeration.models import Declaration

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
RESPONDENTS = 6
ENUMERATORS = 4


def test_respondents_walk_to_their_declaration_with_their_own_addresses_while_enumerators_submit(
    tmp_path: Path,
) -> None:
    call_command("seed_district", persons=4000, seed=17, stdout=io.StringIO())
    users = prepare_users(enumerators=ENUMERATORS, offices=0)
    users["codes"] = prepare_invitations(households=RESPONDENTS)
    assert len(users["codes"]) == RESPONDENTS
    (tmp_path / "users.json").write_text(json.dumps(users))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "census.test_settings",
        "CENSUS_DATABASE_NAME": connection.settings_dict["NAME"],
        "PYTHONPATH": str(ROOT),
        "CENSUS_LOAD_USERS": str(tmp_path / "users.json"),
        "CENSUS_SELF_LOAD_RESPONDENTS": str(RESPONDENTS),
        "CENSUS_SELF_LOAD_THINK": "0.05,0.1",
        # The throttles as production has them, but so low that one shared address would be refused: 6 walks
        # of 17 requests from 127.0.0.1 are 102 requests; each walk's own address makes 17.
        "SELF_ENUMERATION_REQUESTS_PER_ADDRESS": "40/m",
        "FORWARDED_ALLOW_IPS": "127.0.0.1",
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
                str(ROOT / "bench" / "locustfile_self.py"),
                "--headless",
                "-u",
                str(RESPONDENTS + ENUMERATORS),
                "-r",
                "10",
                "-t",
                "25s",
                "--host",
                f"http://127.0.0.1:{port}",
                "--csv",
                str(tmp_path / "stats"),
                "--only-summary",
                "--stop-timeout",
                "10",
                "Respondent",
                "Enumerator",
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
    failures = (tmp_path / "stats_failures.csv").read_text(encoding="utf-8")
    assert int(rows["Aggregated"]["Failure Count"]) == 0, failures + locust.stderr[-2000:]
    # Every code was walked to its declaration (each respondent stops once the codes are used up), and the
    # enumerators kept submitting meanwhile.
    assert int(rows["self: declare"]["Request Count"]) == RESPONDENTS, locust.stderr[-2000:]
    assert Declaration.objects.count() == RESPONDENTS
    assert int(rows["self: done"]["Request Count"]) == RESPONDENTS
    assert int(rows["submit household"]["Request Count"]) > 0
