"""两员 subsidies: rates, settling what is due from accepted work, payments, reductions, arrears."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F
from django.utils import timezone
from django.utils.translation import gettext as _

from census.jobs import job_start
from census.models import FIELD_ROLES, AuditAction, Job, Role, StaffMember, Township
from census.services import audit_record
from enumeration.models import Household
from supervision.organisation.models import SubsidyDue, SubsidyPayment, SubsidyPhase, SubsidyRate
from supervision.organisation.services.common import audit_change, not_in_future, today

CENT = Decimal("0.01")


def subsidy_rates_for(*, district_id: str) -> SubsidyRate:
    """The district's rates; a district that has none starts from the configured defaults."""
    rates = SubsidyRate.objects.filter(district_id=district_id).first()
    if rates is None:
        defaults = settings.ORGANISATION_SUBSIDY_DEFAULT_RATES
        rates = SubsidyRate(district_id=district_id, **{k: Decimal(v) for k, v in defaults.items()})
        rates.full_clean()
        rates.save()
    return rates


@transaction.atomic
def subsidy_rates_update(
    *,
    district_id: str,
    listing: Decimal,
    short_form: Decimal,
    long_form: Decimal,
    supervision: Decimal,
    actor: StaffMember,
) -> SubsidyRate:
    rates = subsidy_rates_for(district_id=district_id)
    before = {phase: str(rates.rate_for(phase)) for phase in SubsidyPhase.values}
    rates.listing, rates.short_form, rates.long_form, rates.supervision = listing, short_form, long_form, supervision
    rates.updated_by = actor
    rates.full_clean()
    rates.save()
    audit_change(
        actor=actor,
        object_type="subsidy_rates",
        object_id=district_id,
        before=before,
        after={phase: str(rates.rate_for(phase)) for phase in SubsidyPhase.values},
    )
    return rates


def subsidy_households_by_staff(*, district_id: str, phase: str) -> dict[int, int]:
    """How many households each person earns for in a phase (the rules in the models' docstring)."""
    households = Household.objects.filter(township__district_id=district_id)
    if phase == SubsidyPhase.LISTING:
        rows = households.filter(listed_by__isnull=False).values_list("listed_by").annotate(n=Count("id"))
    elif phase == SubsidyPhase.SHORT_FORM:
        rows = households.accepted().filter(registrar__isnull=False).values_list("registrar").annotate(n=Count("id"))
    elif phase == SubsidyPhase.LONG_FORM:
        rows = (
            households.accepted()
            .filter(registrar__isnull=False, in_long_form_sample=True)
            .values_list("registrar")
            .annotate(n=Count("id"))
        )
    elif phase == SubsidyPhase.SUPERVISION:
        rows = (
            households.accepted()
            .filter(registrar__supervision__isnull=False)
            .values_list("registrar__supervision__supervisor")
            .annotate(n=Count("id"))
        )
    else:
        raise ValidationError({"phase": _("Unknown phase.")})
    return {staff_id: n for staff_id, n in rows if staff_id is not None}


@dataclass
class SettlementReport:
    created: int = 0
    raised: int = 0
    unchanged: int = 0
    # Work that now counts lower than what was already recorded: the recorded amount stands (不得克扣);
    # lowering it needs a reduction with a reason and an approver.
    lower_kept: int = 0


