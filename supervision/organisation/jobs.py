"""Background jobs of the organisation part: the township's 两员 subsidy payment sheet (xlsx).

Whom each kind is for (``@job_handler(audience=…, starters=…)``; the rule is in ``census.jobs.job_handler``):

``organisation_subsidy_sheet`` — every colleague's name, credential, amounts, reductions and their reasons.
    audience: township office, district office — exactly the roles of the subsidy pages (``OFFICE_ROLES``);
    not the auditor, whom those pages refuse, nor field workers, who see only what they themselves are owed.
    starters: township office, district office (the subsidy list starts it).
"""

from __future__ import annotations

from io import BytesIO

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override, pgettext

from census.jobs import JobOutput, ProgressReporter, job_handler
from census.models import Job, StaffMember, Township
from census.spreadsheets import workbook_new
from supervision.organisation.models import SubsidyPhase
from supervision.organisation.selectors import subsidy_sheet_rows
from supervision.organisation.views.common import OFFICE_ROLES

PHASES = list(SubsidyPhase)


@job_handler("organisation_subsidy_sheet", audience=OFFICE_ROLES, starters=OFFICE_ROLES)
def subsidy_sheet(job: Job, report: ProgressReporter) -> JobOutput:
    """One row per person: households and amount by phase, reduction with its reason, due, paid, outstanding,
    and an empty column for the recipient's signature (签字) — what a township hands out when it pays."""
    # (openpyxl is imported where a workbook is written: see census.spreadsheets.workbook_new.)
    from openpyxl.styles import Alignment, Font

    user = job.created_by
    if not isinstance(user, StaffMember):
        raise ValueError("the job has no user to scope it")
    # Scoped like any read: a township office cannot build another township's sheet.
    township = Township.objects.visible_to(user).get(pk=job.params["township"])
    with override("zh-hans"):
        rows = subsidy_sheet_rows(user=user, township=township)
        report.total(len(rows) or 1, _("Building the sheet"))
        book = workbook_new()
        sheet = book.active
        assert sheet is not None
        sheet.title = township.code
        title = _("“Two staff” subsidy payment sheet · %(township)s") % {"township": township.name}
        sheet.append([title])
        sheet["A1"].font = Font(bold=True, size=14)
        sheet.append([_("Printed %(when)s") % {"when": timezone.localtime().strftime("%Y-%m-%d %H:%M")}])
        headers = [
            pgettext("a row's number in a sheet", "No."),
            _("Name"),
            _("Username"),
            _("Role"),
            _("Credential number"),
        ]
        for phase in PHASES:
            # Whole sentences to translate: a word inside an f-string is never extracted ("摸底 · yuan").
            headers += [
                _("%(phase)s · households") % {"phase": phase.label},
                _("%(phase)s · yuan") % {"phase": phase.label},
            ]
        headers += [
            _("Reduction"),
            _("Reason for the reduction"),
            _("Due"),
            _("Paid"),
            _("Outstanding"),
            _("Signature"),
        ]
        sheet.append(headers)
        for cell in sheet[3]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        totals = {"due": 0.0, "paid": 0.0, "outstanding": 0.0}
        for number, row in enumerate(rows, start=1):
            line: list[object] = [
                number,
                row.staff.get_full_name(),
                row.staff.username,
                row.staff.get_role_display(),
                row.staff.credential_no,
            ]
            for phase in PHASES:
                line += [row.households.get(phase, 0), float(row.earned.get(phase, 0))]
            line += [
                float(row.reduction),
                "; ".join(row.reduction_reasons),
                float(row.due),
                float(row.paid),
                float(row.outstanding),
                "",
            ]
            sheet.append(line)
            totals["due"] += float(row.due)
            totals["paid"] += float(row.paid)
            totals["outstanding"] += float(row.outstanding)
            report.advance()
        blank = [""] * (5 + 2 * len(PHASES) + 2)
        sheet.append([_("Total"), *blank[1:], totals["due"], totals["paid"], totals["outstanding"], ""])
        for column in sheet.iter_cols(min_row=4):
            for cell in column:
                if isinstance(cell.value, float):
                    cell.number_format = "0.00"
        sheet.column_dimensions["B"].width = 12
        sheet.column_dimensions["C"].width = 18
        sheet.freeze_panes = "C4"
        buffer = BytesIO()
        book.save(buffer)
        message = _("%(n)d people") % {"n": len(rows)}
    return JobOutput(
        content=buffer.getvalue(),
        file_name=f"subsidy-sheet-{township.code}.xlsx",
        result={"people": len(rows), **{k: round(v, 2) for k, v in totals.items()}},
        message=message,
    )
