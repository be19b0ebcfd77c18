"""The township's signed households counted once (``quality_householdtally``), for the cross-record rules.

The area rules (G), the coverage of persons and the enumerator anomalies all reduce a township's persons to sums
per small area, village, township or enumerator. Each household's share of those sums — its persons by sex, age
group, birth month and hukou, its infants, births and expected persons, the fingerprint the copy rule compares,
its signer and signature — is one row of ``quality_householdtally``, kept between runs: a part that checks every
form of a township rebuilds the township's rows; an incremental part rewrites the rows of the households changed
since the last run (every change of a form, its persons, its signature or its registrar writes the household's
``updated_at``) and reads no other person. The rules then sum the township's rows — one narrow row per
household instead of every person row, and no signature looked up — so that the part costs in proportion to the
changes, not to the township.

``TALLIES`` is what the rules read: the rows of the part's townships (a township part runs them, for one township
or a group of them; the rules group by township).
"""

from __future__ import annotations

from enumeration.rules.thresholds import threshold
from supervision.quality.checks.base import age_sql

TALLIES = "(SELECT * FROM quality_householdtally WHERE township_id = ANY(%(townships)s))"

# The age groups of SEX_RATIO_BY_AGE, in the order of the tally's arrays, with the label a finding shows.
AGE_GROUPS: list[tuple[int, int]] = [(int(low), int(high)) for low, high in threshold("sex_ratio_age_groups")]
AGE_GROUP_LABELS = [f"{low}–{high if high < 150 else ''}" for low, high in AGE_GROUPS]
WHIPPLE_AGES: tuple[int, int] = tuple(int(age) for age in threshold("whipple_ages"))  # type: ignore[assignment]

# One person's share of the copy rule's fingerprint (names and ID numbers aside).
FINGERPRINT_PERSON = (
    "concat_ws(',', p.d2_relationship, p.d4_sex, p.d5_birth_year, p.d5_birth_month, p.d6_ethnicity, p.d7_residence, "
    "p.d8_hukou_place, p.d9_away_duration, p.d10_away_reason, p.d11_education, p.d12_literate)"
)


def _by_group(sex: int) -> str:
    return (
        "ARRAY["
        + ", ".join(
            f"count(*) FILTER (WHERE p.d4_sex = {sex} AND p.age BETWEEN {low} AND {high})" for low, high in AGE_GROUPS
        )
        + "]::int[]"
    )


_EMPTY_GROUPS = "ARRAY[" + ", ".join("0" for _ in AGE_GROUPS) + "]::int[]"

_COLUMNS = (
    "household_id, township_id, village_id, small_area_id, area_code, household_no, registrar_id, signer_id, "
    "signed_at, signature_id, family, is_foreign, listed, expected_persons, births, persons, infants, male, female, "
    "birth_month_known, born_january, hukou_pending, whipple_persons, whipple_heaped, age_group_male, "
    "age_group_female, fingerprint"
)


COLUMNS = _COLUMNS


def insert_sql(persons: str) -> str:
    """Tally every household of ``q_signed`` from the person rows in ``persons`` (a relation that holds at least
    every person of those households; ``age`` is computed here)."""
    return f"\nINSERT INTO quality_householdtally ({_COLUMNS})\n" + rows_sql(persons)


def rows_sql(persons: str) -> str:
    """The rows ``insert_sql`` inserts (on a replica, with ``q_signed`` as a CTE, copied into the table)."""
    low, high = WHIPPLE_AGES
    return (
        "SELECT s.id, s.township_id, s.village_id, s.small_area_id, s.area_code, s.household_no, "
        + f"""\
s.registrar_id, s.signer_id,
       s.signed_at, s.signature_id, s.family, s.is_foreign, s.listed, s.expected_persons,
       coalesce(s.h3_births_male, 0) + coalesce(s.h3_births_female, 0), coalesce(c.persons, 0),
       coalesce(c.infants, 0), coalesce(c.male, 0), coalesce(c.female, 0), coalesce(c.month_known, 0),
       coalesce(c.january, 0), coalesce(c.pending, 0), coalesce(c.whipple_n, 0), coalesce(c.whipple_k, 0),
       coalesce(c.group_male, {_EMPTY_GROUPS}), coalesce(c.group_female, {_EMPTY_GROUPS}),
       coalesce(md5(concat_ws('|', s.h1_kind, s.h5_residence_type, s.h6_floor_area, s.h7_rooms) || '|' || c.people),
                '')
FROM q_signed s LEFT JOIN (
    SELECT p.household_id, count(*) AS persons, count(*) FILTER (WHERE p.age = 0) AS infants,
           count(*) FILTER (WHERE p.d4_sex = 1) AS male, count(*) FILTER (WHERE p.d4_sex = 2) AS female,
           count(*) FILTER (WHERE p.d5_birth_month IS NOT NULL) AS month_known,
           count(*) FILTER (WHERE p.d5_birth_month = 1) AS january,
           count(*) FILTER (WHERE p.d8_hukou_place = 5) AS pending,
           count(*) FILTER (WHERE p.age BETWEEN {low} AND {high}) AS whipple_n,
           count(*) FILTER (WHERE p.age BETWEEN {low} AND {high} AND mod(p.age, 5) = 0) AS whipple_k,
           {_by_group(1)} AS group_male, {_by_group(2)} AS group_female,
           string_agg({FINGERPRINT_PERSON}, ';' ORDER BY p.row_no) AS people
    FROM (SELECT p.household_id, p.row_no, p.d2_relationship, p.d4_sex, p.d5_birth_year, p.d5_birth_month,
                 p.d6_ethnicity, p.d7_residence, p.d8_hukou_place, p.d9_away_duration, p.d10_away_reason,
                 p.d11_education, p.d12_literate, {age_sql("p.d5_birth_year", "p.d5_birth_month")} AS age
          FROM {persons} p) p
    WHERE p.household_id IN (SELECT id FROM q_signed)
    GROUP BY p.household_id
) c ON c.household_id = s.id
"""
    )


