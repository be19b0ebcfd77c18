"""The census frame: District 区 → Township 乡镇/街道 → Village 村/居委会 (= 普查区) → SmallArea 普查小区 → Building.

District, township and village are keyed by their official codes (统计用区划代码), which makes the code
structure enforceable in the database: a village's code must start with its township's code, and so on
down the tree. Small areas and buildings are numerous, so they carry integer keys plus their codes.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Cast
from django.db.models.lookups import StartsWith
from django.utils.translation import gettext_lazy as _

from census.scoping import ScopedQuerySet


class TownshipKind(models.TextChoices):
    # Digits 7–9 of the 统计用区划代码 (GB/T 10114): 001–099 街道, 100–199 镇, 200–399 乡, 400–599 政企合一.
    STREET = "street", _("Sub-district (街道)")
    TOWN = "town", _("Town (镇)")
    XIANG = "xiang", _("Township (乡)")
    UNIT = "unit", _("Government-enterprise unit (政企合一单位)")


TOWNSHIP_CODE_RANGES: dict[str, tuple[int, int]] = {
    TownshipKind.STREET: (1, 99),
    TownshipKind.TOWN: (100, 199),
    TownshipKind.XIANG: (200, 399),
    TownshipKind.UNIT: (400, 599),
}

TOWNSHIP_CODE_PATTERNS: dict[str, str] = {
    TownshipKind.STREET: r"^[0-9]{6}0[0-9]{2}$",
    TownshipKind.TOWN: r"^[0-9]{6}1[0-9]{2}$",
    TownshipKind.XIANG: r"^[0-9]{6}[23][0-9]{2}$",
    TownshipKind.UNIT: r"^[0-9]{6}[45][0-9]{2}$",
}


class VillageKind(models.TextChoices):
    RESIDENTS = "residents", _("Residents' committee (居委会)")
    VILLAGERS = "villagers", _("Villagers' committee (村委会)")
    SIMILAR_RESIDENTS = "similar_residents", _("Similar to residents' committee (类似居委会)")
    SIMILAR_VILLAGERS = "similar_villagers", _("Similar to villagers' committee (类似村委会)")


class UrbanRuralCode(models.IntegerChoices):
    # 城乡分类代码 (《统计上划分城乡的规定》): 1xx counts as urban 城镇, 2xx as rural 乡村.
    MAIN_URBAN = 111, _("111 Main urban area (主城区)")
    URBAN_FRINGE = 112, _("112 Urban–rural fringe (城乡结合区)")
    TOWN_CENTRE = 121, _("121 Town centre (镇中心区)")
    TOWN_FRINGE = 122, _("122 Town–village fringe (镇乡结合区)")
    SPECIAL = 123, _("123 Special area (特殊区域)")
    XIANG_CENTRE = 210, _("210 Township centre (乡中心区)")
    VILLAGE = 220, _("220 Village (村庄)")


class City(models.Model):
    """地级市 (or a province's office over its counties): the office above several districts of one installation.

    Area codes nest, so a city's districts are those whose code starts with its 4 digits; the city office sees
    their dashboards and summaries, never their personal data (``ScopeKind.CITY``)."""

    code = models.CharField(_("code"), max_length=4, primary_key=True)
    name = models.CharField(_("name"), max_length=50)

    class Meta:
        verbose_name = _("city (市)")
        verbose_name_plural = _("cities")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(code__regex=r"^[1-9][0-9]{3}$"), name="city_code_4_digits"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def districts(self) -> models.QuerySet[District]:
        return District.objects.filter(code__startswith=self.code)


class District(models.Model):
    """区/县: the county-level unit that runs the census (GB/T 2260 code, 6 digits).

    One installation may run several (a city or a province office): what used to be settings of the installation
    — the code, the name, the former codes that ID numbers issued before a boundary change still carry — is kept
    here, per district. ``settings.CENSUS_DISTRICT_CODE`` only names the installation's default district (the
    one ``make demo`` seeds and the one events without a person are logged under)."""

    code = models.CharField(_("code"), max_length=6, primary_key=True)
    name = models.CharField(_("name"), max_length=50)
    # GB/T 2260 codes the district had before (叙州区 was 宜宾县 511521, earlier 512527): the address code of an
    # ID number issued then, which the ID-number and duplicate rules count as this district.
    previous_codes = ArrayField(
        models.CharField(max_length=6),
        verbose_name=_("former codes"),
        default=list,
        blank=True,
        help_text=_("Codes the district had before a boundary change, still found in older ID numbers."),
    )

    # Which key the district's signature ledger is sealed under (enumeration.ledger.district_key): 0, the
    # installation's SIGNATURE_LEDGER_KEY itself — what a district made before several could share an
    # installation signed with, so its signatures still verify —, 1, a key of its own derived from it.
    ledger_key_version = models.PositiveSmallIntegerField(
        _("ledger key version"), default=1, choices=[(0, _("the installation's key")), (1, _("a key of its own"))]
    )

    class Meta:
        verbose_name = _("district (区/县)")
        verbose_name_plural = _("districts")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(code__regex=r"^[1-9][0-9]{5}$"), name="district_code_6_digits"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def address_codes(self) -> list[str]:
        """The 6-digit address codes that mean this district: its own and its former ones."""
        return [self.code, *self.previous_codes]

    @property
    def office_name(self) -> str:
        """Who issues credentials and notices in the district's name."""
        return f"{self.name}第七次全国人口普查领导小组办公室"


