"""Importing the 两员 (or any accounts, for the district office) from an office's spreadsheet.

The columns are ``census.resources.StaffResource``'s (a template to download has them); every cell is cleaned by
that resource's widgets. A row is a person: matched to an active account by ID number (or, for an account
without one, by login name), it is new, unchanged or changed. The checks a row-by-row import would make one row
at a time — a township the office may use, an ID number or phone already held by another active person, a
login name or credential number taken, the same person twice in the file — are made for the whole file in a
few queries, so that several thousand rows take seconds.

Nothing is half-imported: by default a file with any bad row changes nothing, and every bad row is reported with
its line (the heading is line 1), its column and the reason, in the importer's language. An office may instead
choose to import the good rows and get the bad ones back to fix. Importing the same file again changes nothing.
A change of role or township is refused here: it may strand a person's small areas or enumerators, so it is made
on the person's page, which checks that.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tablib
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from census.identity import id_number_clean, phone_clean
from census.jobs import JobOutput, ProgressReporter, job_handler, job_start
from census.models import FIELD_ROLES, AuditAction, Department, Job, Role, StaffMember, StaffStatus, Township
from census.models.staff import TOWNSHIP_ROLES
from census.resources import StaffResource
from census.services import audit_record
from census.staffing import services
from census.staffing.services import StaffSpec, may_manage, roles_managed_by

REQUIRED_COLUMNS = ("full_name", "role")
# Fields compared with an existing account: a difference in any of them makes the row a change.
COMPARED = ("full_name", "phone", "unit", "selected_on", "trained_on", "exam_score", "credential_no", "username")
MAX_PROBLEMS_KEPT = 1000


@dataclass(frozen=True)
class RowProblem:
    line: int  # as a spreadsheet shows it: the heading is line 1
    column: str
    message: str


@dataclass
class StaffImportReport:
    rows: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    imported: bool = False  # whether anything was written (all rows, or the good ones when asked)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def bad_lines(self) -> list[int]:
        return sorted({p.line for p in self.problems})

    def as_result(self) -> dict[str, Any]:
        """What a job keeps of the report (its result column)."""
        return {
            "rows": self.rows,
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "imported": self.imported,
            "bad_lines": len(self.bad_lines),
            "problems": [[p.line, p.column, p.message] for p in self.problems[:MAX_PROBLEMS_KEPT]],
        }


@dataclass
class _Row:
    line: int
    values: dict[str, Any]
    problems: list[RowProblem] = field(default_factory=list)
    existing: StaffMember | None = None
    username_from_phone: bool = False

    def refuse(self, column: str, message: str) -> None:
        self.problems.append(RowProblem(self.line, column, message))


def _headings(dataset: tablib.Dataset) -> dict[int, str]:
    """Column index → field name, for the columns the resource knows."""
    known: dict[int, str] = {}
    for index, heading in enumerate(dataset.headers or []):
        name = StaffResource.column_of(str(heading or ""))
        if name is not None and name not in known.values():
            known[index] = name
    return known


def _heading_of(name: str) -> str:
    return str(StaffResource.fields[name].column_name)


def _blank(cells: Sequence[Any]) -> bool:
    return all(cell is None or str(cell).strip() == "" for cell in cells)


def _clean_cells(line: int, cells: Sequence[Any], columns: dict[int, str]) -> _Row:
    row = _Row(line=line, values={})
    raw = {name: (cells[index] if index < len(cells) else None) for index, name in columns.items()}
    for name in StaffResource.fields:
        try:
            row.values[name] = StaffResource.fields[name].widget.clean(raw.get(name))
        except ValueError as exc:
            row.refuse(_heading_of(name), str(exc))
            row.values[name] = None
    return row


def _check_row(
    row: _Row,
    *,
    actor: StaffMember,
    townships: dict[str, Township],
    departments: dict[str, Department],
) -> None:
    """What one row must satisfy by itself (and against the offices' townships and departments)."""
    values = row.values
    if not values.get("full_name"):
        row.refuse(_heading_of("full_name"), _("The name is missing."))
    role = values.get("role")
    if not role:
        if not any(p.column == _heading_of("role") for p in row.problems):
            row.refuse(_heading_of("role"), _("The role is missing."))
        return
    if role not in roles_managed_by(actor):
        row.refuse(_heading_of("role"), _("Your office does not manage accounts of this role."))
        return
    township = values.get("township") or ""
    if actor.role == Role.TOWNSHIP_OFFICE:
        if township and township != actor.township_id:
            row.refuse(_heading_of("township"), _("A township office imports the staff of its own township only."))
        values["township"] = actor.township_id
    elif role in TOWNSHIP_ROLES:
        if not township:
            row.refuse(_heading_of("township"), _("The township code is missing."))
        elif township not in townships:
            row.refuse(
                _heading_of("township"), _("No township of the district has the code %(code)s.") % {"code": township}
            )
    else:
        values["township"] = None
    department = values.get("department") or ""
    if role == Role.DEPARTMENT:
        if department not in departments:
            row.refuse(
                _heading_of("department"),
                _("No department of the district has the code “%(code)s”.") % {"code": department},
            )
    else:
        values["department"] = None
    try:
        values["id_number"] = id_number_clean(values["id_number"]) if values.get("id_number") else ""
    except ValidationError as exc:
        row.refuse(_heading_of("id_number"), exc.messages[0])
    try:
        values["phone"] = phone_clean(values.get("phone") or "")
    except ValidationError as exc:
        row.refuse(_heading_of("phone"), exc.messages[0])
    # Without a login name the phone number is the login name (what a field worker remembers).
    row.username_from_phone = not values.get("username")
    values["username"] = values.get("username") or values.get("phone") or ""
    if not values["username"] and not _has_problem(row, "phone"):
        row.refuse(_heading_of("username"), _("Give a login name or a phone number."))


def _has_problem(row: _Row, name: str) -> bool:
    return any(p.column == _heading_of(name) for p in row.problems)


def _check_duplicates_in_file(rows: list[_Row]) -> None:
    """The same ID number, phone, login name or credential number twice in the file: the later lines are wrong."""
    for name, message in (
        ("id_number", _("Line %(first)d has the same ID number.")),
        ("phone", _("Line %(first)d has the same phone number.")),
        ("username", _("Line %(first)d has the same login name.")),
        ("credential_no", _("Line %(first)d has the same credential number.")),
    ):
        first_line: dict[str, int] = {}
        for row in rows:
            value = row.values.get(name) or ""
            if not value or (name == "username" and row.username_from_phone):
                continue  # a login name taken from the phone is reported as the phone's
            if value in first_line:
                row.refuse(_heading_of(name), message % {"first": first_line[value]})
            else:
                first_line[value] = row.line


def _match_existing(rows: list[_Row], *, actor: StaffMember) -> None:
    """Find each row's account (an active one with its ID number; or, without an ID number, its login name) and
    check the row against the rest of the staff table: four queries for the whole file."""
    district = actor.district_id
    ids = {r.values["id_number"] for r in rows if r.values.get("id_number")}
    by_id = {m.id_number: m for m in StaffMember.objects.active().filter(district_id=district, id_number__in=ids)}
    other_ids = set(
        StaffMember.objects.active()
        .exclude(district_id=district)
        .filter(id_number__in=ids)
        .values_list("id_number", flat=True)
    )
    names = {r.values["username"] for r in rows if r.values.get("username")}
    by_username = {m.username: m for m in StaffMember.objects.filter(username__in=names)}
    phones = {r.values["phone"] for r in rows if r.values.get("phone")}
    phone_holder = dict(StaffMember.objects.active().filter(phone__in=phones).values_list("phone", "pk"))
    credentials = {r.values["credential_no"] for r in rows if r.values.get("credential_no")}
    credential_holder = dict(
        StaffMember.objects.filter(credential_no__in=credentials).values_list("credential_no", "pk")
    )
    for row in rows:
        values = row.values
        number = values.get("id_number") or ""
        existing = by_id.get(number) if number else None
        if number and existing is None and number in other_ids:
            row.refuse(_heading_of("id_number"), _("An active staff member of another district has this ID number."))
            continue
        if existing is None and not number:
            candidate = by_username.get(values.get("username") or "")
            if candidate is not None and not candidate.id_number and candidate.status == StaffStatus.ACTIVE:
                existing = candidate
        if existing is not None:
            if not may_manage(
                actor, role=existing.role, township_id=existing.township_id, district_id=existing.district_id
            ):
                row.refuse(
                    _heading_of("id_number"),
                    _(
                        "This person is an active staff member your office does not manage "
                        "(another township, or another role)."
                    ),
                )
                continue
            if existing.role != values.get("role") or (existing.township_id or None) != (
                values.get("township") or None
            ):
                row.refuse(
                    _heading_of("role"),
                    _("%(name)s works as %(role)s in %(place)s: change a role or township on the person's page.")
                    % {
                        "name": existing.get_full_name() or existing.username,
                        "role": existing.get_role_display(),
                        "place": existing.township_id or existing.district_id,
                    },
                )
                continue
            row.existing = existing
        own_pk = existing.pk if existing is not None else None
        holder = by_username.get(values.get("username") or "")
        keeps_username = existing is not None and row.username_from_phone
        if holder is not None and holder.pk != own_pk and not keeps_username:
            row.refuse(_heading_of("username"), _("The login name %(name)s is taken.") % {"name": values["username"]})
        phone = values.get("phone") or ""
        if phone and phone_holder.get(phone, own_pk) != own_pk:
            row.refuse(_heading_of("phone"), _("Another active staff member has this phone number."))
        credential = values.get("credential_no") or ""
        if credential and credential_holder.get(credential, own_pk) != own_pk:
            row.refuse(_heading_of("credential_no"), _("This credential number has been issued to someone else."))


def _check_new_person(row: _Row) -> None:
    """What a new enumerator or supervisor needs (someone already on the list is matched, and may have been
    created before these were asked for)."""
    if row.values.get("role") not in FIELD_ROLES:
        return
    if not row.values.get("id_number"):
        row.refuse(_heading_of("id_number"), _("Enumerators and supervisors need their ID number on the credential."))
    if not row.values.get("phone"):
        row.refuse(_heading_of("phone"), _("Enumerators and supervisors need a phone number."))


def _spec(row: _Row, *, actor: StaffMember, departments: dict[str, Department]) -> StaffSpec:
    values = row.values
    department = departments.get(values.get("department") or "")
    return StaffSpec(
        username=values["username"],
        role=values["role"],
        district_id=actor.district_id or "",
        full_name=values["full_name"],
        township_id=values.get("township") or None,
        department_id=department.pk if department is not None else None,
        phone=values.get("phone") or "",
        id_number=values.get("id_number") or "",
        unit=values.get("unit") or "",
        selected_on=values.get("selected_on"),
        trained_on=values.get("trained_on"),
        exam_score=values.get("exam_score"),
        credential_no=values.get("credential_no") or "",
    )


# The model fields an import row fills with free text, and the column each comes from.
_TEXT_FIELDS = (
    ("username", "username"),
    ("unit", "unit"),
    ("credential_no", "credential_no"),
)


def _check_model_fields(row: _Row, spec: StaffSpec) -> None:
    """The model's own checks of the free-text fields (length; the login name's characters), one field at a time:
    building and cleaning a whole account per row cost more than the rest of the import together."""
    family, given = services.split_name(spec.full_name)
    checks = [("first_name", given, "full_name"), ("last_name", family, "full_name")]
    checks += [(name, getattr(spec, name), column) for name, column in _TEXT_FIELDS]
    for name, value, column in checks:
        field = StaffMember._meta.get_field(name)
        try:
            field.clean(value, None)  # type: ignore[union-attr]
        except ValidationError as exc:
            for message in exc.messages:
                row.refuse(_heading_of(column), message)


def _changes(existing: StaffMember, spec: StaffSpec, *, keep_username: bool) -> dict[str, Any]:
    current: dict[str, Any] = {name: getattr(existing, name, None) for name in COMPARED}
    current["full_name"] = existing.get_full_name()
    wanted: dict[str, Any] = {name: getattr(spec, name) for name in COMPARED}
    wanted["full_name"] = "".join(spec.full_name.split())
    if not spec.credential_no:
        wanted.pop("credential_no")  # a blank cell keeps the number the system gave
    if keep_username:
        wanted.pop("username")  # a blank cell keeps the login name, even when the phone changes
    return {name: value for name, value in wanted.items() if value != current[name]}


def staff_import(*, dataset: tablib.Dataset, actor: StaffMember, import_good_rows: bool = False) -> StaffImportReport:
    """Import an office's staff list (see the module's docstring). ``import_good_rows``: write the rows without
    problems even when others have some (default: a file with any bad row changes nothing)."""
    report = StaffImportReport()
    columns = _headings(dataset)
    missing = [name for name in REQUIRED_COLUMNS if name not in columns.values()]
    if missing:
        report.problems.append(
            RowProblem(1, ", ".join(_heading_of(n) for n in missing), _("The file has no column for this."))
        )
        return report
    townships = {t.code: t for t in Township.objects.visible_to(actor)}
    departments = {d.code: d for d in Department.objects.visible_to(actor)}
    rows = []
    for index, cells in enumerate(dataset):
        if _blank(cells):
            continue
        row = _clean_cells(index + 2, cells, columns)
        _check_row(row, actor=actor, townships=townships, departments=departments)
        rows.append(row)
    report.rows = len(rows)
    _check_duplicates_in_file(rows)
    _match_existing([r for r in rows if not r.problems], actor=actor)
    new: list[tuple[_Row, StaffSpec]] = []
    changed: list[tuple[StaffMember, dict[str, Any]]] = []
    for row in rows:
        if not row.problems and row.existing is None:
            _check_new_person(row)
        if row.problems:
            continue
        spec = _spec(row, actor=actor, departments=departments)
        _check_model_fields(row, spec)
        if row.problems:
            continue
        if row.existing is None:
            new.append((row, spec))
            continue
        changes = _changes(row.existing, spec, keep_username=row.username_from_phone)
        if changes:
            changed.append((row.existing, changes))
        else:
            report.unchanged += 1
    for row in rows:
        report.problems.extend(row.problems)
    report.problems.sort(key=lambda p: p.line)
    if report.problems and not import_good_rows:
        report.unchanged = 0
        return report
    with transaction.atomic():
        services.staff_bulk_create(specs=[spec for _row, spec in new], actor=actor, clean=False)
        services.staff_bulk_update(changes=changed, actor=actor)
        report.new, report.updated, report.imported = len(new), len(changed), bool(new or changed)
        audit_record(
            actor=actor,
            action=AuditAction.IMPORT,
            object_type="staff",
            detail={
                "rows": report.rows,
                "new": report.new,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "bad_lines": len(report.bad_lines),
            },
        )
    return report


def staff_export(*, members: Iterable[StaffMember]) -> tablib.Dataset:
    """The given (scoped) staff in the import's columns."""
    dataset = StaffResource().export(queryset=members)
    dataset.title = "staff"
    return dataset


def staff_template() -> tablib.Dataset:
    """An empty staff list with the columns and one example row (a valid ID number: GB 11643's own example)."""
    dataset = tablib.Dataset(headers=[_heading_of(name) for name in StaffResource.columns()])
    example = {
        "full_name": "张明",
        "id_number": "11010519491231002X",
        "phone": "13800000000",
        "role": "普查员",
        "township": "",
        "department": "",
        "unit": "某某小学",
        "selected_on": "2020-08-15",
        "trained_on": "2020-09-20",
        "exam_score": "90",
        "credential_no": "",
        "username": "",
    }
    dataset.append([example[name] for name in StaffResource.columns()])
    dataset.title = "staff"
    return dataset


def dataset_of(raw: bytes, *, file_format: str) -> tablib.Dataset:
    """The first sheet of an xlsx workbook, or a csv file (UTF-8 or GB18030), as a dataset."""
    if file_format == "csv":
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError:
                continue
            return tablib.Dataset().load(text, format="csv")
        raise ValidationError(_("The CSV file is neither UTF-8 nor GB18030 text."))
    if file_format == "xlsx":
        try:
            return tablib.Dataset().load(raw, format="xlsx")
        except Exception as exc:  # openpyxl raises many types for a damaged file
            raise ValidationError(_("The file is not a readable xlsx workbook.")) from exc
    raise ValidationError(_("Unsupported file format %(format)s; use xlsx or csv.") % {"format": file_format})


# --- as a background job ---------------------------------------------------------------------------------------

STAFF_IMPORT_JOB = "staff_import"


def staff_import_start(
    *, actor: StaffMember, file_name: str, chunks: Iterable[bytes], import_good_rows: bool, language: str
) -> Job:
    """Keep the uploaded file outside the web root and import it in a job (a few thousand rows take seconds:
    longer than a page should wait). The file is deleted once imported."""
    suffix = ".csv" if file_name.lower().endswith(".csv") else ".xlsx"
    directory = Path(settings.PRIVATE_MEDIA_ROOT) / "staff-imports"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{uuid.uuid4().hex}{suffix}"
    with path.open("wb") as handle:
        for chunk in chunks:
            handle.write(chunk)
    return job_start(
        kind=STAFF_IMPORT_JOB,
        title=_("Staff import: %(name)s") % {"name": file_name[:100]},
        user=actor,
        params={
            "path": str(path),
            "format": suffix[1:],
            "file_name": file_name[:200],
            "import_good_rows": import_good_rows,
            "language": language,
        },
    )


@job_handler(
    STAFF_IMPORT_JOB,
    audience=(Role.TOWNSHIP_OFFICE, Role.DISTRICT_OFFICE),
    starters=(Role.TOWNSHIP_OFFICE, Role.DISTRICT_OFFICE),
)
def run_staff_import(job: Job, progress: ProgressReporter) -> JobOutput:
    params = job.params
    path = Path(params["path"])
    actor = StaffMember.objects.get(pk=job.created_by_id)
    # The report is written in the language of whoever uploaded the file.
    with translation.override(params.get("language") or settings.LANGUAGE_CODE):
        dataset = dataset_of(path.read_bytes(), file_format=params.get("format", "xlsx"))
        progress.total(len(dataset), _("Checking %(n)d rows") % {"n": len(dataset)})
        report = staff_import(dataset=dataset, actor=actor, import_good_rows=bool(params.get("import_good_rows")))
        progress.advance(len(dataset))
        if report.imported:
            message = _("Imported: %(new)d new, %(updated)d changed, %(unchanged)d unchanged.") % {
                "new": report.new,
                "updated": report.updated,
                "unchanged": report.unchanged,
            }
        elif report.problems:
            message = _("Nothing was imported: %(n)d line(s) need fixing.") % {"n": len(report.bad_lines)}
        else:
            message = _("Nothing to change: every row is as the staff list has it.")
    path.unlink(missing_ok=True)
    return JobOutput(result=report.as_result(), message=message)
