"""Area-frame import and export: keyed by code, idempotent, all-or-nothing with line-numbered problems."""

from __future__ import annotations

import csv as csv_module
import io
from typing import Any

import openpyxl
import pytest
import tablib
from django.urls import reverse

from census.models import AuditEvent, SmallArea, Township, Village
from census.services import area_frame_export, area_frame_import
from tests.census.factories import DistrictFactory
from tests.conftest import Cast

pytestmark = pytest.mark.django_db


def workbook(**sheets: list[list[object]]) -> io.BytesIO:
    book = tablib.Databook()
    for title, rows in sheets.items():
        dataset = tablib.Dataset(*rows[1:], headers=rows[0])
        dataset.title = title
        book.add_sheet(dataset)
    return io.BytesIO(book.export("xlsx"))


TOWNSHIPS = [
    ["code", "name", "kind", "district"],
    ["511504001", "南岸街道", "street", "511504"],
    ["511504101", "柏溪镇", "town", "511504"],
]
VILLAGES = [
    ["code", "name", "kind", "urban_rural_code", "township"],
    ["511504001001", "滨江社区", "residents", 111, "511504001"],
    ["511504101201", "桂花村", "villagers", 220, "511504101"],
]
SMALL_AREAS = [
    ["code", "name", "village"],
    ["511504001001001", "一区", "511504001001"],
    ["511504101201001", "一区", "511504101201"],
]


@pytest.fixture
def district() -> None:
    DistrictFactory()


def test_a_workbook_loads_every_level_in_order(district: None) -> None:
    report = area_frame_import(
        upload=workbook(small_area=SMALL_AREAS, village=VILLAGES, township=TOWNSHIPS),
        file_format="xlsx",
        level=None,
        actor=None,
    )
    assert report.ok, report.problems
    assert report.new == 6
    assert SmallArea.objects.get(code="511504101201001").township_id == "511504101"
    assert AuditEvent.objects.filter(object_type="area_frame").count() == 1


def test_importing_the_same_file_again_changes_nothing(district: None) -> None:
    data = workbook(township=TOWNSHIPS, village=VILLAGES, small_area=SMALL_AREAS).getvalue()
    area_frame_import(upload=io.BytesIO(data), file_format="xlsx", level=None, actor=None)
    again = area_frame_import(upload=io.BytesIO(data), file_format="xlsx", level=None, actor=None)
    assert again.ok and again.changed == 0 and again.skipped == 6


def test_a_changed_name_is_an_update(district: None) -> None:
    area_frame_import(upload=workbook(township=TOWNSHIPS), file_format="xlsx", level=None, actor=None)
    renamed = [TOWNSHIPS[0], ["511504001", "南岸新街道", "street", "511504"], TOWNSHIPS[2]]
    report = area_frame_import(upload=workbook(township=renamed), file_format="xlsx", level=None, actor=None)
    assert report.updated == 1 and report.skipped == 1
    assert Township.objects.get(code="511504001").name == "南岸新街道"


def test_a_bad_row_is_reported_by_line_and_nothing_of_the_file_is_loaded(district: None) -> None:
    villages = [
        *VILLAGES,
        ["511504101202", "坏村", "villagers", 999, "511504101"],  # unknown urban-rural code (line 4)
        ["511504102201", "错村", "villagers", 220, "511504101"],  # outside its township (line 5)
    ]
    report = area_frame_import(
        upload=workbook(township=TOWNSHIPS, village=villages), file_format="xlsx", level=None, actor=None
    )
    assert not report.ok
    lines = {(p.level, p.line) for p in report.problems}
    assert ("village", 4) in lines and ("village", 5) in lines
    assert not Township.objects.exists() and not Village.objects.exists()


def test_a_csv_row_pointing_at_a_missing_parent_is_reported(district: None) -> None:
    csv = "code,name,village\n511504101201001,一区,511504101201\n"
    report = area_frame_import(upload=io.BytesIO(csv.encode()), file_format="csv", level="small_area", actor=None)
    assert not report.ok and report.problems[0].line == 2
    assert not SmallArea.objects.exists()


def test_csv_in_gb18030_from_a_chinese_spreadsheet_loads(district: None) -> None:
    csv = "code,name,kind,district\r\n511504001,南岸街道,street,511504\r\n"
    report = area_frame_import(
        upload=io.BytesIO(csv.encode("gb18030")), file_format="csv", level="township", actor=None
    )
    assert report.ok and Township.objects.get().name == "南岸街道"


def test_codes_keep_their_leading_zeros_when_a_spreadsheet_stored_numbers(district: None) -> None:
    townships = [TOWNSHIPS[0], [511504001, "南岸街道", "street", 511504]]
    report = area_frame_import(upload=workbook(township=townships), file_format="xlsx", level=None, actor=None)
    assert report.ok, report.problems
    assert Township.objects.get().code == "511504001"


def test_the_export_reimports_without_changes(district: None) -> None:
    area_frame_import(
        upload=workbook(township=TOWNSHIPS, village=VILLAGES, small_area=SMALL_AREAS),
        file_format="xlsx",
        level=None,
        actor=None,
    )
    exported = area_frame_export(
        level=None,
        file_format="xlsx",
        queryset_by_level={
            "township": Township.objects.all(),
            "village": Village.objects.all(),
            "small_area": SmallArea.objects.all(),
            "building": SmallArea.objects.none(),
        },
    )
    report = area_frame_import(upload=io.BytesIO(exported), file_format="xlsx", level=None, actor=None)
    assert report.ok and report.changed == 0 and report.skipped == 6


# Payloads of the CSV-injection write-ups (OWASP "CSV Injection"): each would run as a formula in a spreadsheet.
FORMULAS = [
    '=HYPERLINK("http://evil.example/","x")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    " =1+1",
]


def test_a_formula_typed_as_an_address_arrives_as_text_in_the_csv_and_the_xlsx_export(cast: Cast, login: Any) -> None:
    from census.models import Building
    from tests.census.factories import BuildingFactory

    for number, address in enumerate(FORMULAS, start=1):
        BuildingFactory(small_area=cast.area_a1, number=str(number), address=address)
    client = login(cast.district_office)
    csv_response = client.get(reverse("frame:export"), {"level": "building", "format": "csv"})
    assert csv_response.status_code == 200
    rows = list(csv_module.DictReader(io.StringIO(csv_response.content.decode("utf-8-sig"))))
    xlsx_response = client.get(reverse("frame:export"), {"format": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_response.content))["building"]
    header, *lines = list(sheet.iter_rows(values_only=True))
    cells = [dict(zip(header, line, strict=True)) for line in lines]
    formula_cells = [cell for row in sheet.iter_rows() for cell in row if cell.data_type == "f"]
    # The neutralised form: the same text behind an apostrophe, so it is read as text (OWASP's advice).
    expected = {str(number): "'" + address for number, address in enumerate(FORMULAS, start=1)}
    assert {row["number"]: row["address"] for row in rows} == expected
    assert {str(cell["number"]): cell["address"] for cell in cells} == expected
    assert formula_cells == []
    # What is stored is what was typed: only the files carry the apostrophe.
    assert set(Building.objects.values_list("address", flat=True)) == set(FORMULAS)
