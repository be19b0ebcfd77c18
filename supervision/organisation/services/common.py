"""Shared by the organisation services: the audit entry, who may act for a department, evidence uploads."""

from __future__ import annotations

import datetime
import hashlib
import zipfile
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from census.models import AuditAction, Department, Role, StaffMember
from census.services import audit_record
from supervision.organisation.models import EvidenceFile, EvidenceKind

EXTENSIONS = {
    "pdf": EvidenceKind.PDF,
    "jpg": EvidenceKind.JPG,
    "jpeg": EvidenceKind.JPG,
    "png": EvidenceKind.PNG,
    "docx": EvidenceKind.DOCX,
    "xlsx": EvidenceKind.XLSX,
}
# Parts that only a Word document / an Excel workbook has inside its ZIP container.
OOXML_MARKERS = {EvidenceKind.DOCX: "word/document.xml", EvidenceKind.XLSX: "xl/workbook.xml"}


def audit_change(*, actor: StaffMember | None, object_type: str, object_id: object, **detail: Any) -> None:
    audit_record(
        actor=actor,
        action=AuditAction.RECORD_CHANGE,
        object_type=f"organisation.{object_type}",
        object_id=str(object_id),
        detail={key: _plain(value) for key, value in detail.items()},
    )


def _plain(value: Any) -> Any:
    """JSON-friendly values for the audit detail."""
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def today() -> datetime.date:
    return timezone.localdate()


def not_in_future(day: datetime.date, *, field: str) -> None:
    if day > today():
        raise ValidationError({field: _("The date cannot be in the future.")})


def department_check(*, actor: StaffMember, department: Department) -> None:
    """A department user acts only for their own department; everyone only within their district."""
    if actor.is_superuser:
        return
    if department.district_id != actor.district_id:
        raise ValidationError(_("The department belongs to another district."))
    if actor.role == Role.DEPARTMENT and actor.department_id != department.pk:
        raise ValidationError(_("You can act only for your own department."))


# --- evidence files ------------------------------------------------------------------------------------


def _upload_error(message: str) -> ValidationError:
    # Keyed by the form field every page uses for the file, so the message appears next to it.
    return ValidationError({"upload": message})


def evidence_kind_of(upload: IO[bytes], *, name: str, size: int) -> str:
    """The evidence type of an upload, from its content; refuses what is empty, too large, of a type not
    allowed, or whose content does not match its name (a renamed executable is not a PDF)."""
    max_bytes = settings.ORGANISATION_EVIDENCE_MAX_BYTES
    allowed = [EXTENSIONS[t] for t in settings.ORGANISATION_EVIDENCE_TYPES if t in EXTENSIONS]
    if size <= 0:
        raise _upload_error(_("The file “%(name)s” is empty.") % {"name": name})
    if size > max_bytes:
        raise _upload_error(
            _("The file “%(name)s” is %(size).1f MB; evidence files may be at most %(max)d MB.")
            % {"name": name, "size": size / 1024 / 1024, "max": max_bytes // (1024 * 1024)}
        )
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    claimed = EXTENSIONS.get(extension)
    allowed_names = ", ".join(sorted({str(kind.label) for kind in allowed}))
    if claimed is None or claimed not in allowed:
        raise _upload_error(
            _("“%(name)s” is not an allowed type of evidence. Allowed: %(types)s.")
            % {"name": name, "types": allowed_names}
        )
    actual = _sniff(upload)
    if actual != claimed:
        raise _upload_error(
            _("The content of “%(name)s” is not a %(kind)s file. Upload the document itself, not a renamed file.")
            % {"name": name, "kind": claimed.label}
        )
    return claimed.value


def _sniff(upload: IO[bytes]) -> EvidenceKind | None:
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    if head.startswith(b"%PDF-"):
        return EvidenceKind.PDF
    if head.startswith(b"\xff\xd8\xff"):
        return EvidenceKind.JPG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return EvidenceKind.PNG
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(upload) as archive:
                names = set(archive.namelist())
        except zipfile.BadZipFile:
            return None
        finally:
            upload.seek(0)
        for kind, marker in OOXML_MARKERS.items():
            if marker in names and "[Content_Types].xml" in names:
                return kind
    return None


@transaction.atomic
def evidence_store(
    *,
    upload: UploadedFile,
    actor: StaffMember,
    district_id: str,
    township_id: str | None = None,
    department_id: int | None = None,
    description: str = "",
) -> EvidenceFile:
    """Check an upload and keep it in private storage, with the scope of what it documents."""
    name = (upload.name or "").rsplit("/", 1)[-1][:200]
    kind = evidence_kind_of(upload, name=name, size=upload.size or 0)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    evidence = EvidenceFile(
        district_id=district_id,
        township_id=township_id,
        department_id=department_id,
        original_name=name,
        kind=kind,
        size=upload.size or 0,
        sha256=digest.hexdigest(),
        description=description[:200],
        uploaded_by=actor,
    )
    # Everything is checked before the file touches the disk.
    evidence.full_clean(exclude=["file"])
    evidence.file.save(name, upload, save=False)
    evidence.save()
    audit_change(
        actor=actor,
        object_type="evidence_file",
        object_id=evidence.pk,
        uploaded=name,
        kind=kind,
        size=evidence.size,
        sha256=evidence.sha256,
    )
    return evidence


def evidence_optional(
    *,
    upload: UploadedFile | None,
    actor: StaffMember,
    district_id: str,
    township_id: str | None = None,
    department_id: int | None = None,
    description: str = "",
) -> EvidenceFile | None:
    if upload is None:
        return None
    return evidence_store(
        upload=upload,
        actor=actor,
        district_id=district_id,
        township_id=township_id,
        department_id=department_id,
        description=description,
    )