def default_district_code() -> str:
    """The installation's default district: the one ``make demo`` seeds and the one an event without a person
    (a system task) is logged under."""
    return str(settings.CENSUS_DISTRICT_CODE)


# code → (name, ledger key version), read once per process for every district: every page shows the name and
# every signature needs the key, and the table has a handful of rows. Saving a district here updates it.
_districts: dict[str, tuple[str, int] | None] = {}


def _district_facts(code: str) -> tuple[str, int] | None:
    if code not in _districts:
        _districts.update(
            (row[0], (row[1], row[2])) for row in District.objects.values_list("code", "name", "ledger_key_version")
        )
        _districts.setdefault(code, None)
    return _districts[code]


def district_name(code: str | None) -> str:
    """A district's name by its code; without a code, or for a code no district has, the installation's name
    from the settings."""
    facts = _district_facts(code) if code else None
    return facts[0] if facts else str(settings.CENSUS_DISTRICT_NAME)


def district_key_version(code: str) -> int:
    """Which ledger key the district signs with (``District.ledger_key_version``); a district not stored yet has
    a key of its own."""
    facts = _district_facts(code)
    return facts[1] if facts else 1


def _district_saved(instance: District, **kwargs: object) -> None:
    # What was saved is what is read next (no query: a page's query count does not depend on a district having
    # just been saved in this process).
    _districts[instance.code] = (instance.name, instance.ledger_key_version)


def _district_deleted(instance: District, **kwargs: object) -> None:
    _districts.pop(instance.code, None)


models.signals.post_save.connect(_district_saved, sender=District, dispatch_uid="districts-saved")
models.signals.post_delete.connect(_district_deleted, sender=District, dispatch_uid="districts-deleted")


def district_of(staff: object) -> District:
    """The district a person works for: their own, or for someone without one (a superuser, a system task) the
    installation's default district — an unsaved row with the settings' name when none is stored yet."""
    own = getattr(staff, "district", None)
    if isinstance(own, District):
        return own
    code = default_district_code()
    return District.objects.filter(code=code).first() or District(code=code, name=settings.CENSUS_DISTRICT_NAME)


class TownshipQuerySet(ScopedQuerySet["Township"]):
    scope_fields = {"district": "district_id", "township": "code"}
    city_sees = True


