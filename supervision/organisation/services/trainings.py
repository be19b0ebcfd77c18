"""Training, study sessions and self-inspections of the departments."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from census.models import Department, StaffMember
from supervision.organisation.models import SelfInspection, StudySession, Training
from supervision.organisation.services.common import (
    audit_change,
    department_check,
    evidence_optional,
    not_in_future,
)


def _evidence(upload: UploadedFile | None, department: Department, actor: StaffMember, description: str):  # type: ignore[no-untyped-def]
    return evidence_optional(
        upload=upload,
        actor=actor,
        district_id=department.district_id,
        department_id=department.pk,
        description=description,
    )


@transaction.atomic
def training_record(
    *,
    department: Department,
    held_on: datetime.date,
    subject: str,
    topic: str,
    trainees: int,
    trainer: str = "",
    audience: str = "",
    upload: UploadedFile | None = None,
    actor: StaffMember,
) -> Training:
    department_check(actor=actor, department=department)
    not_in_future(held_on, field="held_on")
    training = Training(
        department=department,
        held_on=held_on,
        subject=subject,
        topic=topic.strip(),
        trainer=trainer.strip(),
        trainees=trainees,
        audience=audience.strip(),
        recorded_by=actor,
    )
    training.full_clean(exclude=["evidence"])
    training.evidence = _evidence(upload, department, actor, f"{department.name} {held_on} {topic}"[:200])
    training.save()
    audit_change(
        actor=actor,
        object_type="training",
        object_id=training.pk,
        department=department.code,
        held_on=held_on,
        subject=subject,
        topic=training.topic,
        trainees=trainees,
    )
    return training


@transaction.atomic
def study_session_record(
    *,
    department: Department,
    held_on: datetime.date,
    form: str,
    topic: str,
    attendance: int,
    expected: int,
    chaired_by: str = "",
    upload: UploadedFile | None = None,
    actor: StaffMember,
) -> StudySession:
    department_check(actor=actor, department=department)
    not_in_future(held_on, field="held_on")
    if attendance > expected:
        raise ValidationError({"attendance": _("More people attended than were expected; check both numbers.")})
    session = StudySession(
        department=department,
        held_on=held_on,
        form=form,
        topic=topic.strip(),
        chaired_by=chaired_by.strip(),
        attendance=attendance,
        expected=expected,
        recorded_by=actor,
    )
    session.full_clean(exclude=["evidence"])
    session.evidence = _evidence(upload, department, actor, f"{department.name} {held_on} {topic}"[:200])
    session.save()
    audit_change(
        actor=actor,
        object_type="study_session",
        object_id=session.pk,
        department=department.code,
        held_on=held_on,
        form=form,
        topic=session.topic,
        attendance=attendance,
        expected=expected,
    )
    return session


@transaction.atomic
def self_inspection_record(
    *,
    department: Department,
    carried_out_on: datetime.date,
    documents_reviewed: int,
    problems_found: int,
    problems_corrected: int,
    findings: str,
    upload: UploadedFile | None = None,
    actor: StaffMember,
) -> SelfInspection:
    """自查自纠 (R3): how many documents were reviewed, how many problems found, how many corrected."""
    department_check(actor=actor, department=department)
    not_in_future(carried_out_on, field="carried_out_on")
    errors: dict[str, str] = {}
    if problems_corrected > problems_found:
        errors["problems_corrected"] = _("More problems corrected than found; check both numbers.")
    if documents_reviewed and problems_found > documents_reviewed:
        errors["problems_found"] = _("More problems than documents reviewed; count problems per document.")
    if not findings.strip():
        errors["findings"] = _("Describe what was found and corrected.")
    if errors:
        raise ValidationError(errors)
    inspection = SelfInspection(
        department=department,
        carried_out_on=carried_out_on,
        documents_reviewed=documents_reviewed,
        problems_found=problems_found,
        problems_corrected=problems_corrected,
        findings=findings.strip(),
        recorded_by=actor,
    )
    inspection.full_clean(exclude=["evidence"])
    inspection.evidence = _evidence(upload, department, actor, f"{department.name} {carried_out_on} 自查自纠")
    inspection.save()
    audit_change(
        actor=actor,
        object_type="self_inspection",
        object_id=inspection.pk,
        department=department.code,
        documents_reviewed=documents_reviewed,
        problems_found=problems_found,
        problems_corrected=problems_corrected,
    )
    return inspection
