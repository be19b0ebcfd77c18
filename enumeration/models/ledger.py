"""谁登记、谁签字: respondent confirmations, the signature ledger, versions, reviews and the long-form sample.

A ``Signature`` row is append-only: form version, signer, time, SHA-256 of the canonical content, the hash
of the previous signature in the same small area (a hash chain per small area, ordered by ``seq``) and an
HMAC of all of it under the server's ledger key. Verifying a form recomputes its content hash; verifying a
small area walks its chain. Editing any of these rows, or a signed household, directly in the database is
therefore visible to ``verify_signatures`` and to the nightly checks.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from census.models import SmallArea, Village
from census.scoping import ScopedQuerySet
from enumeration.models.households import AREA_SCOPE_FIELDS, Household, HouseholdState

HOUSEHOLD_SCOPE_FIELDS = {
    "district": "household__township__district_id",
    "township": "household__township_id",
    "village": "household__village_id",
    "small_area": "household__small_area_id",
}


class RespondentConfirmationQuerySet(ScopedQuerySet["RespondentConfirmation"]):
    scope_fields = HOUSEHOLD_SCOPE_FIELDS


class RespondentConfirmation(models.Model):
    """申报人 confirms the read-back form (条例 §25): a drawn signature or a recorded refusal."""

    household = models.ForeignKey(
        Household, on_delete=models.CASCADE, related_name="confirmations", verbose_name=_("household")
    )
    household_version = models.PositiveIntegerField(_("form version confirmed"))
    name = models.CharField(_("respondent's name (申报人)"), max_length=50)
    relationship = models.PositiveSmallIntegerField(_("relationship to the head"))
    # The drawn signature as a PNG data URL from signature_pad, and its SHA-256 (which goes into the ledger).
    signature_image = models.TextField(_("signature image"), blank=True)
    signature_sha256 = models.CharField(_("signature SHA-256"), max_length=64, blank=True)
    refused = models.BooleanField(_("refused to sign"), default=False)
    refusal_reason = models.CharField(_("reason for refusal"), max_length=200, blank=True)
    confirmed_at = models.DateTimeField(_("confirmed at"), auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )

    objects = RespondentConfirmationQuerySet.as_manager()

    class Meta:
        verbose_name = _("respondent confirmation")
        verbose_name_plural = _("respondent confirmations")
        ordering = ["household_id", "-confirmed_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(refused=False) & ~Q(signature_sha256=""))
                | (Q(refused=True) & ~Q(refusal_reason="") & Q(signature_image="")),
                name="confirmation_signed_or_refused_with_reason",
            ),
            models.CheckConstraint(condition=Q(relationship__lte=9), name="confirmation_relationship_code"),
        ]

    def __str__(self) -> str:
        return f"{self.household_id} v{self.household_version} {self.name}"

    def ledger_view(self) -> dict[str, object]:
        return {
            "name": self.name,
            "relationship": self.relationship,
            "signature_sha256": self.signature_sha256,
            "refused": self.refused,
            "refusal_reason": self.refusal_reason,
        }


class SignatureQuerySet(ScopedQuerySet["Signature"]):
    scope_fields = {
        "district": "small_area__township__district_id",
        "township": "small_area__township_id",
        "village": "small_area__village_id",
        "small_area": "small_area_id",
    }


class Signature(models.Model):
    """One link of a small area's signature chain."""

    # Indexed by (household, -seq) and by the chain's (small_area, seq) constraint.
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="signatures", verbose_name=_("household"), db_index=False
    )
    small_area = models.ForeignKey(
        SmallArea, on_delete=models.PROTECT, related_name="+", verbose_name=_("small area"), db_index=False
    )
    seq = models.PositiveIntegerField(_("position in the small area's chain"))
    household_version = models.PositiveIntegerField(_("form version signed"))
    signer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("signer")
    )
    signer_role = models.CharField(_("signer's role"), max_length=20)
    signed_at = models.DateTimeField(_("signed at"))
    content_hash = models.CharField(_("SHA-256 of the content"), max_length=64)
    prev_hash = models.CharField(_("hash of the previous signature in the small area"), max_length=64)
    hmac = models.CharField(_("HMAC under the ledger key"), max_length=64)

    objects = SignatureQuerySet.as_manager()

    class Meta:
        verbose_name = _("signature")
        verbose_name_plural = _("signatures")
        ordering = ["small_area_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["small_area", "seq"], name="signature_seq_unique_in_small_area"),
            models.CheckConstraint(
                condition=Q(content_hash__regex=r"^[0-9a-f]{64}$"), name="signature_content_hash_hex"
            ),
            models.CheckConstraint(condition=Q(prev_hash__regex=r"^[0-9a-f]{64}$"), name="signature_prev_hash_hex"),
            models.CheckConstraint(condition=Q(hmac__regex=r"^[0-9a-f]{64}$"), name="signature_hmac_hex"),
        ]
        indexes = [models.Index(fields=["household", "-seq"])]

    def __str__(self) -> str:
        return f"{self.small_area_id}#{self.seq} {self.content_hash[:12]}"


class HouseholdVersionQuerySet(ScopedQuerySet["HouseholdVersion"]):
    scope_fields = HOUSEHOLD_SCOPE_FIELDS


class VersionReason(models.TextChoices):
    SIGNED = "signed", _("Signed")
    CHANGED_AFTER_SIGNING = "changed", _("Changed after signing")
    REOPENED = "reopened", _("Reopened")