class Township(models.Model):
    """乡镇/街道: 9-digit code = district code + 3 digits whose range says street, town or xiang."""

    code = models.CharField(_("code"), max_length=9, primary_key=True)
    district = models.ForeignKey(
        District, on_delete=models.PROTECT, related_name="townships", verbose_name=_("district")
    )
    name = models.CharField(_("name"), max_length=50)
    kind = models.CharField(_("kind"), max_length=10, choices=TownshipKind.choices)

    objects = TownshipQuerySet.as_manager()

    class Meta:
        verbose_name = _("township (乡镇/街道)")
        verbose_name_plural = _("townships")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(code__startswith=F("district_id")), name="township_code_in_district"),
            models.CheckConstraint(
                condition=(
                    Q(kind=TownshipKind.STREET, code__regex=TOWNSHIP_CODE_PATTERNS[TownshipKind.STREET])
                    & ~Q(code__endswith="000")
                )
                | Q(kind=TownshipKind.TOWN, code__regex=TOWNSHIP_CODE_PATTERNS[TownshipKind.TOWN])
                | Q(kind=TownshipKind.XIANG, code__regex=TOWNSHIP_CODE_PATTERNS[TownshipKind.XIANG])
                | Q(kind=TownshipKind.UNIT, code__regex=TOWNSHIP_CODE_PATTERNS[TownshipKind.UNIT]),
                name="township_code_range_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def local_code(self) -> str:
        return self.code[6:]

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if not (len(self.code) == 9 and self.code.isdigit()):
            errors["code"] = str(_("A township code has 9 digits (6-digit district code + 3 digits)."))
        elif self.district_id and not self.code.startswith(self.district_id):
            errors["code"] = str(
                _("The township code must start with its district's code %(code)s.") % {"code": self.district_id}
            )
        elif self.kind in TOWNSHIP_CODE_RANGES:
            low, high = TOWNSHIP_CODE_RANGES[self.kind]
            if not low <= int(self.code[6:]) <= high:
                errors["kind"] = str(
                    _("Digits 7–9 of a %(kind)s code must lie in %(low)03d–%(high)03d.")
                    % {"kind": self.get_kind_display(), "low": low, "high": high}
                )
        if errors:
            raise ValidationError(errors)


class VillageQuerySet(ScopedQuerySet["Village"]):
    scope_fields = {"district": "township__district_id", "township": "township_id", "village": "code"}


class Village(models.Model):
    """村/居委会 = 普查区: 12-digit 统计用区划代码 plus its 城乡分类代码."""

    code = models.CharField(_("code"), max_length=12, primary_key=True)
    township = models.ForeignKey(
        Township, on_delete=models.PROTECT, related_name="villages", verbose_name=_("township")
    )
    name = models.CharField(_("name"), max_length=50)
    kind = models.CharField(_("kind"), max_length=20, choices=VillageKind.choices)
    urban_rural_code = models.PositiveSmallIntegerField(
        _("urban–rural code (城乡分类代码)"), choices=UrbanRuralCode.choices
    )

    objects = VillageQuerySet.as_manager()

    class Meta:
        verbose_name = _("village / enumeration area (普查区)")
        verbose_name_plural = _("villages / enumeration areas")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=r"^[0-9]{12}$") & ~Q(code__endswith="000"), name="village_code_12_digits"
            ),
            models.CheckConstraint(condition=Q(code__startswith=F("township_id")), name="village_code_in_township"),
            models.CheckConstraint(
                condition=Q(urban_rural_code__in=UrbanRuralCode.values), name="village_urban_rural_code_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def is_urban(self) -> bool:
        return self.urban_rural_code < 200

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if not (len(self.code) == 12 and self.code.isdigit()):
            errors["code"] = str(_("A village code has 12 digits (9-digit township code + 3 digits)."))
        elif self.township_id and not self.code.startswith(self.township_id):
            errors["code"] = str(
                _("The village code must start with its township's code %(code)s.") % {"code": self.township_id}
            )
        elif self.code.endswith("000"):
            errors["code"] = str(_("Digits 10–12 of a village code cannot be 000."))
        elif self.kind:
            ranges = settings.CENSUS_VILLAGE_CODE_RANGES.get(self.kind, [])
            local = int(self.code[9:])
            if ranges and not any(low <= local <= high for low, high in ranges):
                errors["kind"] = str(
                    _("Digits 10–12 (%(local)03d) do not fit a %(kind)s; allowed: %(ranges)s.")
                    % {
                        "local": local,
                        "kind": self.get_kind_display(),
                        "ranges": ", ".join(f"{low:03d}–{high:03d}" for low, high in ranges),
                    }
                )
        if errors:
            raise ValidationError(errors)


class SmallAreaQuerySet(ScopedQuerySet["SmallArea"]):
    scope_fields = {
        "district": "village__township__district_id",
        "township": "village__township_id",
        "village": "village_id",
        "small_area": "id",
    }


class SmallArea(models.Model):
    """普查小区: the part of a 普查区 one enumerator covers; 15-digit code = village code + 3 digits.

    Numbers 900 and above are virtual small areas (虚拟普查小区) for demolished areas whose residents keep
    their hukou there.
    """

    code = models.CharField(_("code"), max_length=15, unique=True)
    village = models.ForeignKey(
        Village, on_delete=models.PROTECT, related_name="small_areas", verbose_name=_("village")
    )
    name = models.CharField(_("name"), max_length=100, blank=True)
    # Kept with the area so that its own township and district are one column away on large tables.
    township = models.ForeignKey(Township, on_delete=models.PROTECT, related_name="+", verbose_name=_("township"))

    objects = SmallAreaQuerySet.as_manager()

    class Meta:
        verbose_name = _("small area (普查小区)")
        verbose_name_plural = _("small areas")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(code__regex=r"^[0-9]{15}$") & ~Q(code__endswith="000"), name="small_area_code_15_digits"
            ),
            models.CheckConstraint(condition=Q(code__startswith=F("village_id")), name="small_area_code_in_village"),
            models.CheckConstraint(
                condition=StartsWith(Cast("village_id", models.CharField()), F("township_id")),
                name="small_area_township_matches",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}".strip()

    @property
    def local_code(self) -> str:
        return self.code[12:]

    @property
    def is_virtual(self) -> bool:
        return int(self.code[12:]) >= 900

    def clean(self) -> None:
        if not (len(self.code) == 15 and self.code.isdigit()):
            raise ValidationError({"code": _("A small-area code has 15 digits (12-digit village code + 3 digits).")})
        if self.village_id and not self.code.startswith(self.village_id):
            raise ValidationError(
                {
                    "code": _("The small-area code must start with its village's code %(code)s.")
                    % {"code": self.village_id}
                }
            )
        if self.code.endswith("000"):
            raise ValidationError({"code": _("Digits 13–15 of a small-area code cannot be 000.")})


class BuildingQuerySet(ScopedQuerySet["Building"]):
    scope_fields = {
        "district": "small_area__village__township__district_id",
        "township": "small_area__township_id",
        "village": "small_area__village_id",
        "small_area": "small_area_id",
    }


class Building(models.Model):
    """建筑物 marked on the small-area map. The national format of 建筑物编号 is unverified, so it is a
    short string unique within the small area."""

    small_area = models.ForeignKey(
        SmallArea, on_delete=models.PROTECT, related_name="buildings", verbose_name=_("small area")
    )
    number = models.CharField(_("building number (建筑物编号)"), max_length=10)
    address = models.CharField(_("address"), max_length=200, blank=True)
    is_residential = models.BooleanField(_("residential"), default=True)

    objects = BuildingQuerySet.as_manager()

    class Meta:
        verbose_name = _("building (建筑物)")
        verbose_name_plural = _("buildings")
        ordering = ["small_area_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["small_area", "number"], name="building_number_unique_in_small_area"),
            models.CheckConstraint(condition=Q(number__regex=r"^[0-9A-Za-z-]{1,10}$"), name="building_number_format"),
        ]

    def __str__(self) -> str:
        return f"{self.small_area.code}-{self.number}"
