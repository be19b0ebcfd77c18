"""python manage.py restore FILE [--force] [--no-input] — load a `manage.py backup` archive with pg_restore.

Into an empty database the archive is simply loaded. A database that already holds tables is only replaced
with --force, after typing "yes" (or with --no-input, for scripts). The replacement runs as one transaction
(pg_restore --clean --single-transaction): if anything fails, the old data stays as it was.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from census.backups import PgToolError, archive_tables, database_tables, find_tool, run, server_major, target
from census.models import AuditAction


class Command(BaseCommand):
    help = "Restore the census database from a `manage.py backup` archive (pg_restore)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the archive written by `manage.py backup`")
        parser.add_argument("--force", action="store_true", help="replace the contents of a database that is not empty")
        parser.add_argument(
            "--no-input",
            "--noinput",
            action="store_false",
            dest="interactive",
            help="with --force, do not ask before replacing the data",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        archive = Path(options["file"])
        if not archive.is_file():
            raise CommandError(f"{archive} is not a file")
        where = target()
        try:
            major = server_major()
            pg_restore = find_tool("pg_restore", major)
            # Read the archive before touching anything: a damaged or foreign file stops here.
            tables = archive_tables(pg_restore, archive, where.env)
        except PgToolError as exc:
            raise CommandError(str(exc)) from exc
        if not tables:
            raise CommandError(f"{archive} holds no tables; is it a census backup?")

        existing = database_tables()
        command = [str(pg_restore), "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
        if existing:
            if not options["force"]:
                raise CommandError(
                    f"the database {where.label} is not empty ({len(existing)} tables); restore refuses to "
                    "overwrite it. Restore into an empty database, or use --force to replace its contents."
                )
            if options["interactive"]:
                self.stdout.write(
                    f"This replaces ALL data in the database {where.label} with the contents of {archive}."
                )
                answer = input('Type "yes" to continue: ')
                if answer.strip().lower() != "yes":
                    raise CommandError("restore cancelled; nothing was changed")
            command += ["--clean", "--if-exists"]
        # Our own connection must not hold locks on the tables pg_restore drops.
        connection.close()
        try:
            run([*command, "--dbname", where.name, str(archive)], where.env)
        except PgToolError as exc:
            raise CommandError(f"{exc}\nThe database was left as it was.") from exc
        leftovers = sorted(set(database_tables()) - set(tables))
        from census.services import audit_record

        audit_record(
            actor=None,
            action=AuditAction.IMPORT,
            object_type="database_restore",
            detail={"file": str(archive), "tables": len(tables), "replaced": bool(existing)},
        )
        self.stdout.write(self.style.SUCCESS(f"restored {len(tables)} tables from {archive} into {where.label}"))
        if leftovers:
            self.stdout.write(
                self.style.WARNING(f"tables that are not in the backup were left in place: {', '.join(leftovers)}")
            )
        self.stdout.write("Next: python manage.py verify_signatures")
