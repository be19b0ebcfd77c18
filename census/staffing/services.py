"""Writes about people: accounts, their status, departments and assignments — every one in the audit log.

Who manages whom: a township office the 两员 (enumerators and supervisors) of its own township; the district
office every account of its district (offices, departments, auditors included); ``actor=None`` is the system
itself (the synthetic district, a management command). Pages refuse what a role may not do before calling a
service, and the services refuse it again, so that the API and any future caller get the same answer.

Bulk paths (``staff_bulk_create``, ``small_areas_assign_bulk``, ``supervisors_assign_bulk``) write many rows in a
few statements with the same checks done in Python: the spreadsheet import and the synthetic district (a million
persons: some 5,900 staff) go through them.
"""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict, Unpack

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX, make_password
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext as _
from rest_framework import status as http_status
from rest_framework.authtoken.models import Token

from census.api import ApplicationError
from census.identity import id_number_clean, phone_clean
from census.models import (
    FIELD_ROLES,
    AuditAction,
    AuditEvent,
    City,
    Department,
    Role,
    SmallArea,
    SmallAreaAssignment,
    StaffMember,
    StaffStatus,
    SupervisorAssignment,
)
from census.privacy import mask_id_number
from census.services import audit_event, audit_record
from census.staffing.signals import small_area_handed_over

TOWNSHIP_MANAGED_ROLES: tuple[str, ...] = (Role.ENUMERATOR, Role.SUPERVISOR)


class StaffPermissionError(ApplicationError):
    """The actor's role may not manage this account (a page has already refused; an API caller gets 403)."""

    status_code = http_status.HTTP_403_FORBIDDEN


# --- who manages whom ---------------------------------------------------------------------------------------


def roles_managed_by(actor: StaffMember | None) -> tuple[str, ...]:
    """The roles of the accounts ``actor`` creates, changes and deactivates."""
    if actor is None or actor.is_superuser or actor.role == Role.DISTRICT_OFFICE:
        # A city office stands above the districts and has no district: its accounts are made with
        # ``city_office_create`` (the command city_office_create), not on a district's staff pages.
        return tuple(role for role in Role.values if role != Role.CITY_OFFICE)
    if actor.role == Role.TOWNSHIP_OFFICE:
        return TOWNSHIP_MANAGED_ROLES
    return ()


def may_manage(actor: StaffMember | None, *, role: str, township_id: str | None, district_id: str | None) -> bool:
    if actor is None or actor.is_superuser:
        return True
    if not actor.is_active or role not in roles_managed_by(actor) or district_id != actor.district_id:
        return False
    return actor.role != Role.TOWNSHIP_OFFICE or (township_id is not None and township_id == actor.township_id)


def staff_may_manage(actor: StaffMember | None, member: StaffMember) -> bool:
    """May ``actor`` change ``member``'s particulars, status, password and assignments?"""
    return may_manage(actor, role=member.role, township_id=member.township_id, district_id=member.district_id)


def _require_manage(actor: StaffMember | None, *, role: str, township_id: str | None, district_id: str | None) -> None:
    if not may_manage(actor, role=role, township_id=township_id, district_id=district_id):
        if actor is not None and actor.role == Role.TOWNSHIP_OFFICE and role in TOWNSHIP_MANAGED_ROLES:
            message = _("A township office manages the enumerators and supervisors of its own township only.")
        else:
            message = _("Your role may not manage this account.")
        raise StaffPermissionError(message, code="not_managed")


# --- accounts ----------------------------------------------------------------------------------------------


@dataclass
class StaffSpec:
    """The particulars of one new account."""

    username: str
    role: str
    district_id: str
    full_name: str = ""
    township_id: str | None = None
    department_id: int | None = None
    phone: str = ""
    id_number: str = ""
    unit: str = ""
    selected_on: datetime.date | None = None
    trained_on: datetime.date | None = None
    exam_score: int | None = None
    credential_no: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def split_name(full_name: str) -> tuple[str, str]:
    """(family name, given name): Chinese names are written family name first; compound family names (欧阳,
    司马 …) are rare enough among the staff that the first character is taken as the family name."""
    full_name = "".join(full_name.split())
    return full_name[:1], full_name[1:]


