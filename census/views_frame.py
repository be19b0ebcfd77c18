"""Pages of the area frame: browse, import, export; the audit log. The staff pages are census.staffing.views."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from census import selectors, services
from census.listing import paginate_list
from census.models import AuditAction, Building, Role, SmallArea, Township, Village
from census.permissions import StaffRequest, role_required, url_objects
from census.resources import FRAME_LEVELS

OFFICE = (Role.TOWNSHIP_OFFICE, Role.DISTRICT_OFFICE)
FRAME_READERS = (*OFFICE, Role.AUDITOR)


@require_GET
@role_required(*FRAME_READERS)
def township_list(request: StaffRequest) -> HttpResponse:
    listing = paginate_list(
        request,
        selectors.township_list(user=request.user),
        search_fields=("code", "name"),
        sortable=("code", "name", "kind", "village_count"),
        default_sort="code",
    )
    return render(request, "census/township_list.html", {"listing": listing})


@require_GET
@role_required(*FRAME_READERS)
@url_objects(code=Township)
def township_detail(request: StaffRequest, code: str) -> HttpResponse:
    township = get_object_or_404(Township.objects.visible_to(request.user), code=code)
    listing = paginate_list(
        request,
        selectors.village_list(user=request.user, township=township),
        search_fields=("code", "name"),
        sortable=("code", "name", "urban_rural_code", "small_area_count"),
        default_sort="code",
    )
    return render(request, "census/township_detail.html", {"township": township, "listing": listing})


@require_GET
@role_required(*FRAME_READERS)
@url_objects(code=Village)
def village_detail(request: StaffRequest, code: str) -> HttpResponse:
    village = get_object_or_404(Village.objects.visible_to(request.user).select_related("township"), code=code)
    areas = selectors.small_area_list(user=request.user).filter(village=village)
    listing = paginate_list(
        request, areas, search_fields=("code", "name"), sortable=("code", "name"), default_sort="code"
    )
    return render(request, "census/village_detail.html", {"village": village, "listing": listing})


@require_GET
@role_required(*FRAME_READERS, Role.SUPERVISOR, Role.ENUMERATOR)
def small_area_list(request: StaffRequest) -> HttpResponse:
    qs = selectors.small_area_list(user=request.user)
    township = request.GET.get("township", "")
    if township:
        qs = qs.filter(township_id=township)
    listing = paginate_list(
        request,
        qs,
        search_fields=("code", "name", "village__name"),
        sortable=("code", "name", "enumerator_count"),
        default_sort="code",
    )
    townships = Township.objects.visible_to(request.user).order_by("code")
    return render(
        request, "census/small_area_list.html", {"listing": listing, "townships": townships, "township": township}
    )


@require_GET
@role_required(*FRAME_READERS, Role.SUPERVISOR, Role.ENUMERATOR)
@url_objects(pk=SmallArea)
def small_area_detail(request: StaffRequest, pk: int) -> HttpResponse:
    area = get_object_or_404(SmallArea.objects.visible_to(request.user).select_related("village", "township"), pk=pk)
    buildings = Building.objects.visible_to(request.user).filter(small_area=area).order_by("number")
    assignments = area.assignments.select_related("staff")
    return render(
        request, "census/small_area_detail.html", {"area": area, "buildings": buildings, "assignments": assignments}
    )


class FrameImportForm(forms.Form):
    LEVEL_CHOICES = [("", gettext_lazy("Workbook with one sheet per level (xlsx)"))] + [
        (level, level) for level in FRAME_LEVELS
    ]
    level = forms.ChoiceField(label=gettext_lazy("Level"), choices=LEVEL_CHOICES, required=False)
    file = forms.FileField(label=gettext_lazy("File (xlsx or csv)"))

    def clean_file(self):  # type: ignore[no-untyped-def]
        upload = self.cleaned_data["file"]
        name = upload.name.lower()
        if not (name.endswith(".xlsx") or name.endswith(".csv")):
            raise ValidationError(_("Choose an .xlsx or .csv file."))
        if upload.size > services.MAX_IMPORT_BYTES:
            raise ValidationError(_("The file is too large."))
        return upload


@require_http_methods(["GET", "POST"])
@role_required(Role.DISTRICT_OFFICE)
def frame_import(request: StaffRequest) -> HttpResponse:
    report = None
    form = FrameImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        file_format = "csv" if upload.name.lower().endswith(".csv") else "xlsx"
        try:
            report = services.area_frame_import(
                upload=upload,
                file_format=file_format,
                level=form.cleaned_data["level"] or None,
                actor=request.user,
            )
        except ValidationError as exc:
            form.add_error("file", exc)
        else:
            if report.ok:
                messages.success(
                    request,
                    _("Imported: %(new)d new, %(updated)d updated, %(skipped)d unchanged.")
                    % {"new": report.new, "updated": report.updated, "skipped": report.skipped},
                )
                return redirect("frame:import")
    return render(request, "census/frame_import.html", {"form": form, "report": report})


@require_GET
@role_required(*FRAME_READERS)
def frame_export(request: StaffRequest) -> HttpResponse:
    level = request.GET.get("level") or None
    file_format = request.GET.get("format", "xlsx")
    if file_format not in ("xlsx", "csv") or (level is not None and level not in FRAME_LEVELS):
        return HttpResponse(_("Unknown export format."), status=400, content_type="text/plain; charset=utf-8")
    if level is None and file_format == "csv":
        return HttpResponse(
            _("A CSV export holds one level; choose which."), status=400, content_type="text/plain; charset=utf-8"
        )
    user = request.user
    querysets = {
        "township": Township.objects.visible_to(user).order_by("code"),
        "village": Village.objects.visible_to(user).order_by("code"),
        "small_area": SmallArea.objects.visible_to(user).select_related("village").order_by("code"),
        "building": Building.objects.visible_to(user)
        .select_related("small_area")
        .order_by("small_area__code", "number"),
    }
    content = services.area_frame_export(level=level, file_format=file_format, queryset_by_level=querysets)
    services.audit_record(
        actor=user,
        action=AuditAction.EXPORT,
        object_type="area_frame",
        detail={"level": level or "workbook", "format": file_format},
    )
    name = f"area-frame-{level or 'all'}.{file_format}"
    content_type = (
        "text/csv; charset=utf-8"
        if file_format == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_GET
@role_required(Role.AUDITOR, Role.DISTRICT_OFFICE)
def audit_log(request: StaffRequest) -> HttpResponse:
    qs = selectors.audit_log(user=request.user)
    action = request.GET.get("action", "")
    if action in AuditAction.values:
        qs = qs.filter(action=action)
    actor = request.GET.get("actor", "").strip()
    if actor:
        qs = qs.filter(actor_username__icontains=actor)
    listing = paginate_list(
        request, qs, search_fields=("object_type", "object_id"), sortable=("at", "action"), default_sort="-at"
    )
    last_seal, last_verification = selectors.audit_chain_status()
    return render(
        request,
        "census/audit_log.html",
        {
            "listing": listing,
            "actions": AuditAction.choices,
            "action": action,
            "actor": actor,
            "last_seal": last_seal,
            "last_verification": last_verification,
        },
    )
