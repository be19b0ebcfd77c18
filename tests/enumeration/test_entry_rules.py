"""Entry validation: every rule of groups A–F has a household that breaks it and one that does not."""

from __future__ import annotations

import copy
import io
import random
from collections import defaultdict
from typing import Any

import pytest
from django.core.management import call_command

from enumeration.identity import make_id_number
from enumeration.models import DeathRecord, Household, Person
from enumeration.rules.catalogue import CATALOGUE, ENTRY_RULES, Severity
from enumeration.rules.entry import Issue, hard_issues, unexplained_warnings, validate_household
from enumeration.synthetic.planting import MUTATIONS

pytestmark = pytest.mark.django_db


def codes(issues: list[Issue]) -> set[str]:
    return {issue.code for issue in issues}


# --- a hand-made clean household ------------------------------------------------------------------------


def clean_family() -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    import datetime

    household = {
        "household_no": 1,
        "form_kind": "census",
        "h1_kind": 1,
        "h2_present": 3,
        "h2_away": 0,
        "h3_births_male": 0,
        "h3_births_female": 0,
        "h4_deaths_male": 0,
        "h4_deaths_female": 0,
        "h5_residence_type": 1,
        "h6_floor_area": 96,
        "h7_rooms": 4,
        "in_long_form_sample": False,
    }
    here = {"d7_residence": 1, "d8_hukou_place": 1, "d9_away_duration": 1}
    persons = [
        {
            "row_no": 1,
            "d1_name": "王伟",
            "d2_relationship": 0,
            "d4_sex": 1,
            "d5_birth_year": 1980,
            "d5_birth_month": 5,
            "d3_id_number": make_id_number("511521", datetime.date(1980, 5, 12), 11),
            "d6_ethnicity": "01",
            "d11_education": 4,
            "d12_literate": 1,
            **here,
        },
        {
            "row_no": 2,
            "d1_name": "李芳",
            "d2_relationship": 1,
            "d4_sex": 2,
            "d5_birth_year": 1982,
            "d5_birth_month": 3,
            "d3_id_number": make_id_number("511521", datetime.date(1982, 3, 2), 22),
            "d6_ethnicity": "01",
            "d11_education": 5,
            "d12_literate": 1,
            **here,
        },
        {
            "row_no": 3,
            "d1_name": "王小明",
            "d2_relationship": 2,
            "d4_sex": 1,
            "d5_birth_year": 2010,
            "d5_birth_month": 9,
            "d3_id_number": make_id_number("511521", datetime.date(2010, 9, 30), 33),
            "d6_ethnicity": "01",
            "d11_education": 3,
            **here,
        },
    ]
    return household, persons, []


def test_the_hand_made_household_is_clean() -> None:
    assert validate_household(*clean_family()) == []


# --- generated households: clean, then broken one rule at a time ----------------------------------------


@pytest.fixture(scope="module")
def generated(
    django_db_setup, django_db_blocker
) -> list[tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]]:  # type: ignore[no-untyped-def]
    with django_db_blocker.unblock():
        call_command("seed_district", persons=6000, seed=3, reset=True, stdout=io.StringIO())
        persons: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for person in Person.objects.values():
            persons[person["household_id"]].append(person)
        deaths: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for death in DeathRecord.objects.values():
            deaths[death["household_id"]].append(death)
        rows = [
            (h, sorted(persons[h["id"]], key=lambda p: p["row_no"]), deaths[h["id"]])
            for h in Household.objects.exclude(state="listed").values()
        ]
        # The module fixture wrote outside any test transaction: leave the database empty for the next tests.
        call_command("flush", interactive=False, verbosity=0)
    return rows


def test_a_clean_generated_district_breaks_no_rule(generated) -> None:  # type: ignore[no-untyped-def]
    broken = {(h["id"], i.code) for h, persons, deaths in generated for i in validate_household(h, persons, deaths)}
    assert broken == set()


@pytest.mark.parametrize("code", sorted(MUTATIONS))
def test_each_planted_break_is_found(generated, code: str) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(code)
    for household, persons, deaths in generated:
        h, ps, ds = copy.deepcopy(household), copy.deepcopy(persons), copy.deepcopy(deaths)
        if MUTATIONS[code](rng, h, ps, ds) is None:
            continue
        assert code not in codes(validate_household(household, persons, deaths))
        assert code in codes(validate_household(h, ps, ds))
        return
    pytest.fail(f"no generated household could host {code}")


# --- rules that cannot be planted in the database, and boundaries --------------------------------------


def test_a_malformed_id_number_is_refused() -> None:
    household, persons, deaths = clean_family()
    persons[0]["d3_id_number"] = "51152119800512001"  # 17 characters
    assert codes(validate_household(household, persons, deaths)) == {"ID_FORMAT"}
    persons[0]["d3_id_number"] = "5115211980051200AX"
    assert codes(validate_household(household, persons, deaths)) == {"ID_FORMAT"}


def test_hours_outside_1_to_98_are_refused() -> None:
    household, persons, deaths = long_form_family()
    persons[0]["c18_hours"] = 99
    assert "HOURS_RANGE" in codes(validate_household(household, persons, deaths))


def test_housing_items_are_not_asked_without_an_ordinary_dwelling() -> None:
    household, persons, deaths = clean_family()
    household["h5_residence_type"] = 2
    assert codes(validate_household(household, persons, deaths)) == {"HOUSING_NOT_ASKED"}
    household["h6_floor_area"] = household["h7_rooms"] = None
    assert validate_household(household, persons, deaths) == []