def new_credential_key() -> str:
    return secrets.token_urlsafe(16)


def credential_number(member: StaffMember) -> str:
    """The number the system gives a field worker's credential when the office gives none: the township's code
    and the account's serial, so that it is unique and says where the person works."""
    return f"{member.township_id or member.district_id}-{member.pk:06d}"


def _next_staff_ids(count: int) -> list[int]:
    """Ids for new accounts, taken from the table's own sequence (so that a credential number can be derived
    before the rows are written, in one INSERT for all of them)."""
    if count <= 0:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [StaffMember._meta.db_table, count],
        )
        return [row[0] for row in cursor.fetchall()]


def _member_from(spec: StaffSpec) -> StaffMember:
    last, first = split_name(spec.full_name)
    return StaffMember(
        username=spec.username.strip(),
        role=spec.role,
        district_id=spec.district_id,
        township_id=spec.township_id or None,
        department_id=spec.department_id,
        last_name=last,
        first_name=first,
        phone=phone_clean(spec.phone),
        id_number=id_number_clean(spec.id_number) if spec.id_number else "",
        unit=spec.unit.strip(),
        selected_on=spec.selected_on,
        trained_on=spec.trained_on,
        exam_score=spec.exam_score,
        credential_no=spec.credential_no.strip(),
        status=StaffStatus.ACTIVE,
        is_active=True,
    )


def _created_event(actor: StaffMember | None, member: StaffMember, **extra: Any) -> AuditEvent:
    return audit_event(
        actor=actor,
        action=AuditAction.PERMISSION_CHANGE,
        object_type="staff",
        object_id=member.pk,
        detail={
            "change": "created",
            "username": member.username,
            "role": member.role,
            "township": member.township_id,
            "department": member.department_id,
            **extra,
        },
    )


def _set_password(member: StaffMember, *, password: str | None, password_hash: str | None) -> None:
    if password_hash is not None:
        member.password = password_hash
    elif password is not None:
        member.password = make_password(password)
    else:
        # Nobody knows a password yet: the office hands over a one-time password (the credential sheet, or a
        # reset), and the person chooses their own at the first login. What Django's set_unusable_password writes
        # (its prefix and a random tail), drawn in one call rather than forty: an import makes thousands.
        member.password = UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(30)
        member.must_change_password = True


@transaction.atomic
def staff_create(
    *,
    username: str,
    role: str,
    district_id: str,
    full_name: str = "",
    township_id: str | None = None,
    department_id: int | None = None,
    phone: str = "",
    id_number: str = "",
    unit: str = "",
    selected_on: datetime.date | None = None,
    trained_on: datetime.date | None = None,
    exam_score: int | None = None,
    credential_no: str = "",
    password: str | None = None,
    password_hash: str | None = None,
    actor: StaffMember | None = None,
) -> StaffMember:
    """Create one personal account. Without ``password``/``password_hash`` it has no usable password until the
    office issues a one-time password, and its owner must choose a new one at the first login."""
    _require_manage(actor, role=role, township_id=township_id, district_id=district_id)
    spec = StaffSpec(
        username=username,
        role=role,
        district_id=district_id,
        full_name=full_name,
        township_id=township_id,
        department_id=department_id,
        phone=phone,
        id_number=id_number,
        unit=unit,
        selected_on=selected_on,
        trained_on=trained_on,
        exam_score=exam_score,
        credential_no=credential_no,
    )
    member = _member_from(spec)
    _set_password(member, password=password, password_hash=password_hash)
    # Every check the database would make, as messages (unique username, ID number and phone among the active…).
    member.full_clean()
    (member.pk,) = _next_staff_ids(1)
    if member.role in FIELD_ROLES:
        member.credential_no = member.credential_no or credential_number(member)
        member.credential_key = new_credential_key()
    member.save(force_insert=True)
    _created_event(actor, member).save(force_insert=True)
    return member


