"""The nightly run finds the insider's edits of issue 18 (item 7) as ``verify_signatures`` does — each a direct SQL
edit — and a finding about an unsigned form closes once the edit is undone."""

from __future__ import annotations

import pytest

from enumeration.models import Household, HouseholdState
from enumeration.services import household_list, household_save
from supervision.quality.models import Finding, FindingState
from tests.conftest import Cast
from tests.enumeration.factories import family_form
from tests.enumeration.test_verification import drawn_signature
from tests.quality.factories import run, sign_family, tamper

pytestmark = pytest.mark.django_db


LEDGER_RULES = (
    "CONTENT_CHANGED_AFTER_SIGNING",
    "SIGNATURE_CHAIN_BROKEN",
    "SIGNED_BY_OTHER",
    "SIGNATURE_IMAGE_CHANGED",
    "STATE_TRAIL_BROKEN",
    "REGISTRAR_CHANGED",
)


def found() -> set[tuple[str, int | None]]:
    """The open findings of the ledger's rules (the households here are copies of one form: duplicates too)."""
    return set(
        Finding.objects.filter(state=FindingState.OPEN, rule__in=LEDGER_RULES).values_list("rule", "household_id")
    )


def test_each_edit_is_found_with_its_household(cast: Cast) -> None:
    image, locked, registrar, unsigned = (
        sign_family(cast.area_a1, cast.enumerator_a1, head=head) for head in ("王伟", "李强", "张勇", "刘洋")
    )
    run()
    assert found() == set()
    tamper(
        "UPDATE enumeration_respondentconfirmation SET signature_image = %s WHERE household_id = %s",
        [drawn_signature(9), image.pk],
    )
    tamper("UPDATE enumeration_household SET state = 'locked' WHERE id = %s", [locked.pk])
    tamper("UPDATE enumeration_household SET registrar_id = %s WHERE id = %s", [cast.enumerator_a2.pk, registrar.pk])
    tamper("UPDATE enumeration_household SET state = 'draft', current_signature_id = NULL WHERE id = %s", [unsigned.pk])
    tamper("UPDATE enumeration_person SET d1_name = '篡改' WHERE household_id = %s AND row_no = 1", [unsigned.pk])
    run()
    assert found() == {
        ("SIGNATURE_IMAGE_CHANGED", image.pk),
        ("STATE_TRAIL_BROKEN", locked.pk),
        ("REGISTRAR_CHANGED", registrar.pk),
        # The registrar's own rule sees it too: the form is signed by someone who is not (now) its registrar.
        ("SIGNED_BY_OTHER", registrar.pk),
        ("STATE_TRAIL_BROKEN", unsigned.pk),
    }
    evidence = Finding.objects.get(rule="STATE_TRAIL_BROKEN", household=unsigned).evidence
    assert evidence == {"state": "draft", "detail": ["state"]}


def test_a_finding_about_an_unsigned_form_closes_when_the_edit_is_undone(cast: Cast) -> None:
    draft = household_list(small_area=cast.area_a1, actor=cast.enumerator_a1, head_name="王伟")
    data, persons = family_form()
    draft = household_save(household=draft, actor=cast.enumerator_a1, expected_version=1, data=data, persons=persons)
    assert draft.state == HouseholdState.DRAFT
    tamper("UPDATE enumeration_household SET registrar_id = %s WHERE id = %s", [cast.enumerator_a2.pk, draft.pk])
    run(mode="incremental")  # an edit behind the application's back waits for the full run
    assert found() == set()
    run()
    assert found() == {("REGISTRAR_CHANGED", draft.pk)}
    run(mode="incremental")  # which leaves the full run's finding alone
    assert found() == {("REGISTRAR_CHANGED", draft.pk)}
    tamper("UPDATE enumeration_household SET registrar_id = %s WHERE id = %s", [cast.enumerator_a1.pk, draft.pk])
    run()
    assert found() == set()
    assert Finding.objects.get(rule="REGISTRAR_CHANGED", household=draft).state != FindingState.OPEN
    assert Household.objects.get(pk=draft.pk).state == HouseholdState.DRAFT
