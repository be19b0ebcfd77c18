"""Two implementations of every household rule — Python at entry, SQL at night — find the same things.

On a generated district with planted errors, on the same households with random damage done to them, and on
hand-made households that break each rule once.
"""

from __future__ import annotations

import copy
import datetime
import random
from typing import Any

import pytest
from stdnum.cn import ric

from enumeration.identity import make_id_number
from enumeration.rules.catalogue import CATALOGUE, ENTRY_RULES
from enumeration.rules.entry import PERSON_ITEMS
from enumeration.synthetic.planting import MUTATIONS
from supervision.quality.checks import CITY_RULES, FORM_SECTIONS, HOUSEHOLD_CHECKS, RULE_CHECKS
from supervision.quality.checks.form import PERSON_ITEM_SQL
from supervision.quality.presentation import message_values
from tests.enumeration.test_entry_rules import clean_family, long_form_family
from tests.quality import harness
from tests.quality.harness import Form, python_verdicts, sql_verdicts

pytestmark = pytest.mark.django_db


# The household rules run township by township over tables built first (incremental runs), or in a full run's
# forms sections over views of every form — on the primary, or read on a replica: all must find what the entry
# rules find.
MODES = pytest.mark.parametrize("mode", harness.MODES)


def _agree(forms: list[Form], area: Any, *, mode: str = "township_part") -> set[tuple[Any, ...]]:
    expected, python_values = python_verdicts(forms)
    found, evidence = sql_verdicts(forms, area, mode=mode)
    assert found == expected, {"only SQL": sorted(found - expected)[:20], "only Python": sorted(expected - found)[:20]}
    for verdict, alternatives in python_values.items():
        shown = message_values(evidence[verdict])
        assert any(_same(shown, values) for values in alternatives), (verdict, shown, alternatives)
    return found


def _same(shown: dict[str, Any], values: dict[str, Any]) -> bool:
    for key, value in values.items():
        if isinstance(value, float):
            if abs(float(shown[key]) - value) >= 0.051:
                return False
        elif shown.get(key) != value:
            return False
    return True


def test_every_household_rule_has_its_sql_twin() -> None:
    assert {rule.code for rule in ENTRY_RULES} <= set(RULE_CHECKS)
    # The city-level rules are found by the city's check over its districts, not by a district's run.
    assert set(CATALOGUE) == set(RULE_CHECKS) | set(CITY_RULES)
    assert not set(CITY_RULES) & set(RULE_CHECKS)


def test_the_forms_sections_hold_every_household_check_once() -> None:
    in_sections = [check.name for checks in FORM_SECTIONS.values() for check in checks]
    assert sorted(in_sections) == sorted(check.name for check in HOUSEHOLD_CHECKS)


def test_the_skip_logic_lists_the_same_items() -> None:
    assert [(field, item, codes) for field, item, codes, _ in PERSON_ITEM_SQL] == [
        (field, item, codes) for field, item, codes, _ in PERSON_ITEMS
    ]


@MODES
def test_they_agree_on_the_generated_district_with_planted_errors(
    planted_forms: list[Form], some_area: Any, mode: str
) -> None:
    found = _agree(planted_forms, some_area, mode=mode)
    assert len({code for _, code, _, _ in found}) >= 40, "the planted district exercises most rules"


# --- random damage --------------------------------------------------------------------------------------

PERSON_FIELDS = [field for field, _, _, _ in PERSON_ITEMS] + ["d3_id_number", "c14_county"]
HOUSEHOLD_FIELDS = [
    "h1_kind",
    "h2_present",
    "h2_away",
    "h3_births_male",
    "h3_births_female",
    "h4_deaths_male",
    "h4_deaths_female",
    "h5_residence_type",
    "h6_floor_area",
    "h7_rooms",
    "h17_tenure",
    "h18_rent",
    "h9_structure",
    "in_long_form_sample",
    "form_kind",
]
DEATH_FIELDS = ["name", "sex", "birth_year", "birth_month", "death_year", "death_month", "education", "marital"]
TEXT = {
    "d1_name": ["", "张三"],
    "name": ["", "张三"],
    "d6_ethnicity": ["", "01", "99", "5"],
    "d7_residence_county": ["", "511521", "123456", "51152"],
    "d8_hukou_county": ["", "511521", "123456", "51152"],
    "c14_county": ["", "511521", "123456"],
    "c13_birth_province": ["", "51", "99", "5"],
    "c20_industry": ["", "酒厂"],
    "c21_occupation": ["", "酿酒工"],
    "f_nationality": ["", "USA"],
}


def _with_check(first17: str) -> str:
    return first17 + ric.calc_check_digit(first17)


def _written(number: str, rng: random.Random) -> str:
    """The number as people write it (D3 holds 18 characters): a small x, or a space or a hyphen in it — which
    normalising takes out, leaving 17 characters."""
    return rng.choice([number.lower(), f"{number[:6]} {number[6:17]}", f"{number[:6]}-{number[6:17]}"])


# A number whose check character is X (written small, it is the same number).
ENDS_IN_X = next(
    number
    for sequence in range(1, 999)
    if (number := make_id_number("511521", datetime.date(1975, 8, 9), sequence)).endswith("X")
)