@transaction.atomic
def staff_bulk_create(
    *,
    specs: Sequence[StaffSpec],
    actor: StaffMember | None,
    password_hash: str | None = None,
    clean: bool = True,
) -> list[StaffMember]:
    """Create many accounts in one INSERT, with one audit entry each (one INSERT more).

    Each account is checked field by field (``clean``); what needs the whole table — unique usernames, ID and
    phone numbers among the active — is left to the caller's set-based checks (the import's) and in any case to
    the database's constraints, which refuse the whole batch. ``password_hash`` gives every account the same
    password (the synthetic district); without it they get no usable password and must change the one-time
    password the office issues.
    """
    members = []
    for spec in specs:
        _require_manage(actor, role=spec.role, township_id=spec.township_id, district_id=spec.district_id)
        member = _member_from(spec)
        _set_password(member, password=None, password_hash=password_hash)
        if clean:
            # Field by field; the district, township and department are the caller's (the import looks them up
            # in the office's scope) and the database's foreign keys hold them: asking for each would cost three
            # queries per account.
            member.full_clean(
                exclude=["district", "township", "department"], validate_unique=False, validate_constraints=False
            )
        members.append(member)
    for member, pk in zip(members, _next_staff_ids(len(members)), strict=True):
        member.pk = member.id = pk
        if member.role in FIELD_ROLES:
            member.credential_no = member.credential_no or credential_number(member)
            member.credential_key = new_credential_key()
    StaffMember.objects.bulk_create(members)
    AuditEvent.objects.bulk_create([_created_event(actor, m) for m in members])
    return members


class StaffChanges(TypedDict, total=False):
    """What an office may change about a person (``staff_update``); omitted keys stay as they are."""

    username: str
    full_name: str
    role: str
    township_id: str | None
    department_id: int | None
    phone: str
    id_number: str
    unit: str
    selected_on: datetime.date | None
    trained_on: datetime.date | None
    exam_score: int | None
    credential_no: str


# Audit details name these fields without their values (the audit log is read by the auditor, who does not
# need the ID numbers of the staff in the clear).
_MASKED_IN_AUDIT = {"id_number"}


def _audit_value(name: str, value: Any) -> Any:
    if name in _MASKED_IN_AUDIT:
        return mask_id_number(str(value or ""))
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


@transaction.atomic
def staff_update(*, member: StaffMember, actor: StaffMember | None, **changes: Unpack[StaffChanges]) -> StaffMember:
    """Change a person's particulars, role or place. A change of role or township must not strand their work:
    a supervisor who still oversees enumerators, or anyone who still covers small areas, keeps the role and the
    township until their work has been handed over. An enumerator who becomes a supervisor leaves their own
    supervisor's group."""
    member = StaffMember.objects.select_for_update().get(pk=member.pk)
    _require_manage(actor, role=member.role, township_id=member.township_id, district_id=member.district_id)
    before = {name: getattr(member, name) for name in _UPDATABLE}
    before["full_name"] = member.get_full_name()
    values: dict[str, Any] = dict(changes)
    if "full_name" in values:
        member.last_name, member.first_name = split_name(values.pop("full_name") or "")
    if "phone" in values:
        values["phone"] = phone_clean(values["phone"] or "")
    if values.get("id_number"):
        values["id_number"] = id_number_clean(values["id_number"])
    for name in ("username", "unit", "credential_no"):
        if name in values:
            values[name] = (values[name] or "").strip()
    if "township_id" in values:
        values["township_id"] = values["township_id"] or None
    for name, value in values.items():
        setattr(member, name, value)
    _require_manage(actor, role=member.role, township_id=member.township_id, district_id=member.district_id)
    after = {name: getattr(member, name) for name in _UPDATABLE}
    after["full_name"] = member.get_full_name()
    changed = {name: (before[name], after[name]) for name in after if before[name] != after[name]}
    if not changed:
        return member
    _check_role_and_place_change(member, before)
    if member.role in FIELD_ROLES and not member.credential_key:
        member.credential_key = new_credential_key()
    member.full_clean()
    if "role" in changed and before["role"] == Role.ENUMERATOR:
        left = SupervisorAssignment.objects.filter(enumerator=member)
        for link in left.select_related("supervisor"):
            audit_record(
                actor=actor,
                action=AuditAction.ASSIGNMENT_CHANGE,
                object_type="supervisor_assignment",
                object_id=link.pk,
                detail={"supervisor": link.supervisor.username, "enumerator": member.username, "change": "ended"},
            )
        left.delete()
    member.save()
    audit_record(
        actor=actor,
        action=AuditAction.PERMISSION_CHANGE
        if {"role", "township_id", "department_id"} & set(changed)
        else AuditAction.RECORD_CHANGE,
        object_type="staff",
        object_id=member.pk,
        detail={
            "change": "updated",
            "username": member.username,
            "fields": {
                name: [_audit_value(name, old), _audit_value(name, new)] for name, (old, new) in changed.items()
            },
        },
    )
    return member


