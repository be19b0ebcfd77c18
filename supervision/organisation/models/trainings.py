"""Training, study and self-inspection records of the district departments (R2, R3, R6).

Business training once a quarter per department (经科局 industry, trade and services; 发改局 investment
projects; 住建局 construction and real estate — settings.ORGANISATION_TRAINING_DEPARTMENTS); study sessions on
the statistics law and the anti-falsification documents (中心组学习会, 党组会, 党委会 …); self-inspection
(自查自纠) of the department's own documents.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from census.models import Department
from census.scoping import ScopedQuerySet
from supervision.organisation.models.evidence import EvidenceFile

DEPARTMENT_SCOPE = {"district": "department__district_id", "department": "department_id"}


class TrainingSubject(models.TextChoices):
    INDUSTRY_TRADE_SERVICES = "industry_trade_services", _("Industry, trade and services statistics")
    INVESTMENT = "investment", _("Investment project statistics")
    CONSTRUCTION_REAL_ESTATE = "construction_real_estate", _("Construction and real-estate statistics")
    CENSUS = "census", _("Population census")
    STATISTICS_LAW = "statistics_law", _("Statistics law and data quality")


class StudyForm(models.TextChoices):
    CENTRAL_GROUP = "central_group", _("Central group study session (中心组学习会)")
    PARTY_GROUP = "party_group", _("Party leadership group meeting (党组会)")
    PARTY_COMMITTEE = "party_committee", _("Party committee meeting (党委会)")
    DIRECTOR_OFFICE = "director_office", _("Director's office meeting (局长办公会)")
    BUREAU_AFFAIRS = "bureau_affairs", _("Bureau affairs meeting (局务会)")
    ALL_STAFF = "all_staff", _("All-staff meeting (干部职工大会)")
    LECTURE = "lecture", _("Special lecture (专题讲座)")
    OTHER = "other", _("Other")


class TrainingQuerySet(ScopedQuerySet["Training"]):
    scope_fields = DEPARTMENT_SCOPE


class Training(models.Model):
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+", verbose_name=_("department"))
    held_on = models.DateField(_("held on"))
    subject = models.CharField(_("subject"), max_length=30, choices=TrainingSubject.choices)
    topic = models.CharField(_("topic"), max_length=200)
    trainer = models.CharField(_("trainer"), max_length=100, blank=True)
    trainees = models.PositiveIntegerField(_("trainees"))
    audience = models.CharField(_("who was trained (e.g. 规上企业统计人员)"), max_length=200, blank=True)
    evidence = models.ForeignKey(
        EvidenceFile,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("attendance sheet or notice"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    objects = TrainingQuerySet.as_manager()

    class Meta:
        verbose_name = _("training")
        verbose_name_plural = _("trainings")
        ordering = ["-held_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(trainees__gt=0), name="training_has_trainees"),
            models.CheckConstraint(condition=~Q(topic=""), name="training_has_topic"),
        ]
        indexes = [models.Index(fields=["department", "held_on"])]

    def __str__(self) -> str:
        return f"{self.department} {self.held_on} {self.topic}"

    @property
    def quarter(self) -> int:
        return (self.held_on.month - 1) // 3 + 1


class StudySessionQuerySet(ScopedQuerySet["StudySession"]):
    scope_fields = DEPARTMENT_SCOPE


class StudySession(models.Model):
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+", verbose_name=_("department"))
    held_on = models.DateField(_("held on"))
    form = models.CharField(_("form"), max_length=20, choices=StudyForm.choices)
    topic = models.CharField(_("documents studied / topic"), max_length=300)
    chaired_by = models.CharField(_("chaired by"), max_length=100, blank=True)
    attendance = models.PositiveIntegerField(_("attended"))
    expected = models.PositiveIntegerField(_("expected"))
    evidence = models.ForeignKey(
        EvidenceFile,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("minutes or sign-in sheet"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    objects = StudySessionQuerySet.as_manager()

    class Meta:
        verbose_name = _("study session")
        verbose_name_plural = _("study sessions")
        ordering = ["-held_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(attendance__gt=0, attendance__lte=F("expected")), name="study_attendance_within_expected"
            ),
            models.CheckConstraint(condition=~Q(topic=""), name="study_has_topic"),
        ]

    def __str__(self) -> str:
        return f"{self.department} {self.held_on} {self.get_form_display()}"

    @property
    def attendance_rate(self) -> float:
        return self.attendance / self.expected if self.expected else 0.0


class SelfInspectionQuerySet(ScopedQuerySet["SelfInspection"]):
    scope_fields = DEPARTMENT_SCOPE


class SelfInspection(models.Model):
    """自查自纠: documents reviewed, problems found, problems corrected."""

    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+", verbose_name=_("department"))
    carried_out_on = models.DateField(_("carried out on"))
    documents_reviewed = models.PositiveIntegerField(_("documents reviewed"))
    problems_found = models.PositiveIntegerField(_("problems found"))
    problems_corrected = models.PositiveIntegerField(_("problems corrected"))
    findings = models.TextField(_("what was found and how it was corrected"))
    evidence = models.ForeignKey(
        EvidenceFile, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("report")
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    objects = SelfInspectionQuerySet.as_manager()

    class Meta:
        verbose_name = _("self-inspection (自查自纠)")
        verbose_name_plural = _("self-inspections")
        ordering = ["-carried_out_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(problems_corrected__lte=F("problems_found")), name="self_inspection_corrected_within_found"
            ),
            models.CheckConstraint(
                condition=Q(problems_found__lte=F("documents_reviewed")) | Q(documents_reviewed=0),
                name="self_inspection_found_within_reviewed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.department} {self.carried_out_on}"
