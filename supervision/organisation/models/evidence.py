"""Evidence files: the documents behind every readiness step, rectification answer, removal and figure.

Files live under ``settings.PRIVATE_MEDIA_ROOT`` (outside the web root) with random names, and are served
only by :func:`supervision.organisation.views.evidence.evidence_download`, which checks the user's scope and
writes the download to the audit log. Each file carries the scope of what it documents (district, and a
township or a department), so ``EvidenceFile.objects.visible_to(user)`` decides who may fetch it.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

from census.models import Department, District, Township
from census.scoping import ScopedQuerySet, ScopeKind, scope_of


@deconstructible
class PrivateStorage(FileSystemStorage):
    """File storage rooted at ``PRIVATE_MEDIA_ROOT``, read when used (so a test or a deployment can move it)
    and without a URL: nothing here is reachable except through a view that checks scope."""

    @property  # type: ignore[override]
    def base_location(self) -> str:
        return str(settings.PRIVATE_MEDIA_ROOT)

    @property  # type: ignore[override]
    def location(self) -> str:
        return os.path.abspath(self.base_location)

    @property  # type: ignore[override]
    def base_url(self) -> None:  # type: ignore[override]
        return None


private_storage = PrivateStorage()


def evidence_storage() -> PrivateStorage:
    return private_storage


class EvidenceKind(models.TextChoices):
    PDF = "pdf", "PDF"
    JPG = "jpg", "JPEG"
    PNG = "png", "PNG"
    DOCX = "docx", "Word (docx)"
    XLSX = "xlsx", "Excel (xlsx)"


def evidence_upload_to(instance: EvidenceFile, filename: str) -> str:
    # A random name: the original name is kept in a column, never in a path.
    now = timezone.now()
    return f"organisation/evidence/{now:%Y/%m}/{uuid.uuid4().hex}.{instance.kind}"


class EvidenceFileQuerySet(ScopedQuerySet["EvidenceFile"]):
    scope_fields = {"district": "district_id", "township": "township_id", "department": "department_id"}

    def visible_to(self, user):  # type: ignore[no-untyped-def,override]
        # Least access: enumerators and supervisors have no page that shows evidence, so they fetch none.
        if scope_of(user).kind is ScopeKind.SMALL_AREAS:
            return self.none()
        return super().visible_to(user)


class EvidenceFile(models.Model):
    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+", verbose_name=_("district"))
    township = models.ForeignKey(
        Township, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("township")
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("department")
    )
    file = models.FileField(_("file"), upload_to=evidence_upload_to, storage=evidence_storage, max_length=300)
    original_name = models.CharField(_("file name"), max_length=200)
    kind = models.CharField(_("type"), max_length=5, choices=EvidenceKind.choices)
    size = models.PositiveIntegerField(_("size in bytes"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    description = models.CharField(_("description"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("uploaded by")
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    objects = EvidenceFileQuerySet.as_manager()

    class Meta:
        verbose_name = _("evidence file")
        verbose_name_plural = _("evidence files")
        ordering = ["-uploaded_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(township__isnull=True) | Q(department__isnull=True),
                name="evidence_township_or_department",
            ),
            models.CheckConstraint(condition=Q(size__gt=0), name="evidence_not_empty"),
            models.CheckConstraint(condition=Q(sha256__regex=r"^[0-9a-f]{64}$"), name="evidence_sha256_hex"),
            models.CheckConstraint(condition=Q(kind__in=[k.value for k in EvidenceKind]), name="evidence_kind_known"),
        ]

    def __str__(self) -> str:
        return self.original_name

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.kind]

    def scope_kwargs(self) -> dict[str, Any]:
        return {"district_id": self.district_id, "township_id": self.township_id, "department_id": self.department_id}


CONTENT_TYPES: dict[str, str] = {
    EvidenceKind.PDF: "application/pdf",
    EvidenceKind.JPG: "image/jpeg",
    EvidenceKind.PNG: "image/png",
    EvidenceKind.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    EvidenceKind.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
