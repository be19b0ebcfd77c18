"""Coverage per small area: registered against listed (摸底).

* ``COVERAGE_HOUSEHOLDS`` — once a small area's registration is complete (no household is still only listed),
  its registered households against the households on its listing (户主姓名底册): households registered that the
  listing never had mean the listing missed them; fewer mean listed households vanished.
* ``COVERAGE_PERSONS`` — the persons on the signed forms of listed households against the persons the listing
  expected for those households: fewer registered than listed is the classic omission (漏登).

Both fire when the gap exceeds ``coverage_min_gap`` and ``coverage_tolerance`` of the listed count. The
small area's enumerator answers for it, their supervisor acts (catalogue).
"""

from __future__ import annotations

from enumeration.rules.thresholds import threshold
from supervision.quality.checks.base import Check
from supervision.quality.checks.tally import SUMS

# The enumerator of each small area (the lowest-numbered one if several share it).
AREA_ENUMERATOR = "(SELECT min(a.staff_id) FROM census_smallareaassignment a WHERE a.small_area_id = sa.id)"

_GAP = (
    f"abs(registered - listed) > greatest({int(threshold('coverage_min_gap'))}, "
    f"{float(threshold('coverage_tolerance'))} * listed)"
)


# The areas an incremental part counts again: those with a household written since the watermark (``q_changed``:
# households are neither deleted nor moved to another area by the application; listing, registering and signing
# all write the household row), or every area when an assignment changed (who answers for an area).
_EVERY_AREA = "%(every_area)s OR %(assignments_changed)s"


def _finding(code: str, counts: str) -> str:
    return f"""
SELECT '{code}', 'a' || sa.code, sa.code, NULL::bigint, NULL::int, '', sa.id, sa.village_id, sa.township_id,
       NULL::bigint, {AREA_ENUMERATOR}, NULL::bigint,
       jsonb_build_object('registered', c.registered, 'listed', c.listed, 'gap', c.registered - c.listed)
FROM ({counts}) c JOIN census_smallarea sa ON sa.id = c.small_area_id
WHERE {_GAP}
"""


HOUSEHOLDS = Check(
    name="COVERAGE_HOUSEHOLDS",
    codes=("COVERAGE_HOUSEHOLDS",),
    kind="cross",
    group="coverage",
    sql=_finding(
        "COVERAGE_HOUSEHOLDS",
        "SELECT h.small_area_id, count(*) FILTER (WHERE h.state <> 'listed') AS registered, "
        "count(*) FILTER (WHERE h.listed_at IS NOT NULL) AS listed "
        # The township's households, or (an incremental part) those of its areas written since: two branches, one
        # cut off by its parameters before it runs (as one condition joined by OR, the township's every household
        # was read), the second a semi-join, for which the planner weighs the area's index (a few areas) against
        # reading the township (changes in half of them).
        "FROM (SELECT small_area_id, state, listed_at FROM enumeration_household "
        f"     WHERE township_id = %(township)s AND ({_EVERY_AREA}) "
        "     UNION ALL SELECT small_area_id, state, listed_at FROM enumeration_household "
        f"    WHERE NOT ({_EVERY_AREA}) AND township_id = %(township)s "
        "     AND small_area_id IN (SELECT small_area_id FROM q_changed)) h "
        "GROUP BY h.small_area_id HAVING count(*) FILTER (WHERE h.state = 'listed') = 0",
    ),
    settles=f"{_EVERY_AREA} OR f.small_area_id IN (SELECT small_area_id FROM q_changed)",
    doc="A small area whose registration is complete has registered the households it listed.",
)

PERSONS = Check(
    name="COVERAGE_PERSONS",
    codes=("COVERAGE_PERSONS",),
    kind="cross",
    group="coverage",
    sql=_finding(
        "COVERAGE_PERSONS",
        "SELECT s.small_area_id, sum(s.listed_persons) AS registered, sum(s.listed_expected) AS listed "
        f"FROM {SUMS} s GROUP BY s.small_area_id HAVING sum(s.listed_households) > 0",
    ),
    doc="The signed forms of listed households hold the persons the listing expected.",
)

CHECKS = [HOUSEHOLDS, PERSONS]
