"""Reads of self-enumeration: a code's invitation, a small area's invitations, what awaits verification, uptake."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from census import privacy
from census.models import SmallArea, StaffMember
from enumeration import ledger
from enumeration.forms import field_label, value_label
from enumeration.models import SIGNED_STATES, CollectionMode, Household, HouseholdState
from enumeration.self_enumeration.models import Declaration, Invitation
from enumeration.self_enumeration.services import code_hash
from enumeration.verification import household_content


def invitation_by_code(code: str) -> Invitation | None:
    """The invitation a code opens (whatever its state: the caller tells expired and revoked apart)."""
    return (
        Invitation.objects.select_related("household__small_area", "household__village", "household__township")
        .filter(code_hash=code_hash(code))
        .first()
    )


def declaration_of(invitation: Invitation) -> Declaration | None:
    return Declaration.objects.filter(invitation=invitation).first()


@dataclass
class AreaEntry:
    household: Household
    invitation: Invitation | None
    declaration: Declaration | None

    @property
    def status(self) -> str:
        """not_invited | invited | started | declared | verifying | verified | revoked | expired | door."""
        household, invitation, declaration = self.household, self.invitation, self.declaration
        if declaration is not None:
            if household.state in SIGNED_STATES and household.collection_mode == CollectionMode.SELF:
                return "verified"
            if declaration.taken_up_at is not None:
                return "verifying"
            if household.state != HouseholdState.LISTED:
                return "door"
            return "declared"
        if invitation is None:
            return "not_invited"
        if invitation.revoked_at is not None:
            return "revoked"
        if not invitation.is_open:
            return "expired"
        return "started" if invitation.started_at else "invited"


def area_entries(*, user: StaffMember, small_area: SmallArea) -> list[AreaEntry]:
    """Every household of the small area with its latest invitation and its declaration (three queries)."""
    households = list(
        Household.objects.visible_to(user)
        .filter(small_area=small_area)
        .order_by("household_no")
        .prefetch_related(  # type: ignore[type-var]
            Prefetch("invitations", queryset=Invitation.objects.order_by("-issued_at"), to_attr="invitations_newest"),
            Prefetch("declarations", queryset=Declaration.objects.order_by("-declared_at"), to_attr="declared"),
        )
    )
    return [
        AreaEntry(
            household,
            h_invitations[0] if (h_invitations := household.invitations_newest) else None,  # type: ignore[attr-defined]
            household.declared[0] if household.declared else None,  # type: ignore[attr-defined]
        )
        for household in households
    ]


def to_verify(*, user: StaffMember) -> QuerySet[Declaration]:
    """Declarations of households in the user's small areas that no one has taken up yet."""
    return (
        Declaration.objects.visible_to(user)
        .filter(taken_up_at__isnull=True, household__small_area__assignments__staff=user)
        .select_related("household__small_area")
        .order_by("declared_at")
    )


def declaration_for(household: Household) -> Declaration | None:
    return Declaration.objects.filter(household=household).order_by("-declared_at").first()


def uptake(*, user: StaffMember) -> QuerySet[Any]:
    """Per small area the user sees: households listed, invited, started, declared, verified (signed as
    self-reported) and both declared and registered at the door (duplicates to resolve). One query."""
    invited = Invitation.objects.filter(household=OuterRef("pk"))
    started = invited.filter(started_at__isnull=False)
    declared = Declaration.objects.filter(household=OuterRef("pk"))
    rows = (
        Household.objects.visible_to(user)
        .annotate(
            is_invited=Exists(invited),
            is_started=Exists(started),
            is_declared=Exists(declared),
        )
        .values("small_area_id", "small_area__code", "village__name")
        .annotate(
            listed=Count("pk"),
            invited=Count("pk", filter=Q(is_invited=True)),
            started=Count("pk", filter=Q(is_started=True)),
            declared=Count("pk", filter=Q(is_declared=True)),
            verified=Count(
                "pk", filter=Q(is_declared=True, state__in=SIGNED_STATES, collection_mode=CollectionMode.SELF)
            ),
            duplicates=Count(
                "pk",
                filter=Q(is_declared=True) & ~Q(state=HouseholdState.LISTED) & ~Q(collection_mode=CollectionMode.SELF),
            ),
        )
        .filter(invited__gt=0)
        .order_by("small_area__code")
    )
    return rows


def door_duplicates() -> QuerySet[Household]:
    """Households that declared their own form and were also registered at the door (the nightly checks)."""
    return Household.objects.filter(
        Exists(Declaration.objects.filter(household=OuterRef("pk"))),
        ~Q(state=HouseholdState.LISTED),
        ~Q(collection_mode=CollectionMode.SELF),
    )


def _shown(field: str, unmasked: bool) -> Any:
    if unmasked or field not in ("d1_name", "d3_id_number"):
        return lambda text: text
    return privacy.mask_name if field == "d1_name" else privacy.mask_id_number


@dataclass(frozen=True)
class Change:
    section: str
    row: int | None
    label: str
    declared: str
    now: str


def declared_changes(declaration: Declaration, household: Household, *, unmasked: bool) -> list[Change]:
    """What differs between what the household declared and its form now, item by item (names and ID numbers
    masked unless ``unmasked``)."""
    current = household_content(household)
    current["respondent"] = None
    out = []
    for change in ledger.content_diff(declaration.content, current):
        section, field = change["section"], change["field"]
        if section == "respondent" or field == "warning_notes":
            continue
        show = _shown(field, unmasked)
        out.append(
            Change(
                section=section,
                row=change["row"],
                label=field_label(section, field),
                declared=show(value_label(section, field, change["before"])),
                now=show(value_label(section, field, change["after"])),
            )
        )
    return out
