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
    id_birth_ym,
    id_check_character,
    id_date_valid,
    id_sex,
    id_well_formed,
)

# The persons with a number, and the number as the rules read it (``base.id_for_reading``). A rule's own test on
# the number goes down to the scan of the persons, so only the persons it keeps are joined to their households.
WITH_NUMBER = (
    "SELECT p.household_id, p.row_no, p.d4_sex, p.d5_birth_year, p.d5_birth_month, p.d3_id_number AS raw, "
    "p.id_n AS n FROM q_p p "
    "WHERE p.regular AND p.d3_id_number <> ''"
)
# The check character reads the number seventeen times: OFFSET 0 has it worked out once per person instead.
WITH_NUMBER_ONCE = f"{WITH_NUMBER} OFFSET 0"
# What the number says, read as ``identity.read_id_number`` does: whether it is well formed, and for a
# well-formed number whether digits 7–14 are a real date, and its year and month.
ID_OK = id_well_formed("p.n")
ID_DATE_OK = id_date_valid("p.n")
ID_YM = id_birth_ym("p.n")


def well_formed_and(suspect: str, verdict: str = "") -> str:
    """A well-formed number that breaks the rule. ``suspect`` is a cheap test, true at least whenever the rule
    is broken and safe on any text (no casts); only the suspects' numbers are read further — whether they are well
    formed, then ``verdict`` — in that order (CASE keeps PostgreSQL from reordering: over a district, reading the
    number's form for every person would cost more than the rule)."""
    then = f"CASE WHEN {ID_OK} THEN {verdict} ELSE false END" if verdict else ID_OK
    return f"CASE WHEN {suspect} THEN {then} ELSE false END"


# Digits 7–14 of a well-formed number that may not be a real date before 2020-11 — read off the number as
# written (only spaces and hyphens move digits: such numbers are all suspects) with as few reads as can be: a year
# and month outside 0001-01…2020-10, or a month and day not among the 365 of a year (29 February is looked at
# properly).
_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
_MONTH_DAYS = ",".join(f"{m:02d}{d:02d}" for m, days in enumerate(_DAYS, start=1) for d in range(1, days + 1))
DATE_SUSPECT = (
    "(strpos(p.raw, ' ') > 0 OR strpos(p.raw, '-') > 0 "
    f"OR substr(p.raw, 7, 6) COLLATE \"C\" NOT BETWEEN '000101' AND '{REFERENCE_YM - 1}' "
    f"OR substr(p.raw, 11, 4) <> ALL('{{{_MONTH_DAYS}}}'::text[]))"
)
CHECKSUM_WRONG = f"substr(p.n, 18, 1) <> {id_check_character('p.n')}"
SEX_WRONG = f"p.d4_sex IS NOT NULL AND {id_sex('p.n')} <> p.d4_sex"
ADDRESS_UNKNOWN = f"NOT {address_known('substr(p.n, 1, 6)')}"


def _check(code: str, sql: str, doc: str) -> Check:
    return Check(name=code, codes=(code,), kind="household", sql=sql, group="A", doc=doc)


CHECKS = [
    _check(
        "ID_FORMAT",
        f"SELECT 'ID_FORMAT', p.household_id, p.row_no, 'D3', '{{}}'::jsonb FROM ({WITH_NUMBER}) p WHERE NOT {ID_OK}",
        "17 digits and a digit or X.",
    ),
    _check(
        "ID_CHECKSUM",
        f"SELECT 'ID_CHECKSUM', p.household_id, p.row_no, 'D3', '{{}}'::jsonb FROM ({WITH_NUMBER_ONCE}) p "
        f"WHERE {well_formed_and(CHECKSUM_WRONG)}",
        "ISO 7064 MOD 11-2 over the first 17 digits.",
    ),
    _check(
        "ID_BIRTH_DATE_INVALID",
        f"SELECT 'ID_BIRTH_DATE_INVALID', p.household_id, p.row_no, 'D3', '{{}}'::jsonb FROM ({WITH_NUMBER}) p "
        f"WHERE {well_formed_and(DATE_SUSPECT, f'(NOT {ID_DATE_OK} OR {ID_YM} >= {REFERENCE_YM})')}",
        "Digits 7–14 are a real date before 2020-11.",
    ),
    _check(
        "ID_BIRTH_MISMATCH",
        "SELECT 'ID_BIRTH_MISMATCH', p.household_id, p.row_no, 'D5', "
        + evidence(
            id_birth="substr(p.n, 7, 4) || '-' || substr(p.n, 11, 2)",
            birth="p.d5_birth_year || '-' || lpad(p.d5_birth_month::text, 2, '0')",
        )
        + f" FROM ({WITH_NUMBER}) p WHERE p.d5_birth_year IS NOT NULL AND p.d5_birth_month IS NOT NULL AND "
        + well_formed_and(
            # Equal numbers are equal texts: a number whose digits 7–12 read as D5 is no suspect.
            "substr(p.n, 7, 6) <> (p.d5_birth_year * 100 + p.d5_birth_month)::text",
            f"{ID_DATE_OK} AND {ID_YM} < {REFERENCE_YM} AND {ID_YM} <> p.d5_birth_year * 100 + p.d5_birth_month",
        ),
        "The number's year and month of birth equal D5.",
    ),
    _check(
        "ID_SEX_MISMATCH",
        f"SELECT 'ID_SEX_MISMATCH', p.household_id, p.row_no, 'D4', '{{}}'::jsonb FROM ({WITH_NUMBER}) p "
        f"WHERE {well_formed_and(SEX_WRONG)}",
        "Odd 17th digit for men, even for women.",
    ),
    _check(
        "ID_ADDRESS_UNKNOWN",
        "SELECT 'ID_ADDRESS_UNKNOWN', p.household_id, p.row_no, 'D3', "
        + evidence(code="substr(p.n, 1, 6)")
        + f" FROM ({WITH_NUMBER}) p WHERE {well_formed_and(ADDRESS_UNKNOWN)}",
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
