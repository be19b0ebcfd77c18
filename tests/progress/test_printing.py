"""The workbook prints as a bureau prints it. LibreOffice is not installed here (``which soffice`` finds
nothing), so the check is on what decides the printout: openpyxl's print settings and the column widths,
with the widths a text needs counted here independently (a CJK character takes two units)."""

from __future__ import annotations

import io
import unicodedata
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from census.jobs import job_run
from census.models import JobStatus
from supervision.progress.services import export_start
from tests.progress.conftest import Registration
from tests.progress.test_leader_tables import leaders  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db

# A4 landscape, 297 mm less 2 × 0.5 in margins ≈ 272 mm; a column-width unit of Calibri 11 is about 1.9 mm at
# 100 %. Fitted to the width, a sheet up to this many units prints at 50 % or more, still readable.
READABLE_WIDTH = 2 * 272 / 1.9


def needed(text: Any) -> int:
    value = "" if text is None else str(text)
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in value)


def width(sheet: Any, first: int, last: int) -> float:
    return sum(sheet.column_dimensions[get_column_letter(index)].width or 8.43 for index in range(first, last + 1))


def workbook(user: Any, settings: Any, tmp_path: Any) -> Any:
    settings.PRIVATE_MEDIA_ROOT = settings.MEDIA_ROOT = tmp_path
    job = export_start(user=user, kind="progress_summary", params={"format": "xlsx"})
    job_run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error
    return load_workbook(io.BytesIO(job.file.read()))


