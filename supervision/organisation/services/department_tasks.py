"""Writes of the departments' census tasks (S18): the district assigns, the department answers with evidence,
the district accepts the answer as delivered or returns it."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from census.models import Department, Role, StaffMember
from supervision.organisation.models import DepartmentTask, DepartmentTaskKind, DepartmentTaskStatus
from supervision.organisation.services.common import audit_change, department_check, evidence_store, not_in_future


def _require_district(actor: StaffMember) -> None:
    if not (actor.is_superuser or actor.role == Role.DISTRICT_OFFICE):
        raise ValidationError(_("Only the district census office assigns and reviews departments' tasks."))


@transaction.atomic
def department_task_create(
    *,
    department: Department,
    kind: str,
    title: str,
    deliverable: str,
    deadline: datetime.date,
    responsible: StaffMember | None = None,
    actor: StaffMember,
) -> DepartmentTask:
    _require_district(actor)
    if not actor.is_superuser and department.district_id != actor.district_id:
        raise ValidationError({"department": _("The department belongs to another district.")})
    if kind not in DepartmentTaskKind.values:
        raise ValidationError({"kind": _("Choose the kind of task.")})
    if responsible is not None and not (
        responsible.role == Role.DEPARTMENT and responsible.department_id == department.pk
    ):
        raise ValidationError({"responsible": _("Choose an account of the task's department.")})
    task = DepartmentTask(
        district_id=department.district_id,
        department=department,
        kind=kind,
        title=title.strip(),
        deliverable=deliverable.strip(),
        deadline=deadline,
        responsible=responsible,
        created_by=actor,
    )
    task.full_clean()
    task.save()
    audit_change(
        actor=actor,
        object_type="department_task",
        object_id=task.pk,
        department=department.code,
        title=task.title,
        deadline=deadline,
    )
    return task


@transaction.atomic
def department_task_answer(
    *,
    task: DepartmentTask,
    answer: str,
    answered_on: datetime.date,
    upload: UploadedFile | None = None,
    actor: StaffMember,
) -> DepartmentTask:
    """The department says what it delivered, with the document that shows it (no evidence, no answer)."""
    task = DepartmentTask.objects.select_for_update().select_related("department").get(pk=task.pk)
    if actor.role != Role.DEPARTMENT and not actor.is_superuser:
        raise ValidationError(_("Only the department answers its own tasks."))
    department_check(actor=actor, department=task.department)
    if task.status == DepartmentTaskStatus.DELIVERED:
        raise ValidationError(_("The task is already accepted as delivered."))
    errors: dict[str, str] = {}
    if not answer.strip():
        errors["answer"] = _("Write what was delivered.")
    if upload is None and not task.evidence.exists():
        errors["upload"] = _("Upload the evidence: %(required)s") % {"required": task.deliverable}
    if errors:
        raise ValidationError(errors)
    not_in_future(answered_on, field="answered_on")
    task.status = DepartmentTaskStatus.ANSWERED
    task.answer = answer.strip()
    task.answered_on = answered_on
    task.answered_by = actor
    task.returned_reason = ""
    task.full_clean()
    task.save()
    if upload is not None:
        evidence = evidence_store(
            upload=upload,
            actor=actor,
            district_id=task.district_id,
            department_id=task.department_id,
            description=f"{task.department.name} · {task.title}"[:200],
        )
        task.evidence.add(evidence)
    audit_change(
        actor=actor,
        object_type="department_task",
        object_id=task.pk,
        answered=task.answer[:500],
        answered_on=answered_on,
        evidence=list(task.evidence.values_list("pk", flat=True)),
    )
    return task


@transaction.atomic
def department_task_review(
    *, task: DepartmentTask, accept: bool, reason: str = "", on: datetime.date, actor: StaffMember
) -> DepartmentTask:
    """The district accepts an answer as delivered, or returns it with the reason (the task opens again)."""
    _require_district(actor)
    task = DepartmentTask.objects.select_for_update().get(pk=task.pk)
    if not actor.is_superuser and task.district_id != actor.district_id:
        raise ValidationError(_("The department belongs to another district."))
    if task.status != DepartmentTaskStatus.ANSWERED:
        raise ValidationError(_("Only an answered task can be reviewed."))
    if accept:
        task.status = DepartmentTaskStatus.DELIVERED
        task.delivered_on = on
    else:
        if not reason.strip():
            raise ValidationError({"reason": _("Say why the answer is returned.")})
        task.status = DepartmentTaskStatus.OPEN
        task.answered_on = None
        task.returned_reason = reason.strip()[:300]
    task.full_clean()
    task.save()
    audit_change(
        actor=actor,
        object_type="department_task",
        object_id=task.pk,
        delivered=accept,
        returned=task.returned_reason if not accept else "",
    )
    return task
