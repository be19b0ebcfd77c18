"""REST API of household registration: list, read, create, update, confirm, sign, review transitions.

Every queryset comes from ``visible_to``; an object outside the caller's scope is 404. Writes go through the
services in ``enumeration.services``; their ``ApplicationError``/``ConflictError`` map to 400/409 in
``census.api.exception_handler``. ``POST`` endpoints honour an ``Idempotency-Key`` header; updates carry the
``version`` the client last read, and a stale one is refused with 409.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import django_filters
from django import forms
from django.db.models import F, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from census.api import ApplicationError, CountedPagination, ReadsOutsideTransaction
from census.db import BIGINT_MAX
from census.models import Role, SmallArea, StaffMember, Village
from census.permissions import HasRole, staff_of
from census.privacy import (
    can_see_personal_data,
    client_address,
    mask_id_number,
    mask_name,
    record_personal_data_list_view,
    record_personal_data_view,
)
from enumeration import services
from enumeration.codes import ETHNIC_GROUPS, code_list
from enumeration.forms import ITEMS_BY_CODE
from enumeration.idempotency import idempotent
from enumeration.models import CollectionMode, DeathRecord, Household, HouseholdVersion, LongFormSample, Person
from enumeration.models.households import household_key
from enumeration.rules.entry import validate_household
from enumeration.selectors import narrowest_area_code, within_area_code
from enumeration.services.registration import (
    DEATH_FORM_FIELDS,
    HOUSEHOLD_FORM_FIELDS,
    MAX_DEATHS,
    MAX_PERSONS,
    PERSON_FORM_FIELDS,
)

READERS = (Role.ENUMERATOR, Role.SUPERVISOR, Role.TOWNSHIP_OFFICE, Role.DISTRICT_OFFICE, Role.AUDITOR)
FIELD_STAFF = (Role.ENUMERATOR, Role.SUPERVISOR)
REVIEWERS = (Role.ENUMERATOR, Role.SUPERVISOR, Role.TOWNSHIP_OFFICE, Role.DISTRICT_OFFICE)
# What a household's responses show of personal data (the audit event names them).
PERSONAL_FIELDS = ("head_name_listed", "d1_name", "d3_id_number", "name", "id_number")
PERSONAL_DIFF_FIELDS = ("d1_name", "d3_id_number", "name", "id_number")


def unmasked_for(user: StaffMember) -> bool:
    """Names and numbers unmasked — the one rule of ``census.privacy``, asked about the user only: every household
    these views show comes from ``visible_to(user)``, so asking about the object too would only cost a query."""
    return can_see_personal_data(user)


# --- fields ----------------------------------------------------------------------------------------------


class StrictSerializer(serializers.Serializer[Any]):
    """Refuses keys it does not know, instead of silently dropping them."""

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        # DRF deep-copies every declared field for each serializer it makes, re-running the field's __init__ (for
        # a choice field: rebuilding its choice maps) — for the submission form, eighty fields per request. An
        # unbound plain field holds nothing a request changes (binding sets attributes of the copy), so a shallow
        # copy serves; nested serializers are still copied deeply.
        return {
            name: copy.deepcopy(field) if isinstance(field, serializers.BaseSerializer) else copy.copy(field)
            for name, field in self._declared_fields.items()
        }

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = set(data) - set(self.fields)
            if unknown:
                raise serializers.ValidationError({name: [_("Unknown field.")] for name in sorted(unknown)})
        return super().to_internal_value(data)


def code_choices(item: str) -> list[tuple[int, Any]]:
    return [(code, label) for code, label in code_list(item).choices()]


# Choice sets that several items share get one name in the OpenAPI schema (SPECTACULAR_SETTINGS).
def sex_choices() -> list[tuple[int, Any]]:
    return code_choices("D4")


def education_choices() -> list[tuple[int, Any]]:
    return code_choices("D11")


def marital_choices() -> list[tuple[int, Any]]:
    return code_choices("C24")


def has_not_choices() -> list[tuple[int, Any]]:
    return code_choices("H13")


def ethnicity_choices() -> list[tuple[str, str]]:
    return sorted(ETHNIC_GROUPS.items())


def code_field(item: str, **kwargs: Any) -> serializers.ChoiceField:
    codes = code_list(item)
    return serializers.ChoiceField(
        choices=code_choices(item),
        required=False,
        allow_null=True,
        help_text=f"{item} {codes.title_zh} / {codes.title_en}",
        **kwargs,
    )


def small_int(minimum: int = 0, maximum: int = 999) -> serializers.IntegerField:
    return serializers.IntegerField(required=False, allow_null=True, min_value=minimum, max_value=maximum)


def text(max_length: int) -> serializers.CharField:
    return serializers.CharField(required=False, allow_blank=True, max_length=max_length, trim_whitespace=True)


# Household.version is a PostgreSQL integer: a larger "version" is not a stale copy but a wrong number (400).
MAX_VERSION = 2**31 - 1


class DeviceCollectionMode(serializers.ChoiceField):
    """``collection_mode`` of what a device sends: only door to door (in_person, what is recorded anyway).

    A self-reported form (``self``) never comes through this API: the household's enumerator issues it an
    invitation, the household fills in and declares its form at /self/<code>/, and the enumerator verifies and signs
    it on the self-enumeration page (谁登记、谁签字). Such a request is refused as a whole (400, code
    ``self_report_by_invitation``) with a message that says so, not as an unknown value."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            choices=[(CollectionMode.IN_PERSON.value, CollectionMode.IN_PERSON.label)],
            required=False,
            write_only=True,
            help_text="in_person only: a self-reported form (self) comes through its invitation (/self/<code>/)",
            **kwargs,
        )

    def to_internal_value(self, data: Any) -> Any:
        if data == CollectionMode.SELF.value:
            raise ApplicationError(
                _(
                    "A self-reported form is not sent through the device API: issue the household an invitation, "
                    "the household fills in and declares its form at /self/<code>/, and you verify and sign it on "
                    "the self-enumeration page (/enumeration/self/households/<id>/)."
                ),
                code="self_report_by_invitation",
            )
        return super().to_internal_value(data)


