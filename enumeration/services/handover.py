"""A small area handed over from one field worker to another (census.staffing.services.small_area_reassign).

The successor takes the area's open work: the households of the predecessor that were never signed — listed
or being filled in — become the successor's to register and sign. A form that was ever signed keeps its
registrar (谁登记、谁签字): its signatures and every finding about it stay with the person who signed it, and the
successor, who now covers the area, sees them with the area's findings.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from census.models import SmallArea, StaffMember
from enumeration.models import Household, HouseholdState, Signature


def households_hand_over(*, small_area: SmallArea, predecessor: StaffMember, successor: StaffMember) -> int:
    """Give ``successor`` the never-signed households ``predecessor`` started in ``small_area``; how many.

    The version goes up, so that a phone still holding the predecessor's copy of a draft is refused (409)
    instead of overwriting the successor's work."""
    ever_signed = Exists(Signature.objects.filter(household=OuterRef("pk")))
    return (
        Household.objects.filter(
            small_area=small_area, registrar=predecessor, state__in=(HouseholdState.LISTED, HouseholdState.DRAFT)
        )
        .exclude(ever_signed)
        .update(registrar=successor, version=F("version") + 1, updated_at=timezone.now())
    )


def on_small_area_handed_over(
    sender: Any, *, small_area: SmallArea, predecessor: StaffMember, successor: StaffMember, **kwargs: Any
) -> int:
    """Receiver of ``census.staffing.signals.small_area_handed_over`` (connected in ``EnumerationConfig.ready``)."""
    return households_hand_over(small_area=small_area, predecessor=predecessor, successor=successor)
