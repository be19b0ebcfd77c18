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
# What the number says, read as ``identity.read_id_number`` does: whether it is well formed, and for a
# well-formed number whether digits 7–14 are a real date, and its year and month.
ID_OK = id_well_formed("p.n")
ID_DATE_OK = id_date_valid("p.n")
ID_YM = id_birth_ym("p.n")


def well_formed_and(suspect: str, verdict: str = "") -> str:
    """A well-formed number that breaks the rule — worked out only for the suspects. ``suspect`` is a cheap test
    on the number as written (``raw``, not normalised), safe on any text (no casts) and true at least whenever the
    rule is broken: a well-formed normalised number of 18 characters comes from a written one of 18 bytes with the
    same digits (D3 holds 18 characters; anything else is a suspect anyway). Only the suspects are normalised and
    read further — whether they are well formed, then ``verdict`` — in that order (CASE keeps PostgreSQL from
    reordering: over a district, normalising and reading every number would cost more than the rule)."""
    then = f"CASE WHEN {ID_OK} THEN {verdict} ELSE false END" if verdict else ID_OK
    return f"CASE WHEN octet_length(p.raw) <> 18 OR {suspect} THEN {then} ELSE false END"


# Digits 7–14 that may not be a real date before 2020-11, with as few reads as can be: a year and month outside
# 0001-01…2020-10, or a month and day not among the 365 of a year (29 February is looked at properly).
_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
_MONTH_DAYS = ",".join(f"{m:02d}{d:02d}" for m, days in enumerate(_DAYS, start=1) for d in range(1, days + 1))
DATE_SUSPECT = (
    f"substr(p.raw, 7, 6) COLLATE \"C\" NOT BETWEEN '000101' AND '{REFERENCE_YM - 1}' "
    f"OR substr(p.raw, 11, 4) <> ALL('{{{_MONTH_DAYS}}}'::text[])"
)
# (A small x written as the check character is a suspect too: it never equals the computed one.)
CHECKSUM_SUSPECT = f"substr(p.raw, 18, 1) <> {id_check_character('p.raw')}"
CHECKSUM_WRONG = f"substr(p.n, 18, 1) <> {id_check_character('p.n')}"
SEX_SUSPECT = f"p.d4_sex IS NOT NULL AND {id_sex('p.raw')} <> p.d4_sex"
SEX_WRONG = f"{id_sex('p.n')} <> p.d4_sex"
ADDRESS_SUSPECT = f"NOT {address_known('substr(p.raw, 1, 6)')}"
ADDRESS_UNKNOWN = f"NOT {address_known('substr(p.n, 1, 6)')}"
# Equal numbers are equal texts: digits 7–12 that read as D5 make no suspect.
BIRTH_SUSPECT = "substr(p.raw, 7, 6) <> (p.d5_birth_year * 100 + p.d5_birth_month)::text"
# A number well formed as written is so normalised (it has no space, hyphen or small x).
FORMAT_WRONG = f"CASE WHEN {id_well_formed('p.raw')} THEN false ELSE NOT {ID_OK} END"


def _check(code: str, sql: str, doc: str) -> Check:
    return Check(name=code, codes=(code,), kind="household", sql=sql, group="A", doc=doc)


CHECKS = [
    _check(
        "ID_FORMAT",
        f"SELECT 'ID_FORMAT', p.household_id, p.row_no, 'D3', '{{}}'::jsonb FROM ({WITH_NUMBER}) p "
        f"WHERE {FORMAT_WRONG}",
        "17 digits and a digit or X.",
    ),
    _check(
        "ID_CHECKSUM",
        f"SELECT 'ID_CHECKSUM', p.household_id, p.row_no, 'D3', '{{}}'::jsonb FROM ({WITH_NUMBER}) p "
        f"WHERE {well_formed_and(CHECKSUM_SUSPECT, CHECKSUM_WRONG)}",
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
            BIRTH_SUSPECT,
            f"{ID_DATE_OK} AND {ID_YM} < {REFERENCE_YM} AND {ID_YM} <> p.d5_birth_year * 100 + p.d5_birth_month",
        ),
        "The number's year and month of birth equal D5.",
    ),
    _check(
        "ID_SEX_MISMATCH",
        f"SELECT 'ID_SEX_MISMATCH', p.household_id, p.row_no, 'D4', '{{}}'::jsonb FROM ({WITH_NUMBER}) p "
        f"WHERE {well_formed_and(SEX_SUSPECT, SEX_WRONG)}",
        "Odd 17th digit for men, even for women.",
    ),
    _check(
        "ID_ADDRESS_UNKNOWN",
        "SELECT 'ID_ADDRESS_UNKNOWN', p.household_id, p.row_no, 'D3', "
        + evidence(code="substr(p.n, 1, 6)")
        + f" FROM ({WITH_NUMBER}) p WHERE {well_formed_and(ADDRESS_SUSPECT, ADDRESS_UNKNOWN)}",
        "The address code appears somewhere in the GB/T 2260 history.",
    ),
    _check(
        "ID_DUPLICATE_IN_HOUSEHOLD",
        "SELECT 'ID_DUPLICATE_IN_HOUSEHOLD', p.household_id, p.row_no, 'D3', "
        + evidence(other_row="d.first_row")
        # (The rows are grouped before they are joined to their households: the groups found are few.)
        + " FROM (SELECT household_id, upper(d3_id_number) AS n, min(row_no) AS first_row FROM q_person_rows "
        "WHERE d3_id_number <> '' GROUP BY 1, 2 HAVING count(*) > 1) d "
        "JOIN q_p p ON p.household_id = d.household_id AND upper(p.d3_id_number) = d.n AND p.row_no > d.first_row "
        "WHERE p.regular",
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
