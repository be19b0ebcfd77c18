"""The replicated topology of issue 26, run by ``tests/census/test_replica_topology.py`` in a pytest process of its
own whose settings come from the environment exactly as a deployment's would: ``DATABASE_URL`` is PgBouncer in
transaction mode in front of a primary (``CENSUS_PGBOUNCER``), ``DATABASE_REPLICA_URL`` a streaming replica of it
(both made by ``census.topology``); ``TOPOLOGY_PRIMARY_PORT`` is the primary's own port, for the comparison run on
one server.

Not collected on its own (the file name does not start with ``test_``)."""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from census import db_router
from census.db_router import REPLICA, replica_status
from census.models import Role, StaffMember, Township
from enumeration.models import SIGNED_STATES, Person
from supervision.progress.summaries import build_summary
from supervision.quality.checks import FORM_SECTIONS
from supervision.quality.models import CheckRun, CheckRunPart, Finding, FindingEvent, RosterAreaCount, RosterMatch
from supervision.quality.resources import roster_import_bulk
from supervision.quality.services import check_run_create, check_run_execute, check_run_parts_enqueue
from tests.conftest import Cast
from tests.quality.factories import same_number

ROOT = Path(__file__).resolve().parents[2]
ALL = pytest.mark.django_db(transaction=True, databases="__all__")


def _wait_replayed(timeout: float = 60) -> None:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_insert_lsn()")
        target = cursor.fetchone()[0]
    deadline = time.monotonic() + timeout
    with connections[REPLICA].cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target])
            if cursor.fetchone()[0]:
                return
            time.sleep(0.05)
    raise AssertionError("the replica did not catch up")


def _wait_usable(timeout: float = 60) -> None:
    """Replayed, and usable by the router's measure: after a seed the primary's autovacuum may be writing WAL
    without committing, and until it commits the replica counts as behind since the seed's last commit."""
    _wait_replayed(timeout)
    deadline = time.monotonic() + timeout
    while not replica_status(fresh=True).usable:
        assert time.monotonic() < deadline, replica_status(fresh=True)
        time.sleep(0.1)


def _replay(paused: bool) -> None:
    with connections[REPLICA].cursor() as cursor:
        cursor.execute("SELECT pg_wal_replay_pause()" if paused else "SELECT pg_wal_replay_resume()")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            cursor.execute("SELECT pg_get_wal_replay_pause_state()")
            if (cursor.fetchone()[0] == "paused") == paused:
                return
            time.sleep(0.05)
    raise AssertionError("the replica's replay did not change state")


def test_the_settings_come_from_the_environment() -> None:
    assert settings.CENSUS_PGBOUNCER is True
    assert REPLICA in settings.DATABASES
    assert settings.DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert connections["default"].prepares is False
    assert connections[REPLICA].prepares is True


@ALL
def test_the_district_dashboard_reads_the_replica_and_the_primary_once_the_replica_lags_too_far(cast: Cast) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(cast.district_office)
    url = reverse("supervision:dashboard")
    client.get(url)  # (the session's first touch is a write; a later request reads only)
    _wait_replayed()
    with override_settings(DATABASE_REPLICA_MAX_LAG_SECONDS=3.0):
        _replay(paused=False)  # (a test before may have left it paused)
        _wait_replayed()
        _replay(paused=True)
        try:
            Township.objects.filter(pk=cast.township_a.pk).update(name="甲镇改名")
            # The replica has not replayed the rename: within the limit, the page shows the replica's older name.
            status = replica_status(fresh=True)
            assert status.lag is not None and status.lag < 3.0, status
            with (
                CaptureQueriesContext(connections["default"]) as on_primary,
                CaptureQueriesContext(connections[REPLICA]) as on_replica,
            ):
                page = client.get(url).content.decode()
            assert "甲镇" in page and "甲镇改名" not in page
            assert "Read from the replica database" in page
            # The page's figures come from the replica; the primary answers the session, the user and the lag.
            assert len(on_replica) > 10
            assert not [q["sql"] for q in on_primary if "progress_" in q["sql"] or "census_township" in q["sql"]]
            health = client.get(reverse("healthz")).json()
            assert health["replica"]["used"] is True
            # Past the limit, the same page reads the primary and says so.
            deadline = time.monotonic() + 30
            while (replica_status(fresh=True).lag or 0) <= 3.0:
                assert time.monotonic() < deadline
                time.sleep(0.2)
            page = client.get(url).content.decode()
            assert "甲镇改名" in page
            assert re.search(r"Read from the primary database: the replica is [\d.]+ s behind \(more than 3 s\)", page)
            assert client.get(reverse("healthz")).json()["replica"]["used"] is False
        finally:
            _replay(paused=False)
        # Caught up, the replica serves the page again, with the new name.
        _wait_replayed()
        assert replica_status(fresh=True).lag == 0.0
        page = client.get(url).content.decode()
        assert "甲镇改名" in page and "Read from the replica database, 0.0 s behind" in page


