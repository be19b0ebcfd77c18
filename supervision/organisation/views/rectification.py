"""督察整改 pages: the register, one item with its tasks, one task with its answer and evidence."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from census.listing import paginate_list
from census.models import Role, StaffMember, StaffStatus
from census.permissions import StaffRequest, role_required, url_objects
from supervision.organisation import selectors, services
from supervision.organisation.forms import (
    ItemCloseForm,
    RecheckForm,
    RectificationItemForm,
    RectificationTaskForm,
    TaskAnswerForm,
    TaskEvidenceForm,
    TaskReturnForm,
    add_service_errors,
)
from supervision.organisation.models import ItemStatus, RectificationItem, RectificationTask, TaskStatus
from supervision.organisation.services.common import today
from supervision.organisation.services.responsibility import rectification_task_responsible_set
from supervision.organisation.views.common import DISTRICT_AND_DEPARTMENTS, bar_chart, is_district, posted_person

FILTERS = ("attention", "open", "recheck_due", "closed", "all")


@require_GET
@role_required(*DISTRICT_AND_DEPARTMENTS)
def rectification_list(request: StaffRequest) -> HttpResponse:
    user = request.user
    day = today()
    qs = selectors.rectification_item_list(user=user, today=day)
    show = request.GET.get("show", "attention")
    if show not in FILTERS:
        show = "attention"
    if show == "attention":
        qs = qs.needing_attention(day)
    elif show == "open":
        qs = qs.open()
    elif show == "recheck_due":
        qs = qs.recheck_due(day)
    elif show == "closed":
        qs = qs.closed()
    listing = paginate_list(
        request,
        qs,
        search_fields=("number", "title", "feedback"),
        sortable=("number", "received_on", "status", "recheck_on", "task_count", "overdue_count"),
        default_sort="received_on",
    )
    summary = selectors.rectification_summary_by_department(user, today=day)
    chart = bar_chart(
        [row.department for row in summary],
        [
            (_("Answered"), [row.answered for row in summary], "ok"),
            (_("Open, within the deadline"), [row.open - row.overdue for row in summary], "accent"),
            (_("Open, overdue"), [row.overdue for row in summary], "bad"),
        ],
        stacked=True,
        horizontal=True,
    )
    my_tasks = None
    if user.role == Role.DEPARTMENT:
        my_tasks = selectors.rectification_task_list(user=user).order_by("status", "deadline")[:50]
    return render(
        request,
        "organisation/rectification_list.html",
        {
            "listing": listing,
            "show": show,
            "chart": chart,
            "counts": selectors.rectification_counts(user, today=day),
            "recheck_due": selectors.rectification_recheck_due(user, today=day)[:10],
            "overdue_tasks": selectors.rectification_tasks_overdue(user, today=day)[:10],
            "my_tasks": my_tasks,
            "today": day,
            "is_district": is_district(user),
        },
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.DISTRICT_OFFICE)
def rectification_item_create(request: StaffRequest) -> HttpResponse:
    form = RectificationItemForm(request.POST or None, user=request.user, initial={"received_on": today()})
    if request.method == "POST" and form.is_valid():
        try:
            item = services.rectification_item_create(
                district_id=request.user.district_id or "", actor=request.user, **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The item has been registered; now break it into tasks."))
            return redirect("supervision:rectification-item", pk=item.pk)
    return render(request, "organisation/rectification_item_form.html", {"form": form})


def _item(request: StaffRequest, pk: int) -> RectificationItem:
    return get_object_or_404(selectors.rectification_item_list(user=request.user), pk=pk)


def _render_item(
    request: StaffRequest,
    item: RectificationItem,
    *,
    task_form: RectificationTaskForm | None = None,
    close_form: ItemCloseForm | None = None,
    recheck_form: RecheckForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    day = today()
    tasks = list(selectors.rectification_task_list(user=user).filter(item=item).order_by("deadline", "pk"))
    hidden = item.task_count - len(tasks)  # type: ignore[attr-defined]
    return render(
        request,
        "organisation/rectification_item.html",
        {
            "item": item,
            "tasks": tasks,
            "hidden_tasks": hidden,
            "rechecks": item.rechecks.select_related("checked_by").order_by("-checked_on"),
            "task_form": task_form or RectificationTaskForm(user=user),
            "close_form": close_form or ItemCloseForm(initial={"closed_on": day}),
            "recheck_form": recheck_form or RecheckForm(initial={"checked_on": day}),
            "is_district": is_district(user),
            "recheck_due": item.status == ItemStatus.CLOSED and item.recheck_on is not None and item.recheck_on <= day,
            "today": day,
        },
        status=status,
    )


@require_GET
@role_required(*DISTRICT_AND_DEPARTMENTS)
@url_objects(pk=RectificationItem)
def rectification_item(request: StaffRequest, pk: int) -> HttpResponse:
    return _render_item(request, _item(request, pk))


@require_POST
@role_required(Role.DISTRICT_OFFICE)
@url_objects(pk=RectificationItem)
def rectification_task_create(request: StaffRequest, pk: int) -> HttpResponse:
    item = _item(request, pk)
    form = RectificationTaskForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            services.rectification_task_create(item=item, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The task has been added."))
            return redirect("supervision:rectification-item", pk=item.pk)
    return _render_item(request, item, task_form=form, status=400)


@require_POST
@role_required(Role.DISTRICT_OFFICE)
@url_objects(pk=RectificationItem)
def rectification_item_close(request: StaffRequest, pk: int) -> HttpResponse:
    item = _item(request, pk)
    form = ItemCloseForm(request.POST)
    if form.is_valid():
        try:
            services.rectification_item_close(item=item, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The item is closed; it will come back on the list for its re-check."))
            return redirect("supervision:rectification-item", pk=item.pk)
    return _render_item(request, item, close_form=form, status=400)


@require_POST
@role_required(Role.DISTRICT_OFFICE)
@url_objects(pk=RectificationItem)
def rectification_recheck(request: StaffRequest, pk: int) -> HttpResponse:
    item = _item(request, pk)
    form = RecheckForm(request.POST)
    if form.is_valid():
        try:
            recheck = services.rectification_recheck_record(item=item, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if recheck.held:
                messages.success(request, _("The re-check has been recorded."))
            else:
                messages.warning(request, _("The problem has come back: the item is open again. Add the new tasks."))
            return redirect("supervision:rectification-item", pk=item.pk)
    return _render_item(request, item, recheck_form=form, status=400)


def _task(request: StaffRequest, pk: int) -> RectificationTask:
    return get_object_or_404(selectors.rectification_task_list(user=request.user), pk=pk)


def _render_task(
    request: StaffRequest,
    task: RectificationTask,
    *,
    answer_form: TaskAnswerForm | None = None,
    evidence_form: TaskEvidenceForm | None = None,
    return_form: TaskReturnForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    can_act = is_district(user) or user.department_id == task.department_id
    return render(
        request,
        "organisation/rectification_task.html",
        {
            "task": task,
            "evidence": task.evidence.select_related("uploaded_by").order_by("uploaded_at"),
            "answer_form": answer_form
            or TaskAnswerForm(initial={"answer": task.answer, "answered_on": task.answered_on or today()}),
            "evidence_form": evidence_form or TaskEvidenceForm(),
            "return_form": return_form or TaskReturnForm(),
            "can_act": can_act and task.item.status == ItemStatus.OPEN,
            "can_return": is_district(user)
            and task.status == TaskStatus.ANSWERED
            and task.item.status == ItemStatus.OPEN,
            "overdue": task.status == TaskStatus.OPEN and task.deadline < today(),
            "responsible_candidates": (
                StaffMember.objects.filter(
                    role=Role.DEPARTMENT, department_id=task.department_id, status=StaffStatus.ACTIVE
                ).order_by("username")
                if is_district(user)
                else []
            ),
        },
        status=status,
    )


@require_GET
@role_required(*DISTRICT_AND_DEPARTMENTS)
@url_objects(pk=RectificationTask)
def rectification_task(request: StaffRequest, pk: int) -> HttpResponse:
    return _render_task(request, _task(request, pk))


@require_POST
@role_required(*DISTRICT_AND_DEPARTMENTS)
@url_objects(pk=RectificationTask)
def rectification_task_answer(request: StaffRequest, pk: int) -> HttpResponse:
    task = _task(request, pk)
    form = TaskAnswerForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.rectification_task_answer(
                task=task,
                answer=form.cleaned_data["answer"],
                answered_on=form.cleaned_data["answered_on"],
                upload=form.cleaned_data["upload"],
                actor=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The answer has been recorded."))
            return redirect("supervision:rectification-task", pk=task.pk)
    return _render_task(request, task, answer_form=form, status=400)


@require_POST
@role_required(*DISTRICT_AND_DEPARTMENTS)
@url_objects(pk=RectificationTask)
def rectification_task_evidence(request: StaffRequest, pk: int) -> HttpResponse:
    task = _task(request, pk)
    form = TaskEvidenceForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.rectification_task_add_evidence(task=task, upload=form.cleaned_data["upload"], actor=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The evidence has been uploaded."))
            return redirect("supervision:rectification-task", pk=task.pk)
    return _render_task(request, task, evidence_form=form, status=400)


@require_POST
@role_required(Role.DISTRICT_OFFICE)
@url_objects(pk=RectificationTask)
def rectification_task_return(request: StaffRequest, pk: int) -> HttpResponse:
    task = _task(request, pk)
    form = TaskReturnForm(request.POST)
    if form.is_valid():
        try:
            services.rectification_task_return(task=task, reason=form.cleaned_data["reason"], actor=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.warning(request, _("The answer has been returned to the department."))
            return redirect("supervision:rectification-task", pk=task.pk)
    return _render_task(request, task, return_form=form, status=400)


@require_POST
@role_required(Role.DISTRICT_OFFICE)
@url_objects(pk=RectificationTask)
def rectification_task_responsible(request: StaffRequest, pk: int) -> HttpResponse:
    """落实到人头: name the department's account answerable for the task."""
    task = _task(request, pk)
    person = posted_person(request.POST, "responsible")
    try:
        if person is None:
            raise ValidationError(_("Choose a person."))
        rectification_task_responsible_set(task=task, person=person, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Responsible person named."))
    return redirect("supervision:rectification-task", pk=task.pk)