def _damage_value(rng: random.Random, field: str, current: Any) -> Any:
    if field == "d3_id_number":
        return rng.choice(
            [
                "",
                "51152119800512001A",
                make_id_number("519999", datetime.date(1990, 2, 3), 5),
                make_id_number("511521", datetime.date(2021, 2, 3), 6),
                (current or "")[:17] + "0",
                # The identity rules read a written number only when a cheap test on it raises a suspicion:
                # numbers written other than normalised, and the dates at the edges of that test.
                _written(current or ENDS_IN_X, rng),
                _written((current or ENDS_IN_X)[:17] + "0", rng),
                ENDS_IN_X.lower(),
                _with_check("51152119900229123"),  # no 29 February in 1990
                _with_check("51152120000229123"),  # a leap year's
                _with_check("51152100000101123"),  # year 0
                _with_check("51152120201031123"),  # the day before the reference month
                _with_check("51152120201101123"),  # its first day
                _with_check("51152119800431123"),  # no 31 April
            ]
        )
    if field in ("d5_birth_year", "birth_year", "death_year"):
        return rng.choice([None, 2020, 2019, 2017, 2005, 2006, 1990, 1940, 2021])
    if field in ("d5_birth_month", "birth_month", "death_month", "c25_first_marriage_month"):
        return rng.choice([None, 1, 10, 11, 12, 13])
    if field == "c25_first_marriage_year":
        return rng.choice([None, 1950, 2000, 2020, 2021])
    if field in TEXT:
        return rng.choice(TEXT[field])
    if field == "in_long_form_sample":
        return not current
    if field == "form_kind":
        return rng.choice(["census", "foreign"])
    if field in ("h6_floor_area",):
        return rng.choice([None, 0, 3, 80, 1500])
    if field in ("c18_hours",):
        return rng.choice([None, 0, 40, 99])
    return rng.choice([None, 0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 16, 99])


def _damage(rng: random.Random, form: Form) -> Form:
    household, persons, deaths = copy.deepcopy(form)
    for _ in range(rng.randint(1, 4)):
        target = rng.random()
        if target < 0.25:
            field = rng.choice(HOUSEHOLD_FIELDS)
            household[field] = _damage_value(rng, field, household.get(field))
        elif target < 0.9 and persons:
            person = rng.choice(persons)
            field = rng.choice(PERSON_FIELDS)
            person[field] = _damage_value(rng, field, person.get(field))
        elif deaths:
            death = rng.choice(deaths)
            field = rng.choice(DEATH_FIELDS)
            death[field] = _damage_value(rng, field, death.get(field))
        elif persons and rng.random() < 0.5:
            persons.pop(rng.randrange(len(persons)))
    return household, persons, deaths


@MODES
def test_they_agree_on_randomly_damaged_households(planted_forms: list[Form], some_area: Any, mode: str) -> None:
    rng = random.Random(2020)
    forms = [_damage(rng, form) for form in rng.sample(planted_forms, min(1500, len(planted_forms)))]
    forms += [_damage(rng, long_form_family()) for _ in range(150)] + [_damage(rng, clean_family()) for _ in range(150)]
    found = _agree(forms, some_area, mode=mode)
    assert len({code for _, code, _, _ in found}) >= 45


# --- each rule: a household that breaks it and one that does not -----------------------------------------


def _by_hand(code: str) -> Form:
    household, persons, deaths = clean_family()
    if code == "ID_FORMAT":
        persons[0]["d3_id_number"] = "5115211980051200AX"
    elif code == "HOURS_RANGE":
        household, persons, deaths = long_form_family()
        persons[0]["c18_hours"] = 99
    elif code == "HOUSING_NOT_ASKED":
        household["h5_residence_type"] = 2
    elif code == "ALL_DEAD_HOUSEHOLD":
        household = {
            "household_no": 999,
            "form_kind": "census",
            "h4_deaths_male": 1,
            "h4_deaths_female": 0,
            "h2_present": 1,
        }
        persons = []
        deaths = [
            {
                "row_no": 1,
                "name": "张某",
                "sex": 1,
                "birth_year": 1940,
                "birth_month": 3,
                "death_year": 2020,
                "death_month": 4,
                "ethnicity": "01",
                "education": 3,
                "marital": 4,
            }
        ]
    elif code == "DEATHS_MISMATCH":
        household["h4_deaths_male"] = 1
    else:
        raise KeyError(code)
    return household, persons, deaths


HOUSEHOLD_RULES = sorted(rule.code for rule in ENTRY_RULES)


@MODES
@pytest.mark.parametrize("code", HOUSEHOLD_RULES)
def test_each_rule_breaks_on_one_household_and_not_on_another(
    code: str, planted_forms: list[Form], some_area: Any, mode: str
) -> None:
    clean = [clean_family(), long_form_family()]
    if code in MUTATIONS:
        rng = random.Random(code)
        broken = None
        for form in [*clean, *planted_forms]:
            candidate = copy.deepcopy(form)
            if MUTATIONS[code](rng, *candidate) is not None:
                broken = candidate
                break
        assert broken is not None, f"no household could host {code}"
    else:
        broken = _by_hand(code)
    found, _ = sql_verdicts([*clean, broken], some_area, mode=mode)
    assert not any(c == code for index, c, _, _ in found if index <= len(clean)), "the clean households pass"
    assert any(c == code for index, c, _, _ in found if index == len(clean) + 1), f"{code} is found"
