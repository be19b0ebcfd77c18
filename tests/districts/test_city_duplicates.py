"""The city-level duplicate check: the same ID number signed in two districts of the city is found, and each
district's registrar gets a finding on their own record (routed to them and their supervisor), naming the other
district's record; the other district's office sees only its own.

Hand-made: 王伟 (born May 1980, number 511521198005120011-like) is registered by enum_a1 in 叙州区 and again by
cp_enum in 翠屏区; his wife and son have different numbers in the two forms.
"""

from __future__ import annotations

import pytest
from django.db import connection

from census.models import City
from supervision.quality.models import Finding, FindingState
from supervision.quality.services import city_duplicates_check
from tests.districts.conftest import TwoDistricts, family, id_number, register

pytestmark = pytest.mark.django_db

RULE = "ID_DUPLICATE_CITY"


@pytest.fixture
def twice(two_districts: TwoDistricts, password: str) -> dict:
    a, b = two_districts.a, two_districts.b
    in_a = register(a.area_a1, a.enumerator_a1, password, family("511521", ("王伟", "李芳", "王小明"), (11, 22, 33)))
    in_b = register(b.area, b.enumerator, password, family("511521", ("王伟", "刘芳", "王小刚"), (11, 24, 35)))
    # A number in two households of one district only is the district's check, not the city's.
    register(a.area_a2, a.enumerator_a2, password, family("511521", ("陈一", "李芳", "陈二"), (45, 22, 67)))
    return {"a": in_a, "b": in_b, "city": City.objects.create(code="5115", name="宜宾市")}


def test_the_number_signed_in_two_districts_is_found_once_per_district(
    two_districts: TwoDistricts, twice: dict
) -> None:
    a, b = two_districts.a, two_districts.b
    outcome = city_duplicates_check(city=twice["city"])
    assert (outcome.numbers, outcome.opened) == (1, 2)
    shared = id_number("511521", 1980, 5, 11)
    found = {
        (f.household_id, f.row_no, f.item, f.responsible_id, f.supervisor_id, f.township_id, f.evidence["id_number"])
        for f in Finding.objects.filter(rule=RULE)
    }
    assert found == {
        (twice["a"].pk, 1, "D3", a.enumerator_a1.pk, a.supervisor_a.pk, a.township_a.code, shared),
        (twice["b"].pk, 1, "D3", b.enumerator.pk, b.supervisor.pk, b.township.code, shared),
    }
    mine_a = Finding.objects.get(rule=RULE, household=twice["a"])
    mine_b = Finding.objects.get(rule=RULE, household=twice["b"])
    assert mine_a.evidence["other"] == "翠屏区 511502001001001001#1"
    assert mine_b.evidence["other"] == "叙州区 511504101201001001#1"


def test_each_registrar_sees_their_own_finding_and_each_office_only_its_districts(
    two_districts: TwoDistricts, twice: dict
) -> None:
    a, b = two_districts.a, two_districts.b
    city_duplicates_check(city=twice["city"])

    def visible(user) -> set[int]:  # type: ignore[no-untyped-def]
        return set(Finding.objects.visible_to(user).filter(rule=RULE).values_list("household_id", flat=True))

    assert visible(a.enumerator_a1) == visible(a.supervisor_a) == visible(a.district_office) == {twice["a"].pk}
    assert visible(b.enumerator) == visible(b.supervisor) == visible(b.district_office) == {twice["b"].pk}
    assert visible(a.enumerator_a2) == set()


def test_the_check_runs_twice_safely_and_closes_when_the_number_is_corrected(
    two_districts: TwoDistricts, twice: dict
) -> None:
    city_duplicates_check(city=twice["city"])
    again = city_duplicates_check(city=twice["city"])
    assert (again.numbers, again.opened, again.reopened, again.closed) == (1, 0, 0, 0)
    assert Finding.objects.filter(rule=RULE).count() == 2
    # The number in 翠屏区 was mistyped (corrected behind the check's back: only the number matters here).
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE enumeration_person SET d3_id_number = %s WHERE household_id = %s AND row_no = 1",
            [id_number("511521", 1980, 5, 13), twice["b"].pk],
        )
    closed = city_duplicates_check(city=twice["city"])
    assert (closed.numbers, closed.closed) == (0, 2)
    assert set(Finding.objects.filter(rule=RULE).values_list("state", flat=True)) == {FindingState.CLOSED}


def test_another_citys_districts_are_not_compared(two_districts: TwoDistricts, twice: dict) -> None:
    assert city_duplicates_check(city=City.objects.create(code="5101", name="成都市")).numbers == 0
    assert not Finding.objects.filter(rule=RULE).exists()


def test_the_nightly_task_checks_every_city(two_districts: TwoDistricts, twice: dict, settings) -> None:  # type: ignore[no-untyped-def]
    from supervision.quality.tasks import city_duplicates

    City.objects.create(code="5101", name="成都市")
    assert settings.CELERY_BEAT_SCHEDULE["quality-city-duplicates"]["task"] == "quality.city_duplicates"
    assert city_duplicates() == 1
    assert Finding.objects.filter(rule=RULE, state=FindingState.OPEN).count() == 2
