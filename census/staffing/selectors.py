"""Reads about people and who works where, always through ``visible_to(user)``."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.utils.module_loading import import_string

from census.models import (
    FIELD_ROLES,
    AuditEvent,
    Department,
    Role,
    SmallArea,
    SmallAreaAssignment,
    StaffMember,
    StaffStatus,
    Township,
)
from census.privacy import mask_name


def staff_list(*, user: StaffMember, role: str = "", status: str = "", township: str = "") -> QuerySet[StaffMember]:
    staff = (
        StaffMember.objects.visible_to(user)
        .select_related("township", "department", "supervision__supervisor")
        .annotate(area_count=Count("area_assignments", distinct=True))
    )
    if role in Role.values:
        staff = staff.filter(role=role)
    if status in StaffStatus.values:
        staff = staff.filter(status=status)
    if township:
        staff = staff.filter(township_id=township)
    return staff.order_by("username")


def staff_history(*, user: StaffMember, member: StaffMember, limit: int = 50) -> list[AuditEvent]:
    """What the audit log says about a person's account: creation, changes, status, passwords."""
    return list(
        AuditEvent.objects.visible_to(user)
        .filter(object_type="staff", object_id=str(member.pk))
        .exclude(action__in=("login", "login_failed", "view_personal_data"))
        .order_by("-at", "-id")[:limit]
    )


def staff_areas(*, member: StaffMember) -> QuerySet[SmallArea]:
    return SmallArea.objects.filter(assignments__staff=member).select_related("village").order_by("code")


def department_list(*, user: StaffMember) -> QuerySet[Department]:
    return (
        Department.objects.visible_to(user)
        .annotate(user_count=Count("staff", filter=Q(staff__status=StaffStatus.ACTIVE)))
        .order_by("code")
    )


# --- who works where ---------------------------------------------------------------------------------------


def max_enumerators_per_area() -> int:
    """More active enumerators than this in one small area is shown to the office as a problem."""
    return int(getattr(settings, "CENSUS_STAFFING", {}).get("MAX_ENUMERATORS_PER_AREA", 2))


ExpectedHouseholds = Callable[..., Mapping[int, int]]


@cache
def _expected_households_source() -> ExpectedHouseholds | None:
    path = getattr(settings, "CENSUS_STAFFING", {}).get("EXPECTED_HOUSEHOLDS_SOURCE", "")
    if not path:
        return None
    try:
        return import_string(path)  # type: ignore[no-any-return]
    except ImportError:
        return None


def expected_households(small_area_ids: Iterable[int]) -> dict[int, int]:
    """Households the listing (摸底) expects in each small area, from the part that owns the listing
    (``CENSUS_STAFFING["EXPECTED_HOUSEHOLDS_SOURCE"]``); none without it."""
    source = _expected_households_source()
    ids = list(small_area_ids)
    if source is None or not ids:
        return {}
    return dict(source(small_area_ids=ids))


@dataclass
class AreaRow:
    area: SmallArea
    expected: int
    staff: list[StaffMember] = field(default_factory=list)

    @property
    def active_staff(self) -> list[StaffMember]:
        return [s for s in self.staff if s.status == StaffStatus.ACTIVE]

    @property
    def problem(self) -> str:
        active = len(self.active_staff)
        if active == 0:
            return "unstaffed"
        if active > max_enumerators_per_area():
            return "overstaffed"
        return ""


@dataclass
class WorkerRow:
    member: StaffMember
    areas: list[SmallArea] = field(default_factory=list)
    households: int = 0
    supervisor: StaffMember | None = None
    overseen: int = 0


@dataclass
class Board:
    township: Township
    areas: list[AreaRow]
    workers: list[WorkerRow]
    supervisors: list[StaffMember]
    max_per_area: int

    @property
    def enumerators(self) -> list[WorkerRow]:
        return [w for w in self.workers if w.member.role == Role.ENUMERATOR]

    @property
    def active_workers(self) -> list[StaffMember]:
        return [w.member for w in self.workers if w.member.status == StaffStatus.ACTIVE]

    @property
    def problems(self) -> int:
        return sum(1 for row in self.areas if row.problem)


