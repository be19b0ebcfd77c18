"""B. Household structure: head, counts (H2/H3/H4), the death register, 户编号 999, housing (H5–H7).

The SQL twins of ``_structure`` (head rules), ``_counts``, ``_deaths``, ``_all_dead`` and the housing part of
``_household_items`` in ``enumeration.rules.entry``.
"""

from __future__ import annotations

from enumeration.codes import code_list
from enumeration.rules.thresholds import threshold
from supervision.quality.checks.base import Check, codes, evidence

# Per regular household: persons, heads, persons here, infants by sex (runner builds q_counts once per part).
FAMILY_COUNTS = "SELECT * FROM q_counts WHERE family"
CENSUS_COUNTS = "SELECT * FROM q_counts WHERE NOT is_foreign"

# The death rows ``_deaths`` reads: it stops at the first row with a blank S2–S5 item (after reporting it), so
# rows after that one are never looked at. ``blank_item`` is the item of the first blank field of a row.
DEATH_ROWS = """
SELECT d.* FROM (
    SELECT d.*,
           min(d.row_no) FILTER (WHERE d.name = '' OR d.sex IS NULL OR d.birth_year IS NULL OR d.birth_month IS NULL
                                 OR d.death_year IS NULL OR d.death_month IS NULL)
               OVER (PARTITION BY d.household_id) AS first_blank_row,
           CASE WHEN d.name = '' THEN 'S2' WHEN d.sex IS NULL THEN 'S3'
                WHEN d.birth_year IS NULL OR d.birth_month IS NULL THEN 'S4'
                WHEN d.death_year IS NULL OR d.death_month IS NULL THEN 'S5' END AS blank_item
    FROM q_d d WHERE NOT d.is_foreign OR NOT d.regular
) d WHERE d.first_blank_row IS NULL OR d.row_no <= d.first_blank_row
"""
# Complete death rows that ``_deaths`` reads (no blank row before them): what DEATH_BEFORE_BIRTH looks at. Written
# without the window of DEATH_ROWS so that a check's own test on the row comes first and only the rows it keeps
# are looked up (a few, of thousands).
DEATH_COMPLETE = (
    "{d}.name <> '' AND {d}.sex IS NOT NULL AND {d}.birth_year IS NOT NULL AND {d}.birth_month IS NOT NULL "
    "AND {d}.death_year IS NOT NULL AND {d}.death_month IS NOT NULL"
)
DEATH_ROWS_COMPLETE = (
    f"SELECT d.* FROM q_d d WHERE (NOT d.is_foreign OR NOT d.regular) AND {DEATH_COMPLETE.format(d='d')} "
    "AND NOT EXISTS (SELECT 1 FROM q_death_rows b WHERE b.household_id = d.household_id AND b.row_no < d.row_no "
    f"AND NOT ({DEATH_COMPLETE.format(d='b')}))"
)

ALL_DEAD_FILLED = (
    "h1_kind",
    "h2_present",
    "h2_away",
    "h3_births_male",
    "h3_births_female",
    "h5_residence_type",
    "h6_floor_area",
    "h7_rooms",
)

# Regular households whose H5 is answered with a valid code (``_household_items`` stops otherwise).
HOUSING = f"SELECT h.* FROM q_hh h WHERE h.regular AND h.h5_residence_type IN {codes('H5')}"
# Regular households in an ordinary dwelling (H5 = 1, a code of the list: no need to test that too).
assert 1 in code_list("H5").codes
ORDINARY = "SELECT h.* FROM q_hh h WHERE h.regular AND h.h5_residence_type = 1"
HOUSING_COMPLETE = (
    f"SELECT h.* FROM ({ORDINARY}) h WHERE h.h6_floor_area IS NOT NULL "
    "AND h.h7_rooms IS NOT NULL AND h.h6_floor_area > 0 AND h.h7_rooms >= 1"
)


def _check(code: str, sql: str, doc: str) -> Check:
    return Check(name=code, codes=(code,), kind="household", sql=sql, group="B", doc=doc)


