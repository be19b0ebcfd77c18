"""四落实 readiness pages: the list with the overdue units and a chart per township, one unit's checklist,
and the publicity-awareness (知晓率) page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from census.listing import paginate_list
from census.models import Role, Township
from census.permissions import StaffRequest, role_required, url_objects
from supervision.organisation import selectors, services
from supervision.organisation.forms import (
    ReadinessDeadlinesForm,
    ReadinessItemForm,
    ReadinessMemberForm,
    add_service_errors,
)
from supervision.organisation.models import (
    Escalation,
    EscalationKind,
    MemberBody,
    ReadinessComponent,
    ReadinessItem,
    ReadinessMember,
    UnitKind,
    UnitReadiness,
)
from supervision.organisation.selectors.responsibility import office_heads, responsibility_chain
from supervision.organisation.services.common import today
from supervision.organisation.services.responsibility import readiness_item_candidates, readiness_item_responsible_set
from supervision.organisation.views.common import READINESS_ROLES, bar_chart, is_district, posted_person

STATES = {"overdue", "ready", "late", "not_ready"}


@require_GET
@role_required(*READINESS_ROLES)
def readiness_list(request: StaffRequest) -> HttpResponse:
    user = request.user
    day = today()
    qs = selectors.readiness_list(user=user, today=day)
    kind = request.GET.get("kind", "")
    if kind in UnitKind.values:
        qs = qs.filter(unit_kind=kind)
    township = request.GET.get("township", "")
    if township:
        qs = qs.filter(township_id=township)
    state = request.GET.get("state", "")
    if state == "overdue":
        qs = qs.overdue(day)
    elif state == "ready":
        qs = qs.ready()
    elif state == "late":
        qs = qs.late()
    elif state == "not_ready":
        qs = qs.not_ready()
    listing = paginate_list(
        request,
        qs,
        search_fields=("township__name", "village__name", "department__name", "village__code", "township__code"),
        sortable=("unit_kind", "deadline", "ready_on", "done_count", "township_id"),
        default_sort="deadline",
    )
    summary = selectors.readiness_summary_by_township(user, today=day)
    overdue = selectors.readiness_overdue(user, today=day)
    chart = bar_chart(
        [row.name for row in summary],
        [
            (_("Ready on time"), [row.ready - row.late for row in summary], "ok"),
            (_("Ready late"), [row.late for row in summary], "warn"),
            (_("Overdue"), [row.overdue for row in summary], "bad"),
            (_("Not yet due"), [row.not_ready - row.overdue for row in summary], "muted"),
        ],
        stacked=True,
        horizontal=True,
    )
    return render(
        request,
        "organisation/readiness_list.html",
        {
            "listing": listing,
            "today": day,
            "overdue": overdue[:10],
            "overdue_count": overdue.count(),
            "totals": selectors.readiness_totals(user, today=day),
            "summary": summary,
            "chart": chart,
            "kinds": UnitKind.choices,
            "kind": kind,
            "townships": Township.objects.visible_to(user).order_by("code"),
            "township": township,
            "state": state,
            "can_ensure": is_district(user),
            "deadlines": selectors.readiness_deadlines(district_id=_district_of(user)),
            "components": ReadinessComponent.choices,
        },
    )


@require_POST
@role_required(*READINESS_ROLES)
def readiness_ensure(request: StaffRequest) -> HttpResponse:
    if not is_district(request.user):
        raise PermissionDenied
    created = services.readiness_ensure_units(district_id=request.user.district_id or "", actor=request.user)
    messages.success(request, _("%(n)d checklists created.") % {"n": created})
    return redirect("supervision:readiness")


def _render_detail(
    request: StaffRequest,
    readiness: UnitReadiness,
    *,
    bound_item: tuple[int, ReadinessItemForm] | None = None,
    member_form: ReadinessMemberForm | None = None,
    status: int = 200,
) -> HttpResponse:
    day = today()
    items = list(
        ReadinessItem.objects.filter(readiness=readiness)
        .with_due_on()
        .select_related("evidence", "updated_by", "responsible")
        .order_by("pk")
    )
    order = list(ReadinessComponent.values)
    items.sort(key=lambda item: order.index(item.component))
    rows: list[dict[str, Any]] = []
    heads = office_heads(readiness.district_id)
    escalations: dict[int, list[Escalation]] = {}
    for escalation in Escalation.objects.filter(
        kind=EscalationKind.READINESS_ITEM, object_id__in=[i.pk for i in items]
    ).order_by("level"):
        escalations.setdefault(escalation.object_id, []).append(escalation)
    may_name = request.user.is_superuser or request.user.role in (Role.DISTRICT_OFFICE, Role.TOWNSHIP_OFFICE)
    candidates = readiness_item_candidates(items[0]) if items and may_name else []
    for item in items:
        if bound_item is not None and bound_item[0] == item.pk:
            form = bound_item[1]
        else:
            form = ReadinessItemForm(
                prefix=item.component,
                initial={"status": item.status, "completed_on": item.completed_on, "note": item.note},
            )
        rows.append(
            {
                "item": item,
                "form": form,
                "chain": responsibility_chain(item.responsible, heads=heads) if item.responsible else [],
                "escalations": escalations.get(item.pk, []),
                "candidates": candidates if may_name else [],
            }
        )
    members = list(readiness.members.all())
    return render(
        request,
        "organisation/readiness_detail.html",
        {
            "readiness": readiness,
            "rows": rows,
            "leading_group": [m for m in members if m.body == MemberBody.LEADING_GROUP],
            "office": [m for m in members if m.body == MemberBody.OFFICE],
            "member_form": member_form or ReadinessMemberForm(),
            "today": day,
        },
        status=status,
    )


@require_GET
@role_required(*READINESS_ROLES)
@url_objects(pk=UnitReadiness)
def readiness_detail(request: StaffRequest, pk: int) -> HttpResponse:
    readiness = get_object_or_404(selectors.readiness_list(user=request.user), pk=pk)
    return _render_detail(request, readiness)


@require_POST
@role_required(Role.DISTRICT_OFFICE, Role.TOWNSHIP_OFFICE)
@url_objects(pk=ReadinessItem)
def readiness_item_responsible(request: StaffRequest, pk: int) -> HttpResponse:
    """Name the one account answerable for an item (落实到人头)."""
    item = get_object_or_404(ReadinessItem.objects.visible_to(request.user).select_related("readiness"), pk=pk)
    person = posted_person(request.POST, "responsible")
    if person is None:
        messages.error(request, _("Choose a person."))
    else:
        try:
            readiness_item_responsible_set(item=item, person=person, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Responsible person named."))
    return redirect("supervision:readiness-detail", pk=item.readiness_id)


def _district_of(user: Any) -> str | None:
    """The district whose deadlines a user reads: their own, or their township's or department's."""
    if user.district_id:
        return str(user.district_id)
    if user.township_id:
        return str(user.township_id)[:6]
    department = getattr(user, "department", None)
    return str(department.district_id) if department is not None else None


@role_required(Role.DISTRICT_OFFICE)
def readiness_deadlines(request: StaffRequest) -> HttpResponse:
    """The district's deadline for each of the four per kind of unit (S2): the defaults of the speech until
    the district changes one."""
    district_id = request.user.district_id or ""
    rows = selectors.readiness_deadlines(district_id=district_id)
    initial = {f"{row.kind}__{c}": due for row in rows for c, due in row.due.items()}
    form = ReadinessDeadlinesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        for name, due_on in form.cleaned_data.items():
            kind, component = name.split("__")
            services.readiness_deadline_set(
                district_id=district_id, unit_kind=kind, component=component, due_on=due_on, actor=request.user
            )
        messages.success(request, _("Deadlines saved."))
        return redirect("supervision:readiness-deadlines")
    cells = [
        {"row": row, "fields": [(form[f"{row.kind}__{c}"], c in row.own) for c in ReadinessComponent.values]}
        for row in rows
    ]
    return render(
        request,
        "organisation/readiness_deadlines.html",
        {"form": form, "cells": cells, "components": ReadinessComponent.choices},
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


@require_POST
@role_required(*READINESS_ROLES)
@url_objects(pk=ReadinessItem)
def readiness_item_update(request: StaffRequest, pk: int) -> HttpResponse:
    item = get_object_or_404(ReadinessItem.objects.visible_to(request.user).select_related("readiness"), pk=pk)
    readiness = get_object_or_404(selectors.readiness_list(user=request.user), pk=item.readiness_id)
    form = ReadinessItemForm(request.POST, request.FILES, prefix=item.component)
    if form.is_valid():
        try:
            services.readiness_item_update(
                item=item,
                status=form.cleaned_data["status"],
                completed_on=form.cleaned_data["completed_on"],
                note=form.cleaned_data["note"],
                upload=form.cleaned_data["upload"],
                actor=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Saved: %(item)s.") % {"item": item.get_component_display()})
            return redirect("supervision:readiness-detail", pk=readiness.pk)
    return _render_detail(request, readiness, bound_item=(item.pk, form), status=400)


@require_POST
@role_required(*READINESS_ROLES)
@url_objects(pk=UnitReadiness)
def readiness_member_add(request: StaffRequest, pk: int) -> HttpResponse:
    readiness = get_object_or_404(selectors.readiness_list(user=request.user), pk=pk)
    form = ReadinessMemberForm(request.POST)
    if form.is_valid():
        try:
            services.readiness_member_add(readiness=readiness, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Member added."))
            return redirect("supervision:readiness-detail", pk=readiness.pk)
    return _render_detail(request, readiness, member_form=form, status=400)


@require_POST
@role_required(*READINESS_ROLES)
@url_objects(pk=ReadinessMember)
def readiness_member_remove(request: StaffRequest, pk: int) -> HttpResponse:
    member = get_object_or_404(ReadinessMember.objects.visible_to(request.user), pk=pk)
    try:
        services.readiness_member_remove(member=member, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Member removed."))
    return redirect("supervision:readiness-detail", pk=member.readiness_id)
