"""Enumerator anomalies: the work of one enumerator (their signed forms in the township) looked at as a whole.

* ``SPEED_IMPLAUSIBLE`` — more than ``speed_max_per_hour`` households signed by one person within any 60 minutes
  (a sliding window over their signatures; a door-to-door visit takes 12–30 minutes). One finding per day.
* ``COPY_PASTE_HOUSEHOLDS`` — two households of one registrar, each of ``copy_paste_min_persons`` or more
  persons, identical in every person's relationship, sex, birth month, ethnicity, residence, hukou, migration,
  education and literacy and in the household's type, residence, floor area and rooms — names and ID numbers
  aside. By chance that does not happen; by copying it does.
* ``AGE_HEAPING`` — Whipple's index over ages 23–62 (persons whose age ends in 0 or 5, against one fifth of all):
  above ``whipple_max`` and binomially significant (z > ``z_max``).
* ``SEX_RATIO_BY_AGE`` — per age group, the sex ratio outside ``sex_ratio_by_age_range`` and significantly far
  from ``male_share_expected`` (|z| > ``z_max``), with at least ``sex_ratio_min_persons`` persons.

Ages and sexes are read from family households only: a dormitory or a care home (集体户) is single-sex or old by
design and says nothing about the enumerator. The last two sum the township's kept sums per small area and
registrar (``tally.SUMS``); the first two compare households, and read the tally.
"""

from __future__ import annotations

from enumeration.rules.thresholds import threshold
from supervision.quality.checks.base import Check
from supervision.quality.checks.tally import AGE_GROUP_LABELS, SUMS, TALLIES

_Z = float(threshold("z_max"))
_STAFF = "(SELECT 'staff:' || m.username FROM census_staffmember m WHERE m.id = {id})"
# household, row, item, small area, village, township: staff findings belong to the township only. (A part may
# check several townships at once: each rule looks at each enumerator's work within one township, as before.)
_SUPERVISED_COLUMNS = "NULL::bigint, NULL::int, '', NULL::bigint, NULL::text, township_id"


SPEED = Check(
    name="SPEED_IMPLAUSIBLE",
    codes=("SPEED_IMPLAUSIBLE",),
    kind="cross",
    group="anomaly",
    sql=f"""
SELECT 'SPEED_IMPLAUSIBLE', 's' || signer_id || ':' || day, {_STAFF.format(id="signer_id")},
       {_SUPERVISED_COLUMNS}, signer_id, signer_id, NULL::bigint,
       jsonb_build_object('date', day, 'count', max(in_hour))
FROM (
    SELECT s.township_id, s.signer_id, to_char(s.signed_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD') AS day,
           count(*) OVER (PARTITION BY s.township_id, s.signer_id ORDER BY s.signed_at
                          RANGE BETWEEN CURRENT ROW AND interval '59 minutes 59.999999 seconds' FOLLOWING) AS in_hour
    -- The tally carries each form's current signature: its signer and when it was signed. An incremental part
    -- reads the signers' 25 hours from each day whose signatures changed (``tally.SCOPES``).
    FROM (SELECT s.township_id, s.signer_id, s.signed_at FROM {TALLIES} s
          WHERE %(every_area)s AND s.signature_id IS NOT NULL
          UNION ALL
          SELECT s.township_id, s.signer_id, s.signed_at FROM quality_householdtally s
          WHERE NOT %(every_area)s AND s.township_id = ANY(%(townships)s) AND s.signature_id IS NOT NULL
            AND s.signer_id IN (SELECT signer_id FROM q_speed_days)
            AND EXISTS (SELECT 1 FROM q_speed_days k WHERE k.signer_id = s.signer_id
                        AND s.signed_at >= k.day_start AND s.signed_at < k.day_start + interval '25 hours')) s
) w
WHERE %(every_area)s OR (signer_id, day) IN (SELECT signer_id, day FROM q_speed_days)
GROUP BY township_id, signer_id, day HAVING max(in_hour) > {int(threshold("speed_max_per_hour"))}
""",
    doc="At most six households signed within any hour.",
    settles="f.key IN (SELECT 's' || signer_id || ':' || day FROM q_speed_days)",
)