@ALL
def test_a_read_after_a_write_in_the_same_transaction_stays_on_the_primary(cast: Cast) -> None:
    from django.db import transaction

    _replay(paused=False)
    _wait_replayed()
    with override_settings(DATABASE_REPLICA_MAX_LAG_SECONDS=60.0), transaction.atomic():
        with db_router.replica_reads() as alias:
            assert alias == REPLICA
        Township.objects.filter(pk=cast.township_b.pk).update(name="乙镇改名")
        with db_router.replica_reads() as alias:
            assert alias == "default"
            assert Township.objects.get(pk=cast.township_b.pk).name == "乙镇改名"


@ALL
def test_the_audit_chain_sealer_holds_its_lock_through_pgbouncer(settings: Any, tmp_path: Path) -> None:
    """A session lock taken through PgBouncer in transaction mode would stay behind on a pooled server connection
    and make every later sealer wait (census.db.advisory_lock)."""
    import psycopg2

    from census.audit_chain import SEAL_LOCK, audit_chain_seal
    from census.models import AuditAction
    from census.services import audit_record

    settings.AUDIT_CHAIN_ANCHOR_DIR = tmp_path
    audit_record(actor=None, action=AuditAction.EXPORT, object_type="households", object_id=1)
    # Another sealer, straight on the primary, holds the lock: this one is busy.
    db = connections["default"].settings_dict
    other = psycopg2.connect(
        dbname=db["NAME"], user=db["USER"], host=db["HOST"], port=os.environ["TOPOLOGY_PRIMARY_PORT"]
    )
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [SEAL_LOCK])
        assert audit_chain_seal().busy
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [SEAL_LOCK])
        assert audit_chain_seal().linked == 1
        # Nothing is left holding the lock on any of PgBouncer's server connections.
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [SEAL_LOCK])
            assert cursor.fetchone()[0] is True
            cursor.execute("SELECT pg_advisory_unlock(%s)", [SEAL_LOCK])
        audit_record(actor=None, action=AuditAction.EXPORT, object_type="households", object_id=2)
        assert audit_chain_seal().linked == 1
    finally:
        other.rollback()
        other.close()


@ALL
def test_a_replica_that_does_not_answer_sends_the_reads_to_the_primary(cast: Cast) -> None:
    from census import topology

    replica = connections[REPLICA]
    port = replica.settings_dict["PORT"]
    replica.close()
    replica.settings_dict["PORT"] = str(topology.free_port())
    try:
        status = replica_status(fresh=True)
        assert status.configured and status.lag is None and status.error == "OperationalError", status
        with db_router.replica_reads() as alias:
            assert alias == "default"
            assert Township.objects.get(pk=cast.township_a.pk).name == "甲镇"
    finally:
        replica.close()
        replica.settings_dict["PORT"] = port
    _wait_replayed()
    assert replica_status(fresh=True).usable


# --- the nightly checks: two Celery workers through PgBouncer with reads on the replica, against one server ------


def _snapshot() -> set[tuple[Any, ...]]:
    return {
        (rule, key, state, record_key, str(sorted(evidence.items())))
        for rule, key, state, record_key, evidence in Finding.objects.values_list(
            "rule", "key", "state", "record_key", "evidence"
        )
    }


RULES_OF_FORMS = [code for checks in FORM_SECTIONS.values() for check in checks for code in check.codes]


def _tallies() -> set[tuple[Any, ...]]:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT * FROM quality_householdtally")
        return {tuple(str(value) for value in row) for row in cursor.fetchall()}


def _roster_matches() -> set[tuple[Any, ...]]:
    return set(RosterMatch.objects.values_list("id_number", "village_id", "registered", "here", "household_id"))


