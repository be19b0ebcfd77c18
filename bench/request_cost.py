"""CPU cost of one request of the load scenario, measured inside the Django process.

The load row (``bench_40_load``) says how many submissions the whole machine sustains; this says what each kind
of request costs and on which side: the Django process's CPU time (``time.process_time``) and the CPU time of
its PostgreSQL backend (read from ``/proc/<pid>/stat``, so the database must run on this machine). Requests go
through the real WSGI handler with the scenario's users and bodies, against the bench database.

    python bench/request_cost.py submit 400      # also: list, detail, office (OFFICE_PAGE=0|1|2)

Run it with the bench environment (``DATABASE_URL`` of the bench database, or ``CENSUS_DATABASE_NAME``), and
alternate two checkouts (``git worktree``) to compare code: the machine's own speed varies more than most
changes.
"""

from __future__ import annotations

import io
import json
import os
import random
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "census.settings")

import django

django.setup()

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.db import connection  # noqa: E402

from bench.load_users import prepare_users  # noqa: E402
from bench.payloads import four_person_household  # noqa: E402

APP = get_wsgi_application()


def call(method: str, path: str, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> str:
    """The response status of one request through the WSGI handler (as gunicorn would hand it over)."""
    data = json.dumps(body).encode() if body is not None else b""
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path.partition("?")[0],
        "QUERY_STRING": path.partition("?")[2],
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(data)),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(data),
        "wsgi.errors": sys.stderr,
    }
    for name, value in (headers or {}).items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    status: list[str] = []
    b"".join(APP(environ, lambda s, h, e=None: status.append(s)))  # type: ignore[arg-type]
    return status[0]


def backend_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    mode = sys.argv[1] if len(sys.argv) > 1 else "submit"
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    users = prepare_users(enumerators=50, offices=20)
    rng = random.Random(1)
    details: dict[int, int] = {}

    def one(i: int) -> None:
        me = users["enumerators"][i % len(users["enumerators"])]
        auth = {"Authorization": f"Token {me['token']}"}
        listing = f"/api/households/?small_area={me['small_area']}"
        if mode == "submit":
            body = {**four_person_household(me["small_area"], rng), "password": me["password"]}
            status = call("POST", "/api/households/submit/", body, {**auth, "Idempotency-Key": str(uuid.uuid4())})
            expected = "201"
        elif mode == "list":
            status, expected = call("GET", listing, None, auth), "200"
        elif mode == "detail":
            if me["small_area"] not in details:
                from enumeration.models import Household

                details[me["small_area"]] = Household.objects.filter(small_area_id=me["small_area"]).values_list(
                    "pk", flat=True
                )[0]
            status, expected = call("GET", f"/api/households/{details[me['small_area']]}/", None, auth), "200"
        elif mode == "office":
            desk = users["offices"][int(os.environ.get("OFFICE", "5")) % len(users["offices"])]
            page = desk["pages"][int(os.environ.get("OFFICE_PAGE", "0"))]
            status, expected = call("GET", page, None, {"Cookie": f"sessionid={desk['session']}"}), "200"
        else:
            raise SystemExit(f"unknown mode {mode!r}: submit, list, detail or office")
        if not status.startswith(expected):
            raise SystemExit(f"{mode}: {status}")

    for i in range(20):  # warm the process: imports, templates, the connection
        one(i)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    started, backend = time.process_time(), backend_cpu_seconds(pid)
    for i in range(count):
        one(i)
    django_ms = 1000 * (time.process_time() - started) / count
    postgres_ms = 1000 * (backend_cpu_seconds(pid) - backend) / count
    print(f"{mode}: Django {django_ms:.2f} ms + PostgreSQL {postgres_ms:.2f} ms of CPU per request ({count} requests)")


if __name__ == "__main__":
    main()