# What a bulk change may touch: particulars only (a role or a place changes through ``staff_update``, which checks
# that no work is stranded).
BULK_UPDATABLE = frozenset(
    {"full_name", "phone", "id_number", "unit", "selected_on", "trained_on", "exam_score", "credential_no", "username"}
)


@transaction.atomic
def staff_bulk_update(
    *, changes: Sequence[tuple[StaffMember, dict[str, Any]]], actor: StaffMember | None
) -> list[StaffMember]:
    """Change the particulars of many people in a few statements, each change audited with its old and new values.
    The values are already clean (the import's checks); the database's constraints refuse the whole batch if two
    active people would end up with one ID number or phone."""
    members: list[StaffMember] = []
    events: list[AuditEvent] = []
    touched: set[str] = set()
    for member, values in changes:
        _require_manage(actor, role=member.role, township_id=member.township_id, district_id=member.district_id)
        unknown = set(values) - BULK_UPDATABLE
        if unknown:
            raise ValueError(f"staff_bulk_update does not change {sorted(unknown)}")
        diff = {}
        for name, value in values.items():
            if name == "full_name":
                old: Any = member.get_full_name()
                member.last_name, member.first_name = split_name(value)
                touched |= {"last_name", "first_name"}
            else:
                old = getattr(member, name)
                setattr(member, name, value)
                touched.add(name)
            diff[name] = [_audit_value(name, old), _audit_value(name, value)]
        members.append(member)
        events.append(
            audit_event(
                actor=actor,
                action=AuditAction.RECORD_CHANGE,
                object_type="staff",
                object_id=member.pk,
                detail={"change": "updated", "username": member.username, "fields": diff},
            )
        )
    if members:
        StaffMember.objects.bulk_update(members, fields=sorted(touched), batch_size=1000)
        AuditEvent.objects.bulk_create(events)
    return members


_UPDATABLE = (
    "username",
    "role",
    "township_id",
    "department_id",
    "phone",
    "id_number",
    "unit",
    "selected_on",
    "trained_on",
    "exam_score",
    "credential_no",
)


def _check_role_and_place_change(member: StaffMember, before: dict[str, Any]) -> None:
    role_changed = member.role != before["role"]
    township_changed = member.township_id != before["township_id"]
    if not (role_changed or township_changed):
        return
    areas = SmallAreaAssignment.objects.filter(staff=member).count()
    if areas and (township_changed or member.role not in FIELD_ROLES):
        raise ValidationError(
            _("%(name)s still covers %(n)d small area(s): hand them over to someone else first.")
            % {"name": member.get_full_name() or member.username, "n": areas}
        )
    if before["role"] == Role.SUPERVISOR and (role_changed or township_changed):
        overseen = SupervisorAssignment.objects.filter(supervisor=member).count()
        if overseen:
            raise ValidationError(
                _("%(name)s still oversees %(n)d enumerator(s): give them another supervisor first.")
                % {"name": member.get_full_name() or member.username, "n": overseen}
            )
    if (
        before["role"] == Role.ENUMERATOR
        and township_changed
        and not role_changed
        and SupervisorAssignment.objects.filter(enumerator=member).exists()
    ):
        raise ValidationError(_("Take the enumerator out of their supervisor's group first."))


