"""The phones that keep an enumerator's work for no signal (issue 19, item 7).

A browser that runs the offline pages (static/js/offline.js) is registered as a device of the person logged in
on it: a random key in a long-lived, HTTP-only cookie, of which the server keeps only the SHA-256. When the phone
is lost, the township office revokes the device; the next request that carries its key — the phone's outbox
sending, a page opened, whoever holds it — is answered "revoked" and the phone deletes what it kept.
"""

from __future__ import annotations

import hashlib
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from census.scoping import Scope, ScopedQuerySet, ScopeKind, scope_of


def device_key_digest(key: str) -> str:
    """What the server keeps of a phone's key."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


class PhoneDeviceQuerySet(ScopedQuerySet["PhoneDevice"]):
    scope_fields: ClassVar[dict[str, str]] = {"district": "staff__district_id", "township": "staff__township_id"}

    def visible_to(self, user):  # type: ignore[no-untyped-def,override]
        scope: Scope = scope_of(user)
        if scope.kind is ScopeKind.SMALL_AREAS:
            # A field worker sees their own phones.
            return self.filter(staff_id=scope.staff_id)
        return super().visible_to(user)

    def active(self) -> PhoneDeviceQuerySet:
        return self.filter(revoked_at__isnull=True)

    def revoked(self) -> PhoneDeviceQuerySet:
        return self.filter(revoked_at__isnull=False)


class PhoneDevice(models.Model):
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="phone_devices", verbose_name=_("person")
    )
    key_sha256 = models.CharField(_("key (SHA-256)"), max_length=64, unique=True)
    label = models.CharField(_("browser"), max_length=200, blank=True)
    # The login session the phone was last seen with: revoking the device ends it.
    session_key = models.CharField(_("session"), max_length=40, blank=True)
    created_at = models.DateTimeField(_("first seen"), auto_now_add=True)
    last_seen_at = models.DateTimeField(_("last seen"))
    last_ip = models.GenericIPAddressField(_("last address"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("revoked by"),
    )
    # When the revoked phone next made contact and was told to delete its copy.
    wiped_at = models.DateTimeField(_("copy deleted at"), null=True, blank=True)

    objects = PhoneDeviceQuerySet.as_manager()

    class Meta:
        verbose_name = _("mobile phone")
        verbose_name_plural = _("mobile phones")
        indexes = [models.Index(fields=["staff", "-last_seen_at"], name="phone_device_staff_seen")]
        constraints = [
            models.CheckConstraint(
                condition=Q(revoked_at__isnull=True) | Q(revoked_by__isnull=False), name="phone_device_revoked_by"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.staff_id} · {self.label}"
