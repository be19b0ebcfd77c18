"""The policy: who must see which rows, stated from the world's own structure and never asked of ``visible_to``.

The permission matrix used to ask each model's ``visible_to`` which objects lie inside a user's scope and then
checked that the views agreed with it — so a ``visible_to`` that was too wide (an enumerator seeing the township's
export files) agreed with itself. Here the answer comes from somewhere else: where a user stands is read from the
assignments of the world (which small areas they were given, whom they supervise, which township, district or
department their account names), where a row lies is read from its own relations (a household through its small
area, village and township), and a rule per model — the table below — says who sees it.

The general rule (the design's "who sees what", docs/DEVELOPING.md and census/scoping.py say the same in prose):

============================  ===============================================================================
role                          sees a row when
============================  ===============================================================================
district office, auditor      the row lies in their district
township office               the row lies in their township; a model that knows no township (only a
                              district), when the row lies in their district
enumerator, supervisor        the row lies in a small area they cover (their own assignments, for a supervisor
                              also those of the enumerators they oversee); a model that knows no small area, in
                              a village, else a township, else a district of a small area they cover
department                    the row belongs to their department; never a row of a model without departments
============================  ===============================================================================

Exceptions, per model, are in ``RULES`` with the reason. Jobs follow ``JOB_KINDS``: a job is seen by whoever
started it, and by the roles its kind's content is meant for within their area (their township for a township
office, their district for the district office and the auditor); it is started again only by whoever started
it or by a role that may start that kind, never by the auditor, who reads and does not write.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import models

from census.models import (
    Department,
    Job,
    Role,
    SmallArea,
    SmallAreaAssignment,
    StaffMember,
    SupervisorAssignment,
    Township,
    Village,
)
from enumeration.models import Household, PhoneDevice
from enumeration.self_enumeration.models import Invitation
from supervision.completeness.models import RecheckArea
from supervision.organisation.models import (
    DepartmentTask,
    DirectoryUnit,
    EvidenceFile,
    ReadinessItem,
    ReadinessMember,
    RectificationItem,
    RectificationTask,
    SubsidyDue,
    UnitReadiness,
)
from supervision.quality.models import CheckRun, Finding

FIELD = (Role.ENUMERATOR, Role.SUPERVISOR)
OFFICES = (Role.TOWNSHIP_OFFICE, Role.DISTRICT_OFFICE)
DISTRICT_WIDE = (Role.DISTRICT_OFFICE, Role.AUDITOR)


@dataclass(frozen=True)
class Standing:
    """Where a user stands in the world, read from their account and the assignment tables."""

    user: StaffMember
    role: str
    district: str | None
    township: str | None
    department: int | None
    small_areas: frozenset[int]
    villages: frozenset[str]
    townships: frozenset[str]
    districts: frozenset[str]

    @classmethod
    def of(cls, user: StaffMember) -> Standing:
        supervised = {a.enumerator_id for a in SupervisorAssignment.objects.all() if a.supervisor_id == user.pk}
        areas = {
            a.small_area_id
            for a in SmallAreaAssignment.objects.all()
            if user.role in FIELD and (a.staff_id == user.pk or a.staff_id in supervised)
        }
        covered = [a for a in SmallArea.objects.select_related("village__township") if a.pk in areas]
        return cls(
            user=user,
            role=user.role,
            district=user.district_id,
            township=user.township_id,
            department=user.department_id,
            small_areas=frozenset(areas),
            villages=frozenset(a.village_id for a in covered),
            townships=frozenset(a.village.township_id for a in covered),
            districts=frozenset(a.village.township.district_id for a in covered),
        )


class _Absent:
    """A level the model does not know (as opposed to a row that has no value at a level it knows)."""


ABSENT: Any = _Absent()


def in_place(
    who: Standing,
    *,
    district: str | None,
    township: str | None = ABSENT,
    village: str | None = ABSENT,
    small_area: int | None = ABSENT,
    department: int | None = ABSENT,
) -> bool:
    """The general rule of the table above, for a row lying at the given place."""
    if who.role in DISTRICT_WIDE:
        return district is not None and district == who.district
    if who.role == Role.TOWNSHIP_OFFICE:
        if township is not ABSENT:
            return township is not None and township == who.township
        return district is not None and district == who.district
    if who.role in FIELD:
        if small_area is not ABSENT:
            return small_area in who.small_areas
        if village is not ABSENT:
            return village in who.villages
        if township is not ABSENT:
            return township in who.townships
        return district in who.districts
    if who.role == Role.DEPARTMENT:
        return department is not ABSENT and department is not None and department == who.department
    return False


def _area(area: SmallArea) -> dict[str, Any]:
    township = area.village.township
    return {
        "district": township.district_id,
        "township": township.code,
        "village": area.village_id,
        "small_area": area.pk,
    }


# --- jobs ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobKind:
    """Who a job kind's content is for (``audience``: they see the jobs of others in their area) and who may
    start it (``starters``: they may also start a failed one again). ``pages`` show the same content: they must
    admit exactly the audience; ``start_pages`` start it: each admits starters only, and together every starter."""

    content: str
    audience: frozenset[str]
    starters: frozenset[str]
    pages: tuple[str, ...] = ()
    start_pages: tuple[str, ...] = ()


JOB_KINDS: dict[str, JobKind] = {
    "organisation_subsidy_sheet": JobKind(
        "the township's 两员 payment sheet: every colleague's name, credential, amounts, reductions and reasons",
        audience=frozenset(OFFICES),
        starters=frozenset(OFFICES),
        pages=("supervision:subsidies", "supervision:subsidy-detail"),
        start_pages=("supervision:subsidy-export",),
    ),
    "progress_table": JobKind(
        "a dashboard table (townships, villages, small areas, the enumerator ranking)",
        audience=frozenset(OFFICES),
        starters=frozenset(OFFICES),
        pages=("supervision:dashboard", "supervision:progress-table"),
        start_pages=("supervision:progress-table-export",),
    ),
    "progress_summary": JobKind(
        "the district's summary tables (a city office's: its districts' together, which stay with it)",
        audience=frozenset({Role.DISTRICT_OFFICE}),
        starters=frozenset({Role.DISTRICT_OFFICE, Role.CITY_OFFICE}),
        pages=("supervision:exports",),
        start_pages=("supervision:export-start", "supervision:city-summary-export"),
    ),
    "progress_microdata": JobKind(
        "pseudonymous person-level microdata: stays with whoever asked for it",
        audience=frozenset(),
        starters=frozenset({Role.DISTRICT_OFFICE}),
        start_pages=("supervision:export-start",),
    ),
    "quality_check_run": JobKind(
        "the progress and counts of a quality check run",
        audience=frozenset(OFFICES),
        starters=frozenset(OFFICES),
        pages=("supervision:check-runs", "supervision:check-run"),
        start_pages=("supervision:check-runs",),
    ),
    "staff_import": JobKind(
        "the import of an office's staff list (counts, and the lines it refused with names in them)",
        audience=frozenset(OFFICES),
        starters=frozenset(OFFICES),
        pages=("frame:staff-import", "frame:staff"),
        start_pages=("frame:staff-import",),
    ),
    "staff_credentials": JobKind(
        "printed credentials with the one-time passwords of new accounts: stays with whoever printed them",
        audience=frozenset(),
        starters=frozenset(OFFICES),
        start_pages=("frame:staff-credentials",),
    ),
    "bulk_lock": JobKind(
        "the district's bulk lock: how many forms were locked and which the checks blocked, with what blocks each",
        audience=frozenset({Role.DISTRICT_OFFICE}),
        starters=frozenset({Role.DISTRICT_OFFICE}),
        start_pages=("enumeration:review-lock-all",),
    ),
    "quality_roster_import": JobKind(
        "the import of the district's hukou roster (its file name, its rows, the lines it refused)",
        audience=frozenset({Role.DISTRICT_OFFICE}),
        starters=frozenset({Role.DISTRICT_OFFICE}),
    ),
}


def job_area(job: Job, who: Standing) -> bool:
    """A job lies where it was started for: a township office's area is its township, a district role's its
    district; field workers and departments have no area in which they see jobs of others."""
    if who.role == Role.TOWNSHIP_OFFICE:
        return bool(job.township_id) and job.township_id == who.township
    if who.role in DISTRICT_WIDE:
        return bool(job.district_id) and job.district_id == who.district
    return False


def sees_job(job: Job, who: Standing) -> bool:
    if job.created_by_id == who.user.pk:
        return True
    kind = JOB_KINDS.get(job.kind)
    return kind is not None and who.role in kind.audience and job_area(job, who)


def may_retry_job(job: Job, who: Standing) -> bool:
    if who.role == Role.AUDITOR or not sees_job(job, who):
        return False
    kind = JOB_KINDS.get(job.kind)
    return job.created_by_id == who.user.pk or (kind is not None and who.role in kind.starters)


# --- the table -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    says: str
    rows: Callable[[], models.QuerySet[Any]]
    sees: Callable[[Any, Standing], bool]


def _finding(finding: Finding, who: Standing) -> bool:
    if who.role in FIELD and who.user.pk in (finding.responsible_id, finding.supervisor_id):
        return True
    if finding.small_area is not None:
        return in_place(who, **_area(finding.small_area))
    township = finding.township
    return in_place(
        who, district=township.district_id, township=township.code, village=finding.village_id, small_area=None
    )


def _check_run(run: CheckRun, who: Standing) -> bool:
    if who.role == Role.TOWNSHIP_OFFICE and run.township_id is None:
        return run.district_id == who.district
    return in_place(who, district=run.district_id, township=run.township_id)


def _readiness(unit: UnitReadiness, who: Standing) -> bool:
    return in_place(who, district=unit.district_id, township=unit.township_id, department=unit.department_id)


def _rectification_item(item: RectificationItem, who: Standing) -> bool:
    if who.role == Role.DEPARTMENT:
        return who.department is not None and (
            item.lead_department_id == who.department
            or any(task.department_id == who.department for task in item.tasks.all())
        )
    return in_place(who, district=item.district_id, department=item.lead_department_id)


def _staff_member(member: StaffMember, who: Standing) -> bool:
    if who.role in FIELD:
        # Themselves, and for a supervisor the enumerators they oversee — not their colleagues of the township.
        return (
            member.pk == who.user.pk
            or SupervisorAssignment.objects.filter(supervisor_id=who.user.pk, enumerator_id=member.pk).exists()
        )
    return in_place(who, district=member.district_id, township=member.township_id, department=member.department_id)


RULES: dict[type[models.Model], Rule] = {
    StaffMember: Rule(
        "the account's township (a district account: its district) or department; a field worker sees their own "
        "account and those of the enumerators they oversee",
        lambda: StaffMember.objects.all(),
        _staff_member,
    ),
    Department: Rule(
        "the department's district; a department user sees their own department only",
        lambda: Department.objects.all(),
        lambda d, who: in_place(who, district=d.district_id, department=d.pk),
    ),
    Township: Rule(
        "the township's own area",
        lambda: Township.objects.all(),
        lambda t, who: in_place(who, district=t.district_id, township=t.code),
    ),
    Village: Rule(
        "the village's own area",
        lambda: Village.objects.select_related("township"),
        lambda v, who: in_place(who, district=v.township.district_id, township=v.township_id, village=v.code),
    ),
    SmallArea: Rule(
        "the small area itself",
        lambda: SmallArea.objects.select_related("village__township"),
        lambda a, who: in_place(who, **_area(a)),
    ),
    Household: Rule(
        "the household's small area",
        lambda: Household.objects.select_related("small_area__village__township"),
        lambda h, who: in_place(who, **_area(h.small_area)),
    ),
    Invitation: Rule(
        "its household's small area (self-enumeration invitations)",
        lambda: Invitation.objects.select_related("household__small_area__village__township"),
        lambda i, who: in_place(who, **_area(i.household.small_area)),
    ),
    RecheckArea: Rule(
        "the re-checked small area, for its supervisor and the offices over it (its own enumerators see it only "
        "if they re-check it: nobody re-checks their own work); the checker sees the areas they re-check",
        lambda: RecheckArea.objects.select_related("small_area__village__township"),
        lambda r, who: (
            r.checker_id == who.user.pk or (who.role != Role.ENUMERATOR and in_place(who, **_area(r.small_area)))
        ),
    ),
    Finding: Rule(
        "the finding's small area (or village and township when it has none); a field worker also sees every "
        "finding routed to them as responsible or as supervisor",
        lambda: Finding.objects.select_related("small_area__village__township", "township"),
        _finding,
    ),
    CheckRun: Rule(
        "the run's township, or its district for a district-wide run; a township office also sees the "
        "district-wide runs of its district (the nightly run checks its township too)",
        lambda: CheckRun.objects.all(),
        _check_run,
    ),
    SubsidyDue: Rule(
        "the due's township; a field worker sees only what they themselves are owed",
        lambda: SubsidyDue.objects.all(),
        lambda due, who: (
            due.staff_id == who.user.pk
            if who.role in FIELD
            else in_place(who, district=due.district_id, township=due.township_id)
        ),
    ),
    EvidenceFile: Rule(
        "the file's township or department (a district file: the district); field workers have no page that "
        "shows evidence and see none",
        lambda: EvidenceFile.objects.all(),
        lambda f, who: (
            who.role not in FIELD
            and in_place(who, district=f.district_id, township=f.township_id, department=f.department_id)
        ),
    ),
    UnitReadiness: Rule("the unit's township or department", lambda: UnitReadiness.objects.all(), _readiness),
    ReadinessItem: Rule(
        "its unit's", lambda: ReadinessItem.objects.select_related("readiness"), lambda i, w: _readiness(i.readiness, w)
    ),
    ReadinessMember: Rule(
        "its unit's",
        lambda: ReadinessMember.objects.select_related("readiness"),
        lambda m, w: _readiness(m.readiness, w),
    ),
    RectificationItem: Rule(
        "the item's district; a department sees the items it leads and those in which it has a task",
        lambda: RectificationItem.objects.prefetch_related("tasks"),
        _rectification_item,
    ),
    RectificationTask: Rule(
        "its item's district; a department sees its own tasks",
        lambda: RectificationTask.objects.select_related("item"),
        lambda t, who: in_place(who, district=t.item.district_id, department=t.department_id),
    ),
    DepartmentTask: Rule(
        "the task's district; a department sees its own tasks only (S18: each department acts on its own share)",
        lambda: DepartmentTask.objects.all(),
        lambda t, who: in_place(who, district=t.district_id, department=t.department_id),
    ),
    DirectoryUnit: Rule(
        "the unit's township or department",
        lambda: DirectoryUnit.objects.all(),
        lambda u, who: in_place(who, district=u.district_id, township=u.township_id, department=u.department_id),
    ),
    PhoneDevice: Rule(
        "the phone's person's township (a district account: its district); a field worker sees their own phones",
        lambda: PhoneDevice.objects.select_related("staff"),
        lambda d, who: (
            d.staff_id == who.user.pk
            if who.role in FIELD
            else in_place(who, district=d.staff.district_id, township=d.staff.township_id, department=None)
        ),
    ),
    Job: Rule(
        "whoever started it, and the roles its kind's content is for within their area (JOB_KINDS)",
        lambda: Job.objects.all(),
        sees_job,
    ),
}


def rule_for(model: type[models.Model]) -> Rule:
    rule = RULES.get(model)
    if rule is None:
        raise AssertionError(
            f"A URL looks up {model._meta.label} but tests/security/policy.py states nobody's view of it: add a "
            "rule to RULES saying who must see which of its rows."
        )
    return rule


def must_see(model: type[models.Model], user: StaffMember) -> set[Any]:
    """The primary keys of the rows of ``model`` the policy says ``user`` sees."""
    rule = rule_for(model)
    who = Standing.of(user)
    return {row.pk for row in rule.rows() if rule.sees(row, who)}


def must_not_see(model: type[models.Model], user: StaffMember) -> set[Any]:
    return set(model._default_manager.values_list("pk", flat=True)) - must_see(model, user)
