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

from typing import Any, Self

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.db.models.lookups import GreaterThanOrEqual
from django.utils.translation import gettext_lazy as _

from census.models import SmallArea, Township
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

    def visible_to(self, user: Any) -> Self:
        """A township's own draws and its district's district-wide draws (which drew in every township)."""
        from census.models import Role

        own = super().visible_to(user)
        if getattr(user, "role", "") == Role.TOWNSHIP_OFFICE and getattr(user, "township_id", None):
            return own | self.filter(township_id="", district_id=str(user.township_id)[:6])
        return own


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
    # The hook for a rate per collection mode (``CollectionMode`` value → share), e.g. a higher one for forms the
    # household filled in itself (自主填报) once self-enumeration exists; a mode not named here falls back to
    # ``self_report_rate`` (self-reported) or ``household_rate`` (the others). See ``recheck.household_draw_rate``.
    mode_rates = models.JSONField(_("share of households per collection mode"), default=dict, blank=True)
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

    def visible_to(self, user: Any) -> Self:
        """The re-checks of the user's area — except for an enumerator, who never sees the re-check of their own
        work (谁普查、谁负责) — and the areas the user re-checks as their checker."""
        from census.models import Role

        if not getattr(user, "is_authenticated", False):
            return self.none()
        own = self.none() if getattr(user, "role", "") == Role.ENUMERATOR else super().visible_to(user)
        return own | self.filter(checker_id=user.pk)


class RecheckArea(models.Model):
    """A small area drawn for re-check, its checker (never one who enumerated it) and the households drawn."""

    draw = models.ForeignKey(RecheckDraw, on_delete=models.CASCADE, related_name="areas", verbose_name=_("draw"))
    small_area = models.ForeignKey(SmallArea, on_delete=models.PROTECT, related_name="+", verbose_name=_("small area"))
    checker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", verbose_name=_("checker")
    )
    household_ids = models.JSONField(_("households drawn"), default=list)
    # The re-check's result (差错率), as of ``scored_at``: kept by ``recheck_area_score`` each time a household's
    # re-check is finished and by the coverage refresh (the forms may change after). The acceptance gate does not
    # read these: it scores the area afresh at the moment of the action.
    households_checked = models.PositiveIntegerField(_("households re-checked"), default=0)
    persons_checked = models.PositiveIntegerField(_("persons re-checked"), default=0)
    persons_in_error = models.PositiveIntegerField(_("persons missed or counted in error"), default=0)
    items_checked = models.PositiveIntegerField(_("items compared"), default=0)
    items_in_error = models.PositiveIntegerField(_("items in error"), default=0)
    births_in_error = models.PositiveIntegerField(_("births missed or counted in error"), default=0)
    scored_at = models.DateTimeField(_("scored at"), null=True, blank=True)

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
    # The re-check interview's other key items (D2, D7, D8 of the short form), compared item by item with the
    # enumerated form; empty when the re-check only lists the person (the coverage list).
    relationship = models.PositiveSmallIntegerField(_("relationship to the head"), null=True, blank=True)
    residence = models.PositiveSmallIntegerField(_("residence at the reference moment"), null=True, blank=True)
    hukou_place = models.PositiveSmallIntegerField(_("place of hukou registration"), null=True, blank=True)
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


class RecheckHousehold(models.Model):
    """A drawn household whose re-check interview (复查) the checker has finished: its persons are the
    ``RecheckPerson`` rows of that household. Only finished households count in the error rate."""

    area = models.ForeignKey(
        RecheckArea, on_delete=models.CASCADE, related_name="households_done", verbose_name=_("area")
    )
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="+", verbose_name=_("household"))
    checker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("checker")
    )
    finished_at = models.DateTimeField(_("finished at"), auto_now=True)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("re-checked household")
        verbose_name_plural = _("re-checked households")
        ordering = ["area_id", "household_id"]
        constraints = [models.UniqueConstraint(fields=["area", "household"], name="recheck_household_once")]

    def __str__(self) -> str:
        return f"{self.area_id}: {self.household_id}"


class AreaFiguresQuerySet(ScopedQuerySet["AreaFigures"]):
    scope_fields = {
        "district": "township__district_id",
        "township": "township_id",
        "village": "small_area__village_id",
        "small_area": "small_area_id",
    }


