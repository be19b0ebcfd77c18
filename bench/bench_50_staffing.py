"""Staffing (issue 20): the district office imports a staff list of 5,000 rows into the 1,000,000-person district.

The file — 4,000 enumerators and 1,000 supervisors spread over the district's townships, each with a valid ID
number, a phone, a unit, dates and an exam score — is written as xlsx before the clock starts. Timed: reading the
workbook and the whole import (every cell cleaned, the set-based checks against the district's 5,900 accounts,
5,000 accounts and 5,000 audit entries written in one transaction), as the staff_import job does it. The same file
imported again (5,000 unchanged rows, nothing written) is timed too. The accounts are deleted afterwards so that
the bench district stays as seeded (their audit entries stay: the log is append-only).
"""

from __future__ import annotations

import json

from bench_00_seed import ensure_seeded
from run import BenchContext, Benchmark, Measured

STAFF_ROWS = 5000
TARGET = 10.0

_IMPORT = r"""
import json, time
import tablib
from census.models import StaffMember, Township
from census.staffing.imports import dataset_of, staff_import
from tests.census.factories import staff_id_number

rows = %(rows)d
actor = StaffMember.objects.get(username="district")
townships = list(Township.objects.filter(district_id=actor.district_id).order_by("code").values_list("code", flat=True))
sheet = tablib.Dataset(headers=["姓名", "公民身份号码", "手机号码", "角色", "乡镇代码", "来源单位", "选聘日期", "培训日期", "考试成绩", "登录名"])
for n in range(rows):
    sheet.append([
        f"王{'伟芳敏静丽强磊军'[n %% 8]}{n}", staff_id_number(900_000 + n), f"199{n:08d}",
        "普查指导员" if n %% 5 == 0 else "普查员", townships[n %% len(townships)], "镇中心小学",
        "2020-08-15", "2020-09-20", 60 + n %% 40, f"bench5k-{n:05d}",
    ])
raw = sheet.export("xlsx")  # the benchmark's input file, read back by the import below
try:
    started = time.perf_counter()
    first = staff_import(dataset=dataset_of(raw, file_format="xlsx"), actor=actor)
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    again = staff_import(dataset=dataset_of(raw, file_format="xlsx"), actor=actor)
    again_seconds = time.perf_counter() - started
finally:
    StaffMember.objects.filter(username__startswith="bench5k-").delete()
print(json.dumps({
    "seconds": seconds, "new": first.new, "problems": len(first.problems),
    "again_seconds": again_seconds, "unchanged": again.unchanged,
}))
"""


def staff_import(context: BenchContext) -> Measured:
    ensure_seeded(context)
    out = context.python(_IMPORT % {"rows": STAFF_ROWS}, timeout=1800).stdout.strip().splitlines()[-1]
    result = json.loads(out)
    ok = result["seconds"] <= TARGET and result["new"] == STAFF_ROWS and not result["problems"]
    return Measured(
        f"{result['seconds']:.1f} s",
        ok,
        f"{result['new']:,} new accounts from an xlsx ({STAFF_ROWS / result['seconds']:,.0f} rows/s); the same file "
        f"again {result['again_seconds']:.1f} s ({result['unchanged']:,} unchanged)",
    )


BENCHMARKS = [
    Benchmark(name="staff_import", target=f"{STAFF_ROWS:,} staff rows ≤ {TARGET:.0f} s", run=staff_import),
]
