"""Reads of the registration pages. Every queryset starts from ``visible_to(user)``."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from census.models import Building, Role, SmallArea, SmallAreaAssignment, StaffMember, Township, Village
from census.scoping import ScopeKind, scope_of
from enumeration.codes import code_list
from enumeration.models import (
    ALL_DEAD_HOUSEHOLD_NO,
    EDITABLE_STATES,
    SIGNED_STATES,
    DwellingUnit,
    FormKind,
    Household,
    HouseholdState,
    HouseholdTransition,
    HouseholdVersion,
    LongFormSample,
    Person,
    PhoneDevice,
    RespondentConfirmation,
    ReviewComment,
)
from enumeration.models.devices import device_key_digest

S = HouseholdState
STATE_ORDER: tuple[str, ...] = tuple(S.values)


# --- the enumerator's start page --------------------------------------------------------------------------


def my_small_areas(*, user: StaffMember) -> QuerySet[SmallArea]:
    """The small areas a field worker covers, with their households counted by state."""
    counts: dict[str, Any] = {
        f"n_{state}": Count("households", filter=Q(households__state=state)) for state in STATE_ORDER
    }
    return (
        SmallArea.objects.visible_to(user)
        .select_related("village", "township")
        .annotate(
            n_households=Count("households"),
            n_expected_persons=Coalesce(Sum("households__expected_persons"), 0),
            assigned_to_me=Exists(SmallAreaAssignment.objects.filter(small_area=OuterRef("pk"), staff=user)),
            **counts,
        )
        .order_by("-assigned_to_me", "code")
    )


def listed_households_by_small_area(*, small_area_ids: list[int]) -> dict[int, int]:
    """Households the listing (摸底) found in each of the given small areas: what the offices balance their
    enumerators by (``CENSUS_STAFFING["EXPECTED_HOUSEHOLDS_SOURCE"]``). The ids come from the caller's scope."""
    rows = (
        Household.objects.filter(small_area_id__in=small_area_ids)
        .values("small_area_id")
        .annotate(n=Count("pk"))
        .values_list("small_area_id", "n")
    )
    return dict(rows)


def returned_households(*, user: StaffMember) -> QuerySet[Household]:
    """Forms sent back to this registrar, with the open review comments, oldest first."""
    return (
        Household.objects.visible_to(user)
        .registered_by(user)
        .filter(state=S.RETURNED)
        .select_related("small_area")
        .prefetch_related(
            Prefetch(
                "review_comments",
                queryset=ReviewComment.objects.open().order_by("created_at"),
                to_attr="open_comments",
            )
        )
        .order_by("updated_at")
    )


def drafts_in_progress(*, user: StaffMember) -> QuerySet[Household]:
    return (
        Household.objects.visible_to(user)
        .registered_by(user)
        .filter(state=S.DRAFT)
        .select_related("small_area")
        .order_by("-updated_at")
    )


def long_form_to_register(*, user: StaffMember) -> QuerySet[Household]:
    """Households of this registrar drawn into the long-form sample whose long-form items are still empty."""
    empty_long_items = Exists(Person.objects.filter(household=OuterRef("pk"), c12_land_right__isnull=True).values("pk"))
    return (
        Household.objects.visible_to(user)
        .registered_by(user)
        .filter(in_long_form_sample=True, state__in=(S.SIGNED, S.APPROVED, S.ACCEPTED))
        .filter(empty_long_items)
        .select_related("small_area")
        .order_by("small_area__code", "household_no")
    )


# --- listing ----------------------------------------------------------------------------------------------


@dataclass
class AreaListing:
    area: SmallArea
    buildings: list[Building]
    households: list[Household]
    can_edit: bool
    totals: dict[str, int] = field(default_factory=dict)


def may_list(user: StaffMember, small_area: SmallArea) -> bool:
    """Who keeps the listing of a small area in the browser: the field workers assigned to it."""
    return user.role in (Role.ENUMERATOR, Role.SUPERVISOR) and small_area.assignments.filter(staff=user).exists()