class PersonSerializer(StrictSerializer):
    row_no = serializers.IntegerField(min_value=1, max_value=MAX_PERSONS)
    d1_name = text(50)
    d2_relationship = code_field("D2")
    d3_id_number = serializers.RegexField(
        r"^[0-9]{17}[0-9Xx]$",
        required=False,
        allow_blank=True,
        max_length=18,
        error_messages={"invalid": gettext_lazy("An ID number is 17 digits followed by a digit or X.")},
    )
    d4_sex = code_field("D4")
    d5_birth_year = small_int(1880, 2020)
    d5_birth_month = small_int(1, 12)
    d6_ethnicity = serializers.ChoiceField(choices=ethnicity_choices(), required=False, allow_blank=True)
    d7_residence = code_field("D7")
    d7_residence_county = serializers.RegexField(r"^[0-9]{6}$", required=False, allow_blank=True, max_length=6)
    d8_hukou_place = code_field("D8")
    d8_hukou_county = serializers.RegexField(r"^[0-9]{6}$", required=False, allow_blank=True, max_length=6)
    d9_away_duration = code_field("D9")
    d10_away_reason = code_field("D10")
    d11_education = code_field("D11")
    d12_literate = code_field("D12")
    c11_hukou_type = code_field("C11")
    c12_land_right = code_field("C12")
    c13_birthplace = code_field("C13")
    c13_birth_province = serializers.RegexField(r"^[0-9]{2}$", required=False, allow_blank=True, max_length=2)
    c14_residence_5y = code_field("C14")
    c14_county = serializers.RegexField(r"^[0-9]{6}$", required=False, allow_blank=True, max_length=6)
    c16_school_status = code_field("C16")
    c18_work = code_field("C18")
    c18_hours = small_int(1, 98)
    c19_unit_type = code_field("C19")
    c20_industry = text(100)
    c21_occupation = text(100)
    c22_not_working_reason = code_field("C22")
    c23_livelihood = code_field("C23")
    c24_marital = code_field("C24")
    c25_first_marriage_year = small_int(1900, 2020)
    c25_first_marriage_month = small_int(1, 12)
    c26_born_male = small_int(0, 30)
    c26_born_female = small_int(0, 30)
    c26_alive_male = small_int(0, 30)
    c26_alive_female = small_int(0, 30)
    c27_birth_last_year = code_field("C27")
    c28_living_arrangement = code_field("C28")
    c29_health = code_field("C29")
    f_identity = code_field("F_IDENTITY")
    f_nationality = serializers.RegexField(r"^[A-Z]{3}$", required=False, allow_blank=True, max_length=3)
    f_stay = code_field("F_STAY")
    f_purpose = code_field("F_PURPOSE")
    f_employed = code_field("F_EMPLOYED")

    def validate_d3_id_number(self, value: str) -> str:
        return value.upper()