@transaction.atomic
def staff_status_set(*, member: StaffMember, status: str, actor: StaffMember | None, reason: str = "") -> StaffMember:
    """Suspend a person, record that they left, or take them back. Anything but active switches the account off
    at once: Django's session check and the API's token check read ``is_active`` on every request, and the
    person's API tokens are deleted as well. Their small areas stay theirs until an office hands them over (the
    township dashboard lists areas nobody active covers)."""
    if status not in StaffStatus.values:
        raise ValidationError(_("Unknown status."))
    member = StaffMember.objects.select_for_update().get(pk=member.pk)
    _require_manage(actor, role=member.role, township_id=member.township_id, district_id=member.district_id)
    if actor is not None and actor.pk == member.pk:
        raise ApplicationError(_("Nobody changes the status of their own account."), code="own_status")
    if member.status == status:
        return member
    previous = member.status
    member.status = status
    member.is_active = status == StaffStatus.ACTIVE
    # Taking someone back checks again that nobody active has their ID number or phone meanwhile.
    member.full_clean()
    member.save(update_fields=["status", "is_active"])
    tokens = 0
    if not member.is_active:
        tokens, _deleted = Token.objects.filter(user=member).delete()
    audit_record(
        actor=actor,
        action=AuditAction.PERMISSION_CHANGE,
        object_type="staff",
        object_id=member.pk,
        detail={
            "change": "status",
            "username": member.username,
            "from": previous,
            "to": status,
            "reason": reason[:300],
            "tokens_revoked": tokens,
        },
    )
    return member


# --- departments ---------------------------------------------------------------------------------------------


def _require_district_office(actor: StaffMember | None, district_id: str) -> None:
    if actor is None or actor.is_superuser:
        return
    if actor.role != Role.DISTRICT_OFFICE or actor.district_id != district_id or not actor.is_active:
        raise StaffPermissionError(_("Only the district office manages departments."), code="not_district_office")


@transaction.atomic
def department_create(*, district_id: str, code: str, name: str, actor: StaffMember | None) -> Department:
    _require_district_office(actor, district_id)
    department = Department(district_id=district_id, code=code.strip().lower(), name=name.strip())
    department.full_clean()
    department.save()
    audit_record(
        actor=actor,
        action=AuditAction.PERMISSION_CHANGE,
        object_type="department",
        object_id=department.pk,
        detail={"change": "created", "code": department.code, "name": department.name},
    )
    return department


@transaction.atomic
def department_update(*, department: Department, name: str, actor: StaffMember | None) -> Department:
    """Rename a department. Its code stays: settings and the rectification register refer to it."""
    department = Department.objects.select_for_update().get(pk=department.pk)
    _require_district_office(actor, department.district_id)
    name = name.strip()
    if name == department.name:
        return department
    previous = department.name
    department.name = name
    department.full_clean()
    department.save(update_fields=["name"])
    audit_record(
        actor=actor,
        action=AuditAction.RECORD_CHANGE,
        object_type="department",
        object_id=department.pk,
        detail={"change": "renamed", "code": department.code, "from": previous, "to": name},
    )
    return department


# --- small areas and supervisors ------------------------------------------------------------------------------


def _require_manage_area(actor: StaffMember | None, small_area: SmallArea) -> None:
    """The office of the area's township, or the district office of its district."""
    if actor is None or actor.is_superuser:
        return
    district_id = small_area.township_id[:6]
    allowed = actor.is_active and (
        (actor.role == Role.DISTRICT_OFFICE and actor.district_id == district_id)
        or (actor.role == Role.TOWNSHIP_OFFICE and actor.township_id == small_area.township_id)
    )
    if not allowed:
        raise StaffPermissionError(
            _("Only the office of the area's township or the district office assigns its staff."), code="not_managed"
        )


def _check_assignable(staff: StaffMember, small_area: SmallArea) -> None:
    if staff.role not in FIELD_ROLES:
        raise ValidationError(_("Only enumerators and supervisors can be assigned to small areas."))
    if staff.township_id != small_area.township_id:
        raise ValidationError(_("The small area lies outside the staff member's township."))
    if staff.status != StaffStatus.ACTIVE:
        raise ValidationError(
            _("%(name)s is not active and cannot take on work.") % {"name": staff.get_full_name() or staff.username}
        )


def _assigned_event(
    actor: StaffMember | None, assignment: SmallAreaAssignment, staff: StaffMember, code: str
) -> AuditEvent:
    return audit_event(
        actor=actor,
        action=AuditAction.ASSIGNMENT_CHANGE,
        object_type="small_area_assignment",
        object_id=assignment.pk,
        detail={"staff": staff.username, "staff_id": staff.pk, "small_area": code, "change": "assigned"},
    )


