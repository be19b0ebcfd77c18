"""The roster comparison (户口整顿 / 比对复查): the public-security roster against the registrations.

Every roster person is matched to the registrations of the district by ID number and classified where their
hukou is (village level): registered and living in the hukou village (``living_here``: a form of that village
with D7 = this small area); registered but living elsewhere or away (``living_elsewhere``, 人户分离); registered
nowhere (``not_registered``: the ``ROSTER_NOT_REGISTERED`` finding, 漏登 suspicion). Every registered person
not on the roster is counted where they were registered, split by whether their form says the hukou is in the
district (D8 = 1–3: a roster gap to ask public security about) or not. The matches and the per-household counts
are kept between runs (``quality_rostermatch``, ``quality_rosterhouseholdcount``) so that an incremental run
re-matches only what changed; ``REFRESH_COUNTS`` writes the counts of the run's townships to
``quality_rosterareacount``; ``AREA_ROSTER_GAP`` compares each village with the ≤ 4‰ acceptance tolerance.
"""

from __future__ import annotations

from census import privacy
from enumeration.rules.thresholds import threshold
from supervision.quality.checks.base import Check

# Who on the roster is registered, and where: the table ``quality_rostermatch`` (one row per ID number and
# village of the roster, duplicate roster lines counted once), kept between runs. A full run rebuilds the rows of
# its townships with one hash join of the roster with the person table; an incremental run over the district
# re-matches only the roster persons whose number is on a household changed since, or whose match rested on
# one. Every person row counts, whatever the state of its form.
_HERE = "p.village_id = r.village_id AND p.d7_residence = 1"
_DISTRICT_PERSON = "p.d3_id_number = r.id_number AND p.d3_id_number <> '' AND left(p.township_id, 6) = %(district)s"

# A full rebuild first clears the rows of its townships: for the whole district (and no other district's rows in the
# tables) with TRUNCATE — a million deleted rows would leave as many dead ones for autovacuum to chase while the
# next runs work; for some townships row by row.
OTHER_DISTRICTS_KEPT = """
SELECT EXISTS (SELECT 1 FROM quality_rostermatch WHERE left(township_id, 6) <> %(district)s)
    OR EXISTS (SELECT 1 FROM quality_rosterhouseholdcount WHERE left(township_id, 6) <> %(district)s)
"""
CLEAR_ALL = "TRUNCATE quality_rostermatch, quality_rosterhouseholdcount"
CLEAR_TOWNSHIPS = """
DELETE FROM quality_rostermatch WHERE township_id = ANY(%(townships)s);
DELETE FROM quality_rosterhouseholdcount WHERE township_id = ANY(%(townships)s);
"""

# A roster person registered nowhere is known by the pseudonym of their number (``census.privacy``: HMAC under
# the pseudonym key) — in their finding's key and in the record key people read and search: the same every night
# and across new imports of the roster (whose entries get new ids), and no ID number in a column that is shown.
# The match keeps it while they are registered nowhere, so that it is computed when the matches are rebuilt or
# change, not for each of them on every run. (The number itself stays in the finding's evidence, masked for every
# reader who may not see it.)
_PSEUDONYM = privacy.pseudonym_sql("id_number", "m.id_number")

MATCH_COLUMNS = (
    "entry_id, id_number, name, township_id, village_id, small_area_id, household_no, registered, here, "
    "household_id, here_household_id, pseudonym"
)
# (What a rebuild reads, apart from its insert: on a replica, its rows are copied into the primary's table.)
MATCH_FULL_SELECT = f"""
SELECT m.*, CASE WHEN m.household_id IS NULL THEN {_PSEUDONYM} END
FROM (
    SELECT DISTINCT ON (id_number, village_id) id, id_number, name, township_id, village_id, small_area_id,
           household_no, household_id IS NOT NULL, here_household_id IS NOT NULL, household_id, here_household_id
    FROM (
        SELECT r.id, r.id_number, r.name, r.township_id, r.village_id, r.small_area_id, r.household_no,
               min(p.household_id) AS household_id, min(p.household_id) FILTER (WHERE {_HERE}) AS here_household_id
        FROM quality_hukourosterentry r LEFT JOIN enumeration_person p ON {_DISTRICT_PERSON}
        WHERE r.township_id = ANY(%(townships)s)
        GROUP BY r.id
    ) matched
    ORDER BY id_number, village_id, small_area_id NULLS LAST, id
) m
"""
MATCH_ANALYZE = "ANALYZE quality_rostermatch"
MATCH_FULL = f"INSERT INTO quality_rostermatch ({MATCH_COLUMNS}) {MATCH_FULL_SELECT}; {MATCH_ANALYZE}"

