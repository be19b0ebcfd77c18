"""Invitations to self-enumerate and the households' declarations."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from census.scoping import ScopedQuerySet
from enumeration.models import Household
from enumeration.models.ledger import HOUSEHOLD_SCOPE_FIELDS


class InvitationQuerySet(ScopedQuerySet["Invitation"]):
    scope_fields = HOUSEHOLD_SCOPE_FIELDS

    def active(self) -> InvitationQuerySet:
        """Not revoked and not expired: the code still opens the respondent's pages."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())


class Invitation(models.Model):
    """One household's code. Only the code's SHA-256 is kept: the database does not reveal it."""

    household = models.ForeignKey(
        Household, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("household")
    )
    code_hash = models.CharField(_("SHA-256 of the code"), max_length=64, unique=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("issued by")
    )
    issued_at = models.DateTimeField(_("issued at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("revoked by"),
    )
    # The respondent's progress: {"household": {...}, "persons": [{...}, ...]}, as the entry forms clean it.
    draft = models.JSONField(_("answers so far"), default=dict, blank=True)
    started_at = models.DateTimeField(_("first answer at"), null=True, blank=True)
    saved_at = models.DateTimeField(_("last saved at"), null=True, blank=True)
    declared_at = models.DateTimeField(_("declared at"), null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        verbose_name = _("self-enumeration invitation")
        verbose_name_plural = _("self-enumeration invitations")
        ordering = ["household_id", "-issued_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["household"], condition=Q(revoked_at__isnull=True), name="invitation_one_open_per_household"
            ),
            models.CheckConstraint(condition=Q(code_hash__regex=r"^[0-9a-f]{64}$"), name="invitation_code_hash_hex"),
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.code_hash[:8]}"

    @property
    def is_open(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class DeclarationQuerySet(ScopedQuerySet["Declaration"]):
    scope_fields = HOUSEHOLD_SCOPE_FIELDS


class Declaration(models.Model):
    """What a household declared (申报), sealed: the canonical content of its answers, its SHA-256, the 申报人 and
    an HMAC under the ledger key over all of them. When its enumerator signs the verified form, the declaration
    is the respondent's confirmation in the ledger (its ``content_hash`` stands where a drawn signature's hash
    stands), so ``verify_signatures`` checks both."""

    invitation = models.OneToOneField(
        Invitation, on_delete=models.PROTECT, related_name="declaration", verbose_name=_("invitation")
    )
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="declarations", verbose_name=_("household")
    )
    content = models.JSONField(_("declared content"))
    content_hash = models.CharField(_("SHA-256 of the declared content"), max_length=64)
    declarant_name = models.CharField(_("declarant (申报人)"), max_length=50)
    declarant_relationship = models.PositiveSmallIntegerField(_("declarant's relationship to the head"))
    declared_at = models.DateTimeField(_("declared at"))
    confirmation_no = models.CharField(_("confirmation number"), max_length=20, unique=True)
    hmac = models.CharField(_("HMAC under the ledger key"), max_length=64)
    # The enumerator took it into the household's form to verify it.
    taken_up_at = models.DateTimeField(_("taken up at"), null=True, blank=True)
    taken_up_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("taken up by"),
    )

    objects = DeclarationQuerySet.as_manager()

    class Meta:
        verbose_name = _("self-enumeration declaration")
        verbose_name_plural = _("self-enumeration declarations")
        ordering = ["household_id", "declared_at"]
        indexes = [models.Index(fields=["household", "content_hash"])]
        constraints = [
            models.CheckConstraint(condition=Q(content_hash__regex=r"^[0-9a-f]{64}$"), name="declaration_hash_hex"),
            models.CheckConstraint(condition=Q(hmac__regex=r"^[0-9a-f]{64}$"), name="declaration_hmac_hex"),
            models.CheckConstraint(condition=Q(declarant_relationship__lte=9), name="declaration_relationship_code"),
        ]

    def __str__(self) -> str:
        return f"{self.household_id} {self.confirmation_no}"
