"""The dashboard tables, declared once: columns, search, sorting and where the rows come from.

The same declaration renders the HTML table (sortable headers, search, paging through
``census.listing.paginate_list``) and the xlsx export of that table, so the two always show the same
columns with the same numbers.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, QueryDict
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from openpyxl import Workbook

from census.listing import ListPage, paginate_list
from census.models import StaffMember, Township
from supervision.progress import hooks, selectors

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
    rows: Callable[..., QuerySet[Any]]
    ranked: bool = True
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
    Column("registered", _("Households registered")),
    *STATE_COLUMNS,
    Column("completion", _("Completion %"), PERCENT),
    Column("persons_expected", _("Persons listed")),
    Column("persons_registered", _("Persons registered")),
    Column("findings", _("Open findings")),
)
SCORE_COLUMNS = (Column("score", _("Score"), DECIMAL), Column("points", _("Assessment points (×2)"), DECIMAL))
RANK = Column("rank", _("Rank"), sortable=False)


def _village_rows(*, user: StaffMember, township: Township | None, village: str = "") -> QuerySet[Any]:
    assert township is not None
    return selectors.village_rows(user=user, township=township)


def _small_area_rows(*, user: StaffMember, township: Township | None, village: str = "") -> QuerySet[Any]:
    assert township is not None
    return selectors.small_area_rows(user=user, township=township, village=village)


def _enumerator_rows(*, user: StaffMember, township: Township | None, village: str = "") -> QuerySet[Any]:
    assert township is not None
    return selectors.enumerator_rows(user=user, township=township)


def _township_rows(*, user: StaffMember, township: Township | None, village: str = "") -> QuerySet[Any]:
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
            search_fields=("small_area__code", "small_area__name", "village__name"),
            default_sort="code",
            rows=_small_area_rows,
            ranked=False,
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
            search_fields=("username", "last_name", "first_name"),
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


def fill_rows(
    spec: TableSpec,
    rows: Iterable[dict[str, Any]],
    *,
    ranks: dict[Any, int] | None,
    readiness: dict[str, float] | None,
) -> list[dict[str, Any]]:
    filled = []
    for row in rows:
        row = dict(row)
        if ranks is not None:
            row["rank"] = ranks.get(row[spec.key])
        if readiness is not None and "code" in row:
            share = readiness.get(row["code"])
            row["readiness"] = None if share is None else round(100 * share, 1)
        filled.append(row)
    return filled


def table_queryset(
    spec: TableSpec, *, user: StaffMember, township: Township | None, village: str = ""
) -> QuerySet[Any]:
    return spec.rows(user=user, township=township, village=village)


def readiness_for(spec: TableSpec, *, user: StaffMember) -> dict[str, float] | None:
    if not any(column.key == "readiness" for column in spec.columns):
        return None
    mapping = hooks.readiness_by_township(user=user)
    return None if mapping is None else dict(mapping)


def params_request(params: dict[str, str]) -> HttpRequest:
    """A request carrying only these query parameters: one table's own search, sort and page, whatever the
    page around it was asked with."""
    request = HttpRequest()
    query = QueryDict(mutable=True)
    query.update(params)
    request.GET = query  # type: ignore[assignment]
    return request


def listing_for(
    spec: TableSpec,
    request: HttpRequest,
    *,
    user: StaffMember,
    township: Township | None,
    village: str = "",
    per_page: int | None = None,
) -> tuple[ListPage, QuerySet[Any]]:
    """The table's rows searched, sorted and paged by ``paginate_list``, and the unfiltered queryset (for
    ranks, which are over the whole table)."""
    queryset = table_queryset(spec, user=user, township=township, village=village)
    listing = paginate_list(
        request,
        queryset,
        search_fields=spec.search_fields,
        sortable=spec.sortable,
        default_sort=spec.default_sort,
        per_page=per_page or spec.per_page,
    )
    return listing, queryset


def table_data(
    spec: TableSpec, *, user: StaffMember, township: Township | None, params: dict[str, str], everything: bool
) -> tuple[ListPage, TableData]:
    """One page of the table (or, for an export, ``everything`` the search keeps), ranks and readiness in."""
    village = params.get("village", "") if spec.name == "small_areas" else ""
    listing, queryset = listing_for(
        spec,
        params_request(params),
        user=user,
        township=township,
        village=village,
        per_page=EXPORT_MAX_ROWS if everything else None,
    )
    ranks = selectors.rank_map(queryset, spec.key) if spec.ranked else None
    readiness = readiness_for(spec, user=user)
    rows = fill_rows(spec, listing.page.object_list, ranks=ranks, readiness=readiness)
    return listing, TableData(spec=spec, columns=spec.columns_for(readiness=readiness is not None), rows=rows)


# A dashboard table has at most a few hundred rows (villages of a township, enumerators of a township).
EXPORT_MAX_ROWS = 100_000


def export_xlsx(data: TableData, *, title: str) -> bytes:
    """The whole table (every row the filters keep, in the chosen order) as one xlsx sheet."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=str(data.spec.title)[:31])
    sheet.append([title])
    sheet.append([str(column.label) for column in data.columns])
    for row in data.rows:
        sheet.append([_cell(row.get(column.key), column.kind) for column in data.columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind in (PERCENT, DECIMAL):
        return float(value)
    return value
