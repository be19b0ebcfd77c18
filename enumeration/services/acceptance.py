"""Acceptance that listens to the checks: what blocks a form from being approved, accepted (验收) or locked, and
the district office's override.

A form is blocked by

* an **open hard finding** of the nightly checks about it — a rule of severity ``hard`` (强制性) — or an open
  finding of the process rules (谁登记、谁签字: changed after signing, signature chain broken, signature image
  replaced, state trail broken, signed by someone else, registrar changed), which say the signature cannot be
  trusted; a finding explained, corrected, verified or closed no longer blocks;
* a **signature that fails verification now**, checked at the moment of the action and not only by last night's
  run: the form's current signature must exist and belong to it, its HMAC must verify under the ledger key, the
  form's content must hash to what was signed, the respondent's drawn signature must hash to what was signed, and
  its sealed trail of state changes must verify (``enumeration.verification``; the small area's chain as a whole
  is the nightly run's ``SIGNATURE_CHAIN_BROKEN``).

* at acceptance and lock (a form approved or accepted), the **sample re-check (复查) of its small area**, when the
  area was drawn: until every drawn household is re-checked, and while its error rate (差错率) is over the
  threshold (``supervision.completeness.comparison``), none of its forms is accepted or locked — the area goes back
  to its registrars. The district office overrides this for the whole area (``recheck_area_override``).

Each blocker has a stable key. An override (district only, a written reason, the overrider's password) covers the
keys blocking the form at that moment; a blocker that appears later blocks again. The findings live in
``supervision.quality``, which builds on this app: they are imported where they are read, not at module load.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from census.api import ApplicationError, ConflictError
from census.models import AuditAction, Role, StaffMember
from census.passwords import password_confirm
from census.services import audit_record
from enumeration import ledger
from enumeration.models import (
    SIGNED_STATES,
    AcceptanceOverride,
    Household,
    HouseholdState,
    HouseholdTransition,
    Signature,
)
from enumeration.models.acceptance import MIN_OVERRIDE_REASON_LENGTH
from enumeration.verification import contents_by_household, image_matches, signature_images, trail_findings

BLOCKED_CODE = "blocked_by_checks"
# The process rules (catalogue group "process") are nightly, not hard, but each says the form's signature or
# trail cannot be trusted: they block like hard rules.
BLOCKING_GROUPS = ("process",)


@dataclass(frozen=True)
class Blocker:
    key: str  # "finding:<id>", "signature:<kind>:<signature id>[:<content hash>]" or "recheck:<area id>:<result>"
    kind: str  # "finding" | "signature" | "recheck"
    rule: str  # the finding's rule code, or the kind of signature mismatch
    text: str  # for people, in the reader's language; names and ID numbers masked
    finding_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "kind": self.kind, "rule": self.rule, "text": self.text, "finding": self.finding_id}


def _finding_blockers(ids: list[int]) -> dict[int, list[Blocker]]:
    from supervision.quality.models import Finding, FindingState
    from supervision.quality.presentation import finding_message, rule_name

    out: dict[int, list[Blocker]] = defaultdict(list)
    rows = (
        Finding.objects.filter(household_id__in=ids, state=FindingState.OPEN)
        .filter(Q(severity="hard") | Q(rule_group__in=BLOCKING_GROUPS))
        .order_by("household_id", "id")
        .values("id", "household_id", "rule", "evidence", "row_no")
    )
    for row in rows:
        where = _("person %(n)d: ") % {"n": row["row_no"]} if row["row_no"] else ""
        text = f"{rule_name(row['rule'])} — {where}{finding_message(row['rule'], row['evidence'], unmasked=False)}"
        out[row["household_id"]].append(
            Blocker(f"finding:{row['id']}", "finding", row["rule"], text, finding_id=row["id"])
        )
    return out


SIGNATURE_TEXTS = {
    "missing_signature": lambda: _("The form has no signature of its own."),
    "hmac": lambda: _("The signature's HMAC does not verify: the signature row was altered or forged."),
    "content": lambda: _("The form no longer matches what was signed: it was changed after signing."),
    "image": lambda: _("The respondent's drawn signature no longer matches what was signed."),
    "transition": lambda: _("The form's sealed trail of state changes does not verify."),
    "state": lambda: _("The form's state does not follow from its sealed trail and its signatures."),
    "registrar": lambda: _("The form's registrar is not the one its sealed trail records."),
}


def _signature_blockers(ids: list[int]) -> dict[int, list[Blocker]]:
    """Each signed form of ``ids`` verified now, set-based: a few queries per small area, whatever the count."""
    out: dict[int, list[Blocker]] = defaultdict(list)
    rows = list(
        Household.objects.filter(pk__in=ids, state__in=SIGNED_STATES).values(
            *ledger.HOUSEHOLD_CONTENT_FIELDS,
            "id",
            "version",
            "state",
            "registrar_id",
            "current_signature_id",
            "small_area__code",
        )
    )
    if not rows:
        return out
    signed_ids = [row["id"] for row in rows]
    signatures = {
        signature["id"]: signature
        for signature in Signature.objects.filter(pk__in=[row["current_signature_id"] for row in rows]).values(
            "id",
            "household_id",
            "seq",
            "household_version",
            "signer_id",
            "signer_role",
            "signed_at",
            "content_hash",
            "prev_hash",
            "hmac",
        )
    }
    signatures_of: dict[int, list[int]] = defaultdict(list)
    for signature_id, household_id in (
        Signature.objects.filter(household_id__in=signed_ids).order_by("seq").values_list("id", "household_id")
    ):
        signatures_of[household_id].append(signature_id)
    trails: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for change in (
        HouseholdTransition.objects.filter(household_id__in=signed_ids)
        .order_by("household_id", "at", "id")
        .values("household_id", "from_state", "to_state", "actor_id", "at", "reason", "hmac")
    ):
        trails[change["household_id"]].append(dict(change))
    by_area: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by_area[row["small_area__code"]].append(row)
    contents: dict[int, dict[str, Any]] = {}
    for code, area_rows in by_area.items():
        contents.update(contents_by_household(area_rows, code))
    images = signature_images(rows)

    def add(household_id: int, kind: str, key_tail: str) -> None:
        out[household_id].append(
            Blocker(f"signature:{kind}:{key_tail}", "signature", kind, str(SIGNATURE_TEXTS[kind]()))
        )

    for row in rows:
        current = signatures.get(row["current_signature_id"])
        if current is None or current["household_id"] != row["id"]:
            add(row["id"], "missing_signature", str(row["current_signature_id"]))
            continue
        message = ledger.stored_signature_message(current)
        key = ledger.district_key(row["small_area__code"])
        if not ledger.hmac_matches(message, current["hmac"], key):
            add(row["id"], "hmac", str(current["id"]))
        found_hash = ledger.content_hash(contents[row["id"]])
        if found_hash != current["content_hash"]:
            # The hash of what is there now is part of the key: an override covers this content, not a later edit.
            add(row["id"], "content", f"{current['id']}:{found_hash[:16]}")
        confirmation = images.get(row["id"])
        if confirmation is not None and not image_matches(confirmation):
            add(row["id"], "image", str(current["id"]))
        for finding in trail_findings(row, trails.get(row["id"], []), signatures_of.get(row["id"], []), key):
            add(row["id"], finding.kind, f"{current['id']}:{len(trails.get(row['id'], []))}")
    return out


RECHECK_STATES = (HouseholdState.APPROVED, HouseholdState.ACCEPTED)


def _recheck_blockers(ids: list[int]) -> dict[int, list[Blocker]]:
    """Forms about to be accepted or locked whose small area's latest re-check does not pass (scored now), less
    the areas whose result the district office overrode (an area-wide override: see ``RecheckOverride``)."""
    from supervision.completeness.models import RecheckOverride
    from supervision.completeness.recheck import recheck_blocker_text
    from supervision.completeness.selectors import latest_recheck_areas, recheck_results

    out: dict[int, list[Blocker]] = defaultdict(list)
    rows = list(Household.objects.filter(pk__in=ids, state__in=RECHECK_STATES).values_list("pk", "small_area_id"))
    if not rows:
        return out
    areas = list(latest_recheck_areas({area_id for _pk, area_id in rows}).select_related("small_area"))
    if not areas:
        return out
    overridden = set(RecheckOverride.objects.filter(area__in=areas).values_list("key", flat=True))
    failing = {
        result.area.small_area_id: result
        for result in recheck_results(areas)
        if not result.passed and result.key not in overridden
    }
    for household_id, area_id in rows:
        result = failing.get(area_id)
        if result is not None:
            out[household_id].append(Blocker(result.key, "recheck", result.verdict, recheck_blocker_text(result)))
    return out


def blockers_of(household_ids: Iterable[int]) -> dict[int, list[Blocker]]:
    """Everything blocking each form, overridden or not."""
    ids = list(household_ids)
    out: dict[int, list[Blocker]] = defaultdict(list)
    for part in (_signature_blockers(ids), _finding_blockers(ids), _recheck_blockers(ids)):
        for household_id, blockers in part.items():
            out[household_id].extend(blockers)
    return dict(out)


def overridden_keys(household_ids: Iterable[int]) -> dict[int, set[str]]:
    covered: dict[int, set[str]] = defaultdict(set)
    for override in AcceptanceOverride.objects.filter(household_id__in=list(household_ids)):
        covered[override.household_id] |= override.covered_keys()
    return covered


def outstanding_blockers(household_ids: Iterable[int]) -> dict[int, list[Blocker]]:
    """What still blocks each form: its blockers less those an override covers. Forms with none are left out."""
    ids = list(household_ids)
    found = blockers_of(ids)
    if not found:
        return {}
    covered = overridden_keys(found)
    out = {}
    for household_id, blockers in found.items():
        left = [blocker for blocker in blockers if blocker.key not in covered.get(household_id, set())]
        if left:
            out[household_id] = left
    return out


class Blocked(ConflictError):
    """The form may not move on: the checks below block it (409, with the blockers in the API's answer)."""

    def __init__(self, blockers: list[Blocker]) -> None:
        super().__init__(
            _("The checks block this form: %(blockers)s") % {"blockers": "；".join(b.text for b in blockers)},
            code=BLOCKED_CODE,
            extra={"blockers": [blocker.as_dict() for blocker in blockers]},
        )
        self.blockers = blockers


def household_unblocked_require(household: Household) -> None:
    """Refuse with :class:`Blocked` unless nothing (not overridden) blocks the form."""
    left = outstanding_blockers([household.pk]).get(household.pk)
    if left:
        raise Blocked(left)


def district_office_of(actor: StaffMember, household: Household) -> bool:
    return actor.role == Role.DISTRICT_OFFICE and actor.district_id == household.township_id[:6]


@transaction.atomic
def household_override(*, household: Household, actor: StaffMember, reason: str, password: str) -> AcceptanceOverride:
    """Let a blocked form through review: the district office only, with a written reason signed with its password.

    The override covers what blocks the form now and is kept with it for good (shown on the form's page and on the
    summary tables that count it)."""
    household = Household.objects.select_for_update().get(pk=household.pk)
    if not district_office_of(actor, household):
        raise ApplicationError(_("Only the district office may override the checks."), code="not_district_office")
    reason = reason.strip()
    if len(reason) < MIN_OVERRIDE_REASON_LENGTH:
        raise ValidationError(
            {"reason": _("Write the reason in at least %(n)d characters.") % {"n": MIN_OVERRIDE_REASON_LENGTH}}
        )
    left = outstanding_blockers([household.pk]).get(household.pk)
    if not left:
        raise ConflictError(_("Nothing blocks this form: there is nothing to override."), code="not_blocked")
    password_confirm(
        user=actor,
        password=password,
        purpose="acceptance_override",
        refusal=_("The password is wrong; the checks were not overridden."),
    )
    override = AcceptanceOverride.objects.create(
        household=household, actor=actor, reason=reason[:2000], blockers=[blocker.as_dict() for blocker in left]
    )
    audit_record(
        actor=actor,
        action=AuditAction.RECORD_CHANGE,
        object_type="household",
        object_id=household.pk,
        detail={"acceptance_override": override.pk, "blockers": [b.key for b in left], "reason": reason[:200]},
    )
    return override
