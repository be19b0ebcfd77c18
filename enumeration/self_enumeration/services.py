"""Writes of self-enumeration: issuing and revoking invitations, the respondent's answers and declaration, the
enumerator's verification and signature."""

from __future__ import annotations

import datetime
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from census.api import ApplicationError, ConflictError
from census.models import AuditAction, Role, SmallArea, StaffMember
from census.services import audit_record
from enumeration import ledger
from enumeration.models import (
    CollectionMode,
    Household,
    HouseholdState,
    RespondentConfirmation,
)
from enumeration.rules.entry import Issue, hard_issues, validate_household
from enumeration.self_enumeration.models import Declaration, Invitation
from enumeration.services import household_save, household_sign
from enumeration.services.registration import HOUSEHOLD_FORM_FIELDS, MAX_PERSONS

# Letters and digits nobody mixes up on paper (no 0/O, 1/I/L): 31 symbols; 20 of them are 99 bits, which nobody
# guesses, however many addresses they try from.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 20
CONFIRMATION_DIGITS = 12
# Who may issue and revoke: field staff assigned to the small area, or an office that sees it.
ISSUER_ROLES = (Role.ENUMERATOR, Role.SUPERVISOR, Role.TOWNSHIP_OFFICE, Role.DISTRICT_OFFICE)
FIELD_ISSUERS = (Role.ENUMERATOR, Role.SUPERVISOR)


# --- codes -------------------------------------------------------------------------------------------------------


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str:
    """What a person typed or a QR code carried, as the code: upper case, without spaces or dashes."""
    return "".join(ch for ch in text.upper() if ch not in " -\t\r\n")


def code_hash(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


def code_well_formed(code: str) -> bool:
    code = normalise_code(code)
    return len(code) == CODE_LENGTH and all(ch in CODE_ALPHABET for ch in code)


def code_display(code: str) -> str:
    """The code in groups of four, as the slip prints it (ABCD-EFGH-…)."""
    code = normalise_code(code)
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def period_end(now: datetime.datetime | None = None) -> datetime.datetime:
    """The end of the self-enumeration period (``SELF_ENUMERATION["ENDS"]``), when invitations expire."""
    now = now or timezone.now()
    config = settings.SELF_ENUMERATION
    text = str(config.get("ENDS") or "").strip()
    if not text:
        return now + datetime.timedelta(days=int(config.get("DEFAULT_DAYS", 14)))
    day = parse_date(text) if len(text) == 10 else None
    moment = datetime.datetime.combine(day, datetime.time(23, 59, 59)) if day is not None else parse_datetime(text)
    if moment is None:
        raise ValueError(f"SELF_ENUMERATION_ENDS is neither a date nor a date and time: {text!r}")
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


# --- issuing and revoking ----------------------------------------------------------------------------------------


def may_issue(actor: StaffMember, household: Household) -> bool:
    """Field staff assigned to the household's small area, or an office whose scope holds it."""
    if actor.role in FIELD_ISSUERS:
        return household.small_area.assignments.filter(staff=actor).exists()
    if actor.role in ISSUER_ROLES:
        return Household.objects.visible_to(actor).filter(pk=household.pk).exists()
    return False


@dataclass(frozen=True)
class Issued:
    """An invitation and its code: the only moment the code is known (only its hash is stored)."""

    invitation: Invitation
    code: str


def _issue(household: Household, actor: StaffMember, now: datetime.datetime, ends: datetime.datetime) -> Issued:
    if household.state != HouseholdState.LISTED:
        raise ApplicationError(
            _("The household's form has been started already: it cannot be invited to fill it in itself."),
            code="not_listed",
        )
    if Declaration.objects.filter(household=household).exists():
        raise ApplicationError(_("The household has declared its form already."), code="declared")
    Invitation.objects.filter(household=household, revoked_at__isnull=True).update(revoked_at=now, revoked_by=actor)
    code = new_code()
    invitation = Invitation.objects.create(
        household=household, code_hash=code_hash(code), issued_by=actor, issued_at=now, expires_at=ends
    )
    return Issued(invitation, code)


def _ends(now: datetime.datetime) -> datetime.datetime:
    ends = period_end(now)
    if ends <= now:
        raise ApplicationError(_("The self-enumeration period has ended."), code="period_ended")
    return ends


@transaction.atomic
def invitation_issue(*, household: Household, actor: StaffMember) -> Issued:
    """A new code for ``household`` (an earlier open one is revoked: a re-issue). It expires at the end of the
    self-enumeration period."""
    household = Household.objects.select_for_update().select_related("small_area").get(pk=household.pk)
    if not may_issue(actor, household):
        raise ApplicationError(_("You may not invite this household."), code="not_allowed")
    now = timezone.now()
    issued = _issue(household, actor, now, _ends(now))
    audit_record(
        actor=actor,
        action=AuditAction.RECORD_CHANGE,
        object_type="self_enumeration_invitation",
        object_id=issued.invitation.pk,
        detail={"household": household.pk, "change": "issued"},
    )
    return issued


@transaction.atomic
def invitations_issue_for_area(*, small_area: SmallArea, actor: StaffMember) -> list[Issued]:
    """Codes for every household of a small area that is listed, has no open invitation and has not declared."""
    households = list(
        Household.objects.select_for_update(of=("self",))
        .select_related("small_area")
        .filter(small_area=small_area, state=HouseholdState.LISTED)
        .exclude(Exists(Invitation.objects.filter(household=OuterRef("pk"), revoked_at__isnull=True)))
        .exclude(Exists(Declaration.objects.filter(household=OuterRef("pk"))))
        .order_by("household_no")
    )
    if households and not may_issue(actor, households[0]):
        raise ApplicationError(_("You may not invite this household."), code="not_allowed")
    now = timezone.now()
    ends = _ends(now)
    issued = [_issue(household, actor, now, ends) for household in households]
    if issued:
        audit_record(
            actor=actor,
            action=AuditAction.RECORD_CHANGE,
            object_type="small_area",
            object_id=small_area.pk,
            detail={"change": "self_enumeration_invitations_issued", "n": len(issued)},
        )
    return issued


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor: StaffMember) -> Invitation:
    invitation = Invitation.objects.select_for_update().select_related("household__small_area").get(pk=invitation.pk)
    if not may_issue(actor, invitation.household):
        raise ApplicationError(_("You may not invite this household."), code="not_allowed")
    if invitation.revoked_at is not None:
        return invitation
    invitation.revoked_at = timezone.now()
    invitation.revoked_by = actor
    invitation.save(update_fields=["revoked_at", "revoked_by"])
    audit_record(
        actor=actor,
        action=AuditAction.RECORD_CHANGE,
        object_type="self_enumeration_invitation",
        object_id=invitation.pk,
        detail={"household": invitation.household_id, "change": "revoked"},
    )
    return invitation


