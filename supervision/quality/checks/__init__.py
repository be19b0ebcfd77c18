"""The nightly implementation of the rule catalogue: one module per rule group, every check set-based SQL.

``CHECKS`` lists every check in the order a township part runs them. ``RULE_CHECKS`` maps each catalogue code
to the check that finds it; a test asserts that every rule of the catalogue has one, or is a ``CITY_RULES`` rule.
"""

from __future__ import annotations

from supervision.quality.checks import (
    aggregates,
    anomalies,
    coverage,
    duplicates,
    form,
    identity,
    persons,
    process,
    relationships,
    roster,
    structure,
)
from supervision.quality.checks.base import Check, PartContext

HOUSEHOLD_CHECKS: list[Check] = [
    *form.CHECKS,
    *identity.CHECKS,
    *structure.CHECKS,
    *relationships.CHECKS,
    *persons.CHECKS,
    *process.HOUSEHOLD_CHECKS,
]
CROSS_CHECKS: list[Check] = [
    *process.CROSS_CHECKS,
    *duplicates.CHECKS,
    *coverage.CHECKS,
    *roster.CHECKS,
    *anomalies.CHECKS,
    *aggregates.CHECKS,
]
CHECKS: list[Check] = [*HOUSEHOLD_CHECKS, *CROSS_CHECKS]
# The district-wide checks, in the two sections every run does side by side (``CheckRunPart.section``).
DISTRICT_SECTIONS: dict[str, list[Check]] = {"duplicates": duplicates.CHECKS, "roster": roster.CHECKS}
# A full run checks the forms in sections over the whole run instead of township by township: each household
# check is then one statement over every form (``runner.create_form_views``), as a hand-written query would be.
FORM_SECTIONS: dict[str, list[Check]] = {
    "ledger": process.HOUSEHOLD_CHECKS,
    "items": form.CHECKS,
    "persons": [*relationships.CHECKS, *persons.CHECKS],
    "structure": structure.CHECKS,
    "identity": identity.CHECKS,
}
# The relationship rules read q_family — the one-head families with their head — eight times: built once.
COUNTED_SECTIONS = {"persons"}
# The process rules read the current signature and the area code of every form.
SIGNED_SECTIONS = {"ledger"}
# Cross rules that judge every household of a township, signed or not (a township part settles them all).
ANY_STATE_RULES = process.ANY_STATE_RULES
BY_NAME: dict[str, Check] = {check.name: check for check in CHECKS}
RULE_CHECKS: dict[str, Check] = {code: check for check in CHECKS for code in check.codes}
# Rules found above the districts' runs: a city's check over several districts (services.city_duplicates_check).
CITY_RULES: tuple[str, ...] = ("ID_DUPLICATE_CITY",)

__all__ = [
    "ANY_STATE_RULES",
    "BY_NAME",
    "CHECKS",
    "CITY_RULES",
    "COUNTED_SECTIONS",
    "CROSS_CHECKS",
    "DISTRICT_SECTIONS",
    "FORM_SECTIONS",
    "HOUSEHOLD_CHECKS",
    "RULE_CHECKS",
    "SIGNED_SECTIONS",
    "Check",
    "PartContext",
]
