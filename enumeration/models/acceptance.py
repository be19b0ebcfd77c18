"""Overrides of the checks that block acceptance (验收).

A form with an open hard finding, or whose signature no longer verifies, cannot be approved, accepted or locked
(``enumeration.services.acceptance``). The district office may let it through anyway, with a written reason
signed with its password: an ``AcceptanceOverride`` keeps the reason, who gave it, when, and exactly which
blockers it covers (their keys and what they said at the time). A blocker that appears later is not covered: it
blocks again until it is resolved or overridden in turn. Overrides are never edited or deleted; every report that
counts the form lists them (the summary tables, the form's own page).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import GreaterThanOrEqual
from django.utils.translation import gettext_lazy as _

from census.scoping import ScopedQuerySet
from enumeration.models.households import Household
from enumeration.models.ledger import HOUSEHOLD_SCOPE_FIELDS

MIN_OVERRIDE_REASON_LENGTH = 10


class AcceptanceOverrideQuerySet(ScopedQuerySet["AcceptanceOverride"]):
    scope_fields = HOUSEHOLD_SCOPE_FIELDS


class AcceptanceOverride(models.Model):
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="acceptance_overrides", verbose_name=_("household")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("overridden by")
    )
    reason = models.TextField(_("reason"))
    # [{"key": "finding:12", "text": "…"}, {"key": "signature:content:345", "text": "…"}]: what was let through.
    blockers = models.JSONField(_("checks overridden"), default=list)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    objects = AcceptanceOverrideQuerySet.as_manager()

    class Meta:
        verbose_name = _("acceptance override")
        verbose_name_plural = _("acceptance overrides")
        ordering = ["household_id", "created_at"]
        constraints = [
            models.CheckConstraint(
                condition=GreaterThanOrEqual(Length("reason"), MIN_OVERRIDE_REASON_LENGTH),
                name="acceptance_override_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household_id}: {self.reason[:40]}"

    def covered_keys(self) -> set[str]:
        return {str(blocker.get("key", "")) for blocker in self.blockers if isinstance(blocker, dict)}
