"""在库企业和项目: the enterprises and investment projects in the district's statistical directory.

Each unit is keyed by its 18-character unified social credit code (统一社会信用代码, GB 32100-2015), checked
with python-stdnum. A unit is reviewed against the criteria for its kind; one that fails is removed (退库)
with the reason and a supporting document. 有资料再报数据: every figure reported for a unit names the
document it comes from — the database will not store a figure without one.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from stdnum.cn import uscc
from stdnum.exceptions import InvalidChecksum, InvalidLength
from stdnum.exceptions import ValidationError as StdnumError

from census.models import Department, District, Township
from census.scoping import ScopedQuerySet
from supervision.organisation.models.evidence import EvidenceFile

# Digits 1–8 are digits; 9–18 use the 31 characters of GB 32100 (no I, O, Z, S, V). The check character is
# verified by ``credit_code_validate``; the database holds the shape.
CREDIT_CODE_REGEX = r"^[0-9]{8}[0-9A-HJ-NPQRTUWXY]{10}$"


def credit_code_validate(value: str) -> None:
    """Model-field validator: a valid 统一社会信用代码, check character included."""
    try:
        uscc.validate(value)
    except InvalidLength:
        raise ValidationError(
            _("A unified social credit code has 18 characters; “%(code)s” has %(n)d."),
            params={"code": value, "n": len(value)},
            code="credit_code_length",
        )
    except InvalidChecksum:
        raise ValidationError(
            _("“%(code)s” is not a valid unified social credit code: the check character (the last) is wrong."),
            params={"code": value},
            code="credit_code_checksum",
        )
    except StdnumError:
        raise ValidationError(
            _(
                "“%(code)s” is not a valid unified social credit code: digits 1–8 are digits, the rest digits or "
                "capital letters other than I, O, Z, S, V."
            ),
            params={"code": value},
            code="credit_code_format",
        )


class DirectoryKind(models.TextChoices):
    INDUSTRY = "industry", _("Industry above designated size (规上工业)")
    TRADE = "trade", _("Wholesale, retail, hotels and catering above quota (限上批零住餐)")
    SERVICES = "services", _("Services above designated size (规上服务业)")
    CONSTRUCTION = "construction", _("Construction with qualification (资质内建筑业)")
    REAL_ESTATE = "real_estate", _("Real-estate development (房地产开发经营)")
    INVESTMENT_PROJECT = "investment_project", _("Investment project of 5 million yuan or more (固定资产投资项目)")


class UnitStatus(models.TextChoices):
    IN_DIRECTORY = "in_directory", _("In the directory (在库)")
    TO_REMOVE = "to_remove", _("Failed the review, to be removed")
    REMOVED = "removed", _("Removed (退库)")


class RemovalReason(models.TextChoices):
    BELOW_THRESHOLD = "below_threshold", _("Below the size threshold (达不到规模标准)")
    CLOSED = "closed", _("Closed, deregistered or not operating (注销、吊销或停业)")
    MOVED_OUT = "moved_out", _("Moved out of the district (迁出本区)")
    DUPLICATE = "duplicate", _("Entered twice (重复入库)")
    NOT_STARTED = "not_started", _("Project not started or finished (项目未开工或已完工)")
    NO_DOCUMENTS = "no_documents", _("No supporting documents (无佐证资料)")
    OTHER = "other", _("Other")


class DirectoryUnitQuerySet(ScopedQuerySet["DirectoryUnit"]):
    scope_fields = {"district": "district_id", "township": "township_id", "department": "department_id"}

    def in_directory(self) -> DirectoryUnitQuerySet:
        return self.exclude(status=UnitStatus.REMOVED)

    def removed(self) -> DirectoryUnitQuerySet:
        return self.filter(status=UnitStatus.REMOVED)


class DirectoryUnit(models.Model):
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+", verbose_name=_("district"))
    credit_code = models.CharField(
        _("unified social credit code (统一社会信用代码)"), max_length=18, validators=[credit_code_validate]
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=DirectoryKind.choices)
    # Which department answers for it: 经科局 industry, trade and services; 发改局 investment projects;
    # 住建局 construction and real estate (settings.ORGANISATION_DIRECTORY_DEPARTMENTS).
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="+", verbose_name=_("responsible department")
    )
    township = models.ForeignKey(
        Township, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("township")
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    status = models.CharField(_("status"), max_length=15, choices=UnitStatus.choices, default=UnitStatus.IN_DIRECTORY)
    last_reviewed_on = models.DateField(_("last reviewed on"), null=True, blank=True)
    removed_on = models.DateField(_("removed on"), null=True, blank=True)
    removal_reason = models.CharField(_("reason for removal"), max_length=20, choices=RemovalReason.choices, blank=True)
    removal_note = models.TextField(_("removal: details"), blank=True)
    removal_evidence = models.ForeignKey(
        EvidenceFile,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("removal: supporting document"),
    )
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("removed by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = DirectoryUnitQuerySet.as_manager()

    class Meta:
        verbose_name = _("directory unit (在库单位)")
        verbose_name_plural = _("directory units")
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["district", "credit_code"], name="directory_credit_code_unique"),
            models.CheckConstraint(
                condition=Q(credit_code__regex=CREDIT_CODE_REGEX), name="directory_credit_code_shape"
            ),
            models.CheckConstraint(
                condition=~Q(status=UnitStatus.REMOVED)
                | (
                    Q(removed_on__isnull=False, removal_evidence__isnull=False, removed_by__isnull=False)
                    & ~Q(removal_reason="")
                ),
                name="directory_removed_has_reason_and_evidence",
            ),
            models.CheckConstraint(
                condition=Q(status=UnitStatus.REMOVED) | Q(removed_on__isnull=True),
                name="directory_removal_date_only_when_removed",
            ),
        ]
        indexes = [models.Index(fields=["district", "department", "status"])]

    def __str__(self) -> str:
        return f"{self.credit_code} {self.name}"

    def clean(self) -> None:
        if self.credit_code:
            self.credit_code = uscc.compact(self.credit_code)


class DirectoryReviewQuerySet(ScopedQuerySet["DirectoryReview"]):
    scope_fields = {
        "district": "unit__district_id",
        "township": "unit__township_id",
        "department": "unit__department_id",
    }


class DirectoryReview(models.Model):
    """A review of a unit against the criteria of its kind (``criteria.CRITERIA``)."""

    unit = models.ForeignKey(DirectoryUnit, on_delete=models.CASCADE, related_name="reviews", verbose_name=_("unit"))
    reviewed_on = models.DateField(_("reviewed on"))
    # {"criterion code": true/false} for every criterion of the unit's kind.
    results = models.JSONField(_("criteria met"))
    meets_criteria = models.BooleanField(_("meets the criteria"))
    note = models.TextField(_("note"), blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("reviewed by")
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    objects = DirectoryReviewQuerySet.as_manager()

    class Meta:
        verbose_name = _("directory review")
        verbose_name_plural = _("directory reviews")
        ordering = ["unit_id", "-reviewed_on", "-id"]

    def __str__(self) -> str:
        return f"{self.unit.credit_code} {self.reviewed_on}"


class FigureIndicator(models.TextChoices):
    OPERATING_REVENUE = "operating_revenue", _("Operating revenue, 10,000 yuan (营业收入)")
    INDUSTRIAL_OUTPUT = "industrial_output", _("Gross industrial output, 10,000 yuan (工业总产值)")
    SALES = "sales", _("Sales of goods, 10,000 yuan (商品销售额)")
    INVESTMENT_COMPLETED = "investment_completed", _("Investment completed, 10,000 yuan (完成投资额)")
    CONSTRUCTION_OUTPUT = "construction_output", _("Gross construction output, 10,000 yuan (建筑业总产值)")
    FLOOR_SPACE_SOLD = "floor_space_sold", _("Floor space sold, m² (商品房销售面积)")
    EMPLOYEES = "employees", _("Employees at the end of the period (从业人员期末人数)")


class DirectoryFigureQuerySet(ScopedQuerySet["DirectoryFigure"]):
    scope_fields = DirectoryReviewQuerySet.scope_fields


class DirectoryFigure(models.Model):
    """A figure reported for a unit, with the document it comes from (有资料再报数据)."""

    unit = models.ForeignKey(DirectoryUnit, on_delete=models.CASCADE, related_name="figures", verbose_name=_("unit"))
    period = models.DateField(_("period (month)"))
    indicator = models.CharField(_("indicator"), max_length=25, choices=FigureIndicator.choices)
    value = models.DecimalField(_("value"), max_digits=16, decimal_places=2)
    source_document = models.ForeignKey(
        EvidenceFile, on_delete=models.PROTECT, related_name="+", verbose_name=_("source document")
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("reported by")
    )
    reported_at = models.DateTimeField(_("reported at"), auto_now=True)

    objects = DirectoryFigureQuerySet.as_manager()

    class Meta:
        verbose_name = _("reported figure")
        verbose_name_plural = _("reported figures")
        ordering = ["unit_id", "-period", "indicator"]
        constraints = [
            models.UniqueConstraint(fields=["unit", "period", "indicator"], name="directory_figure_unique"),
            models.CheckConstraint(condition=Q(value__gte=0), name="directory_figure_not_negative"),
            models.CheckConstraint(condition=Q(period__day=1), name="directory_figure_period_is_a_month"),
        ]

    def __str__(self) -> str:
        return f"{self.unit.credit_code} {self.period:%Y-%m} {self.indicator}={self.value}"