@transaction.atomic
def small_area_assign(*, staff: StaffMember, small_area: SmallArea, actor: StaffMember | None) -> SmallAreaAssignment:
    _require_manage_area(actor, small_area)
    _check_assignable(staff, small_area)
    assignment, created = SmallAreaAssignment.objects.get_or_create(staff=staff, small_area=small_area)
    if created:
        _assigned_event(actor, assignment, staff, small_area.code).save(force_insert=True)
    return assignment


@transaction.atomic
def small_areas_assign_bulk(
    *, assignments: Sequence[tuple[StaffMember, SmallArea]], actor: StaffMember | None
) -> list[SmallAreaAssignment]:
    """Assign many (staff, small area) pairs in one INSERT; every pair is checked as ``small_area_assign`` checks
    it, from the objects given (no query per pair)."""
    rows = []
    for staff, area in assignments:
        _require_manage_area(actor, area)
        _check_assignable(staff, area)
        rows.append(SmallAreaAssignment(staff=staff, small_area=area))
    created = SmallAreaAssignment.objects.bulk_create(rows)
    AuditEvent.objects.bulk_create(
        [_assigned_event(actor, row, staff, area.code) for row, (staff, area) in zip(created, assignments, strict=True)]
    )
    return created


@transaction.atomic
def small_area_unassign(*, staff: StaffMember, small_area: SmallArea, actor: StaffMember | None) -> None:
    _require_manage_area(actor, small_area)
    deleted, _count = SmallAreaAssignment.objects.filter(staff=staff, small_area=small_area).delete()
    if deleted:
        audit_record(
            actor=actor,
            action=AuditAction.ASSIGNMENT_CHANGE,
            object_type="small_area_assignment",
            detail={
                "staff": staff.username,
                "staff_id": staff.pk,
                "small_area": small_area.code,
                "change": "unassigned",
            },
        )


@dataclass(frozen=True)
class HandOver:
    assignment: SmallAreaAssignment
    records_moved: int


@transaction.atomic
def small_area_reassign(
    *, small_area: SmallArea, predecessor: StaffMember, successor: StaffMember, actor: StaffMember | None
) -> HandOver:
    """Hand a small area over from one field worker to another (someone left, fell ill, was moved).

    The successor takes the area and its open work: the apps that own work in the area move what was never
    signed (``small_area_handed_over``). What was signed keeps its registrar, and with it every finding about it
    stays with the person who registered it (谁普查、谁负责); the successor sees those in the area's findings,
    because the area is now theirs.
    """
    _require_manage_area(actor, small_area)
    if predecessor.pk == successor.pk:
        raise ValidationError(_("Choose someone else to take the area over."))
    # Both rows locked, so that two offices handing over the same area at once do not both succeed.
    locked = SmallAreaAssignment.objects.select_for_update().filter(small_area=small_area, staff=predecessor).first()
    if locked is None:
        raise ValidationError(
            _("%(name)s does not cover %(area)s.")
            % {"name": predecessor.get_full_name() or predecessor.username, "area": small_area.code}
        )
    _check_assignable(successor, small_area)
    locked.delete()
    assignment, _created = SmallAreaAssignment.objects.get_or_create(staff=successor, small_area=small_area)
    responses = small_area_handed_over.send(
        sender=SmallAreaAssignment, small_area=small_area, predecessor=predecessor, successor=successor, actor=actor
    )
    moved = sum(int(response or 0) for _receiver, response in responses)
    audit_record(
        actor=actor,
        action=AuditAction.ASSIGNMENT_CHANGE,
        object_type="small_area_assignment",
        object_id=assignment.pk,
        detail={
            "small_area": small_area.code,
            "change": "handed_over",
            "from": predecessor.username,
            "from_id": predecessor.pk,
            "to": successor.username,
            "to_id": successor.pk,
            "open_records_moved": moved,
        },
    )
    return HandOver(assignment=assignment, records_moved=moved)


