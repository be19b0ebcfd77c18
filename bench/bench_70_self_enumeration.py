"""Issue 24 (self-enumeration), its load row: 500 respondents filling in their households' forms at once on the
public pages while 200 enumerators keep submitting households (``load_locust``'s user, at a field pace: a request
every 5–15 s, ``SELF_LOAD_ENUMERATOR_WAIT``),
against gunicorn on loopback — no errors, p95 of every respondent page ≤ 500 ms; the row reports the respondents'
declarations per second and the enumerators' submissions per second.

The codes are issued beforehand (untimed) through ``invitation_issue``. The respondents' walk and think time are
described in ``bench/locustfile_self.py``. The throttles of the respondent pages stay as configured: each walk has
its own client address in ``X-Real-IP`` (and ``X-Forwarded-For``), and the server trusts loopback as its reverse
proxy (``FORWARDED_ALLOW_IPS=127.0.0.1``), as it trusts nginx in production (``census/proxy.py``).

Environment: ``SELF_LOAD_RESPONDENTS`` (500), ``SELF_LOAD_ENUMERATORS`` (200), ``SELF_LOAD_DURATION`` (600s),
``SELF_LOAD_THINK`` (seconds before each page, "15,45"), ``LOAD_WORKERS`` (3 gunicorn sync workers, as load_locust).
"""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench_00_seed import ensure_seeded
from run import ROOT, BenchContext, Benchmark, Measured
from server import free_port, start_gunicorn, wait_for_server

TARGET_P95_MS = 500.0
RESPONDENTS = int(os.environ.get("SELF_LOAD_RESPONDENTS", "500"))
ENUMERATORS = int(os.environ.get("SELF_LOAD_ENUMERATORS", "200"))
# A person answering a page of the form on a phone (a person's twelve items: name, ID number typed in, pickers)
# takes half a minute or more; at 5–15 s a page the same 500 respondents sent three times the pages and the
# two cores were saturated (p95 5.4 s at load average 3–5, see the README's row). Ten minutes let most walks
# (eleven pages) end in a declaration.
DURATION = os.environ.get("SELF_LOAD_DURATION", "600s")
THINK = os.environ.get("SELF_LOAD_THINK", "15,45")
ENUMERATOR_WAIT = os.environ.get("SELF_LOAD_ENUMERATOR_WAIT", "5,15")
WORKERS = int(os.environ.get("LOAD_WORKERS", "3"))
PAGES_PER_WALK = 11  # think times in one respondent's walk (bench/locustfile_self.py), the break counted as two

PREPARE = (
    "import json\nfrom bench.load_users import prepare_invitations, prepare_users\n"
    "users = prepare_users(enumerators=%(enumerators)d, offices=0)\n"
    "users['codes'] = prepare_invitations(households=%(codes)d)\n"
    "print(json.dumps(users))\n"
)
DECLARED_SINCE = (
    "import datetime\nfrom enumeration.self_enumeration.models import Declaration\n"
    "since = datetime.datetime.fromtimestamp(%(since)f, tz=datetime.UTC)\n"
    "print(Declaration.objects.filter(declared_at__gte=since).count())\n"
)


def seconds_of(duration: str) -> int:
    """locust's -t: 300, 300s, 5m, 1h."""
    units = {"s": 1, "m": 60, "h": 3600}
    if duration[-1] in units:
        return int(float(duration[:-1]) * units[duration[-1]])
    return int(duration)


def codes_needed(respondents: int, duration: int, think: tuple[float, float]) -> int:
    """Enough codes that every respondent keeps walking for the whole run: the walks of average think time that fit
    in it, one more for the walk under way at the end, one more for the spread of think times."""
    walk = PAGES_PER_WALK * (think[0] + think[1]) / 2
    return respondents * (2 + math.ceil(duration / walk))


def warm_up(port: int, code: str, workers: int) -> None:
    """Each respondent page a few times per worker before the run, with a code kept out of it: a server in service
    has loaded its templates, translations and database connections long before the households come."""
    for _round in range(2 * workers):
        for page in ("", "household/", "persons/1/", "review/"):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/self/{code}/{page}", timeout=60) as response:
                response.read()