class DeathSerializer(StrictSerializer):
    row_no = serializers.IntegerField(min_value=1, max_value=MAX_DEATHS)
    name = text(50)
    id_number = serializers.RegexField(r"^[0-9]{17}[0-9Xx]$", required=False, allow_blank=True, max_length=18)
    sex = code_field("D4")
    birth_year = small_int(1880, 2020)
    birth_month = small_int(1, 12)
    death_year = small_int(2019, 2020)
    death_month = small_int(1, 12)
    ethnicity = serializers.ChoiceField(choices=ethnicity_choices(), required=False, allow_blank=True)
    education = code_field("D11")
    marital = code_field("C24")


class HouseholdFormSerializer(StrictSerializer):
    form_kind = serializers.ChoiceField(choices=[("census", "census"), ("foreign", "foreign")], required=False)
    h1_kind = code_field("H1")
    h2_present = small_int(0, 999)
    h2_away = small_int(0, 999)
    h3_births_male = small_int(0, 20)
    h3_births_female = small_int(0, 20)
    h4_deaths_male = small_int(0, 20)
    h4_deaths_female = small_int(0, 20)
    h5_residence_type = code_field("H5")
    h6_floor_area = small_int(1, 100000)
    h7_rooms = small_int(1, 999)
    h8_storeys = code_field("H8")
    h9_structure = code_field("H9")
    h10_year_built = code_field("H10")
    h11_lift = code_field("H11")
    h12_cooking_fuel = code_field("H12")
    h13_piped_water = code_field("H13")
    h14_kitchen = code_field("H14")
    h15_toilet = code_field("H15")
    h16_bathing = code_field("H16")
    h17_tenure = code_field("H17")
    h18_rent = code_field("H18")
    h19_car_value = code_field("H19")
    warning_notes = serializers.DictField(child=serializers.CharField(max_length=500, allow_blank=True), required=False)
    collection_mode = DeviceCollectionMode()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs.pop("collection_mode", None)  # in_person: what the form is recorded as anyway
        return attrs


class FormUpdateInput(StrictSerializer):
    version = serializers.IntegerField(
        min_value=1, max_value=MAX_VERSION, help_text="the version the client last read; a stale one is 409"
    )
    household = HouseholdFormSerializer()
    persons = PersonSerializer(many=True, max_length=MAX_PERSONS)  # type: ignore[call-arg]
    deaths = DeathSerializer(many=True, required=False, max_length=MAX_DEATHS)  # type: ignore[call-arg]
    reason = serializers.CharField(
        required=False, allow_blank=True, max_length=500, help_text="required when a signed form is changed"
    )


class RespondentInput(StrictSerializer):
    name = serializers.CharField(max_length=50)
    relationship = serializers.IntegerField(min_value=0, max_value=9, help_text="D2 code of the respondent")
    signature_image = serializers.CharField(required=False, allow_blank=True, max_length=300_000)
    refused = serializers.BooleanField(required=False, default=False)
    refusal_reason = serializers.CharField(required=False, allow_blank=True, max_length=200)


class SignInput(StrictSerializer):
    password = serializers.CharField(max_length=128, trim_whitespace=False, style={"input_type": "password"})
    version = serializers.IntegerField(required=False, min_value=1, max_value=MAX_VERSION)


class ListingInput(StrictSerializer):
    small_area = serializers.IntegerField(min_value=1, max_value=BIGINT_MAX)
    head_name = text(50)
    expected_persons = serializers.IntegerField(required=False, min_value=0, max_value=999, default=0)
    aware_of_census = serializers.BooleanField(required=False, allow_null=True, default=None)
    all_members_died = serializers.BooleanField(required=False, default=False)
    collection_mode = DeviceCollectionMode()


class SubmitInput(StrictSerializer):
    """A completed household in one request: listing, form, respondent confirmation and the signature."""

    small_area = serializers.IntegerField(min_value=1, max_value=BIGINT_MAX)
    head_name = text(50)
    aware_of_census = serializers.BooleanField(required=False, allow_null=True, default=None)
    household = HouseholdFormSerializer()
    persons = PersonSerializer(many=True, max_length=MAX_PERSONS)  # type: ignore[call-arg]
    deaths = DeathSerializer(many=True, required=False, max_length=MAX_DEATHS)  # type: ignore[call-arg]
    respondent = RespondentInput()
    password = serializers.CharField(max_length=128, trim_whitespace=False)
    collection_mode = DeviceCollectionMode()


