"""Duplicates across households (重登 suspicion), district-wide.

These checks look at the whole district at once — a double count is as likely between two townships as within
one — so they run in the run's district part, not per township: one pass over the person table instead of one
per township. Each person involved on a signed form gets a finding (谁普查、谁负责: each registrar checks their
own record); the evidence names the other households.

* ``ID_DUPLICATE_DISTRICT`` — the same ID number in two households;
* ``NEAR_DUPLICATE_PERSON`` — a person without a valid number (none, or a wrong check character) whose name,
  sex, year and month of birth and hukou county are those of a person in another household. The hukou county
  is D8's county for hukou in another county (D8 = 4) and the district otherwise.
"""

from __future__ import annotations

from supervision.quality.checks.base import Check, id_check_character, id_well_formed

_HOUSEHOLD_KEY = "sa.code || lpad(h.household_no::text, 3, '0')"

# q_signed: the signed households of the part (here: of every township in the run).
_SUBJECT = (
    "'h' || p.household_id || ':' || p.row_no || ':D3', s.area_code || lpad(s.household_no::text, 3, '0') || "
    "'#' || p.row_no, p.household_id, p.row_no, 'D3', s.small_area_id, s.village_id, s.township_id, "
    "NULL::bigint, s.responsible_id, s.signature_id"
)

ID_DUPLICATE = Check(
    name="ID_DUPLICATE_DISTRICT",
    codes=("ID_DUPLICATE_DISTRICT",),
    kind="district",
    group="duplicates",
    sql=f"""
WITH numbers AS (
    SELECT d3_id_number AS n FROM enumeration_person
    WHERE d3_id_number <> '' AND left(township_id, 6) = %(district)s
    GROUP BY d3_id_number HAVING min(household_id) <> max(household_id)
), holders AS (
    SELECT p.d3_id_number AS n, p.household_id, {_HOUSEHOLD_KEY} || '#' || p.row_no AS person_key
    FROM enumeration_person p JOIN numbers ON numbers.n = p.d3_id_number
    JOIN enumeration_household h ON h.id = p.household_id JOIN census_smallarea sa ON sa.id = h.small_area_id
)
SELECT 'ID_DUPLICATE_DISTRICT', {_SUBJECT},
       jsonb_build_object('other', (SELECT string_agg(o.person_key, ', ' ORDER BY o.person_key) FROM holders o
                                    WHERE o.n = p.d3_id_number AND o.household_id <> p.household_id),
                          'id_number', p.d3_id_number)
FROM enumeration_person p JOIN numbers ON numbers.n = p.d3_id_number JOIN q_signed s ON s.id = p.household_id
""",
    doc="No ID number in two households of the district.",
)

_NUMBER = "upper(p.d3_id_number)"
_VALID = f"({id_well_formed(_NUMBER)} AND substr({_NUMBER}, 18, 1) = {id_check_character(_NUMBER)})"
_COUNTY = "(CASE WHEN {a}.d8_hukou_place = 4 THEN {a}.d8_hukou_county ELSE %(district)s END)"

NEAR_DUPLICATE = Check(
    name="NEAR_DUPLICATE_PERSON",
    codes=("NEAR_DUPLICATE_PERSON",),
    kind="district",
    group="duplicates",
    sql=f"""
WITH subjects AS (
    SELECT p.*, {_COUNTY.format(a="p")} AS county, s.area_code, s.household_no, s.small_area_id AS s_area,
           s.village_id AS s_village, s.township_id AS s_township, s.responsible_id, s.signature_id
    FROM enumeration_person p JOIN q_signed s ON s.id = p.household_id
    WHERE p.d1_name <> '' AND p.f_identity IS NULL AND p.d5_birth_year IS NOT NULL
      AND p.d5_birth_month IS NOT NULL AND p.d4_sex IS NOT NULL
      AND (p.d3_id_number = '' OR NOT {_VALID})
), matches AS (
    SELECT x.id, string_agg({_HOUSEHOLD_KEY} || '#' || q.row_no, ', ' ORDER BY sa.code, h.household_no, q.row_no)
           AS others
    FROM subjects x JOIN enumeration_person q
      ON q.d1_name = x.d1_name AND q.d4_sex = x.d4_sex AND q.d5_birth_year = x.d5_birth_year
     AND q.d5_birth_month = x.d5_birth_month AND q.household_id <> x.household_id
     AND {_COUNTY.format(a="q")} = x.county AND q.f_identity IS NULL
    JOIN enumeration_household h ON h.id = q.household_id JOIN census_smallarea sa ON sa.id = h.small_area_id
    WHERE left(q.township_id, 6) = %(district)s
    GROUP BY x.id
)
SELECT 'NEAR_DUPLICATE_PERSON', 'h' || x.household_id || ':' || x.row_no || ':D1',
       x.area_code || lpad(x.household_no::text, 3, '0') || '#' || x.row_no, x.household_id, x.row_no, 'D1',
       x.s_area, x.s_village, x.s_township, NULL::bigint, x.responsible_id, x.signature_id,
       jsonb_build_object('other', m.others, 'name', x.d1_name)
FROM subjects x JOIN matches m ON m.id = x.id
""",
    doc="No person without a valid number matches one in another household by name, sex, birth month and county.",
)

CHECKS = [ID_DUPLICATE, NEAR_DUPLICATE]
