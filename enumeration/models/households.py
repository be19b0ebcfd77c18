"""Households and persons: the 2020 forms with their official item codes.

One ``Household`` row is one 户编号 in a small area. It is created at listing (摸底) as an entry of the
household-head register (户主姓名底册) and then carries the form through registration: the short form
(R601, H1–H7 + D1–D12 per person), the long form for sampled households (H8–H19 + C11–C29), or the
港澳台居民和外籍人员普查表 (``form_kind = foreign``). Columns are named after the item codes so that a
reviewer can follow the paper form.

The area keys (township, village, small area) are repeated on persons so that district-wide checks and
dashboards read one table with one index, and so that the tables can later be partitioned by area.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Cast
from django.db.models.lookups import StartsWith
from django.utils.translation import gettext_lazy as _

from census.models import Building, SmallArea, StaffMember, Township, Village
from census.scoping import ScopedQuerySet

AREA_SCOPE_FIELDS = {
    "district": "township__district_id",
    "township": "township_id",
    "village": "village_id",
    "small_area": "small_area_id",
}


class HouseholdState(models.TextChoices):
    LISTED = "listed", _("Listed (摸底)")
    DRAFT = "draft", _("Draft")
    SIGNED = "signed", _("Signed and submitted")
    RETURNED = "returned", _("Returned to the registrar")
    APPROVED = "approved", _("Approved by the supervisor")
    ACCEPTED = "accepted", _("Accepted by the township (验收)")
    LOCKED = "locked", _("Locked by the district")


SIGNED_STATES = (HouseholdState.SIGNED, HouseholdState.APPROVED, HouseholdState.ACCEPTED, HouseholdState.LOCKED)
EDITABLE_STATES = (HouseholdState.LISTED, HouseholdState.DRAFT, HouseholdState.RETURNED)


class FormKind(models.TextChoices):
    CENSUS = "census", _("Census form (普查表)")
    FOREIGN = "foreign", _("HK/Macao/Taiwan residents and foreigners (港澳台居民和外籍人员普查表)")


class CollectionMode(models.TextChoices):
    IN_PERSON = "in_person", _("Door to door (入户)")
    SELF = "self", _("Self-enumeration (自主填报)")
    PHONE = "phone", _("By telephone (电话补登)")


# A place in the household form: a step, and on the persons step the person's row (1–200).
FORM_POSITION_PATTERN = r"\A(household|persons-([1-9]|[1-9][0-9]|1[0-9][0-9]|200)|deaths)?\Z"

ALL_DEAD_HOUSEHOLD_NO = 999  # 全户死亡户: only H4 is filled


class DwellingUnitQuerySet(ScopedQuerySet["DwellingUnit"]):
    scope_fields = {
        "district": "building__small_area__township__district_id",
        "township": "building__small_area__township_id",
        "village": "building__small_area__village_id",
        "small_area": "building__small_area_id",
    }


class DwellingUnit(models.Model):
    """住房单元: marked on the map wherever someone lives or has hukou. Number unique within the building."""

    building = models.ForeignKey(
        Building, on_delete=models.PROTECT, related_name="dwelling_units", verbose_name=_("building")
    )
    number = models.CharField(_("dwelling unit number (住房单元编号)"), max_length=10)
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = DwellingUnitQuerySet.as_manager()

    class Meta:
        verbose_name = _("dwelling unit (住房单元)")
        verbose_name_plural = _("dwelling units")
        ordering = ["building_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["building", "number"], name="dwelling_unit_number_unique_in_building"),
            models.CheckConstraint(
                condition=Q(number__regex=r"^[0-9A-Za-z-]{1,10}$"), name="dwelling_unit_number_format"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.building.number}-{self.number}"


class HouseholdQuerySet(ScopedQuerySet["Household"]):
    scope_fields = AREA_SCOPE_FIELDS

    def in_small_area(self, small_area: SmallArea | int) -> HouseholdQuerySet:
        return self.filter(small_area=small_area)

    def registered(self) -> HouseholdQuerySet:
        """Households whose form has been started (everything past the listing)."""
        return self.exclude(state=HouseholdState.LISTED)

    def signed(self) -> HouseholdQuerySet:
        return self.filter(state__in=SIGNED_STATES)

    def pending_review(self) -> HouseholdQuerySet:
        return self.filter(state=HouseholdState.SIGNED)

    def accepted(self) -> HouseholdQuerySet:
        return self.filter(state__in=(HouseholdState.ACCEPTED, HouseholdState.LOCKED))

    def registered_by(self, staff: StaffMember) -> HouseholdQuerySet:
        return self.filter(registrar=staff)

    def with_person_count(self) -> HouseholdQuerySet:
        return self.annotate(person_count=models.Count("persons"))


def household_key(small_area_code: str, household_no: int) -> str:
    """A household's key: 普查区(12) + 普查小区(3) + 户编号(3)."""
    return f"{small_area_code}{household_no:03d}"


