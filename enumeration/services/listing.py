"""摸底 (listing): buildings, dwelling units and the household-head register of a small area."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from census.db import constraint_errors
from census.models import AuditAction, AuditEvent, Building, SmallArea, StaffMember
from census.services import audit_event
from enumeration.models import ALL_DEAD_HOUSEHOLD_NO, DwellingUnit, Household, HouseholdState

# Set by the system from rows it has just read and locked; validating them again would cost a query each.
FOREIGN_KEYS = ("small_area", "village", "township", "building", "dwelling_unit", "listed_by", "registrar")


def _lock_small_area(small_area: SmallArea) -> SmallArea:
    """Serialise writes that number things within one small area (户编号, the signature chain)."""
    return SmallArea.objects.select_for_update().get(pk=small_area.pk)


@transaction.atomic
def building_create(
    *, small_area: SmallArea, number: str, address: str = "", is_residential: bool = True, actor: StaffMember
) -> Building:
    building = Building(
        small_area=small_area, number=number.strip(), address=address.strip(), is_residential=is_residential
    )
    building.full_clean()
    building.save()
    return building


@transaction.atomic
def dwelling_unit_create(*, building: Building, number: str, note: str = "", actor: StaffMember) -> DwellingUnit:
    unit = DwellingUnit(building=building, number=number.strip(), note=note.strip())
    unit.full_clean()
    unit.save()
    return unit


def next_household_no(small_area: SmallArea) -> int:
    """The current maximum 户编号 of the small area plus one (999 is reserved for 全户死亡户)."""
    current = (
        Household.objects.filter(small_area=small_area)
        .exclude(household_no=ALL_DEAD_HOUSEHOLD_NO)
        .aggregate(top=Max("household_no"))["top"]
    )
    return household_no_after(current)


def household_no_after(current: int | None) -> int:
    """The 户编号 after the small area's highest (``None``: it has none yet)."""
    number = (current or 0) + 1
    if number >= ALL_DEAD_HOUSEHOLD_NO:
        raise ValidationError(
            _("The small area already holds 998 households; split it (a small area holds at most 999 forms).")
        )
    return number


@transaction.atomic
def household_list(
    *,
    small_area: SmallArea,
    actor: StaffMember,
    head_name: str = "",
    expected_persons: int = 0,
    aware_of_census: bool | None = None,
    building: Building | None = None,
    dwelling_unit: DwellingUnit | None = None,
    all_members_died: bool = False,
) -> Household:
    """Add a household to the household-head register (户主姓名底册).

    A household found later gets the current maximum 户编号 + 1; a household whose members all died gets 999.
    """
    _lock_small_area(small_area)
    if dwelling_unit is not None and dwelling_unit.building.small_area_id != small_area.pk:
        raise ValidationError({"dwelling_unit": _("The dwelling unit lies in another small area.")})
    if building is not None and building.small_area_id != small_area.pk:
        raise ValidationError({"building": _("The building lies in another small area.")})
    if all_members_died:
        if Household.objects.filter(small_area=small_area, household_no=ALL_DEAD_HOUSEHOLD_NO).exists():
            raise ValidationError(_("The small area already has its household 999 (all members died)."))
        number = ALL_DEAD_HOUSEHOLD_NO
    else:
        number = next_household_no(small_area)
    household = Household(
        small_area=small_area,
        village_id=small_area.village_id,
        township_id=small_area.township_id,
        building=building or (dwelling_unit.building if dwelling_unit is not None else None),
        dwelling_unit=dwelling_unit,
        household_no=number,
        head_name_listed=head_name.strip(),
        expected_persons=0 if all_members_died else expected_persons,
        aware_of_census=aware_of_census,
        listed_by=actor,
        listed_at=timezone.now(),
        state=HouseholdState.LISTED,
    )
    household.full_clean(exclude=list(FOREIGN_KEYS), validate_unique=False, validate_constraints=False)
    with constraint_errors(Household):
        household.save()
    listing_audit(household=household, actor=actor)
    return household


def listing_audit_event(*, household: Household, actor: StaffMember) -> AuditEvent:
    """The audit entry of a household added to the register, not yet written (a one-step submission writes it
    with the household's other rows)."""
    return audit_event(
        actor=actor,
        action=AuditAction.RECORD_CHANGE,
        object_type="household",
        object_id=household.pk,
        detail={"listed": household.key},
    )


def listing_audit(*, household: Household, actor: StaffMember) -> None:
    """The audit entry of a household added to the register."""
    listing_audit_event(household=household, actor=actor).save(force_insert=True)


@transaction.atomic
def household_listing_update(
    *,
    household: Household,
    actor: StaffMember,
    head_name: str,
    expected_persons: int,
    aware_of_census: bool | None,
    dwelling_unit: DwellingUnit | None = None,
) -> Household:
    household = Household.objects.select_for_update().get(pk=household.pk)
    if household.state != HouseholdState.LISTED:
        raise ValidationError(_("The listing of a household cannot change once its registration has started."))
    if dwelling_unit is not None and dwelling_unit.building.small_area_id != household.small_area_id:
        raise ValidationError({"dwelling_unit": _("The dwelling unit lies in another small area.")})
    household.head_name_listed = head_name.strip()
    household.expected_persons = expected_persons
    household.aware_of_census = aware_of_census
    if dwelling_unit is not None:
        household.dwelling_unit = dwelling_unit
        household.building = dwelling_unit.building
    household.full_clean()
    household.save()
    return household
