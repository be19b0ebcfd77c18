"""The summary tables as one xlsx workbook (a sheet per table) or as a zip of CSV files (a file per table).

Both carry, on every table, the statutory markings (表号, 制表机关, 文号, 有效期至) in a block at the top right,
what is counted and the coverage, the footer of a report form sent upward (单位负责人, 统计负责人, 填表人,
报出日期), and a last sheet/file with every balance check and its figures. The layout is the same in both, so a
reader (or a test) finds the header on line 6 and the rows below it:

    1  title                                                        表号：…      (the markings block, right)
    2                                                               制表机关：…
    3                                                               文号：…
    4                                                               有效期至：…
    5  资料范围 and coverage
    6  header                        项目 | 合计 | 男 | 女 …
    7… rows; a block title alone in the first column; each block ends with its 合计 row
       notes (注：…) after a blank line, then the footer

The workbook prints as a bureau prints (``print_setup``): the configured paper (A4) in landscape, fitted to
the page width, the title, markings and header repeated on every page, panes frozen below the header and
right of the labels, column widths set from the content, one decimal for ratios and two for percentages.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from census.spreadsheets import csv_writer, workbook_new
from supervision.progress.summaries.balance import Check
from supervision.progress.summaries.model import Summary, SummaryTable

HEADER_ROW = 6
# Display width of a character in a column-width unit: CJK and full-width characters take two.
_WIDE = re.compile(r"[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]")
PAPER_SIZES = {"A4": 9, "A3": 8, "B5": 13, "letter": 1}
LABEL_WIDTH_MAX = 60
NUMBER_WIDTH_MIN = 10


def display_width(text: Any) -> int:
    """How many column-width units a text needs (a CJK character counts two)."""
    value = "" if text is None else str(text)
    return len(value) + len(_WIDE.findall(value))


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
    width = len(table.columns) + 1
    marks = _marking_cells(summary, table) or ["", "", "", ""]
    for index, mark in enumerate(marks):
        first = f"{table.code} {table.title}" if index == 0 else None
        yield [first, *([None] * (width - 2)), mark]
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
    yield from footer_lines(summary.office_name)


def footer_lines(district: str = "") -> Iterator[list[Any]]:
    """The footer of a statistical report form sent upward, then who compiled the table and when."""
    yield []
    yield [
        "\u3000\u3000\u3000\u3000".join(
            (
                _("Head of the unit: ________"),
                _("Head of statistics: ________"),
                _("Filled in by: ________"),
                _("Date reported: ____-__-__"),
            )
        )
    ]
    yield [
        _("Compiled by: %(district)s census office, %(date)s")
        % {"district": district or settings.CENSUS_DISTRICT_NAME, "date": timezone.localdate().isoformat()}
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
    # (openpyxl is imported where a workbook is written: see census.spreadsheets.workbook_new.)
    from openpyxl.workbook.child import INVALID_TITLE_REGEX

    return INVALID_TITLE_REGEX.sub(" ", text)[:31]


def sheet_title(table: SummaryTable) -> str:
    return xlsx_sheet_title(f"{table.code} {table.title}")


def print_setup(sheet: Any, *, title_rows: int, freeze: str | None) -> None:
    """Print settings of a report sheet: paper (``CENSUS_PRINT_PAPER``, A4) in landscape, fitted to one page
    wide and as many pages long as it needs, the first ``title_rows`` rows repeated on every page, centred,
    page numbers in the footer, panes frozen at ``freeze``."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = PAPER_SIZES.get(getattr(settings, "CENSUS_PRINT_PAPER", "A4"), 9)
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.print_title_rows = f"1:{title_rows}"
    sheet.print_options.horizontalCentered = True
    sheet.page_margins.left = sheet.page_margins.right = 0.5
    sheet.page_margins.top = sheet.page_margins.bottom = 0.6
    sheet.oddFooter.center.text = _("Page &P of &N")
    if freeze:
        sheet.freeze_panes = freeze


def _number_format(decimals: int | None) -> str:
    return "#,##0" if decimals is None else "0." + "0" * decimals


