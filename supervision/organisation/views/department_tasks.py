"""Departments' census tasks (S18) and the assessment ranking of townships and departments (S4)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from census.models import Role
from census.permissions import StaffRequest, role_required, url_objects
from supervision.organisation.assessment import COMPONENTS, assessment_weights
from supervision.organisation.forms import DepartmentTaskAnswerForm, DepartmentTaskForm, add_service_errors
from supervision.organisation.models import DepartmentTask, DepartmentTaskStatus, Escalation, EscalationKind
from supervision.organisation.selectors.assessment import assessment_ranking, registration_started
from supervision.organisation.selectors.responsibility import responsibility_chain
from supervision.organisation.services.common import today
from supervision.organisation.services.department_tasks import (
    department_task_answer,
    department_task_create,
    department_task_review,
)
from supervision.organisation.views.common import DISTRICT_AND_DEPARTMENTS, is_district

COMPONENT_LABELS = {
    "readiness": gettext_lazy("Readiness on time (四落实)"),
    "tasks": gettext_lazy("Department tasks delivered on time"),
    "publicity": gettext_lazy("Publicity awareness (知晓率)"),
    "registration": gettext_lazy("Registration"),
    "acceptance": gettext_lazy("Acceptance"),
    "findings": gettext_lazy("Open findings (quality)"),
}


def _labels() -> dict[str, str]:
    return {name: str(label) for name, label in COMPONENT_LABELS.items()}


@role_required(*DISTRICT_AND_DEPARTMENTS)
def department_task_list(request: StaffRequest) -> HttpResponse:
    user = request.user
    form = DepartmentTaskForm(request.POST or None, user=user) if is_district(user) else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            try:
                task = department_task_create(actor=user, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Task assigned to %(dept)s.") % {"dept": task.department.name})
                return redirect("supervision:department-tasks")
    tasks = (
        DepartmentTask.objects.visible_to(user)
        .select_related("department", "responsible")
        .order_by("status", "deadline", "pk")
    )
    return render(
        request,
        "organisation/department_tasks.html",
        {"tasks": tasks, "form": form, "today": today()},
        status=400 if form is not None and form.is_bound and not form.is_valid() else 200,
    )


def _render_task(
    request: StaffRequest,
    task: DepartmentTask,
    *,
    answer_form: DepartmentTaskAnswerForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    may_answer = user.role == Role.DEPARTMENT and task.status != DepartmentTaskStatus.DELIVERED
    return render(
        request,
        "organisation/department_task_detail.html",
        {
            "task": task,
            "evidence": list(task.evidence.all()),
            "answer_form": answer_form
            or (DepartmentTaskAnswerForm(initial={"answered_on": today()}) if may_answer else None),
            "may_review": is_district(user) and task.status == DepartmentTaskStatus.ANSWERED,
            "chain": responsibility_chain(task.responsible) if task.responsible else [],
            "escalations": list(Escalation.objects.filter(kind=EscalationKind.DEPARTMENT_TASK, object_id=task.pk)),
            "today": today(),
        },
        status=status,
    )


@require_GET
@role_required(*DISTRICT_AND_DEPARTMENTS)
@url_objects(pk=DepartmentTask)
def department_task_detail(request: StaffRequest, pk: int) -> HttpResponse:
    task = get_object_or_404(DepartmentTask.objects.visible_to(request.user).select_related("department"), pk=pk)
    return _render_task(request, task)


@require_POST
@role_required(Role.DEPARTMENT)
@url_objects(pk=DepartmentTask)
def department_task_answer_view(request: StaffRequest, pk: int) -> HttpResponse:
    task = get_object_or_404(DepartmentTask.objects.visible_to(request.user).select_related("department"), pk=pk)
    form = DepartmentTaskAnswerForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            department_task_answer(task=task, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Answer sent to the district census office."))
            return redirect("supervision:department-task", pk=task.pk)
    return _render_task(request, task, answer_form=form, status=400)


@require_POST
@role_required(Role.DISTRICT_OFFICE)
@url_objects(pk=DepartmentTask)
def department_task_review_view(request: StaffRequest, pk: int) -> HttpResponse:
    task = get_object_or_404(DepartmentTask.objects.visible_to(request.user), pk=pk)
    accept = request.POST.get("decision") == "accept"
    try:
        department_task_review(
            task=task, accept=accept, reason=request.POST.get("reason", ""), on=today(), actor=request.user
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Accepted as delivered.") if accept else _("Answer returned."))
    return redirect("supervision:department-task", pk=task.pk)


@require_GET
@role_required(Role.DISTRICT_OFFICE, Role.TOWNSHIP_OFFICE, Role.DEPARTMENT, Role.AUDITOR)
def assessment(request: StaffRequest) -> HttpResponse:
    """The ranking of the assessment (双倍计分), with the weights and the formula, for every assessed unit."""
    day = today()
    w = assessment_weights()
    units = assessment_ranking(district_id=request.user.district_id or "", today=day, w=w)
    labels = _labels()
    mine = (
        f"dept:{request.user.department_id}"
        if request.user.role == Role.DEPARTMENT
        else (request.user.township_id or "")
    )
    return render(
        request,
        "organisation/assessment.html",
        {
            "units": units,
            "columns": [(name, labels[name], w.weights[name]) for name in COMPONENTS],
            "multiplier": w.multiplier,
            "weights_total": sum(w.weights.values()),
            "registration_started": registration_started(day),
            "mine": mine,
        },
    )
