"""Two districts in one installation: the users of the second see nothing of the first — on the list pages,
the dashboards, the exports and the API lists, and not by id either.

Each district has one signed household registered through the services and one nightly-check run of its own;
what district A holds is recognised by its codes (511504…), its places (甲镇, 乙镇), its people's names (rare ones: the
factories name staff 王伟 and the like) and its staff's usernames, none of which district B has.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from census.models import District, StaffMember
from enumeration.services import household_accept, household_approve
from supervision.progress import microdata
from supervision.progress.summaries.compute import build_summary
from tests.districts.conftest import TwoDistricts, family, register
from tests.quality.factories import run

pytestmark = pytest.mark.django_db

A_MARKS = ("511504", "甲镇", "乙镇", "甲村", "欧阳修远", "司马青衫", "叙州区", "enum_a1", "office_a")

# Every page without an argument that shows something on GET (actions, sign-in and the admin left out).
PAGES = (
    "home",
    "frame:townships",
    "frame:small-areas",
    "frame:staff",
    "frame:assignments",
    "frame:departments",
    "frame:audit-log",
    "jobs:list",
    "self_enumeration:uptake",
    "enumeration:my-areas",
    "enumeration:outbox",
    "enumeration:phones",
    "enumeration:household-list",
    "enumeration:review-queue",
    "enumeration:long-form-samples",
    "supervision:readiness",
    "supervision:department-tasks",
    "supervision:assessment",
    "supervision:calendar",
    "supervision:responsibility",
    "supervision:awareness",
    "supervision:subsidies",
    "supervision:rectification",
    "supervision:directory",
    "supervision:trainings",
    "supervision:my-findings",
    "supervision:finding-list",
    "supervision:check-runs",
    "supervision:roster",
    "supervision:dashboard",
    "supervision:exports",
    "supervision:completeness",
    "supervision:my-callbacks",
    "supervision:coverage",
    "supervision:my-rechecks",
)
API_LISTS = (
    "api-township-list",
    "api-village-list",
    "api-small-area-list",
    "api-staff-list",
    "api-household-list",
    "api-finding-list",
    "api-check-run-list",
    "api-progress-small-areas",
    "api-progress-townships",
    "api-organisation-awareness",
    "api-organisation-readiness",
    "api-organisation-subsidies",
    "api-organisation-rectification-tasks",
    "api-organisation-directory",
    "api-roster-classification",
)


@pytest.fixture
def seeded(two_districts: TwoDistricts, password: str) -> dict[str, Any]:
    a, b = two_districts.a, two_districts.b
    household_a = register(
        a.area_a1, a.enumerator_a1, password, family("511521", ("欧阳修远", "司马青衫", "欧阳小明"), (11, 22, 33))
    )
    household_b = register(
        b.area, b.enumerator, password, family("511502", ("诸葛云起", "上官晴", "诸葛小亮"), (41, 52, 63))
    )
    for code in ("511504", "511502"):
        run("full", district=District.objects.get(code=code))
    # Approved by the supervisor and accepted by the township office: the summaries count accepted forms.
    household_a = household_accept(
        household=household_approve(household=household_a, actor=a.supervisor_a), actor=a.township_office_a
    )
    household_b = household_accept(
        household=household_approve(household=household_b, actor=b.supervisor), actor=b.township_office
    )
    return {"a": household_a, "b": household_b}


def b_users(two_districts: TwoDistricts) -> list[StaffMember]:
    b = two_districts.b
    return [b.district_office, b.auditor, b.department_user, b.township_office, b.supervisor, b.enumerator]


def assert_nothing_of_a(where: str, body: str) -> None:
    found = [mark for mark in A_MARKS if mark in body]
    assert not found, f"{where} shows {found}"


def test_no_page_shows_a_district_b_user_anything_of_district_a(two_districts: TwoDistricts, seeded: dict) -> None:
    shown = 0
    for user in b_users(two_districts):
        client = Client()
        client.force_login(user)
        for name in PAGES:
            response = client.get(reverse(name))
            assert response.status_code in (200, 302, 403, 404), (user.username, name, response.status_code)
            if response.status_code == 200:
                shown += 1
                assert_nothing_of_a(f"{name} as {user.username}", response.content.decode())
    assert shown > 40  # the pages do open for district B's people: this is not an empty walk


def test_district_b_pages_show_district_bs_own_records(two_districts: TwoDistricts, seeded: dict) -> None:
    client = Client()
    client.force_login(two_districts.b.district_office)
    assert "东城街道" in client.get(reverse("frame:townships")).content.decode()
    assert "511502001001001" in client.get(reverse("enumeration:household-list")).content.decode()
    dashboard = client.get(reverse("supervision:dashboard")).content.decode()
    assert "翠屏区" in dashboard and "东城街道" in dashboard


def test_no_api_list_shows_a_district_b_user_anything_of_district_a(two_districts: TwoDistricts, seeded: dict) -> None:
    listed = 0
    for user in b_users(two_districts):
        client = APIClient()
        client.force_authenticate(user)
        for name in API_LISTS:
            response = client.get(reverse(name))
            assert response.status_code in (200, 403, 404), (user.username, name, response.status_code)
            if response.status_code == 200:
                listed += 1
                assert_nothing_of_a(f"{name} as {user.username}", response.content.decode())
    assert listed > 15
    client = APIClient()
    client.force_authenticate(two_districts.b.district_office)
    households = client.get(reverse("api-household-list")).json()["results"]
    assert [row["id"] for row in households] == [seeded["b"].pk]


def test_district_as_records_are_404_by_id_for_district_b(two_districts: TwoDistricts, seeded: dict) -> None:
    a = two_districts.a
    client = Client()
    client.force_login(two_districts.b.district_office)
    api = APIClient()
    api.force_authenticate(two_districts.b.district_office)
    assert client.get(reverse("frame:township", args=[a.township_a.code])).status_code == 404
    assert client.get(reverse("frame:small-area", args=[a.area_a1.pk])).status_code == 404
    assert client.get(reverse("enumeration:household-detail", args=[seeded["a"].pk])).status_code == 404
    assert api.get(reverse("api-household-detail", args=[seeded["a"].pk])).status_code == 404
    assert api.get(reverse("api-township-detail", args=[a.township_a.code])).status_code == 404
    # …while district B's own open.
    assert client.get(reverse("enumeration:household-detail", args=[seeded["b"].pk])).status_code == 200


def test_the_exports_hold_district_bs_rows_only(two_districts: TwoDistricts, seeded: dict) -> None:
    office = two_districts.b.district_office
    client = Client()
    client.force_login(office)
    for query in ("?level=township&format=csv", "?level=small_area&format=csv"):
        body = client.get(reverse("frame:export") + query).content.decode("utf-8-sig")
        assert_nothing_of_a(f"frame export {query}", body)
        assert "511502001" in body
    staff = client.get(reverse("frame:staff-export"))
    assert staff.status_code == 200
    # The staff sheet is a workbook: read it as such.
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(staff.content)).active
    usernames = {str(cell.value) for row in sheet.iter_rows() for cell in row if cell.value}
    assert "cp_enum" in usernames and not usernames & {"enum_a1", "enum_a2", "office_a", "district", "auditor"}
    # Summary tables and microdata: district B has one household of three persons (district A has as many).
    summary = build_summary(user=office)
    assert summary.table("T01").total("persons") == 3
    assert summary.office_name == "翠屏区"
    assert microdata.count(user=office, forms="signed") == microdata.count(user=office, forms="accepted") == 3
