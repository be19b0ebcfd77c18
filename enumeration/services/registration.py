"""Registering a household: saving the form, the respondent's confirmation, the registrar's signature.

谁登记、谁签字: the person who registers a household is its registrar, the only one who may change its form,
and the one who signs it. A signature appends a link to the small area's chain in the signature ledger. A
change to a signed form voids the signature and puts the form back in the registrar's hands as a draft,
keeping the version that was signed and a field-level diff of what changed and why.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from census.api import ApplicationError, ConflictError
from census.db import constraint_errors, execute_prepared, post_save_send, rows_insert
from census.models import AuditAction, Role, SmallArea, SmallAreaAssignment, StaffMember
from census.passwords import password_confirm
from census.services import audit_record
from enumeration import ledger
from enumeration.models import (
    ALL_DEAD_HOUSEHOLD_NO,
    DeathRecord,
    Household,
    HouseholdState,
    HouseholdVersion,
    Person,
    RespondentConfirmation,
    ReviewComment,
    Signature,
    VersionReason,
)
from enumeration.rules.entry import Issue, hard_issues, unexplained_warnings, validate_household
from enumeration.services.listing import household_no_after, listing_audit_event
from enumeration.services.trail import TrailEnd, transition_record, transition_sealed
from enumeration.verification import household_content

# What a form save may change. Everything else (area, number, state, registrar …) is the system's.
HOUSEHOLD_FORM_FIELDS: tuple[str, ...] = tuple(
    name for name in ledger.HOUSEHOLD_CONTENT_FIELDS if name not in ("household_no", "collection_mode")
)
PERSON_FORM_FIELDS: tuple[str, ...] = ledger.PERSON_CONTENT_FIELDS
DEATH_FORM_FIELDS: tuple[str, ...] = ledger.DEATH_CONTENT_FIELDS
MAX_PERSONS = 200
# The death register's rows (2019-11 to 2020-10; the API's DeathSerializer numbers them 1–99).
MAX_DEATHS = 99
MAX_SIGNATURE_IMAGE_BYTES = 200_000
MIN_REASON_LENGTH = 4
FOREIGN_KEYS = ("small_area", "village", "township", "building", "dwelling_unit", "listed_by", "registrar")
# Who may start a household's form: field staff assigned to its small area.
REGISTRAR_ROLES = (Role.ENUMERATOR, Role.SUPERVISOR)
ROW_LIMITS = {"persons": MAX_PERSONS, "deaths": MAX_DEATHS}


def too_many_rows_message(section: str) -> str:
    if section == "persons":
        return _("A form holds at most %(n)d persons.") % {"n": MAX_PERSONS}
    return _("A form's death register holds at most %(n)d rows.") % {"n": MAX_DEATHS}


# --- reading a form as plain values ----------------------------------------------------------------------


@dataclass
class FormValues:
    household: dict[str, Any]
    persons: list[dict[str, Any]]
    deaths: list[dict[str, Any]]


def form_values(household: Household) -> FormValues:
    row = dict(Household.objects.filter(pk=household.pk).values().get())
    persons = [dict(p) for p in Person.objects.filter(household=household).order_by("row_no").values()]
    deaths = [dict(d) for d in DeathRecord.objects.filter(household=household).order_by("row_no").values()]
    return FormValues(row, persons, deaths)


def _stored(instance: Household | Person | DeathRecord) -> dict[str, Any]:
    """A saved instance as ``QuerySet.values()`` gives its row."""
    return {field.attname: getattr(instance, field.attname) for field in type(instance)._meta.concrete_fields}


def form_values_of(household: Household, persons: list[Person], deaths: list[DeathRecord]) -> FormValues:
    """What ``form_values`` reads, from rows the caller has just read in full (no query of its own)."""
    return FormValues(_stored(household), [_stored(p) for p in persons], [_stored(d) for d in deaths])


def household_issues(household: Household) -> list[Issue]:
    values = form_values(household)
    return validate_household(values.household, values.persons, values.deaths)


# --- saving ----------------------------------------------------------------------------------------------


def _lock(household: Household) -> Household:
    return Household.objects.select_for_update().select_related("small_area").get(pk=household.pk)


def _may_register(actor: StaffMember, household: Household) -> bool:
    if household.registrar_id is not None:
        return household.registrar_id == actor.pk
    return actor.role in REGISTRAR_ROLES and household.small_area.assignments.filter(staff=actor).exists()


def _record_transition(household: Household, before: str, after: str, actor: StaffMember, reason: str = "") -> None:
    transition_record(
        household_id=household.pk,
        area_code=household.township_id,
        from_state=before,
        to_state=after,
        actor_id=actor.pk,
        reason=reason,
    )


def _clean_rows(
    model: type[Person] | type[DeathRecord],
    rows: list[dict[str, Any]],
    fields: tuple[str, ...],
    label: str,
    household: Household,
) -> list[Any]:
    seen: set[int] = set()
    instances = []
    errors: dict[str, Any] = {}
    for index, data in enumerate(rows):
        unknown = set(data) - set(fields)
        if unknown:
            raise ValidationError({label: _("Unknown fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))}})
        row_no = data.get("row_no")
        if not isinstance(row_no, int) or row_no < 1 or row_no in seen:
            raise ValidationError({label: _("Rows must be numbered 1, 2, 3 … without repeats.")})
        seen.add(row_no)
        values = {name: data.get(name) for name in fields}
        for name in fields:
            field = model._meta.get_field(name)
            if values[name] is None and not field.null:
                values[name] = "" if field.get_internal_type() in ("CharField", "TextField") else None
        instance = model(
            household=household,
            small_area_id=household.small_area_id,
            village_id=household.village_id,
            township_id=household.township_id,
            **values,
        )
        try:
            # Field checks here; the check constraints are enforced by the database on write (census.db).
            instance.full_clean(
                exclude=["household", "small_area", "village", "township"],
                validate_unique=False,
                validate_constraints=False,
            )
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                errors[f"{label}[{index}].{name}"] = messages
        instances.append(instance)
    if errors:
        raise ValidationError(errors)
    return instances


def _replace_rows(
    model: type[Person] | type[DeathRecord], household: Household, instances: list[Any], fields: tuple[str, ...]
) -> None:
    existing = {row.row_no: row for row in model.objects.filter(household=household)}
    keep = {instance.row_no for instance in instances}
    model.objects.filter(household=household).exclude(row_no__in=keep).delete()
    to_update, to_create = [], []
    for instance in instances:
        current = existing.get(instance.row_no)
        if current is None:
            to_create.append(instance)
            continue
        instance.pk = current.pk
        if any(getattr(current, name) != getattr(instance, name) for name in fields):
            to_update.append(instance)
    if to_update:
        model.objects.bulk_update(to_update, [name for name in fields if name != "row_no"])
    if to_create:
        model.objects.bulk_create(to_create)


def _form_apply(
    household: Household, *, data: dict[str, Any], persons: list[dict[str, Any]], deaths: list[dict[str, Any]]
) -> tuple[list[Person], list[DeathRecord]]:
    """Put the form's household items on ``household`` and check its rows; nothing is written. Returns the
    person and death rows, cleaned, as unsaved instances."""
    unknown = set(data) - set(HOUSEHOLD_FORM_FIELDS)
    if unknown:
        raise ValidationError({"household": _("Unknown fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))}})
    for section, rows in (("persons", persons), ("deaths", deaths)):
        if len(rows) > ROW_LIMITS[section]:
            raise ValidationError({section: too_many_rows_message(section)})
    if household.household_no == ALL_DEAD_HOUSEHOLD_NO and persons:
        raise ValidationError({"persons": _("Household 999 (all members died) has no persons.")})
    for name in HOUSEHOLD_FORM_FIELDS:
        if name in data:
            setattr(household, name, data[name] if data[name] is not None or name != "warning_notes" else {})
    if not isinstance(household.warning_notes, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and len(v) <= 500 for k, v in household.warning_notes.items()
    ):
        raise ValidationError({"warning_notes": _("Notes are short texts keyed by the warning they explain.")})
    person_rows = _clean_rows(Person, persons, PERSON_FORM_FIELDS, "persons", household)
    death_rows = _clean_rows(DeathRecord, deaths, DEATH_FORM_FIELDS, "deaths", household)
    return person_rows, death_rows


@transaction.atomic
def household_save(
    *,
    household: Household,
    actor: StaffMember,
    expected_version: int,
    data: dict[str, Any],
    persons: list[dict[str, Any]],
    deaths: list[dict[str, Any]] | None = None,
    reason: str = "",
    position: str | None = None,
) -> Household:
    """Save the form as it stands (drafts save as you go). Entry rules do not block a save, only signing.

    ``expected_version`` is the version the client last read: an older one is refused (409), never merged.
    Saving a signed form voids its signature and returns it to its registrar as a draft; that needs a reason.
    ``position`` is where the registrar is in the form ("household", "persons-2", "deaths"; ``None`` leaves it):
    the form reopens there.
    """
    household = _lock(household)
    if household.version != expected_version:
        raise ConflictError(
            _("Someone changed this household in the meantime (version %(current)d, yours %(yours)d). Reload it.")
            % {"current": household.version, "yours": expected_version},
            code="stale_version",
            extra={"current_version": household.version},
        )
    if not _may_register(actor, household):
        raise ApplicationError(_("Only the registrar of this household may change its form."), code="not_registrar")
    changing_signed = household.state == HouseholdState.SIGNED
    if (
        household.state not in (HouseholdState.LISTED, HouseholdState.DRAFT, HouseholdState.RETURNED)
        and not changing_signed
    ):
        raise ConflictError(
            _("The form has been approved; it must be reopened before it can change."), code="not_editable"
        )
    if changing_signed and len(reason.strip()) < MIN_REASON_LENGTH:
        raise ValidationError({"reason": _("Say why a signed form is being changed.")})
    before = household_content(household) if changing_signed else None
    person_rows, death_rows = _form_apply(household, data=data, persons=persons, deaths=deaths or [])

    previous_state = household.state
    if household.state == HouseholdState.LISTED:
        household.registrar = actor
        household.started_at = timezone.now()
    if household.state in (HouseholdState.LISTED, HouseholdState.SIGNED):
        household.state = HouseholdState.DRAFT
    if position is not None:
        household.form_position = position
    # Any change voids the signature: the content no longer is what was signed.
    household.current_signature = None
    household.version += 1
    # Foreign keys are set by the system from rows it has just read; checking them again would cost a query each.
    household.full_clean(
        exclude=[*FOREIGN_KEYS, "current_signature"], validate_unique=False, validate_constraints=False
    )
    with constraint_errors(Household, Person, DeathRecord, label="household"):
        household.save()
        _replace_rows(Person, household, person_rows, PERSON_FORM_FIELDS)
        _replace_rows(DeathRecord, household, death_rows, DEATH_FORM_FIELDS)
    if previous_state != household.state:
        _record_transition(household, previous_state, household.state, actor, reason if changing_signed else "")
    if changing_signed:
        after = household_content(household)
        HouseholdVersion.objects.create(
            household=household,
            number=household.version,
            kind=VersionReason.CHANGED_AFTER_SIGNING,
            content=after,
            diff=ledger.content_diff(before, after),
            author=actor,
            reason=reason.strip()[:500],
        )
        audit_record(
            actor=actor,
            action=AuditAction.RECORD_CHANGE,
            object_type="household",
            object_id=household.pk,
            detail={"changed_after_signing": True, "reason": reason.strip()[:200]},
        )
    return household


# --- the respondent confirms ----------------------------------------------------------------------------


def _signature_bytes(image: str) -> bytes:
    """The PNG behind a ``data:image/png;base64,…`` URL from signature_pad: the bytes the ledger vouches for,
    read as verification reads them (``ledger.image_bytes``)."""
    if not image.startswith(ledger.SIGNATURE_IMAGE_PREFIX):
        raise ValidationError({"signature_image": _("The signature must be a PNG drawn in the browser.")})
    raw = ledger.image_bytes(image)
    if raw is None:
        raise ValidationError({"signature_image": _("The signature image is damaged.")})
    if not raw.startswith(b"\x89PNG\r\n\x1a\n"):
        raise ValidationError({"signature_image": _("The signature must be a PNG drawn in the browser.")})
    if len(raw) > MAX_SIGNATURE_IMAGE_BYTES:
        raise ValidationError({"signature_image": _("The signature image is too large.")})
    if raw[12:16] != b"IHDR" or len(raw) < 60:
        raise ValidationError({"signature_image": _("The signature image is damaged.")})
    return raw


@transaction.atomic
def respondent_confirm(
    *,
    household: Household,
    actor: StaffMember,
    name: str,
    relationship: int,
    signature_image: str = "",
    refused: bool = False,
    refusal_reason: str = "",
) -> RespondentConfirmation:
    """申报人 confirms the read-back form: a signature drawn in the browser, or a recorded refusal and why."""
    household = _lock(household)
    if household.registrar_id != actor.pk:
        raise ApplicationError(
            _("Only the registrar of this household records the respondent's confirmation."), code="not_registrar"
        )
    if household.state not in (HouseholdState.DRAFT, HouseholdState.RETURNED):
        raise ConflictError(_("Only a draft or returned form can be confirmed."), code="not_editable")
    confirmation = _confirmation(
        household=household,
        actor=actor,
        name=name,
        relationship=relationship,
        signature_image=signature_image,
        refused=refused,
        refusal_reason=refusal_reason,
    )
    with constraint_errors(RespondentConfirmation):
        confirmation.save()
    return confirmation


def _confirmation(
    *,
    household: Household,
    actor: StaffMember,
    name: str,
    relationship: int,
    signature_image: str,
    refused: bool,
    refusal_reason: str,
) -> RespondentConfirmation:
    """The respondent's confirmation of the household's current version, checked and not yet saved."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("Write the respondent's name.")})
    if relationship not in range(10):
        raise ValidationError({"relationship": _("Choose the respondent's relationship to the head.")})
    if refused:
        if len(refusal_reason.strip()) < 2:
            raise ValidationError({"refusal_reason": _("Record why the respondent refused to sign.")})
        digest, image = "", ""
    else:
        digest, image = hashlib.sha256(_signature_bytes(signature_image)).hexdigest(), signature_image
    confirmation = RespondentConfirmation(
        household=household,
        household_version=household.version,
        name=name[:50],
        relationship=relationship,
        signature_image=image,
        signature_sha256=digest,
        refused=refused,
        refusal_reason=refusal_reason.strip()[:200] if refused else "",
        recorded_by=actor,
    )
    confirmation.full_clean(exclude=["household", "recorded_by"], validate_constraints=False)
    return confirmation


