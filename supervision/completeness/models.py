"""Visits to the listed dwelling units (住房单元) and their outcomes: 见人就登、见户就登.

Every visit an enumerator makes to a dwelling unit of the listing is a ``Visit``: when, how (in person or by
telephone, 电话补登) and what came of it. A unit's outcome is final when a form of a household in it is signed
(registered), or its latest visit found it vacant (空置房, with evidence: a neighbour's statement or the
utility's consumption record, kept as an evidence file) or not a dwelling at all. Nobody at home asks for a
callback (due a configured number of hours later) and, after the configured number of such visits, escalation to
the supervisor; a refusal (拒访) is escalated at once to the village or township with its reason and the steps
taken. A small area is complete when every listed dwelling unit has a final outcome.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from census.models import SmallArea
from census.scoping import ScopedQuerySet
from enumeration.models import DwellingUnit, Household


class Outcome(models.TextChoices):
    REGISTERED = "registered", _("Registered")
    NOBODY_HOME = "nobody_home", _("Nobody at home")
    REFUSED = "refused", _("Refused (拒访)")
    VACANT = "vacant", _("Vacant dwelling (空置房)")
    NOT_DWELLING = "not_dwelling", _("Not a dwelling")


FINAL_OUTCOMES = (Outcome.REGISTERED, Outcome.VACANT, Outcome.NOT_DWELLING)


class VisitMode(models.TextChoices):
    IN_PERSON = "in_person", _("In person")
    PHONE = "phone", _("By telephone (电话补登)")


class EscalatedTo(models.TextChoices):
    NONE = "", _("Not escalated")
    SUPERVISOR = "supervisor", _("The supervisor")
    VILLAGE = "village", _("The village committee")
    TOWNSHIP = "township", _("The township office")


class VacancyEvidence(models.TextChoices):
    NEIGHBOUR = "neighbour", _("A neighbour's statement")
    UTILITY = "utility", _("The utility's consumption record")
    OTHER = "other", _("Other evidence")


class VisitQuerySet(ScopedQuerySet["Visit"]):
    scope_fields = {
        "district": "small_area__township__district_id",
        "township": "small_area__township_id",
        "village": "small_area__village_id",
        "small_area": "small_area_id",
    }


class Visit(models.Model):
    dwelling_unit = models.ForeignKey(
        DwellingUnit, on_delete=models.PROTECT, related_name="visits", verbose_name=_("dwelling unit")
    )
    # The unit's small area, copied so that the area pages and the scoping read one table.
    small_area = models.ForeignKey(SmallArea, on_delete=models.PROTECT, related_name="+", verbose_name=_("small area"))
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("household")
    )
    visitor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("visited by")
    )
    at = models.DateTimeField(_("time of the visit"))
    mode = models.CharField(_("how"), max_length=10, choices=VisitMode.choices, default=VisitMode.IN_PERSON)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices)
    callback_due = models.DateTimeField(_("call back by"), null=True, blank=True)
    escalated_to = models.CharField(
        _("escalated to"), max_length=10, choices=EscalatedTo.choices, default=EscalatedTo.NONE, blank=True
    )
    refusal_reason = models.CharField(_("reason for refusing"), max_length=300, blank=True)
    steps_taken = models.TextField(_("steps taken"), blank=True)
    evidence_kind = models.CharField(
        _("evidence of vacancy"), max_length=10, choices=VacancyEvidence.choices, blank=True
    )
    evidence = models.ForeignKey(
        "organisation.EvidenceFile",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("evidence file"),
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    objects = VisitQuerySet.as_manager()

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["dwelling_unit_id", "at", "id"]
        indexes = [
            models.Index(fields=["small_area", "dwelling_unit", "at"], name="visit_area_unit_at"),
            models.Index(fields=["visitor", "callback_due"], name="visit_visitor_callback"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(outcome__in=Outcome.values), name="visit_outcome_valid"),
            models.CheckConstraint(
                condition=~Q(outcome=Outcome.REFUSED) | (~Q(refusal_reason="") & ~Q(escalated_to="")),
                name="visit_refusal_has_reason_and_escalation",
            ),
            models.CheckConstraint(
                condition=~Q(outcome=Outcome.VACANT) | (Q(evidence__isnull=False) & ~Q(evidence_kind="")),
                name="visit_vacant_has_evidence",
            ),
            models.CheckConstraint(
                condition=~Q(outcome=Outcome.NOBODY_HOME) | Q(callback_due__isnull=False),
                name="visit_nobody_home_has_callback",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dwelling_unit_id} {self.at:%Y-%m-%d %H:%M} {self.outcome}"


class RecheckDrawQuerySet(ScopedQuerySet["RecheckDraw"]):
    scope_fields = {"district": "district_id", "township": "township_id"}


class RecheckDraw(models.Model):
    """A sample re-check (质量抽查) drawn from a recorded seed: ``areas_per_township`` small areas of each township
    in scope, and in each a share of its households (higher for self-reported forms)."""

    district_id = models.CharField(_("district"), max_length=6)
    # Empty for a district-wide draw.
    township_id = models.CharField(_("township"), max_length=9, blank=True)
    seed = models.BigIntegerField(_("seed"))
    areas_per_township = models.PositiveSmallIntegerField(_("small areas per township"), default=1)
    household_rate = models.FloatField(_("share of households"), default=0.1)
    self_report_rate = models.FloatField(_("share of self-reported households"), default=0.2)
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("drawn by")
    )
    drawn_at = models.DateTimeField(_("drawn at"), auto_now_add=True)

    objects = RecheckDrawQuerySet.as_manager()

    class Meta:
        verbose_name = _("re-check draw")
        verbose_name_plural = _("re-check draws")
        ordering = ["-drawn_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    household_rate__gt=0, household_rate__lte=1, self_report_rate__gt=0, self_report_rate__lte=1
                ),
                name="recheck_rates_are_shares",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.township_id or self.district_id} seed {self.seed}"


class RecheckAreaQuerySet(ScopedQuerySet["RecheckArea"]):
    scope_fields = {
        "district": "small_area__township__district_id",
        "township": "small_area__township_id",
        "village": "small_area__village_id",
        "small_area": "small_area_id",
    }


class RecheckArea(models.Model):
    """A small area drawn for re-check, its checker (never one who enumerated it) and the households drawn."""

    draw = models.ForeignKey(RecheckDraw, on_delete=models.CASCADE, related_name="areas", verbose_name=_("draw"))
    small_area = models.ForeignKey(SmallArea, on_delete=models.PROTECT, related_name="+", verbose_name=_("small area"))
    checker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("checker")
    )
    household_ids = models.JSONField(_("households drawn"), default=list)

    objects = RecheckAreaQuerySet.as_manager()

    class Meta:
        verbose_name = _("re-checked small area")
        verbose_name_plural = _("re-checked small areas")
        ordering = ["draw_id", "small_area_id"]
        constraints = [models.UniqueConstraint(fields=["draw", "small_area"], name="recheck_area_once_per_draw")]

    def __str__(self) -> str:
        return f"{self.draw_id}: {self.small_area_id}"


class RecheckPerson(models.Model):
    """One person on the re-check's own, independent list of a drawn small area (the second capture)."""

    area = models.ForeignKey(RecheckArea, on_delete=models.CASCADE, related_name="persons", verbose_name=_("area"))
    small_area = models.ForeignKey(SmallArea, on_delete=models.PROTECT, related_name="+", verbose_name=_("small area"))
    household = models.ForeignKey(
        Household, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("household")
    )
    name = models.CharField(_("name"), max_length=50)
    sex = models.PositiveSmallIntegerField(_("sex"))
    birth_year = models.PositiveSmallIntegerField(_("year of birth"))
    birth_month = models.PositiveSmallIntegerField(_("month of birth"))
    id_number = models.CharField(_("ID number"), max_length=18, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("entered by")
    )
    created_at = models.DateTimeField(_("entered at"), auto_now_add=True)

    class Meta:
        verbose_name = _("re-checked person")
        verbose_name_plural = _("re-checked persons")
        ordering = ["area_id", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(sex__in=(1, 2)), name="recheck_person_sex"),
            models.CheckConstraint(condition=Q(birth_month__gte=1, birth_month__lte=12), name="recheck_person_month"),
        ]

    def __str__(self) -> str:
        return f"{self.small_area_id}: {self.pk}"
