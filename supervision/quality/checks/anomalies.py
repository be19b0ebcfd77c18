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
design and says nothing about the enumerator.
"""

from __future__ import annotations

from enumeration.rules.thresholds import threshold
from supervision.quality.checks.base import Check

_Z = float(threshold("z_max"))
_STAFF = "(SELECT 'staff:' || m.username FROM census_staffmember m WHERE m.id = {id})"
# household, row, item, small area, village, township: staff findings belong to the township only.
_SUPERVISED_COLUMNS = "NULL::bigint, NULL::int, '', NULL::bigint, NULL::text, %(township)s"

# Persons of the township's signed family households (q_sp), with their registrar and age.
FAMILY_PERSONS = "SELECT * FROM q_sp WHERE family AND NOT is_foreign AND household_no <> 999"

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
    SELECT s.signer_id, to_char(s.signed_at AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD') AS day,
           count(*) OVER (PARTITION BY s.signer_id ORDER BY s.signed_at
                          RANGE BETWEEN CURRENT ROW AND interval '59 minutes 59.999999 seconds' FOLLOWING) AS in_hour
    -- q_signed carries each form's current signature: its signer and when it was signed.
    FROM q_signed s WHERE s.signature_id IS NOT NULL
) w
GROUP BY signer_id, day HAVING max(in_hour) > {int(threshold("speed_max_per_hour"))}
""",
    doc="At most six households signed within any hour.",
)

_FINGERPRINT_PERSON = (
    "concat_ws(',', p.d2_relationship, p.d4_sex, p.d5_birth_year, p.d5_birth_month, p.d6_ethnicity, p.d7_residence, "
    "p.d8_hukou_place, p.d9_away_duration, p.d10_away_reason, p.d11_education, p.d12_literate)"
)

COPY_PASTE = Check(
    name="COPY_PASTE_HOUSEHOLDS",
    codes=("COPY_PASTE_HOUSEHOLDS",),
    kind="cross",
    group="anomaly",
    sql=f"""
WITH people AS (
    -- Per household first, on its one key: the persons' part of the fingerprint.
    SELECT p.household_id, count(*) AS persons, string_agg({_FINGERPRINT_PERSON}, ';' ORDER BY p.row_no) AS people
    FROM q_sp p GROUP BY p.household_id
), prints AS (
    SELECT s.id, s.registrar_id, s.area_code || lpad(s.household_no::text, 3, '0') AS household_key,
           s.small_area_id, s.village_id, s.signature_id,
           md5(concat_ws('|', s.h1_kind, s.h5_residence_type, s.h6_floor_area, s.h7_rooms) || '|' || pp.people)
             AS print
    FROM q_signed s JOIN people pp ON pp.household_id = s.id
    WHERE s.household_no <> 999 AND NOT s.is_foreign AND pp.persons >= {int(threshold("copy_paste_min_persons"))}
), copies AS (
    SELECT p.*, string_agg(o.household_key, ', ' ORDER BY o.household_key) AS others
    FROM prints p JOIN prints o ON o.registrar_id = p.registrar_id AND o.print = p.print AND o.id <> p.id
    GROUP BY p.id, p.registrar_id, p.household_key, p.small_area_id, p.village_id, p.signature_id, p.print
)
SELECT 'COPY_PASTE_HOUSEHOLDS', 'h' || c.id || ':copy', c.household_key, c.id, NULL::int, '', c.small_area_id,
       c.village_id, %(township)s, c.registrar_id, c.registrar_id, c.signature_id,
       jsonb_build_object('other', c.others)
FROM copies c
""",
    doc="No two households of one enumerator are copies of each other.",
)

_W_LOW, _W_HIGH = threshold("whipple_ages")

AGE_HEAPING = Check(
    name="AGE_HEAPING",
    codes=("AGE_HEAPING",),
    kind="cross",
    group="anomaly",
    sql=f"""
SELECT 'AGE_HEAPING', 's' || registrar_id || ':whipple', {_STAFF.format(id="registrar_id")},
       {_SUPERVISED_COLUMNS}, registrar_id, registrar_id, NULL::bigint,
       jsonb_build_object('index', round(500.0 * k / n), 'persons', n)
FROM (SELECT registrar_id, count(*) AS n, count(*) FILTER (WHERE mod(age, 5) = 0) AS k
      FROM ({FAMILY_PERSONS}) p WHERE age BETWEEN {int(_W_LOW)} AND {int(_W_HIGH)} GROUP BY registrar_id) c
WHERE n >= {int(threshold("whipple_min_persons"))} AND 500.0 * k / n > {float(threshold("whipple_max"))}
  AND (k - 0.2 * n) / sqrt(0.16 * n) > {_Z}
""",
    doc="Ages do not heap on 0 and 5 (Whipple's index).",
)

_GROUPS = threshold("sex_ratio_age_groups")
_GROUP_CASE = (
    "(CASE "
    + " ".join(
        f"WHEN age BETWEEN {int(low)} AND {int(high)} THEN '{low}–{high if high < 150 else ''}'"
        for low, high in _GROUPS
    )
    + " END)"
)
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
FROM (SELECT registrar_id, {_GROUP_CASE} AS age_group, count(*) FILTER (WHERE d4_sex = 1) AS male,
             count(*) FILTER (WHERE d4_sex = 2) AS female
      FROM ({FAMILY_PERSONS}) p WHERE age >= 0 AND d4_sex IN (1, 2) GROUP BY 1, 2) c
WHERE male + female >= {int(threshold("sex_ratio_min_persons"))}
  AND (female = 0 OR 100.0 * male / female NOT BETWEEN {float(_SR_LOW)} AND {float(_SR_HIGH)})
  AND abs(male - {_P} * (male + female)) / sqrt((male + female) * {_P} * (1 - {_P})) > {_Z}
""",
    doc="Each age group of an enumerator's persons has a plausible sex ratio.",
)

CHECKS = [SPEED, COPY_PASTE, AGE_HEAPING, SEX_RATIO]