# --- the registrar signs ----------------------------------------------------------------------------------


def _link_of(signature: Signature) -> str:
    return ledger.link_hash(
        ledger.signature_message(
            household_id=signature.household_id,
            household_version=signature.household_version,
            signer_id=signature.signer_id,
            signer_role=signature.signer_role,
            signed_at=signature.signed_at,
            content_hash=signature.content_hash,
            prev_hash=signature.prev_hash,
            seq=signature.seq,
        )
    )


def _ledger_link(
    *,
    household: Household,
    area: SmallArea,
    last: Signature | None,
    signer: StaffMember,
    content: dict[str, Any],
    pk: int | None = None,
) -> Signature:
    """The signature of ``content`` that follows ``last`` in the small area's chain, not yet saved."""
    prev = _link_of(last) if last is not None else ledger.genesis_hash(area.code)
    seq = (last.seq if last is not None else 0) + 1
    signed_at = timezone.now()
    digest = ledger.content_hash(content)
    message = ledger.signature_message(
        household_id=household.pk,
        household_version=household.version,
        signer_id=signer.pk,
        signer_role=signer.role,
        signed_at=signed_at,
        content_hash=digest,
        prev_hash=prev,
        seq=seq,
    )
    return Signature(
        pk=pk,
        household=household,
        small_area=area,
        seq=seq,
        household_version=household.version,
        signer=signer,
        signer_role=signer.role,
        signed_at=signed_at,
        content_hash=digest,
        prev_hash=prev,
        hmac=ledger.message_hmac(message, ledger.district_key(area.code)),
    )


