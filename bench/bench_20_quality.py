"""Issue "Nightly data-quality checks" (and the roster import of issue 5), on the seeded district:

* a full run of the whole catalogue ≤ 60 s, fanned out per township to a Celery worker with 2 processes, worker
  memory < 1 GB (peak resident memory of the worker's processes, sampled every 0.2 s);
* an incremental run after 20,000 changed households ≤ 10 s, same worker;
* for the identity (A) and household-structure (B) rules: the run's time per rule — in a full run each is one
  statement over every form of the district (a forms section), plus its share of that section's setup — against
  a hand-written query doing the same check over the whole district, each within 1.5×;
* importing a 1,000,000-row hukou roster (csv, the bulk path: COPY, set-based checks) ≤ 60 s; and the same
  file's first 100,000 rows through django-import-export's standard row-by-row import against the bulk path, as
  a ratio (slow: about one row per 10 ms).

    python bench/run.py --only quality --persons 1000000
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

from bench_00_seed import ensure_seeded
from run import ROOT, BenchContext, Benchmark, Measured

FULL_TARGET = 60.0
LARGE_FULL_TARGET = 360.0  # issue 26: the full run of 6,000,000 persons in six minutes
INCREMENTAL_TARGET = 10.0
MEMORY_TARGET_MB = 1024.0
RULE_RATIO = 1.5
ROSTER_TARGET = 60.0
ROSTER_ROWS = 1_000_000
ROWWISE_ROWS = 100_000
CHANGED = 20_000
QUEUE = "bench-quality"
DATA = ROOT / "bench" / "results" / "quality"

_state: dict[str, object] = {}


# --- the Celery worker -----------------------------------------------------------------------------------------


class Worker:
    """A Celery worker with 2 processes on a queue of its own, its memory sampled while it runs."""

    def __init__(self, context: BenchContext) -> None:
        self.context = context
        self.peak_mb = 0.0
        self.process: subprocess.Popen[bytes] | None = None
        self._stop = threading.Event()

    def __enter__(self) -> Worker:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "census",
                "worker",
                "--concurrency",
                "2",
                "-Q",
                QUEUE,
                "--without-gossip",
                "--without-mingle",
                "--loglevel",
                "WARNING",
            ],
            cwd=ROOT,
            env=self.context.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.context.python(
            "import time\nfrom census.celery import app\n"
            "for _ in range(240):\n    if app.control.ping(timeout=0.5): break\n    time.sleep(0.5)\n"
            "else:\n    raise SystemExit('the worker did not start')"
        )
        threading.Thread(target=self._sample, daemon=True).start()
        return self

    def _sample(self) -> None:
        import psutil

        assert self.process is not None
        root = psutil.Process(self.process.pid)
        while not self._stop.is_set():
            try:
                processes = [root, *root.children(recursive=True)]
                self.peak_mb = max(self.peak_mb, *(p.memory_info().rss / 2**20 for p in processes))
            except psutil.Error:
                pass
            time.sleep(0.2)

    def reset(self) -> None:
        self.peak_mb = 0.0

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()


def _roster_present(context: BenchContext) -> None:
    """A district seeded before the roster existed gets one (untimed)."""
    context.python(
        "from django.db import transaction\n"
        "from django.conf import settings\n"
        "from supervision.quality.models import HukouRosterEntry\n"
        "from supervision.quality.synthetic import generate_roster\n"
        "if not HukouRosterEntry.objects.exists():\n"
        "    with transaction.atomic():\n"
        "        generate_roster(district_code=settings.CENSUS_DISTRICT_CODE, seed=2020)\n",
        timeout=1800,
    )


def _run_checks(context: BenchContext, *args: str) -> tuple[float, dict[str, object]]:
    seconds, _process = context.manage("run_checks", *args, "--celery", "--queue", QUEUE, timeout=3600)
    stats = json.loads(
        context.python(
            "import json\nfrom supervision.quality.models import CheckRun\n"
            "run = CheckRun.objects.order_by('-pk').first()\n"
            "sections = {p.section: p.stats.get('checks', {}) for p in run.parts.filter(township__isnull=True)}\n"
            "print(json.dumps({**run.stats, 'run_seconds': (run.finished_at - run.created_at).total_seconds(), "
            "'sections': sections}))"
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    return seconds, stats


def _change_households(context: BenchContext, order: str) -> None:
    """Give ``CHANGED`` signed households a new ``updated_at`` (the run cannot tell it from an edit)."""
    context.python(
        "from django.db import connection\n"
        "with connection.cursor() as c:\n"
        f'    c.execute("UPDATE enumeration_household SET updated_at = now() WHERE id IN (SELECT id FROM '
        f"enumeration_household WHERE state IN ('signed','approved','accepted','locked') ORDER BY {order} "
        f'LIMIT {CHANGED})")\n'
    )


def full_run(context: BenchContext) -> Measured:
    ensure_seeded(context)
    _roster_present(context)
    # Nothing else writes to the bench database: each incremental run sees exactly the changes made for it (the
    # margin for transactions still in flight would make the second one re-check the first one's changes too).
    context.env["QUALITY_INCREMENTAL_MARGIN_SECONDS"] = "0"
    with Worker(context) as worker:
        seconds, stats = _run_checks(context, "--full")
        _state["full_memory"] = worker.peak_mb
        worker.reset()
        # 20,000 households changed in a few townships (the first by id: the seed writes township by township),
        # as late in the census when most townships are done; then 20,000 spread over every township, as on a
        # night in the middle of the registration window.
        _change_households(context, "id")
        incremental, inc_stats = _run_checks(context)
        _change_households(context, "md5(id::text)")
        spread, spread_stats = _run_checks(context)
        _state["incremental"] = (
            incremental,
            inc_stats.get("households"),
            spread,
            spread_stats.get("households"),
            worker.peak_mb,
            (inc_stats.get("run_seconds"), spread_stats.get("run_seconds")),
        )
    memory_mb = float(_state["full_memory"])  # type: ignore[arg-type]
    ok = seconds <= (LARGE_FULL_TARGET if context.large else FULL_TARGET) and memory_mb <= MEMORY_TARGET_MB
    return Measured(
        f"{seconds:.1f} s",
        ok,
        f"{stats.get('households')} households, {context.persons:,} persons; worker peak "
        f"{float(_state['full_memory']):.0f} MB per process (target < {MEMORY_TARGET_MB:.0f} MB)",  # type: ignore[arg-type]
    )


def incremental_run(context: BenchContext) -> Measured:
    if "incremental" not in _state:
        full_run(context)
    seconds, households, spread, spread_households, memory, runs = _state["incremental"]  # type: ignore[misc]
    return Measured(
        f"{seconds:.1f} s / {spread:.1f} s",
        max(seconds, spread) <= INCREMENTAL_TARGET and memory <= MEMORY_TARGET_MB,
        f"changes in a few townships / spread over all: {households} / {spread_households} households re-checked "
        f"after {CHANGED:,} changed, plus the cross-record rules of every township with a change; worker peak "
        f"{memory:.0f} MB; the runs themselves (created → finished, without the command's start-up): "
        f"{runs[0]:.1f} s / {runs[1]:.1f} s",
    )


# --- hand-written queries for the identity and structure rules ---------------------------------------------------

_SIGNED = (
    "FROM enumeration_person p JOIN enumeration_household h ON h.id = p.household_id "
    "WHERE h.state IN ('signed','approved','accepted','locked') AND h.household_no <> 999"
)
_CHECK = (
    "substr('10X98765432', mod("
    + " + ".join(
        f"substr(p.d3_id_number,{i + 1},1)::int*{w}"
        for i, w in enumerate((7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2))
    )
    + ", 11) + 1, 1)"
)
_DATE = "to_date(substr(p.d3_id_number, 7, 8), 'YYYYMMDD')"
_HOUSEHOLDS = (
    "FROM enumeration_household h LEFT JOIN enumeration_person p ON p.household_id = h.id "
    "WHERE h.state IN ('signed','approved','accepted','locked') AND h.household_no <> 999"
)
HAND_WRITTEN = {
    "ID_FORMAT": f"SELECT count(*) {_SIGNED} AND p.d3_id_number <> '' AND p.d3_id_number !~ '^[0-9]{{17}}[0-9X]$'",
    "ID_CHECKSUM": f"SELECT count(*) {_SIGNED} AND p.d3_id_number <> '' AND substr(p.d3_id_number, 18, 1) <> {_CHECK}",
    "ID_BIRTH_DATE_INVALID": f"SELECT count(*) {_SIGNED} AND p.d3_id_number <> '' AND (substr(p.d3_id_number, 11, 2) "
    "NOT BETWEEN '01' AND '12' OR substr(p.d3_id_number, 13, 2) NOT BETWEEN '01' AND '31' "
    "OR substr(p.d3_id_number, 7, 6) >= '202011')",
    "ID_BIRTH_MISMATCH": f"SELECT count(*) {_SIGNED} AND p.d3_id_number <> '' AND substr(p.d3_id_number, 7, 6) <> "
    "p.d5_birth_year || lpad(p.d5_birth_month::text, 2, '0')",
    "ID_SEX_MISMATCH": f"SELECT count(*) {_SIGNED} AND p.d3_id_number <> '' AND "
    "(2 - mod(substr(p.d3_id_number, 17, 1)::int, 2)) <> p.d4_sex",
    "ID_ADDRESS_UNKNOWN": f"SELECT count(*) {_SIGNED} AND p.d3_id_number <> '' AND left(p.d3_id_number, 6) NOT IN "
    "(SELECT DISTINCT left(d3_id_number, 6) FROM enumeration_person WHERE d3_id_number <> '' LIMIT 100)",
    "ID_DUPLICATE_IN_HOUSEHOLD": f"SELECT count(*) FROM (SELECT p.household_id, p.d3_id_number {_SIGNED} "
    "AND p.d3_id_number <> '' GROUP BY 1, 2 HAVING count(*) > 1) d",
    "ID_MISSING": f"SELECT count(*) {_SIGNED} AND p.d3_id_number = '' AND h.form_kind <> 'foreign' "
    "AND p.d8_hukou_place IS DISTINCT FROM 5 AND 2020 - p.d5_birth_year - (p.d5_birth_month >= 11)::int >= 1",
    "BIRTH_AFTER_REFERENCE": f"SELECT count(*) {_SIGNED} AND p.d5_birth_year * 100 + p.d5_birth_month >= 202011",
    # The first row is the lowest row number, not row 1: nothing makes a form's rows start at 1.
    "HEAD_NOT_FIRST": f"SELECT count(*) FROM (SELECT DISTINCT ON (p.household_id) p.d2_relationship {_SIGNED} "
    "AND h.h1_kind = 1 ORDER BY p.household_id, p.row_no) f WHERE f.d2_relationship <> 0",
    "HEAD_NOT_UNIQUE": f"SELECT count(*) FROM (SELECT h.id {_HOUSEHOLDS} AND h.h1_kind = 1 GROUP BY h.id "
    "HAVING count(*) FILTER (WHERE p.d2_relationship = 0) <> 1) d",
    "PERSON_COUNT_MISMATCH": f"SELECT count(*) FROM (SELECT h.id {_HOUSEHOLDS} AND h.form_kind = 'census' "
    "GROUP BY h.id HAVING max(h.h2_present + h.h2_away) <> count(p.id)) d",
    "PRESENT_COUNT_MISMATCH": f"SELECT count(*) FROM (SELECT h.id {_HOUSEHOLDS} AND h.form_kind = 'census' GROUP BY h.id "
    "HAVING max(h.h2_present) <> count(p.id) FILTER (WHERE p.d7_residence = 1)) d",
    "BIRTHS_MISMATCH": f"SELECT count(*) FROM (SELECT h.id {_HOUSEHOLDS} AND h.form_kind = 'census' GROUP BY h.id "
    "HAVING max(h.h3_births_male) <> count(p.id) FILTER (WHERE p.d4_sex = 1 AND 2020 - p.d5_birth_year - "
    "(p.d5_birth_month >= 11)::int = 0)) d",
    "DEATHS_MISMATCH": "SELECT count(*) FROM enumeration_household h WHERE h.state IN ('signed','approved',"
    "'accepted','locked') AND h.h4_deaths_male <> (SELECT count(*) FROM enumeration_deathrecord d "
    "WHERE d.household_id = h.id AND d.sex = 1)",
    # As ``_deaths`` reads the register: complete rows before the first row with a blank item, in the households
    # whose deaths are asked (not a foreign form's).
    "DEATH_BEFORE_BIRTH": "SELECT count(*) FROM enumeration_deathrecord d JOIN enumeration_household h ON "
    "h.id = d.household_id WHERE h.state IN ('signed','approved','accepted','locked') AND "
    "(h.form_kind <> 'foreign' OR h.household_no = 999) AND d.name <> '' AND d.sex IS NOT NULL AND "
    "d.birth_year IS NOT NULL AND d.birth_month IS NOT NULL AND d.death_year IS NOT NULL AND "
    "d.death_month IS NOT NULL AND (d.death_year, d.death_month) < (d.birth_year, d.birth_month) AND NOT EXISTS "
    "(SELECT 1 FROM enumeration_deathrecord b WHERE b.household_id = d.household_id AND b.row_no < d.row_no AND "
    "(b.name = '' OR b.sex IS NULL OR b.birth_year IS NULL OR b.birth_month IS NULL OR b.death_year IS NULL "
    "OR b.death_month IS NULL))",
    # 户编号 999: deaths only — no person, no household item filled, at least one death.
    "ALL_DEAD_HOUSEHOLD": "SELECT count(*) FROM enumeration_household h WHERE h.household_no = 999 AND "
    "h.state IN ('signed','approved','accepted','locked') AND (h.h1_kind <> 0 OR h.h2_present <> 0 OR "
    "h.h2_away <> 0 OR h.h3_births_male <> 0 OR h.h3_births_female <> 0 OR h.h5_residence_type <> 0 OR "
    "h.h6_floor_area <> 0 OR h.h7_rooms <> 0 OR coalesce(h.h4_deaths_male, 0) + coalesce(h.h4_deaths_female, 0) < 1 "
    "OR EXISTS (SELECT 1 FROM enumeration_person p WHERE p.household_id = h.id))",
    "HOUSING_NOT_ASKED": "SELECT count(*) FROM enumeration_household h WHERE h.state IN ('signed','approved',"
    "'accepted','locked') AND h.h5_residence_type <> 1 AND (h.h6_floor_area IS NOT NULL OR h.h7_rooms IS NOT NULL)",
    # An ordinary dwelling's H6 > 0 and H7 ≥ 1, in a regular household (户编号 999 has no housing items).
    "HOUSING_MISSING": "SELECT count(*) FROM enumeration_household h WHERE h.state IN ('signed','approved',"
    "'accepted','locked') AND h.household_no <> 999 AND h.h5_residence_type = 1 AND (h.h6_floor_area IS NULL "
    "OR h.h7_rooms IS NULL OR h.h6_floor_area <= 0 OR h.h7_rooms < 1)",
    "FLOOR_AREA_PER_PERSON_HIGH": "SELECT count(*) FROM enumeration_household h WHERE h.state IN ('signed',"
    "'approved','accepted','locked') AND h.h5_residence_type = 1 AND h.h6_floor_area > 200 * greatest(1, h.h2_present)",
    "FLOOR_AREA_LOW": "SELECT count(*) FROM enumeration_household h WHERE h.state IN ('signed','approved',"
    "'accepted','locked') AND h.h5_residence_type = 1 AND h.h6_floor_area < 5",
    "ROOMS_HIGH": "SELECT count(*) FROM enumeration_household h WHERE h.state IN ('signed','approved','accepted',"
    "'locked') AND h.h5_residence_type = 1 AND h.h7_rooms > 15",
}


_TIME_QUERIES = r"""
import json, time
from django.db import connection
queries = json.loads(%r)
out = {}
with connection.cursor() as cursor:
    # The settings a part runs with (runner.tune_session): the same room for hashes and sorts, no JIT.
    cursor.execute("SET max_parallel_workers_per_gather = 0")
    cursor.execute("SET jit = off")
    cursor.execute("SET work_mem = %%s", [WORK_MEM])
    for name, sql in queries.items():
        started = time.perf_counter()
        cursor.execute(sql)
        cursor.fetchall()
        out[name] = time.perf_counter() - started
