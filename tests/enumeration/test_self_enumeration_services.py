"""Self-enumeration services: invitations, the respondent's answers and declaration, verification and signing."""

from __future__ import annotations

import datetime
import hashlib
import json
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from census.api import ApplicationError, ConflictError
from enumeration.models import CollectionMode, Household, HouseholdState, HouseholdVersion, Person
from enumeration.self_enumeration import services
from enumeration.self_enumeration.models import Declaration, Invitation
from enumeration.services import household_list, household_save
from enumeration.verification import verify_small_area
from supervision.progress.models import SmallAreaProgress
from supervision.progress.services import progress_refresh
from tests.conftest import Cast
from tests.enumeration.factories import family_form

pytestmark = pytest.mark.django_db

SHORT_PERSON_FIELDS = (
    "d1_name",
    "d2_relationship",
    "d3_id_number",
    "d4_sex",
    "d5_birth_year",
    "d5_birth_month",
    "d6_ethnicity",
    "d7_residence",
    "d8_hukou_place",
    "d9_away_duration",
    "d11_education",
    "d12_literate",
)


@pytest.fixture(autouse=True)
def _period(settings: Any) -> None:
    settings.SELF_ENUMERATION = {**settings.SELF_ENUMERATION, "ENDS": "", "DEFAULT_DAYS": 14}


def listed(cast: Cast) -> Household:
    return household_list(small_area=cast.area_a1, actor=cast.enumerator_a1, head_name="王伟", expected_persons=3)


def fill(invitation: Invitation) -> None:
    data, persons = family_form()
    services.respondent_household_save(invitation=invitation, data=data)
    for row in persons:
        services.respondent_person_save(
            invitation=invitation, row_no=row["row_no"], data={k: row[k] for k in SHORT_PERSON_FIELDS if k in row}
        )


def declared(cast: Cast) -> tuple[Household, Declaration]:
    household = listed(cast)
    issued = services.invitation_issue(household=household, actor=cast.enumerator_a1)
    fill(issued.invitation)
    declaration = services.respondent_declare(invitation=issued.invitation, name="李芳", relationship=1)
    return household, declaration


def test_code_is_long_random_and_stored_only_as_its_hash(cast: Cast) -> None:
    household = listed(cast)
    issued = services.invitation_issue(household=household, actor=cast.enumerator_a1)
    # 20 symbols of 31: log2(31**20) ≈ 99 bits, above the 80 asked for.
    assert len(issued.code) == 20 and set(issued.code) <= set(services.CODE_ALPHABET)
    row = Invitation.objects.filter(pk=issued.invitation.pk).values().get()
    assert issued.code not in json.dumps(row, default=str)
    assert row["code_hash"] == hashlib.sha256(issued.code.encode()).hexdigest()
    other = services.invitation_issue(household=listed(cast), actor=cast.enumerator_a1)
    assert other.code != issued.code


def test_code_typed_with_dashes_and_lower_case_is_the_same_code() -> None:
    code = services.new_code()
    assert services.code_hash(services.code_display(code).lower()) == services.code_hash(code)


def test_invitation_expires_at_the_configured_end_of_the_period(cast: Cast, settings: Any) -> None:
    settings.SELF_ENUMERATION = {**settings.SELF_ENUMERATION, "ENDS": "2099-11-05"}
    issued = services.invitation_issue(household=listed(cast), actor=cast.enumerator_a1)
    local = timezone.localtime(issued.invitation.expires_at)
    assert (local.date(), local.hour, local.minute) == (datetime.date(2099, 11, 5), 23, 59)


def test_no_invitation_after_the_period(cast: Cast, settings: Any) -> None:
    settings.SELF_ENUMERATION = {**settings.SELF_ENUMERATION, "ENDS": "2020-11-05"}
    with pytest.raises(ApplicationError) as exc:
        services.invitation_issue(household=listed(cast), actor=cast.enumerator_a1)
    assert exc.value.code == "period_ended"


def test_reissue_revokes_the_earlier_code(cast: Cast) -> None:
    household = listed(cast)
    first = services.invitation_issue(household=household, actor=cast.enumerator_a1)
    second = services.invitation_issue(household=household, actor=cast.enumerator_a1)
    first.invitation.refresh_from_db()
    assert first.invitation.revoked_at is not None and second.invitation.revoked_at is None
    assert list(Invitation.objects.active()) == [second.invitation]