# --- the respondent's answers ------------------------------------------------------------------------------------


def _open_for_answers(invitation: Invitation) -> Invitation:
    invitation = Invitation.objects.select_for_update().select_related("household__small_area").get(pk=invitation.pk)
    if not invitation.is_open:
        raise ApplicationError(_("This code is no longer valid."), code="closed")
    if invitation.declared_at is not None:
        raise ConflictError(_("The form has been declared; it can no longer change here."), code="declared")
    return invitation


def _touch(invitation: Invitation, draft: dict[str, Any]) -> None:
    now = timezone.now()
    invitation.draft = draft
    invitation.started_at = invitation.started_at or now
    invitation.saved_at = now
    invitation.save(update_fields=["draft", "started_at", "saved_at"])


def draft_persons(invitation: Invitation) -> list[dict[str, Any]]:
    persons = invitation.draft.get("persons") or []
    return [p for p in persons if isinstance(p, dict)]


@transaction.atomic
def respondent_household_save(*, invitation: Invitation, data: dict[str, Any]) -> Invitation:
    """The household's items (H1–H7), as the entry form cleaned them."""
    invitation = _open_for_answers(invitation)
    unknown = set(data) - set(HOUSEHOLD_FORM_FIELDS)
    if unknown:
        raise ValidationError(_("Unknown fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    draft = dict(invitation.draft)
    draft["household"] = {**(draft.get("household") or {}), **data}
    _touch(invitation, draft)
    return invitation


@transaction.atomic
def respondent_person_save(*, invitation: Invitation, row_no: int, data: dict[str, Any]) -> Invitation:
    """One person's items; ``row_no`` one past the last adds a person."""
    invitation = _open_for_answers(invitation)
    persons = draft_persons(invitation)
    if not 1 <= row_no <= len(persons) + 1 or row_no > MAX_PERSONS:
        raise ValidationError(_("Rows must be numbered 1, 2, 3 … without repeats."))
    row = {**data, "row_no": row_no}
    if row_no == len(persons) + 1:
        persons.append(row)
    else:
        persons[row_no - 1] = {**persons[row_no - 1], **row}
    _touch(invitation, {**invitation.draft, "persons": persons})
    return invitation


@transaction.atomic
def respondent_person_remove(*, invitation: Invitation, row_no: int) -> Invitation:
    invitation = _open_for_answers(invitation)
    persons = draft_persons(invitation)
    if 1 <= row_no <= len(persons):
        del persons[row_no - 1]
        for index, person in enumerate(persons, start=1):
            person["row_no"] = index
        _touch(invitation, {**invitation.draft, "persons": persons})
    return invitation


def declared_values(invitation: Invitation) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The household row and persons the rules and the canonical content read, from the respondent's answers."""
    household = invitation.household
    items = {k: v for k, v in (invitation.draft.get("household") or {}).items() if k in HOUSEHOLD_FORM_FIELDS}
    row = {
        **items,
        "household_no": household.household_no,
        "form_kind": household.form_kind,
        "collection_mode": CollectionMode.SELF,
        "in_long_form_sample": False,
    }
    return row, draft_persons(invitation)


def respondent_issues(invitation: Invitation) -> list[Issue]:
    row, persons = declared_values(invitation)
    return validate_household(row, persons, [])


def _confirmation_no() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(CONFIRMATION_DIGITS))


@transaction.atomic
def respondent_declare(*, invitation: Invitation, name: str, relationship: int) -> Declaration:
    """申报: the household declares its answers. The entry rules' hard errors refuse it (as they refuse an
    enumerator's signature); warnings go to the enumerator, who verifies them with the household."""
    invitation = _open_for_answers(invitation)
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Write the respondent's name.")})
    if relationship not in range(10):
        raise ValidationError({"relationship": _("Choose the respondent's relationship to the head.")})
    row, persons = declared_values(invitation)
    if not persons:
        raise ApplicationError(_("Add the persons of the household before declaring."), code="no_persons")
    blocking = hard_issues(validate_household(row, persons, []))
    if blocking:
        raise ApplicationError(
            _("The form has %(n)d error(s) that must be corrected before signing.") % {"n": len(blocking)},
            code="hard_errors",
            extra={"issues": [issue.as_dict() for issue in blocking]},
        )
    household = invitation.household
    content = ledger.canonical_content(
        small_area_code=household.small_area.code, household=row, persons=persons, deaths=[], respondent=None
    )
    digest = ledger.content_hash(content)
    now = timezone.now()
    number = _confirmation_no()
    while Declaration.objects.filter(confirmation_no=number).exists():
        number = _confirmation_no()
    message = ledger.declaration_message(
        household_id=household.pk,
        content_hash=digest,
        declarant_relationship=relationship,
        declared_at=now,
        confirmation_no=number,
        declarant_name=name[:50],
    )
    declaration = Declaration.objects.create(
        invitation=invitation,
        household=household,
        content=content,
        content_hash=digest,
        declarant_name=name[:50],
        declarant_relationship=relationship,
        declared_at=now,
        confirmation_no=number,
        hmac=ledger.message_hmac(message, ledger.district_key(household.small_area.code)),
    )
    invitation.declared_at = now
    invitation.save(update_fields=["declared_at"])
    return declaration


# --- the enumerator verifies and signs ---------------------------------------------------------------------------


def _form_items(content: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    household = {k: v for k, v in content["household"].items() if k in HOUSEHOLD_FORM_FIELDS}
    return household, [dict(p) for p in content["persons"]]


@transaction.atomic
def declaration_take_up(*, declaration: Declaration, actor: StaffMember) -> Household:
    """The enumerator takes a declared form into the household's form to verify it (a draft they register:
    谁登记、谁签字). A household already registered at the door is refused: the two are a duplicate to resolve."""
    declaration = Declaration.objects.select_for_update().get(pk=declaration.pk)
    household = Household.objects.select_for_update().select_related("small_area").get(pk=declaration.household_id)
    if declaration.taken_up_at is not None:
        raise ConflictError(_("This declaration is being verified already."), code="taken_up")
    if household.state != HouseholdState.LISTED:
        raise ConflictError(
            _("The household has been registered at the door as well: resolve the duplicate first."),
            code="registered_at_door",
        )
    data, persons = _form_items(declaration.content)
    household = household_save(
        household=household, actor=actor, expected_version=household.version, data=data, persons=persons
    )
    household.collection_mode = CollectionMode.SELF
    household.save(update_fields=["collection_mode", "updated_at"])
    declaration.taken_up_at = timezone.now()
    declaration.taken_up_by = actor
    declaration.save(update_fields=["taken_up_at", "taken_up_by"])
    return household


@transaction.atomic
def self_report_sign(
    *, household: Household, signer: StaffMember, password: str, expected_version: int | None = None
) -> Household:
    """The enumerator signs the verified form. The household's declaration stands as the respondent's
    confirmation of this version (its name, relationship and the declared content's SHA-256), so the signed
    content, and with it the ledger, holds both the declaration and the signature."""
    household = Household.objects.select_for_update().get(pk=household.pk)
    declaration = (
        Declaration.objects.filter(household=household, taken_up_at__isnull=False).order_by("-declared_at").first()
    )
    if household.collection_mode != CollectionMode.SELF or declaration is None:
        raise ApplicationError(_("This household has no self-reported form to verify."), code="not_self_reported")
    if household.registrar_id != signer.pk:
        raise ApplicationError(
            _("Only the person who registered a household signs it (谁登记、谁签字)."), code="not_registrar"
        )
    if household.state in (HouseholdState.DRAFT, HouseholdState.RETURNED):
        RespondentConfirmation.objects.create(
            household=household,
            household_version=household.version,
            name=declaration.declarant_name,
            relationship=declaration.declarant_relationship,
            signature_image="",
            signature_sha256=declaration.content_hash,
            refused=False,
            recorded_by=signer,
        )
    return household_sign(household=household, signer=signer, password=password, expected_version=expected_version)