def _import_roster(tmp_path: Path) -> None:
    """A hukou roster of the seeded district: 300 of its persons with a number, one of them twice (in another
    household too: an ID duplicate), and 20 persons registered nowhere."""
    persons = list(
        Person.objects.exclude(d3_id_number="")
        .filter(household__state__in=SIGNED_STATES)
        .select_related("small_area", "household")
        .order_by("id")[:300]
    )
    rows = [
        [
            p.d3_id_number,
            p.d1_name,
            p.d4_sex,
            p.d5_birth_year,
            p.d5_birth_month,
            p.small_area.code,
            p.household.household_no,
            "",
        ]
        for p in persons
    ]
    rows += [
        [
            same_number(1960 + n, 1 + n % 12, 1 + n % 2, 100 + n),
            f"未登{n}",
            1 + n % 2,
            1960 + n,
            1 + n % 12,
            persons[n].small_area.code,
            "",
            "",
        ]
        for n in range(20)
    ]
    path = tmp_path / "roster.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["公民身份号码", "姓名", "性别", "出生年", "出生月", "户籍地代码", "户编号", "户籍地址"])
        writer.writerows(rows)
    roster_import_bulk(path=path, district_code=persons[0].township_id[:6])
    # An ID number written into a second household's form.
    other = (
        Person.objects.filter(household__state__in=SIGNED_STATES)
        .exclude(household_id=persons[0].household_id)
        .exclude(d3_id_number="")
        .order_by("-id")[0]
    )
    Person.objects.filter(pk=other.pk).update(d3_id_number=persons[0].d3_id_number)


def _forget_findings() -> None:
    FindingEvent.objects.all().delete()
    Finding.objects.all().delete()
    CheckRunPart.objects.all().delete()
    CheckRun.objects.all().delete()
    RosterAreaCount.objects.all().delete()


LOG = Path(tempfile.gettempdir()) / f"replica-topology-workers-{os.getpid()}.log"


