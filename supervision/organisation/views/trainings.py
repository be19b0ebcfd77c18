"""Training, study-session and self-inspection pages of the departments."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, F, Q, Sum
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from census.listing import paginate_list
from census.models import Department
from census.permissions import StaffRequest, role_required
from supervision.organisation import selectors, services
from supervision.organisation.forms import SelfInspectionForm, StudySessionForm, TrainingForm, add_service_errors
from supervision.organisation.models import StudyForm, TrainingSubject
from supervision.organisation.selectors import Quarter, first_training_quarter, quarters_between
from supervision.organisation.services.common import today
from supervision.organisation.views.common import DISTRICT_AND_DEPARTMENTS, bar_chart


def _department_filter(request: StaffRequest) -> str:
    value = request.GET.get("department", "")
    return value if value.isdigit() else ""


def _year(request: StaffRequest, default: int) -> int:
    value = request.GET.get("year", "")
    return int(value) if value.isdigit() and 2000 <= int(value) <= 2100 else default


@require_http_methods(["GET", "POST"])
@role_required(*DISTRICT_AND_DEPARTMENTS)
def training_list(request: StaffRequest) -> HttpResponse:
    user = request.user
    day = today()
    form = TrainingForm(request.POST or None, request.FILES or None, user=user, initial={"held_on": day})
    if request.method == "POST" and form.is_valid():
        try:
            services.training_record(actor=user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The training has been recorded."))
            return redirect("supervision:trainings")
    qs = selectors.training_list(user=user)
    department = _department_filter(request)
    if department:
        qs = qs.filter(department_id=int(department))
    subject = request.GET.get("subject", "")
    if subject in TrainingSubject.values:
        qs = qs.filter(subject=subject)
    year = _year(request, day.year)
    if request.GET.get("year"):
        qs = qs.filter(held_on__year=year)
    listing = paginate_list(
        request,
        qs,
        search_fields=("topic", "trainer", "audience"),
        sortable=("held_on", "department__code", "subject", "trainees"),
        default_sort="-held_on",
    )
    quarters = quarters_between(first_training_quarter(), Quarter.of(day))
    departments = selectors.training_departments(user)
    counts = selectors.training_counts(user, departments)
    missed = selectors.training_missed_quarters(user, today=day, departments=departments, counts=counts)
    colors = ("accent", "ok", "warn", "bad", "muted")
    chart = bar_chart(
        [str(q) for q in quarters],
        [
            (d.name, [counts.get((d.pk, q), 0) for q in quarters], colors[i % len(colors)])
            for i, d in enumerate(departments)
        ],
    )
    return render(
        request,
        "organisation/training_list.html",
        {
            "form": form,
            "listing": listing,
            "matrix": selectors.training_quarter_matrix(
                user, year=year, today=day, departments=departments, counts=counts
            ),
            "missed": missed,
            "chart": chart,
            "year": year,
            "years": list(range(first_training_quarter().year, day.year + 1)),
            "departments": Department.objects.visible_to(user).order_by("code"),
            "department": department,
            "subjects": TrainingSubject.choices,
            "subject": subject,
        },
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
@role_required(*DISTRICT_AND_DEPARTMENTS)
def study_session_list(request: StaffRequest) -> HttpResponse:
    user = request.user
    form = StudySessionForm(request.POST or None, request.FILES or None, user=user, initial={"held_on": today()})
    if request.method == "POST" and form.is_valid():
        try:
            services.study_session_record(actor=user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The study session has been recorded."))
            return redirect("supervision:study-sessions")
    qs = selectors.study_session_list(user=user)
    department = _department_filter(request)
    if department:
        qs = qs.filter(department_id=int(department))
    study_form = request.GET.get("form", "")
    if study_form in StudyForm.values:
        qs = qs.filter(form=study_form)
    listing = paginate_list(
        request,
        qs,
        search_fields=("topic", "chaired_by"),
        sortable=("held_on", "department__code", "form", "attendance"),
        default_sort="-held_on",
    )
    rows = list(
        selectors.study_session_list(user=user)
        .values("department__name", "department__code")
        .annotate(sessions=Count("pk"), attended=Sum("attendance"), expected=Sum("expected"))
        .order_by("department__code")
    )
    chart = bar_chart(
        [r["department__name"] for r in rows],
        [(_("Study sessions"), [r["sessions"] for r in rows], "accent")],
        horizontal=True,
    )
    return render(
        request,
        "organisation/study_session_list.html",
        {
            "form": form,
            "listing": listing,
            "chart": chart,
            "rows": rows,
            "departments": Department.objects.visible_to(user).order_by("code"),
            "department": department,
            "forms": StudyForm.choices,
            "study_form": study_form,
        },
        status=400 if request.method == "POST" else 200,
    )


@require_http_methods(["GET", "POST"])
@role_required(*DISTRICT_AND_DEPARTMENTS)
def self_inspection_list(request: StaffRequest) -> HttpResponse:
    user = request.user
    form = SelfInspectionForm(
        request.POST or None, request.FILES or None, user=user, initial={"carried_out_on": today()}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.self_inspection_record(actor=user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The self-inspection has been recorded."))
            return redirect("supervision:self-inspections")
    qs = selectors.self_inspection_list(user=user)
    department = _department_filter(request)
    if department:
        qs = qs.filter(department_id=int(department))
    if request.GET.get("open") == "1":
        qs = qs.filter(problems_corrected__lt=F("problems_found"))
    listing = paginate_list(
        request,
        qs,
        search_fields=("findings",),
        sortable=("carried_out_on", "department__code", "documents_reviewed", "problems_found", "problems_corrected"),
        default_sort="-carried_out_on",
    )
    rows = list(
        selectors.self_inspection_list(user=user)
        .values("department__name", "department__code")
        .annotate(
            reviewed=Sum("documents_reviewed"),
            found=Sum("problems_found"),
            corrected=Sum("problems_corrected"),
            open_inspections=Count("pk", filter=Q(problems_corrected__lt=F("problems_found"))),
        )
        .order_by("department__code")
    )
    chart = bar_chart(
        [r["department__name"] for r in rows],
        [
            (_("Problems corrected"), [r["corrected"] for r in rows], "ok"),
            (_("Problems still open"), [r["found"] - r["corrected"] for r in rows], "bad"),
        ],
        stacked=True,
        horizontal=True,
    )
    return render(
        request,
        "organisation/self_inspection_list.html",
        {
            "form": form,
            "listing": listing,
            "chart": chart,
            "rows": rows,
            "departments": Department.objects.visible_to(user).order_by("code"),
            "department": department,
            "open": request.GET.get("open") == "1",
        },
        status=400 if request.method == "POST" else 200,
    )
