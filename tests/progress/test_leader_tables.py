"""The tables leaders ask for (T12–T17) and the coverage line, each checked against figures worked by hand
from the persons built here and against the microdata (the Person rows, counted in Python)."""

from __future__ import annotations

import io
import re
from collections import Counter
from typing import Any

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from census.jobs import job_run
from census.models import UrbanRuralCode
from enumeration.identity import age_at_reference
from enumeration.models import FormKind, HouseholdState, LongFormSample, Person
from supervision.progress.services import export_start, progress_refresh
from supervision.progress.summaries import build_summary, check_summary
from tests.conftest import Cast
from tests.progress.factories import HouseholdFactory, PersonFactory

pytestmark = pytest.mark.django_db

ACCEPTED = (HouseholdState.ACCEPTED, HouseholdState.LOCKED)


@pytest.fixture
def leaders(cast: Cast) -> Cast:
    """Township A's village is urban (111), B's rural (220). A long-form family in each township (A's village
    drew 2 of 25 households: weight 12.5; B's has no recorded draw: weight 10), migrants with their reasons,
    two foreigners, and forms not accepted of both kinds."""
    cast.village_a.urban_rural_code = UrbanRuralCode.MAIN_URBAN
    cast.village_a.save()
    LongFormSample.objects.create(
        village=cast.village_a,
        seed=1,
        interval=10,
        start=3,
        frame_size=25,
        sample_size=2,
        drawn_by=cast.district_office,
    )

    def household(area: Any, **fields: Any) -> Any:
        return HouseholdFactory(small_area=area, state=HouseholdState.ACCEPTED, **fields)

    family = household(cast.area_a1, in_long_form_sample=True)
    person = PersonFactory
    person(
        household=family,
        row_no=1,
        d4_sex=1,
        d5_birth_year=1960,
        d11_education=5,
        c18_work=1,
        c19_unit_type=1,
        c23_livelihood=1,
    )
    person(
        household=family,
        row_no=2,
        d2_relationship=1,
        d4_sex=2,
        d5_birth_year=1962,
        d5_birth_month=3,
        d11_education=1,
        d12_literate=2,
        c18_work=3,
        c23_livelihood=6,
    )
    person(
        household=family,
        row_no=3,
        d2_relationship=2,
        d4_sex=1,
        d5_birth_year=2018,
        d5_birth_month=1,
        d11_education=None,
        d12_literate=None,
    )
    person(
        household=family,
        row_no=4,
        d2_relationship=2,
        d4_sex=2,
        d5_birth_year=2010,
        d5_birth_month=12,
        d11_education=3,
        d12_literate=None,
    )
    dorm = household(cast.area_a1, h1_kind=2, h5_residence_type=2, h6_floor_area=None, h7_rooms=None)
    for row, (sex, year, d8, county, d9, d10) in enumerate(
        [
            (1, 1990, 4, "110101", 5, 1),
            (2, 1995, 3, "", 3, 6),
            (1, 1985, 4, "510104", 4, 1),
            (2, 2000, 4, "110101", 2, 1),
        ],
        start=1,
    ):
        person(
            household=dorm,
            row_no=row,
            d2_relationship=None,
            d4_sex=sex,
            d5_birth_year=year,
            d8_hukou_place=d8,
            d8_hukou_county=county,
            d9_away_duration=d9,
            d10_away_reason=d10,
        )
    rural = household(cast.area_b1, in_long_form_sample=True)
    person(household=rural, row_no=1, d4_sex=2, d5_birth_year=1950, d5_birth_month=6, c18_work=3, c23_livelihood=2)
    # Living in another county for three years: registered here, not resident here.
    person(
        household=rural,
        row_no=2,
        d2_relationship=1,
        d4_sex=1,
        d5_birth_year=1948,
        d7_residence=5,
        d9_away_duration=6,
        c18_work=1,
        c23_livelihood=1,
    )
    foreign = household(cast.area_a2, form_kind=FormKind.FOREIGN)
    person(household=foreign, row_no=1, d4_sex=1, f_identity=4, f_stay=5, f_purpose=2)
    person(household=foreign, row_no=2, d4_sex=2, f_identity=1, f_stay=1, f_purpose=5)
    HouseholdFactory(small_area=cast.area_a2, form_kind=FormKind.FOREIGN)  # listed, not accepted
    signed = HouseholdFactory(small_area=cast.area_b1, state=HouseholdState.SIGNED)
    person(household=signed, row_no=1)
    return cast


def rows_of(summary: Any, code: str, block: str) -> dict[str, dict[str, Any]]:
    chosen = summary.table(code).block(block)
    found = {row.key: dict(row.values) for row in chosen.rows}
    if chosen.total is not None:
        found["total"] = dict(chosen.total.values)
    return found


def resident(p: Person) -> bool:
    """The 2020 definition (reference §1.1), written out independently of the code under test."""
    away_long = (p.d9_away_duration or 0) >= 3
    if p.d7_residence == 1:
        return p.d8_hukou_place in (1, 2, 5) or away_long
    return p.d7_residence in (4, 5) and p.d8_hukou_place in (1, 2) and not away_long


def residents() -> list[Person]:
    persons = Person.objects.filter(household__state__in=ACCEPTED, household__form_kind=FormKind.CENSUS)
    return [p for p in persons.select_related("village") if resident(p)]


