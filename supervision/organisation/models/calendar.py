"""The census calendar (S19, 距正式普查登记只有4个月): the phases with their planned dates. The defaults are the
reference's timeline (docs: /work/shared/domain/census-2020-reference.md §4); the district office moves any
phase on its calendar page, which stores only the phases it changed."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from census.models import District
from census.scoping import ScopedQuerySet


class Phase(models.TextChoices):
    ORGANISATION = "organisation", _("Organisation (机构组建, 四落实)")
    MAPPING = "mapping", _("Area division and mapping (区域划分与绘图)")
    STAFF = "staff", _("两员 selection and training (两员选聘与培训)")
    PUBLICITY = "publicity", _("Publicity month (宣传月)")
    LISTING = "listing", _("Pre-enumeration listing (摸底)")
    SELF_ENUMERATION = "self_enumeration", _("Self-enumeration (自主填报)")
    REGISTRATION = "registration", _("Short-form registration (短表登记)")
    LONG_FORM = "long_form", _("Long-form registration (长表登记)")
    ACCEPTANCE = "acceptance", _("Quality acceptance (质量验收)")
    MATCHING = "matching", _("Matching review (比对复查)")
    PES = "pes", _("Post-enumeration survey (事后质量抽查)")


D = datetime.date
# (planned start, planned end) per phase, from the reference's timeline (§4): organisation by March (townships) …
# 31 July (departments) per the speech; mapping by the end of August (国人普办字〔2020〕21号); 两员 from July;
# publicity month late September to October; 摸底 10-11 … 10-31; self-enumeration until 11-05; short forms
# 11-01 … 11-15; long forms 11-16 … 11-30; acceptance ~11-16 … 11-20 (Deyang); 比对复查 11-16 … 12-10; PES in
# December.
DEFAULT_PHASES: dict[str, tuple[datetime.date, datetime.date]] = {
    Phase.ORGANISATION: (D(2020, 1, 1), D(2020, 7, 31)),
    Phase.MAPPING: (D(2020, 6, 1), D(2020, 8, 31)),
    Phase.STAFF: (D(2020, 7, 1), D(2020, 10, 10)),
    Phase.PUBLICITY: (D(2020, 9, 20), D(2020, 10, 31)),
    Phase.LISTING: (D(2020, 10, 11), D(2020, 10, 31)),
    Phase.SELF_ENUMERATION: (D(2020, 10, 11), D(2020, 11, 5)),
    Phase.REGISTRATION: (D(2020, 11, 1), D(2020, 11, 15)),
    Phase.LONG_FORM: (D(2020, 11, 16), D(2020, 11, 30)),
    Phase.ACCEPTANCE: (D(2020, 11, 16), D(2020, 11, 20)),
    Phase.MATCHING: (D(2020, 11, 16), D(2020, 12, 10)),
    Phase.PES: (D(2020, 12, 11), D(2020, 12, 31)),
}


class CensusPhaseQuerySet(ScopedQuerySet["CensusPhase"]):
    scope_fields = {"district": "district_id"}


class CensusPhase(models.Model):
    """A district's own dates for one phase, where they differ from the default."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+", verbose_name=_("district"))
    phase = models.CharField(_("phase"), max_length=20, choices=Phase.choices)
    planned_start = models.DateField(_("planned start"))
    planned_end = models.DateField(_("planned end"))
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = CensusPhaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("census phase")
        verbose_name_plural = _("census phases")
        constraints = [
            models.UniqueConstraint(fields=["district", "phase"], name="census_phase_once_per_district"),
            models.CheckConstraint(
                condition=Q(planned_end__gte=F("planned_start")), name="census_phase_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_phase_display()}: {self.planned_start} – {self.planned_end}"
