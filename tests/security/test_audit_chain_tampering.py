"""The audit log against an insider who has the database owner's password (issue 18, item 8).

The owner can disable the append-only trigger, delete or edit entries, truncate the table, and do the same to
the chain that seals it. None of that can be prevented from inside the database; all of it must be *seen*:
``verify_audit_log`` walks the hash chain, recomputes every sealed entry's hash, checks each link's HMAC
(under a key the database never holds) and compares the chain with the anchor the sealer keeps outside the
database. Each tampering below must make it exit non-zero with a message naming what was removed or altered.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import translation

from census.models import AuditAction, AuditEvent
from census.services import audit_record

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def anchor_dir(settings: Any, tmp_path: Path) -> Path:
    settings.AUDIT_CHAIN_ANCHOR_DIR = tmp_path
    return tmp_path


def _entries(count: int) -> list[AuditEvent]:
    return [
        audit_record(actor=None, action=AuditAction.EXPORT, object_type="households", object_id=n, detail={"rows": n})
        for n in range(1, count + 1)
    ]


@pytest.fixture
def sealed() -> list[AuditEvent]:
    """Five entries, sealed into the chain (and its anchor written)."""
    entries = _entries(5)
    call_command("seal_audit_log", stdout=io.StringIO())
    return entries


def _as_owner(*statements: str, params: list[Any] | None = None) -> None:
    """What an insider with the owner's password can do: switch the append-only triggers off around an edit."""
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE census_auditevent DISABLE TRIGGER USER")
        cursor.execute("ALTER TABLE census_auditlink DISABLE TRIGGER USER")
        try:
            for statement in statements:
                cursor.execute(statement, params)
        finally:
            cursor.execute("ALTER TABLE census_auditevent ENABLE TRIGGER USER")
            cursor.execute("ALTER TABLE census_auditlink ENABLE TRIGGER USER")


def _verify(*args: str) -> tuple[int, str]:
    """Run verify_audit_log; (exit status, everything it wrote)."""
    out, err = io.StringIO(), io.StringIO()
    with translation.override("en"):
        try:
            call_command("verify_audit_log", *args, stdout=out, stderr=err)
            status = 0
        except SystemExit as exit_:
            status = int(exit_.code or 0)
    return status, out.getvalue() + err.getvalue()


def _problem_lines(output: str, kind: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(f"[{kind}]")]


def test_an_untouched_log_verifies(sealed: list[AuditEvent]) -> None:
    status, output = _verify()
    assert status == 0, output
    assert "[" not in output  # no problem line
    assert f"#{sealed[-1].pk}" in output  # verified up to the newest entry


def test_a_deleted_entry_is_reported(sealed: list[AuditEvent]) -> None:
    victim = sealed[2]
    _as_owner("DELETE FROM census_auditevent WHERE id = %s", params=[victim.pk])
    status, output = _verify()
    assert status == 1
    lines = _problem_lines(output, "entry_missing")
    assert len(lines) == 1 and f"#{victim.pk}" in lines[0]


def test_an_edited_entry_is_reported(sealed: list[AuditEvent]) -> None:
    victim = sealed[1]
    _as_owner(
        "UPDATE census_auditevent SET detail = '{\"rows\": 0}', actor_username = 'nobody' WHERE id = %s",
        params=[victim.pk],
    )
    status, output = _verify()
    assert status == 1
    lines = _problem_lines(output, "entry_altered")
    assert len(lines) == 1 and f"#{victim.pk}" in lines[0]
    assert not _problem_lines(output, "entry_missing")


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("at", "2020-11-01 00:00:00+08"),
        ("action", "login"),
        ("object_id", "999"),
        ("ip_address", "10.0.0.1"),
        ("actor_id", "42"),
        ("district_id", "511521"),
    ],
)
def test_an_edit_of_any_column_is_reported(sealed: list[AuditEvent], column: str, value: str) -> None:
    victim = sealed[0]
    _as_owner(f"UPDATE census_auditevent SET {column} = %s WHERE id = %s", params=[value, victim.pk])
    status, output = _verify()
    assert status == 1
    assert [f"#{victim.pk}" in line for line in _problem_lines(output, "entry_altered")] == [True]


def test_a_truncated_log_is_reported_entry_by_entry(sealed: list[AuditEvent]) -> None:
    _as_owner("TRUNCATE census_auditevent")
    status, output = _verify()
    assert status == 1
    lines = _problem_lines(output, "entry_missing")
    assert len(lines) == len(sealed)
    for entry, line in zip(sealed, lines, strict=True):
        assert f"#{entry.pk}" in line


def test_truncating_the_log_and_its_chain_is_caught_by_the_anchor(sealed: list[AuditEvent], anchor_dir: Path) -> None:
    _as_owner("TRUNCATE census_auditevent, census_auditlink")
    status, output = _verify()
    assert status == 1
    lines = _problem_lines(output, "chain_short")
    # The anchor outside the database remembers that five links (the five entries) were sealed.
    assert len(lines) == 1 and "ends at link 0" in lines[0] and "records link 5" in lines[0]