class CommentInput(StrictSerializer):
    """A review comment: the item it is about — ``*`` (the whole form), an item code (``H6``) or an item of a row
    (``D5@2``), as the review page offers them — and what to correct."""

    item = serializers.CharField(max_length=20, help_text="*, an item code (H6) or an item of a row (D5@2)")
    text = serializers.CharField(max_length=500)

    def validate_item(self, value: str) -> str:
        code, at, row = value.partition("@")
        known = value == "*" or (code in ITEMS_BY_CODE and (not at or (row.isdigit() and 1 <= int(row) <= MAX_PERSONS)))
        if not known:
            raise serializers.ValidationError(_("Unknown item: %(item)s") % {"item": value})
        return value


class TransitionInput(StrictSerializer):
    action = serializers.ChoiceField(
        choices=["approve", "return", "accept", "lock", "reopen", "long_form_open", "override"]
    )
    # Before: a list of free dictionaries, so any text was stored (and shown) as the item a comment is about.
    comments = CommentInput(many=True, required=False, max_length=50)  # type: ignore[call-arg]
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    password = serializers.CharField(required=False, allow_blank=True, max_length=128, trim_whitespace=False)


# --- output ------------------------------------------------------------------------------------------------


def _person_out(person: Person, unmasked: bool) -> dict[str, Any]:
    data = {name: getattr(person, name) for name in PERSON_FORM_FIELDS}
    if not unmasked:
        data["d1_name"] = mask_name(data["d1_name"])
        data["d3_id_number"] = mask_id_number(data["d3_id_number"])
    return data


def _death_out(death: DeathRecord, unmasked: bool) -> dict[str, Any]:
    data = {name: getattr(death, name) for name in DEATH_FORM_FIELDS}
    if not unmasked:
        data["name"] = mask_name(data["name"])
        data["id_number"] = mask_id_number(data["id_number"])
    return data


# The columns of a list row; ``small_area_code`` is read through the small area.
SUMMARY_VALUES = (
    "id",
    "small_area_id",
    "household_no",
    "head_name_listed",
    "expected_persons",
    "aware_of_census",
    "state",
    "version",
    "registrar_id",
    "in_long_form_sample",
    "signed_at",
)


def summary_of_values(row: Mapping[str, Any], unmasked: bool) -> dict[str, Any]:
    """A list row from the household's column values (``SUMMARY_VALUES`` and ``small_area_code``): a page of
    fifty rows is read as values, not as fifty households and fifty small areas."""
    return {
        "id": row["id"],
        "key": household_key(row["small_area_code"], row["household_no"]),
        "small_area": row["small_area_id"],
        "small_area_code": row["small_area_code"],
        "household_no": row["household_no"],
        "head_name_listed": row["head_name_listed"] if unmasked else mask_name(row["head_name_listed"]),
        "expected_persons": row["expected_persons"],
        "aware_of_census": row["aware_of_census"],
        "state": row["state"],
        "version": row["version"],
        "registrar": row["registrar_id"],
        "in_long_form_sample": row["in_long_form_sample"],
        "signed_at": row["signed_at"],
    }


def household_summary(household: Household, unmasked: bool) -> dict[str, Any]:
    values = {name: getattr(household, name) for name in SUMMARY_VALUES}
    return summary_of_values({**values, "small_area_code": household.small_area.code}, unmasked)


def household_detail(household: Household, unmasked: bool, *, with_issues: bool = True) -> dict[str, Any]:
    persons = list(household.persons.order_by("row_no"))
    deaths = list(household.deaths.order_by("row_no"))
    data = household_summary(household, unmasked)
    data["household"] = {name: getattr(household, name) for name in HOUSEHOLD_FORM_FIELDS}
    data["persons"] = [_person_out(p, unmasked) for p in persons]
    data["deaths"] = [_death_out(d, unmasked) for d in deaths]
    if with_issues:
        values = services.form_values_of(household, persons, deaths)
        data["issues"] = [i.as_dict() for i in validate_household(values.household, values.persons, values.deaths)]
    return data


