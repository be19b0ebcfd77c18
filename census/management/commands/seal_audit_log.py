"""python manage.py seal_audit_log [--sweep] [--reanchor --reason TEXT [--no-input]]

Link the audit entries not sealed yet into the hash chain and anchor its head outside the database — what
Celery beat does every minute (census.audit_chain). Exit 1 when the chain does not reach its anchor: then
nothing is sealed until someone has looked, and re-anchors on the record with --reanchor.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from census.audit_chain import SealReport, anchor_path, audit_chain_reanchor, audit_chain_seal


class Command(BaseCommand):
    help = "Seal the audit log's new entries into its hash chain (and re-anchor the chain after a loss)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--sweep", action="store_true", help="reread the whole log, not only recent entries")
        parser.add_argument(
            "--reanchor",
            action="store_true",
            help="adopt the database's chain as it is now as the anchor (after a restore or an investigated loss)",
        )
        parser.add_argument("--reason", default="", help="with --reanchor: why (written to the audit log)")
        parser.add_argument(
            "--no-input", "--noinput", action="store_false", dest="interactive", help="with --reanchor, do not ask"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["reanchor"]:
            report = self._reanchor(options)
        else:
            report = audit_chain_seal(sweep=options["sweep"])
        if report.busy:
            self.stdout.write(_("Another sealing run holds the lock; nothing to do."))
            return
        if report.problems:
            for problem in report.problems:
                self.stdout.write(str(problem))
            self.stderr.write(
                self.style.ERROR(
                    _(
                        "Nothing was sealed: the chain in the database does not reach its anchor. Find out what "
                        "happened (verify_audit_log); once the log is restored or the loss is understood, "
                        "re-anchor with --reanchor --reason."
                    )
                )
            )
            raise SystemExit(1)
        self.stdout.write(
            self.style.SUCCESS(
                _("Sealed %(count)s new entries; the chain ends at link %(seq)s (entry #%(entry)s).")
                % {"count": report.linked, "seq": report.head_seq, "entry": report.head_event_id or "—"}
            )
        )

    def _reanchor(self, options: dict[str, Any]) -> SealReport:
        if not options["reason"].strip():
            raise CommandError(_("Say why the chain is re-anchored: the reason goes into the audit log."))
        if options["interactive"]:
            self.stdout.write(
                _(
                    "This replaces the anchor %(path)s with the database's chain as it is now. Entries lost "
                    "before now will no longer be reported. Type 'yes' to continue: "
                )
                % {"path": anchor_path()}
            )
            if input().strip().lower() != "yes":
                raise CommandError(_("Nothing changed."))
        try:
            return audit_chain_reanchor(reason=options["reason"])
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
