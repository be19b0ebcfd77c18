"""The enumerator's start page and the listing (摸底) of a small area; the offices' listing import."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import select_template
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from census.models import Building, Role, SmallArea
from census.permissions import StaffRequest, role_required, url_objects
from enumeration import selectors
from enumeration.forms import (
    BuildingForm,
    DwellingUnitForm,
    HouseholdAddForm,
    HouseholdListingForm,
    ListingImportForm,
    aware_initial,
    aware_value,
)
from enumeration.models import Household, HouseholdState
from enumeration.resources import LISTING_COLUMNS
from enumeration.self_enumeration import selectors as self_enumeration_selectors
from enumeration.services import building_create, dwelling_unit_create, household_list, household_listing_update
from enumeration.services.imports import household_listing_import
from enumeration.views.common import FIELD_ROLES, OFFICE_ROLES, list_personal_data_shown
from enumeration.views.readback import comment_label

# Another part (supervision.quality) shows the user's open findings here once it exists.
FINDINGS_SUMMARY_TEMPLATE = "quality/partials/my_findings_summary.html"


def findings_summary_template() -> str | None:
    try:
        return select_template([FINDINGS_SUMMARY_TEMPLATE]).template.name
    except TemplateDoesNotExist:
        return None


@require_GET
@role_required(*FIELD_ROLES)
def my_areas(request: StaffRequest) -> HttpResponse:
    user = request.user
    areas = list(selectors.my_small_areas(user=user))
    returned = list(selectors.returned_households(user=user))
    for household in returned:
        for comment in household.open_comments:  # type: ignore[attr-defined]
            comment.label = comment_label(comment.item)
    drafts = list(selectors.drafts_in_progress(user=user)[:20])
    long_forms = list(selectors.long_form_to_register(user=user)[:50])
    unmasked = list_personal_data_shown(request, user, [*returned, *drafts, *long_forms])
    return render(
        request,
        "enumeration/my_areas.html",
        {
            "areas": areas,
            "returned": returned,
            "drafts": drafts,
            "long_forms": long_forms,
            "unmasked": unmasked,
            "states": HouseholdState.choices,
            "findings_template": findings_summary_template(),
            # Declared by the households themselves (自主填报), waiting for their enumerator to verify and sign.
            "self_to_verify": list(self_enumeration_selectors.to_verify(user=user)[:50]),
        },
    )


def _listing_context(request: StaffRequest, area: SmallArea, **forms: Any) -> dict[str, Any]:
    listing = selectors.area_listing(user=request.user, small_area=area)
    unmasked = list_personal_data_shown(request, request.user, listing.households)
    return {
        "listing": listing,
        "area": area,
        "unmasked": unmasked,
        "building_form": forms.get("building_form") or BuildingForm(),
        "unit_form": forms.get("unit_form") or DwellingUnitForm(small_area=area),
        "household_form": forms.get("household_form")
        or HouseholdAddForm(small_area=area, initial={"expected_persons": 1}),
        "states": HouseholdState.choices,  # the register's filter
    }


def _area(request: StaffRequest, pk: int) -> SmallArea:
    return get_object_or_404(SmallArea.objects.visible_to(request.user).select_related("village", "township"), pk=pk)


@require_GET
@role_required(*FIELD_ROLES, *OFFICE_ROLES)
@url_objects(pk=SmallArea)
def area_listing(request: StaffRequest, pk: int) -> HttpResponse:
    area = _area(request, pk)
    return render(request, "enumeration/area_listing.html", _listing_context(request, area))


def _listing_writer(request: StaffRequest, pk: int) -> SmallArea:
    area = _area(request, pk)
    if not selectors.may_list(request.user, area):
        raise PermissionDenied
    return area


def _listing_url(area: SmallArea, anchor: str = "") -> str:
    return reverse("enumeration:area-listing", args=[area.pk]) + (f"#{anchor}" if anchor else "")


@require_POST
@role_required(*FIELD_ROLES)
@url_objects(pk=SmallArea)
def building_add(request: StaffRequest, pk: int) -> HttpResponse:
    area = _listing_writer(request, pk)
    form = BuildingForm(request.POST)
    if form.is_valid():
        try:
            building = building_create(
                small_area=area,
                number=form.cleaned_data["number"],
                address=form.cleaned_data["address"],
                is_residential=form.cleaned_data["is_residential"],
                actor=request.user,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Building %(number)s added.") % {"number": building.number})
            return redirect(_listing_url(area, "buildings"))
    context = _listing_context(request, area, building_form=form)
    return render(request, "enumeration/area_listing.html", context, status=400)


@require_POST
@role_required(*FIELD_ROLES)
@url_objects(pk=SmallArea)
def unit_add(request: StaffRequest, pk: int) -> HttpResponse:
    area = _listing_writer(request, pk)
    form = DwellingUnitForm(request.POST, small_area=area)
    if form.is_valid():
        building: Building = form.cleaned_data["building"]
        try:
            unit = dwelling_unit_create(
                building=building,
                number=form.cleaned_data["number"],
                note=form.cleaned_data["note"],
                actor=request.user,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Dwelling unit %(unit)s added.") % {"unit": f"{building.number}-{unit.number}"})
            return redirect(_listing_url(area, "buildings"))
    context = _listing_context(request, area, unit_form=form)
    return render(request, "enumeration/area_listing.html", context, status=400)


@require_POST
@role_required(*FIELD_ROLES)
@url_objects(pk=SmallArea)
def household_add(request: StaffRequest, pk: int) -> HttpResponse:
    area = _listing_writer(request, pk)
    form = HouseholdAddForm(request.POST, small_area=area)
    if form.is_valid():
        data = form.cleaned_data
        try:
            household = household_list(
                small_area=area,
                actor=request.user,
                head_name=data["head_name"] or "",
                expected_persons=data["expected_persons"] or 0,
                aware_of_census=aware_value(data["aware"]),
                dwelling_unit=data["dwelling_unit"],
                all_members_died=data["all_members_died"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _("Household %(no)03d added to the register.") % {"no": household.household_no},
            )
            return redirect(_listing_url(area, f"h{household.household_no}"))
    context = _listing_context(request, area, household_form=form)
    return render(request, "enumeration/area_listing.html", context, status=400)


@require_http_methods(["GET", "POST"])
@role_required(*FIELD_ROLES)
@url_objects(pk=Household)
def household_listing_edit(request: StaffRequest, pk: int) -> HttpResponse:
    household = get_object_or_404(
        Household.objects.visible_to(request.user).select_related("small_area", "dwelling_unit"), pk=pk
    )
    area = household.small_area
    editable = household.state == HouseholdState.LISTED and selectors.may_list(request.user, area)
    initial = {
        "head_name": household.head_name_listed,
        "expected_persons": household.expected_persons,
        "aware": aware_initial(household.aware_of_census),
        "dwelling_unit": household.dwelling_unit_id,
    }
    form = HouseholdListingForm(request.POST or None, small_area=area, initial=initial)
    if request.method == "POST":
        if not editable:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            try:
                household_listing_update(
                    household=household,
                    actor=request.user,
                    head_name=data["head_name"] or "",
                    expected_persons=data["expected_persons"] or 0,
                    aware_of_census=aware_value(data["aware"]),
                    dwelling_unit=data["dwelling_unit"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("The listing entry was saved."))
                return redirect(_listing_url(area, f"h{household.household_no}"))
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "enumeration/household_listing_edit.html",
        {"household": household, "area": area, "form": form, "editable": editable},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.TOWNSHIP_OFFICE, Role.DISTRICT_OFFICE)
def listing_import(request: StaffRequest) -> HttpResponse:
    report = None
    form = ListingImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        file_format = "csv" if upload.name.lower().endswith(".csv") else "xlsx"
        try:
            report = household_listing_import(upload=upload, file_format=file_format, actor=request.user)
        except ValidationError as exc:
            form.add_error("file", exc)
        else:
            if report.ok:
                messages.success(
                    request,
                    _("Imported: %(new)d new, %(updated)d updated, %(skipped)d unchanged.")
                    % {"new": report.new, "updated": report.updated, "skipped": report.skipped},
                )
                return redirect("enumeration:listing-import")
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "enumeration/listing_import.html",
        {"form": form, "report": report, "columns": LISTING_COLUMNS},
        status=status,
    )
