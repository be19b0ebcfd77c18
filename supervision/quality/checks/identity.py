"""A. Identity (D3 公民身份号码, D4, D5): the nightly SQL twins of ``enumeration.rules.entry._identity``.

Every person row of a regular household (not 户编号 999) is checked, foreign forms included, as at entry.
A number that is not well formed is reported once (ID_FORMAT) and read no further.
"""

from __future__ import annotations

from supervision.quality.checks.base import (
    REFERENCE_YM,
    Check,
    address_known,
    evidence,
    id_check_character,
    id_sex,
)

# q_p carries what the number says (``runner.ID_FACTS``): id_n, id_ok, id_date_ok, id_ym.
WITH_NUMBER = "SELECT p.*, p.id_n AS n FROM q_p p WHERE p.regular AND p.d3_id_number <> ''"
WELL_FORMED = f"SELECT * FROM ({WITH_NUMBER}) p WHERE p.id_ok"


def _check(code: str, sql: str, doc: str) -> Check:
    return Check(name=code, codes=(code,), kind="household", sql=sql, group="A", doc=doc)


CHECKS = [
    _check(
        "ID_FORMAT",
        f"SELECT 'ID_FORMAT', p.household_id, p.row_no, 'D3', '{{}}'::jsonb FROM ({WITH_NUMBER}) p WHERE NOT p.id_ok",
        "17 digits and a digit or X.",
    ),
    _check(
        "ID_CHECKSUM",
        f"SELECT 'ID_CHECKSUM', p.household_id, p.row_no, 'D3', '{{}}'::jsonb FROM ({WELL_FORMED}) p "
        f"WHERE substr(p.n, 18, 1) <> {id_check_character('p.n')}",
        "ISO 7064 MOD 11-2 over the first 17 digits.",
    ),
    _check(
        "ID_BIRTH_DATE_INVALID",
        f"SELECT 'ID_BIRTH_DATE_INVALID', p.household_id, p.row_no, 'D3', '{{}}'::jsonb FROM ({WELL_FORMED}) p "
        f"WHERE NOT p.id_date_ok OR p.id_ym >= {REFERENCE_YM}",
        "Digits 7–14 are a real date before 2020-11.",
    ),
    _check(
        "ID_BIRTH_MISMATCH",
        "SELECT 'ID_BIRTH_MISMATCH', p.household_id, p.row_no, 'D5', "
        + evidence(
            id_birth="substr(p.n, 7, 4) || '-' || substr(p.n, 11, 2)",
            birth="p.d5_birth_year || '-' || lpad(p.d5_birth_month::text, 2, '0')",
        )
        + f" FROM ({WELL_FORMED}) p WHERE p.id_date_ok AND p.id_ym < {REFERENCE_YM} "
        "AND p.d5_birth_year IS NOT NULL AND p.d5_birth_month IS NOT NULL "
        "AND p.id_ym <> p.d5_birth_year * 100 + p.d5_birth_month",
        "The number's year and month of birth equal D5.",
    ),
    _check(
        "ID_SEX_MISMATCH",
        f"SELECT 'ID_SEX_MISMATCH', p.household_id, p.row_no, 'D4', '{{}}'::jsonb FROM ({WELL_FORMED}) p "
        f"WHERE p.d4_sex IS NOT NULL AND {id_sex('p.n')} <> p.d4_sex",
        "Odd 17th digit for men, even for women.",
    ),
    _check(
        "ID_ADDRESS_UNKNOWN",
        "SELECT 'ID_ADDRESS_UNKNOWN', p.household_id, p.row_no, 'D3', "
        + evidence(code="substr(p.n, 1, 6)")
        + f" FROM ({WELL_FORMED}) p WHERE NOT {address_known('substr(p.n, 1, 6)')}",
        "The address code appears somewhere in the GB/T 2260 history.",
    ),
    _check(
        "ID_DUPLICATE_IN_HOUSEHOLD",
        "SELECT 'ID_DUPLICATE_IN_HOUSEHOLD', p.household_id, p.row_no, 'D3', "
        + evidence(other_row="d.first_row")
        + " FROM (SELECT household_id, upper(d3_id_number) AS n, min(row_no) AS first_row FROM q_p "
        "WHERE regular AND d3_id_number <> '' GROUP BY 1, 2 HAVING count(*) > 1) d "
        "JOIN q_p p ON p.household_id = d.household_id AND upper(p.d3_id_number) = d.n AND p.row_no > d.first_row",
        "No number twice in one household.",
    ),
    _check(
        "ID_MISSING",
        "SELECT 'ID_MISSING', p.household_id, p.row_no, 'D3', '{}'::jsonb FROM q_p p "
        "WHERE p.regular AND p.d3_id_number = '' AND NOT p.is_foreign "
        "AND p.d8_hukou_place IS DISTINCT FROM 5 AND p.age >= 1",
        "Everyone but unregistered newborns and persons with pending hukou has a number.",
    ),
    _check(
        "BIRTH_AFTER_REFERENCE",
        "SELECT 'BIRTH_AFTER_REFERENCE', p.household_id, p.row_no, 'D5', '{}'::jsonb FROM q_p p "
        f"WHERE p.regular AND p.d5_birth_year * 100 + p.d5_birth_month >= {REFERENCE_YM}",
        "Nobody born after the reference moment.",
    ),
]