def area_listing(*, user: StaffMember, small_area: SmallArea) -> AreaListing:
    buildings = list(
        Building.objects.visible_to(user)
        .filter(small_area=small_area)
        .prefetch_related(Prefetch("dwelling_units", queryset=DwellingUnit.objects.order_by("number")))
        .order_by("number")
    )
    households = list(
        Household.objects.visible_to(user)
        .filter(small_area=small_area)
        .select_related("building", "dwelling_unit__building", "registrar")
        .order_by("household_no")
    )
    totals = {
        "households": sum(1 for h in households if not h.is_all_dead),
        "expected_persons": sum(h.expected_persons for h in households),
        "aware": sum(1 for h in households if h.aware_of_census),
        "buildings": len(buildings),
        "units": sum(len(b.dwelling_units.all()) for b in buildings),
    }
    can_edit = may_list(user, small_area)
    for household in households:
        # Whether this user may open the form: its registrar, or anyone assigned here before it is started.
        household.can_register = household.state in EDITABLE_STATES and (  # type: ignore[attr-defined]
            household.registrar_id == user.pk or (household.registrar_id is None and can_edit)
        )
    return AreaListing(small_area, buildings, households, can_edit, totals)


# --- one household ------------------------------------------------------------------------------------------


def household_for(*, user: StaffMember) -> QuerySet[Household]:
    return Household.objects.visible_to(user).select_related(
        "small_area", "village", "township", "building", "dwelling_unit", "registrar", "current_signature"
    )


def _labelled(confirmation: RespondentConfirmation | None) -> RespondentConfirmation | None:
    if confirmation is not None:
        confirmation.relationship_label = code_list("D2").label(confirmation.relationship)  # type: ignore[attr-defined]
    return confirmation


def current_confirmation(household: Household) -> RespondentConfirmation | None:
    """The respondent's latest confirmation of the household's current version, if any."""
    return _labelled(
        RespondentConfirmation.objects.filter(household=household, household_version=household.version)
        .order_by("-confirmed_at", "-pk")
        .first()
    )


def latest_confirmation(household: Household) -> RespondentConfirmation | None:
    return _labelled(
        RespondentConfirmation.objects.filter(household=household).order_by("-confirmed_at", "-pk").first()
    )


@dataclass
class History:
    versions: list[HouseholdVersion]
    transitions: list[HouseholdTransition]
    comments: list[ReviewComment]


def household_history(household: Household) -> History:
    return History(
        versions=list(
            HouseholdVersion.objects.filter(household=household).select_related("author").order_by("-number", "-pk")
        ),
        transitions=list(
            HouseholdTransition.objects.filter(household=household).select_related("actor").order_by("-at", "-pk")
        ),
        comments=list(ReviewComment.objects.filter(household=household).select_related("author").order_by("-pk")),
    )


def open_comments(household: Household) -> list[ReviewComment]:
    return list(ReviewComment.objects.open().filter(household=household).select_related("author").order_by("pk"))


# --- review queue and household list ------------------------------------------------------------------------


def search(queryset: QuerySet[Household], query: str, fields: tuple[str, ...]) -> QuerySet[Household]:
    """The same search ``census.listing.paginate_list`` does, for actions that must apply the current filter."""
    query = (query or "").strip()[:100]
    if not query or not fields:
        return queryset
    return queryset.filter(reduce(or_, (Q(**{f"{name}__icontains": query}) for name in fields)))


def default_review_state(user: StaffMember) -> str:
    """What waits for this role: signed forms for a supervisor, approved ones for the township office (验收),
    accepted ones for the district office (lock)."""
    waiting: dict[str, str] = {Role.TOWNSHIP_OFFICE: S.APPROVED, Role.DISTRICT_OFFICE: S.ACCEPTED}
    return waiting.get(user.role, S.SIGNED)


def review_base(*, user: StaffMember) -> QuerySet[Household]:
    """The forms a reviewer looks at: for a supervisor those registered by the enumerators they oversee."""
    queryset = Household.objects.visible_to(user).registered()
    if user.role == Role.SUPERVISOR:
        queryset = queryset.filter(registrar__supervision__supervisor=user)
    return queryset


