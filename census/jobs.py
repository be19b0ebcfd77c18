"""Running jobs: the handler registry, the services that move a job through its life, and the runner.

An app registers a handler for a job kind::

    @job_handler("summary_workbook")
    def build_workbook(job: Job, report: ProgressReporter) -> JobOutput:
        report.total(len(tables))
        ...
        report.advance()
        return JobOutput(content=data, file_name="summary.xlsx", result={"rows": n})

``job_start(kind=…, title=…, params=…, user=…)`` creates the row and enqueues ``census.tasks.run_job`` on
commit. The runner claims the job with a compare-and-swap update (so a job delivered twice runs once at a
time), calls the handler, and stores its output only at the end. A worker killed mid-way leaves the job
``running`` with a stale heartbeat; ``acks_late`` re-delivers the task and the runner takes it over.

A job nobody can run is never left ``queued``. ``job_start`` (and ``job_retry``) first make sure the task queue
(Redis) answers, and otherwise refuse with :class:`QueueUnavailable` (a 503 that says so) before anything is
written — the surrounding transaction, and the audit entry of the export with it, rolls back. Should the queue go
away between that check and the commit, the job is marked failed with the reason at once, and can be retried.
"""

from __future__ import annotations

import datetime
import logging
import os
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from census.api import ServiceUnavailable
from census.models import Role, StaffMember
from census.models.jobs import Job, JobStatus

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
# Redis accepts a connection in a millisecond; one that takes this long is as good as down.
QUEUE_CONNECT_TIMEOUT_SECONDS = 2


class QueueUnavailable(ServiceUnavailable):
    """The task queue (Redis, the Celery broker) cannot be reached: a job could not be handed to the workers."""

    def __init__(self) -> None:
        super().__init__(queue_unavailable_message(), code="queue_unavailable")


def queue_unavailable_message() -> str:
    return _(
        "The job could not be started: the task queue (Redis) cannot be reached. Nothing was started; "
        "try again in a few minutes."
    )


class JobFailed(Exception):
    """A failure a handler explains to the person who started the job: its message (translated, in Chinese by
    default) is shown on the job's page as it is. Any other exception is a fault of the system: the page says
    so in words of its own and the exception goes to the log and the job's ``error``, never to the page."""


def stale_after() -> datetime.timedelta:
    """How long a running job may stay silent before it counts as lost with its worker."""
    return datetime.timedelta(seconds=getattr(settings, "CENSUS_JOB_STALE_SECONDS", 600))


@dataclass
class JobOutput:
    """What a handler produced: small files as ``content``; large ones written by the handler to
    ``job_file_path(job, name)`` and named in ``stored_path`` (so a million-row export never sits in memory)."""

    content: bytes | None = None
    file_name: str = ""
    stored_path: Path | None = None
    result: dict[str, Any] = field(default_factory=dict)
    message: str = ""


def job_file_path(job: Job, file_name: str) -> Path:
    """Where a handler may stream a large result file; private storage, outside the web root."""
    directory = Path(settings.PRIVATE_MEDIA_ROOT) / "jobs" / str(job.pk)
    directory.mkdir(parents=True, exist_ok=True)
    return directory / file_name


Handler = Callable[[Job, "ProgressReporter"], JobOutput]
_HANDLERS: dict[str, Handler] = {}


@dataclass(frozen=True)
class JobKind:
    """Who a kind of job is for: ``audience``, the roles its content is meant for, and ``starters``, the roles
    that may start it."""

    audience: frozenset[str] = frozenset()
    starters: frozenset[str] = frozenset()


_KINDS: dict[str, JobKind] = {}


def job_handler(
    kind: str, *, audience: Iterable[str] = (), starters: Iterable[str] = ()
) -> Callable[[Handler], Handler]:
    """Register the handler of a job kind, and say whom its jobs are for.

    A job's file and result belong to whoever started it. Beyond them, only the roles of the kind's ``audience``
    see it (list, page, download), and only within their area: a township office the jobs started for its
    township, the district office and the auditor those of their district. Give it exactly the roles of the
    pages that show the same content (a file must not reach a role its page refuses): no audience at all keeps
    every job of the kind with whoever started it. ``starters`` are the roles that may start the kind: one of
    them may also start again a failed job of the kind that they see (a colleague's, the nightly run); anyone
    else only their own. The auditor reads and never starts anything again.
    """

    def register(handler: Handler) -> Handler:
        _HANDLERS[kind] = handler
        _KINDS[kind] = JobKind(audience=frozenset(audience), starters=frozenset(starters))
        return handler

    return register