def run_self_load(
    context: BenchContext, *, respondents: int, enumerators: int, duration: str, think: str, workers: int
) -> dict[str, Any]:
    low, high = (float(s) for s in think.split(","))
    codes = codes_needed(respondents, seconds_of(duration), (low, high)) + 1  # one to warm up with
    prepared = context.python(PREPARE % {"enumerators": enumerators, "codes": codes}).stdout.strip()
    users = json.loads(prepared.splitlines()[-1])
    spare = users["codes"].pop()
    work = Path(tempfile.mkdtemp(prefix="census-self-load-"))
    (work / "users.json").write_text(json.dumps(users))
    port = free_port()
    bindir = Path(sys.executable).parent
    server_env = {**context.env, "FORWARDED_ALLOW_IPS": "127.0.0.1"}  # loopback is the proxy, as nginx would be
    server = start_gunicorn(port=port, workers=workers, env=server_env, cwd=ROOT)
    started = time.time()
    try:
        wait_for_server(server, port)
        warm_up(port, spare, workers)
        env = {
            **context.env,
            "CENSUS_LOAD_USERS": str(work / "users.json"),
            "CENSUS_SELF_LOAD_RESPONDENTS": str(respondents),
            "CENSUS_SELF_LOAD_THINK": think,
            "CENSUS_SELF_LOAD_ENUMERATOR_WAIT": ENUMERATOR_WAIT,
        }
        locust = subprocess.run(
            [
                str(bindir / "locust"),
                "-f",
                str(ROOT / "bench" / "locustfile_self.py"),
                "--headless",
                "-u",
                str(respondents + len(users["enumerators"])),
                "-r",
                "50",
                "-t",
                duration,
                "--host",
                f"http://127.0.0.1:{port}",
                "--csv",
                str(work / "stats"),
                "--csv-full-history",
                "--only-summary",
                "--stop-timeout",
                "10",
                "Respondent",
                "FieldEnumerator",
            ],
            cwd=ROOT,
            env=env,
            check=False,
            capture_output=True,
            text=True,
            timeout=3600,
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    (work / "locust.log").write_text(locust.stdout + locust.stderr)
    with open(work / "stats_stats.csv", encoding="utf-8") as handle:
        rows = {row["Name"]: row for row in csv.DictReader(handle)}
    with open(work / "stats_stats_history.csv", encoding="utf-8") as handle:
        history = list(csv.DictReader(handle))
    declared_in_db = int(context.python(DECLARED_SINCE % {"since": started}).stdout.strip().splitlines()[-1])
    return summarise(rows, history, codes=len(users["codes"]), declared_in_db=declared_in_db, work=work)


def summarise(
    rows: dict[str, dict[str, str]], history: list[dict[str, str]], *, codes: int, declared_in_db: int, work: Path
) -> dict[str, Any]:
    aggregated = [h for h in history if h["Name"] == "Aggregated"]
    seconds = max(1, int(aggregated[-1]["Timestamp"]) - int(aggregated[0]["Timestamp"])) if aggregated else 1
    declare = rows.get("self: declare")
    declarations = int(declare["Request Count"]) - int(declare["Failure Count"]) if declare else 0
    pages = {
        name: {"n": int(row["Request Count"]), "p50": float(row["50%"]), "p95": float(row["95%"])}
        for name, row in rows.items()
        if name.startswith("self: ")
    }
    submit = rows.get("submit household")
    return {
        "seconds": seconds,
        "requests": int(rows["Aggregated"]["Request Count"]),
        "failures": int(rows["Aggregated"]["Failure Count"]),
        "pages": pages,
        "declarations": declarations,
        "declared_in_db": declared_in_db,
        # Over the whole run, its first walks included: with walks of two minutes or so, the first declarations
        # come only after that.
        "declarations_per_second": declarations / seconds,
        "submissions_per_second": (int(submit["Request Count"]) / seconds) if submit else 0.0,
        "submit_p95": float(submit["95%"]) if submit else 0.0,
        "codes": codes,
        "work": str(work),
    }


def self_enumeration_load(context: BenchContext) -> Measured:
    ensure_seeded(context)
    load_before = os.getloadavg()[0]
    result = run_self_load(
        context,
        respondents=RESPONDENTS,
        enumerators=ENUMERATORS,
        duration=DURATION,
        think=THINK,
        workers=WORKERS,
    )
    pages = result["pages"]
    worst = max((p["p95"] for p in pages.values()), default=float("inf"))
    ok = result["failures"] == 0 and bool(pages) and worst <= TARGET_P95_MS and result["declarations"] > 0
    per_page = "; ".join(
        f"{name.removeprefix('self: ')} p50 {p['p50']:.0f} / p95 {p['p95']:.0f} ms (n {p['n']})"
        for name, p in sorted(pages.items())
    )
    return Measured(
        f"worst page p95 {worst:.0f} ms; {result['declarations_per_second']:.2f} declarations/s",
        ok,
        f"{result['failures']} failures of {result['requests']} requests in {result['seconds']} s "
        f"(load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after); "
        f"{RESPONDENTS} respondents (think {THINK} s before each page, own X-Real-IP each, throttles on) and "
        f"{ENUMERATORS} enumerators (a request every {ENUMERATOR_WAIT} s); {result['declarations']} declarations ({result['declared_in_db']} in the "
        f"database, {result['codes']} codes issued); enumerators {result['submissions_per_second']:.1f} "
        f"submissions/s (p95 {result['submit_p95']:.0f} ms); per page: {per_page}; locust files in {result['work']}",
    )


BENCHMARKS = [
    Benchmark(
        name="self_enumeration_load",
        target=(
            f"{RESPONDENTS} respondents + {ENUMERATORS} enumerators submitting: no errors, "
            f"p95 per respondent page ≤ {TARGET_P95_MS:.0f} ms; declarations/s"
        ),
        run=self_enumeration_load,
    ),
]
