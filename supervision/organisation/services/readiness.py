"""四落实 readiness: the checklists, their four items and the members of each unit's organisation."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from census.models import Department, StaffMember, Township, Village
from supervision.organisation.models import (
    EvidenceFile,
    MemberBody,
    ReadinessComponent,
    ReadinessDeadline,
    ReadinessItem,
    ReadinessMember,
    ReadinessStatus,
    UnitKind,
    UnitReadiness,
    default_item_deadline,
)
from supervision.organisation.services.common import audit_change, evidence_store, not_in_future


@transaction.atomic
def readiness_ensure_units(*, district_id: str, actor: StaffMember | None) -> int:
    """Give every township, village and department of the district its checklist (idempotent)."""
    existing = UnitReadiness.objects.filter(district_id=district_id)
    have_townships = set(existing.filter(unit_kind=UnitKind.TOWNSHIP).values_list("township_id", flat=True))
    have_villages = set(existing.filter(unit_kind=UnitKind.VILLAGE).values_list("village_id", flat=True))
    have_departments = set(existing.filter(unit_kind=UnitKind.DEPARTMENT).values_list("department_id", flat=True))
    new = [
        UnitReadiness(district_id=district_id, unit_kind=UnitKind.TOWNSHIP, township=township)
        for township in Township.objects.filter(district_id=district_id).exclude(code__in=have_townships)
    ]
    new += [
        UnitReadiness(
            district_id=district_id, unit_kind=UnitKind.VILLAGE, township_id=village.township_id, village=village
        )
        for village in Village.objects.filter(township__district_id=district_id).exclude(code__in=have_villages)
    ]
    new += [
        UnitReadiness(district_id=district_id, unit_kind=UnitKind.DEPARTMENT, department=department)
        for department in Department.objects.filter(district_id=district_id).exclude(pk__in=have_departments)
    ]
    created = UnitReadiness.objects.bulk_create(new)
    ReadinessItem.objects.bulk_create(
        [ReadinessItem(readiness=unit, component=component) for unit in created for component in ReadinessComponent]
    )
    if created:
        audit_change(actor=actor, object_type="readiness", object_id=district_id, created_checklists=len(created))
    return len(created)


def _refresh_ready_on(readiness: UnitReadiness) -> None:
    items = list(readiness.items.all())
    done = [item for item in items if item.status == ReadinessStatus.DONE]
    ready_on = (
        max(item.completed_on for item in done if item.completed_on)
        if len(done) == len(ReadinessComponent) and len(items) == len(ReadinessComponent)
        else None
    )
    if readiness.ready_on != ready_on:
        readiness.ready_on = ready_on
        readiness.save(update_fields=["ready_on", "updated_at"])


@transaction.atomic
def readiness_item_update(
    *,
    item: ReadinessItem,
    status: str,
    completed_on: datetime.date | None,
    note: str = "",
    upload: UploadedFile | None = None,
    actor: StaffMember,
) -> ReadinessItem:
    """Record the state of one of the four. Done needs the date it was done and a document that shows it;
    the organisation is done only when both the leading group and the office have members."""
    item = ReadinessItem.objects.select_for_update().select_related("readiness").get(pk=item.pk)
    readiness = item.readiness
    before = {"status": item.status, "completed_on": item.completed_on, "evidence": item.evidence_id}
    if status not in ReadinessStatus.values:
        raise ValidationError({"status": _("Choose a status.")})
    if status == ReadinessStatus.DONE:
        if completed_on is None:
            raise ValidationError({"completed_on": _("Give the date it was done.")})
        not_in_future(completed_on, field="completed_on")
        if upload is None and item.evidence_id is None:
            raise ValidationError({"upload": _("Upload the document that shows it is done.")})
        if item.component == ReadinessComponent.ORGANISATION:
            bodies = set(readiness.members.values_list("body", flat=True))
            if not {MemberBody.LEADING_GROUP, MemberBody.OFFICE} <= bodies:
                raise ValidationError(
                    _(
                        "Enter the members of both the leading group and the office before marking the "
                        "organisation done."
                    )
                )
    else:
        completed_on = None
    item.status = status
    item.completed_on = completed_on
    item.note = note.strip()[:300]
    item.updated_by = actor
    item.full_clean(exclude=["evidence"])
    if upload is not None:
        evidence: EvidenceFile = evidence_store(
            upload=upload,
            actor=actor,
            description=f"{readiness.unit_name} · {item.get_component_display()}",
            district_id=readiness.district_id,
            township_id=readiness.township_id,
            department_id=readiness.department_id,
        )
        item.evidence = evidence
    item.save()
    _refresh_ready_on(readiness)
    audit_change(
        actor=actor,
        object_type="readiness_item",
        object_id=item.pk,
        unit=readiness.unit_name,
        component=item.component,
        before=before,
        after={"status": item.status, "completed_on": item.completed_on, "evidence": item.evidence_id},
    )
    return item


@transaction.atomic
def readiness_member_add(
    *,
    readiness: UnitReadiness,
    body: str,
    name: str,
    post: str,
    job_title: str = "",
    phone: str = "",
    actor: StaffMember,
) -> ReadinessMember:
    member = ReadinessMember(
        readiness=readiness,
        body=body,
        name=name.strip(),
        post=post.strip(),
        job_title=job_title.strip(),
        phone=phone.strip(),
    )
    member.full_clean()
    member.save()
    audit_change(
        actor=actor,
        object_type="readiness_member",
        object_id=member.pk,
        unit=readiness.unit_name,
        added=member.name,
        body=body,
        post=member.post,
    )
    return member


@transaction.atomic
def readiness_member_remove(*, member: ReadinessMember, actor: StaffMember) -> None:
    readiness = member.readiness
    organisation = readiness.items.filter(component=ReadinessComponent.ORGANISATION).first()
    remaining = readiness.members.filter(body=member.body).exclude(pk=member.pk).exists()
    if organisation is not None and organisation.status == ReadinessStatus.DONE and not remaining:
        raise ValidationError(
            _("The organisation is marked done; its %(body)s cannot be left without members.")
            % {"body": member.get_body_display()}
        )
    audit_change(
        actor=actor,
        object_type="readiness_member",
        object_id=member.pk,
        unit=readiness.unit_name,
        removed=member.name,
        body=member.body,
        post=member.post,
    )
    member.delete()


@transaction.atomic
def readiness_deadline_set(
    *, district_id: str, unit_kind: str, component: str, due_on: datetime.date, actor: StaffMember
) -> ReadinessDeadline | None:
    """Set the district's deadline for one of the four of a kind of unit. The default of settings is not
    stored: setting a deadline back to it removes the district's own row, so a later change of the default
    (an environment variable) reaches every district that never chose otherwise."""
    if unit_kind not in UnitKind.values or component not in ReadinessComponent.values:
        raise ValidationError(_("Unknown kind of unit or item."))
    current = ReadinessDeadline.objects.select_for_update().filter(
        district_id=district_id, unit_kind=unit_kind, component=component
    )
    row = current.first()
    before = row.due_on if row else default_item_deadline(unit_kind, component)
    if before == due_on:
        return row
    if due_on == default_item_deadline(unit_kind, component):
        current.delete()
        row = None
    else:
        row, _created = ReadinessDeadline.objects.update_or_create(
            district_id=district_id,
            unit_kind=unit_kind,
            component=component,
            defaults={"due_on": due_on, "updated_by": actor},
        )
    audit_change(
        actor=actor,
        object_type="readiness_deadline",
        object_id=f"{district_id}:{unit_kind}:{component}",
        before=before,
        after=due_on,
    )
    return row
