"""统计督察整改: the inspection's feedback items, each broken into rectification tasks.

件件有着落、事事有回音: every task has a responsible department and person, a deadline, the evidence it
needs, and an answer; an item closes only when every one of its tasks is answered with evidence. 当下改 +
长久立: a closed item keeps a re-check date, comes back on the list when it is due, and reopens if the
problem has come back.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from census.models import Department, District
from census.scoping import Scope, ScopedQuerySet, ScopeKind, scope_of
from supervision.organisation.models.evidence import EvidenceFile


class ItemStatus(models.TextChoices):
    OPEN = "open", _("Being rectified")
    CLOSED = "closed", _("Rectified (closed)")


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ANSWERED = "answered", _("Answered")


class RectificationItemQuerySet(ScopedQuerySet["RectificationItem"]):
    scope_fields = {"district": "district_id", "department": "lead_department_id"}

    def visible_to(self, user):  # type: ignore[no-untyped-def,override]
        scope: Scope = scope_of(user)
        if scope.kind is ScopeKind.DEPARTMENT and scope.department_id is not None:
            # A department sees the items it leads and those in which it has a task.
            has_task = RectificationTask.objects.filter(department_id=scope.department_id).values("item_id")
            return self.filter(Q(lead_department_id=scope.department_id) | Q(pk__in=has_task))
        return super().visible_to(user)

    def open(self) -> RectificationItemQuerySet:
        return self.filter(status=ItemStatus.OPEN)

    def closed(self) -> RectificationItemQuerySet:
        return self.filter(status=ItemStatus.CLOSED)

    def recheck_due(self, today: object) -> RectificationItemQuerySet:
        return self.filter(status=ItemStatus.CLOSED, recheck_on__lte=today)

    def needing_attention(self, today: object) -> RectificationItemQuerySet:
        """What is on the list: open items, and closed items whose re-check is due."""
        return self.filter(Q(status=ItemStatus.OPEN) | Q(status=ItemStatus.CLOSED, recheck_on__lte=today))


class RectificationItem(models.Model):
    """One feedback item (反馈意见) of the statistical inspection."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+", verbose_name=_("district"))
    number = models.CharField(_("number"), max_length=20)
    title = models.CharField(_("title"), max_length=200)
    feedback = models.TextField(_("the inspection's feedback"))
    source = models.CharField(_("source (e.g. 省统计督察组反馈意见)"), max_length=200, blank=True)
    lead_department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("lead department (牵头单位)"),
    )
    received_on = models.DateField(_("received on"))
    status = models.CharField(_("status"), max_length=10, choices=ItemStatus.choices, default=ItemStatus.OPEN)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("closed by"),
    )
    recheck_on = models.DateField(_("next re-check"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("created by")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = RectificationItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("rectification item (整改事项)")
        verbose_name_plural = _("rectification items")
        ordering = ["district_id", "received_on", "number"]
        constraints = [
            models.UniqueConstraint(fields=["district", "number"], name="rectification_item_number_unique"),
            # A closed item says when, by whom, and when it will be looked at again (长久立).
            models.CheckConstraint(
                condition=Q(status=ItemStatus.OPEN, closed_on__isnull=True)
                | Q(
                    status=ItemStatus.CLOSED,
                    closed_on__isnull=False,
                    closed_by__isnull=False,
                    recheck_on__isnull=False,
                ),
                name="rectification_item_closed_has_date_and_recheck",
            ),
            models.CheckConstraint(
                condition=Q(recheck_on__isnull=True)
                | Q(closed_on__isnull=True)
                | Q(recheck_on__gt=models.F("closed_on")),
                name="rectification_item_recheck_after_closing",
            ),
        ]
        indexes = [models.Index(fields=["district", "status", "recheck_on"])]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class RectificationTaskQuerySet(ScopedQuerySet["RectificationTask"]):
    scope_fields = {"district": "item__district_id", "department": "department_id"}

    def open(self) -> RectificationTaskQuerySet:
        return self.filter(status=TaskStatus.OPEN)

    def overdue(self, today: object) -> RectificationTaskQuerySet:
        return self.filter(status=TaskStatus.OPEN, deadline__lt=today)

    def with_evidence_count(self) -> RectificationTaskQuerySet:
        return self.annotate(evidence_count=models.Count("evidence", distinct=True))


class RectificationTask(models.Model):
    """A rectification task (整改任务): one department, one responsible person, a deadline and an answer."""

    item = models.ForeignKey(
        RectificationItem, on_delete=models.CASCADE, related_name="tasks", verbose_name=_("rectification item")
    )
    measure = models.TextField(_("rectification measure (整改措施)"))
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="+", verbose_name=_("responsible department")
    )
    responsible_person = models.CharField(_("responsible person (责任人)"), max_length=50)
    responsible_post = models.CharField(_("their post"), max_length=100, blank=True)
    # 落实到人头 (S3): the department's account answerable for the task (the name above is what the inspection's
    # feedback sheet prints).
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("responsible account"),
    )
    deadline = models.DateField(_("deadline"))
    evidence_required = models.TextField(_("evidence required"))
    status = models.CharField(_("status"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    answer = models.TextField(_("answer (整改情况)"), blank=True)
    answered_on = models.DateField(_("answered on"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("answered by"),
    )
    returned_reason = models.CharField(_("why the answer was returned"), max_length=300, blank=True)
    evidence = models.ManyToManyField(EvidenceFile, blank=True, related_name="+", verbose_name=_("evidence"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = RectificationTaskQuerySet.as_manager()

    class Meta:
        verbose_name = _("rectification task (整改任务)")
        verbose_name_plural = _("rectification tasks")
        ordering = ["item_id", "deadline", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status=TaskStatus.OPEN) | (~Q(answer="") & Q(answered_on__isnull=False)),
                name="rectification_task_answered_has_answer",
            ),
            models.CheckConstraint(
                condition=~Q(responsible_person="") & ~Q(evidence_required=""),
                name="rectification_task_has_person_and_evidence_required",
            ),
        ]
        indexes = [models.Index(fields=["department", "status", "deadline"])]

    def __str__(self) -> str:
        return f"{self.item.number} · {self.department} · {self.responsible_person}"


class RectificationRecheckQuerySet(ScopedQuerySet["RectificationRecheck"]):
    scope_fields = {"district": "item__district_id", "department": "item__lead_department_id"}


class RectificationRecheck(models.Model):
    """A routine re-check of a closed item (常态化): did the rectification hold?"""

    item = models.ForeignKey(
        RectificationItem, on_delete=models.CASCADE, related_name="rechecks", verbose_name=_("rectification item")
    )
    checked_on = models.DateField(_("checked on"))
    held = models.BooleanField(_("the rectification held"))
    note = models.TextField(_("what was checked and found"))
    next_recheck_on = models.DateField(_("next re-check"), null=True, blank=True)
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("checked by")
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    objects = RectificationRecheckQuerySet.as_manager()

    class Meta:
        verbose_name = _("re-check")
        verbose_name_plural = _("re-checks")
        ordering = ["item_id", "-checked_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(held=False) | Q(next_recheck_on__gt=models.F("checked_on")),
                name="rectification_recheck_held_has_next_date",
            ),
            models.CheckConstraint(condition=~Q(note=""), name="rectification_recheck_has_note"),
        ]

    def __str__(self) -> str:
        return f"{self.item.number} {self.checked_on} {'✓' if self.held else '✗'}"