def write_xlsx(summary: Summary, path: Path) -> None:
    # (openpyxl is imported where a workbook is written: see census.spreadsheets.workbook_new.)
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    book = workbook_new()
    book.remove(book.active)  # type: ignore[arg-type]
    bold = Font(bold=True)
    for table in summary.tables:
        sheet = book.create_sheet(title=sheet_title(table))
        lines = list(table_lines(summary, table))
        for line in lines:
            sheet.append(line)
        last = len(table.columns) + 1
        body_end = HEADER_ROW + sum(
            len(part.rows) + (part.total is not None) + bool(part.title) for part in table.blocks
        )
        # Column widths from the content: the labels (up to LABEL_WIDTH_MAX, longer ones wrap), the numbers and
        # their headers (wrapped over up to three lines).
        labels = [line[0] for line in lines[HEADER_ROW:body_end] if line]
        label_width = min(LABEL_WIDTH_MAX, max([display_width(label) for label in labels] + [16]) + 2)
        sheet.column_dimensions["A"].width = label_width
        widths = [label_width]
        for index, column in enumerate(table.columns, start=2):
            values = [line[index - 1] for line in lines[HEADER_ROW:body_end] if len(line) >= index]
            number = max([display_width(f"{value:,}" if isinstance(value, int) else value) for value in values] + [0])
            width = max(NUMBER_WIDTH_MIN, number + 2, (display_width(column.label) + 2) // 3 + 2)
            widths.append(width)
        # The markings block spans the last columns; they are widened until every marking shows in full.
        block = max(2, last - 2)
        marks = [display_width(line[-1]) for line in lines[:4]]
        shortfall = max([*marks, 0]) + 2 - sum(widths[block - 1 :])
        if shortfall > 0:
            for index in range(block - 1, last):
                widths[index] += shortfall // (last - block + 1) + 1
        for index in range(2, last + 1):
            sheet.column_dimensions[get_column_letter(index)].width = widths[index - 1]
        for row in range(1, 5):
            # The marking moves to the first cell of its block: merging keeps only that cell's value.
            mark = sheet.cell(row=row, column=last).value
            sheet.cell(row=row, column=last).value = None
            sheet.cell(row=row, column=block).value = mark
            sheet.merge_cells(start_row=row, start_column=block, end_row=row, end_column=last)
            sheet.cell(row=row, column=block).alignment = Alignment(horizontal="right")
        title_end = max(1, block - 1)
        if title_end > 1:
            sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=title_end)
        sheet["A1"].font = Font(bold=True, size=13)
        sheet["A1"].alignment = Alignment(wrap_text=True, vertical="top")
        # The scope line spans the table and wraps; its height follows its length.
        sheet.merge_cells(start_row=5, start_column=1, end_row=5, end_column=last)
        sheet["A5"].alignment = Alignment(wrap_text=True, vertical="top")
        sheet.row_dimensions[5].height = 15 * (display_width(sheet["A5"].value) // max(1, sum(widths)) + 1)
        for cell in sheet[HEADER_ROW]:
            cell.font = bold
            cell.alignment = Alignment(wrap_text=True, vertical="top", horizontal="center")
        sheet.row_dimensions[HEADER_ROW].height = 15 * 3
        for row in sheet.iter_rows(min_row=HEADER_ROW + 1, max_row=body_end):
            if row[0].value == _("Total") or (row[0].value and all(cell.value is None for cell in row[1:])):
                row[0].font = bold
            row[0].alignment = Alignment(wrap_text=True, vertical="top")
            for cell, column in zip(row[1:], table.columns, strict=False):
                cell.number_format = _number_format(column.decimals)
        # Notes and the footer below the table: each line spans the table's width and wraps, so that it prints
        # whole on the page rather than cut at the first column.
        total_width = sum(widths)
        for row in range(body_end + 1, sheet.max_row + 1):
            cell = sheet.cell(row=row, column=1)
            if cell.value is None or last < 2:
                continue
            sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=last)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            sheet.row_dimensions[row].height = 15 * (display_width(cell.value) // max(1, int(total_width)) + 1)
        print_setup(sheet, title_rows=HEADER_ROW, freeze=sheet.cell(row=HEADER_ROW + 1, column=2).coordinate)
    checks = book.create_sheet(title=_("Balance checks")[:31])
    for line in balance_lines(summary.checks):
        checks.append(line)
    checks.column_dimensions["A"].width = 40
    checks.column_dimensions["B"].width = 60
    for letter in "CDE":
        checks.column_dimensions[letter].width = 14
    print_setup(checks, title_rows=4, freeze="A5")
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
