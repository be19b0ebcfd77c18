"""The staff pages (under the frame's URLs): people, departments, assignments, the import, credentials.

A township office works on the 两员 of its own township, the district office on every account and department of
its district; what each sees is ``visible_to`` (anything else is 404), what each may change is
``services.staff_may_manage`` (checked again by the services).
"""

from __future__ import annotations

from urllib.parse import urlencode

import tablib
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_ratelimit.core import is_ratelimited

from census.api import ApplicationError
from census.cache import CacheUnavailable
from census.listing import paginate_list
from census.models import FIELD_ROLES, AuditAction, Department, Job, Role, SmallArea, StaffMember, StaffStatus, Township
from census.permissions import StaffRequest, any_role, public, role_required, url_objects
from census.privacy import record_personal_data_view
from census.resources import StaffResource
from census.security import client_ip
from census.services import audit_record
from census.spreadsheets import dataset_export
from census.staffing import credentials, imports, selectors, services
from census.staffing.forms import (
    DepartmentForm,
    DepartmentRenameForm,
    PasswordChangeForm,
    StaffForm,
    StaffImportForm,
    StatusForm,
    add_service_errors,
)

OFFICES = (Role.TOWNSHIP_OFFICE, Role.DISTRICT_OFFICE)


def _service_error(form: StaffForm | StatusForm | DepartmentForm | DepartmentRenameForm, exc: Exception) -> None:
    if isinstance(exc, ValidationError):
        add_service_errors(form, exc)
    elif isinstance(exc, ApplicationError):
        form.add_error(None, exc.message)


# --- people -------------------------------------------------------------------------------------------------


@require_GET
@role_required(*OFFICES)
def staff_list(request: StaffRequest) -> HttpResponse:
    role = request.GET.get("role", "")
    status = request.GET.get("status", "")
    township = request.GET.get("township", "")
    listing = paginate_list(
        request,
        selectors.staff_list(user=request.user, role=role, status=status, township=township),
        search_fields=("username", "first_name", "last_name", "phone", "credential_no", "unit"),
        sortable=("username", "role", "status", "area_count", "township_id"),
        default_sort="username",
    )
    townships = (
        Township.objects.visible_to(request.user).order_by("code") if request.user.role != Role.TOWNSHIP_OFFICE else []
    )
    return render(
        request,
        "census/staff_list.html",
        {
            "listing": listing,
            "roles": Role.choices,
            "role": role,
            "statuses": StaffStatus.choices,
            "status": status,
            "townships": townships,
            "township": township,
            "can_create": bool(services.roles_managed_by(request.user)),
        },
    )


