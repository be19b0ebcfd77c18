"""Reads of the census frame, always through ``visible_to(user)``."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from census.models import AuditEvent, SmallArea, StaffMember, Township, Village


def township_list(*, user: StaffMember) -> QuerySet[Township]:
    return Township.objects.visible_to(user).annotate(village_count=Count("villages", distinct=True)).order_by("code")


def village_list(*, user: StaffMember, township: Township | None = None) -> QuerySet[Village]:
    qs = Village.objects.visible_to(user).select_related("township")
    if township is not None:
        qs = qs.filter(township=township)
    return qs.annotate(small_area_count=Count("small_areas", distinct=True)).order_by("code")


def small_area_list(*, user: StaffMember) -> QuerySet[SmallArea]:
    return (
        SmallArea.objects.visible_to(user)
        .select_related("village", "township")
        .annotate(enumerator_count=Count("assignments", distinct=True))
        .order_by("code")
    )


def audit_log(*, user: StaffMember) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.visible_to(user).order_by("-at", "-id")
