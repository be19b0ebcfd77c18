"""Job handlers of the quality part: coordinating a check run, importing the hukou roster.

Whom each kind is for (``@job_handler(audience=…, starters=…)``; the rule is in ``census.jobs.job_handler``):

``quality_check_run`` — the progress and counts of a check run.
    audience and starters: township office, district office — the roles of the check-run pages (``OFFICES``);
    a failed run, the nightly one too, is started again by an office that sees it.
``quality_roster_import`` — the import of the district's hukou roster: its file name, rows, the lines refused.
    audience and starters: the district office, the only role that imports the roster.
"""

from __future__ import annotations

from pathlib import Path

from django.utils.translation import gettext as _

from census.jobs import JobFailed, JobOutput, ProgressReporter, job_handler
from census.models import Job, Role
from supervision.quality.models import CheckRun, RunStatus
from supervision.quality.presentation import run_counts_text
from supervision.quality.resources import RosterImportError
from supervision.quality.services import (
    ROSTER_JOB_KIND,
    RUN_JOB_KIND,
    check_run_execute,
    check_run_resume,
    check_run_start,
    roster_import,
)
from supervision.quality.views import OFFICES

DISTRICT = (Role.DISTRICT_OFFICE,)


@job_handler(RUN_JOB_KIND, audience=OFFICES, starters=OFFICES)
def coordinate_check_run(job: Job, report: ProgressReporter) -> JobOutput:
    """Watch (and help with) a run whose parts are Celery tasks of their own; the parts move the progress bar."""
    run = CheckRun.objects.get(pk=job.params["run_id"])
    check_run_resume(run_id=run.pk)  # a retried job starts its failed parts again
    Job.objects.filter(pk=job.pk).update(total=run.parts_total, progress=run.parts_done)
    run = check_run_execute(run_id=run.pk)
    if run.status != RunStatus.DONE:
        # The parts' errors are the system's (they stay in the run's error and the log); the page says what to do.
        raise JobFailed(_("Part of the check run failed, so it did not finish. Start it again (Retry)."))
    counts = run.stats.get("counts", {})
    return JobOutput(
        result={"run_id": run.pk, **counts, "households": run.stats.get("households", 0)},
        message=run_counts_text(counts),
    )


@job_handler(ROSTER_JOB_KIND, audience=DISTRICT, starters=DISTRICT)
def import_roster(job: Job, report: ProgressReporter) -> JobOutput:
    """Import an uploaded roster; on success start a check run so that the comparison and its findings follow."""
    path = Path(job.params["path"])
    report.total(2, message=str(job.title))
    try:
        result = roster_import(
            actor=job.created_by,
            path=path,
            district_code=job.params["district"],
            file_name=job.params.get("file_name", ""),
        )
    except RosterImportError as exc:
        # The messages name the lines; the job fails with them and can be retried after the file is fixed.
        raise JobFailed("; ".join(exc.messages[:20])) from exc
    finally:
        path.unlink(missing_ok=True)
    report.advance()
    run = check_run_start(user=job.created_by, mode="incremental") if job.created_by else None
    report.advance()
    return JobOutput(
        result={"rows": result.rows, "replaced": result.replaced, "run_id": run.pk if run else None},
        message=_("%(rows)d rows in %(seconds).1f s") % {"rows": result.rows, "seconds": result.seconds},
    )