def test_enumerator_of_another_area_may_not_issue(cast: Cast) -> None:
    with pytest.raises(ApplicationError):
        services.invitation_issue(household=listed(cast), actor=cast.enumerator_a2)


def test_bulk_issue_for_a_small_area_skips_invited_and_started(cast: Cast) -> None:
    invited, started, fresh_1, fresh_2 = (listed(cast) for _ in range(4))
    services.invitation_issue(household=invited, actor=cast.enumerator_a1)
    data, persons = family_form()
    household_save(
        household=started, actor=cast.enumerator_a1, expected_version=started.version, data=data, persons=persons
    )
    issued = services.invitations_issue_for_area(small_area=cast.area_a1, actor=cast.township_office_a)
    assert sorted(i.invitation.household_id for i in issued) == sorted([fresh_1.pk, fresh_2.pk])
    assert len({i.code for i in issued}) == 2


def test_revoked_invitation_takes_no_more_answers(cast: Cast) -> None:
    issued = services.invitation_issue(household=listed(cast), actor=cast.enumerator_a1)
    services.invitation_revoke(invitation=issued.invitation, actor=cast.enumerator_a1)
    with pytest.raises(ApplicationError):
        services.respondent_household_save(invitation=issued.invitation, data={"h1_kind": 1})


def test_declaration_refused_while_the_rules_find_hard_errors(cast: Cast) -> None:
    issued = services.invitation_issue(household=listed(cast), actor=cast.enumerator_a1)
    fill(issued.invitation)
    # Row 1 must be the head (D2 = 0); make the head's row a spouse instead.
    services.respondent_person_save(invitation=issued.invitation, row_no=1, data={"d2_relationship": 1})
    with pytest.raises(ApplicationError) as exc:
        services.respondent_declare(invitation=issued.invitation, name="李芳", relationship=1)
    assert exc.value.code == "hard_errors"
    with pytest.raises(ValidationError):
        services.respondent_declare(invitation=issued.invitation, name=" ", relationship=1)


def test_declared_form_is_sealed_and_not_counted_before_the_enumerator_signs(cast: Cast, password: str) -> None:
    household, declaration = declared(cast)
    _data, persons = family_form()
    assert declaration.content["persons"][2]["d1_name"] == persons[2]["d1_name"]
    assert len(declaration.confirmation_no) == 12 and declaration.confirmation_no.isdigit()
    household.refresh_from_db()
    # Declared: nothing in the household's rows, nothing counted.
    assert household.state == HouseholdState.LISTED and not Person.objects.filter(household=household).exists()
    progress_refresh(small_area_ids=[cast.area_a1.pk])
    row = SmallAreaProgress.objects.get(small_area=cast.area_a1)
    assert (row.hh_signed, row.persons_registered, row.persons_accepted) == (0, 0, 0)
    # Taken up to verify: the enumerator's draft, still not signed nor in review.
    household = services.declaration_take_up(declaration=declaration, actor=cast.enumerator_a1)
    assert (household.state, household.collection_mode) == (HouseholdState.DRAFT, CollectionMode.SELF)
    assert not Household.objects.signed().filter(pk=household.pk).exists()
    assert not Household.objects.pending_review().filter(pk=household.pk).exists()
    progress_refresh(small_area_ids=[cast.area_a1.pk])
    assert SmallAreaProgress.objects.get(small_area=cast.area_a1).hh_signed == 0
    services.self_report_sign(household=household, signer=cast.enumerator_a1, password=password)
    progress_refresh(small_area_ids=[cast.area_a1.pk])
    assert SmallAreaProgress.objects.get(small_area=cast.area_a1).hh_signed == 1


