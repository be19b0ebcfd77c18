"""Households registered and signed through the real services, and check runs over them."""

from __future__ import annotations

import datetime
import hashlib
import hmac
from typing import Any

from django.conf import settings
from django.db import connection

from census.models import SmallArea, StaffMember
from enumeration.identity import make_id_number
from enumeration.models import Household
from enumeration.services import household_list, household_save, household_sign, respondent_confirm
from supervision.quality.models import CheckRun, Finding, FindingState
from supervision.quality.services import check_run_create, check_run_execute
from tests.census.factories import PASSWORD
from tests.enumeration.factories import family_form
from tests.enumeration.test_services_registration import png_data_url


def sign_family(
    area: SmallArea,
    enumerator: StaffMember,
    *,
    persons: list[dict[str, Any]] | None = None,
    data: dict[str, Any] | None = None,
    head: str = "王伟",
) -> Household:
    """List, fill, confirm and sign a family household (clean unless ``persons``/``data`` say otherwise)."""
    household = household_list(small_area=area, actor=enumerator, head_name=head, expected_persons=3)
    form, rows = family_form()
    household = household_save(
        household=household,
        actor=enumerator,
        expected_version=household.version,
        data={**form, **(data or {})},
        persons=persons if persons is not None else rows,
    )
    respondent_confirm(household=household, actor=enumerator, name=head, relationship=0, signature_image=png_data_url())
    return household_sign(household=household, signer=enumerator, password=PASSWORD)


def resign(
    household: Household, enumerator: StaffMember, *, persons: list[dict[str, Any]], data: Any = None
) -> Household:
    """The registrar changes a signed form and signs it again (谁登记、谁签字)."""
    household.refresh_from_db()
    household = household_save(
        household=household,
        actor=enumerator,
        expected_version=household.version,
        data=data or {},
        persons=persons,
        reason="核对后更正",
    )
    respondent_confirm(
        household=household, actor=enumerator, name="王伟", relationship=0, signature_image=png_data_url()
    )
    return household_sign(household=household, signer=enumerator, password=PASSWORD)


def persons_of(household: Household) -> list[dict[str, Any]]:
    from enumeration.services.registration import PERSON_FORM_FIELDS

    return [
        {name: p[name] for name in PERSON_FORM_FIELDS}
        for p in household.persons.order_by("row_no").values(*PERSON_FORM_FIELDS)
    ]


def same_number(year: int, month: int, sex: int, sequence: int = 51) -> str:
    """A valid number for this birth month and sex (``sequence`` picks which one)."""
    return make_id_number("511521", datetime.date(year, month, 12), 2 * sequence + (1 if sex == 1 else 2))


def roster_pseudonym(number: str) -> str:
    """What a roster person's finding is known by instead of the ID number: HMAC-SHA256 (RFC 2104, Python's own
    ``hmac``) of ``id_number:<number>`` under the installation's pseudonym key, 20 hex digits."""
    message = f"id_number:{number}".encode()
    return hmac.new(settings.CENSUS_PSEUDONYM_KEY.encode(), message, hashlib.sha256).hexdigest()[:20]


def run(mode: str = "full", **kwargs: Any) -> CheckRun:
    created = check_run_create(user=None, mode=mode, **kwargs)
    return check_run_execute(run_id=created.pk, poll=0.05)


def findings(**filters: Any) -> list[tuple[str, str, str]]:
    return sorted(Finding.objects.filter(**filters).values_list("rule", "record_key", "state"))


def open_rules() -> set[str]:
    return set(Finding.objects.filter(state=FindingState.OPEN).values_list("rule", flat=True))


def tamper(sql: str, params: list[Any]) -> None:
    """An edit made behind the application's back (no new signature, no updated_at)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
