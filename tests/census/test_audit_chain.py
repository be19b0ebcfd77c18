"""Sealing the audit log into a hash chain after the fact (census.audit_chain).

Entries are written at ~100 submissions/s inside the submission's own statement, so nothing is added to an
insert: a sealer (Celery beat every minute, and ``seal_audit_log``) links committed entries afterwards. These
tests hold it to its promises: every committed entry is linked exactly once, whatever order the transactions
commit in; two sealers never interleave; the hash of an entry is the one written down in the docstring, not
whatever the code happens to compute; and the chain, its run log and its anchor survive a reseed.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from census.models import AuditAction, AuditEvent
from census.services import audit_record

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def anchor_dir(settings: Any, tmp_path: Path) -> Path:
    settings.AUDIT_CHAIN_ANCHOR_DIR = tmp_path
    return tmp_path


def _entry(n: int = 1) -> AuditEvent:
    return audit_record(actor=None, action=AuditAction.EXPORT, object_type="households", object_id=n)


def _seal(*args: str) -> str:
    out = io.StringIO()
    call_command("seal_audit_log", *args, stdout=out)
    return out.getvalue()


def _links() -> list[tuple[int, int]]:
    """(seq, entry id) of every link, in chain order."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT seq, event_id FROM census_auditlink ORDER BY seq")
        return [(seq, event_id) for seq, event_id in cursor.fetchall()]


@pytest.fixture
def other_connection() -> Iterator[Any]:
    """A second session, as another request's transaction would be."""
    db = connection.settings_dict
    conn = psycopg2.connect(
        dbname=db["NAME"],
        user=db["USER"] or None,
        password=db["PASSWORD"] or None,
        host=db["HOST"] or None,
        port=db["PORT"] or None,
    )
    try:
        yield conn
    finally:
        conn.rollback()
        conn.close()


INSERT_ENTRY = (
    "INSERT INTO census_auditevent (at, actor_username, actor_role, district_id, action, object_type, object_id, "
    "detail) VALUES (now(), 'late', '', '511504', 'export', 'households', 'late', '{}') RETURNING id"
)


def test_every_entry_is_linked_once_in_id_order(anchor_dir: Path) -> None:
    entries = [_entry(n) for n in range(1, 4)]
    _seal()
    assert _links() == [(1, entries[0].pk), (2, entries[1].pk), (3, entries[2].pk)]
    _seal()  # again: nothing new, nothing linked twice
    assert len(_links()) == 3
    newer = _entry(4)
    _seal()
    assert _links()[-1] == (4, newer.pk)


def test_an_entry_that_commits_late_is_linked_by_a_later_run_and_never_skipped(
    settings: Any, other_connection: Any
) -> None:
    """A transaction takes its entry id, then commits after entries with larger ids were sealed. Later runs
    must neither skip it (the sealer's id watermark may only pass ids whose transactions have ended) nor link
    anything twice. The run's horizon is trusted at once here, so only the transaction check protects it."""
    settings.AUDIT_CHAIN_TRUST_AFTER_SECONDS = 0
    before = _entry(1)
    with other_connection.cursor() as cursor:
        cursor.execute(INSERT_ENTRY)
        (late,) = cursor.fetchone()
    after = [_entry(n) for n in range(2, 5)]
    for _ in range(3):  # several runs while the late transaction is still open
        _seal()
        assert [event_id for _, event_id in _links()] == [before.pk, *(entry.pk for entry in after)]
    assert late < after[0].pk
    other_connection.commit()
    _seal()
    assert [event_id for _, event_id in _links()] == [before.pk, *(entry.pk for entry in after), late]
    _seal()
    _seal()
    assert len(_links()) == 5


