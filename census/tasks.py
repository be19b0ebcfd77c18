"""Celery tasks of the census frame."""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone


@shared_task(name="census.tasks.heartbeat", ignore_result=False)
def heartbeat() -> str:
    """Record that beat and a worker are alive; /healthz shows the time of the last beat."""
    now = timezone.now().isoformat()
    cache.set("census:last-heartbeat", now, timeout=None)
    return now


@shared_task(name="census.tasks.ping", ignore_result=False)
def ping() -> str:
    return "pong"


# No result in the result backend: the job's row is its result. Keeping one also made every start subscribe to
# the result in Redis first, which without Redis retried for 19 seconds before failing.
@shared_task(
    name="census.tasks.run_job",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(Exception,),
    retry_backoff=5,
    max_retries=3,
    ignore_result=True,
)
def run_job(job_id: int) -> None:
    """Run one background job (imports, exports, check runs). Safe to deliver twice."""
    from census.jobs import job_run

    job_run(job_id)


@shared_task(name="census.tasks.recover_jobs")
def recover_jobs() -> list[int]:
    """Beat: start again the jobs whose worker went silent."""
    from census.jobs import jobs_recover

    return jobs_recover()


@shared_task(name="census.tasks.seal_audit_log")
def seal_audit_log() -> int:
    """Beat, every minute: link the new audit entries into the chain. Returns how many were sealed."""
    from census.audit_chain import audit_chain_seal

    return audit_chain_seal().linked


@shared_task(name="census.tasks.verify_audit_log")
def verify_audit_log() -> int:
    """Beat, nightly: reread the whole log for entries to seal, then verify the whole chain (the auditor's
    page shows the result). Returns how many problems were found."""
    from census.audit_chain import audit_chain_seal, audit_chain_verify

    audit_chain_seal(sweep=True)
    return audit_chain_verify().problem_count