def _check_supervision(supervisor: StaffMember, enumerator: StaffMember) -> None:
    if supervisor.role != Role.SUPERVISOR:
        raise ValidationError(_("%(name)s is not a supervisor.") % {"name": supervisor})
    if enumerator.role != Role.ENUMERATOR:
        raise ValidationError(_("%(name)s is not an enumerator.") % {"name": enumerator})
    if supervisor.township_id != enumerator.township_id:
        raise ValidationError(_("A supervisor oversees enumerators of their own township."))
    if supervisor.status != StaffStatus.ACTIVE:
        raise ValidationError(
            _("%(name)s is not active and cannot take on work.")
            % {"name": supervisor.get_full_name() or supervisor.username}
        )


def _require_manage_township(actor: StaffMember | None, township_id: str | None) -> None:
    if actor is None or actor.is_superuser:
        return
    allowed = actor.is_active and (
        (actor.role == Role.DISTRICT_OFFICE and township_id is not None and township_id[:6] == actor.district_id)
        or (actor.role == Role.TOWNSHIP_OFFICE and actor.township_id == township_id)
    )
    if not allowed:
        raise StaffPermissionError(
            _("Only the office of the township or the district office assigns its staff."), code="not_managed"
        )


@transaction.atomic
def supervisor_assign(
    *, supervisor: StaffMember, enumerator: StaffMember, actor: StaffMember | None
) -> SupervisorAssignment:
    _require_manage_township(actor, enumerator.township_id)
    _check_supervision(supervisor, enumerator)
    assignment, _created = SupervisorAssignment.objects.update_or_create(
        enumerator=enumerator, defaults={"supervisor": supervisor}
    )
    audit_record(
        actor=actor,
        action=AuditAction.ASSIGNMENT_CHANGE,
        object_type="supervisor_assignment",
        object_id=assignment.pk,
        detail={"supervisor": supervisor.username, "enumerator": enumerator.username, "change": "assigned"},
    )
    return assignment


@transaction.atomic
def supervisors_assign_bulk(
    *, pairs: Sequence[tuple[StaffMember, StaffMember]], actor: StaffMember | None
) -> list[SupervisorAssignment]:
    """(supervisor, enumerator) pairs in one INSERT, each checked as ``supervisor_assign`` checks it; for
    enumerators who have no supervisor yet (a new district, an import)."""
    rows = []
    for supervisor, enumerator in pairs:
        _require_manage_township(actor, enumerator.township_id)
        _check_supervision(supervisor, enumerator)
        rows.append(SupervisorAssignment(supervisor=supervisor, enumerator=enumerator))
    created = SupervisorAssignment.objects.bulk_create(rows)
    AuditEvent.objects.bulk_create(
        [
            audit_event(
                actor=actor,
                action=AuditAction.ASSIGNMENT_CHANGE,
                object_type="supervisor_assignment",
                object_id=row.pk,
                detail={"supervisor": s.username, "enumerator": e.username, "change": "assigned"},
            )
            for row, (s, e) in zip(created, pairs, strict=True)
        ]
    )
    return created


@transaction.atomic
def supervisor_unassign(*, enumerator: StaffMember, actor: StaffMember | None) -> None:
    _require_manage_township(actor, enumerator.township_id)
    link = SupervisorAssignment.objects.select_related("supervisor").filter(enumerator=enumerator).first()
    if link is None:
        return
    audit_record(
        actor=actor,
        action=AuditAction.ASSIGNMENT_CHANGE,
        object_type="supervisor_assignment",
        object_id=link.pk,
        detail={"supervisor": link.supervisor.username, "enumerator": enumerator.username, "change": "ended"},
    )
    link.delete()


# --- passwords and API tokens ---------------------------------------------------------------------------------


@transaction.atomic
def staff_password_change(*, member: StaffMember, current_password: str, new_password: str) -> StaffMember:
    """A person chooses their own password: at the first login (the current one is the one-time password of
    their sheet), after a reset, or whenever they like. The current password is confirmed as every signed
    action is (census.passwords: its count of mistakes and its lockout); the new one must pass the site's
    password rules and differ from it. The account's API tokens end (a trigger on the password) and so do its
    other sessions (Django's session hash)."""
    from django.contrib.auth.password_validation import validate_password

    from census.passwords import password_confirm

    member = StaffMember.objects.select_for_update().get(pk=member.pk)
    password_confirm(
        user=member,
        password=current_password,
        purpose="password_change",
        refusal=_("The current password is wrong."),
    )
    if new_password == current_password:
        raise ValidationError({"new_password1": _("Choose a password other than the one you were given.")})
    try:
        validate_password(new_password, user=member)
    except ValidationError as exc:
        raise ValidationError({"new_password1": exc.messages}) from exc
    member.set_password(new_password)
    first = member.must_change_password
    member.must_change_password = False
    member.save(update_fields=["password", "must_change_password"])
    audit_record(
        actor=member,
        action=AuditAction.PERMISSION_CHANGE,
        object_type="staff",
        object_id=member.pk,
        detail={"change": "password_changed", "username": member.username, "first": first},
    )
    return member