class AreaFigures(models.Model):
    """One small area's dwelling units by outcome, as of ``refreshed_at`` (the offices' completeness page reads
    these; ``completeness_refresh`` writes them, on commit after a visit or a saved form and every few minutes)."""

    small_area = models.OneToOneField(
        SmallArea, on_delete=models.CASCADE, primary_key=True, related_name="+", verbose_name=_("small area")
    )
    township = models.ForeignKey(Township, on_delete=models.CASCADE, related_name="+", verbose_name=_("township"))
    units = models.PositiveIntegerField(_("dwelling units listed"), default=0)
    final = models.PositiveIntegerField(_("with a final outcome"), default=0)
    no_outcome = models.PositiveIntegerField(_("without an outcome"), default=0)
    callbacks = models.PositiveIntegerField(_("open callbacks"), default=0)
    refusals = models.PositiveIntegerField(_("open refusals"), default=0)
    escalated = models.PositiveIntegerField(_("escalated"), default=0)
    oldest_open = models.DateTimeField(_("oldest open since"), null=True, blank=True)
    refreshed_at = models.DateTimeField(_("figures as of"))

    objects = AreaFiguresQuerySet.as_manager()

    class Meta:
        verbose_name = _("completeness figures")
        verbose_name_plural = _("completeness figures")
        indexes = [models.Index(fields=["township"], name="completeness_fig_township")]

    def __str__(self) -> str:
        return f"{self.small_area_id}: {self.final}/{self.units}"


class CoverageFigures(models.Model):
    """The dual-system estimate of one township of a draw ("" for the whole), as of ``computed_at`` (written by
    ``coverage_refresh``: on commit after the re-check changes and every few minutes, as the forms change)."""

    draw = models.ForeignKey(RecheckDraw, on_delete=models.CASCADE, related_name="figures", verbose_name=_("draw"))
    township_id = models.CharField(_("township"), max_length=9, blank=True)
    estimate = models.JSONField(_("estimate"))
    computed_at = models.DateTimeField(_("figures as of"))

    class Meta:
        verbose_name = _("coverage figures")
        verbose_name_plural = _("coverage figures")
        ordering = ["draw_id", "township_id"]
        constraints = [models.UniqueConstraint(fields=["draw", "township_id"], name="coverage_figures_once")]

    def __str__(self) -> str:
        return f"{self.draw_id}: {self.township_id or '*'}"


class RecheckOverrideQuerySet(ScopedQuerySet["RecheckOverride"]):
    scope_fields = {
        "district": "area__small_area__township__district_id",
        "township": "area__small_area__township_id",
        "village": "area__small_area__village_id",
        "small_area": "area__small_area_id",
    }


class RecheckOverride(models.Model):
    """The district office lets the forms of a re-checked small area be accepted although its re-check does not
    pass (not finished, or its error rate over the threshold): a written reason signed with its password, like the
    override of a form's checks. It covers the re-check's result at that moment (``key``); a worse result later
    blocks again. Never edited or deleted; listed on the summary tables and the re-check pages."""

    area = models.ForeignKey(RecheckArea, on_delete=models.PROTECT, related_name="overrides", verbose_name=_("area"))
    key = models.CharField(_("result overridden"), max_length=100)
    text = models.CharField(_("what was overridden"), max_length=500)
    reason = models.TextField(_("reason"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("overridden by")
    )
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    objects = RecheckOverrideQuerySet.as_manager()

    class Meta:
        verbose_name = _("re-check override")
        verbose_name_plural = _("re-check overrides")
        ordering = ["area_id", "created_at"]
        constraints = [
            models.CheckConstraint(
                condition=GreaterThanOrEqual(Length("reason"), 10), name="recheck_override_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.area_id}: {self.reason[:40]}"


class ClericalDecision(models.Model):
    """A person's decision on a doubtful pair of the coverage matching (the clerical-review queue): the re-check's
    person is the census person ``census_person_id`` of the candidates, or (``None``) none of them."""

    recheck_person = models.OneToOneField(
        RecheckPerson, on_delete=models.CASCADE, related_name="decision", verbose_name=_("re-checked person")
    )
    census_person_id = models.BigIntegerField(_("census person"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("decided by")
    )
    decided_at = models.DateTimeField(_("decided at"), auto_now=True)

    class Meta:
        verbose_name = _("clerical decision")
        verbose_name_plural = _("clerical decisions")
        ordering = ["recheck_person_id"]

    def __str__(self) -> str:
        return f"{self.recheck_person_id} → {self.census_person_id}"
