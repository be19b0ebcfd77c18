"""python manage.py run_checks [--full] [--township CODE] [--workers N | --celery]

Runs the whole rule catalogue, as the nightly run does: incremental by default (households changed since the
township's last completed run, plus the cross-record rules of every township where anything changed, plus the
district-wide rules — the roster comparison and the ID duplicates re-examined for the changed households),
``--full`` for every signed household. The parts (one per township, the two district parts — duplicates and
the roster — and in a full run five forms sections that check every form, a rule at a time) run here in
``--workers`` threads — each with its own database connection, so PostgreSQL does the work in parallel — or,
with ``--celery``, as Celery tasks that the running workers pick up while this command waits and reports.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from census.models import Township
from supervision.quality.models import CheckRun, RunMode, RunStatus
from supervision.quality.services import check_run_create, check_run_execute, check_run_fail, check_run_parts_enqueue


class Command(BaseCommand):
    help = "Run the data-quality checks (the rule catalogue) over the district or one township."
    # Django's system checks (the URLs, every model, the admin) took 0.7 s of each start; the project's
    # configuration is checked where it is deployed — ``migrate`` runs them before the services start
    # (docker-compose.yml) — not again each night by the run that checks the census forms.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--full", action="store_true", help="check every signed household, not only changed ones")
        parser.add_argument("--township", metavar="CODE", help="only this township (9-digit code)")
        parser.add_argument("--workers", type=int, default=2, help="parts run at once in this process (default 2)")
        parser.add_argument("--celery", action="store_true", help="run the parts as Celery tasks and wait for them")
        parser.add_argument("--queue", default="", help="with --celery: the Celery queue to send the parts to")
        parser.add_argument("--timeout", type=float, default=3600, help="give up waiting after this many seconds")

    def handle(self, *args: Any, **options: Any) -> None:
        township = None
        if options["township"]:
            township = Township.objects.filter(code=options["township"]).first()
            if township is None:
                raise CommandError(f"no township {options['township']}")
        mode = RunMode.FULL if options["full"] else RunMode.INCREMENTAL
        run = check_run_create(user=None, mode=mode, township=township)
        self.stdout.write(f"run {run.pk}: {run.get_mode_display()}, {run.parts_total} parts")
        started = time.monotonic()
        if options["celery"]:
            check_run_parts_enqueue(run=run, queue=options["queue"] or None)
            run = self._wait(run.pk, options["timeout"])
        else:
            run = self._threads(run.pk, max(1, options["workers"]), options["timeout"])
        seconds = time.monotonic() - started
        if run.status != RunStatus.DONE:
            raise CommandError(f"run {run.pk} {run.status}: {run.error}")
        counts = run.stats.get("counts", {})
        self.stdout.write(
            self.style.SUCCESS(
                f"run {run.pk} done in {seconds:.1f} s: {run.stats.get('households', 0)} households checked; "
                + ", ".join(f"{name} {count}" for name, count in sorted(counts.items()))
            )
        )
        if options["verbosity"] >= 2:
            for name, spent in sorted(run.stats.get("checks", {}).items(), key=lambda item: -item[1]):
                self.stdout.write(f"  {spent:8.3f} s  {name}")

    def _threads(self, run_id: int, workers: int, timeout: float) -> CheckRun:
        if workers == 1:
            return check_run_execute(run_id=run_id, timeout=timeout)
        errors: list[BaseException] = []

        def work() -> None:
            try:
                check_run_execute(run_id=run_id, timeout=timeout)
            except BaseException as exc:
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=work, name=f"checks-{n}") for n in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            check_run_fail(run_id=run_id, error=f"{type(errors[0]).__name__}: {errors[0]}")
            raise CommandError(str(errors[0])) from errors[0]
        return CheckRun.objects.get(pk=run_id)

    def _wait(self, run_id: int, timeout: float) -> CheckRun:
        deadline = time.monotonic() + timeout
        last = -1
        while True:
            run = CheckRun.objects.get(pk=run_id)
            if run.parts_done != last:
                last = run.parts_done
                self.stdout.write(f"  {run.parts_done}/{run.parts_total} parts done")
            if run.is_finished:
                return run
            if time.monotonic() > deadline:
                raise CommandError(f"run {run_id} did not finish in {timeout:.0f} s")
            # One indexed row read: cheap enough to look often, so the command ends when the run does.
            time.sleep(0.1)