def ledger_append(*, household: Household, signer: StaffMember, content: dict[str, Any]) -> Signature:
    """Append a signature of ``content`` to the small area's chain. The small area row is locked meanwhile."""
    area = SmallArea.objects.select_for_update().get(pk=household.small_area_id)
    last = Signature.objects.filter(small_area=area).order_by("-seq").first()
    signature = _ledger_link(household=household, area=area, last=last, signer=signer, content=content)
    signature.save(force_insert=True)
    return signature


@transaction.atomic
def household_sign(
    *, household: Household, signer: StaffMember, password: str, expected_version: int | None = None
) -> Household:
    """The registrar signs by re-entering their password. Hard errors, warnings without a note and a missing
    respondent confirmation all refuse the signature."""
    household = _lock(household)
    if expected_version is not None and household.version != expected_version:
        raise ConflictError(
            _("Someone changed this household in the meantime. Reload it before signing."),
            code="stale_version",
            extra={"current_version": household.version},
        )
    if household.registrar_id != signer.pk:
        raise ApplicationError(
            _("Only the person who registered a household signs it (谁登记、谁签字)."), code="not_registrar"
        )
    if household.state not in (HouseholdState.DRAFT, HouseholdState.RETURNED):
        raise ConflictError(_("This form is not waiting for a signature."), code="not_signable")
    password_confirm(
        user=signer,
        password=password,
        purpose="household_sign",
        refusal=_("The password is wrong; the form was not signed."),
    )
    # One read of the form serves the rules and the signed content (the rows are locked with the household).
    values = form_values(household)
    respondent = (
        RespondentConfirmation.objects.filter(household=household, household_version=household.version)
        .order_by("-confirmed_at", "-id")  # the latest confirmation of the version counts, as in verification
        .values(*ledger.RESPONDENT_CONTENT_FIELDS)
        .first()
    )
    content = _content_to_sign(household, values, respondent)
    previous = HouseholdVersion.objects.filter(household=household).order_by("-number", "-created_at").first()
    before = household.state
    _seal(household, signer=signer, content=content, previous=previous.content if previous else None)
    ReviewComment.objects.filter(household=household, resolved_at__isnull=True).update(resolved_at=timezone.now())
    _record_transition(household, before, household.state, signer)
    return household


