"""Progress dashboards (township office, district office) and the district bureau's summaries and exports."""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from census.api import ApplicationError
from census.db_router import REPLICA, max_lag, replica_configured, replica_reads, replica_status
from census.listing import ListPage
from census.models import Job, Role, Township, Village
from census.permissions import StaffRequest, role_required, url_objects
from census.staffing import selectors as staffing
from supervision.progress import hooks, scoring, selectors, services
from supervision.progress.summaries.tables import table_titles
from supervision.progress.tables import STATE_COLUMNS, TABLES, TEXT, Column, TableSpec, all_rows, table_data

OFFICE = (Role.TOWNSHIP_OFFICE, Role.DISTRICT_OFFICE)
EXPORT_KINDS = (services.EXPORT_SUMMARY, services.EXPORT_MICRODATA)


# --- tables ------------------------------------------------------------------------------------------------


class FragmentListing:
    """A ``ListPage`` whose links point at the table's own URL, so that sorting, searching and paging one
    table of a dashboard (through htmx) leaves the other tables alone."""

    def __init__(self, listing: ListPage, base_url: str) -> None:
        self.listing = listing
        self.base_url = base_url
        self.page = listing.page
        self.query = listing.query
        self.sort = listing.sort

    @property
    def sort_urls(self) -> dict[str, str]:
        return {column: self.base_url + url for column, url in self.listing.sort_urls.items()}

    @property
    def previous_url(self) -> str | None:
        url = self.listing.previous_url
        return None if url is None else self.base_url + url

    @property
    def next_url(self) -> str | None:
        url = self.listing.next_url
        return None if url is None else self.base_url + url


@dataclass
class Row:
    key: str
    # The row's <td> cells, built and escaped here: a dashboard shows some 1,500 cells, and the template
    # language (or format_html) spending tens of microseconds on each was half of the page's time.
    cells: SafeString


@dataclass
class Header:
    key: str
    label: Any
    url: str
    num: bool


@dataclass
class TableView:
    spec: TableSpec
    listing: FragmentListing
    columns: list[Column]
    headers: list[Header]
    rows: list[Row]
    url: str
    params: dict[str, str]
    villages: list[Village] = field(default_factory=list)
    village: str = ""

    @property
    def dom_id(self) -> str:
        return f"table-{self.spec.name}"


def _text(value: Any) -> str:
    return "—" if value is None or value == "" else str(value)


def _cell(column: Column, value: Any, url: str) -> str:
    """One <td>, escaped; column keys are identifiers of the table declaration, not user data."""
    text = escape(_text(value))
    if url:
        return f'<td data-col="{column.key}"><a href="{escape(url)}" hx-boost="false">{text}</a></td>'
    if column.kind == TEXT:
        return f'<td data-col="{column.key}">{text}</td>'
    return f'<td data-col="{column.key}" class="num">{text}</td>'


def _table_view(
    spec: TableSpec,
    *,
    user: Any,
    township: Township | None,
    params: dict[str, str],
    fetched: tuple[list[Column], list[dict[str, Any]]] | None = None,
) -> TableView:
    listing, data = table_data(spec, user=user, township=township, params=params, everything=False, fetched=fetched)
    rows = []
    for row in data.rows:
        cells = []
        for column in data.columns:
            url = ""
            if spec.name == "townships" and column.key == "name":
                url = reverse("supervision:dashboard-township", args=[row["code"]])
            cells.append(_cell(column, row.get(column.key), url))
        rows.append(Row(str(row[spec.key]), mark_safe("".join(cells))))  # noqa: S308 — every value escaped in _cell
    base = reverse("supervision:progress-table", args=[spec.name])
    fragment = FragmentListing(listing, base)
    sort_urls = fragment.sort_urls
    headers = [
        Header(column.key, column.label, sort_urls.get(column.key, ""), column.kind != "text")
        for column in data.columns
    ]
    fixed = {"township": township.code} if township is not None and spec.needs_township else {}
    village = params.get("village", "") if spec.name == "small_areas" else ""
    villages = []
    if spec.name == "small_areas" and township is not None:
        villages = list(Village.objects.visible_to(user).filter(township=township).order_by("code"))
    return TableView(
        spec=spec,
        listing=fragment,
        columns=data.columns,
        headers=headers,
        rows=rows,
        url=base,
        params={**fixed, **({"village": village} if village else {})},
        villages=villages,
        village=village,
    )


def _initial_table(
    request: StaffRequest,
    name: str,
    township: Township | None,
    fetched: tuple[list[Column], list[dict[str, Any]]] | None = None,
) -> TableView:
    spec = TABLES[name]
    params = {"township": township.code} if township is not None and spec.needs_township else {}
    return _table_view(spec, user=request.user, township=township, params=params, fetched=fetched)


