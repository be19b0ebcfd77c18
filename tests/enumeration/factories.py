"""Factories and ready-made form payloads for household registration."""

from __future__ import annotations

import datetime
from typing import Any

import factory

from enumeration.identity import make_id_number
from enumeration.models import Household, HouseholdState
from tests.census.factories import SmallAreaFactory


class HouseholdFactory(factory.django.DjangoModelFactory[Household]):
    class Meta:
        model = Household

    small_area = factory.SubFactory(SmallAreaFactory)
    village = factory.LazyAttribute(lambda o: o.small_area.village)
    township = factory.LazyAttribute(lambda o: o.small_area.township)
    household_no = factory.Sequence(lambda n: 1 + n % 900)
    head_name_listed = "王伟"
    expected_persons = 3
    aware_of_census = True
    state = HouseholdState.LISTED


def person(
    row: int,
    name: str,
    relationship: int | None,
    sex: int,
    year: int,
    month: int,
    *,
    education: int | None,
    literate: int | None,
    id_address: str = "511521",
    sequence: int = 11,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "row_no": row,
        "d1_name": name,
        "d2_relationship": relationship,
        "d4_sex": sex,
        "d5_birth_year": year,
        "d5_birth_month": month,
        "d3_id_number": make_id_number(id_address, datetime.date(year, month, 12), sequence),
        "d6_ethnicity": "01",
        "d7_residence": 1,
        "d8_hukou_place": 1,
        "d9_away_duration": 1,
        "d11_education": education,
        "d12_literate": literate,
        **extra,
    }


def family_form() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A clean 3-person family household: the head, his wife and their son (short form)."""
    household = {
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
    }
    persons = [
        person(1, "王伟", 0, 1, 1980, 5, education=4, literate=1, sequence=11),
        person(2, "李芳", 1, 2, 1982, 3, education=5, literate=1, sequence=22),
        person(3, "王小明", 2, 1, 2010, 9, education=3, literate=None, id_address="511521", sequence=33),
    ]
    return household, persons


def four_person_form() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    household, persons = family_form()
    household["h2_present"] = 4
    persons.append(person(4, "王小红", 2, 2, 2016, 4, education=2, literate=None, sequence=44))
    return household, persons
