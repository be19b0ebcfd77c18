"""The dashboard tables, declared once: columns, search, sorting and where the rows come from.

The same declaration renders the HTML table (sortable headers, search, paging with
``census.listing.ListPage`` links and partials) and the xlsx export of that table, so the two always show
the same columns with the same numbers.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from census.listing import ListPage
from census.models import StaffMember, Township
from census.spreadsheets import workbook_new
from supervision.progress import hooks, selectors
from supervision.progress.summaries.writers import display_width, print_setup, xlsx_sheet_title

TEXT, INT, PERCENT, DECIMAL = "text", "int", "percent", "decimal"


@dataclass(frozen=True)
class Column:
    key: str
    label: Promise
    kind: str = INT
    sortable: bool = True


@dataclass(frozen=True)
class TableSpec:
    name: str
    title: Promise
    key: str  # the unique column of a row, used for ranks
    columns: tuple[Column, ...]
    search_fields: tuple[str, ...]
    default_sort: str
    rows: Callable[..., Iterable[dict[str, Any]]]
    per_page: int = 25
    needs_township: bool = True

    @property
    def sortable(self) -> tuple[str, ...]:
        return tuple(column.key for column in self.columns if column.sortable)

    def columns_for(self, *, readiness: bool) -> list[Column]:
        return [column for column in self.columns if column.key != "readiness" or readiness]


STATE_COLUMNS = (
    Column("hh_listed", _("Not yet registered")),
    Column("hh_draft", _("Draft")),
    Column("hh_signed", _("Awaiting review")),
    Column("hh_returned", _("Returned")),
    Column("hh_approved", _("Approved")),
    Column("hh_accepted", _("Accepted")),
    Column("hh_locked", _("Locked")),
)
COUNT_COLUMNS = (
    Column("households", _("Households listed")),
    Column("registered", _("Forms started (drafts included)")),
    *STATE_COLUMNS,
    Column("completion", _("Completion %"), PERCENT),
    Column("persons_expected", _("Persons listed")),
    Column("persons_registered", _("Persons on forms started (drafts included)")),
    Column("awareness", _("Publicity awareness %"), PERCENT),
    Column("findings", _("Open findings")),
)
SCORE_COLUMNS = (Column("score", _("Score"), DECIMAL), Column("points", _("Assessment points (×2)"), DECIMAL))
RANK = Column("rank", _("Rank"), sortable=False)


def _village_rows(*, user: StaffMember, township: Township | None, village: str = "") -> list[dict[str, Any]]:
    assert township is not None
    return selectors.village_rows(user=user, township=township)


def _small_area_rows(*, user: StaffMember, township: Township | None, village: str = "") -> QuerySet[Any]:
    assert township is not None
    return selectors.small_area_rows(user=user, township=township, village=village)


def _enumerator_rows(*, user: StaffMember, township: Township | None, village: str = "") -> QuerySet[Any]:
    assert township is not None
    return selectors.enumerator_rows(user=user, township=township)


def _township_rows(*, user: StaffMember, township: Township | None, village: str = "") -> list[dict[str, Any]]:
    return selectors.township_rows(user=user)


TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        TableSpec(
            name="townships",
            title=_("Townships"),
            key="code",
            columns=(
                RANK,
                Column("code", _("Code"), TEXT),
                Column("name", _("Township"), TEXT),
                *COUNT_COLUMNS,
                Column("readiness", _("Organisation readiness %"), PERCENT, sortable=False),
                *SCORE_COLUMNS,
            ),
            search_fields=("code", "name"),
            default_sort="-score",
            rows=_township_rows,
            per_page=50,
            needs_township=False,
        ),
        TableSpec(
            name="villages",
            title=_("Villages and communities"),
            key="code",
            columns=(
                RANK,
                Column("code", _("Code"), TEXT),
                Column("name", _("Village / community"), TEXT),
                *COUNT_COLUMNS,
                *SCORE_COLUMNS,
            ),
            search_fields=("code", "name"),
            default_sort="-score",
            rows=_village_rows,
            per_page=50,
        ),
        TableSpec(
            name="small_areas",
            title=_("Small areas"),
            key="code",
            columns=(
                Column("code", _("Code"), TEXT),
                Column("village_name", _("Village / community"), TEXT),
                Column("enumerators", _("Enumerators"), TEXT, sortable=False),
                *COUNT_COLUMNS,
            ),
            search_fields=("code", "name", "village_name", "enumerators"),
            default_sort="code",
            rows=_small_area_rows,
        ),
        TableSpec(
            name="enumerators",
            title=_("Enumerators"),
            key="username",
            columns=(
                RANK,
                Column("name", _("Enumerator"), TEXT),
                Column("username", _("Account"), TEXT),
                Column("supervisor", _("Supervisor"), TEXT),
                Column("small_areas", _("Small areas")),
                *COUNT_COLUMNS,
                *SCORE_COLUMNS,
            ),
            search_fields=("username", "name", "supervisor"),
            default_sort="-score",
            rows=_enumerator_rows,
        ),
    )
}


@dataclass
class TableData:
    """A table ready to show or export: its columns and its rows as dicts (ranks and readiness filled in)."""

    spec: TableSpec
    columns: list[Column]
    rows: list[dict[str, Any]]


def all_rows(
    spec: TableSpec, *, user: StaffMember, township: Township | None, village: str = ""
) -> tuple[list[Column], list[dict[str, Any]]]:
    """The columns and every row of the table, with derived figures, ranks and, for townships, organisation
    readiness when the organisation part provides it."""
    queryset = spec.rows(user=user, township=township, village=village)
    rows = selectors.scored_rows(queryset, spec.key)
    readiness = readiness_for(spec, user=user)
    if readiness is not None:
        for row in rows:
            share = readiness.get(row["code"])
            row["readiness"] = None if share is None else Decimal(str(round(100 * share, 1)))
    return spec.columns_for(readiness=readiness is not None), rows


def readiness_for(spec: TableSpec, *, user: StaffMember) -> dict[str, float] | None:
    if not any(column.key == "readiness" for column in spec.columns):
        return None
    mapping = hooks.readiness_by_township(user=user)
    return None if mapping is None else dict(mapping)


def _search(rows: list[dict[str, Any]], query: str, fields: tuple[str, ...]) -> list[dict[str, Any]]:
    needle = query.casefold()
    return [row for row in rows if any(needle in str(row.get(name) or "").casefold() for name in fields)]


def _sort(rows: list[dict[str, Any]], sort: str, key: str) -> list[dict[str, Any]]:
    column = sort.lstrip("-")
    # By the row key first, then (a stable sort) by the column: equal values stay in key order either way.
    ordered = sorted(rows, key=lambda row: row[key])
    return sorted(
        ordered,
        key=lambda row: (row.get(column) is not None, row.get(column) if row.get(column) is not None else 0),
        reverse=sort.startswith("-"),
    )


def table_data(
    spec: TableSpec,
    *,
    user: StaffMember,
    township: Township | None,
    params: dict[str, str],
    everything: bool,
    fetched: tuple[list[Column], list[dict[str, Any]]] | None = None,
) -> tuple[ListPage, TableData]:
    """One page of the table (or, for an export, ``everything`` the search keeps) with the request's ``q``,
    ``sort`` and ``page``.

    A dashboard table is bounded — the villages, small areas or enumerators of one township, the townships of
    the district: a few hundred rows — and its ranks need every row anyway, so one query fetches the whole
    table and the search, sort and page are applied to those rows; ``census.listing.ListPage`` makes the links,
    so the table pages like every list of the system.
    """
    village = params.get("village", "") if spec.name == "small_areas" else ""
    columns, rows = fetched or all_rows(spec, user=user, township=township, village=village)
    query = params.get("q", "").strip()[:100]
    if query:
        rows = _search(rows, query, spec.search_fields)
    sort = params.get("sort", "")
    if sort.lstrip("-") not in spec.sortable:
        sort = spec.default_sort
    rows = _sort(rows, sort, spec.key)
    paginator = Paginator(rows, max(1, len(rows)) if everything else spec.per_page)
    page = paginator.get_page(params.get("page"))
    listing = ListPage(page=page, query=query, sort=sort, sortable=spec.sortable, params=dict(params))
    return listing, TableData(spec=spec, columns=columns, rows=list(page.object_list))


def export_xlsx(data: TableData, *, title: str) -> bytes:
    """The whole table (every row the filters keep, in the chosen order) as one xlsx sheet. A table is a few
    hundred rows at most (see ``table_data``), so the workbook is built in memory."""
    # (openpyxl is imported where a workbook is written: see census.spreadsheets.workbook_new.)
    from openpyxl.styles import Alignment
    from openpyxl.utils import get_column_letter

    book = workbook_new()
    sheet = book.active
    sheet.title = xlsx_sheet_title(str(data.spec.title))
    sheet.append([title])
    sheet.append([str(column.label) for column in data.columns])
    for row in data.rows:
        sheet.append([_cell(row.get(column.key), column.kind) for column in data.columns])
    # Printed as the summary tables are: widths from the content (a 15-digit small-area code shows whole),
    # one decimal for percentages and scores as on the page, the paper in landscape fitted to its width.
    for index, column in enumerate(data.columns, start=1):
        values = [column.label, *(row.get(column.key) for row in data.rows)]
        width = max(display_width(value if column.kind == TEXT else f"{value}") for value in values[1:] or [""])
        width = max(width, min(display_width(column.label), 24) // 2)
        sheet.column_dimensions[get_column_letter(index)].width = min(max(width + 2, 8), 60)
        if column.kind in (PERCENT, DECIMAL):
            for (cell,) in sheet.iter_rows(min_row=3, min_col=index, max_col=index):
                cell.number_format = "0.0"
    for cell in sheet[2]:
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    print_setup(sheet, title_rows=2, freeze="A3")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind in (PERCENT, DECIMAL):
        return float(value)
    return value