def _audit_view(user: StaffMember, household: Household, request: Request, fields: tuple[str, ...]) -> None:
    """The audit event of a response that showed one household's personal data unmasked."""
    record_personal_data_view(actor=user, obj=household, fields=fields, ip_address=client_address(request))


class HouseholdSummarySerializer(serializers.Serializer[Any]):
    """Documentation of the list rows (the view builds them directly)."""

    id = serializers.IntegerField()
    key = serializers.CharField()
    small_area = serializers.IntegerField()
    small_area_code = serializers.CharField()
    household_no = serializers.IntegerField()
    head_name_listed = serializers.CharField()
    expected_persons = serializers.IntegerField()
    aware_of_census = serializers.BooleanField(allow_null=True)
    state = serializers.CharField()
    version = serializers.IntegerField()
    registrar = serializers.IntegerField(allow_null=True)
    in_long_form_sample = serializers.BooleanField()
    signed_at = serializers.DateTimeField(allow_null=True)


class HouseholdDetailSerializer(HouseholdSummarySerializer):
    household = HouseholdFormSerializer()
    persons = PersonSerializer(many=True)
    deaths = DeathSerializer(many=True)
    issues = serializers.ListField(child=serializers.DictField())


# --- views ---------------------------------------------------------------------------------------------


def _scoped(request: Request) -> QuerySet[Household]:
    return Household.objects.visible_to(request.user).select_related("small_area")


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


class HouseholdApiFilter(django_filters.FilterSet):
    """The list's filters compare the row's own columns: an area or registrar id is not looked up first (the
    list is scoped already, and each lookup was a query per request)."""

    small_area = IdFilter(field_name="small_area_id")
    village = django_filters.CharFilter(field_name="village_id", max_length=12, label=gettext_lazy("village code"))
    township = django_filters.CharFilter(field_name="township_id", max_length=9, label=gettext_lazy("township code"))
    registrar = IdFilter(field_name="registrar_id")

    class Meta:
        model = Household
        fields = ("state", "small_area", "village", "township", "registrar", "in_long_form_sample")


class HouseholdListCreateApi(ReadsOutsideTransaction, generics.GenericAPIView[Household]):
    permission_classes = [IsAuthenticated, HasRole.of(*READERS)]
    pagination_class = CountedPagination
    serializer_class = HouseholdSummarySerializer
    filterset_class = HouseholdApiFilter

    def get_queryset(self) -> QuerySet[Household]:
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular reading the filters' model
            return Household.objects.none()
        rows = within_area_code(_scoped(self.request), narrowest_area_code(staff_of(self.request)))
        return rows.order_by("small_area__code", "household_no")

    @extend_schema(responses=HouseholdSummarySerializer(many=True))
    def get(self, request: Request) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        values = queryset.values(*SUMMARY_VALUES, small_area_code=F("small_area__code"))
        page = self.paginate_queryset(values)  # type: ignore[arg-type]
        user = staff_of(request)
        unmasked = unmasked_for(user)
        rows = [summary_of_values(row, unmasked) for row in (page if page is not None else values)]
        if unmasked:
            # One event for the page (the request's only write: one INSERT, no transaction around it).
            record_personal_data_list_view(
                actor=user,
                model=Household,
                ids=[row["id"] for row in rows],
                fields=("head_name_listed",),
                ip_address=client_address(request),
            )
        return self.get_paginated_response(rows) if page is not None else Response(rows)

    @extend_schema(request=ListingInput, responses={201: HouseholdSummarySerializer})
    @idempotent
    def post(self, request: Request) -> Response:
        """List a household (摸底) in a small area of the caller's: it gets the next 户编号 (or 999)."""
        user = staff_of(request)
        if user.role not in FIELD_STAFF:
            raise ApplicationError(_("Only field staff list households."), code="not_field_staff")
        data = ListingInput(data=request.data)
        data.is_valid(raise_exception=True)
        area = get_object_or_404(SmallArea.objects.visible_to(user), pk=data.validated_data["small_area"])
        household = services.household_list(
            small_area=area,
            actor=user,
            head_name=data.validated_data.get("head_name", ""),
            expected_persons=data.validated_data["expected_persons"],
            aware_of_census=data.validated_data["aware_of_census"],
            all_members_died=data.validated_data["all_members_died"],
        )
        # (A write's reply shows what the caller just sent: masked by the same rule, but no view to audit.)
        return Response(household_summary(household, unmasked_for(user)), status=status.HTTP_201_CREATED)


