"""Issue 18 item 8: the audit log's sealer keeps up with 100 entries/s with margin, on a 1,000,000-entry log.

The audit log is append-only, so this benchmark does not touch the bench database's log: it creates a
throwaway database of its own (the bench database's name + ``_audit_log``), migrates it, writes 1,000,000
entries with one INSERT … SELECT generate_series, and drops it at the end. Each step runs in a fresh process
whose peak resident memory (``ru_maxrss``) is reported:

1. the backlog: ``audit_chain_seal`` links the 1,000,000 entries (what the first run after deploying does);
2. ``audit_chain_verify`` walks the whole chain;
3. the minute's run: 6,000 new entries (a minute at 100 entries/s) sealed while the sealer still rereads the
   log from the start (the first AUDIT_CHAIN_TRUST_AFTER_SECONDS after a backlog, or while a long transaction
   holds the horizon back) — the worst case;
4. the same once the watermark has moved on (the run's horizon trusted at once here) — the steady state.
"""

from __future__ import annotations

import json
import shutil
import tempfile

from run import BenchContext, Benchmark, Measured

ENTRIES = 1_000_000
PER_MINUTE = 6_000  # a minute at 100 entries/s
MINUTE_RUN_SECONDS = 6.0  # a tenth of the minute

_INSERT = """
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute('''
        INSERT INTO census_auditevent (at, actor_id, actor_username, actor_role, district_id, action, object_type,
                                       object_id, detail, ip_address)
        SELECT now() - interval '1 hour' + g * interval '1 microsecond', 1000 + g %% 2000, 'enum_' || (g %% 2000),
               'enumerator', '511504', CASE WHEN g %% 10 = 0 THEN 'export' ELSE 'view_personal_data' END,
               'enumeration.household', (g %% 300000)::text,
               jsonb_build_object('fields', jsonb_build_array('d1_name', 'd3_id_number'), 'rows', g %% 50),
               ('10.' || (g %% 250) || '.' || (g %% 200) || '.1')::inet
        FROM generate_series(1, %s) AS g''', [COUNT])
"""

_SEAL = """
import json, resource, time
from census.audit_chain import audit_chain_seal
from census.models import AuditChainRun
started = time.perf_counter()
report = audit_chain_seal()
seconds = time.perf_counter() - started
run = AuditChainRun.objects.filter(kind="seal").latest("id")
print(json.dumps({"seconds": seconds, "linked": report.linked, "problems": len(report.problems),
                  "scanned_from": run.scanned_from,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

_VERIFY = """
import json, resource, time
from census.audit_chain import audit_chain_verify
started = time.perf_counter()
report = audit_chain_verify(record=False)
print(json.dumps({"seconds": time.perf_counter() - started, "links": report.links,
                  "problems": report.problem_count,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _admin(context: BenchContext, statement: str) -> None:
    context.python(
        "import psycopg2\n"
        "from django.conf import settings\n"
        "db = settings.DATABASES['default']\n"
        "conn = psycopg2.connect(dbname='postgres', user=db.get('USER') or 'postgres', password=db.get('PASSWORD') "
        "or None, host=db.get('HOST') or None, port=db.get('PORT') or None)\n"
        "conn.autocommit = True\n"
        f"conn.cursor().execute({statement!r} % db['NAME'])\n"
    )


def _json(context: BenchContext, code: str) -> dict[str, float]:
    return json.loads(context.python(code).stdout.strip().splitlines()[-1])


def audit_chain(context: BenchContext) -> Measured:
    anchors = tempfile.mkdtemp(prefix="audit-chain-bench-")
    name = context.env["CENSUS_DATABASE_NAME"] + "_audit_log"
    throwaway = BenchContext(
        persons=context.persons,
        reuse=False,
        env={**context.env, "CENSUS_DATABASE_NAME": name, "AUDIT_CHAIN_ANCHOR_DIR": anchors},
    )
    _admin(throwaway, 'DROP DATABASE IF EXISTS "%s" WITH (FORCE)')
    _admin(throwaway, 'CREATE DATABASE "%s"')
    try:
        throwaway.manage("migrate", "--verbosity", "0")
        throwaway.python(_INSERT.replace("COUNT", str(ENTRIES)))
        backlog = _json(throwaway, _SEAL)
        verify = _json(throwaway, _VERIFY)
        throwaway.python(_INSERT.replace("COUNT", str(PER_MINUTE)))
        worst = _json(throwaway, _SEAL)
        trusting = BenchContext(
            persons=context.persons, reuse=False, env={**throwaway.env, "AUDIT_CHAIN_TRUST_AFTER_SECONDS": "0"}
        )
        for _ in range(2):  # the first run's horizon becomes the second one's watermark
            trusting.python(_INSERT.replace("COUNT", str(PER_MINUTE)))
            steady = _json(trusting, _SEAL)
    finally:
        _admin(throwaway, 'DROP DATABASE IF EXISTS "%s" WITH (FORCE)')
        shutil.rmtree(anchors, ignore_errors=True)
    linked_ok = backlog["linked"] == ENTRIES and worst["linked"] == steady["linked"] == PER_MINUTE
    clean = not (backlog["problems"] or verify["problems"] or worst["problems"] or steady["problems"])
    ok = linked_ok and clean and worst["seconds"] <= MINUTE_RUN_SECONDS and steady["seconds"] <= MINUTE_RUN_SECONDS
    return Measured(
        f"minute's run {steady['seconds']:.2f} s (rereading the whole log: {worst['seconds']:.2f} s)",
        ok,
        f"backlog of {ENTRIES:,} sealed in {backlog['seconds']:.1f} s, {backlog['rss_mb']:.0f} MB "
        f"({ENTRIES / backlog['seconds']:,.0f} entries/s); verify {verify['seconds']:.1f} s, "
        f"{verify['rss_mb']:.0f} MB, {verify['links']:,} links; {PER_MINUTE:,} new entries read from id "
        f"{worst['scanned_from']:,} / {steady['scanned_from']:,}",
    )


BENCHMARKS = [
    Benchmark(
        name="audit_chain_seal",
        target=f"a minute at 100 entries/s sealed in ≤ {MINUTE_RUN_SECONDS:.0f} s on a {ENTRIES:,}-entry log",
        run=audit_chain,
        needs_seed=False,
    ),
]
