"""Writes of 落实到人头 (S3): naming office heads and responsible accounts, and the daily escalation of overdue
work one step up the responsible person's chain for every ``ORGANISATION_ESCALATION_STEP_DAYS`` days late."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from census.models import Role, StaffMember, StaffStatus
from supervision.organisation.models import (
    Escalation,
    EscalationKind,
    OfficeHead,
    ReadinessItem,
    RectificationTask,
    UnitKind,
)
from supervision.organisation.selectors.responsibility import named_chain, office_heads
from supervision.organisation.services.common import audit_change
from supervision.organisation.services.common import today as _today


def _require_district_office(actor: StaffMember, district_id: str) -> None:
    if not (actor.is_superuser or (actor.role == Role.DISTRICT_OFFICE and actor.district_id == district_id)):
        raise ValidationError(_("Only the district census office names the heads of the offices."))


@transaction.atomic
def office_head_set(
    *, district_id: str, township_id: str | None, person: StaffMember | None, actor: StaffMember
) -> OfficeHead | None:
    """Name the head of a township's census office (a township-office account of that township), or of the
    district's (``township_id`` None; a district-office account). ``person`` None removes the head."""
    _require_district_office(actor, district_id)
    current = OfficeHead.objects.select_for_update().filter(district_id=district_id, township_id=township_id)
    if person is None:
        current.delete()
        audit_change(actor=actor, object_type="office_head", object_id=township_id or district_id, person=None)
        return None
    wanted = Role.TOWNSHIP_OFFICE if township_id else Role.DISTRICT_OFFICE
    if (
        person.role != wanted
        or person.status != StaffStatus.ACTIVE
        or person.district_id != district_id
        or (township_id and person.township_id != township_id)
    ):
        raise ValidationError({"person": _("Choose an active account of that census office.")})
    head, _created = OfficeHead.objects.update_or_create(
        district_id=district_id, township_id=township_id, defaults={"person": person}
    )
    audit_change(actor=actor, object_type="office_head", object_id=township_id or district_id, person=person.pk)
    return head


def readiness_item_candidates(item: ReadinessItem) -> list[StaffMember]:
    """The accounts that may answer for a readiness item: the unit's township office, or its department."""
    unit = item.readiness
    people = StaffMember.objects.filter(status=StaffStatus.ACTIVE)
    if unit.unit_kind == UnitKind.DEPARTMENT:
        people = people.filter(role=Role.DEPARTMENT, department_id=unit.department_id)
    else:
        people = people.filter(role=Role.TOWNSHIP_OFFICE, township_id=unit.township_id)
    return list(people.order_by("last_name", "first_name", "username"))


@transaction.atomic
def readiness_item_responsible_set(*, item: ReadinessItem, person: StaffMember, actor: StaffMember) -> ReadinessItem:
    item = ReadinessItem.objects.select_for_update().select_related("readiness").get(pk=item.pk)
    if person.pk not in {p.pk for p in readiness_item_candidates(item)}:
        raise ValidationError({"responsible": _("Choose an active account of the unit's own office.")})
    before = item.responsible_id
    item.responsible = person
    item.save(update_fields=["responsible", "updated_at"])
    audit_change(
        actor=actor, object_type="readiness_item", object_id=item.pk, responsible_before=before, responsible=person.pk
    )
    return item


@transaction.atomic
def rectification_task_responsible_set(
    *, task: RectificationTask, person: StaffMember, actor: StaffMember
) -> RectificationTask:
    task = RectificationTask.objects.select_for_update().get(pk=task.pk)
    if not (person.role == Role.DEPARTMENT and person.department_id == task.department_id):
        raise ValidationError({"responsible": _("Choose an account of the task's department.")})
    before = task.responsible_id
    task.responsible = person
    task.save(update_fields=["responsible"])
    audit_change(
        actor=actor,
        object_type="rectification_task",
        object_id=task.pk,
        responsible_before=before,
        responsible=person.pk,
    )
    return task


