"""``{% load census_audit %}``: the audit log as an auditor reads it (issue 21, item 11) — what was touched named
in words ("整改任务 #8", not "organisation.rectification_task 8") and the detail as label: value pairs, never a
Python dict.

An object type is named by its model's verbose name when it is "<app>.<model>" (underscores or not), else by the
labels below; one nobody named yet keeps its code. Detail keys are named below or shown with spaces for
underscores; values are lists joined, nested records flattened one level, long hashes shortened."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template
from django.apps import apps
from django.utils.translation import gettext_lazy as _

register = template.Library()

# Object types that are not a model (an export, a file, an import).
OBJECT_LABELS = {
    "area_frame": _("area frame"),
    "database_backup": _("database backup"),
    "database_restore": _("database restore"),
    "household": _("household"),
    "household_listing": _("listing of households"),
    "hukou_roster": _("hukou roster"),
    "job": _("job file"),
    "long_form_sample": _("long-form sample"),
    "microdata": _("microdata export"),
    "organisation.demo": _("sample data"),
    "organisation.directory": _("enterprise directory"),
    "organisation.readiness": _("readiness (四落实)"),
    "organisation.subsidy_arrears": _("subsidy arrears"),
    "organisation.subsidy_reduction": _("subsidy reduction"),
    "organisation.subsidy_settlement": _("subsidy settlement"),
    "organisation.subsidy_sheet": _("subsidy payment sheet"),
    "progress_summary": _("summary tables export"),
    "progress_table": _("dashboard table export"),
    "readiness": _("readiness (四落实)"),
    "readiness_item": _("readiness item"),
    "readiness_member": _("readiness member"),
    "small_area_assignment": _("small-area assignment"),
    "staff": _("staff member"),
    "subsidy_rates": _("subsidy rates"),
    "supervisor_assignment": _("supervisor assignment"),
    "synthetic_district": _("synthetic district"),
}
DETAIL_LABELS = {
    "after": _("after"),
    "amount": _("amount"),
    "before": _("before"),
    "checklists": _("checklists"),
    "columns": _("columns"),
    "created": _("newly created"),
    "deadline": _("deadline"),
    "department": _("department"),
    "evidence_added": _("evidence added"),
    "fields": _("fields"),
    "file": _("file"),
    "format": _("format"),
    "forms": _("forms"),
    "households": _("number of households"),
    "item": _("item"),
    "kind": _("kind"),
    "new": _("new"),
    "note": _("note"),
    "persons": _("number of persons"),
    "phase": _("phase"),
    "reason": _("reason"),
    "requested": _("asked for"),
    "responsible": _("responsible"),
    "rows": _("rows"),
    "size": _("size"),
    "skipped": _("skipped"),
    "staff": _("staff member"),
    "table": _("table"),
    "topic": _("topic"),
    "township": _("township"),
    "units": _("units"),
    "updated": _("number updated"),
}
# The personal-data fields a view of unmasked data names ("fields": [...]).
FIELD_LABELS = {
    "head_name_listed": _("head's name on the register"),
    "d1_name": _("D1 name"),
    "d3_id_number": _("D3 ID number"),
    "name": _("person's name"),
    "id_number": _("ID number"),
}
HASH_LENGTH = 64


def _model_label(object_type: str) -> str | None:
    app_label, _dot, name = object_type.partition(".")
    if not name:
        return None
    try:
        model = apps.get_model(app_label, name.replace("_", ""))
    except (LookupError, ValueError):
        return None
    return str(model._meta.verbose_name)


@register.filter
def audit_object(object_type: str) -> str:
    """What kind of thing an entry is about, in words."""
    if not object_type:
        return ""
    label = OBJECT_LABELS.get(object_type)
    if label is not None:
        return str(label)
    return _model_label(object_type) or object_type


def _value(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(value, list | tuple):
        return ", ".join(_value(item) for item in value) or "—"
    if isinstance(value, Mapping):
        return "; ".join(f"{_key(key)}: {_value(item)}" for key, item in value.items()) or "—"
    text = str(value)
    if len(text) == HASH_LENGTH and all(c in "0123456789abcdef" for c in text):
        return f"{text[:12]}…"  # a SHA-256: enough to tell it apart
    return text


def _key(key: Any) -> str:
    label = DETAIL_LABELS.get(str(key))
    return str(label) if label is not None else str(key).replace("_", " ")


@register.filter
def audit_detail(detail: Any) -> list[tuple[str, str]]:
    """An entry's detail as (label, value) pairs."""
    if not isinstance(detail, Mapping):
        return [("", _value(detail))] if detail else []
    pairs = []
    for key, value in detail.items():
        if key == "fields" and isinstance(value, list):
            value = [str(FIELD_LABELS.get(str(name), name)) for name in value]
        pairs.append((_key(key), _value(value)))
    return pairs
