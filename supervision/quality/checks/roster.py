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

# Roster persons of the township, one row per (ID number, village), with whether and how they are registered.
MATCHED = """
SELECT DISTINCT ON (r.id_number, r.village_id) r.*,
       m.n > 0 AS registered, coalesce(m.here, false) AS here
FROM quality_hukourosterentry r
CROSS JOIN LATERAL (
    SELECT count(*) AS n, bool_or(p.village_id = r.village_id AND p.d7_residence = 1) AS here
    FROM enumeration_person p WHERE p.d3_id_number = r.id_number AND left(p.township_id, 6) = %(district)s
) m
WHERE r.township_id = %(township)s
ORDER BY r.id_number, r.village_id, r.small_area_id NULLS LAST, r.id
"""

NOT_REGISTERED = Check(
    name="ROSTER_NOT_REGISTERED",
    codes=("ROSTER_NOT_REGISTERED",),
    kind="cross",
    group="roster",
    sql=f"""
SELECT 'ROSTER_NOT_REGISTERED', 'r' || r.id_number || ':' || r.village_id, 'roster:' || r.id_number,
       NULL::bigint, NULL::int, '', r.small_area_id, r.village_id, r.township_id, NULL::bigint,
       (SELECT min(a.staff_id) FROM census_smallareaassignment a WHERE a.small_area_id = r.small_area_id),
       NULL::bigint,
       jsonb_build_object('name', r.name, 'id_number', r.id_number,
                          'key', coalesce(sa.code || coalesce(lpad(r.household_no::text, 3, '0'), ''), r.village_id))
FROM ({MATCHED}) r LEFT JOIN census_smallarea sa ON sa.id = r.small_area_id
WHERE NOT r.registered
""",
    doc="Everyone on the roster of the district is registered somewhere in it.",
)

_MAX = float(threshold("roster_gap_max_permille"))

ROSTER_GAP = Check(
    name="AREA_ROSTER_GAP",
    codes=("AREA_ROSTER_GAP",),
    kind="cross",
    group="G",
    sql=f"""
SELECT 'AREA_ROSTER_GAP', 'a' || v.code, v.code, NULL::bigint, NULL::int, '', NULL::bigint, v.code,
       v.township_id, NULL::bigint, NULL::bigint, NULL::bigint,
       jsonb_build_object('area', v.name || ' ' || v.code, 'rate', round(1000.0 * c.missing / c.roster, 1),
                          'missing', c.missing, 'roster', c.roster)
FROM (SELECT r.village_id, count(*) AS roster, count(*) FILTER (WHERE NOT r.registered) AS missing
      FROM ({MATCHED}) r GROUP BY r.village_id) c
JOIN census_village v ON v.code = c.village_id
WHERE c.missing >= {int(threshold("roster_gap_min_count"))} AND 1000.0 * c.missing / c.roster > {_MAX}
""",
    doc="Per village, roster persons registered nowhere stay within the 4‰ acceptance tolerance.",
)

CHECKS = [NOT_REGISTERED, ROSTER_GAP]

# The classification of one township, written over its previous counts (run inside the part's transaction).
REFRESH_COUNTS = f"""
DELETE FROM quality_rosterareacount WHERE township_id = %(township)s;
INSERT INTO quality_rosterareacount (township_id, village_id, small_area_id, roster, living_here, living_elsewhere,
    not_registered, registered, not_on_roster_local, not_on_roster_other, refreshed_at)
SELECT %(township)s, coalesce(a.village_id, b.village_id), coalesce(a.small_area_id, b.small_area_id),
       coalesce(a.roster, 0), coalesce(a.living_here, 0), coalesce(a.living_elsewhere, 0),
       coalesce(a.not_registered, 0), coalesce(b.registered, 0), coalesce(b.local, 0), coalesce(b.other, 0), now()
FROM (
    SELECT r.village_id, r.small_area_id, count(*) AS roster,
           count(*) FILTER (WHERE r.registered AND r.here) AS living_here,
           count(*) FILTER (WHERE r.registered AND NOT r.here) AS living_elsewhere,
           count(*) FILTER (WHERE NOT r.registered) AS not_registered
    FROM ({MATCHED}) r GROUP BY r.village_id, r.small_area_id
) a
FULL JOIN (
    SELECT p.village_id, p.small_area_id, count(*) AS registered,
           count(*) FILTER (WHERE NOT on_roster AND p.d8_hukou_place IN (1, 2, 3)) AS local,
           count(*) FILTER (WHERE NOT on_roster AND p.d8_hukou_place IS DISTINCT FROM 1
                            AND p.d8_hukou_place IS DISTINCT FROM 2 AND p.d8_hukou_place IS DISTINCT FROM 3) AS other
    FROM (SELECT p.*, (p.d3_id_number <> '' AND EXISTS (
              SELECT 1 FROM quality_hukourosterentry r WHERE r.id_number = p.d3_id_number
              AND left(r.township_id, 6) = %(district)s)) AS on_roster
          FROM enumeration_person p WHERE p.township_id = %(township)s) p
    GROUP BY p.village_id, p.small_area_id
) b ON a.village_id = b.village_id AND coalesce(a.small_area_id, 0) = coalesce(b.small_area_id, 0)
"""