def _content_to_sign(household: Household, values: FormValues, respondent: dict[str, Any] | None) -> dict[str, Any]:
    """What the signature covers, once the form passes: no hard error, a note on every warning, and the
    respondent's confirmation of this version."""
    issues = validate_household(values.household, values.persons, values.deaths)
    blocking = hard_issues(issues)
    if blocking:
        raise ApplicationError(
            _("The form has %(n)d error(s) that must be corrected before signing.") % {"n": len(blocking)},
            code="hard_errors",
            extra={"issues": [issue.as_dict() for issue in blocking]},
        )
    unexplained = unexplained_warnings(issues, household.warning_notes or {})
    if unexplained:
        raise ApplicationError(
            _("%(n)d warning(s) need a written note before signing.") % {"n": len(unexplained)},
            code="warnings_need_notes",
            extra={"issues": [issue.as_dict() for issue in unexplained]},
        )
    if respondent is None:
        raise ApplicationError(
            _("The respondent has not confirmed this version of the form."), code="respondent_not_confirmed"
        )
    return ledger.canonical_content(
        small_area_code=household.small_area.code,
        household=values.household,
        persons=values.persons,
        deaths=values.deaths,
        respondent=respondent,
    )


def _signed_version(
    household: Household, *, signer: StaffMember, content: dict[str, Any], previous: dict[str, Any] | None
) -> HouseholdVersion:
    """The version a signature keeps: the signed content and its diff from ``previous``."""
    version = _signed_version_row(household, signer=signer, content=content, previous=previous)
    version.save(force_insert=True)
    return version