_HIT_COLUMNS = (
    "m.entry_id, m.id_number, m.village_id, m.small_area_id, m.registered, m.here, m.household_id, "
    "m.here_household_id, m.township_id"
)

MATCH_CHANGED = f"""
-- The roster lines of a number on a changed household, looked up once: what the matches re-examined and the
-- households' counts (``HOUSEHOLD_COUNTS_CHANGED``) both read.
CREATE TEMP TABLE q_changed_roster ON COMMIT DROP AS
SELECT r.id, r.id_number, r.township_id FROM quality_hukourosterentry r
WHERE r.id_number IN (SELECT d3_id_number FROM q_changed_p WHERE d3_id_number <> '');
ANALYZE q_changed_roster;
-- The matches to look at again: those resting on a changed household (two look-ups through an index each; as one
-- condition joined by OR, the district's matches were scanned), whose rows come with them, and those of the roster
-- lines above, read by their keys only where the first two did not already bring them (most of them: a changed
-- household's persons are matched to it).
CREATE TEMP TABLE q_roster_hit ON COMMIT DROP AS
WITH resting AS MATERIALIZED (
    SELECT {_HIT_COLUMNS} FROM quality_rostermatch m WHERE m.household_id IN (SELECT id FROM q_changed)
    UNION SELECT {_HIT_COLUMNS} FROM quality_rostermatch m WHERE m.here_household_id IN (SELECT id FROM q_changed)
)
SELECT * FROM resting WHERE township_id = ANY(%(townships)s)
UNION ALL
SELECT {_HIT_COLUMNS} FROM quality_rostermatch m
WHERE m.entry_id IN (SELECT r.id FROM q_changed_roster r
                     WHERE NOT EXISTS (SELECT FROM resting x WHERE x.entry_id = r.id))
  AND m.township_id = ANY(%(townships)s);
ANALYZE q_roster_hit;
CREATE TEMP TABLE q_roster_new ON COMMIT DROP AS
SELECT r.entry_id, n.household_id, n.here_household_id
FROM q_roster_hit r CROSS JOIN LATERAL (
    SELECT min(p.household_id) AS household_id, min(p.household_id) FILTER (WHERE {_HERE}) AS here_household_id
    FROM enumeration_person p WHERE {_DISTRICT_PERSON}
) n
WHERE (r.household_id, r.here_household_id) IS DISTINCT FROM (n.household_id, n.here_household_id);
ANALYZE q_roster_new;
INSERT INTO q_roster_delta (village_id, small_area_id, living_here, living_elsewhere, not_registered)
SELECT r.village_id, coalesce(r.small_area_id, 0),
       (n.household_id IS NOT NULL AND n.here_household_id IS NOT NULL)::int - (r.registered AND r.here)::int,
       (n.household_id IS NOT NULL AND n.here_household_id IS NULL)::int - (r.registered AND NOT r.here)::int,
       (n.household_id IS NULL)::int - (NOT r.registered)::int
FROM q_roster_hit r JOIN q_roster_new n ON n.entry_id = r.entry_id;
UPDATE quality_rostermatch m SET
    registered = x.household_id IS NOT NULL, here = x.here_household_id IS NOT NULL,
    household_id = x.household_id, here_household_id = x.here_household_id,
    pseudonym = CASE WHEN x.household_id IS NULL THEN coalesce(m.pseudonym, {_PSEUDONYM}) END
FROM q_roster_new x WHERE m.entry_id = x.entry_id
"""

# An incremental roster part: how the counts of each area moved (``q_roster_delta``), from the matches it changed
# (``MATCH_CHANGED``) and the households it counted again (``HOUSEHOLD_COUNTS_CHANGED``), added to the areas'
# rows by ``APPLY_DELTA`` — what it changed, not the district's roster summed again. Empty in a full part, whose
# ``NOT_REGISTERED`` then reads every match (``q_roster_hit`` is empty too, but named by the SQL).
CREATE_DELTA = """
CREATE TEMP TABLE q_roster_delta (
    village_id text NOT NULL, small_area_id bigint NOT NULL, living_here int NOT NULL DEFAULT 0,
    living_elsewhere int NOT NULL DEFAULT 0, not_registered int NOT NULL DEFAULT 0, registered int NOT NULL DEFAULT 0,
    local int NOT NULL DEFAULT 0, other int NOT NULL DEFAULT 0
) ON COMMIT DROP;
"""
NO_HIT = f"""
CREATE TEMP TABLE q_roster_hit ON COMMIT DROP AS SELECT {_HIT_COLUMNS} FROM quality_rostermatch m WHERE false;
CREATE TEMP TABLE q_roster_new ON COMMIT DROP AS
SELECT entry_id, household_id, here_household_id FROM quality_rostermatch WHERE false;
"""