@pytest.mark.parametrize(("year", "month", "asked"), [(2017, 10, True), (2017, 11, False)])
def test_education_is_asked_from_age_3_born_2017_10_or_earlier(year: int, month: int, asked: bool) -> None:
    import datetime

    household, persons, deaths = clean_family()
    child = persons[2]
    child.update(
        {
            "d5_birth_year": year,
            "d5_birth_month": month,
            "d11_education": None,
            "d3_id_number": make_id_number("511504", datetime.date(year, month, 1), 33),
        }
    )
    found = codes(validate_household(household, persons, deaths))
    assert ("ITEM_MISSING" in found) is asked
    child["d11_education"] = 2
    found = codes(validate_household(household, persons, deaths))
    assert ("ITEM_NOT_ASKED" in found) is (not asked)


@pytest.mark.parametrize(("year", "month", "asked"), [(2005, 10, True), (2005, 11, False)])
def test_literacy_is_asked_from_age_15_born_2005_10_or_earlier(year: int, month: int, asked: bool) -> None:
    import datetime

    household, persons, deaths = clean_family()
    child = persons[2]
    child.update(
        {
            "d5_birth_year": year,
            "d5_birth_month": month,
            "d11_education": 4,
            "d12_literate": None,
            "d3_id_number": make_id_number("511521", datetime.date(year, month, 1), 33),
        }
    )
    assert ("ITEM_MISSING" in codes(validate_household(household, persons, deaths))) is asked


def test_pending_hukou_skips_d9_and_d10_and_never_left_skips_d10() -> None:
    household, persons, deaths = clean_family()
    persons[2].update({"d8_hukou_place": 5, "d9_away_duration": None, "d3_id_number": ""})
    assert validate_household(household, persons, deaths) == []
    persons[2]["d9_away_duration"] = 3
    assert codes(validate_household(household, persons, deaths)) == {"ITEM_NOT_ASKED"}
    persons[1]["d10_away_reason"] = 1
    assert next(i for i in validate_household(household, persons, deaths) if i.row == 2).item == "D10"


def test_household_999_holds_only_deaths() -> None:
    household = {"household_no": 999, "form_kind": "census", "h4_deaths_male": 1, "h4_deaths_female": 0}
    death = {
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
    assert validate_household(household, [], [death]) == []
    assert codes(validate_household({**household, "h2_present": 1}, [], [death])) == {"ALL_DEAD_HOUSEHOLD"}
    assert codes(validate_household(household, [], [])) == {"DEATHS_MISMATCH"}


def test_warnings_need_a_note_and_hard_errors_block() -> None:
    household, persons, deaths = clean_family()
    household["h7_rooms"] = 16
    household["h6_floor_area"] = 700
    issues = validate_household(household, persons, deaths)
    assert codes(issues) == {"ROOMS_HIGH", "FLOOR_AREA_PER_PERSON_HIGH"}
    assert hard_issues(issues) == []
    assert len(unexplained_warnings(issues, {})) == 2
    notes = {"ROOMS_HIGH": "老宅，确有16间", "FLOOR_AREA_PER_PERSON_HIGH": "自建三层楼房"}
    assert unexplained_warnings(issues, notes) == []
    assert len(unexplained_warnings(issues, {"ROOMS_HIGH": " ", "FLOOR_AREA_PER_PERSON_HIGH": "ok"})) == 1


def test_every_issue_has_both_languages() -> None:
    household, persons, deaths = clean_family()
    persons[0]["d4_sex"] = 2
    issue = validate_household(household, persons, deaths)[0]
    assert issue.message_zh != issue.message_en
    assert issue.as_dict()["severity"] == "hard"


def long_form_family() -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    household, persons, deaths = clean_family()
    household.update(
        {
            "in_long_form_sample": True,
            "h8_storeys": 2,
            "h9_structure": 1,
            "h10_year_built": 7,
            "h11_lift": 2,
            "h12_cooking_fuel": 1,
            "h13_piped_water": 1,
            "h14_kitchen": 1,
            "h15_toilet": 1,
            "h16_bathing": 2,
            "h17_tenure": 7,
            "h19_car_value": 1,
        }
    )
    for person in persons:
        person.update({"c12_land_right": 2, "c13_birthplace": 1, "c14_residence_5y": 1, "c23_livelihood": 1})
    persons[0].update(
        {
            "c16_school_status": 2,
            "c18_work": 1,
            "c18_hours": 44,
            "c19_unit_type": 1,
            "c20_industry": "酒厂 白酒",
            "c21_occupation": "酿酒工",
            "c24_marital": 2,
            "c25_first_marriage_year": 2005,
            "c25_first_marriage_month": 6,
        }
    )
    persons[1].update(
        {
            "c16_school_status": 2,
            "c18_work": 3,
            "c22_not_working_reason": 3,
            "c24_marital": 2,
            "c25_first_marriage_year": 2005,
            "c25_first_marriage_month": 6,
            "c26_born_male": 1,
            "c26_born_female": 0,
            "c26_alive_male": 1,
            "c26_alive_female": 0,
            "c27_birth_last_year": 1,
        }
    )
    persons[2].update({"c16_school_status": 1, "c23_livelihood": 6})
    return household, persons, deaths


def test_the_long_form_family_is_clean() -> None:
    assert validate_household(*long_form_family()) == []


def test_every_entry_rule_is_exercised_here() -> None:
    """A rule added to the catalogue without a test that breaks it fails this test."""
    exercised = set(MUTATIONS) | {
        "ID_FORMAT",
        "HOURS_RANGE",
        "HOUSING_NOT_ASKED",
        "ALL_DEAD_HOUSEHOLD",
        "DEATHS_MISMATCH",
    }
    entry = {rule.code for rule in ENTRY_RULES}
    assert entry - exercised == set()
    assert all(CATALOGUE[code].severity is not Severity.NIGHTLY for code in exercised)
