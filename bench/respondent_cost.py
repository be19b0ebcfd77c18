"""CPU cost of the respondent's pages (self-enumeration), measured inside the Django process: what the load row
(``self_enumeration_load``) cannot tell apart on a shared machine, whose figure is mostly the queue.

Walks the respondent's pages as ``bench/locustfile_self.py`` does (home, household items, persons 1–3, read-back,
declaration, confirmation) through Django's test client — the whole middleware stack, the throttles in Redis,
without the CSRF check — for N invited households of the bench database, each from its own address. Prints per
page the Django process's CPU time (``time.process_time``), its PostgreSQL backend's CPU time (``/proc``: the
database must run on this machine) and the SQL statements.

    CENSUS_DATABASE_NAME=census_bench_selfload python bench/respondent_cost.py 100

Run it with the bench environment (as ``bench/request_cost.py``).
"""

from __future__ import annotations

import os
import random
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "census.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from bench.load_users import prepare_invitations  # noqa: E402
from bench.payloads import family, household_items  # noqa: E402
from bench.request_cost import backend_cpu_seconds  # noqa: E402

WARM_UP = 3


def main() -> None:
    walks = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    codes = prepare_invitations(households=walks + WARM_UP)
    rng = random.Random(1)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    cost: dict[str, list[tuple[float, float, int]]] = defaultdict(list)

    def page(client: Client, name: str, url: str, data: dict[str, Any] | None, expected: int, keep: bool) -> None:
        """GET ``url``, or POST ``data`` to it; the answer must be ``expected``."""
        with CaptureQueriesContext(connection) as queries:
            started, backend = time.process_time(), backend_cpu_seconds(pid)
            response = client.get(url) if data is None else client.post(url, data)
            spent = (time.process_time() - started, backend_cpu_seconds(pid) - backend)
        if response.status_code != expected:
            raise SystemExit(f"{name}: {response.status_code} {response.content[:300]!r}")
        if keep:
            cost[name].append((*spent, len(queries.captured_queries)))

    # One client: each new one builds the middleware again (WhiteNoise scans the static files), which a server
    # does once per process. Each walk has its own address and starts without cookies.
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    for number, code in enumerate(codes):
        keep = number >= WARM_UP  # the first walks load templates, translations and the connection
        client.defaults["REMOTE_ADDR"] = f"10.77.{number // 250}.{number % 250 + 1}"
        client.cookies.clear()
        base = f"/self/{code}/"
        page(client, "home", base, None, 200, keep)
        page(client, "household form", base + "household/", None, 200, keep)
        page(client, "save household", base + "household/", household_items(), 302, keep)
        for row, values in enumerate(family(rng), start=1):
            page(client, "person form", f"{base}persons/{row}/", None, 200, keep)
            page(client, "save person", f"{base}persons/{row}/", values, 302, keep)
        page(client, "home", base, None, 200, keep)
        page(client, "review", base + "review/", None, 200, keep)
        page(client, "declare", base + "review/", {"name": "李芳", "relationship": "1", "confirm": "on"}, 302, keep)
        page(client, "done", base + "done/", None, 200, keep)
    total_django = total_postgres = 0.0
    for name, rows in cost.items():
        django_ms = 1000 * sum(r[0] for r in rows) / len(rows)
        postgres_ms = 1000 * sum(r[1] for r in rows) / len(rows)
        total_django += 1000 * sum(r[0] for r in rows) / walks
        total_postgres += 1000 * sum(r[1] for r in rows) / walks
        statements = sorted({r[2] for r in rows})
        print(
            f"{name:15} Django {django_ms:6.2f} ms + PostgreSQL {postgres_ms:5.2f} ms of CPU; statements {statements}"
        )
    print(
        f"one walk ({sum(len(r) for r in cost.values()) // walks} requests): Django {total_django:.0f} ms + PostgreSQL {total_postgres:.0f} ms of CPU ({walks} walks)"
    )


if __name__ == "__main__":
    main()
