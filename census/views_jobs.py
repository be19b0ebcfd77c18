"""Job pages: status with a live progress bar, download of the result, retry of a failed job.

Every signed-in role has these pages; which jobs each one finds on them is ``Job.objects.visible_to`` (its own,
and those its role is the audience of), and who may start a failed one again is ``job_retry_allowed``.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from census.jobs import job_retry, job_retry_allowed
from census.listing import paginate_list
from census.models import AuditAction, Job
from census.permissions import StaffRequest, any_role, url_objects
from census.services import audit_record


@require_GET
@any_role
def job_list(request: StaffRequest) -> HttpResponse:
    listing = paginate_list(
        request,
        Job.objects.visible_to(request.user).select_related("created_by"),
        search_fields=("title", "kind"),
        sortable=("created_at", "status", "kind"),
        default_sort="-created_at",
    )
    return render(request, "census/job_list.html", {"listing": listing})


@require_GET
@any_role
@url_objects(pk=Job)
def job_detail(request: StaffRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(Job.objects.visible_to(request.user), pk=pk)
    template = "census/job_status.html" if request.htmx else "census/job_detail.html"  # type: ignore[attr-defined]
    return render(request, template, {"job": job})


@require_GET
@any_role
@url_objects(pk=Job)
def job_download(request: StaffRequest, pk: int) -> FileResponse:
    job = get_object_or_404(Job.objects.visible_to(request.user), pk=pk)
    if not job.file:
        raise Http404
    audit_record(
        actor=request.user,
        action=AuditAction.EXPORT,
        object_type="job",
        object_id=job.pk,
        detail={"kind": job.kind, "file": job.file_name},
    )
    return FileResponse(
        job.file.open("rb"), as_attachment=True, filename=job.file_name or job.file.name.rsplit("/", 1)[-1]
    )


@require_POST
@any_role
@url_objects(pk=Job)
def job_retry_view(request: StaffRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(Job.objects.visible_to(request.user), pk=pk)
    if not job_retry_allowed(user=request.user, job=job):
        raise PermissionDenied
    try:
        job_retry(job=job)
    except ValueError:
        messages.error(request, _("Only a failed job can be retried."))
    else:
        messages.success(request, _("The job has been started again."))
    return redirect("jobs:detail", pk=job.pk)
