"""The assessment ranking of a district's townships and departments (S4): the counts behind each component,
read in a handful of grouped queries, then scored by :mod:`supervision.organisation.assessment`."""

from __future__ import annotations

import datetime
from collections import defaultdict
from typing import Any

from django.conf import settings
from django.db.models import Count, F, Q, Sum

from census.models import Department, Township
from supervision.organisation.assessment import (
    AssessedUnit,
    AssessmentWeights,
    assessment_points,
    assessment_score,
    assessment_weights,
)
from supervision.organisation.models import (
    DepartmentTask,
    DepartmentTaskStatus,
    ReadinessItem,
    ReadinessStatus,
    UnitKind,
)
from supervision.organisation.services.common import today as _today
from supervision.progress import scoring


def registration_started(day: datetime.date) -> bool:
    return day >= datetime.date.fromisoformat(settings.PROGRESS_WINDOW[0])


def _readiness_shares(district_id: str) -> dict[str, float]:
    """Per township code / "dept:<pk>": the share of its 四落实 items done by their own deadline."""
    on_time: dict[str, int] = defaultdict(int)
    total: dict[str, int] = defaultdict(int)
    rows = (
        ReadinessItem.objects.filter(readiness__district_id=district_id)
        .with_due_on()
        .values_list(  # type: ignore[misc]
            "readiness__unit_kind",
            "readiness__township_id",
            "readiness__department_id",
            "status",
            "completed_on",
            "due_on",
        )
    )
    for kind, township, department, status, completed_on, due_on in rows:
        key = f"dept:{department}" if kind == UnitKind.DEPARTMENT else str(township)
        total[key] += 1
        if status == ReadinessStatus.DONE and completed_on is not None and completed_on <= due_on:
            on_time[key] += 1
    return {key: on_time[key] / n for key, n in total.items() if n}


def _task_shares(district_id: str, day: datetime.date) -> dict[str, float]:
    """Per "dept:<pk>": its census tasks delivered and answered by the deadline ÷ its tasks due or delivered."""
    rows = (
        DepartmentTask.objects.filter(district_id=district_id)
        .filter(Q(deadline__lt=day) | Q(status=DepartmentTaskStatus.DELIVERED))
        .values("department_id")
        .annotate(
            due=Count("pk"),
            delivered_on_time=Count(
                "pk",
                filter=Q(status=DepartmentTaskStatus.DELIVERED, answered_on__lte=F("deadline")),
            ),
        )
    )
    return {f"dept:{r['department_id']}": r["delivered_on_time"] / r["due"] for r in rows if r["due"]}


def _registration(district_id: str) -> dict[str, dict[str, float | None]]:
    """Per township: publicity, registration, acceptance and findings as the progress dashboard computes them."""
    from supervision.progress.models import SmallAreaProgress

    fields = (
        "households",
        "hh_signed",
        "hh_approved",
        "hh_accepted",
        "hh_locked",
        "hh_listed",
        "aware",
        "aware_answered",
    )
    sums: dict[str, dict[str, Any]] = {
        r["township_id"]: dict(r)
        for r in SmallAreaProgress.objects.filter(township__district_id=district_id)
        .values("township_id")
        .annotate(**{f: Sum(f) for f in fields})
    }
    findings: dict[str, int] = {}
    try:
        from supervision.quality.models import Finding

        findings = dict(
            Finding.objects.open()
            .filter(township__district_id=district_id)
            .values("township_id")
            .annotate(n=Count("pk"))
            .values_list("township_id", "n")
        )
    except ImportError:  # pragma: no cover - the quality part is installed in every deployment we ship
        findings = {}
    w = scoring.weights()
    result: dict[str, dict[str, float | None]] = {}
    for code, r in sums.items():
        households = r["households"] or 0
        signed = (r["hh_signed"] or 0) + (r["hh_approved"] or 0) + (r["hh_accepted"] or 0) + (r["hh_locked"] or 0)
        accepted = (r["hh_accepted"] or 0) + (r["hh_locked"] or 0)
        registered = households - (r["hh_listed"] or 0)
        open_findings = findings.get(code, 0)
        result[code] = {
            "publicity": (r["aware"] or 0) / r["aware_answered"] if r["aware_answered"] else 0.0,
            "registration": signed / households if households else 0.0,
            "acceptance": accepted / households if households else 0.0,
            "findings": (
                max(0.0, 1.0 - open_findings * ((100.0 / w.findings_per_100_for_zero) / registered))
                if registered
                else 0.0
            ),
        }
    return result


def assessment_ranking(
    *, district_id: str, today: datetime.date | None = None, w: AssessmentWeights | None = None
) -> list[AssessedUnit]:
    """Every township and department of the district, scored and ranked (best first, ties by name)."""
    day = today or _today()
    w = w or assessment_weights()
    readiness = _readiness_shares(district_id)
    tasks = _task_shares(district_id, day)
    registration = _registration(district_id) if registration_started(day) else {}
    units: list[AssessedUnit] = []
    for township in Township.objects.filter(district_id=district_id).order_by("code"):
        figures = registration.get(township.code)
        components: dict[str, float | None] = {
            "readiness": readiness.get(township.code),
            "tasks": None,
            "publicity": None,
            "registration": None,
            "acceptance": None,
            "findings": None,
        }
        if registration_started(day):
            components.update(figures or {"publicity": 0.0, "registration": 0.0, "acceptance": 0.0, "findings": 0.0})
        units.append(AssessedUnit("township", township.code, township.name, components))
    for department in Department.objects.filter(district_id=district_id).order_by("code"):
        key = f"dept:{department.pk}"
        components = dict.fromkeys(("publicity", "registration", "acceptance", "findings"))
        components.update(readiness=readiness.get(key), tasks=tasks.get(key))
        units.append(AssessedUnit("department", key, department.name, components))
    for unit in units:
        unit.score = assessment_score(unit.components, w)
        unit.points = assessment_points(unit.score, w)
    units.sort(key=lambda u: (-u.score, u.name))
    ranks = scoring.ranks([(u.key, u.score) for u in units])
    for unit in units:
        unit.rank = ranks[unit.key]
    return units
