"""在库企业和项目 pages: the directory, its import, and one unit with its reviews, figures and removal."""

from __future__ import annotations

import tablib
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from stdnum.cn import uscc

from census.listing import paginate_list
from census.models import Department, Township
from census.permissions import StaffRequest, role_required, url_objects
from census.spreadsheets import dataset_export
from supervision.organisation import selectors, services
from supervision.organisation.criteria import criteria_for
from supervision.organisation.forms import (
    DirectoryFigureForm,
    DirectoryImportForm,
    DirectoryRemoveForm,
    DirectoryReviewForm,
    add_service_errors,
)
from supervision.organisation.models import DirectoryKind, DirectoryUnit, UnitStatus
from supervision.organisation.resources import COLUMNS
from supervision.organisation.services.common import today
from supervision.organisation.views.common import DISTRICT_AND_DEPARTMENTS, bar_chart


@require_GET
@role_required(*DISTRICT_AND_DEPARTMENTS)
def directory_list(request: StaffRequest) -> HttpResponse:
    user = request.user
    qs = selectors.directory_unit_list(user=user)
    kind = request.GET.get("kind", "")
    if kind in DirectoryKind.values:
        qs = qs.filter(kind=kind)
    status = request.GET.get("status", "")
    if status in UnitStatus.values:
        qs = qs.filter(status=status)
    township = request.GET.get("township", "")
    if township:
        qs = qs.filter(township_id=township)
    department = request.GET.get("department", "")
    if department.isdigit():
        qs = qs.filter(department_id=int(department))
    listing = paginate_list(
        request,
        qs,
        search_fields=("name", "credit_code", "address"),
        sortable=("credit_code", "name", "kind", "status", "last_reviewed_on", "figure_count"),
        default_sort="name",
    )
    summary = selectors.directory_summary(user)
    chart = bar_chart(
        [row.label for row in summary],
        [
            (_("In the directory"), [row.in_directory for row in summary], "ok"),
            (_("Failed the review"), [row.to_remove for row in summary], "warn"),
            (_("Removed"), [row.removed for row in summary], "muted"),
        ],
        stacked=True,
        horizontal=True,
    )
    return render(
        request,
        "organisation/directory_list.html",
        {
            "listing": listing,
            "chart": chart,
            "summary": summary,
            "kinds": DirectoryKind.choices,
            "kind": kind,
            "statuses": UnitStatus.choices,
            "status": status,
            "townships": Township.objects.visible_to(user).order_by("code"),
            "township": township,
            "departments": Department.objects.visible_to(user).order_by("code"),
            "department": department,
        },
    )


@require_http_methods(["GET", "POST"])
@role_required(*DISTRICT_AND_DEPARTMENTS)
def directory_import(request: StaffRequest) -> HttpResponse:
    form = DirectoryImportForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        try:
            report = services.directory_import(upload=form.cleaned_data["file"], actor=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if report.ok:
                messages.success(
                    request,
                    _("Imported: %(new)d new, %(updated)d updated, %(skipped)d unchanged.")
                    % {"new": report.new, "updated": report.updated, "skipped": report.skipped},
                )
                return redirect("supervision:directory")
    return render(
        request,
        "organisation/directory_import.html",
        {"form": form, "report": report, "columns": COLUMNS, "kinds": DirectoryKind.choices},
        status=400 if report is not None and not report.ok else 200,
    )


@require_GET
@role_required(*DISTRICT_AND_DEPARTMENTS)
def directory_template(request: StaffRequest) -> HttpResponse:
    """An empty directory workbook with the columns and one example row."""
    dataset = tablib.Dataset(headers=list(COLUMNS))
    example = "91511504MA62A0001"
    dataset.append([example + uscc.calc_check_digit(example), "示例有限公司", "industry", "", "叙州区某路1号"])
    dataset.title = "directory"
    response = HttpResponse(
        dataset_export(dataset, "xlsx"),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="directory-template.xlsx"'
    return response


def _unit(request: StaffRequest, pk: int) -> DirectoryUnit:
    return get_object_or_404(
        selectors.directory_unit_list(user=request.user).select_related("removal_evidence", "removed_by"), pk=pk
    )


def _render_unit(
    request: StaffRequest,
    unit: DirectoryUnit,
    *,
    review_form: DirectoryReviewForm | None = None,
    remove_form: DirectoryRemoveForm | None = None,
    figure_form: DirectoryFigureForm | None = None,
    status: int = 200,
) -> HttpResponse:
    day = today()
    reviews = list(unit.reviews.select_related("reviewed_by").order_by("-reviewed_on", "-pk")[:20])
    labels = dict(criteria_for(unit.kind))
    for review in reviews:
        review.failed_labels = [str(labels.get(code, code)) for code, met in review.results.items() if not met]  # type: ignore[attr-defined]
    return render(
        request,
        "organisation/directory_unit.html",
        {
            "unit": unit,
            "reviews": reviews,
            "figures": selectors.directory_figures(user=request.user, unit=unit),
            "review_form": review_form or DirectoryReviewForm(kind=unit.kind, initial={"reviewed_on": day}),
            "remove_form": remove_form or DirectoryRemoveForm(initial={"removed_on": day}),
            "figure_form": figure_form or DirectoryFigureForm(initial={"period": day.replace(day=1)}),
            "removed": unit.status == UnitStatus.REMOVED,
        },
        status=status,
    )


@require_GET
@role_required(*DISTRICT_AND_DEPARTMENTS)
@url_objects(pk=DirectoryUnit)
def directory_unit(request: StaffRequest, pk: int) -> HttpResponse:
    return _render_unit(request, _unit(request, pk))


@require_POST
@role_required(*DISTRICT_AND_DEPARTMENTS)
@url_objects(pk=DirectoryUnit)
def directory_review(request: StaffRequest, pk: int) -> HttpResponse:
    unit = _unit(request, pk)
    form = DirectoryReviewForm(request.POST, kind=unit.kind)
    if form.is_valid():
        try:
            review = services.directory_review(
                unit=unit,
                reviewed_on=form.cleaned_data["reviewed_on"],
                results=form.results(),
                note=form.cleaned_data["note"],
                actor=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if review.meets_criteria:
                messages.success(request, _("Review recorded: the unit meets the criteria."))
            else:
                messages.warning(request, _("Review recorded: the unit fails the criteria and should be removed."))
            return redirect("supervision:directory-unit", pk=unit.pk)
    return _render_unit(request, unit, review_form=form, status=400)


@require_POST
@role_required(*DISTRICT_AND_DEPARTMENTS)
@url_objects(pk=DirectoryUnit)
def directory_remove(request: StaffRequest, pk: int) -> HttpResponse:
    unit = _unit(request, pk)
    form = DirectoryRemoveForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.directory_remove(
                unit=unit,
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
                removed_on=form.cleaned_data["removed_on"],
                upload=form.cleaned_data["upload"],
                actor=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The unit has been removed from the directory (退库)."))
            return redirect("supervision:directory-unit", pk=unit.pk)
    return _render_unit(request, unit, remove_form=form, status=400)


@require_POST
@role_required(*DISTRICT_AND_DEPARTMENTS)
@url_objects(pk=DirectoryUnit)
def directory_figure(request: StaffRequest, pk: int) -> HttpResponse:
    unit = _unit(request, pk)
    form = DirectoryFigureForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.directory_figure_report(unit=unit, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The figure has been recorded with its source document."))
            return redirect("supervision:directory-unit", pk=unit.pk)
    return _render_unit(request, unit, figure_form=form, status=400)
