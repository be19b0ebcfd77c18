"""One confirmation by password for every signed action, one limit of mistakes shared by all of them, and every
refusal in the audit log (census/passwords.py)."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from census.api import ApplicationError
from census.models import AuditAction, AuditEvent
from enumeration.services import household_sign
from supervision.quality.models import Finding
from supervision.quality.services import finding_explain
from tests.census.factories import PASSWORD
from tests.conftest import Cast
from tests.enumeration.test_services_registration import register
from tests.quality.factories import run, sign_family, tamper

pytestmark = pytest.mark.django_db

LIMIT = 5  # LOGIN_FAILURE_LIMIT's default: the login's limit, written here from the settings' documentation
EXPLANATION = "已入户核实，身份证登记有误"


@pytest.fixture
def finding(cast: Cast) -> Finding:
    """An open finding on enumerator A1's signed household (the son's D5 no longer matches his number)."""
    household = sign_family(cast.area_a1, cast.enumerator_a1)
    tamper("UPDATE enumeration_person SET d5_birth_month = 8 WHERE household_id = %s AND row_no = 3", [household.pk])
    run()
    return Finding.objects.get(rule="ID_BIRTH_MISMATCH")


def refusals() -> list[dict[str, Any]]:
    return [
        event.detail for event in AuditEvent.objects.filter(action=AuditAction.PASSWORD_REFUSED).order_by("at", "pk")
    ]


def test_seven_wrong_passwords_then_the_right_one_are_refused_on_the_explanation_page(
    cast: Cast, finding: Finding, login: Any
) -> None:
    client = login(cast.enumerator_a1)
    url = reverse("supervision:finding-explain", args=[finding.pk])
    for _ in range(7):
        wrong = client.post(url, {"explanation": EXPLANATION, "password": "guess-again"})
        assert wrong.status_code == 200
    right = client.post(url, {"explanation": EXPLANATION, "password": PASSWORD})
    assert right.status_code == 200 and "密码错误次数过多：签字暂停 30 分钟。" in right.content.decode()
    assert Finding.objects.get(pk=finding.pk).state == "open"
    # Every refusal is in the log, although each request's own writes were rolled back; the fifth locks.
    assert [(d["purpose"], d["failures"], d["locked"]) for d in refusals()] == [
        ("finding_explain", n, n >= LIMIT) for n in range(1, LIMIT + 1)
    ] + [("finding_explain", LIMIT, True)] * 3
    events = AuditEvent.objects.filter(action=AuditAction.PASSWORD_REFUSED)
    assert {(e.actor_id, e.object_type, e.object_id) for e in events} == {
        (cast.enumerator_a1.pk, "staff", str(cast.enumerator_a1.pk))
    }
    assert all(e.ip_address == "127.0.0.1" for e in events)


def test_seven_wrong_passwords_then_the_right_one_are_refused_through_the_api(cast: Cast, finding: Finding) -> None:
    client = APIClient()
    client.force_authenticate(cast.enumerator_a1)
    url = reverse("api-finding-explain", args=[finding.pk])
    bodies = [
        client.post(url, {"explanation": EXPLANATION, "password": "guess-again"}, format="json").json()
        for _ in range(7)
    ]
    assert [body["code"] for body in bodies] == ["bad_password"] * LIMIT + ["signing_locked"] * 2
    right = client.post(url, {"explanation": EXPLANATION, "password": PASSWORD}, format="json")
    assert right.status_code == 400 and right.json()["code"] == "signing_locked"
    assert Finding.objects.get(pk=finding.pk).state == "open"
    # The API's exception handler rolls the refused request back; the refusals are logged all the same.
    assert len(refusals()) == 8


def test_the_limit_is_one_for_every_action_signed_with_the_password(cast: Cast, finding: Finding) -> None:
    household = register(cast, PASSWORD, sign=False)
    for _ in range(3):
        with pytest.raises(ApplicationError) as signing:
            household_sign(household=household, signer=cast.enumerator_a1, password="guess-again")
        assert signing.value.code == "bad_password"
    for _ in range(LIMIT - 3):
        with pytest.raises(ApplicationError) as explaining:
            finding_explain(finding=finding, actor=cast.enumerator_a1, explanation=EXPLANATION, password="guess")
        assert explaining.value.code == "bad_password"
    # Five mistakes in all: neither action takes the right password now.
    with pytest.raises(ApplicationError) as explaining:
        finding_explain(finding=finding, actor=cast.enumerator_a1, explanation=EXPLANATION, password=PASSWORD)
    assert explaining.value.code == "signing_locked"
    with pytest.raises(ApplicationError) as signing:
        household_sign(household=household, signer=cast.enumerator_a1, password=PASSWORD)
    assert signing.value.code == "signing_locked"
    # Another person is not affected.
    other = register_other(cast)
    assert household_sign(household=other, signer=cast.enumerator_a2, password=PASSWORD).state == "signed"


def test_a_right_password_clears_the_mistakes_before_the_limit(cast: Cast, finding: Finding) -> None:
    for _ in range(LIMIT - 1):
        with pytest.raises(ApplicationError):
            finding_explain(finding=finding, actor=cast.enumerator_a1, explanation=EXPLANATION, password="guess")
    assert finding_explain(finding=finding, actor=cast.enumerator_a1, explanation=EXPLANATION, password=PASSWORD)
    household = register(cast, PASSWORD, sign=False)
    for _ in range(LIMIT - 1):
        with pytest.raises(ApplicationError) as signing:
            household_sign(household=household, signer=cast.enumerator_a1, password="guess")
        assert signing.value.code == "bad_password"
    assert household_sign(household=household, signer=cast.enumerator_a1, password=PASSWORD).state == "signed"


def test_the_limit_follows_the_login_setting(cast: Cast, finding: Finding, settings: Any) -> None:
    settings.AXES_FAILURE_LIMIT = 2
    for code in ("bad_password", "bad_password", "signing_locked"):
        with pytest.raises(ApplicationError) as explaining:
            finding_explain(finding=finding, actor=cast.enumerator_a1, explanation=EXPLANATION, password="guess")
        assert explaining.value.code == code


def register_other(cast: Cast) -> Any:
    from enumeration.services import household_list, household_save, respondent_confirm
    from tests.enumeration.factories import family_form
    from tests.enumeration.test_services_registration import png_data_url

    household = household_list(small_area=cast.area_a2, actor=cast.enumerator_a2, head_name="李强", expected_persons=3)
    data, persons = family_form()
    household = household_save(
        household=household, actor=cast.enumerator_a2, expected_version=household.version, data=data, persons=persons
    )
    respondent_confirm(
        household=household, actor=cast.enumerator_a2, name="李强", relationship=0, signature_image=png_data_url()
    )
    return household


def test_no_other_module_checks_a_password_itself() -> None:
    """A new action confirmed with a password must go through password_confirm (its limit, its audit): a module
    that calls check_password or authenticate itself bypasses both, as the explanation of findings did."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    pattern = re.compile(r"\b(?:check_password|authenticate)\(")
    callers = [
        path.relative_to(root).as_posix()
        for package in ("census", "enumeration", "supervision")
        for path in sorted((root / package).rglob("*.py"))
        if pattern.search(path.read_text(encoding="utf-8"))
    ]
    assert callers == ["census/passwords.py"]
    assert pattern.search("if not actor.check_password(password):") and pattern.search("authenticate(request, **c)")


def test_guesses_made_in_parallel_all_count_and_the_count_ends_with_the_cool_off(cast: Cast) -> None:
    """Each request reads the person once; two requests guessing at the same time both see the same count. The
    mistakes are added to what the database holds, so both count; and mistakes older than the login's cool-off
    (30 minutes) start the count again."""
    from datetime import timedelta

    from django.utils import timezone

    from census.models import StaffMember
    from census.passwords import password_confirm

    first, second = (StaffMember.objects.get(pk=cast.enumerator_a1.pk) for _ in range(2))
    for reader in (first, second):
        with pytest.raises(ApplicationError):
            password_confirm(user=reader, password="guess", purpose="household_sign", refusal="wrong")
    assert StaffMember.objects.get(pk=cast.enumerator_a1.pk).password_failures == 2
    StaffMember.objects.filter(pk=cast.enumerator_a1.pk).update(
        password_failures=LIMIT, password_failed_at=timezone.now() - timedelta(minutes=31)
    )
    password_confirm(
        user=StaffMember.objects.get(pk=cast.enumerator_a1.pk),
        password=PASSWORD,
        purpose="household_sign",
        refusal="wrong",
    )
    assert StaffMember.objects.get(pk=cast.enumerator_a1.pk).password_failures == 0