# --- The sums per small area and registrar (``quality_arearegistrartally``) -------------------------------------

SUM_COLUMNS = (
    "households, persons, infants, births, birth_month_known, born_january, hukou_pending, family_households, "
    "family_persons, family_male, family_female, family_whipple_persons, family_whipple_heaped, "
    "family_age_group_male, family_age_group_female, listed_households, listed_persons, listed_expected"
)
KEY_COLUMNS = "township_id, village_id, small_area_id, registrar_id"
_KEYS_OF_T = ", ".join(f"t.{column}" for column in KEY_COLUMNS.split(", "))
_COUNTED = "t.household_no <> 999 AND NOT t.is_foreign"
_FAMILY = f"{_COUNTED} AND t.family"
_LISTED = "t.listed AND t.household_no <> 999"


def _sum(value: str, where: str) -> str:
    # ``t.sign`` is +1 for a tally row added, −1 for one taken away (an incremental part's difference).
    return f"coalesce(sum(t.sign * {value}) FILTER (WHERE {where}), 0)"


def _group_sums(column: str) -> str:
    return "ARRAY[" + ", ".join(_sum(f"t.{column}[{i}]", _FAMILY) for i in range(1, len(AGE_GROUPS) + 1)) + "]::int[]"


def sums_sql(rows: str) -> str:
    """The sums per (township, village, small area, registrar) of the tally rows ``rows`` (with a ``sign``)."""
    return f"""
SELECT {_KEYS_OF_T},
       {_sum("1", _COUNTED)}, {_sum("t.persons", _COUNTED)}, {_sum("t.infants", _COUNTED)},
       {_sum("t.births", _COUNTED)}, {_sum("t.birth_month_known", _COUNTED)}, {_sum("t.born_january", _COUNTED)},
       {_sum("t.hukou_pending", _COUNTED)}, {_sum("1", _FAMILY)}, {_sum("t.persons", _FAMILY)},
       {_sum("t.male", _FAMILY)}, {_sum("t.female", _FAMILY)}, {_sum("t.whipple_persons", _FAMILY)},
       {_sum("t.whipple_heaped", _FAMILY)}, {_group_sums("age_group_male")}, {_group_sums("age_group_female")},
       {_sum("1", _LISTED)}, {_sum("t.persons", _LISTED)}, {_sum("t.expected_persons", _LISTED)}
FROM ({rows}) t
GROUP BY {_KEYS_OF_T}
"""


def _added(column: str) -> str:
    if column.startswith("family_age_group_"):
        return (
            "ARRAY["
            + ", ".join(f"k.{column}[{i}] + excluded.{column}[{i}]" for i in range(1, len(AGE_GROUPS) + 1))
            + "]::int[]"
        )
    return f"k.{column} + excluded.{column}"


SUMS_REBUILD = (
    "DELETE FROM quality_arearegistrartally WHERE township_id = %(township)s;\n"
    f"INSERT INTO quality_arearegistrartally ({KEY_COLUMNS}, {SUM_COLUMNS})\n"
    + sums_sql("SELECT *, 1 AS sign FROM quality_householdtally WHERE township_id = %(township)s")
)

# The difference the rewritten rows make, added to the kept sums (an area and registrar met for the first time is
# inserted); a row whose households all went is removed.
SUMS_MOVE = (
    f"INSERT INTO quality_arearegistrartally AS k ({KEY_COLUMNS}, {SUM_COLUMNS})\n"
    + sums_sql("SELECT *, -1 AS sign FROM q_tally_before UNION ALL SELECT *, 1 AS sign FROM q_tally_after")
    + "ON CONFLICT (small_area_id, registrar_id) DO UPDATE SET "
    + ", ".join(f"{column} = {_added(column)}" for column in SUM_COLUMNS.split(", "))
    + ";\nDELETE FROM quality_arearegistrartally WHERE households = 0 AND listed_households = 0 "
    "AND small_area_id IN (SELECT small_area_id FROM q_tally_before);\n"
)

