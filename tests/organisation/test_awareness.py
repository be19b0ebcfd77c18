"""知晓率: the share of listed households reached by publicity, per township, village and small area."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from supervision.organisation.selectors import awareness_rates
from tests.conftest import Cast
from tests.organisation.factories import listed_household

pytestmark = pytest.mark.django_db


@pytest.fixture
def listing(cast: Cast) -> None:
    """Small area a1: 3 aware, 1 not. a2: 1 aware, 1 without an answer. b1: 2 aware."""
    for number, aware in enumerate([True, True, True, False], start=1):
        listed_household(small_area=cast.area_a1, household_no=number, listed_by=cast.enumerator_a1, aware=aware)
    listed_household(small_area=cast.area_a2, household_no=1, listed_by=cast.enumerator_a2, aware=True)
    listed_household(small_area=cast.area_a2, household_no=2, listed_by=cast.enumerator_a2, aware=None)
    for number in (1, 2):
        listed_household(small_area=cast.area_b1, household_no=number, listed_by=cast.enumerator_b1, aware=True)


def test_the_rate_per_township_counts_answers_and_keeps_the_unrecorded_apart(cast: Cast, listing: None) -> None:
    report = awareness_rates(cast.district_office)
    rows = {row.code: row for row in report.rows}
    assert (rows["511504101"].aware, rows["511504101"].households, rows["511504101"].unrecorded) == (4, 5, 1)
    assert rows["511504101"].rate == pytest.approx(0.8) and rows["511504101"].below_target
    assert rows["511504102"].rate == 1.0 and not rows["511504102"].below_target
    assert (report.total.aware, report.total.households) == (6, 7)
    assert rows["511504101"].name == "甲镇" and rows["511504101"].key == "511504101"


def test_drilling_down_to_villages_and_small_areas(cast: Cast, listing: None) -> None:
    villages = awareness_rates(cast.district_office, level="village", within="511504101")
    assert [(r.code, r.aware, r.households) for r in villages.rows] == [("511504101201", 4, 5)]
    areas = awareness_rates(cast.district_office, level="small_area", within="511504101201")
    assert [(r.code, r.rate) for r in areas.rows] == [("511504101201001", 0.75), ("511504101201002", 1.0)]
    assert all(r.key == "" for r in areas.rows)


def test_the_target_comes_from_settings(cast: Cast, listing: None, settings) -> None:  # type: ignore[no-untyped-def]
    settings.ORGANISATION_AWARENESS_TARGET = 0.75
    rows = {row.code: row for row in awareness_rates(cast.district_office).rows}
    assert not rows["511504101"].below_target


def test_each_user_sees_the_rates_of_their_own_scope(cast: Cast, listing: None) -> None:
    assert [r.code for r in awareness_rates(cast.township_office_b).rows] == ["511504102"]
    areas = awareness_rates(cast.supervisor_a, level="small_area")
    assert {r.code for r in areas.rows} == {"511504101201001", "511504101201002"}
    assert awareness_rates(cast.department_user).rows == []


def test_the_page_drills_down_and_draws_a_chart(
    cast: Cast, listing: None, login, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    client = login(cast.district_office)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("supervision:awareness"))
    assert response.status_code == 200 and 'data-chart="awareness-chart"' in response.content.decode()
    assert response.context["report"].total.aware == 6
    village = client.get(reverse("supervision:awareness") + "?within=511504101")
    assert village.context["level"] == "village" and "甲村" in village.content.decode()
    below = client.get(reverse("supervision:awareness") + "?below=1")
    assert [r.code for r in below.context["listing"].page] == ["511504101"]
    # A township office starts at its own villages.
    own = login(cast.township_office_a).get(reverse("supervision:awareness"))
    assert own.context["level"] == "village"


def test_the_api_gives_the_same_rates(cast: Cast, listing: None) -> None:
    api = APIClient()
    api.force_authenticate(cast.district_office)
    body = api.get(reverse("api-organisation-awareness") + "?within=511504101201").json()
    assert body["level"] == "small_area"
    assert [(r["code"], r["rate"]) for r in body["rows"]] == [("511504101201001", 0.75), ("511504101201002", 1.0)]
    assert body["total"]["aware"] == 4
    assert api.get(reverse("api-organisation-awareness") + "?level=planet").status_code == 400
    api.force_authenticate(cast.enumerator_a1)
    assert api.get(reverse("api-organisation-awareness")).status_code == 403
