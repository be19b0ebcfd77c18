"""Serving evidence files: only to users whose scope covers them (404 otherwise), and every download audited."""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from census.models import AuditAction
from census.permissions import StaffRequest, any_role, url_objects
from census.services import audit_record
from supervision.organisation.models import EvidenceFile


@require_GET
@any_role
@url_objects(pk=EvidenceFile)
def evidence_download(request: StaffRequest, pk: int) -> FileResponse:
    evidence = get_object_or_404(EvidenceFile.objects.visible_to(request.user), pk=pk)
    try:
        handle = evidence.file.open("rb")
    except FileNotFoundError:
        raise Http404
    audit_record(
        actor=request.user,
        action=AuditAction.EXPORT,
        object_type="organisation.evidence_file",
        object_id=evidence.pk,
        detail={"file": evidence.original_name, "sha256": evidence.sha256},
        ip_address=request.META.get("REMOTE_ADDR"),
    )
    response = FileResponse(
        handle, as_attachment=True, filename=evidence.original_name, content_type=evidence.content_type
    )
    response["Cache-Control"] = "private, no-store"
    return response
