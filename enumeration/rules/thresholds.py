"""Numbers the entry rules compare against, in one place.

Where the domain reference marks a threshold as a recommendation or a long-form universe as unverified,
an installation can override it in ``settings.CENSUS_RULE_THRESHOLDS`` (a dict with the same keys).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.conf import settings

_DEFAULTS: dict[str, Any] = {
    # C: relationships (years)
    "legal_marriage_age": {1: 22, 2: 20},  # 民法典 §1047, by D4 sex
    "child_gap": 15,
    "parent_gap": 15,
    "grandparent_gap": 30,
    "grandchild_gap": 30,
    # B: housing
    "floor_area_per_person_max": 200,
    "floor_area_min": 5,
    "rooms_max": 15,
    # D9 category → the fewest years away it means (a person cannot be away longer than they are old)
    "away_min_years": {2: 0.0, 3: 0.5, 4: 1, 5: 2, 6: 3, 7: 4, 8: 5, 9: 10},
    # D10 reason → (lowest age, highest age) that raise no warning
    "away_reason_ages": {6: (16, 200), 8: (20, 200), 7: (35, 200), 9: (45, 200), 2: (0, 60)},
    # D11 education → lowest age without a warning; 2 (pre-school) → highest age
    "education_min_age": {3: 5, 4: 11, 5: 14, 6: 16, 7: 16, 8: 20, 9: 23},
    "preschool_max_age": 10,
    "education_universe_age": 3,  # D11 for persons aged 3+ (born 2017-10 or earlier)
    "literacy_universe_age": 15,  # D12 for persons aged 15+ (born 2005-10 or earlier)
    # F: long-form universes (unverified in the reference: configurable)
    "long_form": {
        "C14_min_age": 5,
        "C18_min_age": 16,
        "C24_min_age": 15,
        "C26_women_ages": (15, 64),
        "C27_women_ages": (15, 50),
        "C28_min_age": 60,
        "C29_min_age": 60,
    },
    "retired_min_age": 40,
    "student_max_age": 35,
    "hours_range": (1, 98),
}


@cache
def thresholds() -> dict[str, Any]:
    merged = dict(_DEFAULTS)
    merged.update(getattr(settings, "CENSUS_RULE_THRESHOLDS", {}))
    return merged


def threshold(name: str) -> Any:
    return thresholds()[name]