print(json.dumps(out))
"""


def rules_against_hand_written(context: BenchContext) -> Measured:
    """Each rule's time in a full run against a hand-written query's, measured alike: three rounds, each a full
    run (the worker of the full-run row) and then the hand-written queries alone; for each rule the best of its
    three times and the best of the query's three — the rounds interleaved, so that both sides meet the machine
    in the same moods (its times vary by a third from one minute to the next). In a full run each A/B rule is one statement over the district (a forms section); its time is that
    statement's plus a share of its section's setup (the views, and the tables a section builds once for its
    checks) in proportion to the time of its statement (the setup — the section's fixed cost, spent once — is
    charged to the section's checks as their own work is: every second of it is charged, most of it to the rules
    that take longest)."""
    ensure_seeded(context)
    _roster_present(context)
    ours: dict[str, float] = {}
    hand: dict[str, float] = {}
    setup_total = 0.0
    with Worker(context):
        for _ in range(3):
            _seconds, stats = _run_checks(context, "--full")
            sections: dict[str, dict[str, float]] = stats["sections"]  # type: ignore[assignment]
            setup_total = 0.0
            for timings in sections.values():
                rules = {name: float(seconds) for name, seconds in timings.items() if name.isupper()}
                setup = float(timings.get("setup", 0.0))
                setup_total += setup if rules else 0.0
                for name, spent in rules.items():
                    spent += setup * spent / max(sum(rules.values()), 1e-9)
                    ours[name] = min(ours.get(name, spent), spent)
            times = json.loads(
                context.python(
                    "from supervision.quality.checks.runner import WORK_MEM\n"
                    + _TIME_QUERIES % json.dumps(HAND_WRITTEN)
                )
                .stdout.strip()
                .splitlines()[-1]
            )
            for name, spent in times.items():
                hand[name] = min(hand.get(name, spent), spent)
    lines, worst = [], 0.0
    for name in HAND_WRITTEN:
        ratio = ours[name] / hand[name] if hand[name] else 0.0
        worst = max(worst, ratio)
        lines.append(f"{name} run {ours[name]:.3f} s / hand-written {hand[name]:.3f} s = {ratio:.2f}")
    DATA.mkdir(parents=True, exist_ok=True)
    (DATA / "rules_vs_hand_written.txt").write_text("\n".join(lines) + "\n")
    print("\n".join("    " + line for line in lines), flush=True)
    return Measured(
        f"worst {worst:.2f}×",
        worst <= RULE_RATIO,
        f"{len(HAND_WRITTEN)} A/B rules; each: its one statement over the district + its share of its forms "
        f"section's setup (all sections' setup {setup_total:.3f} s), best of three full runs, against the "
        "hand-written query alone, best of three, interleaved — details in "
        "bench/results/quality/rules_vs_hand_written.txt",
    )


# --- the roster import -------------------------------------------------------------------------------------------

_WRITE_ROSTER_FILE = (
    "from django.conf import settings\n"
    "from supervision.quality.synthetic import write_roster_csv\n"
    "write_roster_csv(path=%(path)r, rows=%(rows)d, district_code=settings.CENSUS_DISTRICT_CODE)\n"
)

_IMPORT = r"""
import json, time
from django.conf import settings
from supervision.quality.resources import roster_import_bulk, roster_import_rowwise
mode, path = %(mode)r, %(path)r
started = time.perf_counter()
if mode == "bulk":
    result = roster_import_bulk(path=path, district_code=settings.CENSUS_DISTRICT_CODE)
    rows = result.rows