def _workers(queue: str, names: list[str]) -> list[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "census.test_settings",
        "CENSUS_DATABASE_NAME": connections["default"].settings_dict["NAME"],
    }
    command = [sys.executable, "-m", "celery", "-A", "census", "worker", "-P", "solo", "-Q", queue]
    quiet = ["--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "INFO"]
    workers = [
        subprocess.Popen(
            [*command, "-n", name, *quiet], cwd=ROOT, env=env, stdout=LOG.open("ab"), stderr=subprocess.STDOUT
        )
        for name in names
    ]
    from census.celery import app

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        replies = app.control.ping(destination=names, timeout=0.5)
        if len(replies) == len(names):
            return workers
        assert all(worker.poll() is None for worker in workers), LOG.read_text(errors="replace")[-3000:]
    raise AssertionError("the workers did not start: " + LOG.read_text(errors="replace")[-3000:])


def _microdata_lines(user: StaffMember, path: Path) -> set[bytes]:
    from supervision.progress import microdata

    microdata.export_to_file(user=user, forms="accepted", path=path, streams=2)
    return set(path.read_bytes().splitlines())


def _run_on_workers(mode: str, queue: str) -> CheckRun:
    run = check_run_create(user=None, mode=mode)
    check_run_parts_enqueue(run=run, queue=queue)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        run.refresh_from_db()
        if run.is_finished:
            assert run.status == "done", run.error
            return run
        time.sleep(0.2)
    raise AssertionError("the run did not finish: " + LOG.read_text(errors="replace")[-3000:])


@ALL
def test_the_nightly_checks_on_two_workers_through_pgbouncer_with_reads_on_the_replica_find_what_one_server_finds(
    tmp_path: Path,
) -> None:
    call_command("seed_district", persons=3000, seed=9, plant_errors=os.devnull, stdout=io.StringIO())
    _import_roster(tmp_path)
    # (Past the incremental runs' margin, QUALITY_INCREMENTAL_MARGIN_SECONDS: the seeded forms are then older than
    # the full run's watermark.)
    time.sleep(2.5)
    _replay(paused=False)
    _wait_usable()
    # The summary tables (an export) read on the replica — in one snapshot there, REPEATABLE READ on a hot standby
    # — and come out as on the primary.
    district = StaffMember.objects.filter(role=Role.DISTRICT_OFFICE).first()
    assert district is not None
    with db_router.replica_reads() as alias, CaptureQueriesContext(connections[REPLICA]) as on_replica:
        assert alias == REPLICA
        from_replica = build_summary(user=district)
    from_primary = build_summary(user=district)
    assert len(on_replica) > 10
    assert from_replica == from_primary and from_primary.table("T01").total("persons") > 500

    # The microdata file: its streams (threads, each on a connection of its own) read the replica too. With the
    # replica's replay paused and one accepted person's birth year changed on the primary, the file written while
    # the replica serves has the old year, the primary's the new one.
    before = _microdata_lines(district, tmp_path / "before.csv")
    _replay(paused=True)
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute(
                "UPDATE enumeration_person SET d5_birth_year = d5_birth_year - 1 WHERE id = (SELECT min(p.id) "
                "FROM enumeration_person p JOIN enumeration_household h ON h.id = p.household_id "
                "WHERE h.state IN ('accepted', 'locked'))"
            )
        with override_settings(DATABASE_REPLICA_MAX_LAG_SECONDS=60.0), db_router.replica_reads() as alias:
            assert alias == REPLICA
            from_replica = _microdata_lines(district, tmp_path / "replica.csv")
        from_primary = _microdata_lines(district, tmp_path / "primary.csv")
    finally:
        _replay(paused=False)
    assert len(from_primary) > 500
    assert from_replica == before
    assert len(from_replica ^ from_primary) == 2  # the one person's row, as it was and as it is
    _wait_replayed()

    queue = f"topology-{os.getpid()}"
    names = [f"north@{queue}", f"south@{queue}"]
    workers = _workers(queue, names)
    try:
        full = _run_on_workers("full", queue)
        # Both workers took parts of the one run (the part records who ran it).
        ran = set(CheckRunPart.objects.filter(run=full).values_list("stats__worker", flat=True))
        assert ran == set(names), ran
        # Every forms section — every signed form of the district read once per rule group — and the district
        # sections — the duplicates among the district's persons, the roster matched against them — were read on
        # the replica (their detections and matches then written on the primary).
        sections = CheckRunPart.objects.filter(run=full, township__isnull=True)
        assert sorted(sections.values_list("section", flat=True)) == sorted([*FORM_SECTIONS, "duplicates", "roster"])
        assert {part.stats["read_from"] for part in sections} == {REPLICA}
        # So were the township parts' tallies and their cross rules that read the forms and the ledger only.
        townships = CheckRunPart.objects.filter(run=full, township__isnull=False)
        assert townships.count() >= 2
        assert {part.stats["read_from"] for part in townships} == {REPLICA}
        _wait_replayed()
        # Nothing changed since: the incremental run's township parts find that on the replica.
        incremental = _run_on_workers("incremental", queue)
        township_parts = CheckRunPart.objects.filter(run=incremental, township__isnull=False)
        assert township_parts.exists()
        assert all(part.stats.get("unchanged") for part in township_parts)
        assert {part.stats["read_from"] for part in township_parts} == {REPLICA}
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=60)
    replicated = _snapshot()
    assert len(replicated) > 40
    # Findings of every kind of section are compared below: forms, duplicates, roster.
    found_rules = {rule for rule, *_ in replicated}
    assert {"ROSTER_NOT_REGISTERED", "ID_DUPLICATE_DISTRICT"} <= found_rules, found_rules
    assert found_rules & set(RULES_OF_FORMS), found_rules
    matches = _roster_matches()
    tallies = _tallies()
    assert len(tallies) > 500

    # The same data, on one server: the primary itself, no PgBouncer, no replica, the coordinator in this process.
    _forget_findings()
    for alias in ("default", REPLICA):
        connections[alias].close()
    connections["default"].settings_dict["PORT"] = os.environ["TOPOLOGY_PRIMARY_PORT"]
    try:
        with override_settings(CENSUS_PGBOUNCER=False, DATABASE_REPLICA_MAX_LAG_SECONDS=-1.0):
            assert not replica_status(fresh=True).usable
            check_run_execute(run_id=check_run_create(user=None, mode="full").pk, poll=0.05)
            check_run_execute(run_id=check_run_create(user=None, mode="incremental").pk, poll=0.05)
            assert _snapshot() == replicated
            assert _roster_matches() == matches
            assert _tallies() == tallies
    finally:
        connections["default"].close()
        connections["default"].settings_dict["PORT"] = os.environ["TOPOLOGY_BOUNCER_PORT"]


