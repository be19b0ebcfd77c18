"""The city office (市普查办): it sees its districts' progress and population counts — aggregates — and never a
form, a person, an ID number, a staff member or a finding of any of them.

Two districts of 宜宾市 (5115): 叙州区 with two signed households of three persons, 翠屏区 with one; and a district
of another city (成都市锦江区 510104) that the city office must not count at all.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from census.models import Role, StaffMember
from supervision.progress import selectors
from tests.districts.conftest import TwoDistricts
from tests.districts.test_district_isolation import API_LISTS, PAGES

pytestmark = pytest.mark.django_db

# What no page may show a city office: the people's names and ID numbers, the staff's usernames.
# (Rare names: the factories name staff 王伟, 李芳 and the like, and the city office's own name is on every page.)
PERSONAL = (
    "欧阳修远",
    "司马青衫",
    "欧阳小明",
    "东方既白",
    "东方小白",
    "诸葛云起",
    "上官晴",
    "诸葛小亮",
    "enum_a1",
    "enum_a2",
    "cp_enum",
    "511521198",
    "511502198",
)


def test_the_city_office_lands_on_its_dashboard_with_its_two_districts_only(city: dict) -> None:
    client = Client()
    client.force_login(city["office"])
    response = client.get(reverse("home"))
    assert response.status_code == 302 and response["Location"] == reverse("supervision:city-dashboard")
    body = client.get(reverse("supervision:city-dashboard")).content.decode()
    assert "宜宾市" in body and "叙州区" in body and "翠屏区" in body
    assert "锦江区" not in body


def _cells(body: str, district: str) -> dict[str, int]:
    row = re.search(rf'<tr data-district="{district}">(.*?)</tr>', body, re.S)
    assert row, district
    return {name: int(value.replace(",", "")) for name, value in re.findall(r'data-column="(\w+)">([\d,]+)<', row[1])}


def test_the_city_totals_are_the_sum_of_its_districts(city: dict) -> None:
    # Counted by hand from the fixture: 叙州区 2 households, 6 persons; 翠屏区 1 and 3; 锦江区 none.
    client = Client()
    client.force_login(city["office"])
    body = client.get(reverse("supervision:city-dashboard")).content.decode()
    xuzhou, cuiping, total = _cells(body, "511504"), _cells(body, "511502"), _cells(body, "total")
    assert (xuzhou["households"], xuzhou["signed"], xuzhou["persons_registered"]) == (2, 2, 6)
    assert (cuiping["households"], cuiping["signed"], cuiping["persons_registered"]) == (1, 1, 3)
    assert (total["households"], total["signed"], total["persons_registered"]) == (3, 3, 9)
    assert all(total[name] == xuzhou[name] + cuiping[name] for name in total)
    # The selectors agree with the page: the per-district query and the city-wide one.
    rows = {row.code: row.totals for row in selectors.city_district_rows(user=city["office"])}
    assert set(rows) == {"511504", "511502"}
    assert selectors.city_totals(user=city["office"]).persons_registered == 9


def test_no_page_with_personal_data_opens_for_the_city_office(two_districts: TwoDistricts, city: dict) -> None:
    office: StaffMember = city["office"]
    a, b = two_districts.a, two_districts.b
    household_a, _, household_b = city["households"]
    personal_pages = [
        reverse("enumeration:household-list"),
        reverse("enumeration:review-queue"),
        reverse("enumeration:household-detail", args=[household_a.pk]),
        reverse("enumeration:household-detail", args=[household_b.pk]),
        reverse("enumeration:household-form", args=[household_b.pk]),
        reverse("enumeration:household-summary", args=[household_b.pk]),
        reverse("frame:small-area", args=[b.area.pk]),
        reverse("frame:staff"),
        reverse("frame:staff-export"),
        reverse("frame:audit-log"),
        reverse("frame:export") + "?level=small_area&format=csv",
        reverse("supervision:finding-list"),
        reverse("supervision:my-findings"),
        reverse("supervision:roster"),
        reverse("supervision:exports"),
        reverse("supervision:dashboard"),
        reverse("supervision:dashboard-township", args=[a.township_a.code]),
        reverse("supervision:completeness"),
        reverse("supervision:coverage"),
        reverse("self_enumeration:uptake"),
    ]
    client = Client()
    client.force_login(office)
    for url in personal_pages:
        assert client.get(url).status_code in (403, 404), url
    api = APIClient()
    api.force_authenticate(office)
    for url in (
        reverse("api-household-list"),
        reverse("api-household-detail", args=[household_a.pk]),
        reverse("api-staff-list"),
        reverse("api-finding-list"),
        reverse("api-roster-classification"),
    ):
        assert api.get(url).status_code in (403, 404), url


def test_whatever_opens_for_the_city_office_shows_nothing_personal(city: dict) -> None:
    client = Client()
    client.force_login(city["office"])
    for name in (*PAGES, "supervision:city-dashboard"):
        response = client.get(reverse(name))
        if response.status_code == 200:
            found = [mark for mark in PERSONAL if mark in response.content.decode()]
            assert not found, f"{name} shows {found}"
    api = APIClient()
    api.force_authenticate(city["office"])
    for name in API_LISTS:
        response = api.get(reverse(name))
        if response.status_code == 200:
            found = [mark for mark in PERSONAL if mark in response.content.decode()]
            assert not found, f"{name} shows {found}"


def test_the_command_makes_a_city_office_account_that_no_staff_page_can(two_districts: TwoDistricts) -> None:
    import io

    from django.core.management import call_command

    from census.staffing.services import roles_managed_by

    out = io.StringIO()
    call_command("city_office_create", city="5115", city_name="宜宾市", username="yibin", stdout=out)
    member = StaffMember.objects.get(username="yibin")
    assert (member.role, member.city_id, member.district_id, member.must_change_password) == (
        Role.CITY_OFFICE,
        "5115",
        None,
        True,
    )
    assert not member.has_usable_password()
    # The staff pages of a district (and a superuser's) never offer the role: it has no district.
    assert Role.CITY_OFFICE not in roles_managed_by(two_districts.a.district_office)
    assert Role.CITY_OFFICE not in roles_managed_by(None)
