"""django-import-export resources for the area frame, keyed by the official codes, and for the staff list.

Every resource cleans each row with the model's own validation (``full_clean``, which also checks the
database constraints), skips rows that would change nothing — so re-importing the same file is a no-op —
and is driven by :func:`census.services.area_frame_import`, which loads a file all-or-nothing.
"""

from __future__ import annotations

import datetime
from typing import Any, ClassVar

from django.utils.translation import gettext as _
from import_export import fields, widgets

from census.models import Building, District, Role, SmallArea, StaffMember, Township, Village
from census.spreadsheets import SpreadsheetResource


class _FrameResource(SpreadsheetResource):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)

    class Meta:
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True
        use_transactions = True


class TownshipResource(_FrameResource):
    district = fields.Field(
        attribute="district", column_name="district", widget=widgets.ForeignKeyWidget(District, field="code")
    )

    class Meta(_FrameResource.Meta):
        model = Township
        import_id_fields = ("code",)
        fields = ("code", "name", "kind", "district")
        export_order = ("code", "name", "kind", "district")


class VillageResource(_FrameResource):
    township = fields.Field(
        attribute="township", column_name="township", widget=widgets.ForeignKeyWidget(Township, field="code")
    )

    class Meta(_FrameResource.Meta):
        model = Village
        import_id_fields = ("code",)
        fields = ("code", "name", "kind", "urban_rural_code", "township")
        export_order = ("code", "name", "kind", "urban_rural_code", "township")


class SmallAreaResource(_FrameResource):
    village = fields.Field(
        attribute="village", column_name="village", widget=widgets.ForeignKeyWidget(Village, field="code")
    )

    class Meta(_FrameResource.Meta):
        model = SmallArea
        import_id_fields = ("code",)
        fields = ("code", "name", "village")
        export_order = ("code", "name", "village")

    def before_save_instance(self, instance: SmallArea, row: Any, **kwargs: Any) -> None:
        instance.township_id = instance.village.township_id

    def import_instance(self, instance: SmallArea, row: Any, **kwargs: Any) -> None:
        super().import_instance(instance, row, **kwargs)
        # The township is derived, but full_clean needs it before the save hook runs.
        if instance.village_id:
            instance.township_id = instance.village_id[:9]


class BuildingResource(_FrameResource):
    small_area = fields.Field(
        attribute="small_area", column_name="small_area", widget=widgets.ForeignKeyWidget(SmallArea, field="code")
    )
    is_residential = fields.Field(
        attribute="is_residential", column_name="is_residential", widget=widgets.BooleanWidget()
    )

    class Meta(_FrameResource.Meta):
        model = Building
        import_id_fields = ("small_area", "number")
        fields = ("small_area", "number", "address", "is_residential")
        export_order = ("small_area", "number", "address", "is_residential")


FRAME_RESOURCES: dict[str, type[_FrameResource]] = {
    "township": TownshipResource,
    "village": VillageResource,
    "small_area": SmallAreaResource,
    "building": BuildingResource,
}
# Order in which a workbook's sheets load, parents first.
FRAME_LEVELS: tuple[str, ...] = ("township", "village", "small_area", "building")


# --- staff ------------------------------------------------------------------------------------------------------

# The role as an office writes it in its spreadsheet (Chinese first, as the template shows it) → the role.
ROLE_WORDS: dict[str, str] = {
    "普查员": Role.ENUMERATOR,
    "普查指导员": Role.SUPERVISOR,
    "指导员": Role.SUPERVISOR,
    "乡镇普查办": Role.TOWNSHIP_OFFICE,
    "街道普查办": Role.TOWNSHIP_OFFICE,
    "区普查办": Role.DISTRICT_OFFICE,
    "部门": Role.DEPARTMENT,
    "审计": Role.AUDITOR,
    **{role: role for role in Role.values},
}
ROLE_SHORT_NAMES: dict[str, str] = {
    Role.ENUMERATOR: "普查员",
    Role.SUPERVISOR: "普查指导员",
    Role.TOWNSHIP_OFFICE: "乡镇普查办",
    Role.DISTRICT_OFFICE: "区普查办",
    Role.DEPARTMENT: "部门",
    Role.AUDITOR: "审计",
}


