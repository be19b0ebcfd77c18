"""What one part of an incremental check run costs, statement by statement, measured inside one process.

The run's figure (``bench_20_quality``) says how long the whole run takes on the workers; this says where one
part's time goes. It writes ``updated_at`` of N signed households (committed, as the bench's changes are), then
runs the part of a new incremental run REPEAT times, each time rolled back, timing every statement through
Django's ``execute_wrapper``:

    python bench/part_cost.py 511504006 500                  # one township's part, 500 of its households changed
    python bench/part_cost.py 511504100,511504101,511504111 500   # the townships as one group (check_run_parts_execute)
    SINGLES=1 python bench/part_cost.py 511504100,511504101 0     # the same townships as parts one by one
    python bench/part_cost.py roster 20000                   # a district section (roster or duplicates)

N = 0 changes nothing (the households changed since the last run's watermark are checked). Run it with the bench
environment (``CENSUS_DATABASE_NAME`` or ``DATABASE_URL`` of the bench database) and
``QUALITY_INCREMENTAL_MARGIN_SECONDS=0``; ``REPEAT`` (default 2: the first is cold), ``TOP`` (statements shown,
default 20). Statements that share their first 60 characters are told apart by a hash of their text.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "census.settings")

import django

django.setup()

from django.db import connection, transaction  # noqa: E402

from supervision.quality import services  # noqa: E402
from supervision.quality.models import RunMode  # noqa: E402

SIGNED = "('signed', 'approved', 'accepted', 'locked')"


class _Undo(Exception):
    pass


def _label(sql: str) -> str:
    text = " ".join(sql.split())
    return f"{text[:60]} #{hashlib.sha256(text.encode()).hexdigest()[:6]}"


def _change(target: list[str] | None, n: int) -> None:
    """``updated_at`` of n signed households of each township (of the district when ``target`` is None)."""
    if n <= 0:
        return
    with transaction.atomic(), connection.cursor() as cursor:
        for township in target or [None]:
            where = "township_id = %s AND " if township else ""
            cursor.execute(
                f"UPDATE enumeration_household SET updated_at = now() WHERE id IN (SELECT id FROM enumeration_household"
                f" WHERE {where}state IN {SIGNED} ORDER BY md5(id::text || now()::text) LIMIT {int(n)})",
                [township] if township else [],
            )


def main(argv: list[str]) -> None:
    what, n = argv[1], int(argv[2])
    section = what if what in ("roster", "duplicates") else None
    townships = None if section else what.split(",")
    _change(townships, n)
    top = int(os.environ.get("TOP", "20"))
    for repeat in range(int(os.environ.get("REPEAT", "2"))):
        stats: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])

        def timed(
            execute: Any, sql: str, params: Any, many: bool, context: Any, stats: dict[str, list[float]] = stats
        ) -> Any:
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                entry = stats[_label(sql)]
                entry[0] += 1
                entry[1] += time.perf_counter() - started

        try:
            with transaction.atomic():
                run = services.check_run_create(user=None, mode=RunMode.INCREMENTAL)
                parts = run.parts.filter(section=section) if section else run.parts.filter(township_id__in=townships)
                ids = list(parts.values_list("pk", flat=True))
                started = time.perf_counter()
                with connection.execute_wrapper(timed):
                    if section or os.environ.get("SINGLES") == "1":
                        for part_id in ids:
                            services.check_run_part_execute(part_id=part_id)
                    else:
                        services.check_run_parts_execute(part_ids=ids)
                total = time.perf_counter() - started
                households = sum(parts.values_list("households", flat=True))
                raise _Undo
        except _Undo:
            pass
        count = int(sum(entry[0] for entry in stats.values()))
        print(f"run {repeat}: {what}: {total * 1000:.1f} ms, {count} statements, {households} households")
        for label, (times, seconds) in sorted(stats.items(), key=lambda item: -item[1][1])[:top]:
            print(f"  {seconds * 1000:9.2f} ms  x{int(times):<4} {label}")


if __name__ == "__main__":
    main(sys.argv)