@transaction.atomic
def staff_password_reset(*, member: StaffMember, actor: StaffMember | None) -> str:
    """An office gives a person a new one-time password (a forgotten password, a lost phone); returned once, to
    be shown to the office and never kept. The person must choose their own at the next login; their API tokens
    and sessions end, and a lockout from their mistakes is lifted."""
    from axes.utils import reset as axes_reset

    from census.staffing.credentials import one_time_password

    member = StaffMember.objects.select_for_update().get(pk=member.pk)
    _require_manage(actor, role=member.role, township_id=member.township_id, district_id=member.district_id)
    if actor is not None and actor.pk == member.pk:
        raise ApplicationError(_("Change your own password on your password page."), code="own_password")
    password = one_time_password()
    member.set_password(password)
    member.must_change_password = True
    member.password_failures, member.password_failed_at = 0, None
    member.save(update_fields=["password", "must_change_password", "password_failures", "password_failed_at"])
    axes_reset(username=member.username)
    audit_record(
        actor=actor,
        action=AuditAction.PERMISSION_CHANGE,
        object_type="staff",
        object_id=member.pk,
        detail={"change": "password_reset", "username": member.username},
    )
    return password


class PasswordChangeRequired(ApplicationError):
    status_code = http_status.HTTP_403_FORBIDDEN


@transaction.atomic
def api_token_issue(*, member: StaffMember, ip_address: str | None = None) -> Token:
    """A new API token for a signed-in person (a phone or tablet); the person's earlier token ends, so that one
    device at a time speaks for them. Not before they have chosen their own password."""
    if member.must_change_password:
        raise PasswordChangeRequired(
            _("Choose your own password on the website first: the one-time password only opens that page."),
            code="password_change_required",
        )
    Token.objects.filter(user=member).delete()
    token = Token.objects.create(user=member)
    audit_record(
        actor=member,
        action=AuditAction.LOGIN,
        object_type="staff",
        object_id=member.pk,
        detail={"via": "api_token"},
        ip_address=ip_address,
    )
    return token


@transaction.atomic
def api_tokens_revoke(*, member: StaffMember, actor: StaffMember | None) -> int:
    """End a person's API tokens (a device lost or handed on): by the person, or by an office that manages them."""
    if actor is None or actor.pk != member.pk:
        _require_manage(actor, role=member.role, township_id=member.township_id, district_id=member.district_id)
    revoked, _deleted = Token.objects.filter(user=member).delete()
    audit_record(
        actor=actor,
        action=AuditAction.PERMISSION_CHANGE,
        object_type="staff",
        object_id=member.pk,
        detail={"change": "tokens_revoked", "username": member.username, "tokens": revoked},
    )
    return revoked


@transaction.atomic
def city_office_create(
    *, city_code: str, city_name: str, username: str, full_name: str = "", actor: StaffMember | None = None
) -> StaffMember:
    """A city office account (市普查办) and, the first time, its city. The account has no usable password: the
    person sets one from the one-time password the administrator issues (``changepassword`` or a reset)."""
    city, _created = City.objects.get_or_create(code=city_code, defaults={"name": city_name})
    member = StaffMember(username=username, role=Role.CITY_OFFICE, city=city, status=StaffStatus.ACTIVE, is_active=True)
    member.last_name, member.first_name = split_name(full_name)
    _set_password(member, password=None, password_hash=None)
    member.full_clean()
    (member.pk,) = _next_staff_ids(1)
    member.save(force_insert=True)
    _created_event(actor, member, city=city.code).save(force_insert=True)
    return member