def assignment_board(*, user: StaffMember, township: Township, village: str = "") -> Board:
    """A township's small areas with their expected households and who covers them, and its field workers with
    their load (areas, expected households) and supervisor: what an office balances. Four statements."""
    areas = SmallArea.objects.visible_to(user).filter(township=township).select_related("village").order_by("code")
    if village:
        areas = areas.filter(village_id=village)
    area_list = list(areas)
    expected = expected_households(a.pk for a in area_list)
    rows = {a.pk: AreaRow(area=a, expected=expected.get(a.pk, 0)) for a in area_list}
    workers = {
        m.pk: WorkerRow(member=m)
        for m in StaffMember.objects.visible_to(user)
        .filter(township=township, role__in=FIELD_ROLES)
        .select_related("supervision__supervisor")
        .order_by("role", "last_name", "first_name", "username")
    }
    all_expected = (
        expected
        if not village
        else expected_households(SmallArea.objects.filter(township=township).values_list("pk", flat=True))
    )
    for assignment in SmallAreaAssignment.objects.filter(small_area__township=township).select_related("small_area"):
        worker = workers.get(assignment.staff_id)
        if worker is None:
            continue
        worker.areas.append(assignment.small_area)
        worker.households += all_expected.get(assignment.small_area_id, 0)
        if assignment.small_area_id in rows:
            rows[assignment.small_area_id].staff.append(worker.member)
    overseen: dict[int, int] = defaultdict(int)
    for worker in workers.values():
        link = getattr(worker.member, "supervision", None)
        worker.supervisor = link.supervisor if link is not None else None
        if worker.supervisor is not None:
            overseen[worker.supervisor.pk] += 1
    for worker in workers.values():
        worker.overseen = overseen.get(worker.member.pk, 0)
    supervisors = [
        w.member for w in workers.values() if w.member.role == Role.SUPERVISOR and w.member.status == StaffStatus.ACTIVE
    ]
    return Board(
        township=township,
        areas=list(rows.values()),
        workers=list(workers.values()),
        supervisors=supervisors,
        max_per_area=max_enumerators_per_area(),
    )


def small_areas_needing_staff(*, user: StaffMember) -> QuerySet[SmallArea]:
    """The small areas of the user's scope that no active field worker covers, or that more than the configured
    number cover (what the township dashboard lists)."""
    return (
        SmallArea.objects.visible_to(user)
        .annotate(active_staff=Count("assignments", filter=Q(assignments__staff__status=StaffStatus.ACTIVE)))
        .filter(Q(active_staff=0) | Q(active_staff__gt=max_enumerators_per_area()))
        .select_related("village", "township")
        .order_by("code")
    )


# --- the public credential check --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CredentialStatus:
    """All the public check page may say about a credential."""

    valid: bool
    masked_name: str
    role: str
    township: str


def credential_status(*, key: str) -> CredentialStatus | None:
    """What anyone scanning a credential's QR code may learn: whether it is valid now (an active enumerator or
    supervisor, and the key of the credential last issued), the name masked, the role and the township.

    The one read not made through ``visible_to``: the reader has no account. It is keyed by the credential's
    random key (never by a number one could count through) and returns these four facts only."""
    if not 16 <= len(key) <= 32:
        return None
    member = StaffMember.objects.select_related("township").filter(credential_key=key).first()
    if member is None:
        return None
    return CredentialStatus(
        valid=member.status == StaffStatus.ACTIVE and member.role in FIELD_ROLES,
        masked_name=mask_name(member.get_full_name()),
        role=member.get_role_display(),
        township=member.township.name if member.township is not None else "",
    )
