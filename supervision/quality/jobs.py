"""Job handlers of the quality part: coordinating a check run, importing the hukou roster."""

from __future__ import annotations

from census.jobs import JobOutput, ProgressReporter, job_handler
from census.models import Job
from supervision.quality.models import CheckRun, RunStatus
from supervision.quality.services import RUN_JOB_KIND, check_run_execute


@job_handler(RUN_JOB_KIND)
def coordinate_check_run(job: Job, report: ProgressReporter) -> JobOutput:
    """Watch (and help with) a run whose parts are Celery tasks of their own; the parts move the progress bar."""
    run = CheckRun.objects.get(pk=job.params["run_id"])
    Job.objects.filter(pk=job.pk).update(total=run.parts_total)
    run = check_run_execute(run_id=run.pk)
    if run.status != RunStatus.DONE:
        raise RuntimeError(run.error or "the run did not finish")
    counts = run.stats.get("counts", {})
    return JobOutput(
        result={"run_id": run.pk, **counts, "households": run.stats.get("households", 0)},
        message=", ".join(f"{name}: {count}" for name, count in sorted(counts.items())),
    )