class Household(models.Model):
    """户: one 户编号 of a small area, from its listing to its locked form."""

    # Area and registrar keys are indexed by the composite indexes of Meta (which lead with them) and by the
    # numbering constraint, not each by an index of its own: every index is written on every registration.
    small_area = models.ForeignKey(
        SmallArea, on_delete=models.PROTECT, related_name="households", verbose_name=_("small area"), db_index=False
    )
    village = models.ForeignKey(
        Village, on_delete=models.PROTECT, related_name="+", verbose_name=_("village"), db_index=False
    )
    township = models.ForeignKey(
        Township, on_delete=models.PROTECT, related_name="+", verbose_name=_("township"), db_index=False
    )
    building = models.ForeignKey(
        Building, on_delete=models.PROTECT, null=True, blank=True, related_name="households", verbose_name=_("building")
    )
    dwelling_unit = models.ForeignKey(
        DwellingUnit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="households",
        verbose_name=_("dwelling unit"),
    )
    household_no = models.PositiveSmallIntegerField(_("household number (户编号)"))
    form_kind = models.CharField(_("form"), max_length=10, choices=FormKind.choices, default=FormKind.CENSUS)

    # --- listing (摸底): the household-head register ---
    head_name_listed = models.CharField(_("head of household as listed (户主姓名)"), max_length=50, blank=True)
    expected_persons = models.PositiveSmallIntegerField(_("persons expected at listing"), default=0)
    aware_of_census = models.BooleanField(_("reached by census publicity (知晓)"), null=True, blank=True)
    listed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("listed by"),
    )
    listed_at = models.DateTimeField(_("listed at"), null=True, blank=True)

    # --- short form household items ---
    h1_kind = models.PositiveSmallIntegerField(_("H1 household type (户别)"), null=True, blank=True)
    h2_present = models.PositiveSmallIntegerField(_("H2a persons living here on 2020-10-31"), null=True, blank=True)
    h2_away = models.PositiveSmallIntegerField(_("H2b persons with hukou here who were away"), null=True, blank=True)
    h3_births_male = models.PositiveSmallIntegerField(_("H3 births, male"), null=True, blank=True)
    h3_births_female = models.PositiveSmallIntegerField(_("H3 births, female"), null=True, blank=True)
    h4_deaths_male = models.PositiveSmallIntegerField(_("H4 deaths, male"), null=True, blank=True)
    h4_deaths_female = models.PositiveSmallIntegerField(_("H4 deaths, female"), null=True, blank=True)
    h5_residence_type = models.PositiveSmallIntegerField(_("H5 type of residence (住所类型)"), null=True, blank=True)
    h6_floor_area = models.PositiveIntegerField(_("H6 floor area, m² (建筑面积)"), null=True, blank=True)
    h7_rooms = models.PositiveSmallIntegerField(_("H7 rooms (间数)"), null=True, blank=True)

    # --- long form household items (sampled households only) ---
    in_long_form_sample = models.BooleanField(_("in the long-form sample"), default=False)
    h8_storeys = models.PositiveSmallIntegerField(_("H8 storeys"), null=True, blank=True)
    h9_structure = models.PositiveSmallIntegerField(_("H9 load-bearing structure"), null=True, blank=True)
    h10_year_built = models.PositiveSmallIntegerField(_("H10 year built"), null=True, blank=True)
    h11_lift = models.PositiveSmallIntegerField(_("H11 lift"), null=True, blank=True)
    h12_cooking_fuel = models.PositiveSmallIntegerField(_("H12 cooking fuel"), null=True, blank=True)
    h13_piped_water = models.PositiveSmallIntegerField(_("H13 piped water"), null=True, blank=True)
    h14_kitchen = models.PositiveSmallIntegerField(_("H14 kitchen"), null=True, blank=True)
    h15_toilet = models.PositiveSmallIntegerField(_("H15 toilet"), null=True, blank=True)
    h16_bathing = models.PositiveSmallIntegerField(_("H16 bathing"), null=True, blank=True)
    h17_tenure = models.PositiveSmallIntegerField(_("H17 tenure"), null=True, blank=True)
    h18_rent = models.PositiveSmallIntegerField(_("H18 monthly rent"), null=True, blank=True)
    h19_car_value = models.PositiveSmallIntegerField(_("H19 value of cars"), null=True, blank=True)

    # --- registration and review ---
    state = models.CharField(_("state"), max_length=10, choices=HouseholdState.choices, default=HouseholdState.LISTED)
    registrar = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        db_index=False,  # the (registrar, state) index leads with it
        related_name="registered_households",
        verbose_name=_("registrar (登记人)"),
    )
    collection_mode = models.CharField(
        _("collection mode"), max_length=10, choices=CollectionMode.choices, default=CollectionMode.IN_PERSON
    )
    # Optimistic lock: every write increments it; an update carrying an older number is refused (409).
    version = models.PositiveIntegerField(_("version"), default=1)
    # Notes the registrar wrote against warnings, keyed "RULE_CODE" or "RULE_CODE@row".
    warning_notes = models.JSONField(_("notes on warnings"), default=dict, blank=True)
    current_signature = models.OneToOneField(
        "enumeration.Signature",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("signature"),
    )
    # Where the registrar was in the form at its last autosave ("household", "persons-2", "deaths"): a draft opened
    # again opens there (static/js/enumeration-form.js). Not part of the form's content: no version history, no
    # ledger, no review.
    form_position = models.CharField(
        _("place in the form at the last save"),
        max_length=12,
        blank=True,
        default="",
        validators=[RegexValidator(FORM_POSITION_PATTERN)],
    )
    started_at = models.DateTimeField(_("registration started"), null=True, blank=True)
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True, db_index=True)

    objects = HouseholdQuerySet.as_manager()

    class Meta:
        verbose_name = _("household (户)")
        verbose_name_plural = _("households")
        ordering = ["small_area_id", "household_no"]
        constraints = [
            models.UniqueConstraint(fields=["small_area", "household_no"], name="household_no_unique_in_small_area"),
            models.CheckConstraint(
                condition=Q(household_no__gte=1, household_no__lte=999), name="household_no_3_digits"
            ),
            models.CheckConstraint(
                condition=StartsWith(Cast("village_id", models.CharField()), F("township_id")),
                name="household_village_in_township",
            ),
            models.CheckConstraint(
                condition=~Q(state__in=SIGNED_STATES) | Q(current_signature__isnull=False),
                name="household_signed_state_has_signature",
            ),
            models.CheckConstraint(
                condition=~Q(state__in=SIGNED_STATES) | Q(registrar__isnull=False),
                name="household_signed_has_registrar",
            ),
            models.CheckConstraint(condition=Q(h1_kind__isnull=True) | Q(h1_kind__in=(1, 2)), name="household_h1_code"),
            models.CheckConstraint(
                condition=Q(h5_residence_type__isnull=True) | Q(h5_residence_type__gte=1, h5_residence_type__lte=5),
                name="household_h5_code",
            ),
            # The paper form's skip: H5 2–5 leaves H6/H7 empty.
            models.CheckConstraint(
                condition=Q(h5_residence_type__isnull=True)
                | Q(h5_residence_type=1)
                | Q(h6_floor_area__isnull=True, h7_rooms__isnull=True),
                name="household_h5_skips_h6_h7",
            ),
            models.CheckConstraint(
                condition=Q(h6_floor_area__isnull=True) | Q(h6_floor_area__lte=100000), name="household_h6_range"
            ),
            models.CheckConstraint(
                condition=Q(h7_rooms__isnull=True) | Q(h7_rooms__lte=999), name="household_h7_range"
            ),
            models.CheckConstraint(
                condition=Q(in_long_form_sample=True)
                | Q(
                    h8_storeys__isnull=True,
                    h9_structure__isnull=True,
                    h10_year_built__isnull=True,
                    h11_lift__isnull=True,
                    h12_cooking_fuel__isnull=True,
                    h13_piped_water__isnull=True,
                    h14_kitchen__isnull=True,
                    h15_toilet__isnull=True,
                    h16_bathing__isnull=True,
                    h17_tenure__isnull=True,
                    h18_rent__isnull=True,
                    h19_car_value__isnull=True,
                ),
                name="household_long_items_only_in_sample",
            ),
        ]
        indexes = [
            models.Index(fields=["township", "state"]),
            models.Index(fields=["village", "state"]),
            models.Index(fields=["registrar", "state"]),
            models.Index(fields=["small_area", "state"]),
            # A township's part of an incremental check run reads the households changed since its watermark
            # (through ``updated_at`` alone it read the whole district's changes, once per township).
            models.Index(fields=["township", "updated_at"], name="household_township_changed"),
        ]

    def __str__(self) -> str:
        return f"{self.small_area.code}-{self.household_no:03d}"

    @property
    def key(self) -> str:
        """普查区(12) + 普查小区(3) + 户编号(3)."""
        return household_key(self.small_area.code, self.household_no)

    @property
    def is_all_dead(self) -> bool:
        return self.household_no == ALL_DEAD_HOUSEHOLD_NO

    @property
    def is_signed(self) -> bool:
        return self.state in SIGNED_STATES

    @property
    def is_editable(self) -> bool:
        return self.state in EDITABLE_STATES

    @property
    def deaths_total(self) -> int:
        return (self.h4_deaths_male or 0) + (self.h4_deaths_female or 0)


