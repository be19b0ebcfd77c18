"""Loading the household-head register (户主姓名底册) of small areas from a file, all or nothing."""

from __future__ import annotations

from typing import IO

import tablib
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from census.api import ApplicationError
from census.models import AuditAction, Role, StaffMember
from census.services import ImportReport, RowProblem, audit_record

# The area-frame import's file reading: the same size limit, encodings and text-only cells.
from census.services import _dataset_from as dataset_from
from census.services import _stringify as stringify
from enumeration.resources import COLUMN_ALIASES, LISTING_COLUMNS, REQUIRED_COLUMNS, HouseholdListingResource

LEVEL = "household"


class _Rollback(Exception):
    pass


def _normalise(dataset: tablib.Dataset) -> tablib.Dataset:
    """Canonical column names (Chinese headers accepted), optional columns added empty, unknown ones refused."""
    dataset = stringify(dataset)
    headers = [COLUMN_ALIASES.get(h, h).strip().lower() for h in (dataset.headers or [])]
    unknown = [h for h in headers if h not in LISTING_COLUMNS]
    if unknown:
        raise ValidationError(
            _("Unknown columns: %(columns)s. The columns are: %(expected)s.")
            % {"columns": ", ".join(unknown), "expected": ", ".join(LISTING_COLUMNS)}
        )
    missing = [c for c in REQUIRED_COLUMNS if c not in headers]
    if missing:
        raise ValidationError(_("The file needs the columns %(columns)s.") % {"columns": ", ".join(missing)})
    out = tablib.Dataset(headers=list(LISTING_COLUMNS))
    for row in dataset:
        values = dict(zip(headers, row, strict=False))
        out.append([values.get(column, "") for column in LISTING_COLUMNS])
    return out


def _duplicates(dataset: tablib.Dataset) -> list[RowProblem]:
    seen: dict[tuple[str, int], int] = {}
    problems = []
    for index, row in enumerate(dataset.dict):
        number = str(row.get("household_no") or "").strip()
        if not number.isdigit():
            continue
        key = (str(row.get("small_area") or "").strip(), int(number))
        line = index + 2  # the header is line 1
        if key in seen:
            problems.append(
                RowProblem(
                    LEVEL,
                    line,
                    _("Small area %(area)s, 户编号 %(no)03d repeats line %(line)d.")
                    % {"area": key[0], "no": key[1], "line": seen[key]},
                )
            )
        else:
            seen[key] = line
    return problems


def household_listing_import(*, upload: IO[bytes], file_format: str, actor: StaffMember) -> ImportReport:
    """Load a listing file. Rows are matched by small-area code and 户编号; a new row adds a household to the
    register, a changed one updates its listing (only while its registration has not started).

    All or nothing: when any row is wrong, nothing of the file stays, and every wrong row is reported with its
    line number (the header is line 1) and reason.
    """
    if actor.role not in (Role.TOWNSHIP_OFFICE, Role.DISTRICT_OFFICE) and not actor.is_superuser:
        raise ApplicationError(_("Only a census office imports listings."), code="not_office")
    dataset = _normalise(dataset_from(upload, file_format=file_format))
    report = ImportReport()
    report.problems.extend(_duplicates(dataset))
    if report.problems:
        return report
    try:
        with transaction.atomic():
            resource = HouseholdListingResource(actor=actor)
            result = resource.import_data(dataset, dry_run=False, use_transactions=True, raise_errors=False)
            for line_error in result.base_errors:
                report.problems.append(RowProblem(LEVEL, 1, str(line_error.error)))
            for number, errors in result.row_errors():
                for error in errors:
                    report.problems.append(RowProblem(LEVEL, number + 1, str(error.error)))
            for invalid in result.invalid_rows:
                messages = [
                    f"{name}: {' '.join(str(m) for m in msgs)}" if name != "__all__" else " ".join(map(str, msgs))
                    for name, msgs in invalid.error_dict.items()
                ]
                report.problems.append(RowProblem(LEVEL, invalid.number + 1, "; ".join(messages)))
            totals = result.totals
            report.new += totals.get("new", 0)
            report.updated += totals.get("update", 0)
            report.skipped += totals.get("skip", 0)
            if not report.ok:
                raise _Rollback
            audit_record(
                actor=actor,
                action=AuditAction.IMPORT,
                object_type="household_listing",
                detail={"new": report.new, "updated": report.updated, "skipped": report.skipped},
            )
    except _Rollback:
        report.problems.sort(key=lambda p: p.line)
        report.new = report.updated = report.skipped = 0
    return report