# The matches an incremental part looked at again that were registered nowhere before (``q_roster_hit``) or are
# now (``q_roster_new``): the only ones that have or may have a ``NOT_REGISTERED`` finding.
_UNREGISTERED_HITS = (
    "SELECT entry_id FROM q_roster_hit WHERE NOT registered "
    "UNION SELECT entry_id FROM q_roster_new WHERE household_id IS NULL"
)

# Per household: its persons, and those whose number is not on the district's roster, by where their hukou is
# (D8 = 1–3: in the district, a gap to ask public security about). A full run counts every household of its
# townships; an incremental one the changed households (their persons are in ``q_changed_p``, see
# ``runner.create_changed``).
_HOUSEHOLD_COUNTS = """
INSERT INTO quality_rosterhouseholdcount (household_id, township_id, village_id, small_area_id, registered,
    not_on_roster_local, not_on_roster_other)
SELECT p.household_id, min(p.township_id), min(p.village_id), min(p.small_area_id), count(*),
       count(*) FILTER (WHERE r.id_number IS NULL AND coalesce(p.d8_hukou_place IN (1, 2, 3), false)),
       count(*) FILTER (WHERE r.id_number IS NULL AND NOT coalesce(p.d8_hukou_place IN (1, 2, 3), false))
FROM {persons} p
LEFT JOIN (SELECT DISTINCT r.id_number FROM {roster} r WHERE left(r.township_id, 6) = %(district)s) r
  ON r.id_number = p.d3_id_number AND p.d3_id_number <> ''
GROUP BY p.household_id
"""
HOUSEHOLD_COUNTS_FULL = _HOUSEHOLD_COUNTS.format(
    persons="(SELECT * FROM enumeration_person WHERE township_id = ANY(%(townships)s))",
    roster="quality_hukourosterentry",
)
_COUNTED = "RETURNING village_id, small_area_id, registered, not_on_roster_local, not_on_roster_other"
HOUSEHOLD_COUNTS_CHANGED = f"""
WITH gone AS (DELETE FROM quality_rosterhouseholdcount WHERE household_id IN (SELECT id FROM q_changed) {_COUNTED})
INSERT INTO q_roster_delta (village_id, small_area_id, registered, local, other)
SELECT village_id, small_area_id, -registered, -not_on_roster_local, -not_on_roster_other FROM gone;
WITH made AS ({_HOUSEHOLD_COUNTS.format(persons="q_changed_p", roster="q_changed_roster")} {_COUNTED})
INSERT INTO q_roster_delta (village_id, small_area_id, registered, local, other)
SELECT village_id, small_area_id, registered, not_on_roster_local, not_on_roster_other FROM made;
"""

# What the checks below read: the matches of the run's townships.
_ROSTER = "(SELECT * FROM quality_rostermatch WHERE township_id = ANY(%(townships)s))"

ROSTER_RECORD_PREFIX = "roster:"


def roster_record_key(id_number: str) -> str:
    """The record key of a roster person's finding (what ``NOT_REGISTERED`` writes)."""
    return ROSTER_RECORD_PREFIX + privacy.id_number_pseudonym(id_number)