@dataclass(frozen=True)
class OverdueWork:
    kind: str
    object_id: int
    person: StaffMember
    due_on: datetime.date
    district_id: str
    township_id: str | None = None
    department_id: int | None = None


def _overdue_work(today: datetime.date) -> list[OverdueWork]:
    """Everything overdue that names a responsible account: readiness items, rectification tasks, departments'
    census tasks and open quality findings (due ``QUALITY["OVERDUE_DAYS"]`` after they were found)."""
    work = [
        OverdueWork(
            EscalationKind.READINESS_ITEM,
            item.pk,
            item.responsible,  # type: ignore[arg-type]
            item.due_on,  # type: ignore[attr-defined]
            item.readiness.district_id,
            item.readiness.township_id,
            item.readiness.department_id,
        )
        for item in ReadinessItem.objects.overdue(today)
        .filter(responsible__isnull=False)
        .select_related("responsible", "readiness")
    ]
    work += [
        OverdueWork(
            EscalationKind.RECTIFICATION_TASK,
            task.pk,
            task.responsible,  # type: ignore[arg-type]
            task.deadline,
            task.item.district_id,
            None,
            task.department_id,
        )
        for task in RectificationTask.objects.overdue(today)
        .filter(responsible__isnull=False)
        .select_related("responsible", "item")
    ]
    from supervision.organisation.models import DepartmentTask

    work += [
        OverdueWork(
            EscalationKind.DEPARTMENT_TASK,
            task.pk,
            task.responsible,  # type: ignore[arg-type]
            task.deadline,
            task.district_id,
            None,
            task.department_id,
        )
        for task in DepartmentTask.objects.overdue(today)
        .filter(responsible__isnull=False)
        .select_related("responsible")
    ]
    from supervision.quality.models import Finding, FindingState

    days = int(getattr(settings, "QUALITY", {}).get("OVERDUE_DAYS", 7))
    cutoff = today - datetime.timedelta(days=days)
    for finding in Finding.objects.filter(
        state=FindingState.OPEN, responsible__isnull=False, first_seen_at__date__lt=cutoff
    ).select_related("responsible", "township"):
        work.append(
            OverdueWork(
                EscalationKind.FINDING,
                finding.pk,
                finding.responsible,  # type: ignore[arg-type]
                finding.first_seen_at.date() + datetime.timedelta(days=days),
                finding.township.district_id,
                finding.township_id,
            )
        )
    return work


def escalation_level(days_overdue: int, chain_length: int) -> int:
    """The step of the chain overdue work has reached: the first step above the person on the first day
    overdue, one more for every ``ORGANISATION_ESCALATION_STEP_DAYS`` days after, never past the top."""
    step = int(settings.ORGANISATION_ESCALATION_STEP_DAYS)
    return min(1 + (days_overdue - 1) // step, chain_length - 1) if days_overdue > 0 else 0


def work_escalate_overdue(*, today: datetime.date | None = None) -> int:
    """Escalate every overdue work item along its responsible person's named chain, adding the steps newly
    reached (idempotent: one row per item and step). Returns the number of new escalations."""
    day = today or _today()
    heads_by_district: dict[str, dict[str | None, StaffMember]] = {}
    new: list[Escalation] = []
    for work in _overdue_work(day):
        heads = heads_by_district.setdefault(work.district_id, office_heads(work.district_id))
        chain = named_chain(work.person, heads=heads)
        level = escalation_level((day - work.due_on).days, len(chain))
        new += [
            Escalation(
                district_id=work.district_id,
                township_id=work.township_id,
                department_id=work.department_id,
                kind=work.kind,
                object_id=work.object_id,
                level=step,
                person=chain[step],
                due_on=work.due_on,
            )
            for step in range(1, level + 1)
        ]
    with transaction.atomic():
        before = Escalation.objects.count()
        Escalation.objects.bulk_create(new, ignore_conflicts=True, batch_size=2000)
        return Escalation.objects.count() - before
