"""The roster comparison (户口整顿 / 比对复查): the public-security roster against the registrations.

Every roster person is matched to the registrations of the district by ID number and classified where their
hukou is (village level): registered and living in the hukou village (``living_here``: a form of that village
with D7 = this small area); registered but living elsewhere or away (``living_elsewhere``, 人户分离); registered
nowhere (``not_registered``: the ``ROSTER_NOT_REGISTERED`` finding, 漏登 suspicion). Every registered person
not on the roster is counted where they were registered, split by whether their form says the hukou is in the
district (D8 = 1–3: a roster gap to ask public security about) or not. ``refresh_counts`` writes the counts of a
township to ``quality_rosterareacount``; ``AREA_ROSTER_GAP`` compares each village with the ≤ 4‰ acceptance
tolerance.
"""

from __future__ import annotations

from enumeration.rules.thresholds import threshold
from supervision.quality.checks.base import Check

# Roster persons of the run's townships, one row per (ID number, village), with whether and how they are
# registered anywhere in the district: one hash join of the roster with the person table for the whole run (the
# district part), written once to the temporary table q_roster that the three users below read.
MATCHED = """
SELECT DISTINCT ON (id_number, village_id) *
FROM (
    SELECT r.id, r.id_number, r.name, r.township_id, r.village_id, r.small_area_id, r.household_no,
           count(p.id) > 0 AS registered,
           coalesce(bool_or(p.village_id = r.village_id AND p.d7_residence = 1), false) AS here
    FROM quality_hukourosterentry r
    LEFT JOIN enumeration_person p
      ON p.d3_id_number = r.id_number AND p.d3_id_number <> '' AND left(p.township_id, 6) = %(district)s
    WHERE r.township_id = ANY(%(townships)s)
    GROUP BY r.id
) matched
ORDER BY id_number, village_id, small_area_id NULLS LAST, id
"""

CREATE_MATCHED = f"CREATE TEMP TABLE q_roster ON COMMIT DROP AS {MATCHED}"

NOT_REGISTERED = Check(
    name="ROSTER_NOT_REGISTERED",
    codes=("ROSTER_NOT_REGISTERED",),
    kind="district",
    group="roster",
    sql="""
SELECT 'ROSTER_NOT_REGISTERED', 'r' || r.id_number || ':' || r.village_id, 'roster:' || r.id_number,
       NULL::bigint, NULL::int, '', r.small_area_id, r.village_id, r.township_id, NULL::bigint,
       (SELECT min(a.staff_id) FROM census_smallareaassignment a WHERE a.small_area_id = r.small_area_id),
       NULL::bigint,
       jsonb_build_object('name', r.name, 'id_number', r.id_number,
                          'key', coalesce(sa.code || coalesce(lpad(r.household_no::text, 3, '0'), ''), r.village_id))
FROM q_roster r LEFT JOIN census_smallarea sa ON sa.id = r.small_area_id
WHERE NOT r.registered
""",
    doc="Everyone on the roster of the district is registered somewhere in it.",
)

_MAX = float(threshold("roster_gap_max_permille"))

ROSTER_GAP = Check(
    name="AREA_ROSTER_GAP",
    codes=("AREA_ROSTER_GAP",),
    kind="district",
    group="G",
    sql=f"""
SELECT 'AREA_ROSTER_GAP', 'a' || v.code, v.code, NULL::bigint, NULL::int, '', NULL::bigint, v.code,
       v.township_id, NULL::bigint, NULL::bigint, NULL::bigint,
       jsonb_build_object('area', v.name || ' ' || v.code, 'rate', round(1000.0 * c.missing / c.roster, 1),
                          'missing', c.missing, 'roster', c.roster)
FROM (SELECT r.village_id, count(*) AS roster, count(*) FILTER (WHERE NOT r.registered) AS missing
      FROM q_roster r GROUP BY r.village_id) c
JOIN census_village v ON v.code = c.village_id
WHERE c.missing >= {int(threshold("roster_gap_min_count"))} AND 1000.0 * c.missing / c.roster > {_MAX}
""",
    doc="Per village, roster persons registered nowhere stay within the 4‰ acceptance tolerance.",
)

CHECKS = [NOT_REGISTERED, ROSTER_GAP]

# The classification of the run's townships, written over their previous counts (in the district part's
# transaction). Registered persons are every person row of the townships, whatever the state of the form.
REFRESH_COUNTS = """
DELETE FROM quality_rosterareacount WHERE township_id = ANY(%(townships)s);
INSERT INTO quality_rosterareacount (township_id, village_id, small_area_id, roster, living_here, living_elsewhere,
    not_registered, registered, not_on_roster_local, not_on_roster_other, refreshed_at)
SELECT left(coalesce(a.village_id, b.village_id), 9), coalesce(a.village_id, b.village_id),
       nullif(coalesce(a.small_area_id, b.small_area_id), 0),
       coalesce(a.roster, 0), coalesce(a.living_here, 0), coalesce(a.living_elsewhere, 0),
       coalesce(a.not_registered, 0), coalesce(b.registered, 0), coalesce(b.local, 0), coalesce(b.other, 0), now()
FROM (
    SELECT r.village_id, coalesce(r.small_area_id, 0) AS small_area_id, count(*) AS roster,
           count(*) FILTER (WHERE r.registered AND r.here) AS living_here,
           count(*) FILTER (WHERE r.registered AND NOT r.here) AS living_elsewhere,
           count(*) FILTER (WHERE NOT r.registered) AS not_registered
    FROM q_roster r GROUP BY r.village_id, coalesce(r.small_area_id, 0)
) a
FULL JOIN (
    SELECT p.village_id, p.small_area_id, count(*) AS registered,
           count(*) FILTER (WHERE NOT on_roster AND p.d8_hukou_place IN (1, 2, 3)) AS local,
           count(*) FILTER (WHERE NOT on_roster AND p.d8_hukou_place IS DISTINCT FROM 1
                            AND p.d8_hukou_place IS DISTINCT FROM 2 AND p.d8_hukou_place IS DISTINCT FROM 3) AS other
    FROM (SELECT p.village_id, p.small_area_id, p.d8_hukou_place, r.id_number IS NOT NULL AS on_roster
          FROM enumeration_person p
          LEFT JOIN (SELECT DISTINCT id_number FROM quality_hukourosterentry
                     WHERE left(township_id, 6) = %(district)s) r
            ON r.id_number = p.d3_id_number AND p.d3_id_number <> ''
          WHERE p.township_id = ANY(%(townships)s)) p
    GROUP BY p.village_id, p.small_area_id
) b ON a.village_id = b.village_id AND a.small_area_id = b.small_area_id
"""
