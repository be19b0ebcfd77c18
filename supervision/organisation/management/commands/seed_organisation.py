"""python manage.py seed_organisation [--if-empty] [--seed S]

Sample readiness checklists, subsidies, rectification items, directory units and trainings for the seeded
district (run seed_district first). The demo runs it with ``--if-empty``.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from census.models import District, default_district_code
from supervision.organisation.demo import build_demo
from supervision.organisation.models import UnitReadiness


class Command(BaseCommand):
    help = "Sample data of the organisation part (四落实, 两员补贴, 督察整改, 在库企业和项目, 培训) for the district."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=2020, help="random seed; the same seed gives the same data")
        parser.add_argument("--if-empty", action="store_true", help="do nothing when the sample data is there already")

    def handle(self, *args: Any, **options: Any) -> None:
        district = District.objects.filter(code=default_district_code()).first()
        if district is None:
            raise CommandError("the district is not seeded yet; run seed_district first")
        if UnitReadiness.objects.filter(district=district).exists():
            if options["if_empty"]:
                self.stdout.write("the organisation sample data is already there; nothing to do")
                return
            raise CommandError("the district already has organisation data; use --if-empty to skip")
        try:
            report = build_demo(district=district, seed=options["seed"], log=lambda m: self.stdout.write(f"  {m}"))
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"organisation sample data: {report.checklists} readiness checklists ({report.overdue} behind), "
                f"{report.dues} subsidies due ({report.arrears} in arrears), {report.items} rectification items with "
                f"{report.tasks} tasks, {report.units} directory units ({report.removed} removed), "
                f"{report.trainings} trainings"
            )
        )
