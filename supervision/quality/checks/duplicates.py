"""Duplicates across households (重登 suspicion), district-wide.

These checks look at the whole district at once — a double count is as likely between two townships as within
one — so they run in the run's district part, not per township: one pass over the person table instead of one
per township. Each person involved on a signed form gets a finding (谁普查、谁负责: each registrar checks their
own record); the evidence names the other households.

* ``ID_DUPLICATE_DISTRICT`` — the same ID number in two households;
* ``NEAR_DUPLICATE_PERSON`` — a person without a valid number — a wrong one (format, check character, birth
  date), or none where one is due (the ID_MISSING case) — whose name, sex, year and month of birth and address
  code are those of a person in another household. The address code is the number's first six digits, for a
  person with no number the hukou county (D8's county, or the district); the district's former codes count as
  the district. Newborns not yet registered and persons with pending hukou have no number by right and are not
  compared: with year and month of birth only, namesakes among them are common, and a double count of them is
  found by the roster comparison and the birth records in 比对复查.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

from census.models import District
from supervision.quality.checks.base import (
    REFERENCE_YM,
    Check,
    age_sql,
    id_birth_ym,
    id_check_character,
    id_date_valid,
)

_HOUSEHOLD_KEY = "sa.code || lpad(h.household_no::text, 3, '0')"

# q_signed: the signed households of the part (here: of every township in the run).
_SUBJECT = (
    "'h' || p.household_id || ':' || p.row_no || ':D3', s.area_code || lpad(s.household_no::text, 3, '0') || "
    "'#' || p.row_no, p.household_id, p.row_no, 'D3', s.small_area_id, s.village_id, s.township_id, "
    "NULL::bigint, s.responsible_id, s.signature_id"
)

# How many other households a finding's evidence names; more are shown as "…". A number written into a
# thousand forms (a placeholder, a template copied) must not make each of them name the other 999.
OTHERS_SHOWN = 20

ID_DUPLICATE = Check(
    name="ID_DUPLICATE_DISTRICT",
    codes=("ID_DUPLICATE_DISTRICT",),
    kind="district",
    group="duplicates",
    # Each household holding a number is ranked within the number once, and each finding joins the first
    # OTHERS_SHOWN + 1 of them: linear in the holders. (Looking the others up per person in the list of holders,
    # as this did first, took 15 minutes for 160,000 persons sharing 20,000 numbers.)
    sql=f"""
WITH numbers AS (
    -- Every number, or (an incremental run) those of its scope, whose holders ``DUPLICATE_SCOPE`` looked up: two
    -- branches, one cut off by its parameter before it runs (as one condition joined by OR, the district's persons
    -- were read).
    SELECT d3_id_number AS n
    FROM (SELECT d3_id_number, township_id, household_id FROM enumeration_person WHERE %(every_number)s
          UNION ALL SELECT d3_id_number, township_id, household_id FROM q_dup_persons WHERE NOT %(every_number)s) p
    WHERE d3_id_number <> '' AND left(township_id, 6) = %(district)s
    GROUP BY d3_id_number HAVING min(household_id) <> max(household_id)
), holders AS (
    SELECT p.d3_id_number AS n, p.household_id,
           string_agg({_HOUSEHOLD_KEY} || '#' || p.row_no, ', ' ORDER BY {_HOUSEHOLD_KEY} || '#' || p.row_no) AS keys,
           row_number() OVER (PARTITION BY p.d3_id_number ORDER BY min({_HOUSEHOLD_KEY} || '#' || p.row_no))
               AS rank,
           count(*) OVER (PARTITION BY p.d3_id_number) AS households
    FROM enumeration_person p JOIN numbers ON numbers.n = p.d3_id_number AND p.d3_id_number <> ''
    JOIN enumeration_household h ON h.id = p.household_id JOIN census_smallarea sa ON sa.id = h.small_area_id
    GROUP BY p.d3_id_number, p.household_id
), others AS (
    SELECT x.n, x.household_id,
           array_to_string((array_agg(o.keys ORDER BY o.rank))[1:{OTHERS_SHOWN}], ', ')
           || CASE WHEN x.households - 1 > {OTHERS_SHOWN} THEN ', …' ELSE '' END AS other
    FROM holders x JOIN holders o ON o.n = x.n AND o.household_id <> x.household_id AND o.rank <= {OTHERS_SHOWN + 1}
    GROUP BY x.n, x.household_id, x.households
)
SELECT 'ID_DUPLICATE_DISTRICT', {_SUBJECT},
       jsonb_build_object('other', x.other, 'id_number', p.d3_id_number)
