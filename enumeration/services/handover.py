"""A small area handed over from one field worker to another (census.staffing.services.small_area_reassign).

The successor takes the area's open work: the forms the predecessor started and nobody ever signed become the
successor's to fill in and sign. A form that was ever signed keeps its registrar (谁登记、谁签字): its signatures
and every finding about it stay with the person who signed it, and the successor, who now covers the area,
sees them with the area's findings.

The change of registrar is written into each form's sealed trail as a hand-over: a change from draft to draft
(no service makes any other), its actor the successor, its reason naming the predecessor. The ledger's rule
"the registrar is who started the form" reads "… or whom it was last handed over to" (``ledger.HANDOVER``), so
verify_signatures and the nightly checks accept the new registrar — and still catch one changed behind the
application's back, which has no such sealed change.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from census.models import SmallArea, StaffMember
from enumeration.models import Household, HouseholdState, Signature
from enumeration.services.trail import transitions_record


def households_hand_over(
    *, small_area: SmallArea, predecessor: StaffMember, successor: StaffMember, actor: StaffMember | None = None
) -> int:
    """Give ``successor`` the never-signed drafts ``predecessor`` started in ``small_area``; how many.

    The version goes up, so that a phone still holding the predecessor's copy of a draft is refused (409)
    instead of overwriting the successor's work."""
    ever_signed = Exists(Signature.objects.filter(household=OuterRef("pk")))
    drafts = list(
        Household.objects.select_for_update()
        .filter(small_area=small_area, registrar=predecessor, state=HouseholdState.DRAFT)
        .exclude(ever_signed)
        .values_list("pk", flat=True)
    )
    if not drafts:
        return 0
    Household.objects.filter(pk__in=drafts).update(
        registrar=successor, version=F("version") + 1, updated_at=timezone.now()
    )
    by = f"，由 {actor.username} 办理" if actor is not None else ""
    transitions_record(
        household_ids=drafts,
        from_state=HouseholdState.DRAFT,
        to_state=HouseholdState.DRAFT,
        actor_id=successor.pk,
        area_code=small_area.code,
        reason=f"交接：普查小区由 {predecessor.username} 移交给 {successor.username}{by}",
    )
    return len(drafts)


def on_small_area_handed_over(
    sender: Any,
    *,
    small_area: SmallArea,
    predecessor: StaffMember,
    successor: StaffMember,
    actor: StaffMember | None = None,
    **kwargs: Any,
) -> int:
    """Receiver of ``census.staffing.signals.small_area_handed_over`` (connected in ``EnumerationConfig.ready``)."""
    return households_hand_over(small_area=small_area, predecessor=predecessor, successor=successor, actor=actor)
