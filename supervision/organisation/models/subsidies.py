"""两员 subsidies: what each enumerator (普查员) and supervisor (普查指导员) is owed, by phase, and what was paid.

Rates are per household and set by each district (the only published example is 摸底 8, 短表 10, 长表 20 元
per household, from a weak source, so they are data, not code). Amounts are computed from accepted work:

* listing (摸底): households the person listed (``Household.listed_by``);
* short form (短表): households the person registered that the township accepted (accepted or locked);
* long form (长表): the same, for households in the long-form sample;
* supervision (指导): a supervisor is paid per accepted household registered by the enumerators they
  oversee. A supervisor who enumerates (条例 §17) is also paid the three rates above for their own work.

不得克扣: a due amount is lowered only by a recorded reduction with a reason and the district officer who
approved it. The database refuses a reduction without both, a due amount that is not households × rate,
and a payment total above what is due.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from census.models import District, StaffMember, Township
from census.scoping import Scope, ScopedQuerySet, ScopeKind, scope_of

ZERO = Decimal("0.00")


class SubsidyPhase(models.TextChoices):
    LISTING = "listing", _("Listing (摸底)")
    SHORT_FORM = "short_form", _("Short form (短表)")
    LONG_FORM = "long_form", _("Long form (长表)")
    SUPERVISION = "supervision", _("Supervision (指导)")


class SubsidyRateQuerySet(ScopedQuerySet["SubsidyRate"]):
    scope_fields = {"district": "district_id"}


class SubsidyRate(models.Model):
    """The district's rates, 元 per household, one row per district."""

    district = models.OneToOneField(District, on_delete=models.PROTECT, related_name="+", verbose_name=_("district"))
    listing = models.DecimalField(_("listing (摸底), per household listed"), max_digits=8, decimal_places=2)
    short_form = models.DecimalField(_("short form (短表), per accepted household"), max_digits=8, decimal_places=2)
    long_form = models.DecimalField(
        _("long form (长表), per accepted sampled household"), max_digits=8, decimal_places=2
    )
    supervision = models.DecimalField(
        _("supervision (指导), per accepted household of the supervised enumerators"), max_digits=8, decimal_places=2
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("updated by"),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = SubsidyRateQuerySet.as_manager()

    class Meta:
        verbose_name = _("subsidy rates")
        verbose_name_plural = _("subsidy rates")
        constraints = [
            models.CheckConstraint(
                condition=Q(listing__gte=0, short_form__gte=0, long_form__gte=0, supervision__gte=0),
                name="subsidy_rates_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.district_id}: {self.listing}/{self.short_form}/{self.long_form}/{self.supervision}"

    def rate_for(self, phase: str) -> Decimal:
        return Decimal(getattr(self, SubsidyPhase(phase).value))


class SubsidyDueQuerySet(ScopedQuerySet["SubsidyDue"]):
    scope_fields = {"district": "district_id", "township": "township_id"}

    def visible_to(self, user):  # type: ignore[no-untyped-def,override]
        scope: Scope = scope_of(user)
        if scope.kind is ScopeKind.SMALL_AREAS:
            # A field worker sees what they themselves are owed, nobody else's.
            return self.filter(staff_id=scope.staff_id)
        return super().visible_to(user)

    def outstanding(self) -> SubsidyDueQuerySet:
        return self.filter(outstanding__gt=0)

    def unpaid_since(self, day: object) -> SubsidyDueQuerySet:
        """Something still unpaid on a due that fell due on or before ``day``."""
        return self.filter(outstanding__gt=0, due_on__lte=day)

    def flagged(self) -> SubsidyDueQuerySet:
        return self.filter(outstanding__gt=0, overdue_flagged_at__isnull=False)


class SubsidyDue(models.Model):
    """What one person is owed for one phase."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+", verbose_name=_("district"))
    # The township that pays (subsidies are paid through the 镇/街道): the person's own township.
    township = models.ForeignKey(
        Township, on_delete=models.PROTECT, related_name="+", verbose_name=_("paying township")
    )
    staff = models.ForeignKey(
        StaffMember, on_delete=models.PROTECT, related_name="subsidy_dues", verbose_name=_("person")
    )
    phase = models.CharField(_("phase"), max_length=12, choices=SubsidyPhase.choices)
    households = models.PositiveIntegerField(_("households"))
    rate = models.DecimalField(_("rate, 元 per household"), max_digits=8, decimal_places=2)
    computed_amount = models.DecimalField(_("amount earned"), max_digits=12, decimal_places=2)
    reduction_amount = models.DecimalField(_("reduction"), default=ZERO, max_digits=12, decimal_places=2)
    reduction_reason = models.TextField(_("reason for the reduction"), blank=True)
    reduction_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reduction approved by"),
    )
    reduction_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reduction recorded by"),
    )
    reduction_recorded_at = models.DateTimeField(_("reduction recorded at"), null=True, blank=True)
    amount_paid = models.DecimalField(_("paid"), default=ZERO, max_digits=12, decimal_places=2)
    amount_due = models.GeneratedField(
        expression=F("computed_amount") - F("reduction_amount"),
        output_field=models.DecimalField(max_digits=12, decimal_places=2),
        db_persist=True,
        verbose_name=_("amount due"),
    )
    outstanding = models.GeneratedField(
        expression=F("computed_amount") - F("reduction_amount") - F("amount_paid"),
        output_field=models.DecimalField(max_digits=12, decimal_places=2),
        db_persist=True,
        verbose_name=_("outstanding"),
    )
    due_on = models.DateField(_("fell due on"))
    settled_at = models.DateTimeField(_("computed at"))
    overdue_flagged_at = models.DateTimeField(_("flagged to the district at"), null=True, blank=True)

    objects = SubsidyDueQuerySet.as_manager()

    class Meta:
        verbose_name = _("subsidy due")
        verbose_name_plural = _("subsidies due")
        ordering = ["township_id", "staff_id", "phase"]
        constraints = [
            models.UniqueConstraint(fields=["staff", "phase"], name="subsidy_due_one_per_staff_and_phase"),
            models.CheckConstraint(condition=Q(rate__gte=0), name="subsidy_due_rate_not_negative"),
            models.CheckConstraint(
                condition=Q(computed_amount=F("households") * F("rate")), name="subsidy_due_is_households_times_rate"
            ),
            models.CheckConstraint(
                condition=Q(reduction_amount__gte=0, reduction_amount__lte=F("computed_amount")),
                name="subsidy_due_reduction_within_amount",
            ),
            # 不得克扣: no reduction without a reason and the officer who approved it.
            models.CheckConstraint(
                condition=Q(reduction_amount=0)
                | (
                    ~Q(reduction_reason="")
                    & Q(reduction_approved_by__isnull=False, reduction_recorded_at__isnull=False)
                ),
                name="subsidy_due_reduction_has_reason_and_approver",
            ),
            models.CheckConstraint(
                condition=Q(amount_paid__gte=0, amount_paid__lte=F("computed_amount") - F("reduction_amount")),
                name="subsidy_due_paid_within_due",
            ),
        ]
        indexes = [
            models.Index(fields=["district", "due_on"]),
            models.Index(fields=["township", "phase"]),
        ]

    def __str__(self) -> str:
        return f"{self.staff} · {self.get_phase_display()} · {self.computed_amount}"


class SubsidyPaymentQuerySet(ScopedQuerySet["SubsidyPayment"]):
    scope_fields = {"district": "due__district_id", "township": "due__township_id"}

    def visible_to(self, user):  # type: ignore[no-untyped-def,override]
        scope: Scope = scope_of(user)
        if scope.kind is ScopeKind.SMALL_AREAS:
            return self.filter(due__staff_id=scope.staff_id)
        return super().visible_to(user)


class SubsidyPayment(models.Model):
    """One payment against a due amount: how much, when, through which township, under what voucher."""

    due = models.ForeignKey(SubsidyDue, on_delete=models.PROTECT, related_name="payments", verbose_name=_("due"))
    township = models.ForeignKey(
        Township, on_delete=models.PROTECT, related_name="+", verbose_name=_("paying township")
    )
    amount = models.DecimalField(_("amount"), max_digits=12, decimal_places=2)
    paid_on = models.DateField(_("paid on"))
    reference = models.CharField(_("payment reference (voucher number)"), max_length=60)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    objects = SubsidyPaymentQuerySet.as_manager()

    class Meta:
        verbose_name = _("subsidy payment")
        verbose_name_plural = _("subsidy payments")
        ordering = ["-paid_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="subsidy_payment_positive"),
            models.CheckConstraint(condition=~Q(reference=""), name="subsidy_payment_has_reference"),
        ]

    def __str__(self) -> str:
        return f"{self.due_id}: {self.amount} on {self.paid_on}"
