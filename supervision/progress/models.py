"""Progress aggregates: what the dashboards read instead of a million person rows.

``SmallAreaProgress`` holds one row per 普查小区 with its household counts by state and its person counts;
``DailyProgress`` one row per small area and day with the households started and signed that day. Both are
derived data: ``services.progress_refresh`` recomputes them, set-based, from the households and persons —
for some small areas (after changes) or for all (nightly) — so a district page reads a few thousand rows
and a township page a few hundred, whatever the size of the district.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from census.models import SmallArea, Township, Village
from census.scoping import ScopedQuerySet

AREA_SCOPE_FIELDS = {
    "district": "township__district_id",
    "township": "township_id",
    "village": "village_id",
    "small_area": "small_area_id",
}


class SmallAreaProgressQuerySet(ScopedQuerySet["SmallAreaProgress"]):
    scope_fields = AREA_SCOPE_FIELDS
    # Counts only: a city office sees its districts' rows (census.scoping.ScopeKind.CITY).
    city_sees = True


class SmallAreaProgress(models.Model):
    """Registration progress of one small area, as of ``refreshed_at``."""

    small_area = models.OneToOneField(
        SmallArea, on_delete=models.CASCADE, primary_key=True, related_name="progress", verbose_name=_("small area")
    )
    township = models.ForeignKey(
        Township, on_delete=models.CASCADE, related_name="area_progress", verbose_name=_("township")
    )
    village = models.ForeignKey(
        Village, on_delete=models.CASCADE, related_name="area_progress", verbose_name=_("village")
    )
    # Every household of the small area's register (户主姓名底册), whatever its state.
    households = models.PositiveIntegerField(_("households listed"), default=0)
    hh_listed = models.PositiveIntegerField(_("only listed"), default=0)
    hh_draft = models.PositiveIntegerField(_("draft"), default=0)
    hh_signed = models.PositiveIntegerField(_("signed, awaiting review"), default=0)
    hh_returned = models.PositiveIntegerField(_("returned"), default=0)
    hh_approved = models.PositiveIntegerField(_("approved"), default=0)
    hh_accepted = models.PositiveIntegerField(_("accepted"), default=0)
    hh_locked = models.PositiveIntegerField(_("locked"), default=0)
    persons_expected = models.PositiveIntegerField(_("persons expected at listing"), default=0)
    persons_registered = models.PositiveIntegerField(_("persons on registered forms"), default=0)
    persons_accepted = models.PositiveIntegerField(_("persons on accepted forms"), default=0)
    # The populations of the accepted census forms (``summaries.population``: each person counted once).
    residents = models.PositiveIntegerField(_("resident population (常住人口)"), default=0)
    hukou_population = models.PositiveIntegerField(_("hukou population (户籍人口)"), default=0)
    separated = models.PositiveIntegerField(_("living away from the hukou township (人户分离)"), default=0)
    within_city = models.PositiveIntegerField(_("人户分离 within the city's districts"), default=0)
    floating = models.PositiveIntegerField(_("floating population (流动人口)"), default=0)
    away_long = models.PositiveIntegerField(_("hukou here, away half a year or more"), default=0)
    # 知晓率: households asked at listing whether census publicity reached them, and those it reached.
    aware_answered = models.PositiveIntegerField(_("households asked about census publicity"), default=0)
    aware = models.PositiveIntegerField(_("households reached by census publicity"), default=0)
    # The newest household change the row has seen; the incremental refresh starts just before the newest one.
    last_change_at = models.DateTimeField(_("last change seen"), null=True, blank=True)
    refreshed_at = models.DateTimeField(_("refreshed at"))

    objects = SmallAreaProgressQuerySet.as_manager()

    class Meta:
        verbose_name = _("small-area progress")
        verbose_name_plural = _("small-area progress")
        ordering = ["small_area_id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    households=models.F("hh_listed")
                    + models.F("hh_draft")
                    + models.F("hh_signed")
                    + models.F("hh_returned")
                    + models.F("hh_approved")
                    + models.F("hh_accepted")
                    + models.F("hh_locked")
                ),
                name="progress_states_add_up",
            ),
            models.CheckConstraint(
                condition=Q(aware__lte=models.F("aware_answered"), aware_answered__lte=models.F("households")),
                name="progress_awareness_within_households",
            ),
        ]
        indexes = [models.Index(fields=["township", "village"]), models.Index(fields=["last_change_at"])]

    def __str__(self) -> str:
        return f"{self.small_area_id}: {self.households - self.hh_listed}/{self.households}"


class DailyProgressQuerySet(ScopedQuerySet["DailyProgress"]):
    scope_fields = AREA_SCOPE_FIELDS


class DailyProgress(models.Model):
    """Households of one small area whose form was started, and whose current signature was made, on a day
    (China Standard Time). Only days with something to count have a row."""

    small_area = models.ForeignKey(
        SmallArea, on_delete=models.CASCADE, related_name="daily_progress", verbose_name=_("small area")
    )
    township = models.ForeignKey(Township, on_delete=models.CASCADE, related_name="+", verbose_name=_("township"))
    village = models.ForeignKey(Village, on_delete=models.CASCADE, related_name="+", verbose_name=_("village"))
    day = models.DateField(_("day"))
    started = models.PositiveIntegerField(_("forms started"), default=0)
    signed = models.PositiveIntegerField(_("forms signed"), default=0)

    objects = DailyProgressQuerySet.as_manager()

    class Meta:
        verbose_name = _("daily progress")
        verbose_name_plural = _("daily progress")
        ordering = ["small_area_id", "day"]
        constraints = [
            models.UniqueConstraint(fields=["small_area", "day"], name="daily_progress_unique_day"),
        ]
        indexes = [models.Index(fields=["township", "day"])]

    def __str__(self) -> str:
        return f"{self.small_area_id} {self.day}: +{self.started}/+{self.signed}"


class AgeSexProgressQuerySet(ScopedQuerySet["AgeSexProgress"]):
    scope_fields = AREA_SCOPE_FIELDS


class AgeSexCounts(models.Model):
    """Residents of one five-year age group (0 = 0–4 … 20 = 100 and over), by sex: a row of a pyramid."""

    age_group = models.PositiveSmallIntegerField(_("five-year age group"))
    male = models.PositiveIntegerField(_("male"), default=0)
    female = models.PositiveIntegerField(_("female"), default=0)

    class Meta:
        abstract = True


class AgeSexProgress(AgeSexCounts):
    """Resident population (常住人口, ``summaries.population``) of one small area's accepted census forms in one
    five-year age group (0 = 0–4 … 20 = 100 and over), by sex: the dashboards' population pyramid. Only groups
    with someone in them have a row."""

    small_area = models.ForeignKey(
        SmallArea, on_delete=models.CASCADE, related_name="age_progress", verbose_name=_("small area")
    )
    township = models.ForeignKey(Township, on_delete=models.CASCADE, related_name="+", verbose_name=_("township"))
    village = models.ForeignKey(Village, on_delete=models.CASCADE, related_name="+", verbose_name=_("village"))

    objects = AgeSexProgressQuerySet.as_manager()

    class Meta:
        verbose_name = _("residents by age group and sex")
        verbose_name_plural = _("residents by age group and sex")
        ordering = ["small_area_id", "age_group"]
        constraints = [
            models.UniqueConstraint(fields=["small_area", "age_group"], name="age_progress_unique_group"),
            models.CheckConstraint(condition=Q(age_group__lte=20), name="age_progress_group_range"),
        ]
        indexes = [models.Index(fields=["township", "age_group"])]

    def __str__(self) -> str:
        return f"{self.small_area_id} {self.age_group * 5}+: {self.male}/{self.female}"


class TownshipAgeSexProgressQuerySet(ScopedQuerySet["TownshipAgeSexProgress"]):
    scope_fields = {"district": "township__district_id", "township": "township_id"}


class TownshipAgeSexProgress(AgeSexCounts):
    """:class:`AgeSexProgress` summed per township, written with it by ``services.progress_refresh``: the
    district's pyramid reads 21 rows a township instead of 21 a small area (half a million rows at 6,000,000
    persons, 120 ms of the district dashboard)."""

    township = models.ForeignKey(Township, on_delete=models.CASCADE, related_name="+", verbose_name=_("township"))

    objects = TownshipAgeSexProgressQuerySet.as_manager()

    class Meta:
        verbose_name = _("residents of a township by age group and sex")
        verbose_name_plural = _("residents of the townships by age group and sex")
        ordering = ["township_id", "age_group"]
        constraints = [
            models.UniqueConstraint(fields=["township", "age_group"], name="township_age_progress_unique_group"),
            models.CheckConstraint(condition=Q(age_group__lte=20), name="township_age_progress_group_range"),
        ]

    def __str__(self) -> str:
        return f"{self.township_id} {self.age_group * 5}+: {self.male}/{self.female}"