class HouseholdVersion(models.Model):
    """Every signed version of a form and every change after signing: who, when, why, and what changed."""

    household = models.ForeignKey(  # indexed by (household, number)
        Household, on_delete=models.CASCADE, related_name="versions", verbose_name=_("household"), db_index=False
    )
    number = models.PositiveIntegerField(_("version"))
    kind = models.CharField(_("kind"), max_length=10, choices=VersionReason.choices)
    content = models.JSONField(_("content"))
    # [{"item": "D5", "row": 2, "field": "d5_birth_year", "before": 1980, "after": 1981}, …]
    diff = models.JSONField(_("field-level changes"), default=list, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("author")
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    objects = HouseholdVersionQuerySet.as_manager()

    class Meta:
        verbose_name = _("form version")
        verbose_name_plural = _("form versions")
        ordering = ["household_id", "number", "created_at"]
        indexes = [models.Index(fields=["household", "number"])]

    def __str__(self) -> str:
        return f"{self.household_id} v{self.number} {self.kind}"


class HouseholdTransitionQuerySet(ScopedQuerySet["HouseholdTransition"]):
    scope_fields = HOUSEHOLD_SCOPE_FIELDS


class HouseholdTransition(models.Model):
    """The review trail: every state change with who, when and why, sealed under the ledger key.

    A household's changes in (``at``, ``id``) order form a chain: each ``hmac`` covers the change and the
    ``hmac`` of the one before it (``enumeration.ledger.transition_message``), computed by the service that
    makes the change. So a state, an actor or a reason edited in the database, a change inserted without the
    key or one removed from the middle is visible to ``verify_signatures``; and the household's own state, its
    current signature and its registrar must agree with its trail. Rows written before the trail was sealed
    were sealed as they stood by the migration ``householdtransition_hmac``.
    """

    household = models.ForeignKey(  # indexed by (household, at)
        Household, on_delete=models.CASCADE, related_name="transitions", verbose_name=_("household"), db_index=False
    )
    from_state = models.CharField(_("from"), max_length=10, choices=HouseholdState.choices)
    to_state = models.CharField(_("to"), max_length=10, choices=HouseholdState.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("by")
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    # Set by the service before the row is written (not auto_now_add, which would overwrite it on save): the
    # HMAC covers it.
    at = models.DateTimeField(_("time"), default=timezone.now)
    hmac = models.CharField(_("HMAC under the ledger key"), max_length=64)

    objects = HouseholdTransitionQuerySet.as_manager()

    class Meta:
        verbose_name = _("state change")
        verbose_name_plural = _("state changes")
        ordering = ["household_id", "at", "id"]
        indexes = [models.Index(fields=["household", "at"]), models.Index(fields=["to_state", "at"])]
        constraints = [
            models.CheckConstraint(condition=Q(hmac__regex=r"^[0-9a-f]{64}$"), name="transition_hmac_hex"),
        ]

    def __str__(self) -> str:
        return f"{self.household_id}: {self.from_state} → {self.to_state}"


class ReviewCommentQuerySet(ScopedQuerySet["ReviewComment"]):
    scope_fields = HOUSEHOLD_SCOPE_FIELDS

    def open(self) -> ReviewCommentQuerySet:
        return self.filter(resolved_at__isnull=True)


class ReviewComment(models.Model):
    """A supervisor's comment on one item of a returned form ("H6", "D5@2" = D5 of row 2)."""

    household = models.ForeignKey(
        Household, on_delete=models.CASCADE, related_name="review_comments", verbose_name=_("household")
    )
    item = models.CharField(_("item"), max_length=20)
    text = models.CharField(_("comment"), max_length=500)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("author")
    )
    created_at = models.DateTimeField(_("time"), auto_now_add=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    objects = ReviewCommentQuerySet.as_manager()

    class Meta:
        verbose_name = _("review comment")
        verbose_name_plural = _("review comments")
        ordering = ["household_id", "created_at"]

    def __str__(self) -> str:
        return f"{self.household_id} {self.item}: {self.text[:40]}"


class LongFormSampleQuerySet(ScopedQuerySet["LongFormSample"]):
    scope_fields = {
        "district": "village__township__district_id",
        "township": "village__township_id",
        "village": "village_id",
    }


class LongFormSample(models.Model):
    """The systematic 10% long-form sample of one 普查区, reproducible from its recorded seed."""

    village = models.OneToOneField(
        Village, on_delete=models.PROTECT, related_name="long_form_sample", verbose_name=_("village")
    )
    seed = models.BigIntegerField(_("random seed"))
    interval = models.PositiveIntegerField(_("sampling interval"))
    start = models.PositiveIntegerField(_("random start"))
    frame_size = models.PositiveIntegerField(_("households in the frame"))
    sample_size = models.PositiveIntegerField(_("households sampled"))
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("drawn by")
    )
    drawn_at = models.DateTimeField(_("drawn at"), auto_now_add=True)
    # The household ids in sample order; kept so that a sampled household can never be swapped silently.
    household_ids = models.JSONField(_("sampled households"), default=list)

    objects = LongFormSampleQuerySet.as_manager()

    class Meta:
        verbose_name = _("long-form sample")
        verbose_name_plural = _("long-form samples")
        constraints = [
            models.CheckConstraint(condition=Q(interval__gte=1) & Q(start__gte=1), name="sample_interval_positive"),
            models.CheckConstraint(condition=Q(start__lte=models.F("interval")), name="sample_start_within_interval"),
        ]

    def __str__(self) -> str:
        return f"{self.village_id}: {self.sample_size}/{self.frame_size}"


__all__ = [
    "AREA_SCOPE_FIELDS",
    "HouseholdTransition",
    "HouseholdVersion",
    "LongFormSample",
    "RespondentConfirmation",
    "ReviewComment",
    "Signature",
    "VersionReason",
]
