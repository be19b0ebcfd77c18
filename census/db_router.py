"""Reads that may go to a streaming replica, and the replica's lag.

With ``DATABASE_REPLICA_URL`` set, settings add a database alias ``replica``. Nothing reads from it unless the code
says so: ``with replica_reads():`` around a read that tolerates a few seconds of lag — the dashboards, the exports,
the nightly checks' look at what changed. Inside it, the ORM's reads go to the replica (``ReplicaRouter``) and
``read_connection()`` is the connection raw SQL should use — unless

- no replica is configured (everything stays on ``default``, as before);
- the replica is behind the primary by more than ``DATABASE_REPLICA_MAX_LAG_SECONDS``, or does not answer: the
  reads fall back to the primary;
- the current transaction on the primary has already written (PostgreSQL has given it a transaction id): its own
  writes are not committed, and a read that must see them has to be made on the primary (read-after-write).

Writes always go to ``default``, and migrations run there only.

**Lag.** The primary's WAL position is read first, then the replica's replay position: a replica that has
replayed up to it lags by nothing. Otherwise the lag is the time since the last transaction the replica replayed
committed on the primary (``pg_last_xact_replay_timestamp()``), which is how long the replica's view of the data
has stood still. The answer is kept for ``DATABASE_REPLICA_LAG_CACHE_SECONDS`` per process.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.backends.base.base import BaseDatabaseWrapper

REPLICA = "replica"

# The alias reads go to inside ``replica_reads()``; None outside it.
_reading: contextvars.ContextVar[str | None] = contextvars.ContextVar("census_read_alias", default=None)


@dataclass(frozen=True)
class ReplicaStatus:
    configured: bool
    # Seconds the replica's data is behind the primary; None when it could not be measured (it does not answer).
    lag: float | None = None
    error: str = ""
    measured_at: float = 0.0

    @property
    def usable(self) -> bool:
        return self.configured and self.lag is not None and self.lag <= max_lag()


_cached: ReplicaStatus | None = None


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def max_lag() -> float:
    return float(getattr(settings, "DATABASE_REPLICA_MAX_LAG_SECONDS", 30))


def _measure() -> ReplicaStatus:
    try:
        with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_lsn()")
            primary_lsn = cursor.fetchone()[0]
        with connections[REPLICA].cursor() as cursor:
            cursor.execute(
                """
                SELECT pg_is_in_recovery(),
                       coalesce(pg_last_wal_replay_lsn() >= %s::pg_lsn, false),
                       extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())
                """,
                [primary_lsn],
            )
            in_recovery, caught_up, since_last = cursor.fetchone()
    except DatabaseError as exc:
        connections[REPLICA].close()
        return ReplicaStatus(configured=True, error=type(exc).__name__, measured_at=time.monotonic())
    if not in_recovery:
        # A promoted replica is a primary of its own: its data no longer follows this one.
        return ReplicaStatus(configured=True, error="not in recovery", measured_at=time.monotonic())
    lag: float | None = 0.0
    if not caught_up:
        lag = float(since_last) if since_last is not None else None
    return ReplicaStatus(configured=True, lag=lag, measured_at=time.monotonic())


def replica_status(*, fresh: bool = False) -> ReplicaStatus:
    """The replica's lag now (or as measured less than the cache time ago)."""
    global _cached
    if not replica_configured():
        return ReplicaStatus(configured=False)
    keep = float(getattr(settings, "DATABASE_REPLICA_LAG_CACHE_SECONDS", 2))
    if fresh or _cached is None or time.monotonic() - _cached.measured_at >= keep:
        _cached = _measure()
    return _cached


def _primary_has_written(primary: BaseDatabaseWrapper) -> bool:
    if not primary.in_atomic_block or primary.connection is None:
        return False
    with primary.cursor() as cursor:
        cursor.execute("SELECT pg_current_xact_id_if_assigned() IS NOT NULL")
        return bool(cursor.fetchone()[0])


def choose_read_alias() -> str:
    """Where a lag-tolerant read should go now: the replica when it is close enough, else the primary."""
    if not replica_configured():
        return DEFAULT_DB_ALIAS
    if _primary_has_written(connections[DEFAULT_DB_ALIAS]):
        return DEFAULT_DB_ALIAS
    return REPLICA if replica_status().usable else DEFAULT_DB_ALIAS


@contextmanager
def replica_reads() -> Iterator[str]:
    """Reads inside go to the replica if it is usable now (the alias chosen is yielded); nested, the outer
    choice stands unless the outer one is the primary."""
    outer = _reading.get()
    alias = outer if outer == DEFAULT_DB_ALIAS else choose_read_alias()
    token = _reading.set(alias)
    try:
        yield alias
    finally:
        _reading.reset(token)


def read_alias() -> str:
    """The alias of reads here: what ``replica_reads()`` chose, ``default`` outside it."""
    return _reading.get() or DEFAULT_DB_ALIAS


def read_connection() -> BaseDatabaseWrapper:
    """The connection raw SQL reads should use here."""
    return connections[read_alias()]


class ReplicaRouter:
    """The ORM's side of ``replica_reads()``."""

    def db_for_read(self, model: type[Any], **hints: Any) -> str | None:
        return _reading.get()

    def db_for_write(self, model: type[Any], **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        # The replica holds the primary's rows: an object read from either may point at one from the other.
        return True

    def allow_migrate(self, db: str, app_label: str, model_name: str | None = None, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS
