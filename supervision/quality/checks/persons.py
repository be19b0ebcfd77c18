"""D migration, E education and F long form: per-person rules, the SQL twins of ``entry._migration``,
``entry._education`` and ``entry._long_form_person``.
"""

from __future__ import annotations

from enumeration.rules.thresholds import threshold
from supervision.quality.checks.base import REFERENCE_YM, Check, age_sql, case_map, evidence

CENSUS = "FROM q_p p WHERE p.regular AND NOT p.is_foreign"
LONG = "FROM q_p p WHERE p.regular AND NOT p.is_foreign AND p.long_form"

_away_min = case_map("p.d9_away_duration", threshold("away_min_years"))
_reason_low = case_map("p.d10_away_reason", {k: v[0] for k, v in threshold("away_reason_ages").items()})
_reason_high = case_map("p.d10_away_reason", {k: v[1] for k, v in threshold("away_reason_ages").items()})
_education_min = case_map("p.d11_education", threshold("education_min_age"))
_fertility = ("c26_born_male", "c26_born_female", "c26_alive_male", "c26_alive_female", "c27_birth_last_year")
_retired_min = threshold("retired_min_age")
_student_max = threshold("student_max_age")
_hours_low, _hours_high = threshold("hours_range")


def _check(code: str, group: str, sql: str, doc: str) -> Check:
    return Check(name=code, codes=(code,), kind="household", sql=sql, group=group, doc=doc)


MIGRATION = [
    _check(
        "AWAY_LONGER_THAN_AGE",
        "D",
        "SELECT 'AWAY_LONGER_THAN_AGE', p.household_id, p.row_no, 'D9', "
        + evidence(age="p.age")
        + f" {CENSUS} AND p.age IS NOT NULL AND {_away_min} > p.age",
        "D9 no longer than the person has lived.",
    ),
    _check(
        "AWAY_BUT_LIVES_AT_HUKOU",
        "D",
        f"SELECT 'AWAY_BUT_LIVES_AT_HUKOU', p.household_id, p.row_no, 'D9', '{{}}'::jsonb {CENSUS} "
        "AND p.d7_residence = 1 AND p.d8_hukou_place = 1 AND p.d9_away_duration <> 1",
        "Living here with hukou in this village is not being away.",
    ),
    _check(
        "AWAY_REASON_AGE",
        "D",
        "SELECT 'AWAY_REASON_AGE', p.household_id, p.row_no, 'D10', "
        + evidence(reason="p.d10_away_reason", age="p.age")
        + f" {CENSUS} AND p.age IS NOT NULL AND {_reason_low} IS NOT NULL "
        f"AND NOT p.age BETWEEN {_reason_low} AND {_reason_high}",
        "The reason for leaving fits the age.",
    ),
]

EDUCATION = [
    _check(
        "EDUCATION_AGE",
        "E",
        "SELECT 'EDUCATION_AGE', p.household_id, p.row_no, 'D11', "
        + evidence(education="p.d11_education", age="p.age")
        + f" {CENSUS} AND p.age IS NOT NULL AND p.d11_education IS NOT NULL "
        f"AND (p.age < {_education_min} OR (p.d11_education = 2 AND p.age > {threshold('preschool_max_age')}))",
        "Education fits the age.",
    ),
    _check(
        "EDUCATED_ILLITERATE",
        "E",
        f"SELECT 'EDUCATED_ILLITERATE', p.household_id, p.row_no, 'D12', '{{}}'::jsonb {CENSUS} "
        "AND p.age IS NOT NULL AND p.d11_education >= 4 AND p.d12_literate = 2",
        "Junior secondary or more, yet not literate.",
    ),
]

