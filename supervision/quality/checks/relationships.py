"""C. Relationships against age and sex: the SQL twin of the second half of ``entry._structure``.

Checked only in family households with exactly one head (as at entry); the age-gap rules and the
child-in-law rule also need the head's age.
"""

from __future__ import annotations

from enumeration.rules.thresholds import threshold
from supervision.quality.checks.base import Check, evidence, legal_marriage_age

# Persons of family households with exactly one head, with the head's row, age and sex (runner's q_family).
WITH_HEAD = "SELECT * FROM q_family"

GAPS = {
    "CHILD_AGE_GAP": (2, "child_gap", -1),
    "PARENT_AGE_GAP": (3, "parent_gap", 1),
    "GRANDPARENT_AGE_GAP": (5, "grandparent_gap", 1),
    "GRANDCHILD_AGE_GAP": (7, "grandchild_gap", -1),
}


def _check(code: str, sql: str, doc: str) -> Check:
    return Check(name=code, codes=(code,), kind="household", sql=sql, group="C", doc=doc)


def _gap(code: str) -> Check:
    relationship, name, direction = GAPS[code]
    gap = f"(p.age - p.head_age) * {direction}"
    return _check(
        code,
        f"SELECT '{code}', p.household_id, p.row_no, 'D5', "
        + evidence(gap=gap)
        + f" FROM ({WITH_HEAD}) p WHERE p.d2_relationship = {relationship} AND p.age IS NOT NULL "
        f"AND p.head_age IS NOT NULL AND {gap} < {threshold(name)}",
        f"Relationship {relationship} against the head's age: at least {threshold(name)} years.",
    )


CHECKS = [
    _check(
        "SPOUSE_MULTIPLE",
        "SELECT 'SPOUSE_MULTIPLE', p.household_id, NULL::int, 'D2', "
        + evidence(count="count(*)")
        + " FROM q_p p WHERE p.regular AND p.family AND p.d2_relationship = 1 "
        "GROUP BY p.household_id HAVING count(*) > 1",
        "At most one spouse.",
    ),
    _check(
        "SPOUSE_UNDER_15",
        "SELECT 'SPOUSE_UNDER_15', p.household_id, p.row_no, 'D5', "
        + evidence(age="p.age")
        + f" FROM ({WITH_HEAD}) p WHERE p.d2_relationship = 1 AND p.age < 15",
        "A spouse is at least 15.",
    ),
    _check(
        "SPOUSE_UNDER_MARRIAGE_AGE",
        "SELECT 'SPOUSE_UNDER_MARRIAGE_AGE', p.household_id, p.row_no, 'D5', "
        + evidence(age="p.age")
        + f" FROM ({WITH_HEAD}) p WHERE p.age IS NOT NULL AND ("
        f"(p.d2_relationship = 1 AND p.age >= 15 AND p.age < {legal_marriage_age('p.d4_sex')}) OR "
        f"(p.d2_relationship = 0 AND p.has_spouse AND p.age < {legal_marriage_age('p.d4_sex')}))",
        "Head and spouse are of the legal marriage age (men 22, women 20).",
    ),
    _check(
        "SPOUSE_SAME_SEX",
        "SELECT 'SPOUSE_SAME_SEX', p.household_id, p.row_no, 'D4', '{}'::jsonb "
        f"FROM ({WITH_HEAD}) p WHERE p.d2_relationship = 1 AND p.d4_sex = p.head_sex",
        "Spouse and head are of different sexes.",
    ),
    *(_gap(code) for code in GAPS),
    _check(
        "CHILD_IN_LAW_WITHOUT_CHILD",
        "SELECT 'CHILD_IN_LAW_WITHOUT_CHILD', p.household_id, p.row_no, 'D2', '{}'::jsonb "
        f"FROM ({WITH_HEAD}) p WHERE p.row_no = p.first_child_in_law AND NOT coalesce(p.has_child, false) "
        "AND p.head_age IS NOT NULL",
        "A child-in-law comes with a child.",
    ),
]
