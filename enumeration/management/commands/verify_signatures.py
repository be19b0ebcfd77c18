"""python manage.py verify_signatures [--area CODE] — recompute hashes and chains; exit 1 on any mismatch."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from census.models import SmallArea
from enumeration.verification import verify


class Command(BaseCommand):
    help = "Verify the signature ledger: content hashes, hash chains and HMACs of every small area."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--area", help="a small-area code (15 digits), or a village/township code prefix")

    def handle(self, *args: Any, **options: Any) -> None:
        areas = SmallArea.objects.all()
        if options["area"]:
            code = options["area"]
            areas = areas.filter(code__startswith=code)
            if not areas.exists():
                raise CommandError(f"no small area matches {code}")
        checked = 0
        problems = 0
        for _area, mismatches in verify(areas):
            checked += 1
            for mismatch in mismatches:
                problems += 1
                self.stdout.write(str(mismatch))
        if problems:
            self.stderr.write(self.style.ERROR(f"{problems} mismatch(es) in {checked} small area(s)"))
            raise SystemExit(1)
        self.stdout.write(self.style.SUCCESS(f"all signatures verify in {checked} small area(s)"))