def test_ledger_holds_declaration_and_signature_and_verification_checks_both(cast: Cast, password: str) -> None:
    household, declaration = declared(cast)
    household = services.declaration_take_up(declaration=declaration, actor=cast.enumerator_a1)
    # The enumerator corrects one item with the household: the floor area is 90 m², not 96.
    data, persons = family_form()
    household = household_save(
        household=household,
        actor=cast.enumerator_a1,
        expected_version=household.version,
        data={**data, "h6_floor_area": 90},
        persons=persons,
    )
    household = services.self_report_sign(household=household, signer=cast.enumerator_a1, password=password)
    assert household.state == HouseholdState.SIGNED
    signature = household.current_signature
    assert signature is not None and signature.signer_id == cast.enumerator_a1.pk
    signed = HouseholdVersion.objects.get(household=household, kind="signed").content
    # The signed content carries the declaration (declarant and the declared content's hash) and the mode.
    assert signed["respondent"] == {
        "name": "李芳",
        "relationship": 1,
        "signature_sha256": declaration.content_hash,
        "refused": False,
    }
    assert signed["household"]["collection_mode"] == "self"
    assert (
        hashlib.sha256(
            json.dumps(declaration.content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        ).hexdigest()
        == declaration.content_hash
    )
    assert verify_small_area(cast.area_a1) == []

    # Altering the declaration in the database is found; so is a signature not matching the form.
    Declaration.objects.filter(pk=declaration.pk).update(declarant_name="张三")
    kinds = [m.kind for m in verify_small_area(cast.area_a1)]
    assert kinds == ["declaration"]
    Declaration.objects.filter(pk=declaration.pk).update(declarant_name="李芳")
    content = dict(declaration.content)
    content["household"] = {**content["household"], "h6_floor_area": 90}
    Declaration.objects.filter(pk=declaration.pk).update(content=content)
    assert [m.kind for m in verify_small_area(cast.area_a1)] == ["declaration"]
    Declaration.objects.filter(pk=declaration.pk).update(content=declaration.content)
    Person.objects.filter(household=household, row_no=3).update(d1_name="王小亮")
    assert [m.kind for m in verify_small_area(cast.area_a1)] == ["content"]


def test_door_registration_after_declaration_refuses_the_take_up(cast: Cast) -> None:
    household, declaration = declared(cast)
    data, persons = family_form()
    household_save(
        household=household, actor=cast.enumerator_a1, expected_version=household.version, data=data, persons=persons
    )
    with pytest.raises(ConflictError) as exc:
        services.declaration_take_up(declaration=declaration, actor=cast.enumerator_a1)
    assert exc.value.code == "registered_at_door"


def test_declared_invitation_takes_no_more_answers(cast: Cast) -> None:
    household, declaration = declared(cast)
    with pytest.raises(ConflictError):
        services.respondent_household_save(invitation=declaration.invitation, data={"h7_rooms": 5})
    with pytest.raises(ApplicationError):
        services.invitation_issue(household=household, actor=cast.enumerator_a1)


def test_nightly_checks_accept_a_verified_declaration_and_flag_a_door_duplicate(cast: Cast, password: str) -> None:
    from supervision.quality.models import Finding, FindingState
    from tests.quality.factories import run

    verified, declaration = declared(cast)
    verified = services.declaration_take_up(declaration=declaration, actor=cast.enumerator_a1)
    services.self_report_sign(household=verified, signer=cast.enumerator_a1, password=password)
    # Another household declares, and its enumerator registers it at the door anyway and signs it.
    door, _door_declaration = declared(cast)
    data, persons = family_form()
    door = household_save(
        household=door, actor=cast.enumerator_a1, expected_version=door.version, data=data, persons=persons
    )
    from enumeration.services import household_sign, respondent_confirm
    from tests.enumeration.test_services_registration import png_data_url

    respondent_confirm(
        household=door, actor=cast.enumerator_a1, name="王伟", relationship=0, signature_image=png_data_url()
    )
    household_sign(household=door, signer=cast.enumerator_a1, password=password)
    run()
    # The two households are copies of one family, which the cross-household rules flag as designed: only the
    # ledger's rules and the self-enumeration duplicate are looked at here.
    ledger_rules = (
        "CONTENT_CHANGED_AFTER_SIGNING",
        "SIGNATURE_CHAIN_BROKEN",
        "SIGNED_BY_OTHER",
        "SIGNATURE_IMAGE_CHANGED",
        "STATE_TRAIL_BROKEN",
        "REGISTRAR_CHANGED",
        "SELF_REPORTED_AND_DOOR",
    )
    open_findings = set(
        Finding.objects.filter(state=FindingState.OPEN, rule__in=ledger_rules).values_list("rule", "household_id")
    )
    assert open_findings == {("SELF_REPORTED_AND_DOOR", door.pk)}
