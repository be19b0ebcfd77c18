"""督察整改: feedback items, their tasks, answers with evidence, closing, and routine re-checks."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from census.models import Department, Role, StaffMember
from supervision.organisation.models import (
    EvidenceFile,
    ItemStatus,
    RectificationItem,
    RectificationRecheck,
    RectificationTask,
    TaskStatus,
)
from supervision.organisation.services.common import audit_change, department_check, evidence_store, not_in_future


@transaction.atomic
def rectification_item_create(
    *,
    district_id: str,
    number: str,
    title: str,
    feedback: str,
    received_on: datetime.date,
    source: str = "",
    lead_department: Department | None = None,
    actor: StaffMember,
) -> RectificationItem:
    if lead_department is not None and lead_department.district_id != district_id:
        raise ValidationError({"lead_department": _("The department belongs to another district.")})
    item = RectificationItem(
        district_id=district_id,
        number=number.strip(),
        title=title.strip(),
        feedback=feedback.strip(),
        source=source.strip(),
        lead_department=lead_department,
        received_on=received_on,
        created_by=actor,
    )
    item.full_clean()
    item.save()
    audit_change(
        actor=actor, object_type="rectification_item", object_id=item.pk, created=item.number, title=item.title
    )
    return item


@transaction.atomic
def rectification_task_create(
    *,
    item: RectificationItem,
    measure: str,
    department: Department,
    responsible_person: str,
    deadline: datetime.date,
    evidence_required: str,
    responsible_post: str = "",
    actor: StaffMember,
) -> RectificationTask:
    if item.status != ItemStatus.OPEN:
        raise ValidationError(_("The item is closed; reopen it through a re-check before adding tasks."))
    if department.district_id != item.district_id:
        raise ValidationError({"department": _("The department belongs to another district.")})
    task = RectificationTask(
        item=item,
        measure=measure.strip(),
        department=department,
        responsible_person=responsible_person.strip(),
        responsible_post=responsible_post.strip(),
        deadline=deadline,
        evidence_required=evidence_required.strip(),
    )
    task.full_clean()
    task.save()
    audit_change(
        actor=actor,
        object_type="rectification_task",
        object_id=task.pk,
        item=item.number,
        department=department.code,
        responsible=task.responsible_person,
        deadline=deadline,
    )
    return task


def _task_evidence(task: RectificationTask, upload: UploadedFile, actor: StaffMember) -> EvidenceFile:
    evidence = evidence_store(
        upload=upload,
        actor=actor,
        district_id=task.item.district_id,
        department_id=task.department_id,
        description=f"{task.item.number} · {task.department.name}",
    )
    task.evidence.add(evidence)
    return evidence


@transaction.atomic
def rectification_task_add_evidence(
    *, task: RectificationTask, upload: UploadedFile, actor: StaffMember
) -> EvidenceFile:
    department_check(actor=actor, department=task.department)
    evidence = _task_evidence(task, upload, actor)
    audit_change(actor=actor, object_type="rectification_task", object_id=task.pk, evidence_added=evidence.pk)
    return evidence


@transaction.atomic
def rectification_task_answer(
    *,
    task: RectificationTask,
    answer: str,
    answered_on: datetime.date,
    upload: UploadedFile | None = None,
    actor: StaffMember,
) -> RectificationTask:
    """事事有回音: the department answers its task; an answer without evidence is not an answer."""
    task = RectificationTask.objects.select_for_update().select_related("item", "department").get(pk=task.pk)
    department_check(actor=actor, department=task.department)
    if task.item.status != ItemStatus.OPEN:
        raise ValidationError(_("The item is closed; its tasks can no longer be changed."))
    errors: dict[str, str] = {}
    if not answer.strip():
        errors["answer"] = _("Write what was done.")
    not_in_future(answered_on, field="answered_on")
    if upload is None and not task.evidence.exists():
        errors["upload"] = _("Upload the evidence: %(required)s") % {"required": task.evidence_required}
    if errors:
        raise ValidationError(errors)
    task.status = TaskStatus.ANSWERED
    task.answer = answer.strip()
    task.answered_on = answered_on
    task.answered_by = actor
    task.returned_reason = ""
    task.full_clean()
    if upload is not None:
        _task_evidence(task, upload, actor)
    task.save()
    audit_change(
        actor=actor,
        object_type="rectification_task",
        object_id=task.pk,
        answered=task.answer[:500],
        answered_on=answered_on,
        evidence=list(task.evidence.values_list("pk", flat=True)),
    )
    return task


@transaction.atomic
def rectification_task_return(*, task: RectificationTask, reason: str, actor: StaffMember) -> RectificationTask:
    """The district office sends an answer back: it does not answer the feedback, or its evidence falls short."""
    task = RectificationTask.objects.select_for_update().select_related("item").get(pk=task.pk)
    if actor.role != Role.DISTRICT_OFFICE and not actor.is_superuser:
        raise ValidationError(_("Only the district census office returns answers."))
    if task.item.status != ItemStatus.OPEN or task.status != TaskStatus.ANSWERED:
        raise ValidationError(_("Only an answered task of an open item can be returned."))
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the answer is returned.")})
    task.status = TaskStatus.OPEN
    task.answered_on = None
    task.returned_reason = reason.strip()[:300]
    task.full_clean()
    task.save()
    audit_change(actor=actor, object_type="rectification_task", object_id=task.pk, returned=task.returned_reason)
    return task


@transaction.atomic
def rectification_item_close(
    *, item: RectificationItem, closed_on: datetime.date, recheck_on: datetime.date, actor: StaffMember
) -> RectificationItem:
    """件件有着落、事事有回音: an item closes only when it has tasks and every one is answered with evidence.
    当下改 + 长久立: it keeps a date on which it will be checked again."""
    item = RectificationItem.objects.select_for_update().get(pk=item.pk)
    if item.status != ItemStatus.OPEN:
        raise ValidationError(_("The item is already closed."))
    tasks = list(item.tasks.with_evidence_count().select_related("department"))
    if not tasks:
        raise ValidationError(_("The item has no rectification tasks yet; nothing has been answered."))
    missing = [
        task
        for task in tasks
        if task.status != TaskStatus.ANSWERED or task.evidence_count == 0  # type: ignore[attr-defined]
    ]
    if missing:
        raise ValidationError(
            _("The item cannot close: %(n)d task(s) have no answer with evidence yet — %(who)s.")
            % {
                "n": len(missing),
                "who": "; ".join(f"{task.department.name} ({task.responsible_person})" for task in missing),
            }
        )
    not_in_future(closed_on, field="closed_on")
    if recheck_on <= closed_on:
        raise ValidationError({"recheck_on": _("The re-check must come after the closing date.")})
    item.status = ItemStatus.CLOSED
    item.closed_on = closed_on
    item.closed_by = actor
    item.recheck_on = recheck_on
    item.full_clean()
    item.save()
    audit_change(
        actor=actor, object_type="rectification_item", object_id=item.pk, closed_on=closed_on, recheck_on=recheck_on
    )
    return item


@transaction.atomic
def rectification_recheck_record(
    *,
    item: RectificationItem,
    checked_on: datetime.date,
    held: bool,
    note: str,
    next_recheck_on: datetime.date | None,
    actor: StaffMember,
) -> RectificationRecheck:
    """A routine re-check of a closed item. If the rectification held, the item gets its next date; if the
    problem has come back, the item reopens for new tasks."""
    item = RectificationItem.objects.select_for_update().get(pk=item.pk)
    if item.status != ItemStatus.CLOSED:
        raise ValidationError(_("Only a closed item is re-checked."))
    not_in_future(checked_on, field="checked_on")
    if held and (next_recheck_on is None or next_recheck_on <= checked_on):
        raise ValidationError({"next_recheck_on": _("Give the date of the next re-check, after this one.")})
    recheck = RectificationRecheck(
        item=item,
        checked_on=checked_on,
        held=held,
        note=note.strip(),
        next_recheck_on=next_recheck_on if held else None,
        checked_by=actor,
    )
    recheck.full_clean()
    recheck.save()
    if held:
        item.recheck_on = next_recheck_on
    else:
        item.status = ItemStatus.OPEN
        item.closed_on = None
        item.closed_by = None
        item.recheck_on = None
    item.full_clean()
    item.save()
    audit_change(
        actor=actor,
        object_type="rectification_item",
        object_id=item.pk,
        recheck=recheck.pk,
        held=held,
        next_recheck_on=item.recheck_on,
        reopened=not held,
    )
    return recheck
