"""The city office's summary tables (市普查办汇总表): its districts' accepted forms counted together, T01 with a row
per district, exported as the district office exports its own — and nothing in them that names a form.

The city of ``test_city_office``: 叙州区 (511504) with two families of three (head and son male, wife female), 翠屏区
(511502) with one, all living where their hukou is (常住 and 户籍). Here every form is accepted, and a district of
another city (锦江区 510104) has an accepted form of two persons that the city must not count.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from census.jobs import job_run
from census.models import Job, JobStatus
from enumeration.models import AcceptanceOverride, Household, HouseholdState
from supervision.progress.services import EXPORT_MICRODATA, EXPORT_SUMMARY, ExportForbidden, export_start
from supervision.progress.summaries import build_summary, check_summary
from tests.census.factories import SmallAreaFactory, VillageFactory
from tests.districts.conftest import TwoDistricts
from tests.progress.factories import HouseholdFactory, PersonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def accepted_city(city: dict) -> dict:
    Household.objects.filter(pk__in=[h.pk for h in city["households"]]).update(state=HouseholdState.ACCEPTED)
    # 锦江区 (another city): one accepted form of two residents.
    village = VillageFactory(township_id="510104001", code="510104001001", name="督院社区")
    outside = HouseholdFactory(small_area=SmallAreaFactory(village=village, code="510104001001001"), state="accepted")
    for row, sex in ((1, 1), (2, 2)):
        PersonFactory(household=outside, row_no=row, d4_sex=sex, d7_residence=1, d8_hukou_place=1, d9_away_duration=1)
    return city


def _t01(summary: Any) -> dict[str, tuple[Any, ...]]:
    table = summary.table("T01")
    rows = {row.key: row for row in table.blocks[0].rows}
    rows["total"] = table.blocks[0].total
    return {
        key: (row.get("households"), row.get("persons"), row.get("male"), row.get("female"), row.get("hukou"))
        for key, row in rows.items()
    }


def test_the_city_summary_counts_its_districts_together_with_a_row_per_district(
    accepted_city: dict, two_districts: TwoDistricts
) -> None:
    summary = build_summary(user=accepted_city["office"])
    check_summary(summary)
    # Worked by hand from the fixture: (households, residents, male, female, hukou population).
    assert _t01(summary) == {
        "511502": (1, 3, 2, 1, 3),
        "511504": (2, 6, 4, 2, 6),
        "total": (3, 9, 6, 3, 9),
    }
    assert "511502 翠屏区" in [row.label for row in summary.table("T01").blocks[0].rows]
    assert summary.office_name == "宜宾市"
    # Every count of every table is what the two district offices' own tables count, added up.
    own = [build_summary(user=office) for office in (two_districts.a.district_office, two_districts.b.district_office)]
    compared = 0
    for table in summary.tables:
        for index, block in enumerate(table.blocks):
            if block.total is None:
                continue
            for column in (column for column in table.columns if column.additive):
                expected = sum(s.table(table.code).blocks[index].total.get(column.key) or 0 for s in own)
                assert (block.total.get(column.key) or 0) == pytest.approx(expected), (
                    table.code,
                    block.key,
                    column.key,
                )
                compared += 1
    assert compared > 50  # (every table took part: 94 totals today)


def test_the_city_summary_says_how_many_forms_passed_over_the_checks_never_which(
    accepted_city: dict, two_districts: TwoDistricts
) -> None:
    household = accepted_city["households"][0]
    AcceptanceOverride.objects.create(
        household=household,
        actor=two_districts.a.district_office,
        reason="复核属实，户主外出务工，已电话核实",
        blockers=[{"key": "finding:1", "text": "户规模与摸底不符"}],
    )
    key = f"{household.small_area.code}{household.household_no:03d}"
    district = build_summary(user=two_districts.a.district_office)
    assert [line.household for line in district.overrides] == [key]

    with translation.override("en"):
        summary = build_summary(user=accepted_city["office"])
    assert summary.overrides == [] and summary.death_mismatches == []
    # On every table, as the district's note is: how many, and where to learn which.
    for table in summary.tables:
        assert table.notes[-1].startswith("1 override(s) of the checks by the districts' offices"), table.notes
    text = " ".join(note for table in summary.tables for note in table.notes)
    assert key not in text and household.small_area.code not in text


@pytest.fixture
def media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.PRIVATE_MEDIA_ROOT = settings.MEDIA_ROOT = tmp_path
    return tmp_path


def test_the_city_office_exports_its_workbook_but_never_microdata(accepted_city: dict, media) -> None:  # type: ignore[no-untyped-def]
    office = accepted_city["office"]
    job = export_start(user=office, kind=EXPORT_SUMMARY, params={"format": "xlsx"})
    job_run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error
    assert job.file_name.startswith("summary-5115-")
    book = load_workbook(io.BytesIO(job.file.read()), data_only=True)
    sheet = book[next(name for name in book.sheetnames if name.startswith("T01"))]
    labels = {str(row[0]): row[1] for row in sheet.iter_rows(values_only=True) if row and row[0]}
    assert labels["511502 翠屏区"] == 1 and labels["511504 叙州区"] == 2
    assert not any(str(label).startswith("510104") for label in labels)

    with pytest.raises(ExportForbidden):
        export_start(user=office, kind=EXPORT_MICRODATA, params={"forms": "accepted"})


def test_the_city_page_starts_the_summary_and_never_microdata(accepted_city: dict, media) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(accepted_city["office"])
    page = client.get(reverse("supervision:city-dashboard")).content.decode()
    start = reverse("supervision:city-summary-export")
    assert f'action="{start}"' in page and "progress_microdata" not in page

    response = client.post(start, {"format": "csv"})
    job = Job.objects.get(created_by=accepted_city["office"])
    assert (job.kind, job.params) == ("progress_summary", {"format": "csv"})
    assert response.status_code == 302
    assert response["Location"] == reverse("supervision:city-dashboard") + f"#job-{job.pk}"
    assert f'data-job="{job.pk}"' in client.get(reverse("supervision:city-dashboard")).content.decode()

    # A format the exports do not know: a message, and no job.
    response = client.post(start, {"format": "docx"})
    assert response.status_code == 302 and response["Location"] == reverse("supervision:city-dashboard")
    assert [str(m) for m in get_messages(response.wsgi_request)][-1] in (
        "Choose xlsx, CSV or PDF.",
        "请选择 xlsx、CSV 或 PDF。",
    )
    # The district offices' exports (microdata among them) stay theirs.
    assert (
        client.post(
            reverse("supervision:export-start"), {"kind": "progress_microdata", "forms": "accepted"}
        ).status_code
        == 403
    )
    assert client.get(reverse("supervision:exports")).status_code == 403
    assert Job.objects.filter(created_by=accepted_city["office"]).count() == 1
