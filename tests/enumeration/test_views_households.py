"""The offices' household list: role gates, scope, filters, search, sorting, pages, masking, query counts."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from enumeration.models import Household
from enumeration.services import household_list
from tests.census.factories import SmallAreaFactory, TownshipFactory, VillageFactory
from tests.conftest import Cast
from tests.enumeration.factories import HouseholdFactory
from tests.enumeration.test_services_registration import register

pytestmark = pytest.mark.django_db
URL = reverse("enumeration:household-list")


def listed(cast: Cast, n: int, *, area: str = "a1") -> list[Household]:
    small_area, actor = {
        "a1": (cast.area_a1, cast.enumerator_a1),
        "a2": (cast.area_a2, cast.enumerator_a2),
        "b1": (cast.area_b1, cast.enumerator_b1),
    }[area]
    return [
        household_list(small_area=small_area, actor=actor, head_name=f"张{i}号", expected_persons=2) for i in range(n)
    ]


def pks(client: Client, **params: str) -> list[int]:
    return [h.pk for h in client.get(URL, params).context["rows"]]


def test_the_roles_that_have_the_list(cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
    assert login(cast.enumerator_a1).get(URL).status_code == 403
    assert login(cast.department_user).get(URL).status_code == 403
    assert Client().get(URL).status_code == 302
    for user in (cast.supervisor_a, cast.township_office_a, cast.district_office, cast.auditor):
        assert login(user).get(URL).status_code == 200


def test_each_role_sees_its_scope(cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
    a1, a2, b1 = listed(cast, 1), listed(cast, 1, area="a2"), listed(cast, 1, area="b1")
    assert set(pks(login(cast.township_office_a))) == {a1[0].pk, a2[0].pk}
    assert set(pks(login(cast.township_office_b))) == {b1[0].pk}
    assert set(pks(login(cast.district_office))) == {a1[0].pk, a2[0].pk, b1[0].pk}
    assert set(pks(login(cast.supervisor_b))) == {b1[0].pk}


def test_filters_by_township_village_small_area_state_and_registrar(cast: Cast, login, password: str) -> None:  # type: ignore[no-untyped-def]
    signed = register(cast, password)
    a1, a2, b1 = listed(cast, 2), listed(cast, 1, area="a2"), listed(cast, 1, area="b1")
    client = login(cast.district_office)
    assert set(pks(client, township=cast.township_b.code)) == {b1[0].pk}
    assert set(pks(client, village=cast.village_a.code)) == {signed.pk, a1[0].pk, a1[1].pk, a2[0].pk}
    assert set(pks(client, small_area=str(cast.area_a2.pk))) == {a2[0].pk}
    assert set(pks(client, state="signed")) == {signed.pk}
    assert set(pks(client, registrar=str(cast.enumerator_a1.pk))) == {signed.pk}
    # A value the user may not choose is ignored rather than trusted.
    office = login(cast.township_office_b)
    assert set(pks(office, township=cast.township_a.code)) == {b1[0].pk}


def test_search_and_sorting(cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
    households = listed(cast, 3)
    other = listed(cast, 1, area="b1")
    client = login(cast.district_office)
    assert pks(client, q=cast.area_b1.code) == [other[0].pk]
    assert set(pks(client, q=cast.area_a1.code)) == {h.pk for h in households}
    descending = pks(client, sort="-household_no", small_area=str(cast.area_a1.pk))
    assert descending == [h.pk for h in reversed(households)]
    # Offices see masked names, so they cannot search by name either.
    assert pks(client, q="张1号") == []
    assert set(pks(login(cast.supervisor_a), q="张1号")) == {households[1].pk}


def test_offices_see_head_names_masked(cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
    household_list(small_area=cast.area_a1, actor=cast.enumerator_a1, head_name="欧阳娜娜", expected_persons=2)
    html = login(cast.township_office_a).get(URL).content.decode()
    assert "欧***" in html and "欧阳娜娜" not in html
    assert "欧阳娜娜" in login(cast.supervisor_a).get(URL).content.decode()


def test_pages_and_a_constant_number_of_queries(cast: Cast, login, django_assert_max_num_queries) -> None:  # type: ignore[no-untyped-def]
    listed(cast, 5)
    client = login(cast.district_office)
    client.get(URL)
    with django_assert_max_num_queries(15):
        small = client.get(URL)
    listed(cast, 40, area="a2")
    listed(cast, 20, area="b1")
    with django_assert_max_num_queries(15):
        large = client.get(URL, {"sort": "person_count"})
    assert len(small.context["rows"]) == 5
    assert len(large.context["rows"]) == 25 and large.context["listing"].page.paginator.count == 65
    with django_assert_max_num_queries(15):
        last = client.get(URL, {"page": "3"})
    assert len(last.context["rows"]) == 15


def test_a_list_limited_to_an_area_is_also_bounded_by_its_small_areas_codes(cast: Cast) -> None:
    """A township office's list (and any list filtered by township or village) also bounds the small area's code
    by the area's, so that PostgreSQL sorting by small area code walks only that area's small areas."""
    from enumeration.selectors import HouseholdFilter, household_table, within_area_code

    # Township 511504109 ends in 9: its bound's end carries into the next ten (511504110), not past it.
    nine = SmallAreaFactory(village=VillageFactory(township=TownshipFactory(code="511504109")))
    ten = SmallAreaFactory(village=VillageFactory(township=TownshipFactory(code="511504110")))
    ours = [HouseholdFactory(small_area=nine).pk, *[h.pk for h in listed(cast, 2)]]
    HouseholdFactory(small_area=ten)
    everyone = Household.objects.order_by("pk")
    assert sorted(within_area_code(everyone, "511504109").values_list("pk", flat=True)) == ours[:1]
    assert sorted(within_area_code(everyone, cast.area_a1.village_id).values_list("pk", flat=True)) == ours[1:]
    assert within_area_code(everyone, "5115041O9").count() == everyone.count()  # not all digits: no bound

    bound = '"census_smallarea"."code" >='
    for user, filters in (
        (cast.township_office_a, HouseholdFilter()),
        (cast.district_office, HouseholdFilter(village=cast.area_a1.village_id)),
    ):
        table = household_table(user=user, filters=filters)
        assert bound in str(table.query)
        assert sorted(table.values_list("pk", flat=True)) == ours[1:]
    assert bound not in str(household_table(user=cast.district_office, filters=HouseholdFilter()).query)
