"""The summary tables as a PDF for signing: the same tables, markings, scope, notes and footer as the workbook
(``writers``), laid out by WeasyPrint from an HTML template (``progress/summary_pdf.html``).

Each table starts on a new page of the configured paper (``CENSUS_PRINT_PAPER``, A4) in landscape; its header
row repeats on every page it runs over (WeasyPrint repeats a ``<thead>``), the markings stand in full in a
block at the top right, and the footer of a report form sent upward (单位负责人, 统计负责人, 填表人, 报出日期)
closes it. Ratios have one decimal and percentages two, as in the workbook. The pages carry their number.

WeasyPrint needs Pango from the system (Debian ``libpango-1.0-0``, ``libpangoft2-1.0-0``) and a Chinese font
(``fonts-wqy-microhei`` or ``fonts-noto-cjk``); it is imported only when a PDF is made.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string

from supervision.progress.summaries.model import Number, Summary
from supervision.progress.summaries.writers import _marking_cells, balance_lines, footer_lines

PAPER = {"A4": "A4", "A3": "A3", "B5": "B5", "letter": "letter"}


def _cell(value: Number, decimals: int | None) -> str:
    if value is None:
        return ""
    if decimals is None:
        return f"{int(value)}" if float(value).is_integer() else f"{value}"
    return f"{value:.{decimals}f}"


def html(summary: Summary) -> str:
    """The PDF's HTML: one section per table, then the balance checks."""
    tables: list[dict[str, Any]] = []
    for table in summary.tables:
        rows: list[dict[str, Any]] = []
        for block in table.blocks:
            if block.title:
                rows.append({"title": block.title})
            for row in [*block.rows, *([block.total] if block.total is not None else [])]:
                cells = [_cell(row.get(column.key), column.decimals) for column in table.columns]
                rows.append({"label": row.label, "cells": cells, "total": row is block.total})
        tables.append({"table": table, "markings": _marking_cells(summary, table), "rows": rows})
    footer = [line[0] for line in footer_lines(summary.office_name) if line]
    checks = list(balance_lines(summary.checks))
    return render_to_string(
        "progress/summary_pdf.html",
        {
            "tables": tables,
            "summary": summary,
            "footer": footer,
            "checks_title": checks[0][0],
            "checks_note": checks[1][0],
            "checks_header": checks[3],
            "checks": checks[4:],
            "paper": PAPER.get(getattr(settings, "CENSUS_PRINT_PAPER", "A4"), "A4"),
            "district": summary.office_name or settings.CENSUS_DISTRICT_NAME,
        },
    )


def document(summary: Summary) -> Any:
    """The laid-out document (``weasyprint.Document``): its pages can be counted and read by a test."""
    import weasyprint  # needs Pango from the system: imported only when a PDF is made

    paper = PAPER.get(getattr(settings, "CENSUS_PRINT_PAPER", "A4"), "A4")
    style = weasyprint.CSS(string=render_to_string("progress/summary_pdf.css", {"paper": paper}))
    return weasyprint.HTML(string=html(summary), base_url=str(settings.BASE_DIR)).render(stylesheets=[style])


def write_pdf(summary: Summary, path: Path) -> None:
    document(summary).write_pdf(path)