def test_the_watermark_moves_on_past_runs_old_enough_whose_transactions_have_all_ended() -> None:
    """So that the minute's run reads only recent entries, not the whole log: a run's horizon (the largest id
    it saw committed) becomes the watermark once it is AUDIT_CHAIN_TRUST_AFTER_SECONDS old and every
    transaction that had started by then has ended. Runs are written by hand here, since on a shared server
    other databases' transactions decide when the cluster-wide horizon passes (which only delays the move)."""
    from census.models import AuditChainRun

    entries = [_entry(n) for n in range(1, 5)]
    now = timezone.now()
    an_hour_ago = now - datetime.timedelta(hours=1)
    ended = 3  # the first ordinary transaction id: long over
    never = 2**62  # a transaction id not reached yet: its transactions cannot have ended

    def run(started: datetime.datetime, horizon: AuditEvent, xid: int) -> None:
        AuditChainRun.objects.create(
            kind="seal", ok=True, started_at=started, finished_at=started, horizon_event_id=horizon.pk, horizon_xid=xid
        )

    run(an_hour_ago - datetime.timedelta(minutes=1), entries[0], ended)  # old enough, ended: trusted
    run(an_hour_ago, entries[1], never)  # old enough, but its transactions may still be open
    run(now, entries[2], ended)  # ended, but too recent
    _seal()
    first = AuditChainRun.objects.filter(kind="seal").latest("id")
    assert (first.scanned_from, first.count) == (0, 4)
    assert first.safe_through == entries[0].pk
    _seal()
    assert AuditChainRun.objects.filter(kind="seal").latest("id").scanned_from == entries[0].pk
    assert len(_links()) == 4


def test_a_second_sealer_waits_its_turn(other_connection: Any) -> None:
    from census.audit_chain import SEAL_LOCK, audit_chain_seal

    _entry(1)
    with other_connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [SEAL_LOCK])
    report = audit_chain_seal()
    assert report.busy and report.linked == 0
    assert _links() == []
    with other_connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s)", [SEAL_LOCK])
    assert audit_chain_seal().linked == 1


def test_the_database_refuses_a_second_link_to_an_entry() -> None:
    entry = _entry(1)
    _seal()
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO census_auditlink (seq, event_id, event_hash, prev_hash, hmac, sealed_at) "
            "VALUES (2, %s, repeat('0', 64), repeat('0', 64), repeat('0', 64), now())",
            [entry.pk],
        )


def test_the_chain_is_append_only_like_the_log() -> None:
    from census.models import AuditLink

    _entry(1)
    _seal()
    for statement in ("UPDATE census_auditlink SET hmac = repeat('0', 64)", "DELETE FROM census_auditlink"):
        with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    # The contract with the grants (issue 18 item 8): the application's role may only insert and read these.
    assert AuditEvent.census_append_only is True
    assert AuditLink.census_append_only is True


def test_an_entry_hash_is_the_documented_canonical_form() -> None:
    """sha256 of the JSON array ["audit-entry-v1", id, microseconds since the epoch, actor id, username, role,
    district, action, object type, object id, detail, IP address] as PostgreSQL's jsonb writes it."""
    entry = audit_record(
        actor=None,
        action=AuditAction.EXPORT,
        object_type="households",
        object_id=7,
        detail={"rows": 80, "名": "张三"},
        ip_address="10.1.2.3",
    )
    _seal()
    entry.refresh_from_db()
    micros = (entry.at - datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)) // datetime.timedelta(microseconds=1)
    # jsonb orders an object's keys by length, then bytes: "名" is 3 bytes, "rows" 4.
    canonical = (
        f'["audit-entry-v1", {entry.pk}, {micros}, null, "", "", "511504", "export", "households", "7", '
        '{"名": "张三", "rows": 80}, "10.1.2.3"]'
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT event_hash FROM census_auditlink WHERE event_id = %s", [entry.pk])
        (stored,) = cursor.fetchone()
    assert stored == hashlib.sha256(canonical.encode()).hexdigest()


def test_every_column_of_an_entry_is_in_its_hash() -> None:
    """A column added to the audit log later must be added to the hash (or left out on purpose, here)."""
    from census.audit_chain import ENTRY_COLUMNS

    assert set(ENTRY_COLUMNS) == {field.column for field in AuditEvent._meta.concrete_fields}


def test_each_link_authenticates_its_predecessor() -> None:
    """Link n's prev_hash is sha256 of link n-1's message; the first one's is the genesis hash."""
    from census.audit_chain import GENESIS_HASH

    for n in range(3):
        _entry(n)
    _seal()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT seq, event_id, event_hash, prev_hash, hmac, sealed_at FROM census_auditlink ORDER BY seq"
        )
        rows = cursor.fetchall()
    expected_prev = GENESIS_HASH
    assert hashlib.sha256(b"census-2020-audit-chain-genesis").hexdigest() == GENESIS_HASH
    key = str(django_settings.SIGNATURE_LEDGER_KEY).encode()
    for seq, event_id, event_hash, prev_hash, mac, sealed_at in rows:
        assert prev_hash == expected_prev
        message = "|".join(
            [
                "audit-link-v1",
                str(seq),
                str(event_id),
                event_hash,
                prev_hash,
                sealed_at.astimezone(datetime.UTC).isoformat(timespec="microseconds"),
            ]
        ).encode()
        assert mac == hmac.new(key, message, hashlib.sha256).hexdigest()
        expected_prev = hashlib.sha256(message).hexdigest()


