"""python manage.py backup [--output FILE] — the whole database as one pg_dump archive (custom format)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from census.backups import PgToolError, archive_tables, find_tool, run, server_major, target
from census.models import AuditAction


class Command(BaseCommand):
    help = (
        "Back up the census database with pg_dump (custom format, readable by `manage.py restore`). "
        "The file holds every person's data: it is written readable by its owner only."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output", "-o", help="the archive to write (default: .data/backups/census-<database>-<time>.dump)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        where = target()
        output = Path(options["output"]) if options["output"] else self._default_path(where.name)
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