LONG_FORM = [
    _check(
        "MARRIED_UNDER_15",
        "F",
        "SELECT 'MARRIED_UNDER_15', p.household_id, p.row_no, 'C24', "
        + evidence(age="p.age")
        + f" {LONG} AND p.age < 15 AND p.c24_marital <> 1",
        "Under 15, never married.",
    ),
    _check(
        "FIRST_MARRIAGE_DATE",
        "F",
        f"SELECT 'FIRST_MARRIAGE_DATE', p.household_id, p.row_no, 'C25', '{{}}'::jsonb {LONG} "
        "AND p.c25_first_marriage_year IS NOT NULL AND p.c25_first_marriage_month IS NOT NULL "
        "AND p.d5_birth_year IS NOT NULL AND ("
        "(p.c25_first_marriage_year, p.c25_first_marriage_month) < "
        "(p.d5_birth_year + 15, coalesce(p.d5_birth_month, 1)) "
        f"OR p.c25_first_marriage_year * 100 + p.c25_first_marriage_month >= {REFERENCE_YM} "
        "OR NOT p.c25_first_marriage_month BETWEEN 1 AND 12)",
        "First marriage 15 years after birth at the earliest, before the reference moment.",
    ),
    _check(
        "FERTILITY_NOT_WOMAN",
        "F",
        f"SELECT 'FERTILITY_NOT_WOMAN', p.household_id, p.row_no, 'C26', '{{}}'::jsonb {LONG} AND p.d4_sex = 1 "
        "AND (" + " OR ".join(f"p.{name} IS NOT NULL" for name in _fertility) + ")",
        "Fertility items for women only.",
    ),
    _check(
        "CHILDREN_ALIVE_EXCEEDS_BORN",
        "F",
        f"SELECT 'CHILDREN_ALIVE_EXCEEDS_BORN', p.household_id, p.row_no, 'C26', '{{}}'::jsonb {LONG} "
        "AND (p.c26_alive_male > p.c26_born_male OR p.c26_alive_female > p.c26_born_female) "
        "AND p.c26_born_male IS NOT NULL AND p.c26_born_female IS NOT NULL "
        "AND p.c26_alive_male IS NOT NULL AND p.c26_alive_female IS NOT NULL",
        "No more children alive than ever born.",
    ),
    _check(
        "BIRTH_LAST_YEAR_NO_INFANT",
        "F",
        f"SELECT 'BIRTH_LAST_YEAR_NO_INFANT', p.household_id, p.row_no, 'C27', '{{}}'::jsonb {LONG} "
        "AND p.c27_birth_last_year = 2 "
        "AND coalesce(p.h3_births_male, 0) + coalesce(p.h3_births_female, 0) = 0 "
        "AND NOT EXISTS (SELECT 1 FROM q_p i WHERE i.household_id = p.household_id AND i.d5_birth_year IS NOT NULL "
        f"AND {age_sql('i.d5_birth_year', 'coalesce(i.d5_birth_month, 1)')} = 0)",
        "A birth in the past year comes with an infant or H3.",
    ),
    _check(
        "RETIRED_YOUNG",
        "F",
        "SELECT 'RETIRED_YOUNG', p.household_id, p.row_no, 'C22', "
        + evidence(age="p.age")
        + f" {LONG} AND p.c22_not_working_reason = 2 AND p.age < {_retired_min}",
        f"Retired at {_retired_min} or later.",
    ),
    _check(
        "STUDENT_OLD",
        "F",
        "SELECT 'STUDENT_OLD', p.household_id, p.row_no, 'C22', "
        + evidence(age="p.age")
        + f" {LONG} AND p.c22_not_working_reason = 1 AND p.age > {_student_max}",
        f"Studying at {_student_max} or younger.",
    ),
    _check(
        "HOURS_RANGE",
        "F",
        f"SELECT 'HOURS_RANGE', p.household_id, p.row_no, 'C18', '{{}}'::jsonb {LONG} "
        f"AND NOT p.c18_hours BETWEEN {_hours_low} AND {_hours_high}",
        "Hours worked within 1–98.",
    ),
]

CHECKS = [*MIGRATION, *EDUCATION, *LONG_FORM]
