"""Issue 26, part 3: the replicated topology on this machine's own engines — a primary PostgreSQL, a streaming
replica (``pg_basebackup -R``), PgBouncer in transaction mode in front of the primary, two Celery workers — and the
scenario ``tests/census/replica_scenario.py`` run against it in a pytest process of its own, configured through the
environment as a deployment is (``DATABASE_URL`` → PgBouncer, ``DATABASE_REPLICA_URL`` → the replica)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from census import topology

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = "tests/census/replica_scenario.py"


@pytest.mark.celery_worker
@pytest.mark.slow
def test_the_replicated_topology_runs_the_dashboards_and_the_nightly_checks() -> None:
    cluster = topology.start()
    try:
        env = {
            **os.environ,
            "DATABASE_URL": cluster.bouncer_url,
            "CENSUS_PGBOUNCER": "True",
            "DATABASE_REPLICA_URL": cluster.replica_url,
            "DATABASE_REPLICA_LAG_CACHE_SECONDS": "0",
            # Short, so that an incremental run follows the full one at once; the replica's limit is kept well
            # inside it (supervision/quality/services.py, _watermark_reads).
            "QUALITY_INCREMENTAL_MARGIN_SECONDS": "2",
            "DATABASE_REPLICA_MAX_LAG_SECONDS": "0.5",
            "CENSUS_DATABASE_NAME": "census_topology",
            "TOPOLOGY_PRIMARY_PORT": str(cluster.primary_port),
            "TOPOLOGY_BOUNCER_PORT": str(cluster.bouncer_port),
        }
        if env.pop("PYTEST_XDIST_WORKER", None) is not None:
            # The parallel processes take the Redis databases counting down from CENSUS_TEST_REDIS_DB (two in
            # `make test`): the scenario's broker and cache take the next one down, not one of theirs.
            env["CENSUS_TEST_REDIS_DB"] = str(int(os.environ.get("CENSUS_TEST_REDIS_DB", "15")) - 2)
        result = subprocess.run(
            # --reuse-db: the cluster is thrown away afterwards, and PgBouncer's pooled server connections would
            # keep the test database from being dropped.
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--reuse-db", "--durations=5", SCENARIO],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=1200,
        )
    finally:
        cluster.stop()
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-3000:]
    assert "8 passed" in result.stdout, result.stdout[-3000:]