def job_kinds() -> dict[str, JobKind]:
    """Every registered kind with whom it is for."""
    return dict(_KINDS)


def job_kinds_for(role: str) -> list[str]:
    """The kinds whose jobs started by others a user of ``role`` sees within their area."""
    return sorted(kind for kind, declared in _KINDS.items() if role in declared.audience)


def job_retry_allowed(*, user: StaffMember, job: Job) -> bool:
    """Whether ``user``, who sees ``job``, may start it again: whoever started it, or a role that may start its
    kind — never the auditor, who reads and does not write."""
    if not user.is_active or (user.role == Role.AUDITOR and not user.is_superuser):
        return False
    if user.is_superuser or (job.created_by_id is not None and job.created_by_id == user.pk):
        return True
    return user.role in _KINDS.get(job.kind, JobKind()).starters


def handler_for(kind: str) -> Handler:
    return _HANDLERS[kind]


class ProgressReporter:
    """Writes progress to the job row, at most every ``every`` steps, outside the handler's transaction."""

    def __init__(self, job: Job, every: int = 1) -> None:
        self.job = job
        self.every = max(1, every)
        self._pending = 0

    def total(self, total: int, message: str = "") -> None:
        self.job.total = total
        Job.objects.filter(pk=self.job.pk).update(
            total=total, progress=0, message=message[:500], started_at=timezone.now()
        )

    def advance(self, steps: int = 1, message: str = "") -> None:
        self._pending += steps
        if self._pending >= self.every or message:
            Job.objects.filter(pk=self.job.pk).update(
                progress=F("progress") + self._pending, message=message[:500], heartbeat_at=timezone.now()
            )
            self._pending = 0

    def flush(self) -> None:
        if self._pending:
            Job.objects.filter(pk=self.job.pk).update(
                progress=F("progress") + self._pending, heartbeat_at=timezone.now()
            )
            self._pending = 0


def job_start(
    *,
    kind: str,
    title: str,
    user: StaffMember | None,
    params: dict[str, Any] | None = None,
    township_id: str = "",
) -> Job:
    """Create a job and run it in a worker once the surrounding transaction commits; :class:`QueueUnavailable`
    when the task queue cannot be reached (nothing is created)."""
    if kind not in _HANDLERS:
        raise ValueError(f"no handler for job kind {kind!r}")
    _queue_required()
    job = Job.objects.create(
        kind=kind,
        title=title[:200],
        params=params or {},
        created_by=user,
        district_id=(user.district_id or "") if user is not None else "",
        township_id=township_id or ((user.township_id or "") if user is not None else ""),
    )
    _enqueue(job.pk)
    return job


def _queue_required() -> None:
    """Refuse now, while nothing is written, when the task queue does not answer: a fresh connection to the broker
    (a pooled one may be stale), one attempt, a short timeout. Jobs start a few times a day; this costs one
    connection and a PING each time."""
    from census.celery import app

    options = {"socket_connect_timeout": QUEUE_CONNECT_TIMEOUT_SECONDS}
    try:
        with app.connection_for_write(
            connect_timeout=QUEUE_CONNECT_TIMEOUT_SECONDS, transport_options=options
        ) as connection:
            connection.ensure_connection(max_retries=0)
    except Exception as exc:  # kombu's OperationalError, or whatever the transport raised
        logger.warning("the task queue cannot be reached (%s): no job is started", exc)
        raise QueueUnavailable from exc


def _enqueue(job_id: int) -> None:
    transaction.on_commit(lambda: _send(job_id))