FROM enumeration_person p JOIN others x ON x.n = p.d3_id_number AND x.household_id = p.household_id
JOIN q_signed s ON s.id = p.household_id
""",
    params=lambda context: {"every_number": context.since is None},
    doc="No ID number in two households of the district.",
)


def _subject_columns(alias: str = "") -> str:
    """What the rule reads of a person."""
    fields = [
        "id",
        "household_id",
        "row_no",
        "d1_name",
        "d3_id_number",
        "d4_sex",
        "d5_birth_year",
        "d5_birth_month",
        "d8_hukou_place",
        "d8_hukou_county",
        "f_identity",
    ]
    return ", ".join(alias + field for field in fields)


# The persons an incremental run looks at again as near duplicates (``q_near_scope``): those of the households
# changed since the last run, those anywhere in the district with the name, sex and birth month of a person of
# those households (a match may have appeared), and those with a finding still open or explained (a match may
# have gone). Empty in a full run (everyone).
NEAR_SCOPE = f"""
CREATE TEMP TABLE q_near_scope ON COMMIT DROP AS
SELECT {_subject_columns()} FROM q_changed_p
UNION SELECT {_subject_columns("p.")} FROM enumeration_person p
      WHERE left(p.township_id, 6) = %(district)s AND %(since)s IS NOT NULL AND p.d1_name <> ''
        AND (p.d1_name, p.d4_sex, p.d5_birth_year, p.d5_birth_month) IN (
            SELECT d1_name, d4_sex, d5_birth_year, d5_birth_month FROM q_changed_p WHERE d1_name <> '')
UNION SELECT {_subject_columns("p.")} FROM quality_finding f
      JOIN enumeration_person p ON p.household_id = f.household_id AND p.row_no = f.row_no
      WHERE f.rule = 'NEAR_DUPLICATE_PERSON' AND f.state IN ('open', 'explained')
        AND f.township_id = ANY(%(townships)s) AND %(since)s IS NOT NULL;
-- (What it is looked up and filtered by: the statistics of every column took 0.1 s at 20,000 changes.)
ANALYZE q_near_scope (household_id, row_no, d1_name, d3_id_number, f_identity);
"""

# The numbers an incremental run looks at again (``q_dup_scope``): those on the households changed since the
# last run (``q_changed_p``), and those of every finding still open or explained — a number that left a changed
# household may have left a finding on another, unchanged one behind — and their holders anywhere
# (``q_dup_persons``, looked up once for ``ID_DUPLICATE`` and ``SCOPE_HOUSEHOLDS``). Empty in a full run (every
# number).
DUPLICATE_SCOPE = """
CREATE TEMP TABLE q_dup_scope ON COMMIT DROP AS
SELECT d3_id_number AS n FROM q_changed_p WHERE d3_id_number <> '' AND %(since)s IS NOT NULL
UNION SELECT evidence ->> 'id_number' FROM quality_finding
WHERE rule = 'ID_DUPLICATE_DISTRICT' AND state IN ('open', 'explained') AND township_id = ANY(%(townships)s)
  AND %(since)s IS NOT NULL;
ANALYZE q_dup_scope;
CREATE TEMP TABLE q_dup_persons ON COMMIT DROP AS
SELECT p.household_id, p.d3_id_number, p.township_id FROM enumeration_person p
WHERE p.d3_id_number IN (SELECT n FROM q_dup_scope) AND p.d3_id_number <> '';
ANALYZE q_dup_persons;
"""

# Stored numbers are already in normal form and well formed (constraint person_d3_format): no normalising and
# no pattern match here. Every person's number is tested, a million times in a district, so the date test is a
# look-up: a number's digits 7–14 against the days from 1850 to the eve of the reference moment (a hashed list);
# a number outside those years takes the long way (a real date, before the reference month).
_NUMBER = "p.d3_id_number"
FIRST_LISTED_YEAR = 1850
_BORN_BEFORE_REFERENCE = (
    f"(CASE WHEN substr({_NUMBER}, 7, 4) BETWEEN '{FIRST_LISTED_YEAR}' AND '{REFERENCE_YM // 100}' "
    f"THEN substr({_NUMBER}, 7, 8) = ANY(%(birth_dates)s::text[]) "
    f"ELSE {id_date_valid(_NUMBER)} AND {id_birth_ym(_NUMBER)} < {REFERENCE_YM} END)"
)
_VALID = f"(substr({_NUMBER}, 18, 1) = {id_check_character(_NUMBER)} AND {_BORN_BEFORE_REFERENCE})"


@cache
def birth_dates() -> tuple[str, ...]:
    """Every day from 1 January ``FIRST_LISTED_YEAR`` to the last day before the reference month, as YYYYMMDD."""
    day, last = date(FIRST_LISTED_YEAR, 1, 1), date(REFERENCE_YM // 100, REFERENCE_YM % 100, 1)
    days = []
    while day < last:
        days.append(day.strftime("%Y%m%d"))
        day += timedelta(days=1)
    return tuple(days)


def _address(alias: str) -> str:
    """The 6-digit address code a near match compares: the number's, else the hukou county; the district's
    former codes (宜宾县 511521, 512527) count as the district."""
    raw = (
        f"(CASE WHEN {alias}.d3_id_number <> '' THEN left({alias}.d3_id_number, 6) "
        f"WHEN {alias}.d8_hukou_place = 4 THEN {alias}.d8_hukou_county ELSE %(district)s END)"
    )
    return f"(CASE WHEN {raw} = ANY(%(district_codes)s) THEN %(district)s ELSE {raw} END)"


# Who may be a near duplicate (of a signed form that is not a foreign one): a person with a name, sex and birth
# month, and a number that is wrong — or none where one is due.
_NEAR_SUBJECT = f"""
    p.d1_name <> '' AND p.f_identity IS NULL AND p.d4_sex IS NOT NULL
    AND p.d5_birth_year IS NOT NULL AND p.d5_birth_month IS NOT NULL
    AND ((p.d3_id_number <> '' AND NOT {_VALID})
         OR (p.d3_id_number = '' AND p.d8_hukou_place IS DISTINCT FROM 5
             AND {age_sql("p.d5_birth_year", "p.d5_birth_month")} >= 1))"""

# The households an incremental duplicates part reads forms of (``q_signed``): those where a finding may be —
# the holders of a number of its scope that more than one household holds, and those of the near-duplicate
# subjects of its scope — not every household in either scope (31,000 look-ups for 20,000 changes at 6 M).
SCOPE_HOUSEHOLDS = f"""
CREATE TEMP TABLE q_dup_households ON COMMIT DROP AS
SELECT household_id AS id FROM q_dup_persons
WHERE d3_id_number IN (SELECT d3_id_number FROM q_dup_persons GROUP BY 1 HAVING min(household_id) <> max(household_id))
UNION SELECT p.household_id FROM q_near_scope p WHERE {_NEAR_SUBJECT};
ANALYZE q_dup_households;
"""

NEAR_DUPLICATE = Check(
    name="NEAR_DUPLICATE_PERSON",
    codes=("NEAR_DUPLICATE_PERSON",),
    kind="district",
    group="duplicates",
    sql=f"""