def _signed_version_row(
    household: Household, *, signer: StaffMember, content: dict[str, Any], previous: dict[str, Any] | None
) -> HouseholdVersion:
    return HouseholdVersion(
        household=household,
        number=household.version,
        kind=VersionReason.SIGNED,
        content=content,
        diff=ledger.content_diff(previous, content),
        author=signer,
    )


def _seal(
    household: Household, *, signer: StaffMember, content: dict[str, Any], previous: dict[str, Any] | None
) -> None:
    """Sign ``content``: a link in the ledger, the signed version (with its diff from ``previous``) and the form
    marked signed."""
    signature = ledger_append(household=household, signer=signer, content=content)
    _signed_version(household, signer=signer, content=content, previous=previous)
    household.state = HouseholdState.SIGNED
    household.current_signature = signature
    household.signed_at = signature.signed_at
    household.save(update_fields=["state", "current_signature", "signed_at", "updated_at"])


# --- a completed household in one go ---------------------------------------------------------------------


@dataclass(frozen=True)
class ConfirmationInput:
    name: str
    relationship: int
    signature_image: str = ""
    refused: bool = False
    refusal_reason: str = ""


@dataclass(frozen=True)
class _Slot:
    """Where a new household goes in a locked small area: its 户编号, the ids of its row and of its signature,
    and the head of the area's signature chain."""

    household_no: int
    household_id: int
    signature_id: int
    last: Signature | None


