"""常住人口, 户籍人口, 人户分离 (市辖区内 and 流动人口) and 外出半年以上, one person for every branch of the 2020
definitions (domain reference §1.1), with the expected figures worked by hand from the definitions.

The district of the tests is 511504 (叙州区 of 宜宾市: prefecture digits 15, county digits 04, so a 市辖区).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.urls import reverse

from census.models import Role, SmallArea
from enumeration.models import Household, HouseholdState
from supervision.progress.models import SmallAreaProgress
from supervision.progress.services import progress_refresh
from supervision.progress.summaries import build_summary, check_summary
from tests.census.factories import (
    DistrictFactory,
    SmallAreaFactory,
    StaffMemberFactory,
    TownshipFactory,
    VillageFactory,
)
from tests.conftest import Cast
from tests.progress.factories import HouseholdFactory, PersonFactory

pytestmark = pytest.mark.django_db

M, F = 1, 2


@dataclass(frozen=True)
class P:
    d7: int | None
    d8: int | None
    d9: int | None
    county: str = ""
    sex: int = M


# Township A (甲镇): one person for each branch. Comments: the branch, and where the person is counted.
TOWNSHIP_A = [
    P(1, 1, 1, sex=M),  # 1 lives here, hukou in this village: resident, hukou
    P(1, 2, 1, sex=F),  # 2 lives here, hukou in another village of the township: resident, hukou
    P(1, 3, 3, sex=M),  # 3 hukou in another township of the district, here ≥ ½ year: resident, 市辖区内
    P(1, 4, 4, "511502", F),  # 4 hukou in 翠屏区, another 市辖区 of 宜宾: resident, 市辖区内
    P(1, 4, 9, "511521", M),  # 5 hukou in a county (not a 市辖区) of 宜宾: resident, 流动 (省内)
    P(1, 4, 3, "510104", F),  # 6 hukou in 成都 (same province): resident, 流动
    P(1, 4, 5, "110101", M),  # 7 hukou in 北京 (another province): resident, 流动
    P(1, 4, 8, "", F),  # 8 hukou in another county, not written: resident, 流动
    P(1, 5, None, sex=M),  # 9 户口待定: resident
    P(4, 1, 2, sex=F),  # 10 hukou here, in another township under ½ year: resident, hukou
    P(5, 2, 2, sex=M),  # 11 hukou here, in another county under ½ year: resident, hukou
    P(1, 3, 2, sex=F),  # 12 visitor from another township under ½ year: counted at the hukou township
    P(1, 4, 2, "510104", M),  # 13 visitor from another county under ½ year: not in the district
    P(4, 1, 3, sex=F),  # 14 hukou here, in another township ≥ ½ year: hukou, 外出
    P(5, 1, 9, sex=M),  # 15 hukou here, in another county ≥ ½ year: hukou, 外出
    P(2, 1, 1, sex=F),  # 16 lives in another small area of the village: counted there
    P(3, 2, 1, sex=M),  # 17 lives in another village of the township: counted there
    P(None, 1, 1, sex=F),  # 18 residence missing: undetermined
    P(6, 1, None, sex=M),  # 19 abroad (an installation's extra D7 code): resident, hukou
    P(4, 1, 1, sex=F),  # 20 away but "never left" (contradictory): read as under ½ year, resident, hukou
    # One person of township B living here for two years, another visiting for two months:
    P(1, 3, 5, sex=M),  # 21 resident here, 市辖区内 (also on a form in B as 23)
    P(1, 3, 2, sex=F),  # 22 visitor: counted in B (also on a form in B as 24)
]
TOWNSHIP_B = [
    P(4, 1, 5, sex=M),  # 23 = 21 at the hukou place: hukou, 外出; resident in A
    P(4, 1, 2, sex=F),  # 24 = 22 at the hukou place: resident here, hukou
    P(1, 1, 1, sex=F),  # 25 lives here, hukou here
]


def register(area: SmallArea, persons: list[P]) -> None:
    household = HouseholdFactory(
        small_area=area,
        state=HouseholdState.ACCEPTED,
        h1_kind=2,
        h5_residence_type=2,
        h6_floor_area=None,
        h7_rooms=None,
    )
    for row, person in enumerate(persons, start=1):
        PersonFactory(
            household=household,
            row_no=row,
            d2_relationship=None,
            d4_sex=person.sex,
            d7_residence=person.d7,
            d8_hukou_place=person.d8,
            d8_hukou_county=person.county,
            d9_away_duration=person.d9,
        )


@pytest.fixture
def district(cast: Cast) -> Cast:
    register(cast.area_a1, TOWNSHIP_A)
    register(cast.area_b1, TOWNSHIP_B)
    return cast


def t01_row(cast: Cast, code: str) -> dict[str, object]:
    summary = build_summary(user=cast.district_office)
    check_summary(summary)  # every table balances, or this raises
    table = summary.table("T01")
    rows = {row.key: row for row in table.blocks[0].rows}
    chosen = table.blocks[0].total if code == "total" else rows[code]
    assert chosen is not None
    return dict(chosen.values)


CONCEPTS = ("persons", "male", "female", "hukou", "separated", "within_city", "floating", "away_long", "registered")


def test_each_branch_is_counted_where_the_definition_puts_it(district: Cast) -> None:
    a = t01_row(district, district.township_a.code)
    # Residents 1–11, 19, 20, 21 (men 1 3 5 7 9 11 19 21); hukou 1 2 10 11 14 15 19 20; 人户分离 3–8 and 21,
    # of which 市辖区内 3 4 21 and 流动 5–8; 外出 14 15; 22 persons on the form.
    assert [a[key] for key in CONCEPTS] == [14, 8, 6, 8, 7, 3, 4, 2, 22]
    b = t01_row(district, district.township_b.code)
    # Residents 24 25 (both women); hukou 23 24 25; 外出 23.
    assert [b[key] for key in CONCEPTS] == [2, 0, 2, 3, 0, 0, 0, 1, 3]
    total = t01_row(district, "total")
    # Each person once: 21/23 is resident in A and 户籍 in B, 22/24 resident and 户籍 in B.
    assert [total[key] for key in CONCEPTS] == [16, 8, 8, 11, 7, 3, 4, 3, 25]


def test_t08_lists_every_registered_person_by_status(district: Cast) -> None:
    summary = build_summary(user=district.district_office)
    check_summary(summary)
    rows = {row.key: row.get("total") for row in summary.table("T08").blocks[0].rows}
    assert rows == {
        "here": 3,  # 1, 2, 25
        "in_county": 2,  # 3, 21
        "in_city": 1,  # 4
        "in_province": 2,  # 5, 6
        "in_other_province": 1,  # 7
        "in_unstated": 1,  # 8
        "pending": 1,  # 9
        "out_short": 4,  # 10, 11, 20, 24
        "abroad": 1,  # 19
        "visit_county": 2,  # 12, 22
        "visit_outside": 1,  # 13
        "out_county": 2,  # 14, 23
        "out_outside": 1,  # 15
        "elsewhere_township": 2,  # 16, 17
        "undetermined": 1,  # 18
    }
    assert sum(rows.values()) == 25


def test_each_person_is_judged_by_the_district_they_were_registered_in(district: Cast) -> None:
    """One installation, two kinds of district: 叙州区 (511504, a 市辖区) and 江安县 (511523: county digits 23, a
    county). In the county, moving between its townships or from 翠屏区 is 流动人口, never 市辖区内 — on its own
    summary, on the dashboard's rows and beside 叙州区's figures, which stay as above."""
    county = DistrictFactory(code="511523", name="江安县")
    township = TownshipFactory(district=county, code="511523100", name="江安镇")
    village = VillageFactory(township=township, code="511523100001", name="江安社区", kind="residents")
    area = SmallAreaFactory(village=village, code="511523100001001")
    office = StaffMemberFactory(username="ja_district", role=Role.DISTRICT_OFFICE, district=county)
    # Hukou in another township of the county, here two years; hukou in 翠屏区 (a 市辖区 of 宜宾), here three.
    register(area, [P(1, 3, 5, sex=M), P(1, 4, 6, "511502", F)])
    summary = build_summary(user=office)
    check_summary(summary)
    total = dict(summary.table("T01").blocks[0].total.values)  # type: ignore[union-attr]
    assert (total["persons"], total["separated"], total["within_city"], total["floating"]) == (2, 2, 0, 2)
    statuses = {row.key: row for row in summary.table("T08").blocks[0].rows}
    assert (statuses["in_county"].get("within_city"), statuses["in_county"].get("floating")) == (0, 1)
    assert (statuses["in_province"].get("within_city"), statuses["in_province"].get("floating")) == (0, 1)
    # 叙州区's own summary: 市辖区内 3, 4, 21 and 流动 5–8, as worked out above.
    here = t01_row(district, "total")
    assert (here["separated"], here["within_city"], here["floating"]) == (7, 3, 4)
    progress_refresh()
    rows = {row.small_area_id: row for row in SmallAreaProgress.objects.filter(small_area__in=[area, district.area_a1])}
    assert (rows[area.pk].separated, rows[area.pk].within_city, rows[area.pk].floating) == (2, 0, 2)
    a1 = rows[district.area_a1.pk]
    assert (a1.separated, a1.within_city, a1.floating) == (7, 3, 4)


def test_the_dashboard_headline_counts_residents_with_the_others_beside(district: Cast, client) -> None:  # type: ignore[no-untyped-def]
    progress_refresh()
    client.force_login(district.district_office)
    page = client.get(reverse("supervision:dashboard")).content.decode()
    for name, value in (
        ("residents", 16),
        ("hukou", 11),
        ("separated", 7),
        ("floating", 4),
        ("away_long", 3),
    ):
        assert f'data-kpi="{name}"><div class="value">{value}<' in page, name
    assert Household.objects.count() == 2


def test_the_pyramid_counts_residents_by_age_group_and_sex(district: Cast, client) -> None:  # type: ignore[no-untyped-def]
    """Every person of the fixture is born in May 1980 (aged 40: group 40–44); the residents are 16, eight men
    and eight women (``test_each_branch_is_counted_where_the_definition_puts_it``). One more resident woman of
    township B born in December 2015 is aged 4 (group 0–4), since she was born after November."""
    household = HouseholdFactory(small_area=district.area_b1, state=HouseholdState.ACCEPTED)
    PersonFactory(household=household, row_no=1, d4_sex=F, d5_birth_year=2015, d5_birth_month=12)
    progress_refresh()
    client.force_login(district.district_office)
    page = client.get(reverse("supervision:dashboard"))
    pyramid = page.context["pyramid"]
    assert pyramid["groups"][8] == "40–44" and pyramid["groups"][20] == "100+"
    assert (pyramid["male"][8], pyramid["female"][8]) == (-8, 8)
    assert (pyramid["male"][0], pyramid["female"][0]) == (0, 1)
    assert sum(pyramid["female"]) - sum(pyramid["male"]) == 17
    assert 'id="chart-pyramid"' in page.content.decode()
    township = client.get(reverse("supervision:dashboard-township", args=[district.township_b.code]))
    # Township B: persons 24 and 25 (women, aged 40) and the girl.
    assert (township.context["pyramid"]["female"][8], township.context["pyramid"]["female"][0]) == (2, 1)
    # A boy born in December 2015 accepted in township A, and only his small area refreshed: the district's
    # pyramid (the townships' sums) counts him, and township B's girl and every 40-year-old as before.
    boys = HouseholdFactory(small_area=district.area_a1, state=HouseholdState.ACCEPTED)
    PersonFactory(household=boys, row_no=1, d4_sex=M, d5_birth_year=2015, d5_birth_month=12)
    progress_refresh(small_area_ids=[district.area_a1.pk])
    again = client.get(reverse("supervision:dashboard")).context["pyramid"]
    assert (again["male"][0], again["female"][0], again["male"][8], again["female"][8]) == (-1, 1, -8, 8)