@dataclass
class HouseholdFilter:
    township: str = ""
    village: str = ""
    small_area: int | None = None
    registrar: int | None = None
    state: str = ""
    has_warnings: str = ""  # "" | "yes" | "no"
    long_form: str = ""  # "" | "yes" | "no"

    def apply(self, queryset: QuerySet[Household]) -> QuerySet[Household]:
        if self.township:
            queryset = queryset.filter(township_id=self.township)
        if self.village:
            queryset = queryset.filter(village_id=self.village)
        if self.small_area:
            queryset = queryset.filter(small_area_id=self.small_area)
        if self.registrar:
            queryset = queryset.filter(registrar_id=self.registrar)
        if self.state:
            queryset = queryset.filter(state=self.state)
        # Signed forms carry a note for every warning, so "has warnings" means "has notes on warnings".
        if self.has_warnings == "yes":
            queryset = queryset.exclude(warning_notes={})
        elif self.has_warnings == "no":
            queryset = queryset.filter(warning_notes={})
        if self.long_form == "yes":
            queryset = queryset.filter(in_long_form_sample=True)
        elif self.long_form == "no":
            queryset = queryset.filter(in_long_form_sample=False)
        return queryset


def review_queue(*, user: StaffMember, filters: HouseholdFilter, query: str = "") -> QuerySet[Household]:
    queryset = filters.apply(review_base(user=user))
    return search(queryset, query, review_search_fields(user)).select_related("small_area", "registrar")


def review_search_fields(user: StaffMember) -> tuple[str, ...]:
    fields: tuple[str, ...] = ("small_area__code", "registrar__username", "registrar__last_name")
    # Offices see names masked; searching by name would unmask them one guess at a time.
    if user.role in (Role.ENUMERATOR, Role.SUPERVISOR):
        fields = (*fields, "head_name_listed")
    return fields


def within_area_code(queryset: QuerySet[Household], code: str) -> QuerySet[Household]:
    """Households whose small area's code lies under ``code`` (a township's 9 or a village's 12 digits).

    Area codes nest, so this repeats a township or village filter — on the small area's code, which is what the
    lists sort by. Without it PostgreSQL, sorting a township's households by small area code, walks the small
    areas of the whole district in code order from the first and drops the other townships' households one by
    one (235 ms for the page of a township late in the code order, 1,000,000-person district); with it, only
    the township's small areas. A code that is not all digits bounds nothing.
    """
    if not code.isdigit():
        return queryset
    after = str(int(code) + 1).zfill(len(code))
    return queryset.filter(small_area__code__gte=code, small_area__code__lt=after)


def narrowest_area_code(user: StaffMember, filters: HouseholdFilter | None = None) -> str:
    """The finest area code a household list is limited to: a village or township filter, else a township
    office's own township ("" when nothing narrower than the district applies)."""
    if filters is not None and (filters.village or filters.township):
        return filters.village or filters.township
    scope = scope_of(user)
    return scope.code if scope.kind is ScopeKind.TOWNSHIP else ""


def household_table(*, user: StaffMember, filters: HouseholdFilter, query: str = "") -> QuerySet[Household]:
    queryset = filters.apply(Household.objects.visible_to(user))
    queryset = within_area_code(queryset, narrowest_area_code(user, filters))
    return (
        search(queryset, query, review_search_fields(user))
        .select_related("small_area", "village", "township", "registrar")
        # A correlated subquery, not a join with GROUP BY: PostgreSQL computes it for the rows of the page only
        # (unless the list is sorted by it), and the paginator's COUNT leaves it out.
        .annotate(
            person_count=Coalesce(
                Subquery(
                    Person.objects.filter(household=OuterRef("pk"))
                    .order_by()
                    .values("household")
                    .annotate(n=Count("pk"))
                    .values("n")[:1]
                ),
                0,
            )
        )
    )


# A district has thousands of small areas and field workers: their selects list them once a township (or a
# village) narrows the choice, and until then only what is already chosen.
MAX_OPTIONS = 400