def test_urban_and_rural_with_the_urbanisation_rate(leaders: Cast) -> None:
    summary = build_summary(user=leaders.district_office)
    check_summary(summary)
    split = rows_of(summary, "T12", "split")
    # Residents: the family of four and three migrants in the urban village, one woman in the rural one.
    assert [split[key]["total"] for key in ("urban", "rural", "total")] == [7, 1, 8]
    by_code = Counter(p.village.urban_rural_code for p in residents())
    codes = rows_of(summary, "T12", "codes")
    assert {int(key): row["total"] for key, row in codes.items() if key.isdigit() and row["total"]} == dict(by_code)
    assert any("87.50%" in note for note in summary.table("T12").notes)


def test_single_years_of_age_match_the_microdata(leaders: Cast) -> None:
    summary = build_summary(user=leaders.district_office)
    ages = Counter(min(age_at_reference(p.d5_birth_year, p.d5_birth_month), 100) for p in residents())
    rows = rows_of(summary, "T13", "ages")
    assert {int(key): row["total"] for key, row in rows.items() if key != "total" and row["total"]} == dict(ages)
    assert ages == Counter({60: 1, 58: 1, 2: 1, 9: 1, 30: 1, 25: 1, 35: 1, 70: 1})  # worked by hand


def test_education_of_persons_six_and_fifteen_and_over_and_illiteracy(leaders: Cast) -> None:
    summary = build_summary(user=leaders.district_office)
    check_summary(summary)
    six = rows_of(summary, "T14", "edu6")
    # Aged 6+: the parents (5, 1), the 9-year-old (3), three migrants and the rural woman (4).
    assert {key: row["total"] for key, row in six.items() if row["total"]} == {
        "1": 1,
        "3": 1,
        "4": 4,
        "5": 1,
        "total": 7,
    }
    fifteen = rows_of(summary, "T14", "edu15")
    assert {key: row["total"] for key, row in fifteen.items() if row["total"]} == {"1": 1, "4": 4, "5": 1, "total": 6}
    literacy = rows_of(summary, "T14", "literacy")
    assert (literacy["2"]["total"], literacy["total"]["total"]) == (1, 6)
    # One illiterate woman among six persons 15+ (three men, three women).
    assert any("16.67%" in note and "0.00%" in note and "33.33%" in note for note in summary.table("T14").notes)


def test_migration_by_origin_and_reason(leaders: Cast) -> None:
    summary = build_summary(user=leaders.district_office)
    check_summary(summary)
    rows = rows_of(summary, "T15", "reasons")
    assert {key: row["total"] for key, row in rows.items() if row["total"]} == {"1": 2, "6": 1, "total": 3}
    assert (rows["1"]["in_province"], rows["1"]["in_other_province"], rows["6"]["in_county"]) == (1, 1, 1)
    # The visitor (here under half a year) is not a migrant of the district.
    assert summary.table("T01").total("separated") == 3


def test_long_form_work_and_livelihood_weighted_by_inverse_inclusion_probability(leaders: Cast) -> None:
    summary = build_summary(user=leaders.district_office)
    check_summary(summary)
    work = rows_of(summary, "T16", "c18")
    # The urban couple weigh 25 / 2 = 12.5 each, the rural woman 10; her husband lives elsewhere (not resident)
    # and the children are under 16.
    assert work["total"] == {"sample": 3, "weighted": 35.0, "weighted_male": 12.5, "weighted_female": 22.5}
    assert (work["1"]["sample"], work["1"]["weighted"], work["3"]["weighted"]) == (1, 12.5, 22.5)
    livelihood = rows_of(summary, "T16", "c23")
    assert [livelihood[key]["weighted"] for key in ("1", "2", "6")] == [12.5, 10.0, 12.5]
    assert any("12.50" in note for note in summary.table("T16").notes)


def test_foreigners_have_their_own_table(leaders: Cast) -> None:
    summary = build_summary(user=leaders.district_office)
    identity = rows_of(summary, "T17", "identity")
    assert (identity["4"]["male"], identity["1"]["female"], identity["total"]["total"]) == (1, 1, 2)
    assert rows_of(summary, "T17", "stay")["total"]["total"] == 2


def test_the_workbook_and_the_exports_page_state_the_same_coverage(leaders: Cast, client, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.PRIVATE_MEDIA_ROOT = settings.MEDIA_ROOT = tmp_path
    from enumeration.models import Household

    accepted = Household.objects.filter(state__in=ACCEPTED).count()
    everything = Household.objects.count()
    assert (accepted, everything) == (4, 6)  # three census forms and one foreign form of six
    progress_refresh()
    client.force_login(leaders.district_office)
    page = client.get(reverse("supervision:exports")).content.decode()
    assert f"{everything} 户中已验收 {accepted} 户" in page
    job = export_start(user=leaders.district_office, kind="progress_summary", params={"format": "xlsx"})
    job_run(job.pk)
    job.refresh_from_db()
    book = load_workbook(io.BytesIO(job.file.read()))
    for sheet in book.worksheets[:-1]:
        line = str(sheet["A5"].value)
        numbers = re.search(r"(\d+) of (\d+) households|(\d+) 户中已验收 (\d+) 户", line)
        assert numbers is not None, line
        stated = numbers.group(1, 2) if numbers.group(1) else numbers.group(4, 3)
        assert stated == (str(accepted), str(everything)), sheet.title
        assert "1 of 2" in line or "2 户中已验收 1 户" in line  # the foreign forms, stated apart
