"""django-import-export resource for the household-head register (户主姓名底册), keyed by small area + 户编号.

An office loads the listing (摸底) of its small areas from a spreadsheet: one row per household, with the
small-area code (15 digits), the 户编号 (001–998, or 999 for a household whose members all died), the head's
name, the persons expected, whether the household was reached by the census publicity (知晓), and optionally
the building and dwelling-unit numbers (created in the small area when they are new). Rows are matched by
small area and 户编号, so importing the same file twice changes nothing; a household whose registration has
started keeps its listing. Driven by :func:`enumeration.services.imports.household_listing_import`, which
loads a file all-or-nothing.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from import_export import fields, widgets

from census.models import Building, SmallArea, StaffMember
from census.spreadsheets import SpreadsheetResource
from enumeration.models import ALL_DEAD_HOUSEHOLD_NO, DwellingUnit, Household, HouseholdState

# Canonical column names, and the Chinese headers an office's own spreadsheet may use instead.
LISTING_COLUMNS: tuple[str, ...] = (
    "small_area",
    "household_no",
    "head_name",
    "expected_persons",
    "aware",
    "building",
    "dwelling_unit",
)
REQUIRED_COLUMNS: tuple[str, ...] = ("small_area", "household_no")
COLUMN_ALIASES: dict[str, str] = {
    "普查小区": "small_area",
    "普查小区代码": "small_area",
    "户编号": "household_no",
    "户主姓名": "head_name",
    "应登记人数": "expected_persons",
    "人数": "expected_persons",
    "知晓": "aware",
    "是否知晓": "aware",
    "建筑物编号": "building",
    "住房单元编号": "dwelling_unit",
}
AWARE_VALUES: dict[str, bool] = {
    "1": True,
    "是": True,
    "知晓": True,
    "yes": True,
    "y": True,
    "true": True,
    "0": False,
    "2": False,
    "否": False,
    "不知晓": False,
    "no": False,
    "n": False,
    "false": False,
}


class ScopedSmallAreaWidget(widgets.ForeignKeyWidget):
    """A small area by its 15-digit code, among those the importing office may see."""

    def __init__(self, actor: StaffMember) -> None:
        super().__init__(SmallArea, field="code")
        self.actor = actor

    def get_queryset(self, value: Any, row: Any, *args: Any, **kwargs: Any) -> Any:
        return SmallArea.objects.visible_to(self.actor)

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        code = str(value or "").strip()
        if not code:
            raise ValueError(_("The small-area code is missing."))
        try:
            return super().clean(code, row=row, **kwargs)
        except SmallArea.DoesNotExist:
            raise ValueError(
                _("Small area %(code)s does not exist or lies outside your area.") % {"code": code}
            ) from None


class HouseholdNumberWidget(widgets.IntegerWidget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        text = str(value or "").strip()
        if not text.isdigit() or not 1 <= int(text) <= ALL_DEAD_HOUSEHOLD_NO:
            raise ValueError(_("户编号 “%(value)s” is not a number from 001 to 999.") % {"value": text})
        return int(text)


class ExpectedPersonsWidget(widgets.IntegerWidget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        text = str(value or "").strip()
        if not text:
            return 0
        if not text.isdigit() or int(text) > 200:
            raise ValueError(_("Persons expected “%(value)s” is not a number from 0 to 200.") % {"value": text})
        return int(text)


class AwareWidget(widgets.Widget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        text = str(value or "").strip().lower()
        if not text:
            return None
        if text not in AWARE_VALUES:
            raise ValueError(_("知晓 “%(value)s” is not 是 or 否.") % {"value": text})
        return AWARE_VALUES[text]

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return "" if value is None else "是" if value else "否"


class HouseholdListingResource(SpreadsheetResource):
    small_area = fields.Field(attribute="small_area", column_name="small_area")
    household_no = fields.Field(attribute="household_no", column_name="household_no", widget=HouseholdNumberWidget())
    head_name = fields.Field(attribute="head_name_listed", column_name="head_name", widget=widgets.CharWidget())
    expected_persons = fields.Field(
        attribute="expected_persons", column_name="expected_persons", widget=ExpectedPersonsWidget()
    )
    aware = fields.Field(attribute="aware_of_census", column_name="aware", widget=AwareWidget())
    # Resolved by hand within the row's small area (see import_instance); not attributes of the household.
    building = fields.Field(column_name="building")
    dwelling_unit = fields.Field(column_name="dwelling_unit")

    class Meta:
        model = Household
        import_id_fields = ("small_area", "household_no")
        fields = LISTING_COLUMNS
        export_order = LISTING_COLUMNS
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True
        use_transactions = True

    def __init__(self, *, actor: StaffMember, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.actor = actor
        self.fields["small_area"].widget = ScopedSmallAreaWidget(actor)

    def get_queryset(self) -> Any:
        return Household.objects.visible_to(self.actor)

    def dehydrate_small_area(self, household: Household) -> str:
        return household.small_area.code

    def dehydrate_household_no(self, household: Household) -> str:
        return f"{household.household_no:03d}"

    def dehydrate_building(self, household: Household) -> str:
        return household.building.number if household.building is not None else ""

    def dehydrate_dwelling_unit(self, household: Household) -> str:
        return household.dwelling_unit.number if household.dwelling_unit is not None else ""

    def import_instance(self, instance: Household, row: Any, **kwargs: Any) -> None:
        super().import_instance(instance, row, **kwargs)
        area: SmallArea | None = getattr(instance, "small_area", None) if instance.small_area_id else None
        if area is None:
            return
        instance.village_id = area.village_id
        instance.township_id = area.township_id
        building_no = str(row.get("building") or "").strip()
        unit_no = str(row.get("dwelling_unit") or "").strip()
        if unit_no and not building_no:
            raise ValidationError({"dwelling_unit": _("A dwelling unit needs its building number.")})
        if building_no:
            building = Building.objects.filter(small_area=area, number=building_no).first()
            if building is None:
                building = Building(small_area=area, number=building_no)
                building.full_clean()
                building.save()
            instance.building = building
            if unit_no:
                unit = DwellingUnit.objects.filter(building=building, number=unit_no).first()
                if unit is None:
                    unit = DwellingUnit(building=building, number=unit_no)
                    unit.full_clean()
                    unit.save()
                instance.dwelling_unit = unit
            elif instance.dwelling_unit is not None and instance.dwelling_unit.building_id != building.pk:
                instance.dwelling_unit = None
        if instance.household_no == ALL_DEAD_HOUSEHOLD_NO and instance.expected_persons:
            raise ValidationError({"expected_persons": _("Household 999 (all members died) has no persons to expect.")})

    def skip_row(self, instance: Household, original: Any, row: Any, import_validation_errors: Any = None) -> bool:
        # The building and unit are not resource attributes, so the default comparison would miss them.
        if original is not None and (
            instance.building_id != original.building_id or instance.dwelling_unit_id != original.dwelling_unit_id
        ):
            return False
        return bool(super().skip_row(instance, original, row, import_validation_errors))

    def before_save_instance(self, instance: Household, row: Any, **kwargs: Any) -> None:
        if instance.pk is None:
            instance.state = HouseholdState.LISTED
            instance.listed_by = self.actor
            instance.listed_at = timezone.now()
        elif instance.state != HouseholdState.LISTED:
            raise ValidationError(
                _("Household %(key)s has started registration; its listing can no longer change.")
                % {"key": instance.key}
            )