CHECKS = [
    _check(
        "HEAD_NOT_FIRST",
        # Each household's lowest row (the rows in order of household and row: one pass, no grouping).
        "SELECT 'HEAD_NOT_FIRST', household_id, row_no, 'D2', '{}'::jsonb FROM (SELECT DISTINCT ON "
        "(p.household_id) p.household_id, p.row_no, p.d2_relationship FROM q_p p WHERE p.regular AND p.family "
        "ORDER BY p.household_id, p.row_no) f WHERE d2_relationship IS DISTINCT FROM 0",
        "A family household's first row is its head.",
    ),
    _check(
        "HEAD_NOT_UNIQUE",
        "SELECT 'HEAD_NOT_UNIQUE', household_id, NULL::int, 'D2', "
        + evidence(count="heads")
        + f" FROM ({FAMILY_COUNTS}) c WHERE heads <> 1",
        "Exactly one head in a family household.",
    ),
    _check(
        "PERSON_COUNT_MISMATCH",
        "SELECT 'PERSON_COUNT_MISMATCH', household_id, NULL::int, 'H2', "
        + evidence(declared="h2_present + h2_away", rows="persons")
        + f" FROM ({CENSUS_COUNTS}) c "
        "WHERE h2_present IS NOT NULL AND h2_away IS NOT NULL AND h2_present + h2_away <> persons",
        "H2a + H2b equals the person rows.",
    ),
    _check(
        "PRESENT_COUNT_MISMATCH",
        "SELECT 'PRESENT_COUNT_MISMATCH', household_id, NULL::int, 'H2', "
        + evidence(declared="h2_present", rows="here")
        + f" FROM ({CENSUS_COUNTS}) c WHERE h2_present IS NOT NULL AND h2_away IS NOT NULL "
        "AND h2_present <> here AND h2_present + h2_away = persons",
        "H2a equals the rows whose D7 is this small area.",
    ),
    _check(
        "BIRTHS_MISMATCH",
        "SELECT 'BIRTHS_MISMATCH', household_id, NULL::int, 'H3', "
        + evidence(h3_male="h3_births_male", h3_female="h3_births_female", male="infants_male", female="infants_female")
        + f" FROM ({CENSUS_COUNTS}) c WHERE h3_births_male IS NOT NULL AND h3_births_female IS NOT NULL "
        "AND (h3_births_male, h3_births_female) <> (infants_male, infants_female)",
        "H3 by sex equals the members aged 0.",
    ),
    _check(
        "DEATHS_MISMATCH",
        "SELECT 'DEATHS_MISMATCH', h.id, NULL::int, 'H4', "
        + evidence(
            h4_male="h.h4_deaths_male",
            h4_female="h.h4_deaths_female",
            male="coalesce(c.male, 0)",
            female="coalesce(c.female, 0)",
        )
        + " FROM q_hh h LEFT JOIN (SELECT household_id, count(*) FILTER (WHERE sex = 1) AS male, "
        "count(*) FILTER (WHERE sex = 2) AS female FROM q_d GROUP BY household_id) c ON c.household_id = h.id "
        "WHERE (NOT h.is_foreign OR NOT h.regular) AND h.h4_deaths_male IS NOT NULL "
        "AND h.h4_deaths_female IS NOT NULL "
        "AND (h.h4_deaths_male, h.h4_deaths_female) <> (coalesce(c.male, 0), coalesce(c.female, 0))",
        "H4 by sex equals the death register.",
    ),
    _check(
        "DEATH_BEFORE_BIRTH",
        "SELECT 'DEATH_BEFORE_BIRTH', d.household_id, d.row_no, 'S5', "
        + evidence(row="d.row_no")
        + f" FROM ({DEATH_ROWS_COMPLETE}) d "
        "WHERE (d.death_year, d.death_month) < (d.birth_year, d.birth_month)",
        "Nobody died before they were born.",
    ),
    _check(
        "ALL_DEAD_HOUSEHOLD",
        # (The household's own items first: a person row is looked up only when they pass.)
        "SELECT 'ALL_DEAD_HOUSEHOLD', h.id, NULL::int, 'H4', '{}'::jsonb FROM q_hh h WHERE h.household_no = 999 AND ("
        + " OR ".join(f"coalesce(h.{name}, 0) <> 0" for name in ALL_DEAD_FILLED)
        + " OR coalesce(h.h4_deaths_male, 0) + coalesce(h.h4_deaths_female, 0) < 1"
        " OR EXISTS (SELECT 1 FROM q_person_rows p WHERE p.household_id = h.id))",
        "户编号 999 has deaths only.",
    ),
    _check(
        "HOUSING_NOT_ASKED",
        "SELECT 'HOUSING_NOT_ASKED', h.id, NULL::int, 'H6', "
        + evidence(h5="h.h5_residence_type")
        + f" FROM ({HOUSING}) h WHERE h.h5_residence_type <> 1 "
        "AND (h.h6_floor_area IS NOT NULL OR h.h7_rooms IS NOT NULL)",
        "No H6/H7 unless H5 is an ordinary dwelling.",
    ),
    _check(
        "HOUSING_MISSING",
        "SELECT 'HOUSING_MISSING', h.id, NULL::int, 'H6', '{}'::jsonb "
        f"FROM ({ORDINARY}) h WHERE (h.h6_floor_area IS NULL OR h.h7_rooms IS NULL "
        "OR h.h6_floor_area <= 0 OR h.h7_rooms < 1)",
        "An ordinary dwelling has H6 > 0 and H7 ≥ 1.",
    ),
    _check(
        "FLOOR_AREA_PER_PERSON_HIGH",
        "SELECT 'FLOOR_AREA_PER_PERSON_HIGH', h.id, NULL::int, 'H6', "
        + evidence(per_person="round(h.h6_floor_area::numeric / greatest(1, coalesce(h.h2_present, 0)), 1)")
        # (The area over the persons above the limit, without a division per household.)
        + f" FROM ({HOUSING_COMPLETE}) h WHERE h.h6_floor_area "
        f"> {threshold('floor_area_per_person_max')} * greatest(1, coalesce(h.h2_present, 0))",
        "Floor area per person at most 200 m².",
    ),
    _check(
        "FLOOR_AREA_LOW",
        "SELECT 'FLOOR_AREA_LOW', h.id, NULL::int, 'H6', "
        + evidence(area="h.h6_floor_area")
        + f" FROM ({HOUSING_COMPLETE}) h WHERE h.h6_floor_area < {threshold('floor_area_min')}",
        "Floor area at least 5 m².",
    ),
    _check(
        "ROOMS_HIGH",
        "SELECT 'ROOMS_HIGH', h.id, NULL::int, 'H7', "
        + evidence(rooms="h.h7_rooms")
        + f" FROM ({HOUSING_COMPLETE}) h WHERE h.h7_rooms > {threshold('rooms_max')}",
        "At most 15 rooms.",
    ),
    Check(
        name="RENT_NOT_ASKED",
        codes=("RENT_NOT_ASKED",),
        kind="household",
        group="F",
        sql="SELECT 'RENT_NOT_ASKED', h.id, NULL::int, 'H18', '{}'::jsonb "
        f"FROM ({HOUSING}) h WHERE h.h5_residence_type = 1 AND h.long_form AND NOT h.is_foreign "
        "AND NOT coalesce(h.h17_tenure IN (1, 2), false) AND h.h18_rent IS NOT NULL",
        doc="Monthly rent only for rented housing (long form).",
    ),
]