@functools.cache
def _area_lock_sql() -> tuple[list[str], str]:
    fields = [field.attname for field in SmallArea._meta.concrete_fields]
    columns = ", ".join(f"a.{field.column}" for field in SmallArea._meta.concrete_fields)
    return fields, (
        f"SELECT {columns} FROM {SmallArea._meta.db_table} a WHERE a.id = %s AND EXISTS ("
        f"  SELECT 1 FROM {SmallAreaAssignment._meta.db_table} s"
        "   WHERE s.small_area_id = a.id AND s.staff_id = %s"
        ") FOR UPDATE OF a"
    )


def _area_lock(*, small_area_id: int, actor: StaffMember) -> SmallArea | None:
    """The small area, locked for the rest of the transaction (its households' numbers and its chain of
    signatures are taken one submission at a time), when ``actor`` is assigned to it; else ``None``. A
    statement written once and prepared: the ORM composed the same query anew for every submission."""
    fields, sql = _area_lock_sql()
    with connection.cursor() as cursor:
        execute_prepared(cursor, sql, [small_area_id, actor.pk])
        row = cursor.fetchone()
    return None if row is None else SmallArea.from_db(connection.alias, fields, row)


def _slot_take(area: SmallArea) -> _Slot:
    """One statement for what a submission would otherwise read in three (the highest 户编号, the chain's last
    link) and learn from two more writes (the ids). Read after the area's lock is granted, so a submission that
    waited for the lock sees the household and the signature of the one before it."""
    households, signatures = Household._meta.db_table, Signature._meta.db_table
    link = (
        *("id", "household_id", "seq", "household_version", "signer_id", "signer_role", "signed_at"),
        *("content_hash", "prev_hash"),
    )
    with connection.cursor() as cursor:
        execute_prepared(
            cursor,
            f"SELECT (SELECT max(h.household_no) FROM {households} h"
            f"         WHERE h.small_area_id = %s AND h.household_no <> %s),"
            f" nextval(pg_get_serial_sequence('{households}', 'id')),"
            f" nextval(pg_get_serial_sequence('{signatures}', 'id')),"
            f" {', '.join(f'last.{name}' for name in link)}"
            f" FROM (SELECT 1) AS one LEFT JOIN LATERAL ("
            f"   SELECT * FROM {signatures} s WHERE s.small_area_id = %s ORDER BY s.seq DESC LIMIT 1"
            f" ) AS last ON true",
            [area.pk, ALL_DEAD_HOUSEHOLD_NO, area.pk],
        )
        top, household_id, signature_id, *chain = cursor.fetchone()
    number = household_no_after(top)
    last = Signature(**dict(zip(link, chain, strict=True)), small_area=area) if chain[0] is not None else None
    return _Slot(household_no=number, household_id=household_id, signature_id=signature_id, last=last)


