"""Reads of 落实到人头 (S3): a person's chain upward, the small areas without exactly one enumerator, and the
escalations of a work item."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from census.models import Role, SmallArea, StaffMember, StaffStatus, SupervisorAssignment
from supervision.organisation.models import Escalation, EscalationKind, OfficeHead, ReadinessItem


@dataclass(frozen=True)
class ChainLink:
    """One step of a chain: what the step is, and the account at it (None: nobody named there yet)."""

    step: str
    person: StaffMember | None


def office_heads(district_id: str) -> dict[str | None, StaffMember]:
    """The district's office heads by township code (None: the district office's own head)."""
    return {
        head.township_id: head.person
        for head in OfficeHead.objects.filter(district_id=district_id).select_related("person")
    }


def responsibility_chain(person: StaffMember, *, heads: dict[str | None, StaffMember] | None = None) -> list[ChainLink]:
    """一级抓一级: the person, then each level above them — an enumerator's supervisor, the head of their
    township's census office, the head of the district's. A level the person is themselves is left out; a level
    nobody was named to is kept, empty, so the gap shows."""
    heads = heads if heads is not None else office_heads(person.district_id or "")
    chain = [ChainLink(str(person.get_role_display()), person)]
    if person.role == Role.ENUMERATOR:
        link = SupervisorAssignment.objects.filter(enumerator=person).select_related("supervisor").first()
        chain.append(ChainLink(str(_("Supervisor")), link.supervisor if link else None))
    if person.role in (Role.ENUMERATOR, Role.SUPERVISOR, Role.TOWNSHIP_OFFICE):
        head = heads.get(person.township_id)
        if head is None or head.pk != person.pk:
            chain.append(ChainLink(str(_("Head of the township census office")), head))
    district_head = heads.get(None)
    if district_head is None or district_head.pk != person.pk:
        chain.append(ChainLink(str(_("Head of the district census office")), district_head))
    return chain


def named_chain(person: StaffMember, *, heads: dict[str | None, StaffMember] | None = None) -> list[StaffMember]:
    """The accounts of the chain in order, the empty levels skipped: whom overdue work climbs through."""
    return [link.person for link in responsibility_chain(person, heads=heads) if link.person is not None]


def small_areas_without_one_enumerator(*, user: StaffMember) -> QuerySet[SmallArea]:
    """落实到人头 for small areas: each has exactly one active field worker answerable for it. Those with none
    (``active_staff`` 0) or several are flagged."""
    return (
        SmallArea.objects.visible_to(user)
        .annotate(active_staff=Count("assignments", filter=Q(assignments__staff__status=StaffStatus.ACTIVE)))
        .exclude(active_staff=1)
        .select_related("village", "township")
        .order_by("code")
    )


def small_area_responsible(area: SmallArea) -> StaffMember | None:
    """The one active field worker of a small area; None when there is none or more than one."""
    people = list(
        StaffMember.objects.filter(area_assignments__small_area=area, status=StaffStatus.ACTIVE).distinct()[:2]
    )
    return people[0] if len(people) == 1 else None


def escalations_of(kind: str, object_id: int) -> list[Escalation]:
    return list(Escalation.objects.filter(kind=kind, object_id=object_id).select_related("person").order_by("level"))


# How long an escalation stays on the start page of the person it reached (the responsibility page keeps all).
ESCALATION_NOTICE_DAYS = 14


@dataclass(frozen=True)
class EscalationNotice:
    escalation: Escalation
    url: str


def escalations_to(user: StaffMember, *, today: datetime.date, limit: int = 10) -> tuple[list[EscalationNotice], int]:
    """Overdue work that climbed the chain to this person in the last ``ESCALATION_NOTICE_DAYS`` days (一级抓一级:
    the person above is told, on the start page), newest first, each with the page of the work item; and how
    many there are in all."""
    since = today - datetime.timedelta(days=ESCALATION_NOTICE_DAYS)
    recent = Escalation.objects.filter(person=user, created_at__date__gte=since)
    rows = list(recent.order_by("-created_at", "kind", "object_id")[:limit])
    readiness = dict(
        ReadinessItem.objects.filter(
            pk__in=[e.object_id for e in rows if e.kind == EscalationKind.READINESS_ITEM]
        ).values_list("pk", "readiness_id")
    )
    notices = []
    for escalation in rows:
        if escalation.kind == EscalationKind.READINESS_ITEM:
            url = reverse("supervision:readiness-detail", args=[readiness.get(escalation.object_id, 0)])
        elif escalation.kind == EscalationKind.DEPARTMENT_TASK:
            url = reverse("supervision:department-task", args=[escalation.object_id])
        elif escalation.kind == EscalationKind.RECTIFICATION_TASK:
            url = reverse("supervision:rectification-task", args=[escalation.object_id])
        else:
            url = reverse("supervision:finding-detail", args=[escalation.object_id])
        notices.append(EscalationNotice(escalation, url))
    return notices, (recent.count() if len(rows) == limit else len(rows))
