"""The ledger against an insider with the database: every fact it vouches for — the form's content, the bytes of
the respondent's signature image, the registrar, and each state change — is verifiable, so a direct SQL edit of
any of them is reported by ``verify_signatures`` with its household.

Each edit below is what someone holding the database could do (a direct ``UPDATE``/``DELETE``/``INSERT``, no
service, no key). The expected reports come from the edit itself: which household was touched and which fact.
"""

from __future__ import annotations

import base64
import datetime
import io
import struct
import zlib
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from census.models import SmallArea
from enumeration.models import Household, HouseholdTransition, Signature
from enumeration.services import (
    ConfirmationInput,
    household_accept,
    household_approve,
    household_list,
    household_lock,
    household_reopen,
    household_return,
    household_save,
    household_sign,
    household_submit,
    households_approve,
    respondent_confirm,
)
from enumeration.services.review import households_accept
from enumeration.verification import verify
from tests.conftest import Cast
from tests.enumeration.factories import family_form

pytestmark = pytest.mark.django_db


def drawn_signature(stroke: int) -> str:
    """A 40×20 PNG data URL with one stroke in row ``stroke``: two respondents, two different drawings."""
    width, height = 40, 20
    raw = b"".join(b"\x00" + bytes(255 if y == stroke else 0 for _ in range(width)) for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
    return "data:image/png;base64," + base64.b64encode(png).decode()


def signed(cast: Cast, password: str, stroke: int) -> Household:
    household = household_list(small_area=cast.area_a1, actor=cast.enumerator_a1, head_name="王伟", expected_persons=3)
    data, persons = family_form()
    household = household_save(
        household=household, actor=cast.enumerator_a1, expected_version=household.version, data=data, persons=persons
    )
    respondent_confirm(
        household=household,
        actor=cast.enumerator_a1,
        name="王伟",
        relationship=0,
        signature_image=drawn_signature(stroke),
    )
    return household_sign(household=household, signer=cast.enumerator_a1, password=password)


def sql(statement: str, params: list[Any]) -> None:
    """An edit behind the application's back."""
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def reports(area: SmallArea) -> list[tuple[str, int | None]]:
    return sorted((m.kind, m.household_id) for _, found in verify(SmallArea.objects.filter(pk=area.pk)) for m in found)


@pytest.fixture
def two(cast: Cast, password: str) -> tuple[Household, Household]:
    """Two households of one small area, signed with different drawings; the ledger verifies."""
    first, second = signed(cast, password, 3), signed(cast, password, 12)
    assert reports(cast.area_a1) == []
    return first, second


# --- the four edits of issue 18, item 7 ------------------------------------------------------------------------


def swap_image(first: Household, second: Household, cast: Cast) -> None:
    """The respondent's drawn signature replaced by another household's (the signed SHA-256 left alone)."""
    sql(
        "UPDATE enumeration_respondentconfirmation SET signature_image = ("
        "  SELECT signature_image FROM enumeration_respondentconfirmation WHERE household_id = %s)"
        " WHERE household_id = %s",
        [second.pk, first.pk],
    )


def lock_without_review(first: Household, second: Household, cast: Cast) -> None:
    """A signed form set to 'locked' without approval, acceptance or the district's lock."""
    sql("UPDATE enumeration_household SET state = 'locked' WHERE id = %s", [first.pk])


def change_registrar(first: Household, second: Household, cast: Cast) -> None:
    """Someone else named as the one who registered the form (谁登记)."""
    sql("UPDATE enumeration_household SET registrar_id = %s WHERE id = %s", [cast.enumerator_a2.pk, first.pk])


def unsign_and_change(first: Household, second: Household, cast: Cast) -> None:
    """A signed form quietly made a draft again, unsigned, and changed."""
    sql("UPDATE enumeration_household SET state = 'draft', current_signature_id = NULL WHERE id = %s", [first.pk])
    sql("UPDATE enumeration_person SET d1_name = '篡改' WHERE household_id = %s AND row_no = 1", [first.pk])


EDITS: dict[str, tuple[Callable[[Household, Household, Cast], None], str]] = {
    "image swapped": (swap_image, "image"),
    "locked without review": (lock_without_review, "state"),
    "registrar changed": (change_registrar, "registrar"),
    "unsigned and changed": (unsign_and_change, "state"),
}


@pytest.mark.parametrize("edit", list(EDITS))
def test_each_insider_edit_is_reported_with_its_household(
    edit: str, cast: Cast, two: tuple[Household, Household]
) -> None:
    first, second = two
    change, kind = EDITS[edit]
    change(first, second, cast)
    assert reports(cast.area_a1) == [(kind, first.pk)]


@pytest.mark.parametrize("edit", list(EDITS))
def test_verify_signatures_names_the_household_and_the_problem_and_exits_non_zero(
    edit: str, cast: Cast, two: tuple[Household, Household]
) -> None:
    first, second = two
    change, kind = EDITS[edit]
    change(first, second, cast)
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("verify_signatures", area=cast.area_a1.code, stdout=out, stderr=io.StringIO())
    assert exit_.value.code == 1
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    key = f"{cast.area_a1.code}{first.household_no:03d}"
    assert len(lines) == 1, lines
    assert key in lines[0] and f"household {first.pk}" in lines[0] and f" {kind} " in lines[0]
    # Chinese first, English beside it.
    assert "户" in lines[0] and any("\u4e00" <= ch <= "\u9fff" for ch in lines[0].split(key)[1])


# --- what the insider might try next ------------------------------------------------------------------------------


def test_unsigning_and_removing_the_signing_from_the_trail_is_still_reported(
    cast: Cast, two: tuple[Household, Household]
) -> None:
    first, _ = two
    unsign_and_change(first, two[1], cast)
    sql(
        "DELETE FROM enumeration_householdtransition WHERE household_id = %s AND to_state = 'signed'",
        [first.pk],
    )
    assert reports(cast.area_a1) == [("state", first.pk)]


def test_a_state_change_written_without_the_key_is_reported(cast: Cast, two: tuple[Household, Household]) -> None:
    first, _ = two
    last = HouseholdTransition.objects.filter(household=first).order_by("-at", "-id").first()
    assert last is not None
    sql(
        "INSERT INTO enumeration_householdtransition (household_id, from_state, to_state, actor_id, reason, at, hmac)"
        " VALUES (%s, 'signed', 'locked', %s, '', %s, %s)",
        [first.pk, cast.district_office.pk, last.at + datetime.timedelta(hours=1), last.hmac],
    )
    sql("UPDATE enumeration_household SET state = 'locked' WHERE id = %s", [first.pk])
    assert reports(cast.area_a1) == [("transition", first.pk)]


def test_an_edited_or_removed_state_change_is_reported(cast: Cast, password: str) -> None:
    household = signed(cast, password, 3)
    household = household_approve(household=household, actor=cast.supervisor_a)
    other = signed(cast, password, 12)
    other = household_approve(household=other, actor=cast.supervisor_a)
    approval = HouseholdTransition.objects.get(household=household, to_state="approved")
    sql("UPDATE enumeration_householdtransition SET actor_id = %s WHERE id = %s", [cast.supervisor_b.pk, approval.pk])
    signing = HouseholdTransition.objects.get(household=other, to_state="signed")
    sql("DELETE FROM enumeration_householdtransition WHERE id = %s", [signing.pk])
    # The removed signing also leaves the ledger with a signature the trail does not account for.
    assert reports(cast.area_a1) == sorted(
        [("transition", household.pk), ("state", other.pk), ("transition", other.pk)]
    )


def test_pointing_a_form_back_at_an_earlier_signature_is_reported(cast: Cast, password: str) -> None:
    household = signed(cast, password, 3)
    first_signature = household.current_signature_id
    household = household_save(
        household=household,
        actor=cast.enumerator_a1,
        expected_version=household.version,
        data={"h7_rooms": 5},
        persons=family_form()[1],
        reason="核对后更正",
    )
    respondent_confirm(
        household=household, actor=cast.enumerator_a1, name="王伟", relationship=0, signature_image=drawn_signature(5)
    )
    household = household_sign(household=household, signer=cast.enumerator_a1, password=password)
    assert reports(cast.area_a1) == []
    # Back to the first signature, with the form as it was then: the content matches that signature again.
    sql(
        "UPDATE enumeration_household SET current_signature_id = %s, h7_rooms = 4, version = 2 WHERE id = %s",
        [first_signature, household.pk],
    )
    assert reports(cast.area_a1) == [("state", household.pk)]


# --- and nothing is reported for what the services do ----------------------------------------------------------


def test_every_path_of_the_review_workflow_verifies(cast: Cast, password: str) -> None:
    household = signed(cast, password, 3)
    household = household_return(household=household, actor=cast.supervisor_a, comments=[("H6", "请核实建筑面积")])
    data, persons = family_form()
    household = household_save(
        household=household,
        actor=cast.enumerator_a1,
        expected_version=household.version,
        data={**data, "h6_floor_area": 88},
        persons=persons,
    )
    respondent_confirm(
        household=household, actor=cast.enumerator_a1, name="王伟", relationship=0, signature_image=drawn_signature(4)
    )
    household = household_sign(household=household, signer=cast.enumerator_a1, password=password)
    household = household_approve(household=household, actor=cast.supervisor_a)
    household = household_accept(household=household, actor=cast.township_office_a)
    household = household_lock(household=household, actor=cast.district_office)
    household = household_reopen(
        household=household, actor=cast.district_office, reason="抽查发现错误", password=password
    )
    # Changed after signing (signed → draft with a reason), and a draft never signed.
    changed = signed(cast, password, 6)
    household_save(
        household=changed,
        actor=cast.enumerator_a1,
        expected_version=changed.version,
        data={"h7_rooms": 5},
        persons=persons,
        reason="核对后更正",
    )
    household_save(
        household=household_list(small_area=cast.area_a1, actor=cast.enumerator_a1, head_name="张三"),
        actor=cast.enumerator_a1,
        expected_version=1,
        data=data,
        persons=persons,
    )
    # Submitted in one step, then approved and accepted in bulk.
    submitted = [
        household_submit(
            small_area_id=cast.area_a1.pk,
            actor=cast.enumerator_a1,
            head_name="王伟",
            aware_of_census=True,
            data=data,
            persons=persons,
            deaths=[],
            respondent=ConfirmationInput(name="王伟", relationship=0, signature_image=drawn_signature(stroke)),
            password=password,
        )
        for stroke in (7, 8)
    ]
    assert households_approve(households=Household.objects.visible_to(cast.supervisor_a), actor=cast.supervisor_a).done
    assert households_accept(
        households=Household.objects.visible_to(cast.township_office_a), actor=cast.township_office_a
    ).done
    assert {h.state for h in Household.objects.filter(pk__in=[s.pk for s in submitted])} == {"accepted"}
    assert Signature.objects.filter(small_area=cast.area_a1).count() == 5
    assert reports(cast.area_a1) == []
    out = io.StringIO()
    call_command("verify_signatures", stdout=out)
    assert "3" in out.getvalue()