@transaction.atomic
def household_submit(
    *,
    small_area_id: int,
    actor: StaffMember,
    head_name: str,
    aware_of_census: bool | None,
    data: dict[str, Any],
    persons: list[dict[str, Any]],
    deaths: list[dict[str, Any]],
    respondent: ConfirmationInput,
    password: str,
) -> Household:
    """A household completed on a device, in one step: listed (户主姓名底册), its form saved, confirmed by the
    respondent and signed by its registrar — all or nothing.

    The same rules as listing, saving, confirming and signing one after the other, and the same rows in the
    end (the register entry, the form, the confirmation, the ledger link, the signed version, both
    transitions). The household is new, so there is nothing to lock but the small area, nothing to compare
    and no earlier version; every row is checked and the content signed before anything is written, and each
    row is then inserted once, as it ends (the household already signed: its signature's id is taken from the
    sequence first, and the foreign key between them is checked at commit).

    An area that does not exist or is not assigned to ``actor`` is refused as ``not_registrar``.
    """
    area = _area_lock(small_area_id=small_area_id, actor=actor)
    if area is None or actor.role not in REGISTRAR_ROLES:
        raise ApplicationError(_("Only the registrar of this household may change its form."), code="not_registrar")
    slot = _slot_take(area)
    now = timezone.now()
    household = Household(
        pk=slot.household_id,
        small_area=area,
        village_id=area.village_id,
        township_id=area.township_id,
        household_no=slot.household_no,
        head_name_listed=head_name.strip(),
        expected_persons=len(persons),
        aware_of_census=aware_of_census,
        listed_by=actor,
        listed_at=now,
        registrar=actor,
        started_at=now,
        state=HouseholdState.DRAFT,
    )
    # As household_list then household_save: the register entry is version 1, the saved form version 2.
    household.version += 1
    person_rows, death_rows = _form_apply(household, data=data, persons=persons, deaths=deaths)
    household.full_clean(
        exclude=[*FOREIGN_KEYS, "current_signature"], validate_unique=False, validate_constraints=False
    )
    confirmation = _confirmation(household=household, actor=actor, **respondent.__dict__)
    password_confirm(
        user=actor,
        password=password,
        purpose="household_submit",
        refusal=_("The password is wrong; the form was not signed."),
    )
    # The rows as they will be written: every value went through the model fields' cleaning and nothing is
    # computed by the database, so these are the values verification will read back (the tests check the hash
    # both ways).
    values = FormValues(_stored(household), [_stored(p) for p in person_rows], [_stored(d) for d in death_rows])
    respondent_values = {name: getattr(confirmation, name) for name in ledger.RESPONDENT_CONTENT_FIELDS}
    content = _content_to_sign(household, values, respondent_values)
    signature = _ledger_link(
        household=household, area=area, last=slot.last, signer=actor, content=content, pk=slot.signature_id
    )
    household.state = HouseholdState.SIGNED
    household.current_signature = signature
    household.signed_at = signature.signed_at
    # The household's trail, sealed here: it is new, so there is no earlier change to read.
    started = transition_sealed(
        household_id=household.pk,
        from_state=HouseholdState.LISTED,
        to_state=HouseholdState.DRAFT,
        actor_id=actor.pk,
        after=None,
        key=ledger.district_key(area.code),
        at=now,
    )
    signing = transition_sealed(
        household_id=household.pk,
        from_state=HouseholdState.DRAFT,
        to_state=HouseholdState.SIGNED,
        actor_id=actor.pk,
        after=TrailEnd(started.hmac, started.at),
        key=ledger.district_key(area.code),
        at=signature.signed_at,
    )
    transitions = [started, signing]
    # Every row in one statement (rows_insert). No savepoint of its own: a refused row ends this whole atomic
    # function, which has one.
    with constraint_errors(
        Household, Person, DeathRecord, RespondentConfirmation, Signature, label="household", savepoint=False
    ):
        rows_insert(
            [household],
            person_rows,
            death_rows,
            [confirmation],
            [signature],
            [_signed_version_row(household, signer=actor, content=content, previous=None)],
            transitions,
            [listing_audit_event(household=household, actor=actor)],
        )
    post_save_send(household, created=True)
    return household