@transaction.atomic
def subsidy_settle(
    *, district_id: str, phase: str, due_on: datetime.date, actor: StaffMember | None
) -> SettlementReport:
    """Compute what each enumerator and supervisor is owed for a phase from the work accepted so far.

    Safe to run again: new people get a row, amounts that grew are raised, nothing is ever lowered."""
    if phase not in SubsidyPhase.values:
        raise ValidationError({"phase": _("Unknown phase.")})
    rates = subsidy_rates_for(district_id=district_id)
    rate = rates.rate_for(phase)
    counts = subsidy_households_by_staff(district_id=district_id, phase=phase)
    staff = {
        member.pk: member
        for member in StaffMember.objects.filter(
            pk__in=counts, role__in=FIELD_ROLES, district_id=district_id, township__isnull=False
        )
    }
    existing = {
        due.staff_id: due for due in SubsidyDue.objects.select_for_update().filter(district_id=district_id, phase=phase)
    }
    now = timezone.now()
    report = SettlementReport()
    new: list[SubsidyDue] = []
    for staff_id, households in counts.items():
        member = staff.get(staff_id)
        if member is None or households <= 0:
            continue
        amount = (Decimal(households) * rate).quantize(CENT)
        due = existing.get(staff_id)
        if due is None:
            due = SubsidyDue(
                district_id=district_id,
                township_id=member.township_id,
                staff=member,
                phase=phase,
                households=households,
                rate=rate,
                computed_amount=amount,
                due_on=due_on,
                settled_at=now,
            )
            # Field checks only: the constraints hold in the database, and a district has thousands of rows.
            due.clean_fields(exclude=["district", "township", "staff"])
            new.append(due)
            report.created += 1
        elif amount > due.computed_amount:
            due.households, due.rate, due.computed_amount, due.settled_at = households, rate, amount, now
            due.save(update_fields=["households", "rate", "computed_amount", "settled_at"])
            report.raised += 1
        elif amount < due.computed_amount:
            report.lower_kept += 1
        else:
            report.unchanged += 1
    SubsidyDue.objects.bulk_create(new)
    audit_change(
        actor=actor,
        object_type="subsidy_settlement",
        object_id=f"{district_id}:{phase}",
        phase=phase,
        due_on=due_on,
        rate=str(rate),
        created=report.created,
        raised=report.raised,
        unchanged=report.unchanged,
        lower_kept=report.lower_kept,
    )
    return report


@transaction.atomic
def subsidy_payment_record(
    *,
    due: SubsidyDue,
    amount: Decimal,
    paid_on: datetime.date,
    reference: str,
    actor: StaffMember,
    township: Township | None = None,
) -> SubsidyPayment:
    """Record a payment. It cannot exceed what is still outstanding; a township pays its own people."""
    due = SubsidyDue.objects.select_for_update().get(pk=due.pk)
    paying = township or due.township
    if amount <= 0:
        raise ValidationError({"amount": _("The amount must be more than zero.")})
    if amount.quantize(CENT) != amount:
        raise ValidationError({"amount": _("Give the amount in yuan with at most two decimals.")})
    if amount > due.outstanding:
        raise ValidationError(
            {
                "amount": _("Only %(outstanding)s yuan is outstanding on this subsidy.")
                % {"outstanding": due.outstanding}
            }
        )
    not_in_future(paid_on, field="paid_on")
    if actor.role == Role.TOWNSHIP_OFFICE and actor.township_id not in {paying.pk} & {due.township_id}:
        raise ValidationError(_("A township office records the payments it made itself."))
    if paying.district_id != due.district_id:
        raise ValidationError(_("The paying township must be in the same district."))
    payment = SubsidyPayment(
        due=due, township=paying, amount=amount, paid_on=paid_on, reference=reference.strip(), recorded_by=actor
    )
    payment.full_clean()
    payment.save()
    SubsidyDue.objects.filter(pk=due.pk).update(amount_paid=F("amount_paid") + amount)
    audit_change(
        actor=actor,
        object_type="subsidy_payment",
        object_id=payment.pk,
        due=due.pk,
        staff=due.staff.username,
        phase=due.phase,
        amount=str(amount),
        paid_on=paid_on,
        reference=payment.reference,
        township=paying.pk,
    )
    return payment


