"""Reads of the census frame, always through ``visible_to(user)``."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from census.models import AuditChainRun, AuditChainRunKind, AuditEvent, SmallArea, StaffMember, Township, Village


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


def audit_chain_status() -> tuple[AuditChainRun | None, AuditChainRun | None]:
    """The last sealing run and the last full verification of the audit log's chain (census.audit_chain).

    Not scoped: they say how far the whole installation's log is sealed and whether it verifies, and name no
    one. Two indexed queries — what the sealer and the nightly verification found, not a verification per view.
    """
    runs = AuditChainRun.objects.order_by("-started_at", "-id")
    return (
        runs.filter(kind=AuditChainRunKind.SEAL).first(),
        runs.filter(kind=AuditChainRunKind.VERIFY).first(),
    )