def _send(job_id: int) -> None:
    """Hand a committed job to the workers. If the queue went away since :func:`_queue_required` asked, the job
    fails at once with the reason (it can be retried) rather than waiting as ``queued`` for a task that was never
    sent; the request that started it has already answered."""
    from census.tasks import run_job

    try:
        run_job.delay(job_id)
    except Exception:
        logger.warning("job %s could not be handed to the task queue", job_id, exc_info=True)
        reason = queue_unavailable_message()
        Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
            status=JobStatus.FAILED, error=reason, message=reason[:500], finished_at=timezone.now()
        )


def job_retry(*, job: Job) -> Job:
    """Start a failed job again from the beginning; :class:`QueueUnavailable` (and the job stays failed) when the
    task queue cannot be reached."""
    _queue_required()
    updated = Job.objects.filter(pk=job.pk, status=JobStatus.FAILED).update(
        status=JobStatus.QUEUED, progress=0, error="", message=_("Retrying"), finished_at=None
    )
    if not updated:
        raise ValueError("only a failed job can be retried")
    _enqueue(job.pk)
    job.refresh_from_db()
    return job


def jobs_recover() -> list[int]:
    """Start again every running job whose worker went silent (killed, out of memory, machine restarted).

    Handlers store their result only when they finish, so a job started again from the beginning leaves no
    half-written result; after ``MAX_ATTEMPTS`` it fails with the reason instead of looping.
    """
    cutoff = timezone.now() - stale_after()
    restarted = []
    for job in Job.objects.filter(status=JobStatus.RUNNING, heartbeat_at__lt=cutoff):
        if job.attempts >= MAX_ATTEMPTS:
            reason = _("The worker stopped %(n)d times while running this job.") % {"n": job.attempts}
            Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
                status=JobStatus.FAILED, error=reason, message=reason[:500], finished_at=timezone.now()
            )
            continue
        if Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING, heartbeat_at__lt=cutoff).update(
            status=JobStatus.QUEUED, progress=0, message=_("Started again after its worker stopped.")
        ):
            _enqueue(job.pk)
            restarted.append(job.pk)
    return restarted


def job_run(job_id: int) -> None:
    """Run a job: claim it, call its handler, store the output. Safe to call twice for the same id."""
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING, started_at=now, heartbeat_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        # Re-delivered after a worker died: take over a job whose runner stopped reporting.
        claimed = Job.objects.filter(pk=job_id, status=JobStatus.RUNNING, heartbeat_at__lt=now - stale_after()).update(
            started_at=now, heartbeat_at=now, attempts=F("attempts") + 1, progress=0
        )
    if not claimed:
        return  # done, failed, or running elsewhere
    job = Job.objects.get(pk=job_id)
    reporter = ProgressReporter(job)
    try:
        output = handler_for(job.kind)(job, reporter)
        reporter.flush()
    except JobFailed as exc:
        logger.warning("job %s (%s) refused: %s", job_id, job.kind, exc)
        Job.objects.filter(pk=job_id).update(
            status=JobStatus.FAILED, error=str(exc)[:2000], message=str(exc)[:500], finished_at=timezone.now()
        )
        return
    except Exception as exc:
        logger.exception("job %s (%s) failed", job_id, job.kind)
        # No message: the page shows its own words for a fault (census/job_status.html), not the exception.
        Job.objects.filter(pk=job_id).update(
            status=JobStatus.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:2000],
            message="",
            finished_at=timezone.now(),
        )
        logger.debug("%s", traceback.format_exc())
        return
    job.refresh_from_db()
    if output.stored_path is not None:
        job.file.name = str(Path(output.stored_path).relative_to(settings.PRIVATE_MEDIA_ROOT))
        job.file_name = output.file_name or Path(output.stored_path).name
    elif output.content is not None:
        job.file.save(output.file_name or f"job-{job.pk}", ContentFile(output.content), save=False)
        job.file_name = output.file_name
    if job.file:
        # Exports hold personal data: readable by the service's own account only.
        os.chmod(job.file.path, 0o600)
    job.result = output.result
    job.message = output.message[:500]
    job.status = JobStatus.DONE
    job.progress = job.total
    job.finished_at = timezone.now()
    job.save(update_fields=["file", "file_name", "result", "message", "status", "progress", "finished_at"])