class PersonQuerySet(ScopedQuerySet["Person"]):
    scope_fields = AREA_SCOPE_FIELDS

    def heads(self) -> PersonQuerySet:
        return self.filter(d2_relationship=0)


class Person(models.Model):
    """One person row of a household form. ``row_no`` 1 is the head of a family household."""

    # Indexed by the row constraint and the indexes of Meta, not each by an index of its own (see Household).
    household = models.ForeignKey(
        Household, on_delete=models.CASCADE, related_name="persons", verbose_name=_("household"), db_index=False
    )
    small_area = models.ForeignKey(
        SmallArea, on_delete=models.PROTECT, related_name="+", verbose_name=_("small area"), db_index=False
    )
    village = models.ForeignKey(
        Village, on_delete=models.PROTECT, related_name="+", verbose_name=_("village"), db_index=False
    )
    township = models.ForeignKey(
        Township, on_delete=models.PROTECT, related_name="+", verbose_name=_("township"), db_index=False
    )
    row_no = models.PositiveSmallIntegerField(_("row"))

    # --- D1–D12 (C1–C10, C15, C17 on the long form share these columns) ---
    d1_name = models.CharField(_("D1 name (姓名)"), max_length=50, blank=True)
    # Not asked in a collective household (集体户), which has no head.
    d2_relationship = models.PositiveSmallIntegerField(
        _("D2 relationship to the head (与户主关系)"), null=True, blank=True
    )
    d3_id_number = models.CharField(_("D3 citizen ID number (公民身份号码)"), max_length=18, blank=True)
    # Nullable so that a draft saves as it is typed; signing requires them (rule ITEM_MISSING).
    d4_sex = models.PositiveSmallIntegerField(_("D4 sex (性别)"), null=True, blank=True)
    d5_birth_year = models.PositiveSmallIntegerField(_("D5 year of birth"), null=True, blank=True)
    d5_birth_month = models.PositiveSmallIntegerField(_("D5 month of birth"), null=True, blank=True)
    d6_ethnicity = models.CharField(_("D6 ethnic group (民族)"), max_length=2, blank=True)
    d7_residence = models.PositiveSmallIntegerField(_("D7 residence at the reference moment"), null=True, blank=True)
    d7_residence_county = models.CharField(_("D7 county code, if another county"), max_length=6, blank=True)
    d8_hukou_place = models.PositiveSmallIntegerField(_("D8 place of hukou registration"), null=True, blank=True)
    d8_hukou_county = models.CharField(_("D8 county code, if another county"), max_length=6, blank=True)
    d9_away_duration = models.PositiveSmallIntegerField(_("D9 time away from the hukou place"), null=True, blank=True)
    d10_away_reason = models.PositiveSmallIntegerField(_("D10 reason for leaving"), null=True, blank=True)
    d11_education = models.PositiveSmallIntegerField(_("D11 education (受教育程度)"), null=True, blank=True)
    d12_literate = models.PositiveSmallIntegerField(_("D12 literate (是否识字)"), null=True, blank=True)

    # --- long form C11–C29 ---
    c11_hukou_type = models.PositiveSmallIntegerField(_("C11 type of hukou place"), null=True, blank=True)
    c12_land_right = models.PositiveSmallIntegerField(_("C12 rural land contract right"), null=True, blank=True)
    c13_birthplace = models.PositiveSmallIntegerField(_("C13 place of birth"), null=True, blank=True)
    c13_birth_province = models.CharField(_("C13 province of birth"), max_length=2, blank=True)
    c14_residence_5y = models.PositiveSmallIntegerField(_("C14 residence five years ago"), null=True, blank=True)
    c14_county = models.CharField(_("C14 county five years ago"), max_length=6, blank=True)
    c16_school_status = models.PositiveSmallIntegerField(_("C16 schooling status"), null=True, blank=True)
    c18_work = models.PositiveSmallIntegerField(_("C18 work in the reference week"), null=True, blank=True)
    c18_hours = models.PositiveSmallIntegerField(_("C18 hours worked"), null=True, blank=True)
    c19_unit_type = models.PositiveSmallIntegerField(_("C19 type of work unit"), null=True, blank=True)
    c20_industry = models.CharField(_("C20 industry (unit and main product)"), max_length=100, blank=True)
    c21_occupation = models.CharField(_("C21 occupation"), max_length=100, blank=True)
    c22_not_working_reason = models.PositiveSmallIntegerField(_("C22 reason for not working"), null=True, blank=True)
    c23_livelihood = models.PositiveSmallIntegerField(_("C23 main source of livelihood"), null=True, blank=True)
    c24_marital = models.PositiveSmallIntegerField(_("C24 marital status"), null=True, blank=True)
    c25_first_marriage_year = models.PositiveSmallIntegerField(_("C25 year of first marriage"), null=True, blank=True)
    c25_first_marriage_month = models.PositiveSmallIntegerField(_("C25 month of first marriage"), null=True, blank=True)
    c26_born_male = models.PositiveSmallIntegerField(_("C26 sons ever born"), null=True, blank=True)
    c26_born_female = models.PositiveSmallIntegerField(_("C26 daughters ever born"), null=True, blank=True)
    c26_alive_male = models.PositiveSmallIntegerField(_("C26 sons alive"), null=True, blank=True)
    c26_alive_female = models.PositiveSmallIntegerField(_("C26 daughters alive"), null=True, blank=True)
    c27_birth_last_year = models.PositiveSmallIntegerField(_("C27 births in the past year"), null=True, blank=True)
    c28_living_arrangement = models.PositiveSmallIntegerField(_("C28 living arrangement"), null=True, blank=True)
    c29_health = models.PositiveSmallIntegerField(_("C29 health"), null=True, blank=True)

    # --- 港澳台居民和外籍人员普查表 ---
    f_identity = models.PositiveSmallIntegerField(_("status or nationality (身份或国籍)"), null=True, blank=True)
    f_nationality = models.CharField(_("nationality (ISO 3166 alpha-3)"), max_length=3, blank=True)
    f_stay = models.PositiveSmallIntegerField(_("length of stay (居住时间)"), null=True, blank=True)
    f_purpose = models.PositiveSmallIntegerField(_("purpose of stay (来华目的)"), null=True, blank=True)
    f_employed = models.PositiveSmallIntegerField(_("employment (就业情况)"), null=True, blank=True)

    objects = PersonQuerySet.as_manager()

    class Meta:
        verbose_name = _("person (人)")
        verbose_name_plural = _("persons")
        ordering = ["household_id", "row_no"]
        constraints = [
            models.UniqueConstraint(fields=["household", "row_no"], name="person_row_unique_in_household"),
            models.CheckConstraint(condition=Q(row_no__gte=1), name="person_row_positive"),
            models.CheckConstraint(
                condition=Q(d2_relationship__isnull=True) | Q(d2_relationship__lte=9), name="person_d2_code"
            ),
            models.CheckConstraint(condition=Q(d4_sex__isnull=True) | Q(d4_sex__in=(1, 2)), name="person_d4_code"),
            models.CheckConstraint(
                condition=Q(d5_birth_month__isnull=True) | Q(d5_birth_month__gte=1, d5_birth_month__lte=12),
                name="person_d5_month",
            ),
            models.CheckConstraint(
                condition=Q(d5_birth_year__isnull=True) | Q(d5_birth_year__gte=1880, d5_birth_year__lte=2020),
                name="person_d5_year",
            ),
            models.CheckConstraint(
                condition=Q(d3_id_number="") | Q(d3_id_number__regex=r"^[0-9]{17}[0-9X]$"), name="person_d3_format"
            ),
            models.CheckConstraint(
                condition=Q(d6_ethnicity="") | Q(d6_ethnicity__regex=r"^[0-9]{2}$"), name="person_d6_format"
            ),
            models.CheckConstraint(
                condition=Q(d7_residence__isnull=True) | Q(d7_residence__gte=1, d7_residence__lte=9),
                name="person_d7_code",
            ),
            models.CheckConstraint(
                condition=Q(d8_hukou_place__isnull=True) | Q(d8_hukou_place__gte=1, d8_hukou_place__lte=5),
                name="person_d8_code",
            ),
            models.CheckConstraint(
                condition=Q(d9_away_duration__isnull=True) | Q(d9_away_duration__gte=1, d9_away_duration__lte=9),
                name="person_d9_code",
            ),
            models.CheckConstraint(
                condition=Q(d11_education__isnull=True) | Q(d11_education__gte=1, d11_education__lte=9),
                name="person_d11_code",
            ),
            models.CheckConstraint(
                condition=Q(d12_literate__isnull=True) | Q(d12_literate__in=(1, 2)), name="person_d12_code"
            ),
            models.CheckConstraint(
                condition=Q(c18_hours__isnull=True) | Q(c18_hours__gte=1, c18_hours__lte=98), name="person_c18_hours"
            ),
        ]
        indexes = [
            models.Index(fields=["d3_id_number"], name="person_id_number_idx", condition=~Q(d3_id_number="")),
            # The near-duplicate key (name, sex, birth month): an incremental check run looks up the namesakes of
            # the persons changed since, a few thousand probes instead of a scan of every person of the district.
            models.Index(
                fields=["d1_name", "d4_sex", "d5_birth_year", "d5_birth_month"],
                name="person_near_key_idx",
                condition=~Q(d1_name=""),
            ),
            models.Index(fields=["small_area"]),
            models.Index(fields=["village"]),
            models.Index(fields=["township", "d4_sex"]),
        ]

    def __str__(self) -> str:
        return f"{self.household_id}#{self.row_no} {self.d1_name}"

    @property
    def age(self) -> int | None:
        from enumeration.identity import age_at_reference

        if self.d5_birth_year is None or self.d5_birth_month is None:
            return None
        return age_at_reference(self.d5_birth_year, self.d5_birth_month)