class HouseholdDetailApi(ReadsOutsideTransaction, APIView):
    url_objects = {"pk": Household}
    permission_classes = [IsAuthenticated, HasRole.of(*READERS)]
    serializer_class = HouseholdDetailSerializer

    @extend_schema(responses=HouseholdDetailSerializer)
    def get(self, request: Request, pk: int) -> Response:
        household = get_object_or_404(_scoped(request), pk=pk)
        user = staff_of(request)
        unmasked = unmasked_for(user)
        if unmasked:
            _audit_view(user, household, request, PERSONAL_FIELDS)
        return Response(household_detail(household, unmasked))

    @extend_schema(request=FormUpdateInput, responses=HouseholdDetailSerializer)
    def put(self, request: Request, pk: int) -> Response:
        """Save the whole form (draft). Carry the version you read; a stale version is refused with 409."""
        household = get_object_or_404(_scoped(request), pk=pk)
        data = FormUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        saved = services.household_save(
            household=household,
            actor=staff_of(request),
            expected_version=data.validated_data["version"],
            data=dict(data.validated_data["household"]),
            persons=[dict(p) for p in data.validated_data["persons"]],
            deaths=[dict(d) for d in data.validated_data.get("deaths", [])],
            reason=data.validated_data.get("reason", ""),
        )
        return Response(household_detail(saved, unmasked_for(staff_of(request))))


class HouseholdConfirmApi(APIView):
    url_objects = {"pk": Household}
    permission_classes = [IsAuthenticated, HasRole.of(*FIELD_STAFF)]
    serializer_class = RespondentInput

    @extend_schema(request=RespondentInput, responses={201: HouseholdSummarySerializer})
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        """The respondent (申报人) confirms: a drawn signature (PNG data URL) or a refusal with its reason."""
        household = get_object_or_404(_scoped(request), pk=pk)
        data = RespondentInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.respondent_confirm(household=household, actor=staff_of(request), **data.validated_data)
        household.refresh_from_db()
        return Response(household_summary(household, unmasked_for(staff_of(request))), status=status.HTTP_201_CREATED)


class HouseholdSignApi(APIView):
    url_objects = {"pk": Household}
    permission_classes = [IsAuthenticated, HasRole.of(*FIELD_STAFF)]
    serializer_class = SignInput

    @extend_schema(request=SignInput, responses=HouseholdSummarySerializer)
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        """The registrar signs by re-entering the password. Hard errors, unexplained warnings or a missing
        respondent confirmation refuse it (400 with the issues)."""
        household = get_object_or_404(_scoped(request), pk=pk)
        data = SignInput(data=request.data)
        data.is_valid(raise_exception=True)
        signed = services.household_sign(
            household=household,
            signer=staff_of(request),
            password=data.validated_data["password"],
            expected_version=data.validated_data.get("version"),
        )
        return Response(household_summary(signed, unmasked_for(staff_of(request))))


class HouseholdSubmitApi(APIView):
    permission_classes = [IsAuthenticated, HasRole.of(*FIELD_STAFF)]
    serializer_class = SubmitInput

    @extend_schema(request=SubmitInput, responses={201: HouseholdSummarySerializer})
    @idempotent
    def post(self, request: Request) -> Response:
        """Submit a household completed on a device in one request: it is listed, saved, confirmed and signed,
        all or nothing."""
        user = staff_of(request)
        data = SubmitInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            signed = services.household_submit(
                small_area_id=values["small_area"],
                actor=user,
                head_name=values.get("head_name", ""),
                aware_of_census=values["aware_of_census"],
                data=dict(values["household"]),
                persons=[dict(p) for p in values["persons"]],
                deaths=[dict(d) for d in values.get("deaths", [])],
                respondent=services.ConfirmationInput(**values["respondent"]),
                password=values["password"],
            )
        except ApplicationError as refused:
            # The service checks the area while locking it (assigned to the caller); one the caller cannot see
            # is, to them, not there.
            if refused.code == "not_registrar" and not (
                SmallArea.objects.visible_to(user).filter(pk=values["small_area"]).exists()
            ):
                raise Http404 from refused
            raise
        return Response(household_summary(signed, unmasked_for(user)), status=status.HTTP_201_CREATED)