COPY_PASTE = Check(
    name="COPY_PASTE_HOUSEHOLDS",
    codes=("COPY_PASTE_HOUSEHOLDS",),
    kind="cross",
    group="anomaly",
    sql=f"""
WITH prints AS (
    -- The tally's fingerprint: the household's type, residence, floor area and rooms, and its persons' items.
    SELECT s.household_id AS id, s.township_id, s.registrar_id,
           s.area_code || lpad(s.household_no::text, 3, '0') AS household_key,
           s.small_area_id, s.village_id, s.signature_id, s.fingerprint AS print
    FROM (SELECT * FROM {TALLIES} s WHERE %(every_area)s
          UNION ALL
          -- An incremental part: the households of the fingerprints the changed ones had or have.
          -- (Print by print through the registrar-and-fingerprint index — OFFSET 0 keeps PostgreSQL from
          -- turning the look-ups into a join over the township's every row.)
          SELECT s.* FROM q_copy_prints p
          CROSS JOIN LATERAL (SELECT * FROM quality_householdtally s
                              WHERE s.registrar_id = p.registrar_id AND s.fingerprint = p.fingerprint OFFSET 0) s
          WHERE NOT %(every_area)s AND s.township_id = ANY(%(townships)s)) s
    WHERE s.household_no <> 999 AND NOT s.is_foreign AND s.persons >= {int(threshold("copy_paste_min_persons"))}
), copies AS (
    SELECT p.*, string_agg(o.household_key, ', ' ORDER BY o.household_key) AS others
    FROM prints p JOIN prints o ON o.township_id = p.township_id AND o.registrar_id = p.registrar_id
                                   AND o.print = p.print AND o.id <> p.id
    GROUP BY p.id, p.township_id, p.registrar_id, p.household_key, p.small_area_id, p.village_id, p.signature_id,
             p.print
)
SELECT 'COPY_PASTE_HOUSEHOLDS', 'h' || c.id || ':copy', c.household_key, c.id, NULL::int, '', c.small_area_id,
       c.village_id, c.township_id, c.registrar_id, c.registrar_id, c.signature_id,
       jsonb_build_object('other', c.others)
FROM copies c
""",
    doc="No two households of one enumerator are copies of each other.",
    settles="f.household_id IN (SELECT household_id FROM q_copy_households)",
)

AGE_HEAPING = Check(
    name="AGE_HEAPING",
    codes=("AGE_HEAPING",),
    kind="cross",
    group="anomaly",
    sql=f"""
SELECT 'AGE_HEAPING', 's' || registrar_id || ':whipple', {_STAFF.format(id="registrar_id")},
       {_SUPERVISED_COLUMNS}, registrar_id, registrar_id, NULL::bigint,
       jsonb_build_object('index', round(500.0 * k / n), 'persons', n)
FROM (SELECT township_id, registrar_id, sum(family_whipple_persons) AS n, sum(family_whipple_heaped) AS k
      FROM {SUMS} s GROUP BY township_id, registrar_id HAVING sum(family_whipple_persons) > 0) c
WHERE n >= {int(threshold("whipple_min_persons"))} AND 500.0 * k / n > {float(threshold("whipple_max"))}
  AND (k - 0.2 * n) / sqrt(0.16 * n) > {_Z}
""",
    doc="Ages do not heap on 0 and 5 (Whipple's index).",
)

# The tally's age groups (in the order of its arrays) by their labels.
_GROUP_LABEL = "(ARRAY[" + ", ".join(f"'{label}'" for label in AGE_GROUP_LABELS) + "])[g.i::int]"
_P = float(threshold("male_share_expected"))
_SR_LOW, _SR_HIGH = threshold("sex_ratio_by_age_range")

SEX_RATIO = Check(
    name="SEX_RATIO_BY_AGE",
    codes=("SEX_RATIO_BY_AGE",),
    kind="cross",
    group="anomaly",
    sql=f"""
SELECT 'SEX_RATIO_BY_AGE', 's' || registrar_id || ':sex' || age_group, {_STAFF.format(id="registrar_id")},
       {_SUPERVISED_COLUMNS}, registrar_id, registrar_id, NULL::bigint,
       jsonb_build_object('group', age_group, 'male', male, 'female', female,
                          'ratio', CASE WHEN female = 0 THEN NULL ELSE round(100.0 * male / female) END)
FROM (SELECT s.township_id, s.registrar_id, {_GROUP_LABEL} AS age_group, sum(g.male) AS male,
             sum(g.female) AS female
      FROM {SUMS} s
      CROSS JOIN LATERAL unnest(s.family_age_group_male, s.family_age_group_female) WITH ORDINALITY g(male, female, i)
      GROUP BY s.township_id, s.registrar_id, g.i HAVING sum(g.male) + sum(g.female) > 0) c
WHERE male + female >= {int(threshold("sex_ratio_min_persons"))}
  AND (female = 0 OR 100.0 * male / female NOT BETWEEN {float(_SR_LOW)} AND {float(_SR_HIGH)})
  AND abs(male - {_P} * (male + female)) / sqrt((male + female) * {_P} * (1 - {_P})) > {_Z}
""",
    doc="Each age group of an enumerator's persons has a plausible sex ratio.",
)

CHECKS = [SPEED, COPY_PASTE, AGE_HEAPING, SEX_RATIO]
