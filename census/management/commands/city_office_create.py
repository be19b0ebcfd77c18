"""python manage.py city_office_create --city 5115 --city-name 宜宾市 --username yibin_city [--full-name 张三]

An account of a city census office (市普查办) of an installation that runs several districts: it sees the
progress of the city's districts (those whose code starts with the city's four digits), never their personal
data. The account has no usable password yet: set one with ``changepassword`` (the person must change it).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from census.staffing.services import city_office_create


class Command(BaseCommand):
    help = "Create a city census office account (and its city the first time)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--city", required=True, help="the city's 4-digit code (GB/T 2260), e.g. 5115")
        parser.add_argument("--city-name", required=True, help="the city's name, e.g. 宜宾市")
        parser.add_argument("--username", required=True)
        parser.add_argument("--full-name", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            member = city_office_create(
                city_code=options["city"],
                city_name=options["city_name"],
                username=options["username"],
                full_name=options["full_name"],
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(f"created {member.username} for city {member.city_id}; set a password with changepassword")
