"""The review workflow: a state machine that allows only its transitions.

    draft ──sign──▶ signed ──approve──▶ approved ──accept──▶ accepted ──lock──▶ locked
                      │  ▲                 │                    │                │
                return│  └──sign── returned◀┘return (township)   └──reopen───────┘ (reason + password)
                      ▼
                   returned

Who may do what: the supervisor overseeing the registrar approves or returns a signed form (the township
office does it for forms a supervisor registered himself); the township office accepts (验收) or returns an
approved form; the district office locks an accepted one; reopening an accepted or locked form needs a
reason and the reopener's password, and sends it back to its registrar.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from census.api import ApplicationError, ConflictError
from census.models import AuditAction, Role, StaffMember, SupervisorAssignment
from census.passwords import password_confirm
from census.services import audit_record
from enumeration.models import Household, HouseholdState, ReviewComment
from enumeration.services.acceptance import Blocker, household_unblocked_require, outstanding_blockers
from enumeration.services.registration import MIN_REASON_LENGTH
from enumeration.services.trail import transition_record, transitions_record

S = HouseholdState


def _lock(household: Household) -> Household:
    return Household.objects.select_for_update().get(pk=household.pk)


def _supervises(actor: StaffMember, registrar_id: int | None) -> bool:
    return SupervisorAssignment.objects.filter(supervisor=actor, enumerator_id=registrar_id).exists()


def _township_office(actor: StaffMember, household: Household) -> bool:
    return actor.role == Role.TOWNSHIP_OFFICE and actor.township_id == household.township_id


def _district_office(actor: StaffMember, household: Household) -> bool:
    return actor.role == Role.DISTRICT_OFFICE and actor.district_id == household.township_id[:6]


def _may_review(actor: StaffMember, household: Household) -> bool:
    if actor.pk == household.registrar_id:
        return False  # nobody reviews their own registration
    if actor.role == Role.SUPERVISOR:
        return _supervises(actor, household.registrar_id)
    # A supervisor's own registrations have nobody above them but the township office.
    return (
        _township_office(actor, household)
        and not SupervisorAssignment.objects.filter(enumerator_id=household.registrar_id).exists()
    )


def _move(household: Household, to_state: str, actor: StaffMember, reason: str = "") -> Household:
    before = household.state
    household.state = to_state
    household.save(update_fields=["state", "updated_at"])
    transition_record(
        household_id=household.pk,
        area_code=household.township_id,
        from_state=before,
        to_state=to_state,
        actor_id=actor.pk,
        reason=reason,
    )
    return household


def _expect(household: Household, *states: str) -> None:
    if household.state not in states:
        raise ConflictError(
            _("This form is %(state)s; that action is not possible now.") % {"state": household.get_state_display()},
            code="invalid_transition",
            extra={"state": household.state},
        )


@transaction.atomic
def household_approve(*, household: Household, actor: StaffMember) -> Household:
    household = _lock(household)
    _expect(household, S.SIGNED)
    if not _may_review(actor, household):
        raise ApplicationError(_("Only the supervisor of the registrar approves this form."), code="not_reviewer")
    household_unblocked_require(household)
    return _move(household, S.APPROVED, actor)


@transaction.atomic
def household_return(*, household: Household, actor: StaffMember, comments: Iterable[tuple[str, str]]) -> Household:
    """Send a form back to its registrar with a comment on each item to look at."""
    household = _lock(household)
    _expect(household, S.SIGNED, S.APPROVED)
    allowed = _may_review(actor, household) if household.state == S.SIGNED else _township_office(actor, household)
    if not allowed:
        raise ApplicationError(_("You may not return this form."), code="not_reviewer")
    cleaned = [(item.strip()[:20], text.strip()[:500]) for item, text in comments if item.strip() and text.strip()]
    if not cleaned:
        raise ValidationError({"comments": _("Say which items to correct and why.")})
    ReviewComment.objects.bulk_create(
        [ReviewComment(household=household, item=item, text=text, author=actor) for item, text in cleaned]
    )
    return _move(household, S.RETURNED, actor, "; ".join(f"{item}: {text}" for item, text in cleaned))


@transaction.atomic
def household_accept(*, household: Household, actor: StaffMember) -> Household:
    household = _lock(household)
    _expect(household, S.APPROVED)
    if not _township_office(actor, household):
        raise ApplicationError(_("Only the township office accepts forms (验收)."), code="not_township_office")
    household_unblocked_require(household)
    return _move(household, S.ACCEPTED, actor)


@transaction.atomic
def household_lock(*, household: Household, actor: StaffMember) -> Household:
    household = _lock(household)
    _expect(household, S.ACCEPTED)
    if not _district_office(actor, household):
        raise ApplicationError(_("Only the district office locks forms."), code="not_district_office")
    household_unblocked_require(household)
    return _move(household, S.LOCKED, actor)


@transaction.atomic
def household_reopen(*, household: Household, actor: StaffMember, reason: str, password: str) -> Household:
    """Reopen an accepted or locked form: a reason and the reopener's signature (password) are required."""
    household = _lock(household)
    _expect(household, S.ACCEPTED, S.LOCKED)
    allowed = _district_office(actor, household) or (
        household.state == S.ACCEPTED and _township_office(actor, household)
    )
    if not allowed:
        raise ApplicationError(_("You may not reopen this form."), code="not_allowed")
    if len(reason.strip()) < MIN_REASON_LENGTH:
        raise ValidationError({"reason": _("Say why the form is reopened.")})
    password_confirm(
        user=actor,
        password=password,
        purpose="household_reopen",
        refusal=_("The password is wrong; the form was not reopened."),
    )
    audit_record(
        actor=actor,
        action=AuditAction.RECORD_CHANGE,
        object_type="household",
        object_id=household.pk,
        detail={"reopened": household.state, "reason": reason.strip()[:200]},
    )
    ReviewComment.objects.create(household=household, item="*", text=reason.strip()[:500], author=actor)
    return _move(household, S.RETURNED, actor, reason.strip())


