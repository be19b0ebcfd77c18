"""Issue "Security and reliability" §7: a headless locust run of 200 enumerators submitting households and 20
office users on dashboards against gunicorn on loopback — no errors, p50/p95 reported, ≥ 100 household
submissions per second sustained on this 2-core machine (ODK Central publishes ≈ 41/s on a 2 GB server)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench_00_seed import ensure_seeded
from run import ROOT, BenchContext, Benchmark, Measured
from server import free_port, start_gunicorn, wait_for_server

TARGET_PER_SECOND = 100.0
# Issue 26: on a 6,000,000-person district, within 10 % of the figure measured on 1,000,000 persons.
LARGE_SHARE = 0.9
ENUMERATORS = 200
OFFICES = 20
DURATION = os.environ.get("LOAD_DURATION", "60s")
# Three sync workers on two cores (2 × cores − 1): with five, the workers, PostgreSQL and locust fought over the
# cores and the same scenario sustained 59–62 submissions/s against 68–69 (alternating 60 s runs, LOAD_WORKERS).
WORKERS = int(os.environ.get("LOAD_WORKERS", "3"))

PREPARE = (
    "import json\nfrom bench.load_users import prepare_users\n"
    "print(json.dumps(prepare_users(enumerators=%(enumerators)d, offices=%(offices)d)))\n"
)


def run_load(context: BenchContext, *, enumerators: int, offices: int, duration: str, workers: int) -> dict[str, float]:
    users = json.loads(
        context.python(PREPARE % {"enumerators": enumerators, "offices": offices}).stdout.strip().splitlines()[-1]
    )
    work = Path(tempfile.mkdtemp(prefix="census-load-"))
    (work / "users.json").write_text(json.dumps(users))
    port = free_port()
    bindir = Path(sys.executable).parent
    server = start_gunicorn(port=port, workers=workers, env=context.env, cwd=ROOT)
    try:
        wait_for_server(server, port)
        env = {**context.env, "CENSUS_LOAD_USERS": str(work / "users.json")}
        subprocess.run(
            [
                str(bindir / "locust"),
                "-f",
                str(ROOT / "bench" / "locustfile.py"),
                "--headless",
                "-u",
                str(len(users["enumerators"]) + len(users["offices"])),
                "-r",
                "50",
                "-t",
                duration,
                "--host",
                f"http://127.0.0.1:{port}",
                "--csv",
                str(work / "stats"),
                "--only-summary",
                "--stop-timeout",
                "10",
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
    with (
        open(work / "stats_stats.csv", encoding="utf-8") as stats,
        open(work / "stats_stats_history.csv", encoding="utf-8") as hist,
    ):
        rows = {row["Name"]: row for row in csv.DictReader(stats)}
        history = list(csv.DictReader(hist))
    submit = rows["submit household"]
    total = rows["Aggregated"]
    seconds = (int(history[-1]["Timestamp"]) - int(history[0]["Timestamp"])) if len(history) > 1 else 1
    return {
        "submissions": float(submit["Request Count"]),
        "submissions_per_second": float(submit["Request Count"]) / max(1, seconds),
        "failures": float(total["Failure Count"]),
        "requests": float(total["Request Count"]),
        "p50": float(total["50%"]),
        "p95": float(total["95%"]),
        "submit_p50": float(submit["50%"]),
        "submit_p95": float(submit["95%"]),
        "seconds": float(seconds),
    }


def load(context: BenchContext) -> Measured:
    ensure_seeded(context)
    result = run_load(context, enumerators=ENUMERATORS, offices=OFFICES, duration=DURATION, workers=WORKERS)
    rate = result["submissions_per_second"]
    floor, against = TARGET_PER_SECOND, ""
    if context.large:
        reference = context.recorded("load_locust", 1_000_000)
        if reference is None or reference.get("figure") is None:
            return Measured(
                f"{rate:.1f} submissions/s",
                False,
                "no 1,000,000-person figure to compare with: run `python bench/run.py --reuse --only load_locust` on "
                "a 1,000,000-person district first",
                figure=rate,
            )
        floor = LARGE_SHARE * float(reference["figure"])  # type: ignore[arg-type]
        against = f"; {100 * rate / float(reference['figure']):.0f} % of {reference['measured']} at 1,000,000 ({reference['at']})"  # type: ignore[arg-type]
    return Measured(
        f"{rate:.1f} submissions/s",
        result["failures"] == 0 and rate >= floor,
        f"{result['failures']:.0f} failures of {result['requests']:.0f} requests in {result['seconds']:.0f} s; "
        f"all requests p50 {result['p50']:.0f} ms p95 {result['p95']:.0f} ms; submit p50 {result['submit_p50']:.0f} ms "
        f"p95 {result['submit_p95']:.0f} ms{against}",
        figure=rate,
    )


BENCHMARKS = [
    Benchmark(
        name="load_locust",
        target=f"200 enumerators + 20 offices: no errors, ≥ {TARGET_PER_SECOND:.0f} submissions/s",
        large_target=f"200 enumerators + 20 offices: no errors, ≥ {LARGE_SHARE:.0%} of the 1,000,000-person figure",
        run=load,
    ),
]