@ALL
def test_a_forms_section_read_on_a_replica_behind_leaves_the_findings_of_forms_written_since_unsettled() -> None:
    """The replica's snapshot is up to its lag old. A form returned for correction there but signed again on the
    primary since (with the problem still in it) is not read by the section; its finding must not be closed as
    if the problem were gone. A form the replica and the primary agree on is settled as on one server."""
    call_command("seed_district", persons=1500, seed=4, plant_errors=os.devnull, stdout=io.StringIO())
    with override_settings(DATABASE_REPLICA_MAX_LAG_SECONDS=-1.0):
        check_run_execute(run_id=check_run_create(user=None, mode="full").pk, poll=0.05)
    rules = [code for checks in FORM_SECTIONS.values() for check in checks for code in check.codes]
    open_findings = Finding.objects.filter(rule__in=rules, state="open", household__isnull=False)
    explained = open_findings.filter(severity="warning").order_by("pk").first()
    assert explained is not None
    returned = open_findings.exclude(household_id=explained.household_id).order_by("pk").first()
    assert returned is not None
    old_state = returned.household.state
    with connections["default"].cursor() as cursor:
        # Explained on the form an hour ago (on both servers), and returned for correction (on both).
        cursor.execute(
            "UPDATE enumeration_household SET warning_notes = warning_notes || jsonb_build_object(%s, %s), "
            "updated_at = now() - interval '1 hour' WHERE id = %s",
            [
                explained.rule + (f"@{explained.row_no}" if explained.row_no is not None else ""),
                "已核实属实",
                explained.household_id,
            ],
        )
        cursor.execute("UPDATE enumeration_household SET state = 'returned' WHERE id = %s", [returned.household_id])
    _wait_replayed()
    _replay(paused=True)
    try:
        with connections["default"].cursor() as cursor:
            # Signed again on the primary only, unchanged: the problem is still there.
            cursor.execute(
                "UPDATE enumeration_household SET state = %s, updated_at = now() WHERE id = %s",
                [old_state, returned.household_id],
            )
        quality = {**settings.QUALITY, "INCREMENTAL_MARGIN_SECONDS": 600}
        with override_settings(DATABASE_REPLICA_MAX_LAG_SECONDS=60.0, QUALITY=quality):
            run = check_run_create(user=None, mode="full")
            check_run_execute(run_id=run.pk, poll=0.05)
    finally:
        _replay(paused=False)
    forms_parts = CheckRunPart.objects.filter(run=run, section__in=list(FORM_SECTIONS))
    assert {part.stats["read_from"] for part in forms_parts} == {REPLICA}
    explained.refresh_from_db()
    returned.refresh_from_db()
    assert explained.state == "closed", explained.state
    assert returned.state == "open", returned.state


@ALL
def test_a_replica_that_fails_in_the_middle_of_a_part_s_read_leaves_the_part_to_the_primary(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A hot standby cancels a read that conflicts with its replay, or goes away: every part that was reading there
    reads again on the primary, in the same transaction, and the run finds what a run without a replica finds."""
    from supervision.quality.checks import runner

    call_command("seed_district", persons=1500, seed=6, plant_errors=os.devnull, stdout=io.StringIO())
    with override_settings(DATABASE_REPLICA_MAX_LAG_SECONDS=-1.0):
        check_run_execute(run_id=check_run_create(user=None, mode="full").pk, poll=0.05)
    alone = _snapshot()
    assert len(alone) > 20
    _forget_findings()
    read_rows = runner.read_rows
    failed: list[str] = []

    def failing(cursor: Any, statements: Any, spool: Any, result: Any) -> None:
        assert cursor.db.alias == REPLICA
        # Some rows are written first: a failure part-way must copy none of them.
        read_rows(cursor, statements[:1], spool, result)
        failed.append(statements[0][0])
        cursor.execute("SELECT 1 / 0")

    monkeypatch.setattr(runner, "read_rows", failing)
    _wait_usable()
    quality = {**settings.QUALITY, "INCREMENTAL_MARGIN_SECONDS": 600}
    with override_settings(DATABASE_REPLICA_MAX_LAG_SECONDS=60.0, QUALITY=quality):
        run = check_run_execute(run_id=check_run_create(user=None, mode="full").pk, poll=0.05)
    assert run.status == "done", run.error
    parts = CheckRunPart.objects.filter(run=run)
    # Every part that looks at everything tried the replica, and read on the primary after all.
    assert len(failed) == parts.count()
    assert {part.stats.get("read_from") for part in parts} == {"default"}
    assert _snapshot() == alone