NOT_REGISTERED = Check(
    name="ROSTER_NOT_REGISTERED",
    codes=("ROSTER_NOT_REGISTERED",),
    kind="district",
    group="roster",
    sql=f"""
SELECT 'ROSTER_NOT_REGISTERED', 'r' || r.known_as || ':' || r.village_id, '{ROSTER_RECORD_PREFIX}' || r.known_as,
       NULL::bigint, NULL::int, '', r.small_area_id, r.village_id, r.township_id, NULL::bigint,
       (SELECT min(a.staff_id) FROM census_smallareaassignment a WHERE a.small_area_id = r.small_area_id),
       NULL::bigint,
       jsonb_build_object('name', r.name, 'id_number', r.id_number,
                          'key', coalesce(sa.code || coalesce(lpad(r.household_no::text, 3, '0'), ''), r.village_id))
-- (A match kept from before the pseudonyms has none yet: computed here. OFFSET 0 keeps PostgreSQL from pulling the
-- subquery up, which would compute it twice, for the key and for the record key.)
-- (An incremental part reads the matches it looked at again that were registered nowhere before or are now, by
-- their keys: the two branches, one of them cut off by its parameter before it runs, instead of one condition
-- joined by OR, which scanned the district's.)
FROM (SELECT m.*, coalesce(m.pseudonym, {_PSEUDONYM}) AS known_as
      FROM (SELECT * FROM {_ROSTER} m WHERE %(every_entry)s
            UNION ALL SELECT * FROM quality_rostermatch
            WHERE NOT %(every_entry)s AND entry_id IN ({_UNREGISTERED_HITS})) m
      WHERE NOT m.registered OFFSET 0) r
LEFT JOIN census_smallarea sa ON sa.id = r.small_area_id
""",
    params=lambda context: {**privacy.pseudonym_params(), "every_entry": context.since is None},
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
FROM (SELECT village_id, sum(roster) AS roster, sum(not_registered) AS missing
      FROM quality_rosterareacount WHERE township_id = ANY(%(townships)s)
      GROUP BY village_id HAVING sum(roster) > 0) c
JOIN census_village v ON v.code = c.village_id
WHERE c.missing >= {int(threshold("roster_gap_min_count"))} AND 1000.0 * c.missing / c.roster > {_MAX}
""",
    doc="Per village, roster persons registered nowhere stay within the 4‰ acceptance tolerance.",
)

CHECKS = [NOT_REGISTERED, ROSTER_GAP]

# The classification of the run's townships, written over their previous counts (in the roster part's
# transaction, before its checks: ``ROSTER_GAP`` sums them), from the matches and the household counts above. A
# full part's; an incremental one applies its ``q_roster_delta`` (``APPLY_DELTA``) and ends with the same rows.
REFRESH_COUNTS = f"""
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
    FROM {_ROSTER} r GROUP BY r.village_id, coalesce(r.small_area_id, 0)
) a
FULL JOIN (
    SELECT village_id, small_area_id, sum(registered) AS registered, sum(not_on_roster_local) AS local,
           sum(not_on_roster_other) AS other
    FROM quality_rosterhouseholdcount WHERE township_id = ANY(%(townships)s)
    GROUP BY village_id, small_area_id
) b ON a.village_id = b.village_id AND a.small_area_id = b.small_area_id
"""

# The moves summed per area: added to the area's row, or a new row for an area that had none (its moves are then
# all additions); an area left with no roster person and no registered person has no row, as after a refresh.
_AREA_DELTA = """
(SELECT village_id, small_area_id, sum(living_here) AS living_here, sum(living_elsewhere) AS living_elsewhere,
        sum(not_registered) AS not_registered, sum(registered) AS registered, sum(local) AS local,
        sum(other) AS other
 FROM q_roster_delta GROUP BY village_id, small_area_id
 HAVING (sum(living_here), sum(living_elsewhere), sum(not_registered), sum(registered), sum(local), sum(other))
        <> (0, 0, 0, 0, 0, 0))"""
APPLY_DELTA = f"""
CREATE TEMP TABLE q_roster_area_delta ON COMMIT DROP AS SELECT * FROM {_AREA_DELTA} d;
UPDATE quality_rosterareacount c SET
    living_here = c.living_here + d.living_here, living_elsewhere = c.living_elsewhere + d.living_elsewhere,
    not_registered = c.not_registered + d.not_registered, registered = c.registered + d.registered,
    not_on_roster_local = c.not_on_roster_local + d.local, not_on_roster_other = c.not_on_roster_other + d.other,
    refreshed_at = now()
FROM q_roster_area_delta d WHERE c.village_id = d.village_id AND coalesce(c.small_area_id, 0) = d.small_area_id;
INSERT INTO quality_rosterareacount (township_id, village_id, small_area_id, roster, living_here, living_elsewhere,
    not_registered, registered, not_on_roster_local, not_on_roster_other, refreshed_at)
SELECT left(d.village_id, 9), d.village_id, nullif(d.small_area_id, 0), 0, d.living_here, d.living_elsewhere,
       d.not_registered, d.registered, d.local, d.other, now()
FROM q_roster_area_delta d
WHERE NOT EXISTS (SELECT 1 FROM quality_rosterareacount c
                  WHERE c.village_id = d.village_id AND coalesce(c.small_area_id, 0) = d.small_area_id);
DELETE FROM quality_rosterareacount c USING q_roster_area_delta d
WHERE c.village_id = d.village_id AND coalesce(c.small_area_id, 0) = d.small_area_id
  AND c.roster = 0 AND c.registered = 0;
"""

# The findings an incremental part settles: those of the matches it looked at again that were registered nowhere
# before or are now — the others have no finding (their record keys, as ``NOT_REGISTERED`` writes them; a match
# registered since keeps no pseudonym, so it is computed here).
LOOKED_AT_AGAIN = f"""
CREATE TEMP TABLE q_roster_keys ON COMMIT DROP AS
SELECT 'r' || coalesce(m.pseudonym, {_PSEUDONYM}) || ':' || m.village_id AS key
FROM quality_rostermatch m
WHERE m.entry_id IN ({_UNREGISTERED_HITS});
CREATE INDEX ON q_roster_keys (key);
ANALYZE q_roster_keys;
"""
