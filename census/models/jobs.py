"""Background jobs: every long import, export or check run has a status row the page can watch.

A job row is created by a service, a Celery task (enqueued on commit) does the work through a registered
handler, and the handler reports progress. The status moves queued → running → done | failed; a failed job
says why and can be retried, which starts it again from the beginning (handlers write their result only
when they finish, so a retry never sees half a result).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from census.scoping import ScopedQuerySet


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class JobQuerySet(ScopedQuerySet["Job"]):
    scope_fields = {"district": "district_id", "township": "township_id"}

    def visible_to(self, user):  # type: ignore[no-untyped-def,override]
        """A job belongs to whoever started it. Others see it only when its kind's content is meant for their role
        (the kind's ``audience``, declared with ``@job_handler``) and it lies in their scope: a township office
        the jobs of its township, the district office and the auditor those of their district. An enumerator
        never sees the township's payment sheet or ranking just because the job lies in their township."""
        from census.jobs import job_kinds_for  # the registry imports the models

        if not user.is_authenticated:
            return self.none()
        if user.is_superuser:
            return self.all()
        own = self.filter(created_by=user)
        kinds = job_kinds_for(user.role)
        if not kinds:
            return own
        return own | super().visible_to(user).filter(kind__in=kinds)

    def active(self) -> JobQuerySet:
        return self.filter(status__in=(JobStatus.QUEUED, JobStatus.RUNNING))


class Job(models.Model):
    kind = models.CharField(_("kind"), max_length=50)
    title = models.CharField(_("title"), max_length=200)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress = models.PositiveIntegerField(_("done"), default=0)
    total = models.PositiveIntegerField(_("total"), default=0)
    message = models.CharField(_("message"), max_length=500, blank=True)
    error = models.TextField(_("error"), blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    # Files are written under PRIVATE_MEDIA_ROOT and served only through the job's download view.
    file = models.FileField(_("file"), upload_to="jobs/%Y/%m/", blank=True, max_length=300)
    file_name = models.CharField(_("file name"), max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="jobs",
        verbose_name=_("started by"),
    )
    district_id = models.CharField(_("district"), max_length=6, blank=True)
    township_id = models.CharField(_("township"), max_length=9, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    # Written with every progress report; a running job whose heartbeat stops was lost with its worker.
    heartbeat_at = models.DateTimeField(_("last sign of life"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(total=0) | Q(progress__lte=models.F("total")), name="job_progress_within_total"
            ),
        ]
        indexes = [models.Index(fields=["kind", "status"]), models.Index(fields=["created_by", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} {self.status}"

    @property
    def percent(self) -> int:
        if self.status == JobStatus.DONE:
            return 100
        if not self.total:
            return 0
        return min(100, int(100 * self.progress / self.total))

    @property
    def is_finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED)
