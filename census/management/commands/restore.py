"""python manage.py restore PATH [--force] [--no-input] — load a `manage.py backup` archive or backup set.

PATH is an archive (`backup --output`: the database only) or a set directory (`backup --directory`: the database
and the private files, checked against the set's checksums before anything is touched).

Into an empty database the archive is simply loaded. A database that already holds tables is only replaced
with --force, after typing "yes" (or with --no-input, for scripts). The replacement runs as one transaction
(pg_restore --clean --single-transaction): if anything fails, the old data stays as it was. A set's private
files then take the place of PRIVATE_MEDIA_ROOT; the files that were there are kept beside it, renamed.

Run it as the owner of the tables (in docker compose, the migrate service): with CENSUS_APP_DB_ROLE set, the
application role gets its grants back on the restored tables (pg_restore --no-privileges restores none).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from census.backups import (
    DATABASE_FILE,
    FILES_ARCHIVE,
    PgToolError,
    anchor_adopt,
    archive_tables,
    backup_set_check,
    database_tables,
    find_tool,
    private_files_restore,
    run,
    server_major,
    target,
)
from census.models import AuditAction


class Command(BaseCommand):
    help = "Restore the census database (and a set's private files) from a `manage.py backup` archive or set."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the archive or the set directory written by `manage.py backup`")
        parser.add_argument("--force", action="store_true", help="replace the contents of a database that is not empty")
        parser.add_argument(
            "--no-input",
            "--noinput",
            action="store_false",
            dest="interactive",
            help="with --force, do not ask before replacing the data",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        given = Path(options["file"])
        files_archive: Path | None = None
        taken_from = ""
        if given.is_dir():
            try:
                taken_from = str(backup_set_check(given).get("database", ""))
            except PgToolError as exc:
                raise CommandError(str(exc)) from exc
            archive, files_archive = given / DATABASE_FILE, given / FILES_ARCHIVE
        elif given.is_file():
            archive = given
        else:
            raise CommandError(f"{given} is neither a file nor a backup set")
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
                replaced = " and the private files" if files_archive else ""
                self.stdout.write(
                    f"This replaces ALL data in the database {where.label}{replaced} with the contents of {given}."
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
        role = getattr(settings, "CENSUS_APP_DB_ROLE", "")
        if role:
            from census.database_roles import app_role_grant

            app_role_grant(role=role, password=getattr(settings, "CENSUS_APP_DB_PASSWORD", ""))
        restored_files, previous = 0, None
        if files_archive is not None:
            restored_files, previous = private_files_restore(files_archive, Path(settings.PRIVATE_MEDIA_ROOT))
            anchor_adopt(taken_from=taken_from, restored_into=where.name)
        from census.services import audit_record

        audit_record(
            actor=None,
            action=AuditAction.IMPORT,
            object_type="database_restore",
            detail={
                "file": str(given),
                "tables": len(tables),
                "replaced": bool(existing),
                "private_files": restored_files,
                "application_role": role,
            },
        )
        self.stdout.write(self.style.SUCCESS(f"restored {len(tables)} tables from {archive} into {where.label}"))
        if role:
            self.stdout.write(f"granted the application role {role} its privileges on the restored tables")
        if files_archive is not None:
            self.stdout.write(f"restored {restored_files} private files into {settings.PRIVATE_MEDIA_ROOT}")
            if previous is not None:
                self.stdout.write(f"the private files that were there are kept in {previous}")
        if leftovers:
            self.stdout.write(
                self.style.WARNING(f"tables that are not in the backup were left in place: {', '.join(leftovers)}")
            )
        self.stdout.write("Next: python manage.py verify_signatures")
