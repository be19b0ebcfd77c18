"""Completeness pages: the offices' per-area view with ageing, one small area's dwelling units with their visits,
the visit form, and the enumerator's callbacks due today."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from census.api import ApplicationError
from census.models import Role, SmallArea, Township
from census.permissions import StaffRequest, role_required, url_objects
from enumeration.models import DwellingUnit
from supervision.completeness import selectors
from supervision.completeness.forms import RecheckDrawForm, VisitForm
from supervision.completeness.models import RecheckArea, RecheckDraw
from supervision.completeness.recheck import coverage_estimates, recheck_draw
from supervision.completeness.services import visit_record
from supervision.organisation.forms import add_service_errors

FIELD = (Role.ENUMERATOR, Role.SUPERVISOR)
READERS = (Role.SUPERVISOR, Role.TOWNSHIP_OFFICE, Role.DISTRICT_OFFICE, Role.AUDITOR)


def _totals(rows: list[selectors.AreaCompleteness]) -> dict[str, Any]:
    keys = ("units", "final", "no_outcome", "callbacks", "refusals", "escalated", "signed", "listed")
    total = {key: sum(getattr(row, key) for row in rows) for key in keys}
    total["share"] = 100.0 * total["final"] / total["units"] if total["units"] else 0.0
    total["progress"] = 100.0 * total["signed"] / total["listed"] if total["listed"] else 0.0
    total["complete_areas"] = sum(1 for row in rows if row.complete)
    total["areas"] = len(rows)
    ages = [row.age_days for row in rows if row.age_days is not None]
    total["oldest_days"] = max(ages) if ages else None
    return total


@require_GET
@role_required(*READERS)
def overview(request: StaffRequest) -> HttpResponse:
    """Per township (the district) or per small area (a township, or the one chosen): dwelling units with a final
    outcome of those listed, and what is still open — no outcome, callbacks, refusals, escalations — with the age
    of the oldest."""
    user = request.user
    areas = SmallArea.objects.visible_to(user)
    townships = list(Township.objects.visible_to(user).order_by("code"))
    chosen = request.GET.get("township", "")
    if user.role == Role.TOWNSHIP_OFFICE:
        chosen = user.township_id or ""
    township = next((t for t in townships if t.code == chosen), None)
    rows = selectors.area_completeness(areas.filter(township=township) if township else areas)
    by_township: dict[str, list[selectors.AreaCompleteness]] = defaultdict(list)
    for row in rows:
        by_township[row.small_area.township_id].append(row)
    return render(
        request,
        "completeness/overview.html",
        {
            "township": township,
            "townships": [(t, _totals(by_township.get(t.code, []))) for t in townships] if township is None else [],
            "areas": rows if township is not None or user.role == Role.SUPERVISOR else [],
            "total": _totals(rows),
        },
    )


def _area_context(request: StaffRequest, area: SmallArea, form: VisitForm | None = None) -> dict[str, Any]:
    statuses = selectors.unit_statuses(area)
    may_visit = request.user.role in FIELD and area.assignments.filter(staff=request.user).exists()
    units = [(s.unit.pk, f"{s.unit.building.number}-{s.unit.number}") for s in statuses]
    visits = defaultdict(list)
    for visit in selectors.area_visits(area):
        visits[visit.dwelling_unit_id].append(visit)
    return {
        "area": area,
        "statuses": [(s, visits.get(s.unit.pk, [])) for s in statuses],
        "summary": selectors.area_completeness(SmallArea.objects.filter(pk=area.pk))[0],
        "form": form if form is not None else (VisitForm(units=units) if may_visit and units else None),
    }


@require_GET
@role_required(*FIELD, *READERS)
@url_objects(pk=SmallArea)
def area(request: StaffRequest, pk: int) -> HttpResponse:
    small_area = get_object_or_404(SmallArea.objects.visible_to(request.user), pk=pk)
    return render(request, "completeness/area.html", _area_context(request, small_area))


@require_POST
@role_required(*FIELD)
@url_objects(pk=SmallArea)
def visit_add(request: StaffRequest, pk: int) -> HttpResponse:
    small_area = get_object_or_404(SmallArea.objects.visible_to(request.user), pk=pk)
    units = list(
        DwellingUnit.objects.filter(building__small_area=small_area).values_list("pk", "building__number", "number")
    )
    form = VisitForm(request.POST, request.FILES, units=[(u, f"{b}-{n}") for u, b, n in units])
    if form.is_valid():
        data = form.cleaned_data
        try:
            visit_record(
                dwelling_unit=DwellingUnit.objects.get(pk=data["unit"]),
                actor=request.user,
                outcome=data["outcome"],
                mode=data["mode"],
                refusal_reason=data["refusal_reason"],
                steps_taken=data["steps_taken"],
                escalated_to=data["escalated_to"],
                evidence_kind=data["evidence_kind"],
                evidence_upload=data.get("evidence_upload"),
                note=data["note"],
            )
        except ApplicationError as exc:
            form.add_error(None, str(exc.message))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The visit is recorded."))
            return redirect(reverse("supervision:completeness-area", args=[small_area.pk]))
    return render(request, "completeness/area.html", _area_context(request, small_area, form), status=400)


@require_GET
@role_required(*FIELD)
def my_callbacks(request: StaffRequest) -> HttpResponse:
    return render(request, "completeness/callbacks.html", {"due": selectors.callbacks_due(user=request.user)})


OFFICES = (Role.TOWNSHIP_OFFICE, Role.DISTRICT_OFFICE)


@require_GET
@role_required(*OFFICES, Role.AUDITOR)
def coverage(request: StaffRequest) -> HttpResponse:
    """The latest re-check draw in scope with its small areas and checkers, and the dual-system coverage estimate
    per township and for the whole, with the method and its assumptions."""
    user = request.user
    draw = RecheckDraw.objects.visible_to(user).first()
    areas = RecheckArea.objects.visible_to(user).filter(draw=draw) if draw else RecheckArea.objects.none()
    estimates = coverage_estimates(areas=areas) if draw else {}
    names = dict(Township.objects.visible_to(user).values_list("code", "name"))
    return render(
        request,
        "completeness/coverage.html",
        {
            "draw": draw,
            "areas": list(areas.select_related("small_area", "checker")),
            "rows": [(names.get(code, code), e) for code, e in estimates.items() if code],
            "whole": estimates.get(""),
            "form": RecheckDrawForm(),
        },
    )


@require_POST
@role_required(*OFFICES)
def recheck_draw_view(request: StaffRequest) -> HttpResponse:
    form = RecheckDrawForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            draw = recheck_draw(
                actor=request.user,
                seed=data["seed"],
                areas_per_township=data["areas_per_township"],
                household_rate=data["household_rate"],
                self_report_rate=data["self_report_rate"],
            )
        except (ApplicationError, ValidationError) as exc:
            messages.error(request, str(getattr(exc, "message", exc)))
        else:
            messages.success(request, _("Re-check drawn with seed %(seed)d.") % {"seed": draw.seed})
    else:
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, str(message))
    return redirect("supervision:coverage")
