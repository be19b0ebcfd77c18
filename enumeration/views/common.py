"""Helpers shared by the registration pages: who may do what here, errors as messages, personal data."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest

from census.api import ApplicationError
from census.models import Role, StaffMember
from census.privacy import (
    can_see_personal_data,
    client_address,
    record_personal_data_list_view,
    record_personal_data_view,
)
from enumeration.models import EDITABLE_STATES, Household, HouseholdState

FIELD_ROLES = (Role.ENUMERATOR, Role.SUPERVISOR)
OFFICE_ROLES = (Role.TOWNSHIP_OFFICE, Role.DISTRICT_OFFICE)
PERSONAL_FIELDS = ("d1_name", "d3_id_number", "head_name_listed")


def may_register(user: StaffMember, household: Household) -> bool:
    """The registrar, or — before anyone has started the form — a field worker assigned to its small area
    (the same rule the save service applies; the page only decides what to offer)."""
    if household.registrar_id is not None:
        return household.registrar_id == user.pk
    return user.role in FIELD_ROLES and household.small_area.assignments.filter(staff=user).exists()


def may_edit_form(user: StaffMember, household: Household) -> bool:
    """The registrar edits a draft or returned form; a signed form changes only with a reason."""
    return may_register(user, household) and (
        household.state in EDITABLE_STATES or household.state == HouseholdState.SIGNED
    )


def error_messages(exc: Exception) -> list[str]:
    """What a service refused, as sentences to show."""
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return [str(m) for messages in exc.message_dict.values() for m in messages]
        return [str(m) for m in exc.messages]
    if isinstance(exc, ApplicationError):
        return [str(exc.message)]
    return [str(exc)]


def issue_messages(exc: ApplicationError) -> list[dict[str, Any]]:
    issues = (exc.extra or {}).get("issues") or []
    return [issue for issue in issues if isinstance(issue, dict)]


def personal_data_shown(request: HttpRequest, user: StaffMember, household: Household) -> bool:
    """Whether names and ID numbers of this household are shown unmasked — and if so, the audit-log entry."""
    unmasked = can_see_personal_data(user, household)
    if unmasked:
        record_personal_data_view(actor=user, obj=household, fields=PERSONAL_FIELDS, ip_address=client_address(request))
    return unmasked


def list_personal_data_shown(request: HttpRequest, user: StaffMember, households: list[Household]) -> bool:
    """For a list of households: unmasked for the field roles (whose lists are their own scope), one audit entry
    naming the households shown."""
    unmasked = can_see_personal_data(user)
    if unmasked:
        record_personal_data_list_view(
            actor=user,
            model=Household,
            ids=[h.pk for h in households],
            fields=("head_name_listed",),
            ip_address=client_address(request),
        )
    return unmasked