def test_removing_the_newest_entries_with_their_links_is_caught_by_the_anchor(sealed: list[AuditEvent]) -> None:
    last_two = [entry.pk for entry in sealed[-2:]]
    _as_owner(
        "DELETE FROM census_auditlink WHERE event_id = ANY(%s)",
        "DELETE FROM census_auditevent WHERE id = ANY(%s)",
        params=[last_two],
    )
    status, output = _verify()
    assert status == 1
    lines = _problem_lines(output, "chain_short")
    assert len(lines) == 1 and "ends at link 3" in lines[0] and "records link 5" in lines[0]


def test_removing_an_entry_from_the_middle_with_its_link_breaks_the_chain(sealed: list[AuditEvent]) -> None:
    victim = sealed[2]
    _as_owner(
        "DELETE FROM census_auditlink WHERE event_id = %s",
        "DELETE FROM census_auditevent WHERE id = %s",
        params=[victim.pk],
    )
    status, output = _verify()
    assert status == 1
    lines = _problem_lines(output, "links_missing")
    assert len(lines) == 1 and "Link 3 is missing" in lines[0]  # the third link is gone


def test_rewriting_a_link_to_match_an_edited_entry_needs_the_key(sealed: list[AuditEvent]) -> None:
    """The owner edits an entry and recomputes its hash into the link (the hash is public arithmetic); without
    the HMAC key the link no longer authenticates."""
    from census.audit_chain import entry_hash_sql

    victim = sealed[3]
    _as_owner(
        "UPDATE census_auditevent SET detail = '{\"rows\": 0}' WHERE id = %s",
        f"UPDATE census_auditlink l SET event_hash = {entry_hash_sql('e')} FROM census_auditevent e "
        "WHERE e.id = l.event_id AND e.id = %s",
        params=[victim.pk],
    )
    status, output = _verify()
    assert status == 1
    assert not _problem_lines(output, "entry_altered")  # the hash was made to match …
    lines = _problem_lines(output, "link_forged")  # … but not the HMAC
    assert len(lines) == 1 and f"#{victim.pk}" in lines[0]


def test_a_deleted_anchor_is_reported(sealed: list[AuditEvent], anchor_dir: Path) -> None:
    for path in anchor_dir.iterdir():
        path.unlink()
    status, output = _verify()
    assert status == 1
    assert len(_problem_lines(output, "anchor_missing")) == 1


def test_an_edited_anchor_is_reported(sealed: list[AuditEvent], anchor_dir: Path) -> None:
    """Someone who can write the anchor's volume but has no key cannot move it back to hide a truncation."""
    (path,) = anchor_dir.iterdir()
    anchor = json.loads(path.read_text())
    anchor["seq"] = 3
    path.write_text(json.dumps(anchor))
    status, output = _verify()
    assert status == 1
    assert len(_problem_lines(output, "anchor_forged")) == 1


def test_an_entry_written_past_the_sealer_is_reported_once_it_is_old(sealed: list[AuditEvent]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO census_auditevent (at, actor_username, actor_role, district_id, action, object_type, "
            "object_id, detail) VALUES (now() - interval '1 hour', 'x', '', '511504', 'export', 'x', '1', '{}') "
            "RETURNING id"
        )
        (old,) = cursor.fetchone()
    fresh = _entries(1)[0]  # just written: the sealer has not had its minute yet, so not a problem
    status, output = _verify("--grace-minutes", "15")
    assert status == 1
    lines = _problem_lines(output, "unsealed")
    assert len(lines) == 1 and f"#{old}" in lines[0] and f"#{fresh.pk}" not in lines[0]
    assert "1 entry older than 15 minutes" in lines[0]


def test_the_sealer_refuses_to_extend_a_chain_that_lost_its_newest_links(
    sealed: list[AuditEvent], anchor_dir: Path
) -> None:
    """Sealing on top of a truncated chain would write a fresh anchor and hide the loss for good."""
    (path,) = anchor_dir.iterdir()
    anchor_before = path.read_text()
    _as_owner("TRUNCATE census_auditevent, census_auditlink")
    _entries(2)
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("seal_audit_log", stdout=out, stderr=err)
    assert exit_.value.code == 1
    assert "[chain_short]" in out.getvalue() + err.getvalue()
    assert path.read_text() == anchor_before
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM census_auditlink")
        assert cursor.fetchone() == (0,)


def test_an_operator_re_anchors_on_the_record_after_investigating(sealed: list[AuditEvent], anchor_dir: Path) -> None:
    """After a restore from an older backup (or an investigated loss) the operator adopts the database's chain
    again; the re-anchoring is itself an entry of the log, naming the anchor it replaced."""
    _as_owner("TRUNCATE census_auditevent, census_auditlink")
    call_command(
        "seal_audit_log",
        "--reanchor",
        "--reason",
        "restored from the backup of 1 Nov",
        "--no-input",
        stdout=io.StringIO(),
    )
    (record,) = AuditEvent.objects.all()
    assert record.object_type == "audit_chain"
    assert record.detail["reason"] == "restored from the backup of 1 Nov"
    assert record.detail["replaced_anchor"]["seq"] == 5
    status, output = _verify()
    assert status == 0, output
