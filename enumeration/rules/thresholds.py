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
    # --- nightly-only rules (supervision.quality) -----------------------------------------------------------
    # Statistical rules fire only when a count is both far from what chance gives and far from the normal
    # range. "Far from chance": a binomial z-score, (k − n·p) / √(n·p·(1 − p)), above z_max. At 5 one test in
    # about 3.5 million fires by chance (normal tail); a district of 1,000,000 persons has ≈ 5,000 small areas,
    # 600 villages and 4,800 enumerators, so all its tests together expect about 0.01 false alarms — and a
    # district of 20,000 fewer still. Every rule also needs a minimum size (small counts are never evidence)
    # and a value outside the range the domain reference gives (a large area can be significantly but
    # harmlessly off). Rare events (户口待定) also need a minimum count, since the normal approximation
    # understates their tail.
    "z_max": 5.0,
    # Enumerator anomalies, per enumerator (persons of their signed family households).
    "speed_max_per_hour": 6,  # households signed by one person within any 60 minutes (a visit takes 12–30 min)
    "copy_paste_min_persons": 3,  # identical households of 1–2 persons happen; of 3+ they are copies
    "whipple_ages": (23, 62),  # Whipple's index over ages 23–62 (UN)
    "whipple_max": 125,  # UN: < 105 accurate … 110–125 approximate, above that rough
    "whipple_min_persons": 30,
    "sex_ratio_age_groups": ((0, 14), (15, 29), (30, 44), (45, 59), (60, 200)),
    "sex_ratio_by_age_range": (70, 140),
    "sex_ratio_min_persons": 20,
    "male_share_expected": 105 / 205,  # sex ratio 105 (2020 公报)
    # G aggregates per small area, village and township (signed households).
    "area_sex_ratio_range": (85, 125),  # reference §4.1 G, family households only (dormitories are single-sex)
    "area_sex_ratio_min_persons": 50,
    "area_household_size_range": (1.5, 4.0),
    "area_household_size_min_households": 20,
    "infants_births_min_gap": 5,  # persons aged 0 against H3, once the gap is this large …
    "infants_births_max_share": 0.2,  # … and above this share of the births
    "month_heaping_min_share": 2 / 12,  # January births, twice the expected 1/12
    "month_heaping_min_persons": 50,
    "hukou_pending_expected_share": 0.003,  # 户口待定: a few per thousand
    "hukou_pending_min_share": 0.02,
    "hukou_pending_min_count": 10,
    "roster_gap_max_permille": 4,  # 登记阶段验收: 差错率 ≤ 4‰ for 户籍人数 (reference §5.3)
    "roster_gap_min_count": 3,
    # Coverage per small area: registered against listed (摸底).
    "coverage_tolerance": 0.02,
    "coverage_min_gap": 3,
}


@cache
def thresholds() -> dict[str, Any]:
    merged = dict(_DEFAULTS)
    merged.update(getattr(settings, "CENSUS_RULE_THRESHOLDS", {}))
    return merged


def threshold(name: str) -> Any:
    return thresholds()[name]