def filter_choices(
    *, user: StaffMember, township: str = "", village: str = "", small_area: str = "", registrar: str = ""
) -> dict[str, Any]:
    """The options of the filter selects, each from what the user may see, and the choices that are valid."""
    townships = Township.objects.visible_to(user).order_by("code")
    villages = Village.objects.visible_to(user).order_by("code")
    areas = SmallArea.objects.visible_to(user).order_by("code")
    staff = StaffMember.objects.visible_to(user).filter(role__in=(Role.ENUMERATOR, Role.SUPERVISOR))
    if user.role == Role.SUPERVISOR:
        staff = staff.filter(supervision__supervisor=user)
    township_codes = set(townships.values_list("code", flat=True))
    township = township if township in township_codes else ""
    if township:
        villages = villages.filter(township_id=township)
        staff = staff.filter(township_id=township)
    village_list = list(villages.values_list("code", "name"))
    village = village if village in {code for code, _name in village_list} else ""
    if township:
        areas = areas.filter(township_id=township)
    if village:
        areas = areas.filter(village_id=village)
    chosen_area: list[tuple[int, str]] = (
        list(areas.filter(pk=int(small_area)).values_list("pk", "code")) if small_area.isdigit() else []
    )
    chosen_staff = staff.filter(pk=int(registrar)) if registrar.isdigit() else staff.none()
    narrow = bool(township or village) or user.role != Role.DISTRICT_OFFICE
    area_list = list(areas.values_list("pk", "code")[:MAX_OPTIONS]) if narrow else chosen_area
    # A select's label is the name and username (StaffMember.__str__): the rest of each row stays unread.
    staff = staff.only("username", "first_name", "last_name")
    chosen_staff = chosen_staff.only("username", "first_name", "last_name")
    staff_list = list(staff.order_by("username")[:MAX_OPTIONS]) if narrow else list(chosen_staff)
    return {
        "townships": list(townships.values_list("code", "name")),
        "villages": village_list,
        "small_areas": area_list,
        "registrars": [(s.pk, str(s)) for s in staff_list],
        "township": township,
        "village": village,
        "small_area": chosen_area[0][0] if chosen_area else None,
        "registrar": chosen_staff[0].pk if chosen_staff else None,
    }


# --- long-form sample ------------------------------------------------------------------------------------


@dataclass
class VillageSample:
    village: Village
    sample: LongFormSample | None
    frame_size: int


def long_form_samples(*, user: StaffMember) -> list[VillageSample]:
    villages = list(Village.objects.visible_to(user).select_related("township").order_by("code"))
    samples = {s.village_id: s for s in LongFormSample.objects.visible_to(user).select_related("drawn_by")}
    # The frame size of villages not drawn yet: what a draw would take now.
    frames = {
        row["village_id"]: row["n"]
        for row in long_form_frame_all(user).values("village_id").annotate(n=Count("pk")).order_by()
    }
    return [VillageSample(v, samples.get(v.code), frames.get(v.code, 0)) for v in villages]


def long_form_frame_all(user: StaffMember) -> QuerySet[Household]:
    """Every visible village's long-form frame at once: the conditions of ``long_form_frame``, without the village."""
    return (
        Household.objects.visible_to(user)
        .filter(state__in=SIGNED_STATES, form_kind=FormKind.CENSUS, h2_present__gt=0)
        .exclude(household_no=ALL_DEAD_HOUSEHOLD_NO)
    )


def sampled_households(sample: LongFormSample) -> QuerySet[Household]:
    return (
        Household.objects.filter(pk__in=sample.household_ids)
        .select_related("small_area")
        .order_by("small_area__code", "household_no")
    )


# --- the phones that keep the enumerators' work (issue 19) -----------------------------------------------------


def phone_device_by_key(key: str) -> PhoneDevice | None:
    """The device a phone's key names (the key itself is kept nowhere; its SHA-256 is). The one read not made
    through ``visible_to``: the caller is the phone, perhaps with no login left."""
    return PhoneDevice.objects.filter(key_sha256=device_key_digest(key)).only("pk", "staff_id", "revoked_at").first()


PHONE_STATES = ("active", "revoked")


def phone_device_list(*, user: StaffMember, state: str = "", role: str = "") -> QuerySet[PhoneDevice]:
    """The phones of the people ``user`` sees: the newest contact first."""
    devices = PhoneDevice.objects.visible_to(user).select_related("staff", "staff__township", "revoked_by")
    if state == "active":
        devices = devices.active()
    elif state == "revoked":
        devices = devices.revoked()
    if role in Role.values:
        devices = devices.filter(staff__role=role)
    return devices.order_by("-last_seen_at", "-pk")