# A household the copy rule compares (``anomalies.COPY_PASTE``): no other can be its copy.
_COPYABLE = f"household_no <> 999 AND NOT is_foreign AND persons >= {int(threshold('copy_paste_min_persons'))}"

# What an incremental part's speed and copy rules look at again (``anomalies``), from the rows it rewrote:
# - ``q_speed_days``: the signers and days whose signatures changed — a signature at t is in the hour's windows
#   that start on the day of t and, up to an hour before, on the day before; ``day_start`` is that day's midnight
#   in China's time, from which the rule reads 25 hours of the signer's signatures (the last window of the day ends
#   before 01:00 of the next);
# - ``q_copy_prints``: the fingerprints of each registrar the changed households had or have, and
#   ``q_copy_households`` the households that have them now or changed (whose copy findings are settled again).
SCOPES = f"""
CREATE TEMP TABLE q_speed_days ON COMMIT DROP AS
SELECT DISTINCT c.signer_id, to_char(d.day, 'YYYY-MM-DD') AS day,
       d.day::timestamp AT TIME ZONE 'Asia/Shanghai' AS day_start
FROM ((SELECT household_id, signer_id, signed_at FROM q_tally_before WHERE signature_id IS NOT NULL
       EXCEPT SELECT household_id, signer_id, signed_at FROM q_tally_after WHERE signature_id IS NOT NULL)
      UNION ALL
      (SELECT household_id, signer_id, signed_at FROM q_tally_after WHERE signature_id IS NOT NULL
       EXCEPT SELECT household_id, signer_id, signed_at FROM q_tally_before WHERE signature_id IS NOT NULL)) c
CROSS JOIN LATERAL (VALUES ((c.signed_at AT TIME ZONE 'Asia/Shanghai')::date),
                           (((c.signed_at - interval '1 hour') AT TIME ZONE 'Asia/Shanghai')::date)) d(day);
ANALYZE q_speed_days;
CREATE TEMP TABLE q_copy_prints ON COMMIT DROP AS
SELECT registrar_id, fingerprint FROM q_tally_before WHERE {_COPYABLE}
UNION SELECT registrar_id, fingerprint FROM q_tally_after WHERE {_COPYABLE};
ANALYZE q_copy_prints;
CREATE TEMP TABLE q_copy_households ON COMMIT DROP AS
SELECT s.household_id FROM q_copy_prints p
CROSS JOIN LATERAL (SELECT s.household_id FROM quality_householdtally s
                    WHERE s.registrar_id = p.registrar_id AND s.fingerprint = p.fingerprint OFFSET 0) s
UNION SELECT id FROM q_changed;
ANALYZE q_copy_households;
"""

# A full part's: nothing (its rules look at the whole township), but the rules' SQL names them.
NO_SCOPES = """
CREATE TEMP TABLE q_speed_days (signer_id bigint, day text, day_start timestamptz) ON COMMIT DROP;
CREATE TEMP TABLE q_copy_prints (registrar_id bigint, fingerprint text) ON COMMIT DROP;
CREATE TEMP TABLE q_copy_households (household_id bigint) ON COMMIT DROP;
"""

# A part that checks every form of its township: the township's rows again, from its persons, and their sums.
REBUILD_DELETE = "DELETE FROM quality_householdtally WHERE township_id = %(township)s;\n"
TOWNSHIP_PERSONS = "(SELECT * FROM enumeration_person WHERE township_id = %(township)s)"
# (After the rows: when they were read on a replica and copied in.)
REBUILD_SUMS = SUMS_REBUILD + ";\n" + NO_SCOPES
REBUILD = REBUILD_DELETE + insert_sql(TOWNSHIP_PERSONS) + ";\n" + REBUILD_SUMS

# An incremental part: the rows of the households changed since (``q_changed``: of every state — a form that is
# no longer signed leaves the tally), from the persons of those still signed (``q_p``); the sums moved by the
# difference between the rows taken away (``q_tally_before``) and those written.
# (Steps, each timed in the part's statistics.)
REWRITE_CHANGED: list[tuple[str, str]] = [
    (
        "rows",
        "CREATE TEMP TABLE q_tally_before ON COMMIT DROP AS "
        "SELECT * FROM quality_householdtally WHERE household_id IN (SELECT id FROM q_changed);\n"
        "DELETE FROM quality_householdtally WHERE household_id IN (SELECT id FROM q_changed);\n"
        + insert_sql("q_p")
        + ";\nCREATE TEMP TABLE q_tally_after ON COMMIT DROP AS "
        "SELECT * FROM quality_householdtally WHERE household_id IN (SELECT id FROM q_changed);\n",
    ),
    ("sums", SUMS_MOVE),
    ("scopes", SCOPES),
]

# What the rules read: the part's townships' kept sums (grouped by township in every rule).
SUMS = "(SELECT * FROM quality_arearegistrartally WHERE township_id = ANY(%(townships)s))"
