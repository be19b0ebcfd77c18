"""部门分工协作 (S18): the census tasks the district gives its departments — publicity (宣传), the hukou roster and
its matching (公安), birth records (卫健), civil-affairs records (民政), schools' publicity (教育), funds (财政) … —
each with its deliverable, its deadline, the department's answer and the evidence that shows it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from census.models import Department, District
from census.scoping import ScopedQuerySet
from supervision.organisation.models.evidence import EvidenceFile


class DepartmentTaskKind(models.TextChoices):
    PUBLICITY = "publicity", _("Publicity (宣传)")
    HUKOU = "hukou", _("Hukou roster and matching (公安)")
    BIRTHS = "births", _("Birth records (卫健)")
    CIVIL_AFFAIRS = "civil_affairs", _("Civil-affairs records (民政)")
    SCHOOLS = "schools", _("Publicity in schools (教育)")
    FUNDS = "funds", _("Census funds (财政)")
    OTHER = "other", _("Other")


class DepartmentTaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ANSWERED = "answered", _("Answered, awaiting review")
    DELIVERED = "delivered", _("Delivered")


class DepartmentTaskQuerySet(ScopedQuerySet["DepartmentTask"]):
    scope_fields = {"district": "district_id", "department": "department_id"}

    def overdue(self, today: object) -> DepartmentTaskQuerySet:
        """Not delivered although its deadline has passed (an answer awaiting review is not overdue)."""
        return self.filter(status=DepartmentTaskStatus.OPEN, deadline__lt=today)


class DepartmentTask(models.Model):
    """One census task of one department: what to deliver, by when, and the department's answer."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+", verbose_name=_("district"))
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+", verbose_name=_("department"))
    kind = models.CharField(_("kind of task"), max_length=15, choices=DepartmentTaskKind.choices)
    title = models.CharField(_("task"), max_length=200)
    deliverable = models.TextField(_("deliverable (what shows it is done)"))
    deadline = models.DateField(_("deadline"))
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("responsible person"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=DepartmentTaskStatus.choices, default=DepartmentTaskStatus.OPEN
    )
    answer = models.TextField(_("answer"), blank=True)
    answered_on = models.DateField(_("answered on"), null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("answered by"),
    )
    evidence = models.ManyToManyField(EvidenceFile, blank=True, related_name="+", verbose_name=_("evidence"))
    delivered_on = models.DateField(_("accepted as delivered on"), null=True, blank=True)
    returned_reason = models.CharField(_("why the answer was returned"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("assigned by")
    )
    created_at = models.DateTimeField(_("assigned at"), auto_now_add=True)

    objects = DepartmentTaskQuerySet.as_manager()

    class Meta:
        verbose_name = _("department census task")
        verbose_name_plural = _("department census tasks")
        ordering = ["deadline", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status=DepartmentTaskStatus.OPEN) | Q(answered_on__isnull=False),
                name="department_task_answered_has_date",
            ),
            models.CheckConstraint(
                condition=~Q(status=DepartmentTaskStatus.DELIVERED) | Q(delivered_on__isnull=False),
                name="department_task_delivered_has_date",
            ),
        ]
        indexes = [models.Index(fields=["department", "status", "deadline"])]

    def __str__(self) -> str:
        return self.title

    @property
    def on_time(self) -> bool:
        """Delivered, and answered by the deadline."""
        return (
            self.status == DepartmentTaskStatus.DELIVERED
            and self.answered_on is not None
            and self.answered_on <= self.deadline
        )
