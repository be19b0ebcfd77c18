"""The district's bulk lock as a job: small area by small area, with progress, each area in its own transaction.

Every accepted form of the filter that the checks do not block is locked; the blocked ones stay accepted and are
listed — in the job's message (the first few) and in a CSV file to download (all of them, with what blocks each).
"""

from __future__ import annotations

import io

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from census.jobs import JobFailed, JobOutput, ProgressReporter, job_handler
from census.models import Job, Role
from census.spreadsheets import csv_writer
from enumeration import selectors
from enumeration.models import Household
from enumeration.models.households import household_key
from enumeration.services.review import BulkOutcome, households_lock, lockable

BULK_LOCK = "bulk_lock"
MESSAGE_KEYS = 10


@job_handler(BULK_LOCK, audience=(Role.DISTRICT_OFFICE,), starters=(Role.DISTRICT_OFFICE,))
def bulk_lock(job: Job, report: ProgressReporter) -> JobOutput:
    user = job.created_by
    if user is None or not user.is_active or user.role != Role.DISTRICT_OFFICE:
        raise JobFailed(_("Only the district office locks forms."))
    filters = selectors.HouseholdFilter(**job.params.get("filters", {}))
    queue = selectors.review_queue(user=user, filters=filters, query=job.params.get("q", ""))
    candidates = lockable(households=queue, actor=user)
    area_ids = sorted(set(candidates.values_list("small_area_id", flat=True)))
    report.total(len(area_ids), _("Locking small area by small area"))
    outcome = BulkOutcome()
    for area_id in area_ids:
        households_lock(households=candidates.filter(small_area_id=area_id), actor=user, outcome=outcome)
        report.advance()
    with translation.override(settings.LANGUAGE_CODE):
        keys = {
            pk: household_key(code, no)
            for pk, code, no in Household.objects.filter(pk__in=list(outcome.blocked)).values_list(
                "pk", "small_area__code", "household_no"
            )
        }
        out = io.StringIO()
        writer = csv_writer(out)
        writer.writerow([_("Household"), _("What blocks it")])
        for pk in sorted(outcome.blocked, key=lambda pk: keys.get(pk, "")):
            writer.writerow([keys.get(pk, str(pk)), "；".join(blocker.text for blocker in outcome.blocked[pk])])
        shown = sorted(keys.values())[:MESSAGE_KEYS]
        message = _("%(done)d form(s) locked; %(blocked)d blocked by the checks and not locked%(list)s.") % {
            "done": outcome.done,
            "blocked": len(outcome.blocked),
            "list": (": " + "、".join(shown) + ("…" if len(keys) > MESSAGE_KEYS else "")) if shown else "",
        }
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return JobOutput(
        content=("\ufeff" + out.getvalue()).encode("utf-8"),
        file_name=f"bulk-lock-blocked-{stamp}.csv",
        result={"locked": outcome.done, "blocked": sorted(keys.values())},
        message=message,
    )