@transaction.atomic
def subsidy_reduce(
    *,
    due: SubsidyDue,
    reduction_amount: Decimal,
    reason: str,
    approver: StaffMember | None,
    actor: StaffMember,
) -> SubsidyDue:
    """Set the reduction of a due amount (不得克扣): only with a written reason and the approval of a district
    officer other than the person recording it, and never below what has been paid already."""
    due = SubsidyDue.objects.select_for_update().get(pk=due.pk)
    reason = reason.strip()
    errors: dict[str, str] = {}
    if len(reason) < 4:
        errors["reason"] = _("Write down why the amount is reduced.")
    if approver is None:
        errors["approver"] = _("Name the district officer who approved the reduction.")
    elif approver.role != Role.DISTRICT_OFFICE or approver.district_id != due.district_id or not approver.is_active:
        errors["approver"] = _("The approver must be an active member of the district census office.")
    elif approver.pk == actor.pk:
        errors["approver"] = _("Someone other than you must approve the reduction.")
    if reduction_amount < 0 or reduction_amount.quantize(CENT) != reduction_amount:
        errors["reduction_amount"] = _("Give the reduction in yuan, zero or more, with at most two decimals.")
    elif reduction_amount > due.computed_amount - due.amount_paid:
        errors["reduction_amount"] = _(
            "The reduction cannot exceed the amount earned less what has been paid (%(limit)s yuan)."
        ) % {"limit": due.computed_amount - due.amount_paid}
    if errors:
        raise ValidationError(errors)
    before = {"reduction": str(due.reduction_amount), "reason": due.reduction_reason}
    due.reduction_amount = reduction_amount
    due.reduction_reason = reason
    due.reduction_approved_by = approver
    due.reduction_recorded_by = actor
    due.reduction_recorded_at = timezone.now()
    due.full_clean(exclude=["staff"])
    due.save(
        update_fields=[
            "reduction_amount",
            "reduction_reason",
            "reduction_approved_by",
            "reduction_recorded_by",
            "reduction_recorded_at",
        ]
    )
    due.refresh_from_db()
    audit_change(
        actor=actor,
        object_type="subsidy_reduction",
        object_id=due.pk,
        staff=due.staff.username,
        phase=due.phase,
        before=before,
        after={"reduction": str(reduction_amount), "reason": reason},
        approver=approver.username if approver else None,
    )
    return due


@transaction.atomic
def subsidy_flag_overdue(*, on: datetime.date | None = None) -> int:
    """Flag to the district whatever is still unpaid the configured number of days after it fell due.
    Idempotent: a due is flagged once."""
    day = on or today()
    cutoff = day - datetime.timedelta(days=settings.ORGANISATION_SUBSIDY_UNPAID_DAYS)
    pending = SubsidyDue.objects.filter(outstanding__gt=0, due_on__lt=cutoff, overdue_flagged_at__isnull=True)
    by_district: dict[str, list[int]] = defaultdict(list)
    for pk, district_id in pending.values_list("pk", "district_id"):
        by_district[district_id].append(pk)
    now = timezone.now()
    flagged = SubsidyDue.objects.filter(pk__in=[pk for pks in by_district.values() for pk in pks]).update(
        overdue_flagged_at=now
    )
    for district_id, pks in by_district.items():
        audit_record(
            actor=None,
            action=AuditAction.RECORD_CHANGE,
            object_type="organisation.subsidy_arrears",
            object_id=district_id,
            detail={"flagged": len(pks), "cutoff": cutoff.isoformat(), "dues": pks[:200]},
        )
    return flagged


def subsidy_sheet_export_start(*, township: Township, actor: StaffMember) -> Job:
    """Start building the township's payment sheet (xlsx) in the background."""
    audit_record(
        actor=actor,
        action=AuditAction.EXPORT,
        object_type="organisation.subsidy_sheet",
        object_id=township.pk,
        detail={"township": township.name},
    )
    return job_start(
        kind="organisation_subsidy_sheet",
        title=_("Subsidy payment sheet · %(township)s") % {"township": township.name},
        user=actor,
        params={"township": township.pk},
        township_id=township.pk,
    )
