"""python manage.py verify_audit_log [--grace-minutes N] — walk the audit log's hash chain; exit 1 on any problem.

Reports every sealed entry that was deleted or altered, links removed or rewritten, a chain shorter than the
anchor kept outside the database (a truncated log), and entries older than N minutes that were never sealed
(census.audit_chain). Each problem is a line starting with its code in brackets, e.g. ``[entry_missing]``.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from census.audit_chain import PROBLEMS_KEPT_PER_KIND, audit_chain_verify


class Command(BaseCommand):
    help = "Verify the audit log's hash chain: entries, links, HMACs, the anchor outside the database."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--grace-minutes",
            type=int,
            default=settings.AUDIT_CHAIN_GRACE_MINUTES,
            help="report entries older than this that are not sealed yet",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = audit_chain_verify(grace=datetime.timedelta(minutes=options["grace_minutes"]))
        for problem in report.problems:
            self.stdout.write(str(problem))
        for kind, count in sorted(report.counts.items()):
            if count > PROBLEMS_KEPT_PER_KIND:
                self.stdout.write(
                    _("… and %(more)s more problems of the kind %(kind)s.")
                    % {"more": count - PROBLEMS_KEPT_PER_KIND, "kind": kind}
                )
        if report.problem_count:
            self.stderr.write(
                self.style.ERROR(
                    _("The audit log's chain does not verify: %(problems)s problem(s) in %(links)s link(s).")
                    % {"problems": report.problem_count, "links": report.links}
                )
            )
            raise SystemExit(1)
        if report.links:
            message = _(
                "The audit log's chain verifies: %(links)s links, up to entry #%(entry)s (link %(seq)s), reaching "
                "its anchor."
            ) % {"links": report.links, "entry": report.head_event_id, "seq": report.head_seq}
        else:
            message = _("The audit log's chain is empty, and no entry waits to be sealed.")
        self.stdout.write(self.style.SUCCESS(message))
