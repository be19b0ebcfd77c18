"""Reads of the enterprise and project directory."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Q, QuerySet

from census.models import StaffMember
from supervision.organisation.models import DirectoryFigure, DirectoryKind, DirectoryUnit, UnitStatus


def directory_unit_list(*, user: StaffMember | AnonymousUser) -> QuerySet[DirectoryUnit]:
    return (
        DirectoryUnit.objects.visible_to(user)
        .select_related("department", "township")
        .annotate(figure_count=Count("figures", distinct=True))
    )


def directory_figures(*, user: StaffMember | AnonymousUser, unit: DirectoryUnit) -> QuerySet[DirectoryFigure]:
    return (
        DirectoryFigure.objects.visible_to(user)
        .filter(unit=unit)
        .select_related("source_document", "reported_by")
        .order_by("-period", "indicator")
    )


@dataclass(frozen=True)
class KindCounts:
    kind: str
    label: str
    in_directory: int
    to_remove: int
    removed: int


def directory_summary(user: StaffMember | AnonymousUser) -> list[KindCounts]:
    rows = {
        r["kind"]: r
        for r in DirectoryUnit.objects.visible_to(user)
        .values("kind")
        .annotate(
            in_directory=Count("pk", filter=Q(status=UnitStatus.IN_DIRECTORY)),
            to_remove=Count("pk", filter=Q(status=UnitStatus.TO_REMOVE)),
            removed=Count("pk", filter=Q(status=UnitStatus.REMOVED)),
        )
        .order_by()
    }
    return [
        KindCounts(
            kind=kind.value,
            label=str(kind.label),
            in_directory=rows[kind]["in_directory"],
            to_remove=rows[kind]["to_remove"],
            removed=rows[kind]["removed"],
        )
        for kind in DirectoryKind
        if kind in rows
    ]
