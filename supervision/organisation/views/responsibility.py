"""落实到人头 (S3): the heads of the census offices, the small areas without exactly one enumerator, and the
overdue work escalated up the chains."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from census.models import Role, StaffMember, StaffStatus, Township
from census.permissions import StaffRequest, role_required
from supervision.organisation.models import Escalation
from supervision.organisation.selectors.responsibility import office_heads, small_areas_without_one_enumerator
from supervision.organisation.services.responsibility import office_head_set
from supervision.organisation.views.common import OFFICE_ROLES, is_district, posted_person


@role_required(*OFFICE_ROLES)
def responsibility(request: StaffRequest) -> HttpResponse:
    user = request.user
    district_id = user.district_id or ""
    if request.method == "POST":
        if not is_district(user):
            raise PermissionDenied
        township_id = request.POST.get("township") or None
        person = posted_person(request.POST, "person")
        if person is None and str(request.POST.get("person") or "").strip():
            # Not an account's id (an empty choice is how the district clears a head).
            messages.error(request, _("Choose a person."))
            return redirect("supervision:responsibility")
        try:
            office_head_set(district_id=district_id, township_id=township_id, person=person, actor=user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Head of the office saved."))
        return redirect("supervision:responsibility")
    heads = office_heads(district_id)
    townships = list(Township.objects.visible_to(user).order_by("code"))
    offices = []
    may_set = is_district(user)
    accounts: dict[str | None, list[StaffMember]] = {}
    if may_set:
        for member in StaffMember.objects.filter(
            district_id=district_id,
            status=StaffStatus.ACTIVE,
            role__in=(Role.TOWNSHIP_OFFICE, Role.DISTRICT_OFFICE),
        ).order_by("username"):
            key = member.township_id if member.role == Role.TOWNSHIP_OFFICE else None
            accounts.setdefault(key, []).append(member)
        offices.append(
            {
                "code": "",
                "name": _("District census office"),
                "head": heads.get(None),
                "accounts": accounts.get(None, []),
            }
        )
    offices += [
        {"code": t.code, "name": t.name, "head": heads.get(t.code), "accounts": accounts.get(t.code, [])}
        for t in townships
    ]
    flagged = small_areas_without_one_enumerator(user=user)
    escalations = (
        Escalation.objects.visible_to(user).select_related("person").order_by("-created_at", "kind", "object_id")[:50]
    )
    return render(
        request,
        "organisation/responsibility.html",
        {
            "offices": offices,
            "may_set": may_set,
            "flagged": flagged[:100],
            "flagged_count": flagged.count(),
            "escalations": escalations,
        },
    )