def test_the_anchor_outside_the_database_follows_the_head(anchor_dir: Path) -> None:
    assert not list(anchor_dir.iterdir())
    entries = [_entry(n) for n in range(3)]
    _seal()
    (path,) = anchor_dir.iterdir()
    assert connection.settings_dict["NAME"] in path.name  # one anchor per database on a shared volume
    anchor = json.loads(path.read_text())
    assert (anchor["seq"], anchor["event_id"]) == (3, entries[-1].pk)
    _entry(9)
    _seal()
    assert json.loads(path.read_text())["seq"] == 4


def test_a_large_backlog_is_sealed_in_chunks() -> None:
    from census.audit_chain import audit_chain_seal

    entries = [_entry(n) for n in range(7)]
    report = audit_chain_seal(chunk=3)
    assert report.linked == 7
    assert [event_id for _, event_id in _links()] == [entry.pk for entry in entries]


def test_the_nightly_sweep_rereads_the_whole_log_and_keeps_the_watermark() -> None:
    """Entries below the watermark that the minute's runs could not see (a transaction that took its ids and
    wrote them much later: the case the age guards against) are linked by the sweep; and a sweep in several
    parts does not throw away what earlier runs proved."""
    from census.audit_chain import audit_chain_seal
    from census.models import AuditChainRun

    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence('census_auditevent', 'id')) FROM generate_series(1, 3)")
        stalled = [row[0] for row in cursor.fetchall()]
    entries = [_entry(n) for n in range(5)]
    _seal()
    proven = entries[-1].pk
    AuditChainRun.objects.filter(kind="seal").update(safe_through=proven)  # as if a trusted run had proved it
    with connection.cursor() as cursor:
        for pk in stalled:
            cursor.execute(
                "INSERT INTO census_auditevent (id, at, actor_username, actor_role, district_id, action, object_type, "
                "object_id, detail) OVERRIDING SYSTEM VALUE VALUES (%s, now(), 'stalled', '', '511504', 'export', "
                "'households', 'stalled', '{}')",
                [pk],
            )
    assert audit_chain_seal().linked == 0  # the minute's run reads above the watermark only
    assert audit_chain_seal(sweep=True, chunk=2).linked == 3
    assert [event_id for _, event_id in _links()][-3:] == stalled
    assert AuditChainRun.objects.filter(kind="seal").latest("id").safe_through == proven


def test_the_sealer_will_not_run_inside_someone_elses_transaction() -> None:
    """It commits before it writes the anchor; inside an outer transaction the anchor could outrun a rollback."""
    from census.audit_chain import audit_chain_seal

    with pytest.raises(RuntimeError), transaction.atomic():
        audit_chain_seal()


def test_a_reseed_keeps_the_log_its_chain_and_the_chain_still_verifies() -> None:
    from enumeration.management.commands.seed_district import reset_census_data

    _entry(1)
    _seal()
    reset_census_data()
    assert len(_links()) == 1
    out = io.StringIO()
    call_command("verify_audit_log", stdout=out)


def test_beat_seals_every_minute_and_verifies_nightly() -> None:
    from census.tasks import seal_audit_log, verify_audit_log

    schedule = {entry["task"]: entry for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert schedule["census.tasks.seal_audit_log"]["schedule"] == datetime.timedelta(seconds=60)
    assert "census.tasks.verify_audit_log" in schedule
    entry = _entry(1)
    seal_audit_log()
    assert _links() == [(1, entry.pk)]
    assert verify_audit_log() == 0  # problems found


def test_the_auditor_sees_how_far_the_chain_is_sealed_and_verified(cast: Any) -> None:
    entry = _entry(1)
    _seal()
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE census_auditevent DISABLE TRIGGER USER")
        cursor.execute("DELETE FROM census_auditevent WHERE id = %s", [entry.pk])
        cursor.execute("ALTER TABLE census_auditevent ENABLE TRIGGER USER")
    with pytest.raises(SystemExit):  # an entry is missing: the verification records it
        call_command("verify_audit_log", stdout=io.StringIO(), stderr=io.StringIO())
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(cast.auditor)
    body = client.get(reverse("frame:audit-log")).content.decode()
    assert f"entries up to #{entry.pk}" in body  # how far the minute's sealing has come
    assert "found 1 problem" in body  # the last full verification, in a sentence
