"""落实到人头，一级抓一级 (S3): the heads of the census offices, and the escalations of overdue work along each
responsible person's chain upward (enumerator → supervisor → township office head → district office head)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from census.models import District, Township
from census.scoping import ScopedQuerySet


class OfficeHeadQuerySet(ScopedQuerySet["OfficeHead"]):
    scope_fields = {"district": "district_id", "township": "township_id"}


class OfficeHead(models.Model):
    """The head (主任) of a township's census office, or of the district's (no township): an account, the top
    of the chains below it."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+", verbose_name=_("district"))
    township = models.ForeignKey(
        Township, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("township")
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("head of the office")
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = OfficeHeadQuerySet.as_manager()

    class Meta:
        verbose_name = _("census office head")
        verbose_name_plural = _("census office heads")
        constraints = [
            models.UniqueConstraint(fields=["township"], name="office_head_one_per_township"),
            models.UniqueConstraint(
                fields=["district"], condition=Q(township__isnull=True), name="office_head_one_per_district"
            ),
        ]

    def __str__(self) -> str:
        return str(self.person)


class EscalationKind(models.TextChoices):
    READINESS_ITEM = "readiness_item", _("Readiness item")
    RECTIFICATION_TASK = "rectification_task", _("Rectification task")
    DEPARTMENT_TASK = "department_task", _("Department census task")
    FINDING = "finding", _("Quality finding")


class EscalationQuerySet(ScopedQuerySet["Escalation"]):
    scope_fields = {"district": "district_id", "township": "township_id", "department": "department_id"}


class Escalation(models.Model):
    """Overdue work passed one step up its responsible person's chain. One row per work item and step, so the
    daily run adds only the steps newly reached and running it twice changes nothing."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+", verbose_name=_("district"))
    township = models.ForeignKey(
        Township, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("township")
    )
    department = models.ForeignKey(
        "census.Department", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(_("kind of work"), max_length=20, choices=EscalationKind.choices)
    object_id = models.PositiveIntegerField(_("work item"))
    level = models.PositiveSmallIntegerField(_("step up the chain"))
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("escalated to")
    )
    due_on = models.DateField(_("deadline"))
    created_at = models.DateTimeField(_("escalated at"), auto_now_add=True)

    objects = EscalationQuerySet.as_manager()

    class Meta:
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")
        ordering = ["kind", "object_id", "level"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_id", "level"], name="escalation_once_per_step"),
            models.CheckConstraint(condition=Q(level__gte=1), name="escalation_level_above_the_person"),
        ]
        indexes = [models.Index(fields=["person", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.object_id} → {self.person} ({self.level})"