WITH scoped AS MATERIALIZED (
    -- An incremental run's persons, as ``NEAR_SCOPE`` read them, before the tests of their numbers (as a
    -- semi-join, the planner ran those tests on every person of the district first).
    SELECT {_subject_columns()} FROM q_near_scope WHERE NOT %(every_person)s
), subjects AS MATERIALIZED (
    SELECT p.id, p.household_id, p.row_no, p.d1_name, p.d4_sex, p.d5_birth_year, p.d5_birth_month,
           {_address("p")} AS address, s.area_code, s.household_no, s.small_area_id, s.village_id, s.township_id,
           s.responsible_id, s.signature_id
    FROM (SELECT {_subject_columns()} FROM enumeration_person WHERE %(every_person)s
          UNION ALL SELECT {_subject_columns()} FROM scoped) p
    JOIN q_signed s ON s.id = p.household_id
    WHERE NOT s.is_foreign AND {_NEAR_SUBJECT}
), matches AS (
    -- Each subject's namesakes through the near-duplicate key's index: a few probes per subject, whether the
    -- subjects are the district's (a full run) or those of the changed households (an incremental one).
    SELECT x.id, m.others
    FROM subjects x CROSS JOIN LATERAL (
        SELECT string_agg({_HOUSEHOLD_KEY} || '#' || q.row_no, ', ' ORDER BY sa.code, h.household_no, q.row_no)
               AS others
        FROM enumeration_person q
        JOIN enumeration_household h ON h.id = q.household_id JOIN census_smallarea sa ON sa.id = h.small_area_id
        WHERE q.d1_name = x.d1_name AND q.d4_sex = x.d4_sex AND q.d5_birth_year = x.d5_birth_year
          AND q.d5_birth_month = x.d5_birth_month AND q.household_id <> x.household_id AND q.d1_name <> ''
          AND left(q.township_id, 6) = %(district)s AND q.f_identity IS NULL AND {_address("q")} = x.address
    ) m
    WHERE m.others IS NOT NULL
)
SELECT 'NEAR_DUPLICATE_PERSON', 'h' || x.household_id || ':' || x.row_no || ':D1',
       x.area_code || lpad(x.household_no::text, 3, '0') || '#' || x.row_no, x.household_id, x.row_no, 'D1',
       x.small_area_id, x.village_id, x.township_id, NULL::bigint, x.responsible_id, x.signature_id,
       jsonb_build_object('other', m.others, 'name', x.d1_name)
FROM subjects x JOIN matches m ON m.id = x.id
""",
    params=lambda context: {
        "every_person": context.since is None,
        "district_codes": District.objects.get(code=context.district).address_codes(),
        "birth_dates": list(birth_dates()),
    },
    doc="No person with a wrong number or none (where one is due) matches a person of another household by name, "
    "sex, birth month and address code.",
)

CHECKS = [ID_DUPLICATE, NEAR_DUPLICATE]
