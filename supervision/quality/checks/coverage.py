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
_CHANGED_AREAS = "(SELECT count(DISTINCT small_area_id) FROM q_changed)"
FEW_AREAS = 50


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
        # The township's households, or (an incremental part) those of its areas written since. A few areas are
        # read through the area's index; more (changes spread over the township) by reading the township with the
        # changed areas hashed — through the index, 20,000 changes in half the areas took 7.5 s instead of 1.4.
        # Two branches, one cut off when it starts by its condition on the parameters and the number of areas (the
        # sublink inside an OR keeps the second from being planned as the first).
        "FROM (SELECT small_area_id, state, listed_at FROM enumeration_household "
        f"     WHERE NOT ({_EVERY_AREA}) AND {_CHANGED_AREAS} <= %(few_areas)s "
        "      AND small_area_id IN (SELECT small_area_id FROM q_changed) "
        "     UNION ALL SELECT small_area_id, state, listed_at FROM enumeration_household "
        f"    WHERE township_id = ANY(%(townships)s) AND ({_EVERY_AREA} OR {_CHANGED_AREAS} > %(few_areas)s) "
        f"      AND ({_EVERY_AREA} OR small_area_id IN (SELECT small_area_id FROM q_changed))) h "
        "GROUP BY h.small_area_id HAVING count(*) FILTER (WHERE h.state = 'listed') = 0",
    ),
    params=lambda context: {"few_areas": FEW_AREAS},
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
