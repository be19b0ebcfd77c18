"""The summary tables as one xlsx workbook (a sheet per table) or as a zip of CSV files (a file per table).

Both carry, on every table, the statutory markings (表号, 制表机关, 文号, 有效期至), what is counted and the
share still pending acceptance, and a last sheet/file with every balance check and its figures. The layout
is the same in both, so a reader (or a test) finds the header on line 4 and the rows below it:

    1  title                         T01 人口按乡镇(街道)和性别
    2  markings                      表号：… | 制表机关：… | 文号：… | 有效期至：…
    3  universe and pending share    资料范围：…
    4  header                        项目 | 合计 | 男 | 女 …
    5… rows; a block title alone in the first column; each block ends with its 合计 row
       notes (注：…) after a blank line
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.workbook.child import INVALID_TITLE_REGEX

from census.spreadsheets import csv_writer, workbook_new
from supervision.progress.summaries.balance import Check
from supervision.progress.summaries.model import Summary, SummaryTable

HEADER_ROW = 4


def _marking_cells(summary: Summary, table: SummaryTable) -> list[str]:
    marks = summary.markings.get(table.code)
    if marks is None:
        return []
    return [
        _("Table no.: %(v)s") % {"v": marks.table_no},
        _("Issued by: %(v)s") % {"v": marks.authority},
        _("Approval no.: %(v)s") % {"v": marks.document_no},
        _("Valid until: %(v)s") % {"v": marks.valid_until},
    ]


def table_lines(summary: Summary, table: SummaryTable) -> Iterator[list[Any]]:
    """The lines of one table, as cells (the same for the sheet and the CSV file)."""
    yield [f"{table.code} {table.title}"]
    yield _marking_cells(summary, table)
    yield [_("Scope: %(universe)s. %(pending)s") % {"universe": table.universe, "pending": summary.pending_note}]
    yield [_("Item"), *(column.label for column in table.columns)]
    for block in table.blocks:
        if block.title:
            yield [block.title]
        for row in [*block.rows, *([block.total] if block.total is not None else [])]:
            yield [row.label, *(row.get(column.key) for column in table.columns)]
    yield []
    for note in table.notes:
        yield [_("Note: %(note)s") % {"note": note}]
    yield [
        _("Compiled by: %(district)s census office, %(date)s")
        % {"district": settings.CENSUS_DISTRICT_NAME, "date": timezone.localdate().isoformat()}
    ]


def balance_lines(checks: list[Check]) -> Iterator[list[Any]]:
    yield [_("Balance checks")]
    yield [_("Every figure below was checked before the export; an export that does not balance is refused.")]
    yield []
    yield [_("Check"), _("Where"), _("Expected"), _("Found"), _("Result")]
    for check in checks:
        yield [check.name, check.where, check.expected, check.actual, _("OK") if check.ok else _("Does not balance")]


def override_lines(summary: Summary) -> Iterator[list[Any]]:
    yield [_("Overrides of the checks")]
    yield [_("Forms counted in these tables that passed review over checks that blocked them, with the reason.")]
    yield []
    yield [_("Household"), _("Time"), _("Overridden by"), _("Reason"), _("Checks overridden")]
    for line in summary.overrides:
        yield [line.household, line.at, line.by, line.reason, line.blockers]


def xlsx_sheet_title(text: str) -> str:
    """A sheet name as Excel allows it: at most 31 characters, none of : / \\ ? * [ ] (a title such as
    "乡镇/街道" would otherwise fail the whole export)."""
    return INVALID_TITLE_REGEX.sub(" ", text)[:31]


def sheet_title(table: SummaryTable) -> str:
    return xlsx_sheet_title(f"{table.code} {table.title}")


def write_xlsx(summary: Summary, path: Path) -> None:
    book = workbook_new()
    book.remove(book.active)  # type: ignore[arg-type]
    bold = Font(bold=True)
    for table in summary.tables:
        sheet = book.create_sheet(title=sheet_title(table))
        for line in table_lines(summary, table):
            sheet.append(line)
        sheet["A1"].font = Font(bold=True, size=13)
        for cell in sheet[HEADER_ROW]:
            cell.font = bold
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for row in sheet.iter_rows(min_row=HEADER_ROW + 1):
            if row[0].value == _("Total") or (row[0].value and all(cell.value is None for cell in row[1:])):
                row[0].font = bold
        sheet.column_dimensions["A"].width = 48
        for index in range(2, len(table.columns) + 2):
            sheet.column_dimensions[get_column_letter(index)].width = 14
        sheet.freeze_panes = sheet.cell(row=HEADER_ROW + 1, column=2)
    checks = book.create_sheet(title=_("Balance checks")[:31])
    for line in balance_lines(summary.checks):
        checks.append(line)
    checks.column_dimensions["A"].width = 40
    checks.column_dimensions["B"].width = 60
    if summary.overrides:
        sheet = book.create_sheet(title=xlsx_sheet_title(_("Overrides of the checks")))
        for line in override_lines(summary):
            sheet.append(line)
        sheet.column_dimensions["A"].width = 22
        sheet.column_dimensions["D"].width = 60
        sheet.column_dimensions["E"].width = 60
    book.save(path)


def write_csv_zip(summary: Summary, path: Path) -> None:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for table in summary.tables:
            archive.writestr(f"{table.code}.csv", _csv(table_lines(summary, table)))
        archive.writestr("balance.csv", _csv(balance_lines(summary.checks)))
        if summary.overrides:
            archive.writestr("overrides.csv", _csv(override_lines(summary)))


def _csv(lines: Iterator[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv_writer(out)
    for line in lines:
        writer.writerow(["" if value is None else value for value in line])
    # UTF-8 with a BOM: spreadsheet programs on Chinese Windows then read the characters correctly.
    return ("\ufeff" + out.getvalue()).encode("utf-8")
