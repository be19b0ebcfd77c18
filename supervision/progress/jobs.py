"""Background jobs of the progress part: summary workbook / CSV, microdata, dashboard-table exports.

Each handler reads as the person who started the job (``job.created_by``), through ``visible_to`` — a job
never sees more than its requester could see on the page.

Whom each kind is for (``@job_handler(audience=…, starters=…)``; the rule is in ``census.jobs.job_handler``):

``progress_table`` — a dashboard table: townships, villages, small areas, the enumerator ranking.
    audience: township office, district office — the roles of the dashboards (``OFFICE``); a ranking of
    colleagues is not for enumerators, supervisors or the auditor, whom the dashboards refuse.
    starters: township office, district office (the export button of each table).
``progress_summary`` — the district's summary tables (a city office's: its districts' together).
    audience: the district office; starters: the district office and a city office (the exports page).
``progress_microdata`` — pseudonymous person-level rows.
    audience: nobody — the file stays with whoever asked for it, even among the district office.
    starters: the district office (the exports page).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from census.db_router import replica_reads
from census.jobs import JobFailed, JobOutput, ProgressReporter, job_file_path, job_handler
from census.models import AuditAction, Job, Role, StaffMember, Township, district_of
from census.services import audit_record
from supervision.progress import microdata, public_use, services
from supervision.progress.summaries import build_summary, check_summary, write_csv_zip, write_xlsx
from supervision.progress.summaries.pdf import write_pdf
from supervision.progress.tables import TABLES, export_xlsx, table_data
from supervision.progress.views import OFFICE

DISTRICT = (Role.DISTRICT_OFFICE,)
# A city office exports its districts' summary tables together; the job stays with whoever started it (a city's
# job lies in no district).
SUMMARY = (Role.DISTRICT_OFFICE, Role.CITY_OFFICE)


class ExportRefused(JobFailed):
    pass


def _requester(job: Job, *, allowed: Callable[[StaffMember], bool] | None = None, refusal: str = "") -> StaffMember:
    """Whoever started the job, if they are still active and (``allowed``) still hold a role that may export it."""
    user = job.created_by
    if user is None or not user.is_active:
        raise ExportRefused(_("The person who started this export no longer has an active account."))
    if allowed is not None and not allowed(user):
        raise ExportRefused(refusal)
    return user


def _stamp() -> str:
    return timezone.localtime().strftime("%Y%m%d-%H%M")


@job_handler(services.EXPORT_SUMMARY, audience=DISTRICT, starters=SUMMARY)
def summary_export(job: Job, report: ProgressReporter) -> JobOutput:
    user = _requester(
        job,
        allowed=services.exports_summary,
        refusal=_("Only the district or city census office may export summary tables."),
    )
    file_format = job.params.get("format", "xlsx")
    report.total(3, _("Computing the tables"))
    # The tables read the replica when it is close enough behind (census/db_router.py).
    with translation.override(settings.LANGUAGE_CODE), replica_reads():
        summary = build_summary(user=user)
        report.advance(message=_("Checking that the tables balance"))
        checks = check_summary(summary)  # BalanceError fails the job and says where
        report.advance(message=_("Writing the file"))
        extension = {"xlsx": "xlsx", "pdf": "pdf"}.get(file_format, "zip")
        office = user.city_id if user.role == Role.CITY_OFFICE and user.city_id else district_of(user).code
        name = f"summary-{office}-{_stamp()}.{extension}"
        path = job_file_path(job, name)
        if file_format == "xlsx":
            write_xlsx(summary, path)
        elif file_format == "pdf":
            write_pdf(summary, path)
        else:
            write_csv_zip(summary, path)
        report.advance()
        population = summary.table("T01").total("persons")
        message = _("%(n)d tables, %(checks)d balance checks passed.") % {
            "n": len(summary.tables),
            "checks": len(checks),
        }
    return JobOutput(
        stored_path=path,
        file_name=name,
        result={"tables": len(summary.tables), "checks": len(checks), "population": population},
        message=message,
    )


@job_handler(services.EXPORT_MICRODATA, audience=(), starters=DISTRICT)
def microdata_export(job: Job, report: ProgressReporter) -> JobOutput:
    user = _requester(
        job, allowed=services.exports_district_data, refusal=_("Only the district census office may export microdata.")
    )
    forms = job.params.get("forms", "accepted")
    if forms == "public":
        return _public_use_export(job, report, user)
    if forms not in microdata.FORMS:
        raise ExportRefused(_("Unknown choice of forms: %(forms)s") % {"forms": forms})
    # The rows are read on the replica when it is close enough behind (census/db_router.py): the count and the
    # streams together, the replica chosen once; the audit entry is written (and anything it reads read) after.
    with replica_reads():
        path, name, rows = _microdata_rows(job, report, user, forms)
    audit_record(
        actor=user,
        action=AuditAction.EXPORT,
        object_type="microdata",
        object_id=job.pk,
        detail={"forms": forms, "rows": rows, "columns": microdata.HEADER},
    )
    return JobOutput(stored_path=path, file_name=name, result={"rows": rows}, message=_("%(n)d rows.") % {"n": rows})


def _microdata_rows(job: Job, report: ProgressReporter, user: StaffMember, forms: str) -> tuple[Path, str, int]:
    total = microdata.count(user=user, forms=forms)
    report.total(total, _("Writing the rows"))
    name = f"microdata-{district_of(user).code}-{forms}-{_stamp()}.csv"
    path = job_file_path(job, name)

    reported = 0

    def progress(rows: int, township: str) -> None:
        # Forms accepted while the export runs can add rows beyond the count made at the start.
        nonlocal reported
        step = max(0, min(rows, total - reported))
        reported += step
        report.advance(step, message=township)

    return path, name, microdata.export_to_file(user=user, forms=forms, path=path, progress=progress)


def _public_use_export(job: Job, report: ProgressReporter, user: StaffMember) -> JobOutput:
    """The public-use file (``public_use``): disclosure-controlled, with the k reached and the information
    loss stated in the job's result and message and in the audit log."""
    report.total(1, _("Writing the rows"))
    file_format = job.params.get("format", "csv")
    if file_format not in public_use.FORMATS:
        raise ExportRefused(_("Choose CSV, Stata, SPSS or Parquet."))
    name = f"public-use-{district_of(user).code}-{file_format}-{_stamp()}.zip"
    path = job_file_path(job, name)
    control = public_use.export_public(user=user, path=path, file_format=file_format)
    report.advance()
    audit_record(
        actor=user,
        action=AuditAction.EXPORT,
        object_type="microdata_public",
        object_id=job.pk,
        detail={**control.as_dict(), "columns": list(public_use.HEADER), "format": file_format},
    )
    message = _(
        "%(rows)d rows; k = %(k)d on %(qi)s (target %(target)d); %(cells)d cells suppressed (%(share)s%% of the "
        "quasi-identifier cells), %(dropped)d records left out."
    ) % {
        "rows": control.rows_out,
        "k": control.k_reached,
        "qi": ", ".join(public_use.QUASI_IDENTIFIERS),
        "target": control.k_target,
        "cells": sum(control.suppressed.values()),
        "share": f"{control.cells_suppressed_share:.3f}",
        "dropped": control.dropped,
    }
    return JobOutput(stored_path=path, file_name=name, result=control.as_dict(), message=message)


@job_handler(services.EXPORT_TABLE, audience=OFFICE, starters=OFFICE)
def table_export(job: Job, report: ProgressReporter) -> JobOutput:
    user = _requester(job)
    spec = TABLES[job.params["table"]]
    township = None
    if spec.needs_township:
        township = Township.objects.visible_to(user).get(code=job.params.get("township", ""))
    report.total(1)
    params = {key: str(job.params.get(key, "")) for key in ("village", "q", "sort") if job.params.get(key)}
    with translation.override(settings.LANGUAGE_CODE), replica_reads():
        _listing, data = table_data(spec, user=user, township=township, params=params, everything=True)
        title = f"{spec.title} · {township.name if township else district_of(user).name}"
        content = export_xlsx(data, title=title)
    report.advance()
    return JobOutput(
        content=content, file_name=f"{spec.name}-{_stamp()}.xlsx", result={"rows": len(data.rows)}, message=title
    )