class DeathRecordQuerySet(ScopedQuerySet["DeathRecord"]):
    scope_fields = AREA_SCOPE_FIELDS


class DeathRecord(models.Model):
    """死亡人口调查表: one row per death between 2019-11-01 and 2020-10-31 (matches H4 by sex)."""

    household = models.ForeignKey(
        Household, on_delete=models.CASCADE, related_name="deaths", verbose_name=_("household")
    )
    small_area = models.ForeignKey(SmallArea, on_delete=models.PROTECT, related_name="+", verbose_name=_("small area"))
    village = models.ForeignKey(Village, on_delete=models.PROTECT, related_name="+", verbose_name=_("village"))
    township = models.ForeignKey(Township, on_delete=models.PROTECT, related_name="+", verbose_name=_("township"))
    row_no = models.PositiveSmallIntegerField(_("row"))
    name = models.CharField(_("name (未取名 if none)"), max_length=50, blank=True)
    id_number = models.CharField(_("citizen ID number"), max_length=18, blank=True)
    # Nullable so that a draft saves as it is typed; signing requires them (rule ITEM_MISSING).
    sex = models.PositiveSmallIntegerField(_("sex"), null=True, blank=True)
    birth_year = models.PositiveSmallIntegerField(_("year of birth"), null=True, blank=True)
    birth_month = models.PositiveSmallIntegerField(_("month of birth"), null=True, blank=True)
    death_year = models.PositiveSmallIntegerField(_("year of death"), null=True, blank=True)
    death_month = models.PositiveSmallIntegerField(_("month of death"), null=True, blank=True)
    ethnicity = models.CharField(_("ethnic group"), max_length=2, blank=True)
    education = models.PositiveSmallIntegerField(_("education (aged 6+ at death)"), null=True, blank=True)
    marital = models.PositiveSmallIntegerField(_("marital status (aged 15+ at death)"), null=True, blank=True)

    objects = DeathRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("death record (死亡人口调查表)")
        verbose_name_plural = _("death records")
        ordering = ["household_id", "row_no"]
        constraints = [
            models.UniqueConstraint(fields=["household", "row_no"], name="death_row_unique_in_household"),
            models.CheckConstraint(condition=Q(sex__isnull=True) | Q(sex__in=(1, 2)), name="death_sex_code"),
            models.CheckConstraint(
                condition=Q(birth_month__isnull=True) | Q(birth_month__gte=1, birth_month__lte=12),
                name="death_birth_month",
            ),
            models.CheckConstraint(
                condition=Q(death_month__isnull=True) | Q(death_month__gte=1, death_month__lte=12),
                name="death_month_range",
            ),
            # Deaths are recorded for 2019-11-01 … 2020-10-31 only.
            models.CheckConstraint(
                condition=Q(death_year__isnull=True)
                | Q(death_month__isnull=True)
                | Q(death_year=2019, death_month__gte=11)
                | Q(death_year=2020, death_month__lte=10),
                name="death_in_census_year",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household_id}†{self.row_no} {self.name}"