@require_GET
@role_required(*OFFICE)
@url_objects(name=list(TABLES))
def progress_table(request: StaffRequest, name: str) -> HttpResponse:
    """One dashboard table: the fragment htmx swaps in when it is sorted, searched or paged (a whole page
    without JavaScript)."""
    spec = TABLES.get(name)
    if spec is None:
        raise Http404
    township = _township_param(request, spec, request.GET.get("township", ""))
    params = {key: str(value) for key, value in request.GET.items() if value}
    table = _table_view(spec, user=request.user, township=township, params=params)
    template = "progress/_table.html" if request.htmx else "progress/table_page.html"  # type: ignore[attr-defined]
    return render(request, template, {"table": table, "township": township})


def _township_param(request: StaffRequest, spec: TableSpec, code: str) -> Township | None:
    """The township a table is of (404 outside the user's scope); the townships table is the district's."""
    if not spec.needs_township:
        if request.user.role == Role.TOWNSHIP_OFFICE:
            raise Http404
        return None
    return get_object_or_404(Township.objects.visible_to(request.user), code=code)


@require_POST
@role_required(*OFFICE)
@url_objects(name=list(TABLES))
def progress_table_export(request: StaffRequest, name: str) -> HttpResponse:
    """Export one dashboard table (all rows the search keeps, in the chosen order) to xlsx, as a job."""
    spec = TABLES.get(name)
    if spec is None:
        raise Http404
    township = _township_param(request, spec, request.POST.get("township", ""))
    params = {
        "table": name,
        "township": township.code if township is not None else "",
        "village": request.POST.get("village", ""),
        "q": request.POST.get("q", "")[:100],
        "sort": request.POST.get("sort", ""),
    }
    try:
        job = services.export_start(user=request.user, kind=services.EXPORT_TABLE, params=params)
    except ApplicationError as exc:  # the task queue unreachable: say so where the job's progress would show
        if request.htmx:  # type: ignore[attr-defined]
            return render(request, "progress/_export_refused.html", {"message": exc.message})
        raise
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "census/job_status.html", {"job": job})
    return redirect("jobs:detail", pk=job.pk)


# --- dashboards --------------------------------------------------------------------------------------------


def _formula() -> dict[str, Any]:
    return {"weights": scoring.weights()}


def _chart_labels() -> dict[str, Any]:
    """The words the charts show, translated here because the chart script has no catalogue."""
    return {
        "started": _("Forms started (cumulative)"),
        "signed": _("Forms signed (cumulative)"),
        "households": _("Households listed"),
        "planned": _("Forms planned to be signed (the calendar)"),
        "male": _("Male"),
        "female": _("Female"),
        "states": {column.key: str(column.label) for column in STATE_COLUMNS},
    }


def _daily(request: StaffRequest, totals: selectors.Totals, township: Township | None) -> dict[str, Any]:
    """The daily chart's series, with the registration phase's planned line beside the signed one (S19)."""
    daily = selectors.daily_series(user=request.user, township=township)
    phase = hooks.registration_phase(request)
    if phase is not None:
        daily["planned"] = selectors.planned_signed(
            daily["days"], households=totals.households, start=phase[0], end=phase[1]
        )
    return daily


@require_GET
@role_required(*OFFICE)
def dashboard(request: StaffRequest) -> HttpResponse:
    """The start page of both offices: a township office sees its township, the district its townships."""
    if request.user.role == Role.TOWNSHIP_OFFICE:
        township = get_object_or_404(Township.objects.visible_to(request.user), code=request.user.township_id)
        return _township_dashboard(request, township)
    return _district_dashboard(request)


@require_GET
@role_required(*OFFICE)
@url_objects(code=Township)
def township_dashboard(request: StaffRequest, code: str) -> HttpResponse:
    township = get_object_or_404(Township.objects.visible_to(request.user), code=code)
    return _township_dashboard(request, township)


def _township_dashboard(request: StaffRequest, township: Township) -> HttpResponse:
    # Read from the replica when it is close enough behind (census/db_router.py), rendering included.
    with replica_reads():
        return _township_dashboard_read(request, township)