def test_every_table_prints_on_a4_landscape_with_its_labels_and_markings(leaders, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    book = workbook(leaders.district_office, settings, tmp_path)
    tables = book.worksheets[:-1]
    assert len(tables) == 17
    for sheet in book.worksheets:
        setup = sheet.page_setup
        assert (setup.orientation, int(setup.paperSize)) == ("landscape", 9), sheet.title
        assert sheet.sheet_properties.pageSetUpPr.fitToPage
        assert (int(setup.fitToWidth), int(setup.fitToHeight)) == (1, 0), sheet.title
    for sheet in tables:
        # The title, the markings and the header repeat on every page; the labels stay with the numbers.
        assert sheet.print_title_rows.replace("$", "") == "1:6", sheet.title
        assert sheet.freeze_panes == "B7", sheet.title
        last = sheet.max_column
        assert width(sheet, 1, last) <= READABLE_WIDTH, sheet.title
        # Each marking in full: its merged block is as wide as the text.
        marks = []
        for row in range(1, 5):
            merged = next(r for r in sheet.merged_cells.ranges if r.min_row == row and r.max_col == last)
            mark = sheet.cell(row=row, column=merged.min_col).value
            marks.append(mark)
            assert width(sheet, merged.min_col, merged.max_col) >= needed(mark), (sheet.title, mark)
        assert [str(mark).split("：")[0] for mark in marks] == ["表号", "制表机关", "文号", "有效期至"]
        assert "国家统计局" in marks[1] and "〔2019〕24号" in marks[2]
        # Every number fits its column; every label fits or wraps.
        header = [cell.value for cell in sheet[6]]
        for row in sheet.iter_rows(min_row=7):
            if row[0].value is None:
                break  # the blank line after the table
            label = row[0]
            assert needed(label.value) <= width(sheet, 1, 1) or label.alignment.wrap_text, (sheet.title, label.value)
            for cell in row[1:]:
                if isinstance(cell.value, int | float):
                    shown = f"{cell.value:,.2f}"
                    assert needed(shown) <= width(sheet, cell.column, cell.column), (sheet.title, cell.coordinate)
                    # One decimal for ratios, two for percentages, none for counts.
                    label_text = str(header[cell.column - 1])
                    expected = (
                        "0.00"
                        if "%" in label_text
                        else "0.0"
                        if (
                            "‰" in label_text
                            or "比" in label_text
                            or "ratio" in label_text
                            or "eighted" in label_text
                            or "加权" in label_text
                        )
                        else "#,##0"
                    )
                    assert cell.number_format == expected, (sheet.title, cell.coordinate, label_text)
        # The footer of a report sent upward.
        texts = " ".join(str(cell.value) for row in sheet.iter_rows() for cell in row if cell.value)
        for zh, en in (
            ("单位负责人", "Head of the unit"),
            ("统计负责人", "Head of statistics"),
            ("填表人", "Filled in by"),
            ("报出日期", "Date reported"),
        ):
            assert zh in texts or en in texts, (sheet.title, zh)
        footer = next(
            r
            for r in sheet.merged_cells.ranges
            if "统计负责人" in str(sheet.cell(r.min_row, 1).value)
            or "Head of statistics" in str(sheet.cell(r.min_row, 1).value)
        )
        assert (footer.min_col, footer.max_col) == (1, last)
        assert "&P" in sheet.oddFooter.center.text


def test_a_dashboard_export_sets_its_widths_and_print_settings(
    registration: Registration, client, settings, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    from django.urls import reverse

    from census.models import Job

    settings.PRIVATE_MEDIA_ROOT = settings.MEDIA_ROOT = tmp_path
    cast = registration.cast
    client.force_login(cast.district_office)
    client.post(
        reverse("supervision:progress-table-export", args=["small_areas"]),
        {"township": cast.township_a.code},
        HTTP_HX_REQUEST="true",
    )
    job = Job.objects.get(kind="progress_table")
    job_run(job.pk)
    job.refresh_from_db()
    sheet = load_workbook(io.BytesIO(job.file.read())).active
    assert sheet.page_setup.orientation == "landscape" and sheet.print_title_rows.replace("$", "") == "1:2"
    for row in sheet.iter_rows(min_row=3):
        code = row[0]
        # The 15-digit small-area code shows whole ("51150400:" was printed before).
        assert len(str(code.value)) == 15 and needed(code.value) <= width(sheet, 1, 1)


def page_texts(document: Any) -> list[str]:
    """The text of each laid-out page of a WeasyPrint document, in reading order."""

    def texts(box: Any) -> Any:
        if hasattr(box, "text"):
            yield box.text
        for child in getattr(box, "children", ()):
            yield from texts(child)

    return [" ".join(texts(page._page_box)) for page in document.pages]


def test_the_pdf_for_signing_has_every_table_on_its_own_a4_landscape_pages(leaders, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """WeasyPrint lays the tables out; the pages are read back from its layout (no PDF text tool is installed
    here): A4 landscape, each table from a new page with its title and its four markings in full, the header
    row on every page it runs over, the footer of a report sent upward at its end."""
    import os
    import stat

    from django.utils import translation

    from supervision.progress.summaries import build_summary, check_summary
    from supervision.progress.summaries.pdf import document

    settings.PRIVATE_MEDIA_ROOT = settings.MEDIA_ROOT = tmp_path
    job = export_start(user=leaders.district_office, kind="progress_summary", params={"format": "pdf"})
    job_run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error
    assert job.file.name.endswith(".pdf") and job.file.read(5) == b"%PDF-"
    assert stat.S_IMODE(os.stat(job.file.path).st_mode) == 0o600
    with translation.override("zh-hans"):
        summary = build_summary(user=leaders.district_office)
        check_summary(summary)
        laid_out = document(summary)
        item, checks_title = translation.gettext("Item"), translation.gettext("Balance checks")
    # A4 landscape: 297 × 210 mm in CSS pixels (96 per inch).
    for page in laid_out.pages:
        assert (round(page.width * 25.4 / 96), round(page.height * 25.4 / 96)) == (297, 210)
    texts = page_texts(laid_out)
    starts = [index for index, text in enumerate(texts) if any(text.startswith(f"{t.code} ") for t in summary.tables)]
    assert [texts[index].split(" ")[0] for index in starts] == [table.code for table in summary.tables]
    assert len(summary.tables) == 17
    checks = next(index for index, text in enumerate(texts) if text.startswith(checks_title))
    assert checks > starts[-1]
    for number, start in enumerate(starts):
        end = starts[number + 1] if number + 1 < len(starts) else checks
        first = texts[start]
        table = summary.tables[number]
        assert first.startswith(f"{table.code} {table.title}")
        for mark in ("表号：", "制表机关：国家统计局", "文号：国统字〔2019〕24号", "有效期至："):
            assert mark in first, (table.code, mark)
        for page in texts[start:end]:
            assert item in page, (table.code, "header row repeated")
        closing = texts[end - 1]
        for signature in ("单位负责人", "统计负责人", "填表人", "报出日期"):
            assert signature in closing, (table.code, signature)
