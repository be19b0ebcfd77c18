"""Writes to the census frame: area-frame import and export, the audit log. Staff, departments and assignments are
written by ``census.staffing.services``."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import IO, Any, TypedDict, Unpack

import tablib
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from census.models import AuditAction, AuditEvent, StaffMember, default_district_code

MAX_IMPORT_BYTES = 20 * 1024 * 1024


# --- audit ---------------------------------------------------------------------------------------------


def audit_event(
    *,
    actor: StaffMember | None,
    action: str,
    object_type: str = "",
    object_id: str | int = "",
    detail: dict[str, Any] | None = None,
    ip_address: str | None = None,
) -> AuditEvent:
    """One event of the audit log, not yet written: for a service that writes it with its other rows."""
    district = ""
    if actor is not None and actor.district_id:
        district = actor.district_id
    elif actor is None or actor.is_superuser:
        district = default_district_code()
    return AuditEvent(
        actor_id=actor.pk if actor is not None else None,
        actor_username=actor.username if actor is not None else "",
        actor_role=actor.role if actor is not None else "",
        district_id=district,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        detail=detail or {},
        ip_address=ip_address,
    )


class AuditFields(TypedDict, total=False):
    """What an audit event says beyond who did what (``audit_event``'s optional arguments)."""

    object_type: str
    object_id: str | int
    detail: dict[str, Any] | None
    ip_address: str | None


def audit_record(*, actor: StaffMember | None, action: str, **fields: Unpack[AuditFields]) -> AuditEvent:
    """Append one event to the audit log (never updated, never deleted)."""
    event = audit_event(actor=actor, action=action, **fields)
    event.save(force_insert=True)
    return event


# --- area frame import / export ------------------------------------------------------------------------


@dataclass
class RowProblem:
    level: str
    line: int  # line in the file as a spreadsheet shows it: the header is line 1
    message: str


@dataclass
class ImportReport:
    new: int = 0
    updated: int = 0
    skipped: int = 0
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def changed(self) -> int:
        return self.new + self.updated


class FrameImportError(Exception):
    def __init__(self, report: ImportReport) -> None:
        super().__init__("; ".join(f"{p.level} line {p.line}: {p.message}" for p in report.problems[:20]))
        self.report = report


def _dataset_from(upload: IO[bytes], *, file_format: str, sheet: str | None = None) -> tablib.Dataset:
    raw = upload.read(MAX_IMPORT_BYTES + 1)
    if len(raw) > MAX_IMPORT_BYTES:
        raise ValidationError(_("The file is larger than %(mb)d MB.") % {"mb": MAX_IMPORT_BYTES // (1024 * 1024)})
    if file_format == "csv":
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = raw.decode("gb18030")
            except UnicodeDecodeError as exc:
                raise ValidationError(_("The CSV file is neither UTF-8 nor GB18030 text.")) from exc
        return tablib.Dataset().load(text, format="csv")
    if file_format == "xlsx":
        try:
            book = tablib.Databook().load(raw, format="xlsx")
        except Exception as exc:  # openpyxl raises many types for a damaged file
            raise ValidationError(_("The file is not a readable xlsx workbook.")) from exc
        sheets = {ds.title: ds for ds in book.sheets()}
        if sheet is not None:
            if sheet not in sheets:
                raise ValidationError(_("The workbook has no sheet named “%(sheet)s”.") % {"sheet": sheet})
            return sheets[sheet]
        return book.sheets()[0]
    raise ValidationError(_("Unsupported file format %(format)s; use xlsx or csv.") % {"format": file_format})


def _import_level(level: str, dataset: tablib.Dataset, report: ImportReport) -> None:
    from census.resources import FRAME_RESOURCES

    resource = FRAME_RESOURCES[level]()
    # Text cells only: codes such as 001 must keep their leading zeros whatever the spreadsheet did.
    dataset = _stringify(dataset)
    result = resource.import_data(dataset, dry_run=False, use_transactions=True, raise_errors=False)
    for line_error in result.base_errors:
        report.problems.append(RowProblem(level, 1, str(line_error.error)))
    for number, errors in result.row_errors():
        for error in errors:
            report.problems.append(RowProblem(level, number + 1, _friendly(error.error)))
    for invalid in result.invalid_rows:
        messages = [f"{name}: {' '.join(str(m) for m in msgs)}" for name, msgs in invalid.error_dict.items()]
        report.problems.append(RowProblem(level, invalid.number + 1, "; ".join(messages)))
    totals = result.totals
    report.new += totals.get("new", 0)
    report.updated += totals.get("update", 0)
    report.skipped += totals.get("skip", 0)


def _friendly(error: Exception) -> str:
    text = str(error)
    if "matching query does not exist" in text:
        return _("The parent code does not exist in the frame.")
    return text


def _stringify(dataset: tablib.Dataset) -> tablib.Dataset:
    out = tablib.Dataset(headers=[str(h).strip() for h in (dataset.headers or [])])
    for row in dataset:
        out.append([_cell(value) for value in row])
    return out


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return value
    return str(value).strip()


def area_frame_import(
    *, upload: IO[bytes], file_format: str, level: str | None, actor: StaffMember | None
) -> ImportReport:
    """Load a frame file. ``level`` names one level (township … building) for a one-sheet file; ``None``
    loads a workbook whose sheets are named after the levels, parents first.

    All or nothing: when any row is bad, nothing of the file stays and every bad row is reported with its
    line number and reason.
    """
    # (The frame's resources, and openpyxl with them, are imported where a file is read or written: census.services
    # is imported by every process, and openpyxl alone took 0.17 s of a management command's start.)
    from census.resources import FRAME_LEVELS, FRAME_RESOURCES

    report = ImportReport()
    if level is not None and level not in FRAME_RESOURCES:
        raise ValidationError(_("Unknown frame level %(level)s.") % {"level": level})
    if level is None and file_format != "xlsx":
        raise ValidationError(_("A CSV file holds one level; choose which."))
    try:
        with transaction.atomic():
            if level is not None:
                _import_level(level, _dataset_from(upload, file_format=file_format), report)
            else:
                raw = upload.read()
                book = tablib.Databook().load(raw, format="xlsx")
                titles = {ds.title for ds in book.sheets()}
                for sheet_level in FRAME_LEVELS:
                    if sheet_level in titles:
                        dataset = _dataset_from(io.BytesIO(raw), file_format="xlsx", sheet=sheet_level)
                        _import_level(sheet_level, dataset, report)
                if not titles & set(FRAME_LEVELS):
                    raise ValidationError(
                        _("The workbook needs sheets named township, village, small_area or building.")
                    )
            if not report.ok:
                raise FrameImportError(report)
            audit_record(
                actor=actor,
                action=AuditAction.IMPORT,
                object_type="area_frame",
                detail={
                    "level": level or "workbook",
                    "new": report.new,
                    "updated": report.updated,
                    "skipped": report.skipped,
                },
            )
    except FrameImportError:
        return report
    return report


def area_frame_export(*, level: str | None, file_format: str, queryset_by_level: dict[str, Any]) -> bytes:
    """Export the given (already scoped) querysets in the import format."""
    from census.resources import FRAME_LEVELS, FRAME_RESOURCES
    from census.spreadsheets import dataset_export

    if level is not None:
        return dataset_export(FRAME_RESOURCES[level]().export(queryset=queryset_by_level[level]), file_format)
    book = tablib.Databook()
    for sheet_level in FRAME_LEVELS:
        dataset = FRAME_RESOURCES[sheet_level]().export(queryset=queryset_by_level[sheet_level])
        dataset.title = sheet_level
        book.add_sheet(dataset)
    return dataset_export(book, "xlsx")
