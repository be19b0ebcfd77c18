"""Completeness pages: the offices' per-area view with ageing, one small area's dwelling units with their visits,
the visit form, and the enumerator's callbacks due today."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from census.api import ApplicationError
from census.models import Role, SmallArea, Township
from census.permissions import StaffRequest, role_required, url_objects
from enumeration.models import DwellingUnit, Household
from supervision.completeness import selectors
from supervision.completeness.comparison import FAILED, ITEM_CODES, PASSED, PENDING, Comparison, Thresholds, verdict
from supervision.completeness.forms import (
    ClericalDecisionForm,
    RecheckDrawForm,
    RecheckHouseholdForm,
    RecheckOverrideForm,
    RecheckPersonFormSet,
    VisitForm,
)
from supervision.completeness.models import RecheckArea, RecheckDraw, RecheckHousehold, RecheckOverride, RecheckPerson
from supervision.completeness.recheck import (
    RECHECK_FIELDS,
    clerical_decide,
    clerical_queue,
    coverage_figures,
    recheck_area_override,
    recheck_draw,
    recheck_household_save,
)
from supervision.completeness.services import visit_record
from supervision.organisation.forms import add_service_errors

FIELD = (Role.ENUMERATOR, Role.SUPERVISOR)
READERS = (Role.SUPERVISOR, Role.TOWNSHIP_OFFICE, Role.DISTRICT_OFFICE, Role.AUDITOR)


_KEYS = ("units", "final", "no_outcome", "callbacks", "refusals", "escalated", "signed", "listed")


def _sum(rows: list[dict[str, Any]]) -> dict[str, Any]:
    total: dict[str, Any] = {key: sum(row[key] for row in rows) for key in (*_KEYS, "complete_areas", "areas")}
    total["share"] = 100.0 * total["final"] / total["units"] if total["units"] else 0.0
    total["progress"] = 100.0 * total["signed"] / total["listed"] if total["listed"] else 0.0
    ages = [row["oldest_days"] for row in rows if row["oldest_days"] is not None]
    total["oldest_days"] = max(ages) if ages else None
    times = [row["as_of"] for row in rows if row.get("as_of") is not None]
    total["as_of"] = min(times) if times else None
    return total


def _totals(rows: list[selectors.AreaCompleteness]) -> dict[str, Any]:
    return _sum(
        [
            {key: getattr(row, key) for key in _KEYS}
            | {"complete_areas": int(row.complete), "areas": 1, "oldest_days": row.age_days, "as_of": row.as_of}
            for row in rows
        ]
    )


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
    empty = _sum([])
    if township is None and user.role != Role.SUPERVISOR:
        # The district: per township, from the kept figures, without reading each small area.
        by_code = selectors.township_completeness(areas)
        rows: list[selectors.AreaCompleteness] = []
        per_township = [(t, by_code.get(t.code, empty)) for t in townships]
        total = _sum([row for _t, row in per_township if row is not empty])
    else:
        rows = selectors.area_completeness(areas.filter(township=township) if township else areas, stored=True)
        by_township: dict[str, list[selectors.AreaCompleteness]] = defaultdict(list)
        for row in rows:
            by_township[row.small_area.township_id].append(row)
        per_township = [(t, _totals(by_township.get(t.code, []))) for t in townships] if township is None else []
        total = _totals(rows)
    return render(
        request,
        "completeness/overview.html",
        {"township": township, "townships": per_township, "areas": rows, "total": total},
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


def _area_rate(area: RecheckArea) -> Comparison:
    """The area's stored re-check score as a comparison (for sums per township)."""
    return Comparison(
        households=area.households_checked,
        persons_checked=area.persons_checked,
        persons_in_error=area.persons_in_error,
        items_checked=area.items_checked,
        items_in_error=area.items_in_error,
        births_in_error=area.births_in_error,
    )


