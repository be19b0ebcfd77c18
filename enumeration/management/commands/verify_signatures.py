"""python manage.py verify_signatures [--area CODE] — recompute the ledger's hashes, chains and trails; exit 1 on
any mismatch.

Each mismatch is one line naming the small area, the kind of problem, the household (its 18-digit key and its
id) and what is wrong, in Chinese and in English: ``content`` / ``missing_signature`` / ``image`` (a signed
form against what was signed), ``sequence`` / ``chain`` / ``hmac`` (a small area's signature chain),
``transition`` / ``state`` / ``registrar`` (a household's trail of state changes and what it vouches for).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from census.models import SmallArea
from enumeration.verification import verify


class Command(BaseCommand):
    help = "Verify the signature ledger: content hashes, signature images, hash chains, HMACs and state trails."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--area", help="a small-area code (15 digits), or a village/township code prefix")

    def handle(self, *args: Any, **options: Any) -> None:
        areas = SmallArea.objects.all()
        if options["area"]:
            code = options["area"]
            areas = areas.filter(code__startswith=code)
            if not areas.exists():
                raise CommandError(f"没有与 {code} 相符的普查小区 / no small area matches {code}")
        checked = 0
        problems = 0
        households: set[int | None] = set()
        for _area, mismatches in verify(areas):
            checked += 1
            for mismatch in mismatches:
                problems += 1
                households.add(mismatch.household_id)
                self.stdout.write(str(mismatch))
        if problems:
            self.stderr.write(
                self.style.ERROR(
                    f"{checked}个普查小区中发现{problems}处不符，涉及{len(households)}户 / "
                    f"{problems} mismatch(es) in {checked} small area(s), {len(households)} household(s)"
                )
            )
            raise SystemExit(1)
        self.stdout.write(
            self.style.SUCCESS(
                f"{checked}个普查小区的签名全部核验无误 / all signatures verify in {checked} small area(s)"
            )
        )