class HouseholdTransitionApi(APIView):
    url_objects = {"pk": Household}
    permission_classes = [IsAuthenticated, HasRole.of(*REVIEWERS)]
    serializer_class = TransitionInput

    @extend_schema(request=TransitionInput, responses=HouseholdSummarySerializer)
    @idempotent
    def post(self, request: Request, pk: int) -> Response:
        """Move the form through review: approve, return (with per-item comments), accept, lock, reopen
        (reason + password), long_form_open; override (district office: reason + password) lets a form the checks
        block pass them. Only the transitions of the state machine are possible (409); a form the checks block
        is refused with 409, code ``blocked_by_checks`` and the ``blockers`` (finding ids, rule codes, texts)."""
        household = get_object_or_404(_scoped(request), pk=pk)
        data = TransitionInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = staff_of(request)
        action = data.validated_data["action"]
        if action == "approve":
            household = services.household_approve(household=household, actor=user)
        elif action == "return":
            comments = [(c.get("item", ""), c.get("text", "")) for c in data.validated_data.get("comments", [])]
            household = services.household_return(household=household, actor=user, comments=comments)
        elif action == "accept":
            household = services.household_accept(household=household, actor=user)
        elif action == "lock":
            household = services.household_lock(household=household, actor=user)
        elif action == "override":
            services.household_override(
                household=household,
                actor=user,
                reason=data.validated_data.get("reason", ""),
                password=data.validated_data.get("password", ""),
            )
            household.refresh_from_db()
        elif action == "reopen":
            household = services.household_reopen(
                household=household,
                actor=user,
                reason=data.validated_data.get("reason", ""),
                password=data.validated_data.get("password", ""),
            )
        else:
            household = services.household_long_form_open(household=household, actor=user)
        unmasked = unmasked_for(user)
        if unmasked and household.head_name_listed:
            # The reviewer reads back a name they did not send (in the transition's transaction: one INSERT more).
            _audit_view(user, household, request, ("head_name_listed",))
        return Response(household_summary(household, unmasked))


class HouseholdVersionsApi(APIView):
    url_objects = {"pk": Household}
    permission_classes = [IsAuthenticated, HasRole.of(*READERS)]

    class VersionSerializer(serializers.ModelSerializer[HouseholdVersion]):
        class Meta:
            model = HouseholdVersion
            fields = ("number", "kind", "diff", "author", "reason", "created_at")

    serializer_class = VersionSerializer

    @extend_schema(responses=VersionSerializer(many=True))
    def get(self, request: Request, pk: int) -> Response:
        """Every signed version and every change after signing, with who, when, why and a field-level diff."""
        household = get_object_or_404(_scoped(request), pk=pk)
        versions = HouseholdVersion.objects.filter(household=household).order_by("number", "created_at")
        rows = self.VersionSerializer(versions, many=True).data
        user = staff_of(request)
        unmasked = unmasked_for(user)
        personal = {
            change["field"]
            for row in rows
            for change in row["diff"]
            if change.get("field") in PERSONAL_DIFF_FIELDS and (change.get("before") or change.get("after"))
        }
        if not unmasked:
            for row in rows:
                for change in row["diff"]:
                    if change.get("field") in PERSONAL_DIFF_FIELDS:
                        change["before"] = change["after"] = "***"
        elif personal:
            _audit_view(user, household, request, tuple(personal))
        return Response(rows)


class LongFormSampleApi(APIView):
    url_objects = {"code": Village}
    permission_classes = [IsAuthenticated, HasRole.of(Role.DISTRICT_OFFICE)]

    class SampleSerializer(serializers.ModelSerializer[LongFormSample]):
        class Meta:
            model = LongFormSample
            fields = ("village", "seed", "interval", "start", "frame_size", "sample_size", "household_ids", "drawn_at")

    serializer_class = SampleSerializer

    @extend_schema(request=None, responses={201: SampleSerializer})
    @idempotent
    def post(self, request: Request, code: str) -> Response:
        """Draw the 10% systematic long-form sample of a 普查区 (once; it cannot be redrawn)."""
        village = get_object_or_404(Village.objects.visible_to(request.user), code=code)
        sample = services.long_form_sample_draw(village=village, actor=staff_of(request))
        return Response(self.SampleSerializer(sample).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=SampleSerializer)
    def get(self, request: Request, code: str) -> Response:
        village = get_object_or_404(Village.objects.visible_to(request.user), code=code)
        sample = get_object_or_404(LongFormSample.objects.visible_to(request.user), village=village)
        return Response(self.SampleSerializer(sample).data)
