"""Reads of trainings, study sessions and self-inspections, and the quarters a department missed."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, QuerySet
from django.db.models.functions import ExtractQuarter, ExtractYear

from census.models import Department, StaffMember
from supervision.organisation.models import SelfInspection, StudySession, Training
from supervision.organisation.services.common import today as _today


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    quarter: int

    def __str__(self) -> str:
        return f"{self.year} Q{self.quarter}"

    @property
    def first_day(self) -> datetime.date:
        return datetime.date(self.year, 3 * self.quarter - 2, 1)

    @property
    def last_day(self) -> datetime.date:
        following = self.next()
        return following.first_day - datetime.timedelta(days=1)

    def next(self) -> Quarter:
        return Quarter(self.year + 1, 1) if self.quarter == 4 else Quarter(self.year, self.quarter + 1)

    def previous(self) -> Quarter:
        return Quarter(self.year - 1, 4) if self.quarter == 1 else Quarter(self.year, self.quarter - 1)

    @classmethod
    def of(cls, day: datetime.date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    @classmethod
    def parse(cls, text: str) -> Quarter:
        year, quarter = text.upper().split("Q")
        return cls(int(year), int(quarter))


def first_training_quarter() -> Quarter:
    return Quarter.parse(settings.ORGANISATION_TRAINING_FIRST_QUARTER)


def quarters_between(first: Quarter, last: Quarter) -> list[Quarter]:
    out: list[Quarter] = []
    current = first
    while current <= last:
        out.append(current)
        current = current.next()
    return out


def training_list(*, user: StaffMember | AnonymousUser) -> QuerySet[Training]:
    return Training.objects.visible_to(user).select_related("department", "evidence")


def study_session_list(*, user: StaffMember | AnonymousUser) -> QuerySet[StudySession]:
    return StudySession.objects.visible_to(user).select_related("department", "evidence")


def self_inspection_list(*, user: StaffMember | AnonymousUser) -> QuerySet[SelfInspection]:
    return SelfInspection.objects.visible_to(user).select_related("department", "evidence")


def training_departments(user: StaffMember | AnonymousUser) -> list[Department]:
    """The departments that must train every quarter, as far as the user may see them."""
    codes = settings.ORGANISATION_TRAINING_DEPARTMENTS
    return list(Department.objects.visible_to(user).filter(code__in=codes).order_by("code"))


def training_counts(user: StaffMember | AnonymousUser, departments: list[Department]) -> dict[tuple[int, Quarter], int]:
    """Trainings in each department's own line, per quarter: one query."""
    subjects = settings.ORGANISATION_TRAINING_DEPARTMENTS
    counts: dict[tuple[int, Quarter], int] = {}
    rows = (
        Training.objects.visible_to(user)
        .filter(department__in=departments)
        .annotate(y=ExtractYear("held_on"), q=ExtractQuarter("held_on"))
        .values("department_id", "department__code", "subject", "y", "q")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in rows:
        if row["subject"] != subjects.get(row["department__code"]):
            continue
        key = (row["department_id"], Quarter(row["y"], row["q"]))
        counts[key] = counts.get(key, 0) + row["n"]
    return counts


@dataclass(frozen=True)
class MissedQuarter:
    department: Department
    quarter: Quarter


def training_missed_quarters(
    user: StaffMember | AnonymousUser,
    *,
    today: datetime.date | None = None,
    departments: list[Department] | None = None,
    counts: dict[tuple[int, Quarter], int] | None = None,
) -> list[MissedQuarter]:
    """Every finished quarter since the first one in which a department held no training in its line.
    ``departments`` and ``counts`` may be passed in when the caller has them already."""
    last = Quarter.of(today or _today()).previous()
    if departments is None:
        departments = training_departments(user)
    if counts is None:
        counts = training_counts(user, departments)
    return [
        MissedQuarter(department=department, quarter=quarter)
        for department in departments
        for quarter in quarters_between(first_training_quarter(), last)
        if not counts.get((department.pk, quarter))
    ]


@dataclass(frozen=True)
class QuarterCell:
    quarter: Quarter
    trainings: int
    missed: bool
    pending: bool  # the quarter has not ended yet, or lies before the first required quarter


@dataclass(frozen=True)
class DepartmentQuarters:
    department: Department
    cells: list[QuarterCell]


def training_quarter_matrix(
    user: StaffMember | AnonymousUser,
    *,
    year: int,
    today: datetime.date | None = None,
    departments: list[Department] | None = None,
    counts: dict[tuple[int, Quarter], int] | None = None,
) -> list[DepartmentQuarters]:
    day = today or _today()
    current = Quarter.of(day)
    first = first_training_quarter()
    if departments is None:
        departments = training_departments(user)
    if counts is None:
        counts = training_counts(user, departments)
    matrix = []
    for department in departments:
        cells = []
        for number in range(1, 5):
            quarter = Quarter(year, number)
            n = counts.get((department.pk, quarter), 0)
            pending = quarter >= current or quarter < first
            cells.append(QuarterCell(quarter=quarter, trainings=n, missed=not pending and n == 0, pending=pending))
        matrix.append(DepartmentQuarters(department=department, cells=cells))
    return matrix