def _township_dashboard_read(request: StaffRequest, township: Township) -> HttpResponse:
    user = request.user
    totals = selectors.totals(user=user, township=township)
    # The villages table and the chart of forms by state show the same rows: fetched once.
    villages = all_rows(TABLES["villages"], user=user, township=township)
    context = {
        "township": township,
        "totals": totals,
        "formula": _formula(),
        "findings_installed": hooks.open_findings(user=user) is not None,
        "daily": _daily(request, totals, township),
        "pyramid": selectors.age_pyramid(user=user, township=township),
        "states": selectors.state_chart(villages[1], "name"),
        "tables": [
            _initial_table(request, "villages", township, fetched=villages),
            _initial_table(request, "small_areas", township),
            _initial_table(request, "enumerators", township),
        ],
        "window": settings.PROGRESS_WINDOW,
        "chart_labels": _chart_labels(),
        # Areas nobody active covers, or too many: one statement over the township's areas.
        "staffing_gaps": list(staffing.small_areas_needing_staff(user=user).filter(township=township)),
        "staffing_max": staffing.max_enumerators_per_area(),
    }
    return render(request, "progress/dashboard_township.html", context)


def _district_dashboard(request: StaffRequest) -> HttpResponse:
    with replica_reads() as alias:
        return _district_dashboard_read(request, alias)


def _district_dashboard_read(request: StaffRequest, alias: str) -> HttpResponse:
    user = request.user
    townships = all_rows(TABLES["townships"], user=user, township=None)
    totals = selectors.totals(user=user)
    context = {
        "totals": totals,
        "formula": _formula(),
        "findings_installed": hooks.open_findings(user=user) is not None,
        "daily": _daily(request, totals, None),
        "pyramid": selectors.age_pyramid(user=user),
        "states": selectors.state_chart(townships[1], "name"),
        "tables": [_initial_table(request, "townships", None, fetched=townships)],
        "overdue_readiness": hooks.readiness_overdue(user=user),
        # Where this page was read from, and how far the replica is behind (None: no replica).
        "replica": replica_status() if replica_configured() else None,
        "read_from_replica": alias == REPLICA,
        "replica_limit": max_lag(),
        "window": settings.PROGRESS_WINDOW,
        "chart_labels": _chart_labels(),
    }
    return render(request, "progress/dashboard_district.html", context)


@require_GET
@role_required(Role.CITY_OFFICE)
def city_dashboard(request: StaffRequest) -> HttpResponse:
    """The city office's page (市普查办): each of its districts' progress and population counts, and the city's —
    aggregates only; the offices of the districts hold the forms, the people and the findings."""
    context = {
        "city": request.user.city,
        "districts": selectors.city_district_rows(user=request.user),
        "totals": selectors.city_totals(user=request.user),
        "jobs": _recent_exports(request, (services.EXPORT_SUMMARY,)),
        "markings": settings.CENSUS_TABLE_MARKINGS,
        "table_titles": table_titles(by_district=True),
    }
    return render(request, "progress/dashboard_city.html", context)


# --- summaries and exports ---------------------------------------------------------------------------------


def _recent_exports(request: StaffRequest, kinds: tuple[str, ...]) -> list[Job]:
    """The last ten exports of these kinds the user sees, with when each file is deleted."""
    jobs = list(
        Job.objects.visible_to(request.user)
        .filter(kind__in=kinds)
        .select_related("created_by")
        .order_by("-created_at", "-id")[:10]
    )
    for job in jobs:
        job.expires_at = services.export_expires_at(job)  # type: ignore[attr-defined]
    return jobs


@require_GET
@role_required(Role.DISTRICT_OFFICE)
def exports(request: StaffRequest) -> HttpResponse:
    context = {
        "totals": selectors.totals(user=request.user),
        "jobs": _recent_exports(request, EXPORT_KINDS),
        "markings": settings.CENSUS_TABLE_MARKINGS,
        "table_titles": table_titles(),
    }
    return render(request, "progress/exports.html", context)


def _export_start(request: StaffRequest, *, kind: str, params: dict[str, Any], page: str) -> HttpResponse:
    try:
        job = services.export_start(user=request.user, kind=kind, params=params)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(page)
    messages.success(request, _("The export has been started; it appears below when it is ready."))
    return redirect(reverse(page) + f"#job-{job.pk}")


@require_POST
@role_required(Role.DISTRICT_OFFICE)
def export_start(request: StaffRequest) -> HttpResponse:
    kind = request.POST.get("kind", "")
    if kind not in EXPORT_KINDS:
        raise Http404
    params = {key: request.POST.get(key, "") for key in ("format", "forms") if request.POST.get(key)}
    return _export_start(request, kind=kind, params=params, page="supervision:exports")


@role_required(Role.CITY_OFFICE)
@require_POST
def city_summary_export(request: StaffRequest) -> HttpResponse:
    """The city's summary tables (its districts' together): the only export a city office starts."""
    params = {"format": request.POST["format"]} if request.POST.get("format") else {}
    return _export_start(request, kind=services.EXPORT_SUMMARY, params=params, page="supervision:city-dashboard")
