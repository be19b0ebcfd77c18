"""python manage.py seed_district --persons N [--seed S] [--plant-errors manifest.json] [--reset]"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from census.models import District
from enumeration.models import Household
from enumeration.synthetic.district import build_district


class Command(BaseCommand):
    help = "Build a synthetic district (frame, staff, listing, forms, signatures) from the 2020 distributions."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--persons", type=int, default=20000, help="about how many persons (default 20,000)")
        parser.add_argument("--seed", type=int, default=2020, help="random seed; the same seed gives the same district")
        parser.add_argument(
            "--plant-errors", metavar="MANIFEST", help="inject known errors and write their manifest here"
        )
        parser.add_argument("--reset", action="store_true", help="delete every census record first")
        parser.add_argument(
            "--if-empty", action="store_true", help="do nothing when the district already has households"
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="processes generating townships (default: one per CPU, up to 4, from 100,000 persons; "
            "the district is the same whatever the number)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        persons = options["persons"]
        if persons < 1 or persons > 50_000_000:
            raise CommandError("--persons must lie between 1 and 50,000,000")
        if options["workers"] is not None and not 1 <= options["workers"] <= 16:
            raise CommandError("--workers must lie between 1 and 16")
        if options["reset"]:
            self.stdout.write("deleting existing census records …")
            reset_census_data()
        elif Household.objects.exists() or District.objects.exists():
            if options["if_empty"]:
                self.stdout.write("the district is already seeded; nothing to do")
                return
            raise CommandError("the database already holds a district; use --reset to replace it or --if-empty to skip")
        started = time.monotonic()
        report = build_district(
            persons=persons,
            seed=options["seed"],
            plant_errors=bool(options["plant_errors"]),
            workers=options["workers"],
            progress=lambda message: self.stdout.write(f"[{time.monotonic() - started:6.1f} s] {message}"),
        )
        if options["plant_errors"]:
            path = Path(options["plant_errors"])
            path.write_text(json.dumps(report.manifest, ensure_ascii=False, indent=1, sort_keys=True))
            self.stdout.write(f"planted {sum(len(v) for v in report.manifest.values())} errors; manifest: {path}")
            if report.unplanted:
                self.stdout.write(f"no suitable household in a district this size for: {', '.join(report.unplanted)}")
        self.stdout.write(
            self.style.SUCCESS(
                f"seeded {report.persons} persons in {report.households} households, {report.small_areas} small areas, "
                f"{report.villages} villages, {report.townships} townships, {report.staff} staff, "
                f"{report.signatures} signatures in {report.seconds:.1f} s"
            )
        )


def reset_census_data() -> None:
    """Empty every table of the census apps (the audit log and its chain excepted: they are append-only by law)."""
    from django.apps import apps

    tables = [
        model._meta.db_table
        for app in ("enumeration", "supervision", "census", "authtoken")
        for model in apps.get_app_config(app).get_models()
        if not getattr(model, "census_append_only", False)
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
