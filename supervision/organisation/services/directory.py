"""在库企业和项目: import, review against the criteria, removal (退库), and figures with their documents."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import IO

import tablib
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _
from stdnum.cn import uscc

from census.models import AuditAction, Role, StaffMember
from census.services import audit_record
from supervision.organisation.criteria import criteria_for
from supervision.organisation.models import (
    DirectoryFigure,
    DirectoryReview,
    DirectoryUnit,
    FigureIndicator,
    RemovalReason,
    UnitStatus,
)
from supervision.organisation.resources import COLUMNS, DirectoryUnitResource
from supervision.organisation.services.common import audit_change, department_check, evidence_store, not_in_future

MAX_IMPORT_BYTES = 10 * 1024 * 1024


@dataclass
class DirectoryProblem:
    line: int  # as a spreadsheet shows it: the header is line 1
    message: str


@dataclass
class DirectoryImportReport:
    new: int = 0
    updated: int = 0
    skipped: int = 0
    problems: list[DirectoryProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class _Rollback(Exception):
    pass


def _read_sheet(upload: IO[bytes]) -> tablib.Dataset:
    raw = upload.read(MAX_IMPORT_BYTES + 1)
    if len(raw) > MAX_IMPORT_BYTES:
        raise ValidationError(_("The file is larger than %(mb)d MB.") % {"mb": MAX_IMPORT_BYTES // (1024 * 1024)})
    try:
        book = tablib.Databook().load(raw, format="xlsx")
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise ValidationError(_("The file is not a readable xlsx workbook.")) from exc
    sheet = book.sheets()[0]
    headers = [str(h or "").strip() for h in (sheet.headers or [])]
    missing = [column for column in ("credit_code", "name", "kind") if column not in headers]
    if missing:
        raise ValidationError(
            _("The first sheet needs the columns %(columns)s; missing: %(missing)s.")
            % {"columns": ", ".join(COLUMNS), "missing": ", ".join(missing)}
        )
    # Text cells only: a code such as 001 must keep its zeros whatever the spreadsheet did.
    out = tablib.Dataset(headers=headers)
    for row in sheet:
        cells = [
            ""
            if value is None
            else str(int(value))
            if isinstance(value, float) and value.is_integer()
            else str(value).strip()
            for value in row
        ]
        if any(cells):
            out.append(cells)
    return out


def directory_import(*, upload: IO[bytes], actor: StaffMember) -> DirectoryImportReport:
    """Load the directory from an xlsx file, matched by credit code. All or nothing: when any row is wrong,
    nothing of the file stays and every wrong row is reported with its line number and reason."""
    report = DirectoryImportReport()
    dataset = _read_sheet(upload)
    only = actor.department_id if actor.role == Role.DEPARTMENT else None
    resource = DirectoryUnitResource(district_id=actor.district_id or "", only_department_id=only)
    try:
        with transaction.atomic():
            result = resource.import_data(dataset, dry_run=False, use_transactions=True, raise_errors=False)
            for error in result.base_errors:
                report.problems.append(DirectoryProblem(1, str(error.error)))
            for number, errors in result.row_errors():
                for error in errors:
                    report.problems.append(DirectoryProblem(number + 1, str(error.error)))
            for invalid in result.invalid_rows:
                messages = [
                    f"{name}: {' '.join(str(m) for m in msgs)}" if name != "__all__" else " ".join(str(m) for m in msgs)
                    for name, msgs in invalid.error_dict.items()
                ]
                report.problems.append(DirectoryProblem(invalid.number + 1, "; ".join(messages)))
            codes = [uscc.compact(str(row.get("credit_code") or "")) for row in dataset.dict]
            seen: dict[str, int] = {}
            for line, code in enumerate(codes, start=2):
                if code and code in seen:
                    report.problems.append(
                        DirectoryProblem(
                            line,
                            _("The credit code %(code)s is also on line %(first)d.")
                            % {"code": code, "first": seen[code]},
                        )
                    )
                seen.setdefault(code or "", line)
            totals = result.totals
            report.new, report.updated, report.skipped = (
                totals.get("new", 0),
                totals.get("update", 0),
                totals.get("skip", 0),
            )
            if not report.ok:
                raise _Rollback
            audit_record(
                actor=actor,
                action=AuditAction.IMPORT,
                object_type="organisation.directory",
                detail={"new": report.new, "updated": report.updated, "skipped": report.skipped},
            )
    except _Rollback:
        report.problems.sort(key=lambda p: p.line)
    return report


@transaction.atomic
def directory_review(
    *,
    unit: DirectoryUnit,
    reviewed_on: datetime.date,
    results: dict[str, bool],
    note: str = "",
    actor: StaffMember,
) -> DirectoryReview:
    """Review a unit against every criterion of its kind. A unit that fails is marked for removal."""
    unit = DirectoryUnit.objects.select_for_update().get(pk=unit.pk)
    department_check(actor=actor, department=unit.department)
    if unit.status == UnitStatus.REMOVED:
        raise ValidationError(_("The unit has been removed from the directory."))
    not_in_future(reviewed_on, field="reviewed_on")
    codes = [code for code, _label in criteria_for(unit.kind)]
    clean = {code: bool(results.get(code, False)) for code in codes}
    meets = all(clean.values())
    if not meets and not note.strip():
        raise ValidationError({"note": _("Say which facts the unit fails on.")})
    review = DirectoryReview(
        unit=unit, reviewed_on=reviewed_on, results=clean, meets_criteria=meets, note=note.strip(), reviewed_by=actor
    )
    review.full_clean()
    review.save()
    unit.last_reviewed_on = reviewed_on
    unit.status = UnitStatus.IN_DIRECTORY if meets else UnitStatus.TO_REMOVE
    unit.full_clean()
    unit.save()
    audit_change(
        actor=actor,
        object_type="directory_review",
        object_id=review.pk,
        unit=unit.credit_code,
        meets=meets,
        results=clean,
    )
    return review


@transaction.atomic
def directory_remove(
    *,
    unit: DirectoryUnit,
    reason: str,
    note: str,
    removed_on: datetime.date,
    upload: UploadedFile | None,
    actor: StaffMember,
) -> DirectoryUnit:
    """退库: take a unit out of the directory, with the reason and the document that supports it."""
    unit = DirectoryUnit.objects.select_for_update().select_related("department").get(pk=unit.pk)
    department_check(actor=actor, department=unit.department)
    errors: dict[str, str] = {}
    if unit.status == UnitStatus.REMOVED:
        raise ValidationError(_("The unit has already been removed."))
    if reason not in RemovalReason.values:
        errors["reason"] = _("Choose the reason for the removal.")
    if reason == RemovalReason.OTHER and not note.strip():
        errors["note"] = _("Describe the reason.")
    if upload is None:
        errors["upload"] = _("Upload the document that supports the removal.")
    if errors:
        raise ValidationError(errors)
    not_in_future(removed_on, field="removed_on")
    assert upload is not None
    unit.status = UnitStatus.REMOVED
    unit.removed_on = removed_on
    unit.removal_reason = reason
    unit.removal_note = note.strip()
    unit.removed_by = actor
    unit.full_clean(exclude=["removal_evidence"])
    unit.removal_evidence = evidence_store(
        upload=upload,
        actor=actor,
        district_id=unit.district_id,
        department_id=unit.department_id,
        description=f"{unit.credit_code} {unit.name} · 退库",
    )
    unit.save()
    audit_change(
        actor=actor,
        object_type="directory_unit",
        object_id=unit.pk,
        removed=unit.credit_code,
        reason=reason,
        note=unit.removal_note,
        evidence=unit.removal_evidence_id,
    )
    return unit


@transaction.atomic
def directory_figure_report(
    *,
    unit: DirectoryUnit,
    period: datetime.date,
    indicator: str,
    value: Decimal,
    upload: UploadedFile | None,
    note: str = "",
    actor: StaffMember,
) -> DirectoryFigure:
    """有资料再报数据: a figure goes in only with the document it comes from. Reporting the same indicator for
    the same month again replaces the figure, and needs its own document."""
    unit = DirectoryUnit.objects.select_related("department").get(pk=unit.pk)
    department_check(actor=actor, department=unit.department)
    errors: dict[str, str] = {}
    if unit.status == UnitStatus.REMOVED:
        raise ValidationError(_("The unit has been removed from the directory; no more figures are reported for it."))
    if indicator not in FigureIndicator.values:
        errors["indicator"] = _("Choose the indicator.")
    if value < 0:
        errors["value"] = _("The value cannot be negative.")
    if upload is None:
        errors["upload"] = _("Upload the source document of the figure (有资料再报数据).")
    if errors:
        raise ValidationError(errors)
    assert upload is not None
    period = period.replace(day=1)
    not_in_future(period, field="period")
    figure = DirectoryFigure.objects.filter(unit=unit, period=period, indicator=indicator).first()
    before = str(figure.value) if figure is not None else None
    if figure is None:
        figure = DirectoryFigure(unit=unit, period=period, indicator=indicator)
    figure.value = value
    figure.note = note.strip()[:300]
    figure.reported_by = actor
    figure.full_clean(exclude=["source_document"])
    figure.source_document = evidence_store(
        upload=upload,
        actor=actor,
        district_id=unit.district_id,
        department_id=unit.department_id,
        description=f"{unit.credit_code} {period:%Y-%m} {indicator}",
    )
    figure.save()
    audit_change(
        actor=actor,
        object_type="directory_figure",
        object_id=figure.pk,
        unit=unit.credit_code,
        period=period,
        indicator=indicator,
        before=before,
        after=str(value),
        document=figure.source_document_id,
    )
    return figure
