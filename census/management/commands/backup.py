"""python manage.py backup — the census database (and, as a set, the private files) with pg_dump.

    backup [--output FILE]                          the database only, one pg_dump archive (custom format)
    backup --directory DIR [--keep N]               a set: database, private files and their checksums; keep N
    backup --directory DIR --keep N --daily-at HH:MM
                                                    the compose backup service: a set every day at HH:MM (local
                                                    time), at once if one is owed; runs until stopped

Every file holds every person's data: written readable by its owner only.
"""

from __future__ import annotations

import datetime
import logging
import os
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections
from django.utils import timezone

from census.backups import (
    PgToolError,
    archive_tables,
    backup_due,
    backup_set_write,
    backup_sets,
    backup_sets_prune,
    find_tool,
    run,
    server_major,
    set_time,
    target,
)
from census.models import AuditAction

logger = logging.getLogger(__name__)
# After a failed attempt (the database restarting, a full disk), the service tries again this much later.
RETRY_SECONDS = 300


def _time_of_day(value: str) -> datetime.time:
    try:
        return datetime.time.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"--daily-at {value!r}: give a time of day as HH:MM") from exc


class Command(BaseCommand):
    help = (
        "Back up the census database with pg_dump (custom format, readable by `manage.py restore`); with "
        "--directory, a set of the database and the private files, with retention and an optional daily schedule. "
        "The files hold every person's data: they are written readable by their owner only."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output", "-o", help="the archive to write (default: .data/backups/census-<database>-<time>.dump)"
        )
        parser.add_argument(
            "--directory", help="write a backup set (database, private files, manifest) into this directory"
        )
        parser.add_argument("--keep", type=int, default=14, help="with --directory: the newest sets to keep (14)")
        parser.add_argument(
            "--daily-at",
            type=_time_of_day,
            help="with --directory: run until stopped, taking a set every day at this local time (HH:MM)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["directory"]:
            if options["output"]:
                raise CommandError("give either --output (the database only) or --directory (a set), not both")
            if options["keep"] < 1:
                raise CommandError("--keep must be at least 1")
            directory = Path(options["directory"])
            if options["daily_at"] is not None:
                self._serve(directory, options["keep"], options["daily_at"])
            else:
                self._set(directory, options["keep"])
            return
        if options["daily_at"] is not None:
            raise CommandError("--daily-at needs --directory")
        self._database_only(options["output"])

    def _set(self, directory: Path, keep: int) -> None:
        try:
            made = backup_set_write(directory=directory)
        except (PgToolError, OSError) as exc:
            raise CommandError(f"backup failed, nothing kept: {exc}") from exc
        pruned = backup_sets_prune(directory=directory, keep=keep)
        from census.services import audit_record

        audit_record(
            actor=None,
            action=AuditAction.EXPORT,
            object_type="database_backup",
            detail={
                "set": str(made.path),
                "database_bytes": made.database_bytes,
                "files_bytes": made.files_bytes,
                "tables": made.tables,
                "private_files": made.files,
                "pruned": [p.name for p in pruned],
            },
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"backed up {made.tables} tables ({made.database_bytes / 1024 / 1024:.1f} MB) and {made.files} "
                f"private files ({made.files_bytes / 1024 / 1024:.1f} MB) to {made.path}"
                + (f"; removed {len(pruned)} older set(s)" if pruned else "")
            )
        )

    def _serve(self, directory: Path, keep: int, at: datetime.time) -> None:
        self.stdout.write(f"backups into {directory} every day at {at:%H:%M} ({settings.TIME_ZONE}), keeping {keep}")
        retry_after = 0.0
        while True:
            sets = backup_sets(directory)
            last = set_time(sets[-1]) if sets else None
            if time.monotonic() >= retry_after and backup_due(now=timezone.now(), last=last, at=at):
                try:
                    self._set(directory, keep)
                except Exception:  # the service outlives a failed night: it logs and tries again
                    logger.exception("backup failed; trying again in %d s", RETRY_SECONDS)
                    retry_after = time.monotonic() + RETRY_SECONDS
                finally:
                    close_old_connections()
                self.stdout.flush()
            time.sleep(30)

    def _database_only(self, output_option: str | None) -> None:
        where = target()
        output = Path(output_option) if output_option else self._default_path(where.name)
        if output.exists():
            raise CommandError(f"{output} exists already; choose another --output")
        output.parent.mkdir(parents=True, exist_ok=True)
        try:
            major = server_major()
            pg_dump = find_tool("pg_dump", major)
            pg_restore = find_tool("pg_restore", major)
            # Created empty and private first, so the data is never readable by others, not even briefly.
            os.close(os.open(output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            run([str(pg_dump), "--format=custom", "--file", str(output), where.name], where.env)
            tables = archive_tables(pg_restore, output, where.env)
        except PgToolError as exc:
            if output.exists() and output.stat().st_size == 0:
                output.unlink()
            raise CommandError(str(exc)) from exc
        size = output.stat().st_size
        from census.services import audit_record

        audit_record(
            actor=None,
            action=AuditAction.EXPORT,
            object_type="database_backup",
            detail={"file": str(output), "bytes": size, "tables": len(tables), "pg_dump": str(pg_dump)},
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"backed up {where.label} to {output} ({size / 1024 / 1024:.1f} MB, {len(tables)} tables, "
                f"PostgreSQL {major}, {pg_dump})"
            )
        )

    @staticmethod
    def _default_path(name: str) -> Path:
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
        return Path(settings.BASE_DIR) / ".data" / "backups" / f"census-{name}-{stamp}.dump"
