"""django-import-export resource for the enterprise and project directory, keyed by the credit code.

Each row is cleaned by the model's own validation (the credit code's check character included), the
responsible department follows from the kind of unit, and a department user may load only its own kinds.
Driven by :func:`supervision.organisation.services.directory.directory_import`, all or nothing.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from import_export import fields, widgets
from stdnum.cn import uscc

from census.models import Department, Township
from census.spreadsheets import SpreadsheetResource
from supervision.organisation.models import DirectoryKind, DirectoryUnit, UnitStatus

COLUMNS = ("credit_code", "name", "kind", "township", "address")


class DirectoryUnitResource(SpreadsheetResource):
    township = fields.Field(
        attribute="township", column_name="township", widget=widgets.ForeignKeyWidget(Township, field="code")
    )

    class Meta:
        model = DirectoryUnit
        import_id_fields = ("credit_code",)
        fields = COLUMNS
        export_order = COLUMNS
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True
        use_transactions = True

    def __init__(self, *, district_id: str, only_department_id: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.district_id = district_id
        self.only_department_id = only_department_id
        self.departments = {
            d.code: d for d in Department.objects.filter(district_id=district_id, code__in=_department_codes())
        }

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return DirectoryUnit.objects.filter(district_id=self.district_id)

    def before_import_row(self, row: Any, **kwargs: Any) -> None:
        code = row.get("credit_code")
        if code:
            # Spaces and lower case are typing noise; the code itself is 18 characters.
            row["credit_code"] = uscc.compact(str(code))
        kind = row.get("kind")
        if kind:
            row["kind"] = _kind_value(str(kind))

    def import_instance(self, instance: DirectoryUnit, row: Any, **kwargs: Any) -> None:
        super().import_instance(instance, row, **kwargs)
        instance.district_id = self.district_id
        if instance.status == "":
            instance.status = UnitStatus.IN_DIRECTORY
        code = settings.ORGANISATION_DIRECTORY_DEPARTMENTS.get(instance.kind)
        department = self.departments.get(code or "")
        if instance.kind and department is None:
            raise ValidationError(
                {"department": _("No department of this district answers for “%(kind)s”.") % {"kind": instance.kind}}
            )
        if department is not None:
            if self.only_department_id is not None and department.pk != self.only_department_id:
                raise ValidationError({"department": _("This kind of unit belongs to another department.")})
            instance.department = department
        if instance.township_id and not instance.township_id.startswith(self.district_id):
            raise ValidationError({"township": _("The township is not in this district.")})


def _department_codes() -> list[str]:
    return sorted(set(settings.ORGANISATION_DIRECTORY_DEPARTMENTS.values()))


def _kind_value(text: str) -> str:
    """Accept the code (``industry``) or the Chinese label's short name (规上工业) in the kind column."""
    text = text.strip()
    if text in DirectoryKind.values:
        return text
    for kind in DirectoryKind:
        label = str(kind.label)
        if len(text) >= 2 and text in label:
            return kind.value
    return text