@transaction.atomic
def household_long_form_open(*, household: Household, actor: StaffMember) -> Household:
    """A household drawn into the long-form sample goes back to its registrar for the long form (H8–H19, C11–C29)."""
    household = _lock(household)
    if not household.in_long_form_sample:
        raise ApplicationError(_("This household is not in the long-form sample."), code="not_sampled")
    _expect(household, S.SIGNED, S.APPROVED, S.ACCEPTED)
    if actor.pk != household.registrar_id:
        raise ApplicationError(_("Only the registrar of this household registers its long form."), code="not_registrar")
    return _move(household, S.RETURNED, actor, "长表登记 long-form registration")


@dataclass
class BulkOutcome:
    """What a bulk action did: how many forms moved, and the forms it skipped because the checks block them."""

    done: int = 0
    blocked: dict[int, list[Blocker]] = field(default_factory=dict)


def _move_unblocked(
    ids: list[int], *, from_state: str, to_state: str, actor: StaffMember, outcome: BulkOutcome | None = None
) -> BulkOutcome:
    """Move the forms ``ids`` (locked by the caller) that nothing blocks, set-based; list the others."""
    outcome = outcome if outcome is not None else BulkOutcome()
    blocked = outstanding_blockers(ids) if ids else {}
    outcome.blocked.update(blocked)
    movable = [pk for pk in ids if pk not in blocked]
    if movable:
        Household.objects.filter(pk__in=movable).update(state=to_state, updated_at=timezone.now())
        transitions_record(
            household_ids=movable, from_state=from_state, to_state=to_state, actor_id=actor.pk, reason="bulk"
        )
    outcome.done += len(movable)
    return outcome


@transaction.atomic
def households_approve(*, households: QuerySet[Household], actor: StaffMember) -> BulkOutcome:
    """Approve every signed form of the given (already filtered and scoped) queryset that ``actor`` may approve.

    Set-based, so that approving "the current filter" is one statement however many pages it spans.
    """
    if actor.role == Role.SUPERVISOR:
        candidates = households.filter(state=S.SIGNED, registrar__supervision__supervisor=actor)
    elif actor.role == Role.TOWNSHIP_OFFICE:
        candidates = households.filter(
            state=S.SIGNED, township_id=actor.township_id, registrar__supervision__isnull=True
        )
    else:
        raise ApplicationError(_("Only supervisors approve forms."), code="not_reviewer")
    ids = list(
        Household.objects.select_for_update(of=("self",))
        .filter(pk__in=candidates.values("pk"))
        .exclude(registrar=actor)
        .values_list("pk", flat=True)
    )
    return _move_unblocked(ids, from_state=S.SIGNED, to_state=S.APPROVED, actor=actor)


@transaction.atomic
def households_accept(*, households: QuerySet[Household], actor: StaffMember) -> BulkOutcome:
    """Accept (验收) every approved form of the given (already filtered and scoped) queryset in the township
    office's own township — set-based, like ``households_approve``, so that "accept the current filter" is one
    statement however many pages it spans."""
    if actor.role != Role.TOWNSHIP_OFFICE or not actor.township_id:
        raise ApplicationError(_("Only the township office accepts forms (验收)."), code="not_township_office")
    candidates = households.filter(state=S.APPROVED, township_id=actor.township_id)
    ids = list(
        Household.objects.select_for_update(of=("self",))
        .filter(pk__in=candidates.values("pk"), state=S.APPROVED)
        .values_list("pk", flat=True)
    )
    return _move_unblocked(ids, from_state=S.APPROVED, to_state=S.ACCEPTED, actor=actor)


def lockable(*, households: QuerySet[Household], actor: StaffMember) -> QuerySet[Household]:
    """The accepted forms of ``households`` in the district office's own district (blocked or not)."""
    if actor.role != Role.DISTRICT_OFFICE or not actor.district_id:
        return households.none()
    return households.filter(state=S.ACCEPTED, township__district_id=actor.district_id)


@transaction.atomic
def households_lock(
    *, households: QuerySet[Household], actor: StaffMember, outcome: BulkOutcome | None = None
) -> BulkOutcome:
    """Lock every accepted form of the given (already filtered and scoped) queryset in the district office's own
    district that the checks do not block; the blocked ones stay accepted and are listed in the outcome.
    ``outcome`` adds to a running total (the bulk-lock job calls this small area by small area)."""
    if actor.role != Role.DISTRICT_OFFICE or not actor.district_id:
        raise ApplicationError(_("Only the district office locks forms."), code="not_district_office")
    ids = list(
        Household.objects.select_for_update(of=("self",))
        .filter(pk__in=lockable(households=households, actor=actor).values("pk"), state=S.ACCEPTED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return _move_unblocked(ids, from_state=S.ACCEPTED, to_state=S.LOCKED, actor=actor, outcome=outcome)