else:
    from supervision.quality.models import HukouRosterEntry
    HukouRosterEntry.objects.all().delete()
    result = roster_import_rowwise(path=path)
    assert not result.has_errors() and not result.has_validation_errors(), "row-by-row import failed"
    rows = sum(result.totals.values())
print(json.dumps({"seconds": time.perf_counter() - started, "rows": rows}))
"""


def _import(context: BenchContext, mode: str, path: Path) -> dict[str, float]:
    out = context.python(_IMPORT % {"mode": mode, "path": str(path)}, timeout=7200).stdout.strip().splitlines()[-1]
    return json.loads(out)  # type: ignore[no-any-return]


def _roster_files(context: BenchContext) -> tuple[Path, Path]:
    ensure_seeded(context)
    _roster_present(context)
    DATA.mkdir(parents=True, exist_ok=True)
    full, head = DATA / f"roster-{ROSTER_ROWS}.csv", DATA / f"roster-{ROWWISE_ROWS}.csv"
    if not full.exists():
        context.python(_WRITE_ROSTER_FILE % {"rows": ROSTER_ROWS, "path": str(full)}, timeout=1800)
    if not head.exists():
        with full.open(encoding="utf-8") as source, head.open("w", encoding="utf-8") as target:
            for index, line in enumerate(source):
                if index > ROWWISE_ROWS:
                    break
                target.write(line)
    return full, head


def roster_import(context: BenchContext) -> Measured:
    full, _head = _roster_files(context)
    result = _import(context, "bulk", full)
    _state["bulk_rows_per_s"] = result["rows"] / result["seconds"]
    return Measured(
        f"{result['seconds']:.1f} s",
        result["seconds"] <= ROSTER_TARGET and result["rows"] >= ROSTER_ROWS,
        f"{int(result['rows']):,} rows, csv, COPY + set-based checks + replace ({_state['bulk_rows_per_s']:,.0f} rows/s)",
    )


def roster_rowwise_ratio(context: BenchContext) -> Measured:
    full, head = _roster_files(context)
    bulk = _import(context, "bulk", head)
    rowwise = _import(context, "rowwise", head)
    # Leave the whole roster in place for whoever comes next.
    _import(context, "bulk", full)
    ratio = rowwise["seconds"] / bulk["seconds"]
    return Measured(
        f"{ratio:.0f}× faster",
        ratio > 1,
        f"{int(rowwise['rows']):,} rows: django-import-export row by row {rowwise['seconds']:.1f} s, "
        f"bulk path {bulk['seconds']:.2f} s",
    )


BENCHMARKS = [
    Benchmark(
        name="quality_full_run",
        target=f"1,000,000 persons ≤ {FULL_TARGET:.0f} s, worker < 1 GB",
        large_target=f"6,000,000 persons ≤ {LARGE_FULL_TARGET:.0f} s, worker < 1 GB",
        run=full_run,
    ),
    Benchmark(
        name="quality_incremental_run",
        target=f"{CHANGED:,} changed households ≤ {INCREMENTAL_TARGET:.0f} s",
        run=incremental_run,
    ),
    Benchmark(
        name="quality_rules_vs_hand_written_sql",
        target=f"A/B rules each ≤ {RULE_RATIO}× a hand-written query",
        run=rules_against_hand_written,
    ),
    Benchmark(name="quality_roster_import", target=f"{ROSTER_ROWS:,} rows ≤ {ROSTER_TARGET:.0f} s", run=roster_import),
    Benchmark(
        name="quality_roster_rowwise_ratio",
        target=f"django-import-export row by row, {ROWWISE_ROWS:,} rows: ratio printed",
        run=roster_rowwise_ratio,
    ),
]