@require_http_methods(["GET", "POST"])
@role_required(*OFFICES)
def staff_new(request: StaffRequest) -> HttpResponse:
    initial = {"role": request.GET.get("role") or Role.ENUMERATOR, "department": request.GET.get("department")}
    form = StaffForm(request.POST or None, actor=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            member = services.staff_create(
                **form.service_kwargs(), district_id=request.user.district_id or "", actor=request.user
            )
        except (ValidationError, ApplicationError) as exc:
            _service_error(form, exc)
        else:
            messages.success(
                request,
                _("%(name)s has an account now. Print the credential sheet to hand over the one-time password.")
                % {"name": member.get_full_name()},
            )
            return redirect("frame:staff-detail", pk=member.pk)
    return render(request, "census/staff_form.html", {"form": form}, status=400 if form.errors else 200)


def _member(request: StaffRequest, pk: int) -> StaffMember:
    return get_object_or_404(
        StaffMember.objects.visible_to(request.user).select_related(
            "township", "department", "supervision__supervisor"
        ),
        pk=pk,
    )


def _render_detail(
    request: StaffRequest,
    member: StaffMember,
    *,
    form: StaffForm | None = None,
    status_form: StatusForm | None = None,
    code: int = 200,
) -> HttpResponse:
    manage = services.staff_may_manage(request.user, member)
    if manage and form is None:
        form = StaffForm(actor=request.user, initial=StaffForm.initial_for(member))
    if member.id_number:
        # The page shows the ID number in the clear (the office keeps it, and prints it on the credential).
        record_personal_data_view(actor=request.user, obj=member, fields=["id_number"], ip_address=client_ip(request))
    return render(
        request,
        "census/staff_detail.html",
        {
            "member": member,
            "manage": manage,
            "form": form,
            "status_form": status_form or StatusForm(initial={"status": member.status}),
            "areas": selectors.staff_areas(member=member),
            "overseen": member.supervised.select_related("enumerator").order_by("enumerator__username"),
            "history": selectors.staff_history(user=request.user, member=member),
        },
        status=code,
    )


@require_http_methods(["GET", "POST"])
@role_required(*OFFICES)
@url_objects(pk=StaffMember)
def staff_detail(request: StaffRequest, pk: int) -> HttpResponse:
    member = _member(request, pk)
    if request.method == "GET":
        return _render_detail(request, member)
    form = StaffForm(request.POST, actor=request.user)
    if not services.staff_may_manage(request.user, member):
        form.add_error(None, _("Your role may not manage this account."))
        return _render_detail(request, member, form=form, code=403)
    if form.is_valid():
        try:
            services.staff_update(member=member, actor=request.user, **form.service_kwargs())  # type: ignore[misc]
        except (ValidationError, ApplicationError) as exc:
            _service_error(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("frame:staff-detail", pk=member.pk)
    return _render_detail(request, member, form=form, code=400)


@require_POST
@role_required(*OFFICES)
@url_objects(pk=StaffMember)
def staff_status(request: StaffRequest, pk: int) -> HttpResponse:
    member = _member(request, pk)
    form = StatusForm(request.POST)
    if form.is_valid():
        try:
            services.staff_status_set(
                member=member,
                status=form.cleaned_data["status"],
                reason=form.cleaned_data["reason"],
                actor=request.user,
            )
        except (ValidationError, ApplicationError) as exc:
            _service_error(form, exc)
        else:
            messages.success(request, _("The status has been changed."))
            return redirect("frame:staff-detail", pk=member.pk)
    return _render_detail(request, member, status_form=form, code=400)


# --- departments ----------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@role_required(Role.DISTRICT_OFFICE)
def department_list(request: StaffRequest) -> HttpResponse:
    form = DepartmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            department = services.department_create(
                district_id=request.user.district_id or "",
                code=form.cleaned_data["code"],
                name=form.cleaned_data["name"],
                actor=request.user,
            )
        except (ValidationError, ApplicationError) as exc:
            _service_error(form, exc)
        else:
            messages.success(request, _("The department %(name)s has been added.") % {"name": department.name})
            return redirect("frame:department", pk=department.pk)
    return render(
        request,
        "census/department_list.html",
        {"departments": selectors.department_list(user=request.user), "form": form},
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.DISTRICT_OFFICE)
@url_objects(pk=Department)
def department_detail(request: StaffRequest, pk: int) -> HttpResponse:
    department = get_object_or_404(Department.objects.visible_to(request.user), pk=pk)
    form = DepartmentRenameForm(request.POST or None, initial={"name": department.name})
    if request.method == "POST" and form.is_valid():
        try:
            services.department_update(department=department, name=form.cleaned_data["name"], actor=request.user)
        except (ValidationError, ApplicationError) as exc:
            _service_error(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("frame:department", pk=department.pk)
    users = StaffMember.objects.visible_to(request.user).filter(department=department).order_by("username")
    return render(
        request,
        "census/department_detail.html",
        {"department": department, "form": form, "users": users},
        status=400 if form.errors else 200,
    )


# --- who works where -----------------------------------------------------------------------------------------


def _board_township(request: StaffRequest, code: str) -> Township:
    townships = Township.objects.visible_to(request.user).order_by("code")
    if request.user.role == Role.TOWNSHIP_OFFICE:
        return get_object_or_404(townships, code=request.user.township_id)
    if code:
        return get_object_or_404(townships, code=code)
    first = townships.first()
    if first is None:
        raise Http404
    return first


def _ids(values: list[str]) -> list[int]:
    return [int(v) for v in values if v.isdigit()]


def _assignment_post(request: StaffRequest, township: Township) -> str:
    """Carry out one action of the assignment page; the message to show. Everything of one submission happens,
    or nothing: a refusal for one area leaves the others as they were."""
    user = request.user
    action = request.POST.get("action", "")
    staff = StaffMember.objects.visible_to(user).filter(township=township)
    areas = SmallArea.objects.visible_to(user).filter(township=township)
    with transaction.atomic():
        if action in ("assign", "handover"):
            chosen = list(areas.filter(pk__in=_ids(request.POST.getlist("areas"))).order_by("code"))
            worker = get_object_or_404(staff, pk=request.POST.get("staff") or 0)
            if not chosen:
                raise ValidationError(_("Tick the small areas first."))
            moved = 0
            for area in chosen:
                current = [a.staff for a in area.assignments.select_related("staff") if a.staff_id != worker.pk]
                if action == "handover" and current:
                    for predecessor in current:
                        moved += services.small_area_reassign(
                            small_area=area, predecessor=predecessor, successor=worker, actor=user
                        ).records_moved
                else:
                    services.small_area_assign(staff=worker, small_area=area, actor=user)
            if action == "handover":
                return _("%(n)d small area(s) handed over to %(name)s, with %(moved)d household(s) not yet signed.") % {
                    "n": len(chosen),
                    "name": worker.get_full_name() or worker.username,
                    "moved": moved,
                }
            return _("%(n)d small area(s) assigned to %(name)s.") % {
                "n": len(chosen),
                "name": worker.get_full_name() or worker.username,
            }
        if action == "unassign":
            area_id, _sep, staff_id = request.POST.get("pair", "").partition("-")
            area = get_object_or_404(areas, pk=int(area_id) if area_id.isdigit() else 0)
            worker = get_object_or_404(staff, pk=int(staff_id) if staff_id.isdigit() else 0)
            services.small_area_unassign(staff=worker, small_area=area, actor=user)
            return _("%(name)s no longer covers %(area)s.") % {
                "name": worker.get_full_name() or worker.username,
                "area": area.code,
            }
        if action == "supervise":
            enumerators = list(staff.filter(pk__in=_ids(request.POST.getlist("enumerators"))))
            if not enumerators:
                raise ValidationError(_("Tick the enumerators first."))
            supervisor_id = request.POST.get("supervisor", "")
            if not supervisor_id:
                for enumerator in enumerators:
                    services.supervisor_unassign(enumerator=enumerator, actor=user)
                return _("%(n)d enumerator(s) have no supervisor now.") % {"n": len(enumerators)}
            supervisor = get_object_or_404(staff, pk=int(supervisor_id) if supervisor_id.isdigit() else 0)
            for enumerator in enumerators:
                services.supervisor_assign(supervisor=supervisor, enumerator=enumerator, actor=user)
            return _("%(n)d enumerator(s) put under %(name)s.") % {
                "n": len(enumerators),
                "name": supervisor.get_full_name() or supervisor.username,
            }
    raise ValidationError(_("Unknown action."))


@require_http_methods(["GET", "POST"])
@role_required(*OFFICES)
def assignments(request: StaffRequest) -> HttpResponse:
    """Who works where: a township's small areas with their expected households and enumerators, its field
    workers with their load and supervisor; assign, hand over, take off, put under a supervisor."""
    source = request.POST if request.method == "POST" else request.GET
    township = _board_township(request, source.get("township", ""))
    village = source.get("village", "")
    if request.method == "POST":
        try:
            messages.success(request, _assignment_post(request, township))
        except (ValidationError, ApplicationError) as exc:
            for message in exc.messages if isinstance(exc, ValidationError) else [exc.message]:
                messages.error(request, message)
        query = {"township": township.code, **({"village": village} if village else {})}
        return redirect(f"{reverse('frame:assignments')}?{urlencode(query)}")
    board = selectors.assignment_board(user=request.user, township=township, village=village)
    return render(
        request,
        "census/assignments.html",
        {
            "board": board,
            "township": township,
            "village": village,
            "villages": township.villages.order_by("code"),
            "townships": (
                Township.objects.visible_to(request.user).order_by("code")
                if request.user.role != Role.TOWNSHIP_OFFICE
                else []
            ),
        },
    )


# --- the spreadsheet --------------------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@role_required(*OFFICES)
def staff_import(request: StaffRequest) -> HttpResponse:
    """Upload an office's staff list; the import runs as a job and this page shows its report."""
    form = StaffImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        started = imports.staff_import_start(
            actor=request.user,
            file_name=upload.name,
            chunks=upload.chunks(),
            import_good_rows=form.cleaned_data["import_good_rows"],
            language=get_language() or "zh-hans",
        )
        return redirect(f"{reverse('frame:staff-import')}?{urlencode({'job': started.pk})}")
    job: Job | None = None
    job_id = request.GET.get("job", "")
    if job_id.isdigit():
        job = Job.objects.visible_to(request.user).filter(kind=imports.STAFF_IMPORT_JOB, pk=int(job_id)).first()
    context = {
        "form": form,
        "job": job,
        "columns": [StaffResource.fields[n].column_name for n in StaffResource.columns()],
    }
    if request.htmx and job is not None:  # type: ignore[attr-defined]
        return render(request, "census/_staff_import_report.html", context)
    return render(request, "census/staff_import.html", context, status=400 if form.errors else 200)


def _spreadsheet(dataset: tablib.Dataset, file_format: str, name: str) -> HttpResponse:
    if file_format == "csv":
        content_type = "text/csv; charset=utf-8"
    else:
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = HttpResponse(dataset_export(dataset, file_format), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}.{file_format}"'
    return response


@require_GET
@role_required(*OFFICES)
def staff_import_template(request: StaffRequest) -> HttpResponse:
    """An empty staff list with the columns and one example row."""
    file_format = "csv" if request.GET.get("format") == "csv" else "xlsx"
    return _spreadsheet(imports.staff_template(), file_format, "staff-template")


@require_GET
@role_required(*OFFICES)
def staff_export(request: StaffRequest) -> HttpResponse:
    """The staff the office sees, in the import's columns (with ID numbers: written to the audit log)."""
    file_format = "csv" if request.GET.get("format") == "csv" else "xlsx"
    township = request.GET.get("township", "")
    # The people the office manages: the file is for editing and importing again.
    members = (
        selectors.staff_list(user=request.user, township=township)
        .filter(role__in=services.roles_managed_by(request.user))
        .select_related("department")
    )
    audit_record(
        actor=request.user,
        action=AuditAction.EXPORT,
        object_type="staff",
        detail={"township": township or request.user.township_id or "", "format": file_format},
        ip_address=client_ip(request),
    )
    return _spreadsheet(imports.staff_export(members=members), file_format, "staff")


# --- credentials ---------------------------------------------------------------------------------------------


def _base_url(request: StaffRequest) -> str:
    """Where the credential's QR code points: the site's own address as this office reaches it."""
    return request.build_absolute_uri("/").rstrip("/")


@require_http_methods(["GET", "POST"])
@role_required(*OFFICES)
def staff_credentials(request: StaffRequest) -> HttpResponse:
    """Choose whose credentials to print; printing runs as a job whose PDF only the printer downloads."""
    source = request.POST if request.method == "POST" else request.GET
    township = _board_township(request, source.get("township", ""))
    members = (
        StaffMember.objects.visible_to(request.user)
        .filter(township=township, role__in=FIELD_ROLES, status=StaffStatus.ACTIVE)
        .order_by("role", "last_name", "first_name", "username")
    )
    if request.method == "POST":
        chosen = list(members.filter(pk__in=_ids(request.POST.getlist("staff"))))
        if not chosen:
            messages.error(request, _("Tick the people whose credentials to print."))
        else:
            try:
                job = credentials.staff_credentials_start(
                    actor=request.user, members=chosen, base_url=_base_url(request)
                )
            except ApplicationError as exc:
                messages.error(request, exc.message)
            else:
                return redirect("jobs:detail", pk=job.pk)
    return render(
        request,
        "census/staff_credentials.html",
        {
            "members": members,
            "township": township,
            "townships": (
                Township.objects.visible_to(request.user).order_by("code")
                if request.user.role != Role.TOWNSHIP_OFFICE
                else []
            ),
        },
    )


@require_POST
@role_required(*OFFICES)
@url_objects(pk=StaffMember)
def staff_credential_revoke(request: StaffRequest, pk: int) -> HttpResponse:
    """A lost credential: its QR code stops vouching for its holder; print a new one."""
    member = _member(request, pk)
    try:
        credentials.staff_credential_reissue(member=member, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The old credential is no longer valid. Print a new one."))
    return redirect("frame:staff-detail", pk=member.pk)


def _client_address(group: str, request: HttpRequest) -> str:
    return client_ip(request) or "unknown"


def _check_rate(group: str, request: HttpRequest) -> str:
    return str(getattr(settings, "CENSUS_STAFFING", {}).get("CREDENTIAL_CHECK_RATE", "30/m"))


@require_GET
@never_cache
@public
@url_objects(key=["not-a-credential-key"])
def credential_check(request: HttpRequest, key: str) -> HttpResponse:
    """The page a credential's QR code opens, for anyone: is it valid now? Rate-limited by address, so that it
    cannot be used to try keys."""
    try:
        limited = is_ratelimited(
            request, group="credential-check", key=_client_address, rate=_check_rate, method="GET", increment=True
        )
    except CacheUnavailable:
        # Redis is down: the household at the door still gets its answer. The limit is a second line only —
        # a key is 128 random bits, which no one guesses at any rate.
        limited = False
    if limited:
        return render(request, "census/credential_check.html", {"limited": True}, status=429)
    return render(request, "census/credential_check.html", {"status": selectors.credential_status(key=key)})


# --- passwords and API tokens -----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@never_cache
@any_role
def password_change(request: StaffRequest) -> HttpResponse:
    """Choose one's own password; the only page a one-time password opens."""
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            member = services.staff_password_change(
                member=request.user,
                current_password=form.cleaned_data["current_password"],
                new_password=form.cleaned_data["new_password1"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except ApplicationError as exc:
            form.add_error("current_password", exc.message)
        else:
            # This session goes on with the new password; the person's other sessions end.
            update_session_auth_hash(request, member)
            messages.success(request, _("Your password has been changed."))
            return redirect("home")
    return render(
        request,
        "registration/password_change.html",
        {"form": form, "first": request.user.must_change_password},
        status=400 if form.errors else 200,
    )


@require_POST
@never_cache
@role_required(*OFFICES)
@url_objects(pk=StaffMember)
def staff_password_reset(request: StaffRequest, pk: int) -> HttpResponse:
    """Give a person a new one-time password, shown on this page once (it is kept nowhere)."""
    member = _member(request, pk)
    try:
        password = services.staff_password_reset(member=member, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("frame:staff-detail", pk=member.pk)
    return render(request, "census/staff_password_reset.html", {"member": member, "password": password})


@require_POST
@role_required(*OFFICES)
@url_objects(pk=StaffMember)
def staff_tokens_revoke(request: StaffRequest, pk: int) -> HttpResponse:
    """End a person's API tokens (their phone was lost): the device must sign in again."""
    member = _member(request, pk)
    try:
        revoked = services.api_tokens_revoke(member=member, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(n)d API token(s) ended.") % {"n": revoked})
    return redirect("frame:staff-detail", pk=member.pk)