class RoleWidget(widgets.Widget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        text = "" if value is None else str(value).strip()
        if not text:
            return ""
        role = ROLE_WORDS.get(text) or ROLE_WORDS.get(text.lower())
        if role is None:
            raise ValueError(
                _("Unknown role “%(role)s”: write 普查员, 普查指导员, 乡镇普查办, 区普查办, 部门 or 审计.")
                % {"role": text}
            )
        return role

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return ROLE_SHORT_NAMES.get(value, value or "")


class TextWidget(widgets.CharWidget):
    """Text as typed, without surrounding blanks; a number Excel stored as a float loses its ``.0``."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value).strip()


class DayWidget(widgets.DateWidget):
    """A date as an office writes it (2020-08-15, 2020/8/15, 20200815, 2020年8月15日) or as Excel stores it."""

    def __init__(self) -> None:
        super().__init__()
        self.formats = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日", "%Y-%m-%d %H:%M:%S")

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        if isinstance(value, datetime.datetime):
            return value.date()
        text = "" if value is None else str(value).strip()
        if not text:
            return None
        try:
            return super().clean(text, row, **kwargs)
        except ValueError:
            raise ValueError(_("“%(value)s” is not a date: write it as 2020-08-15.") % {"value": text}) from None


class ScoreWidget(widgets.IntegerWidget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        text = "" if value is None else str(value).strip()
        if not text:
            return None
        try:
            score = float(text)
        except ValueError:
            raise ValueError(_("An exam score is a number from 0 to 100.")) from None
        if not score.is_integer() or not 0 <= score <= 100:
            raise ValueError(_("An exam score is a number from 0 to 100."))
        return int(score)


class StaffResource(SpreadsheetResource):
    """The columns of an office's staff spreadsheet, headed in Chinese as the template has them. Exporting a
    township's staff with it gives a file that, imported again, changes nothing.

    Importing goes through ``census.staffing.imports``, which cleans every cell with these fields' widgets and
    checks the rows against each other and the staff table in a few set-based queries (a row-by-row import of
    several thousand rows would ask the database a dozen questions per row)."""

    full_name = fields.Field(attribute="full_name", column_name="姓名", widget=TextWidget())
    id_number = fields.Field(attribute="id_number", column_name="公民身份号码", widget=TextWidget())
    phone = fields.Field(attribute="phone", column_name="手机号码", widget=TextWidget())
    role = fields.Field(attribute="role", column_name="角色", widget=RoleWidget())
    township = fields.Field(attribute="township_id", column_name="乡镇代码", widget=TextWidget())
    department = fields.Field(attribute="department__code", column_name="部门代码", widget=TextWidget())
    unit = fields.Field(attribute="unit", column_name="来源单位", widget=TextWidget())
    selected_on = fields.Field(attribute="selected_on", column_name="选聘日期", widget=DayWidget())
    trained_on = fields.Field(attribute="trained_on", column_name="培训日期", widget=DayWidget())
    exam_score = fields.Field(attribute="exam_score", column_name="考试成绩", widget=ScoreWidget())
    credential_no = fields.Field(attribute="credential_no", column_name="证件编号", widget=TextWidget())
    username = fields.Field(attribute="username", column_name="登录名", widget=TextWidget())

    # Headings an office may also use for a column (English, or other common wordings).
    ALIASES: ClassVar[dict[str, tuple[str, ...]]] = {
        "full_name": ("name", "full_name"),
        "id_number": ("id_number", "身份证号码", "身份证号"),
        "phone": ("phone", "电话", "联系电话", "手机"),
        "role": ("role",),
        "township": ("township", "乡镇", "乡镇（街道）代码"),
        "department": ("department",),
        "unit": ("unit", "工作单位"),
        "selected_on": ("selected_on",),
        "trained_on": ("trained_on",),
        "exam_score": ("exam_score", "成绩"),
        "credential_no": ("credential_no", "普查员证编号", "证件号"),
        "username": ("username", "用户名"),
    }

    class Meta:
        model = StaffMember
        fields = (
            "full_name",
            "id_number",
            "phone",
            "role",
            "township",
            "department",
            "unit",
            "selected_on",
            "trained_on",
            "exam_score",
            "credential_no",
            "username",
        )
        export_order = fields

    def dehydrate_full_name(self, member: StaffMember) -> str:
        return member.get_full_name()

    @classmethod
    def columns(cls) -> list[str]:
        """The field names in the order of the template and the export."""
        return list(cls._meta.export_order or cls.fields)

    @classmethod
    def column_of(cls, heading: str) -> str | None:
        """The field a heading names (its Chinese heading, or one of its aliases), if any."""
        cleaned = (heading or "").strip().lstrip("\ufeff")
        for name, field in cls.fields.items():
            if cleaned == field.column_name or cleaned.lower() in cls.ALIASES.get(name, ()):
                return name
        return None