@require_GET
@role_required(*OFFICES, Role.AUDITOR)
def coverage(request: StaffRequest) -> HttpResponse:
    """The latest re-check draw in scope with its small areas, checkers and their re-check scores, the error rate
    per township, and the dual-system coverage estimate per township and for the whole, with the method and its
    assumptions. Everything is read from what the refresh keeps (``coverage_refresh``), with the time it is as
    of; nothing is recomputed here."""
    user = request.user
    draw = RecheckDraw.objects.visible_to(user).first()
    areas = (
        list(RecheckArea.objects.visible_to(user).filter(draw=draw).select_related("small_area", "checker"))
        if draw
        else []
    )
    estimates, as_of = coverage_figures(draw) if draw else ({}, None)
    names = dict(Township.objects.visible_to(user).values_list("code", "name"))
    chosen: str | None = None
    if user.role != Role.TOWNSHIP_OFFICE:
        chosen = request.GET.get("township", "")
        chosen = chosen if chosen in names else ""
    visible = set(names)
    rows = [(names[code], e) for code, e in estimates.items() if code in visible]
    whole = estimates.get("")
    if user.role == Role.TOWNSHIP_OFFICE and draw is not None and not draw.township_id:
        # A township office sees its own township of a district draw: its row is its whole.
        whole = rows[0][1] if rows else None
    thresholds = Thresholds.configured()
    by_township: dict[str, Comparison] = defaultdict(Comparison)
    drawn: dict[str, int] = defaultdict(int)
    for area in areas:
        by_township[area.small_area.township_id] = by_township[area.small_area.township_id] + _area_rate(area)
        drawn[area.small_area.township_id] += len(area.household_ids)
    overridden = set(RecheckOverride.objects.filter(area__in=areas).values_list("area_id", flat=True))
    # The acceptance state per area from its kept score (the gate itself scores afresh): passed, failed, pending.
    verdicts = {
        area.pk: verdict(_area_rate(area), drawn=len(area.household_ids), thresholds=thresholds) for area in areas
    }
    states: dict[str, dict[str, int]] = defaultdict(lambda: {PASSED: 0, FAILED: 0, PENDING: 0})
    for area in areas:
        states[area.small_area.township_id][verdicts[area.pk]] += 1
    return render(
        request,
        "completeness/coverage.html",
        {
            "draw": draw,
            # The district lists the drawn small areas of the township it chooses (its table has every township).
            "areas": [
                (area, _area_rate(area), area.pk in overridden, verdicts[area.pk])
                for area in areas
                if chosen is None or area.small_area.township_id == chosen
            ],
            "chosen": chosen,
            "rates": [
                (code, names.get(code, code), comparison, drawn[code], states[code])
                for code, comparison in sorted(by_township.items())
            ],
            "thresholds": thresholds,
            "rows": rows,
            "whole": whole,
            "as_of": as_of,
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


# --- the re-check interview (复查) -------------------------------------------------------------------------


def _recheck_area(request: StaffRequest, pk: int) -> RecheckArea:
    """The area's checker, or an office (or supervisor, auditor) that sees its small area (``visible_to``)."""
    return get_object_or_404(
        RecheckArea.objects.visible_to(request.user).select_related("small_area", "draw", "checker"), pk=pk
    )


@require_GET
@role_required(*FIELD)
def my_rechecks(request: StaffRequest) -> HttpResponse:
    """The small areas the user re-checks (as a checker from another area), newest draw first."""
    areas = (
        RecheckArea.objects.filter(checker=request.user)
        .select_related("small_area", "draw")
        .order_by("-draw__drawn_at", "small_area__code")
    )
    return render(request, "completeness/rechecks.html", {"areas": list(areas)})


def _recheck_area_context(
    request: StaffRequest, area: RecheckArea, form: RecheckOverrideForm | None = None
) -> dict[str, Any]:
    (result,) = selectors.recheck_results([area])
    households = {
        h.pk: h
        for h in Household.objects.filter(pk__in=area.household_ids)
        .select_related("registrar")
        .order_by("household_no")
    }
    registrars = {h.registrar_id: h.registrar for h in households.values()}
    overrides = list(RecheckOverride.objects.filter(area=area).select_related("actor"))
    covered = any(o.key == result.key for o in overrides)
    user = request.user
    may_override = (
        user.role == Role.DISTRICT_OFFICE
        and user.district_id == area.small_area.township_id[:6]
        and not result.passed
        and not covered
    )
    return {
        "area": area,
        "result": result,
        "thresholds": Thresholds.configured(),
        "households": [(h, result.by_household.get(h.pk)) for h in households.values()],
        "differences": [
            (households[pk], difference)
            for pk, comparison in result.by_household.items()
            for difference in comparison.differences
            if pk in households
        ],
        "item_codes": ITEM_CODES,
        "by_registrar": [(registrars.get(pk), c) for pk, c in selectors.recheck_by_registrar([result])],
        "overrides": overrides,
        "covered": covered,
        "is_checker": area.checker_id == user.pk,
        "override_form": form if form is not None else (RecheckOverrideForm() if may_override else None),
        "passed_code": PASSED,
    }


@require_GET
@role_required(*FIELD, *READERS)
@url_objects(pk=RecheckArea)
def recheck_area(request: StaffRequest, pk: int) -> HttpResponse:
    """One re-checked small area: its drawn households, the differences item by item, the error rates (the area's
    and each registrar's) against the thresholds, the gate's verdict and its overrides."""
    area = _recheck_area(request, pk)
    return render(request, "completeness/recheck_area.html", _recheck_area_context(request, area))


@require_POST
@role_required(Role.DISTRICT_OFFICE)
@url_objects(pk=RecheckArea)
def recheck_override_view(request: StaffRequest, pk: int) -> HttpResponse:
    area = _recheck_area(request, pk)
    form = RecheckOverrideForm(request.POST)
    if form.is_valid():
        try:
            recheck_area_override(
                area=area,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                password=form.cleaned_data["password"],
            )
        except ApplicationError as exc:
            form.add_error(None, str(exc.message))
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The re-check of this small area is overridden; the reason is kept with it."))
            return redirect(reverse("supervision:recheck-area", args=[area.pk]))
    return render(request, "completeness/recheck_area.html", _recheck_area_context(request, area, form), status=400)


BLANK_ROWS = 6
MAX_ROWS = 40


@require_http_methods(["GET", "POST"])
@role_required(*FIELD)
@url_objects(pk=RecheckArea)
def recheck_household(request: StaffRequest, pk: int) -> HttpResponse:
    """The checker's re-check interview of one drawn household (``?household=<id>``; without it, the first not yet
    re-checked): who lives there and their key items, entered without seeing the form (the comparison is shown
    on the area's page once the household is saved)."""
    recheck = _recheck_area(request, pk)
    if recheck.checker_id != request.user.pk:
        raise Http404
    asked = request.POST.get("household") if request.method == "POST" else request.GET.get("household")
    if asked:
        if not asked.isdigit() or int(asked) not in recheck.household_ids:
            raise Http404
        household = int(asked)
    else:
        done_ids = set(RecheckHousehold.objects.filter(area=recheck).values_list("household_id", flat=True))
        left = [pk for pk in recheck.household_ids if pk not in done_ids] or list(recheck.household_ids)
        if not left:
            messages.info(request, _("No household of this small area was drawn."))
            return redirect(reverse("supervision:recheck-area", args=[recheck.pk]))
        household = left[0]
    target = get_object_or_404(Household, pk=household)
    entered = list(RecheckPerson.objects.filter(area=recheck, household=target).order_by("id").values(*RECHECK_FIELDS))
    done = RecheckHousehold.objects.filter(area=recheck, household=target).first()
    if request.method == "POST":
        formset = RecheckPersonFormSet(request.POST, prefix="p")
        note = RecheckHouseholdForm(request.POST)
        if formset.is_valid() and note.is_valid():
            persons = [form.cleaned_data for form in formset.forms if not form.blank]
            try:
                recheck_household_save(
                    area=recheck, household=target, actor=request.user, persons=persons, note=note.cleaned_data["note"]
                )
            except ApplicationError as exc:
                messages.error(request, str(exc.message))
            except ValidationError as exc:
                note.add_error(None, exc)
            else:
                messages.success(request, _("The re-check of this household is saved and compared with its form."))
                return redirect(reverse("supervision:recheck-area", args=[recheck.pk]))
        status = 400
    else:
        asked = request.GET.get("rows", "")
        rows = min(max(len(entered), BLANK_ROWS, int(asked) if asked.isdigit() else 0), MAX_ROWS)
        formset = RecheckPersonFormSet(prefix="p", initial=entered + [{}] * (rows - len(entered)))
        note = RecheckHouseholdForm(initial={"note": done.note if done else ""})
        status = 200
    return render(
        request,
        "completeness/recheck_household.html",
        {"area": recheck, "household": target, "formset": formset, "note_form": note, "done": done},
        status=status,
    )


# --- the clerical review of the coverage matching ---------------------------------------------------------


def _latest_areas(request: StaffRequest) -> tuple[RecheckDraw | None, Any]:
    draw = RecheckDraw.objects.visible_to(request.user).first()
    if draw is None:
        return None, RecheckArea.objects.none()
    return draw, RecheckArea.objects.visible_to(request.user).filter(draw=draw)


@require_GET
@role_required(*OFFICES, Role.AUDITOR)
def clerical(request: StaffRequest) -> HttpResponse:
    """The doubtful pairs of the latest draw's matching in the user's area: each re-check person with the census
    persons it might be; an office decides which (or none), and the estimate is recomputed."""
    draw, areas = _latest_areas(request)
    return render(
        request,
        "completeness/clerical.html",
        {
            "draw": draw,
            "cases": clerical_queue(areas=areas) if draw else [],
            "may_decide": request.user.role in OFFICES,
        },
    )


@require_POST
@role_required(*OFFICES)
def clerical_decide_view(request: StaffRequest) -> HttpResponse:
    form = ClericalDecisionForm(request.POST)
    _draw, areas = _latest_areas(request)
    if form.is_valid():
        person = (
            RecheckPerson.objects.filter(area__in=areas, pk=form.cleaned_data["person"]).select_related("area").first()
        )
        if person is None:
            raise Http404
        chosen = form.cleaned_data["census_person"] or None
        try:
            clerical_decide(person=person, actor=request.user, census_person_id=chosen, areas=areas)
        except (ApplicationError, ValidationError) as exc:
            messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))
        else:
            messages.success(request, _("Decided; the estimate is recomputed within a few seconds."))
    else:
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, str(message))
    return redirect("supervision:clerical")
