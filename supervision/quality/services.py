"""Writes of the quality part: check runs and their parts, the life of a finding, escalation, the roster import.

**Runs.** ``check_run_start`` creates a run for a scope (a township, or the whole district) with one part per
township plus two district parts (duplicates and the roster look across townships) — and in a full run five forms
sections, which check the household rules over every form of the scope, each rule one statement, while the township
parts run only the cross-record rules — enqueues every part as its own
Celery task and a coordinating job that shows the progress. ``check_run_part_execute`` is the unit of work and is
safe to call any number of times, from any number of workers: it takes the part's PostgreSQL advisory lock (held
by the transaction, so a killed worker's lock dies with its connection), skips a part that is done, runs every
check and writes the findings together with the part's ``done`` mark in one transaction. A worker killed in the
middle therefore leaves no trace, and whoever comes next — the re-delivered task, another part task, the
coordinator, tomorrow's run — does the part from the start. The last part to finish closes the run.

**Findings.** The registrar explains (signed with their password), the supervisor verifies a corrected or
explained finding or rejects an explanation; the checks themselves open, correct and close findings.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from census import privacy
from census.api import ApplicationError, ConflictError
from census.db_router import max_lag, read_connection, replica_reads
from census.jobs import job_start, queue_unavailable_message
from census.models import (
    AuditAction,
    AuditEvent,
    City,
    District,
    Job,
    Role,
    StaffMember,
    SupervisorAssignment,
    Township,
    default_district_code,
)
from census.passwords import password_confirm
from census.privacy import record_personal_data_list_view, record_personal_data_view
from census.services import audit_record
from enumeration.models import Household
from enumeration.rules.catalogue import rule as catalogue_rule
from supervision.quality.checks import (
    ANY_STATE_RULES,
    CHECKS,
    CITY_RULES,
    COUNTED_SECTIONS,
    CROSS_CHECKS,
    DISTRICT_SECTIONS,
    FORM_SECTIONS,
    HOUSEHOLD_CHECKS,
    SIGNED_SECTIONS,
    PartContext,
    runner,
    tally,
)
from supervision.quality.checks import duplicates as duplicate_checks
from supervision.quality.checks import process as process_checks
from supervision.quality.checks import roster as roster_checks
from supervision.quality.checks.base import SIGNED_SQL
from supervision.quality.models import (
    AWAITING_VERIFICATION,
    UNRESOLVED_STATES,
    CheckRun,
    CheckRunPart,
    Finding,
    FindingEvent,
    FindingEventKind,
    FindingState,
    PartSection,
    PartStatus,
    RunMode,
    RunStatus,
)
from supervision.quality.presentation import personal_values_shown

logger = logging.getLogger(__name__)

RUN_JOB_KIND = "quality_check_run"
ROSTER_JOB_KIND = "quality_roster_import"
# pg_advisory_xact_lock(namespace, key): parts by id, townships by hashtext(code).
LOCK_PART = 0x51A1
LOCK_SCOPE = 0x51A2
MIN_EXPLANATION_LENGTH = 4


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, "QUALITY", {}).get(name, default)


# --- runs ------------------------------------------------------------------------------------------------


def _townships_in_scope(*, district: District, township: Township | None) -> list[str]:
    if township is not None:
        return [township.code]
    return list(Township.objects.filter(district=district).order_by("code").values_list("code", flat=True))


@transaction.atomic
def check_run_create(
    *, user: StaffMember | None, mode: str, township: Township | None = None, district: District | None = None
) -> CheckRun:
    """The run row and its parts (one per township, the two district sections, and for a full run the forms
    sections), without starting anything."""
    if mode not in RunMode.values:
        raise ValidationError({"mode": _("Choose an incremental or a full run.")})
    if user is not None and user.role == Role.TOWNSHIP_OFFICE:
        township = user.township
    if district is None:
        district_code = township.district_id if township is not None else (user.district_id if user else None)
        district = District.objects.get(code=district_code or default_district_code())
    if township is not None and township.district_id != district.code:
        raise ValidationError({"township": _("The township is not in this district.")})
    townships = _townships_in_scope(district=district, township=township)
    sections = [PartSection(name) for name in DISTRICT_SECTIONS]
    if mode == RunMode.FULL:
        sections += [PartSection(name) for name in FORM_SECTIONS]
    run = CheckRun(
        mode=mode,
        district=district,
        township=township,
        started_by=user,
        parts_total=len(townships) + len(sections),
    )
    run.full_clean(exclude=["job"])
    run.save()
    CheckRunPart.objects.bulk_create(
        [CheckRunPart(run=run, township_id=code) for code in townships]
        + [CheckRunPart(run=run, township=None, section=section) for section in sections]
    )
    return run


@transaction.atomic
def check_run_start(
    *, user: StaffMember | None, mode: str = RunMode.INCREMENTAL, township: Township | None = None
) -> CheckRun:
    """Create a run for the user's scope and fan it out: a Celery task per part, and the coordinating job."""
    if user is not None and user.role not in (Role.TOWNSHIP_OFFICE, Role.DISTRICT_OFFICE) and not user.is_superuser:
        raise ApplicationError(_("Only a census office starts check runs."), code="not_office")
    run = check_run_create(user=user, mode=mode, township=township)
    scope = run.township.name if run.township is not None else run.district.name
    job = job_start(
        kind=RUN_JOB_KIND,
        title=_("Quality checks (%(mode)s): %(scope)s") % {"mode": run.get_mode_display(), "scope": scope},
        user=user,
        params={"run_id": run.pk},
        township_id=run.township_id or "",
    )
    CheckRun.objects.filter(pk=run.pk).update(job=job)
    run.job = job
    transaction.on_commit(lambda: _parts_enqueue_after_commit(run))
    return run


def check_runs_start_nightly(*, mode: str = RunMode.INCREMENTAL) -> int:
    """The nightly run: one district-wide run per district (started by nobody)."""
    started = 0
    for district in District.objects.order_by("code"):
        if not Township.objects.filter(district=district).exists():
            continue
        with transaction.atomic():
            run = check_run_create(user=None, mode=mode, district=district)
            job = job_start(
                kind=RUN_JOB_KIND,
                title=_("Nightly quality checks: %(scope)s") % {"scope": district.name},
                user=None,
                params={"run_id": run.pk},
            )
            Job.objects.filter(pk=job.pk).update(district_id=district.code)
            CheckRun.objects.filter(pk=run.pk).update(job=job)
            transaction.on_commit(lambda run=run: _parts_enqueue_after_commit(run))  # type: ignore[misc]
        started += 1
    return started


def _parts_enqueue_after_commit(run: CheckRun) -> None:
    """Send a committed run's parts to the workers. If the task queue went away since its job was started, the run
    fails with the reason (its job does too, census.jobs): retrying the job runs the parts itself."""
    try:
        check_run_parts_enqueue(run=run)
    except Exception:
        logger.warning("the parts of check run %s could not be handed to the task queue", run.pk, exc_info=True)
        check_run_fail(run_id=run.pk, error=queue_unavailable_message())


def _enqueue_parts(units: list[list[int]], queue: str | None = None) -> None:
    """One task per unit: a part, or a group of township parts checked together (``check_run_parts_execute``)."""
    from supervision.quality.tasks import run_check_part, run_check_parts

    for unit in units:
        task, args = (run_check_part, (unit[0],)) if len(unit) == 1 else (run_check_parts, (unit,))
        if queue:
            task.apply_async(args=args, queue=queue)
        else:
            task.delay(*args)


# What a district section of an incremental run costs per household changed in the district, against what a
# township part costs per household changed in the township (6,000,000 persons, 20,000 changes: 3.2–4.5 s a
# section, 4.3–4.8 s for a township holding all of them).
DISTRICT_SECTION_WEIGHT = 0.8


def check_run_parts_enqueue(*, run: CheckRun, queue: str | None = None) -> None:
    """Send every unfinished part of a run to the Celery workers (again: a part done is skipped). Longest first,
    so that the workers finish together. A full run: the district parts, then the townships by their households.
    An incremental one: by the households each part will read again — a township's changed since its watermark;
    a district section, the district's changes (weighed by ``DISTRICT_SECTION_WEIGHT``) — so that a township where
    most of the night's changes are starts beside the district sections, not after them; the first district section
    goes before the counting."""
    parts = list(run.parts.exclude(status=PartStatus.DONE).order_by("pk").values_list("pk", "township_id"))
    if run.mode != RunMode.FULL:
        # A district section reads the whole district's changes again, the longest part of most nights: the first
        # starts while the townships' changes are counted (0.2–0.5 s at 6,000,000 persons), not after.
        first = next((part for part in parts if part[1] is None), None)
        if first is not None:
            _enqueue_parts([[first[0]]], queue)
            parts.remove(first)
    townships = [township for _, township in parts if township]
    # (Only an order: counts from a replica a few seconds behind serve as well.)
    with replica_reads():
        if run.mode == RunMode.FULL:
            sizes: dict[str | None, float] = dict(
                Household.objects.filter(township_id__in=townships)
                .values("township_id")
                .annotate(households=Count("id"))
                .values_list("township_id", "households")
            )
            # (The district and forms sections first.)
            sizes[None] = float("inf")
        else:
            sizes = {township: float(count) for township, count in _changed_households(townships).items()}
            sizes[None] = DISTRICT_SECTION_WEIGHT * sum(sizes.values())
    units = (
        group_parts(parts, sizes)
        if run.mode != RunMode.FULL
        else [([pk], (township,) if township else ()) for pk, township in parts]
    )

    def weight(townships: tuple[str, ...]) -> float:
        return sum(sizes.get(township, 0) for township in townships) if townships else sizes.get(None, 0)

    # (District parts in the order they were made: the longest sections first.)
    units.sort(key=lambda unit: (-weight(unit[1]), bool(unit[1]), unit[1], unit[0][0]))
    _enqueue_parts([ids for ids, _ in units], queue)


# An incremental run's township parts with fewer changed households than this are checked in groups of about as
# many households together (at most ``GROUP_TOWNSHIPS`` townships): what every part pays whatever its changes —
# some 130 statements, their temporary tables, the merge, 95–170 ms at 6,000,000 persons — is then paid once a
# group. Above it a township is its own part, so that the parts of a night's big townships still spread over the
# workers.
GROUP_HOUSEHOLDS = 2_500
GROUP_TOWNSHIPS = 8


def group_parts(
    parts: Sequence[tuple[int, str | None]], sizes: dict[str | None, float]
) -> list[tuple[list[int], tuple[str, ...]]]:
    """The run's units of work: ``(part ids, their townships)`` — a district section (no township) or a township
    alone, or a group of small townships, smallest first, until it holds ``GROUP_HOUSEHOLDS`` changed households
    or ``GROUP_TOWNSHIPS`` townships. A township without changes since its watermark costs a few queries (its part
    marks it unchanged) and joins any group."""
    units: list[tuple[list[int], tuple[str, ...]]] = []
    small: list[tuple[int, str]] = []
    for pk, township in parts:
        if township is None or sizes.get(township, 0) >= GROUP_HOUSEHOLDS:
            units.append(([pk], (township,) if township else ()))
        else:
            small.append((pk, township))
    small.sort(key=lambda part: (sizes.get(part[1], 0), part[1]))
    group: list[tuple[int, str]] = []
    for index, part in enumerate(small):
        group.append(part)
        full = sum(sizes.get(t, 0) for _, t in group) >= GROUP_HOUSEHOLDS or len(group) >= GROUP_TOWNSHIPS
        if full or index == len(small) - 1:
            units.append(([pk for pk, _ in group], tuple(t for _, t in group)))
            group = []
    return units


def _changed_households(townships: list[str]) -> dict[str, int]:
    """Per township, the households an incremental part will read: those changed since its watermark, through the
    (township, updated_at) index — about a millisecond a township, where counting a 6-million-person district's
    households took 0.44 s before the first part could start. A township without a watermark is read whole. (A
    count per township with its own constants: with the watermarks as an array the planner could not tell a few
    hundred changed rows from half the township; as one UNION ALL it started parallel workers, 1.5 s.)"""
    sizes: dict[str, int] = {}
    with read_connection().cursor() as cursor:
        for township in townships:
            since = _township_since(township)
            if since is None:
                cursor.execute("SELECT count(*) FROM enumeration_household WHERE township_id = %s", [township])
            else:
                cursor.execute(
                    "SELECT count(*) FROM enumeration_household "
                    "WHERE township_id = %s AND (township_id, updated_at) > (%s, %s)",
                    [township, township, since],
                )
            sizes[township] = int(cursor.fetchone()[0])
    return sizes


def _since(part: CheckRunPart) -> datetime | None:
    """The watermark of an incremental part: when the township's last completed part took its snapshot, less
    a margin for transactions that committed after their ``updated_at`` was set."""
    if part.run.mode == RunMode.FULL or part.township_id is None:
        return None
    return _township_since(part.township_id)


def _township_since(township_id: str) -> datetime | None:
    """The watermark of the township's next incremental part (``_since``)."""
    last = (
        CheckRunPart.objects.filter(township_id=township_id, status=PartStatus.DONE, started_at__isnull=False)
        .order_by("-started_at")
        .values_list("started_at", "stats", "run__mode", "run__created_at", "run__status")
        .first()
    )
    if last is None or last[0] is None:
        return None
    started_at: datetime = last[0]
    stats: dict[str, Any] = last[1] or {}
    if stats.get("catalogue") != runner.catalogue_fingerprint():
        # The rules changed since (a threshold, a new rule): every form of the township is checked again.
        return None
    if last[2] == RunMode.FULL:
        # A full run's forms were checked by its forms sections — which may have begun before the township's
        # part, and count only when every one of them was done: from the run's start, if it finished.
        if last[4] != RunStatus.DONE:
            return None
        started_at = last[3]
    return _watermark(started_at)


def _watermark(started_at: datetime) -> datetime:
    """Where an incremental part picks up after a part that started at ``started_at``: earlier by a margin, for
    transactions that committed after their ``updated_at`` was set."""
    return started_at - timedelta(seconds=int(_setting("INCREMENTAL_MARGIN_SECONDS", 600)))


def _households_written(*, township_id: str, since: datetime) -> bool:
    """A household of the township was written after ``since``: its forms, persons, deaths, signatures,
    transitions and listing all go through the household row's ``updated_at``. (Tampering with the tables
    directly, past the application, is what the weekly full run and ``verify_signatures`` are for.)"""
    return Household.objects.filter(township_id=township_id, updated_at__gt=since).exists()


def _assignments_changed(*, district_id: str, since: datetime) -> bool:
    """An assignment of the district changed after ``since``: who answers for an area's findings may have."""
    return AuditEvent.objects.filter(
        action=AuditAction.ASSIGNMENT_CHANGE, district_id=district_id, at__gt=since
    ).exists()


def _watermark_reads() -> contextlib.AbstractContextManager[str]:
    """Where the question "did anything change since the watermark" is read: on the replica when it is close
    enough behind (census/db_router.py). A change the replica has not replayed yet committed less than the
    replica's lag ago; the next run starts INCREMENTAL_MARGIN_SECONDS before this part's start and sees it — hence
    the replica only while its lag limit is well inside that margin."""
    if max_lag() * 2 < int(_setting("INCREMENTAL_MARGIN_SECONDS", 600)):
        return replica_reads()
    return contextlib.nullcontext(DEFAULT_DB_ALIAS)


# The guard of a merge whose detections were read on the replica (``_read_on_replica``): its snapshot is up to its
# lag old, and a household written since may be in another state on the primary. The findings of such households
# are not settled by this part — the next incremental run checks them again (they were written after its
# watermark, which looks back the same margin).
_WRITTEN_SINCE_REPLICA_READ = (
    " AND (f.household_id IS NULL OR NOT EXISTS (SELECT FROM enumeration_household h"
    " WHERE h.id = f.household_id AND h.updated_at > %(replica_seen_until)s))"
)


def _read_on_replica(
    write: CursorWrapper,
    *,
    alias: str,
    statements: Callable[[CursorWrapper], list[tuple[str, str]] | None],
    into: str,
    columns: str,
    result: runner.PartResult,
) -> bool:
    """Run on the replica ``alias``, in one snapshot (REPEATABLE READ, what a hot standby allows), the statements
    ``statements(cursor)`` gives — None when it finds the replica cannot serve them — and copy their rows into
    ``into`` (``columns``) in the primary's transaction (``write``), through a spool file (COPY's text format; in
    memory up to ``runner.SPOOL_BYTES``). ``alias`` is chosen as ``_watermark_reads`` chooses, before the part's
    transaction wrote anything (or the read-after-write rule would keep it on the primary). False when the replica
    is not used, declined or failed (a hot standby cancels a long read that conflicts with its replay): nothing is
    copied, and the caller reads on the primary. The heaviest reads of a full run go this way; the writes stay on
    the primary."""
    if alias == DEFAULT_DB_ALIAS:
        return False
    clock = time.perf_counter()
    with tempfile.SpooledTemporaryFile(max_size=runner.SPOOL_BYTES) as spool:
        try:
            with transaction.atomic(using=alias), connections[alias].cursor() as read:
                read.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                runner.tune_reads(read)
                chosen = statements(read)
                if chosen is None:
                    return False
                result.timings["setup"] = result.timings.get("setup", 0.0) + time.perf_counter() - clock
                runner.read_rows(read, chosen, spool, result)
        except DatabaseError:
            logger.warning("the replica failed: reading on the primary", exc_info=True)
            connections[alias].close()
            return False
        runner.load_rows(write, spool, into, columns)
    return True


def _tally_township_on_replica(write: CursorWrapper, *, alias: str, township: str, result: runner.PartResult) -> str:
    """A township's tally rows — every signed form of it with its persons, counted — read on the replica
    (``_read_on_replica``) and copied into ``quality_householdtally``; the sums are then made from them on the
    primary, as ``tally.REBUILD`` does. The alias they were read from."""
    if alias == DEFAULT_DB_ALIAS:
        return alias
    # (Before the copy; on the primary's path REBUILD deletes again, finding nothing.)
    write.execute(tally.REBUILD_DELETE, {"township": township})
    if not _read_on_replica(
        write,
        alias=alias,
        statements=lambda read: [runner.township_tally_statement(read, township)],
        into="quality_householdtally",
        columns=tally.COLUMNS,
        result=result,
    ):
        return DEFAULT_DB_ALIAS
    write.execute(tally.REBUILD_SUMS, {"township": township})
    return alias


def _forms_detect_on_replica(
    write: CursorWrapper, *, alias: str, part: CheckRunPart, townships: list[str], result: runner.PartResult
) -> str:
    """A forms section's detection — every signed form of the district, once per rule group — read on the replica
    (``_read_on_replica``) and copied into the part's q_det. The alias it was read from."""
    read = _read_on_replica(
        write,
        alias=alias,
        statements=lambda cursor: runner.form_detection_statements(
            cursor,
            townships,
            FORM_SECTIONS[part.section],
            counted=part.section in COUNTED_SECTIONS,
            signed=part.section in SIGNED_SECTIONS,
        ),
        into="q_det",
        columns=runner.HOUSEHOLD_DET_COLUMNS,
        result=result,
    )
    return alias if read else DEFAULT_DB_ALIAS


def _try_lock(namespace: int, key: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [namespace, key])
        return bool(cursor.fetchone()[0])


def _lock_scope(key: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", [LOCK_SCOPE, key])


def check_run_part_execute(*, part_id: int) -> bool:
    """Run one part if nobody else is running it and it is not done. True when this call did the work."""
    # Outside the part's transaction: a row lock on the run held for a whole part would make the parts queue.
    CheckRun.objects.filter(parts__pk=part_id, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING, started_at=timezone.now()
    )
    try:
        return _part_execute(part_id)
    except Exception as exc:
        # A check that fails (not a worker that dies: that leaves the part queued) fails the part and the run;
        # retrying the run's job puts them back in the queue.
        logger.exception("check run part %s failed", part_id)
        error = f"{type(exc).__name__}: {exc}"[:2000]
        CheckRunPart.objects.filter(pk=part_id).exclude(status=PartStatus.DONE).update(
            status=PartStatus.FAILED, error=error, finished_at=timezone.now()
        )
        run_id = CheckRunPart.objects.filter(pk=part_id).values_list("run_id", flat=True).first()
        if run_id is not None:
            check_run_fail(run_id=run_id, error=error)
        raise


def _part_execute(part_id: int) -> bool:
    with transaction.atomic():
        if not _try_lock(LOCK_PART, part_id):
            return False
        part = CheckRunPart.objects.select_related("run").filter(pk=part_id).first()
        if part is None or part.status != PartStatus.QUEUED or part.run.status == RunStatus.FAILED:
            return False
        run = part.run
        townships = (
            [part.township_id]
            if part.township_id
            else list(run.parts.exclude(township__isnull=True).values_list("township_id", flat=True))
        )
        # Two runs over the same township (the nightly one and an office's) take turns, part by part.
        _lock_scope(part.township_id or f"district:{run.district_id}:{part.section}")
        started_at = timezone.now()
        since = _since(part)
        # A township where nothing changed since the watermark — no household written, no assignment of the
        # district changed — keeps its findings from the last run as they are: its part need not run its
        # cross-record rules again.
        unchanged = assignments_changed = False
        if part.township_id and since is not None:
            with _watermark_reads() as read_from:
                assignments_changed = _assignments_changed(district_id=run.district_id, since=since)
                unchanged = not assignments_changed and not _households_written(
                    township_id=part.township_id, since=since
                )
        context = PartContext(
            run_id=run.pk,
            township=part.township_id or "",
            district=run.district_id,
            full=since is None,
            since=since,
            townships=tuple(townships),
            assignments_changed=assignments_changed,
        )
        if unchanged:
            _mark_unchanged(part=part, since=since, started_at=started_at, read_from=read_from)
        else:
            _part_checks(
                group=[(part, since)], run=run, context=context, townships=townships, since=since, started_at=started_at
            )
    _count_done(run)
    return True


def _mark_unchanged(*, part: CheckRunPart, since: datetime | None, started_at: datetime, read_from: str) -> None:
    _mark_done(
        part=part,
        since=since,
        started_at=started_at,
        households=0,
        stats={"catalogue": runner.catalogue_fingerprint(), "unchanged": True, "read_from": read_from},
    )


def check_run_parts_execute(*, part_ids: Sequence[int]) -> int:
    """Several township parts of one incremental run checked together, in one transaction (``group_parts``): each
    part still has its own watermark, households and done mark, but the checks run once over all their townships
    — a township part with a few changed households costs mostly what every part pays (some 130 statements,
    their temporary tables and the merge), not its households. A part that cannot join (a district section, a
    township without a watermark, a part done or running elsewhere) runs on its own afterwards. Safe to run twice:
    a part done is skipped. The number of parts this call did."""
    if len(part_ids) == 1:
        return int(check_run_part_execute(part_id=part_ids[0]))
    CheckRun.objects.filter(parts__pk__in=part_ids, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING, started_at=timezone.now()
    )
    try:
        done, alone = _group_execute(sorted(part_ids))
    except Exception as exc:
        logger.exception("check run parts %s failed", part_ids)
        error = f"{type(exc).__name__}: {exc}"[:2000]
        CheckRunPart.objects.filter(pk__in=part_ids).exclude(status=PartStatus.DONE).update(
            status=PartStatus.FAILED, error=error, finished_at=timezone.now()
        )
        for run_id in set(CheckRunPart.objects.filter(pk__in=part_ids).values_list("run_id", flat=True)):
            check_run_fail(run_id=run_id, error=error)
        raise
    return len(done) + sum(check_run_part_execute(part_id=part_id) for part_id in alone)


def _group_execute(part_ids: list[int]) -> tuple[list[CheckRunPart], list[int]]:
    """The group's parts done in one transaction, and those left to run alone."""
    with transaction.atomic():
        parts: list[CheckRunPart] = []
        for part_id in part_ids:
            if not _try_lock(LOCK_PART, part_id):
                continue
            part = CheckRunPart.objects.select_related("run").filter(pk=part_id).first()
            if part is not None and part.status == PartStatus.QUEUED and part.run.status != RunStatus.FAILED:
                parts.append(part)
        if not parts:
            return [], []
        run = parts[0].run
        alone = [p.pk for p in parts if p.run_id != run.pk or not p.township_id or run.mode == RunMode.FULL]
        group = sorted((p for p in parts if p.pk not in alone), key=lambda p: p.township_id or "")
        started_at = timezone.now()
        watermarks: list[tuple[CheckRunPart, datetime]] = []
        for part in group:
            _lock_scope(part.township_id or "")
            own = _since(part)
            if own is None:
                alone.append(part.pk)
            else:
                watermarks.append((part, own))
        if not watermarks:
            return [], alone
        active: list[tuple[CheckRunPart, datetime | None]] = []
        with _watermark_reads() as read_from:
            # (Any change of an assignment since the earliest watermark: the group counts every area again.)
            earliest = min(own for _, own in watermarks)
            assignments_changed = _assignments_changed(district_id=run.district_id, since=earliest)
            for part, own in watermarks:
                if assignments_changed or _households_written(township_id=part.township_id or "", since=own):
                    active.append((part, own))
                else:
                    _mark_unchanged(part=part, since=own, started_at=started_at, read_from=read_from)
        if active:
            townships = [part.township_id or "" for part, _ in active]
            # One watermark for the group, the earliest of its parts': a township whose own is later has the
            # households written between the two checked again, which changes nothing (they were checked then and
            # are what they were).
            since = min(own for _, own in active if own is not None)
            context = PartContext(
                run_id=run.pk,
                township=townships[0] if len(townships) == 1 else "",
                district=run.district_id,
                full=False,
                since=since,
                townships=tuple(townships),
                assignments_changed=assignments_changed,
            )
            _part_checks(
                group=active, run=run, context=context, townships=townships, since=since, started_at=started_at
            )
    done = [part for part, _ in watermarks]
    for part in done:
        _count_done(part.run)
    return done, alone


def _part_checks(
    *,
    group: list[tuple[CheckRunPart, datetime | None]],
    run: CheckRun,
    context: PartContext,
    townships: list[str],
    since: datetime | None,
    started_at: datetime,
) -> None:
    """Every check of the part — or of a group of township parts, over all their townships at once — the merge
    into findings and the done marks (each part with its own watermark), in the caller's transaction."""
    part = group[0][0]
    result = runner.PartResult()
    clock = time.perf_counter()
    # In a full run the forms sections check the forms (each rule once over the run); township parts run the
    # cross-record rules only.
    forms_by_section = run.mode == RunMode.FULL
    section_stats: dict[str, Any] = {}
    # Where the bulk reads of a part that looks at everything — a forms or district section, a township part
    # without a watermark — may go. (Chosen now: the part's temporary tables are writes, after which its reads stay
    # on the primary.)
    replica = DEFAULT_DB_ALIAS
    if not part.township_id or since is None:
        with _watermark_reads() as replica:
            pass
    with connection.cursor() as cursor:
        runner.tune_session(cursor)
        # An incremental township part (one with a watermark) reads the households changed since and their
        # persons only: its cross-record rules sum the township's tally, in which it rewrites the changed rows.
        changes_only = bool(part.township_id) and since is not None
        if part.township_id:
            # (The roster comparison reads no form: its findings are about roster entries. The duplicates part
            # reads the forms its scope needs, below.)
            runner.create_changed(cursor, townships, since, persons=False)
            result.timings["setup_changed"] = time.perf_counter() - clock
            process_checks.create_chain_tail(cursor, since if changes_only else None)
            result.timings["setup_chain"] = time.perf_counter() - clock - result.timings["setup_changed"]
            runner.create_signed(cursor, townships, only="q_changed" if changes_only else None)
        runner.create_detections(cursor)
        # (Checks of full runs only — the trail of every household — wait for the weekly full run, as edits made
        # behind the application's back do.)
        cross = [c for c in CROSS_CHECKS if c.kind == "cross" and (forms_by_section or not c.full_runs_only)]
        domains: list[str]
        domain_params: dict[str, Any]
        if part.township_id:
            if forms_by_section:
                cursor.execute("SELECT count(*) FROM q_signed")
                result.households = int(cursor.fetchone()[0])
            else:
                result.households = runner.create_household_tables(cursor, townships, since)
            result.timings["setup"] = time.perf_counter() - clock
            clock = time.perf_counter()
            read_from = DEFAULT_DB_ALIAS
            if changes_only:
                runner.tally_changed(cursor, result)
            else:
                read_from = _tally_township_on_replica(cursor, alias=replica, township=part.township_id, result=result)
                if read_from == DEFAULT_DB_ALIAS:
                    runner.tally_township(cursor, part.township_id)
                section_stats["read_from"] = read_from
            result.timings["tally"] = time.perf_counter() - clock
            # The cross rules' findings about households are about the township's signed ones (its tally); an
            # incremental part settles, of a rule that looks only at what the changes touch (``Check.settles``: the
            # signature chains' new links, the signers' changed days, the changed households' fingerprints), only
            # the findings it looked at again.
            domains = [
                "f.rule = ANY(%(cross_rules)s) AND f.township_id = ANY(%(townships)s) "
                "AND (f.household_id IS NULL OR f.household_id IN "
                "(SELECT household_id FROM quality_householdtally WHERE township_id = ANY(%(townships)s))) "
                + "".join(
                    f"AND (f.rule NOT IN ({', '.join(repr(code) for code in check.codes)}) OR %(every_area)s "
                    f"OR {check.settles}) "
                    for check in cross
                    if check.settles
                )
            ]
            domain_params = {
                "cross_rules": runner.rule_codes(cross),
                "townships": townships,
                "every_area": since is None,
                "assignments_changed": context.assignments_changed,
            }
            if forms_by_section:
                # The trail rules judge every household of the township: an unsigned form's finding is settled too.
                domains.append("f.rule = ANY(%(any_state_rules)s) AND f.township_id = ANY(%(townships)s)")
                domain_params["any_state_rules"] = list(ANY_STATE_RULES)
            if not forms_by_section:
                runner.run_checks(cursor, context, HOUSEHOLD_CHECKS, result)
                runner.enrich_household_detections(cursor)
                runner.drop_explained_warnings(cursor)
                domains.append("f.rule = ANY(%(household_rules)s) AND f.household_id IN (SELECT id FROM q_hh)")
                domain_params["household_rules"] = runner.household_rules()
            if read_from != DEFAULT_DB_ALIAS:
                # The cross rules that read the forms and the ledger only (not the tally just rewritten) are read
                # on the replica too; the merge leaves the findings of forms written since unsettled.
                on_replica = [check for check in cross if runner.reads_forms_only(check)]
                if _read_on_replica(
                    cursor,
                    alias=read_from,
                    statements=lambda read: runner.township_statements(read, on_replica, context),
                    into="q_det",
                    columns=runner.DET_COLUMNS,
                    result=result,
                ):
                    cross = [check for check in cross if check not in on_replica]
                domains = [domain + _WRITTEN_SINCE_REPLICA_READ for domain in domains]
                domain_params["replica_seen_until"] = _watermark(started_at)
            runner.run_checks(cursor, context, cross, result)
        elif part.section in FORM_SECTIONS:
            checks = FORM_SECTIONS[part.section]
            domains = ["f.rule = ANY(%(section_rules)s) AND f.household_id IN (SELECT id FROM q_hh)"]
            domain_params = {"section_rules": runner.rule_codes(checks)}
            read_from = _forms_detect_on_replica(cursor, alias=replica, part=part, townships=townships, result=result)
            if read_from == DEFAULT_DB_ALIAS:
                runner.create_form_views(
                    cursor,
                    townships,
                    counted=part.section in COUNTED_SECTIONS,
                    signed=part.section in SIGNED_SECTIONS,
                    reads=checks,
                )
                result.timings["setup"] = time.perf_counter() - clock
                runner.run_checks(cursor, context, checks, result)
            else:
                # (q_hh only, for the enrichment, the explained warnings and the merge's domain.)
                runner.create_form_views(cursor, townships, reads=[])
                domains[0] += _WRITTEN_SINCE_REPLICA_READ
                domain_params["replica_seen_until"] = _watermark(started_at)
            section_stats["read_from"] = read_from
            runner.enrich_household_detections(cursor)
            runner.drop_explained_warnings(cursor)
        else:
            checks = DISTRICT_SECTIONS[part.section]
            result.timings["setup"] = time.perf_counter() - clock
            domain = "f.rule = ANY(%(district_rules)s) AND f.township_id = ANY(%(townships)s)"
            domains = [domain]
            domain_params = {"district_rules": runner.rule_codes(checks), "townships": townships}
            if part.section == PartSection.ROSTER:
                context, section_stats = _roster_match(
                    cursor, run=run, townships=townships, context=context, result=result, replica=replica
                )
                if context.since is not None:
                    # An incremental part settles the roster findings of the matches it looked at again only.
                    domains = [
                        domain + " AND (f.rule <> 'ROSTER_NOT_REGISTERED' OR f.key IN (SELECT key FROM q_roster_keys))"
                    ]
            else:
                clock = time.perf_counter()
                context, section_stats = _duplicates_scope(
                    cursor, run=run, townships=townships, context=context, replica=replica, result=result
                )
                result.timings["setup"] += time.perf_counter() - clock
                # An incremental section settles the ID duplicates of the numbers it looked at again only. (Whether
                # a finding's form is signed is looked up per finding: q_signed holds the forms of the scope's
                # possible findings only.)
                domains = [
                    domain + " AND (f.household_id IS NULL OR EXISTS (SELECT FROM enumeration_household h"
                    f" WHERE h.id = f.household_id AND h.state IN {SIGNED_SQL}))"
                    " AND (f.rule <> 'ID_DUPLICATE_DISTRICT' OR %(whole_section)s"
                    " OR f.evidence ->> 'id_number' IN (SELECT n FROM q_dup_scope))"
                    " AND (f.rule <> 'NEAR_DUPLICATE_PERSON' OR %(whole_section)s"
                    " OR (f.household_id, f.row_no) IN (SELECT household_id, row_no FROM q_near_scope))"
                ]
                domain_params["whole_section"] = context.since is None
            read_on_replica = section_stats.get("read_from", DEFAULT_DB_ALIAS) != DEFAULT_DB_ALIAS
            # (A duplicates section read on the replica has its detections; the roster's checks read the matches
            # the part has just rebuilt, on the primary.)
            if not (read_on_replica and part.section == PartSection.DUPLICATES):
                runner.run_checks(cursor, context, checks, result)
            if read_on_replica:
                domains = [domain + _WRITTEN_SINCE_REPLICA_READ for domain in domains]
                domain_params["replica_seen_until"] = _watermark(started_at)
        runner.merge(
            cursor,
            run_id=run.pk,
            now=timezone.now(),
            domains=domains,
            domain_params=domain_params,
            result=result,
        )
        households = {part.township_id: result.households}
        if len(group) > 1:
            # (A group: each township's households, for its part's row.)
            cursor.execute("SELECT township_id, count(*) FROM q_hh GROUP BY township_id")
            households = dict(cursor.fetchall())
        runner.drop_part_tables(cursor)
    stats = {
        "checks": {name: round(seconds, 4) for name, seconds in result.timings.items()},
        "counts": result.counts,
        "detections": result.detections,
        "catalogue": runner.catalogue_fingerprint(),
    }
    stats.update(section_stats)
    if len(group) > 1:
        # The group's work is shared: its timings and counts are the first part's, the others name it.
        stats["group"] = townships
    for index, (member, own) in enumerate(group):
        shared = stats if index == 0 else {"catalogue": stats["catalogue"], "group": townships, "with": part.pk}
        _mark_done(
            part=member,
            since=own,
            started_at=started_at,
            households=int(households.get(member.township_id, 0)),
            stats=shared,
        )


def _roster_state(cursor: CursorWrapper, *, run: CheckRun, townships: list[str]) -> dict[str, Any]:
    """What the roster part's matches rest on: the roster entries of its townships — the first and the last id of
    each, which an import changes (it replaces the district's roster: every entry gets a new id; a correction adds
    entries after the last) — and whether it covered the whole district. (Two look-ups per township through the
    (township, id) index: counting a 6-million-person district's roster took 0.5 s of every run.)"""
    # (A row comparison only the (township, id) index can serve: with "township_id = code" the planner walked
    # the primary key instead, expecting the township's entries anywhere — 10 s at 6 M persons.)
    cursor.execute(
        """
        SELECT coalesce(sum(f.id) FILTER (WHERE f.township_id = t.code), 0),
               coalesce(sum(l.id) FILTER (WHERE l.township_id = t.code), 0)
        FROM unnest(%s::text[]) AS t(code)
        LEFT JOIN LATERAL (SELECT township_id, id FROM quality_hukourosterentry
                           WHERE (township_id, id) >= (t.code, 0) ORDER BY township_id, id LIMIT 1) f ON true
        LEFT JOIN LATERAL (SELECT township_id, id FROM quality_hukourosterentry
                           WHERE (township_id, id) <= (t.code, 9223372036854775807)
                           ORDER BY township_id DESC, id DESC LIMIT 1) l ON true
        """,
        [townships],
    )
    first, last = cursor.fetchone()
    return {"entries": [int(first), int(last)], "district": _covers_district(run=run, townships=townships)}


def _section_since(*, run: CheckRun, section: str, state: dict[str, Any]) -> datetime | None:
    """The watermark of an incremental district section (the roster comparison, the duplicates): when the last
    part of that section over the whole district took its snapshot (less the margin), if it worked on the same
    ``state`` (for the roster: the same roster) with this catalogue; else None (the section is done in full)."""
    if run.mode == RunMode.FULL or not state["district"]:
        return None
    last = (
        CheckRunPart.objects.filter(
            section=section, status=PartStatus.DONE, started_at__isnull=False, run__district_id=run.district_id
        )
        .exclude(run_id=run.pk)
        .order_by("-started_at")
        .values_list("started_at", "stats")
        .first()
    )
    if last is None:
        return None
    started_at: datetime | None = last[0]
    stats: dict[str, Any] = last[1] or {}
    if started_at is None or stats.get("catalogue") != runner.catalogue_fingerprint() or stats.get("state") != state:
        return None
    return _watermark(started_at)


def _covers_district(*, run: CheckRun, townships: list[str]) -> bool:
    return set(townships) == set(Township.objects.filter(district_id=run.district_id).values_list("code", flat=True))


def _duplicates_scope(
    cursor: CursorWrapper,
    *,
    run: CheckRun,
    townships: list[str],
    context: PartContext,
    replica: str,
    result: runner.PartResult,
) -> tuple[PartContext, dict[str, Any]]:
    """What the duplicate checks look at: everything in a full section; else the numbers (``q_dup_scope``) and
    the persons (``q_near_scope``) that the households changed since the last duplicates part over the district,
    and its findings still open, make worth a second look. A full section is detected on the replica when it
    serves (``_read_on_replica``): its detections are then in q_det (``read_from`` of the stats says where)."""
    state = {"district": _covers_district(run=run, townships=townships)}
    since = _section_since(run=run, section=PartSection.DUPLICATES, state=state)
    params = {**context.params(), "since": since}
    context = replace(context, since=since, full=since is None)
    stats: dict[str, Any] = {"state": state, "since": since.isoformat() if since else None}
    if since is not None:
        runner.plan_for_few_rows(cursor)
    runner.create_changed(cursor, townships, since)
    cursor.execute(duplicate_checks.DUPLICATE_SCOPE, params)
    cursor.execute(duplicate_checks.NEAR_SCOPE, params)
    if since is None:
        if _read_on_replica(
            cursor,
            alias=replica,
            statements=lambda read: runner.district_detection_statements(
                read, townships, DISTRICT_SECTIONS[PartSection.DUPLICATES], context
            ),
            into="q_det",
            columns=runner.DET_COLUMNS,
            result=result,
        ):
            return context, {**stats, "read_from": replica}
        runner.create_signed(cursor, townships)
        stats["read_from"] = DEFAULT_DB_ALIAS
    else:
        cursor.execute(
            duplicate_checks.SCOPE_HOUSEHOLDS, {**params, "birth_dates": list(duplicate_checks.birth_dates())}
        )
        runner.create_signed(cursor, townships, only="q_dup_households")
        stats["read_from"] = DEFAULT_DB_ALIAS
    return context, stats


def _roster_match(
    cursor: CursorWrapper,
    *,
    run: CheckRun,
    townships: list[str],
    context: PartContext,
    result: runner.PartResult,
    replica: str,
) -> tuple[PartContext, dict[str, Any]]:
    """Bring ``quality_rostermatch``, ``quality_rosterhouseholdcount`` and the areas' counts
    (``quality_rosterareacount``) up to date for the part's townships: rebuilt in a full run (or after a new
    roster import); otherwise re-matched for the changed households, and the counts moved by what changed. A
    rebuild's matches — every roster line against the district's persons — are read on the replica when it serves
    and holds the same roster (``_read_on_replica``)."""
    clock = time.perf_counter()
    state = _roster_state(cursor, run=run, townships=townships)
    since = _section_since(run=run, section=PartSection.ROSTER, state=state)
    params = {**context.params(), "since": since, **privacy.pseudonym_params()}
    cursor.execute(roster_checks.CREATE_DELTA)
    if since is None:
        cursor.execute(roster_checks.NO_HIT)
        cursor.execute(roster_checks.OTHER_DISTRICTS_KEPT, params)
        others = bool(cursor.fetchone()[0])
        cursor.execute(
            roster_checks.CLEAR_ALL if state["district"] and not others else roster_checks.CLEAR_TOWNSHIPS, params
        )
        read_from = DEFAULT_DB_ALIAS
        if _read_on_replica(
            cursor,
            alias=replica,
            statements=lambda read: (
                [("roster_match_read", read.mogrify(roster_checks.MATCH_FULL_SELECT, params).decode())]
                # (A roster imported since the replica's snapshot: its matches are the primary's to make.)
                if _roster_state(read, run=run, townships=townships) == state
                else None
            ),
            into="quality_rostermatch",
            columns=roster_checks.MATCH_COLUMNS,
            result=result,
        ):
            cursor.execute(roster_checks.MATCH_ANALYZE)
            read_from = replica
        else:
            cursor.execute(roster_checks.MATCH_FULL, params)
        result.timings["roster_match"] = time.perf_counter() - clock
        clock = time.perf_counter()
        cursor.execute(roster_checks.HOUSEHOLD_COUNTS_FULL, params)
        result.timings["roster_household_counts"] = time.perf_counter() - clock
        clock = time.perf_counter()
        cursor.execute(roster_checks.REFRESH_COUNTS, params)
    else:
        runner.plan_for_few_rows(cursor)
        runner.create_changed(cursor, townships, since)
        cursor.execute(roster_checks.MATCH_CHANGED, params)
        result.timings["roster_match"] = time.perf_counter() - clock
        clock = time.perf_counter()
        cursor.execute(roster_checks.HOUSEHOLD_COUNTS_CHANGED, params)
        result.timings["roster_household_counts"] = time.perf_counter() - clock
        clock = time.perf_counter()
        cursor.execute(roster_checks.APPLY_DELTA, params)
        cursor.execute(roster_checks.LOOKED_AT_AGAIN, params)
    result.timings["roster_counts"] = time.perf_counter() - clock
    stats: dict[str, Any] = {"state": state, "since": since.isoformat() if since else None}
    if since is None:
        stats["read_from"] = read_from
    return replace(context, since=since, full=since is None), stats


def _mark_done(
    *, part: CheckRunPart, since: datetime | None, started_at: datetime, households: int, stats: dict[str, Any]
) -> None:
    """In the part's transaction: the done mark commits with its findings, or neither does. The Celery worker
    that ran the part is named in its statistics (workers on several hosts share a run)."""
    from celery import current_task

    hostname = getattr(getattr(current_task, "request", None), "hostname", None) if current_task else None
    stats = {**stats, "worker": hostname or ""}
    CheckRunPart.objects.filter(pk=part.pk).exclude(status=PartStatus.DONE).update(
        status=PartStatus.DONE,
        households=households,
        since=since,
        stats=stats,
        started_at=started_at,
        finished_at=timezone.now(),
        error="",
    )


def _count_done(run: CheckRun) -> None:
    """After the commit (the run's row is shared by every part): progress; the last part closes the run."""
    CheckRun.objects.filter(pk=run.pk, parts_done__lt=F("parts_total")).update(parts_done=F("parts_done") + 1)
    if run.job_id:
        Job.objects.filter(pk=run.job_id, total__gt=F("progress")).update(progress=F("progress") + 1)
    check_run_finalize(run_id=run.pk)


# Findings opened, reopened or resolved by one run from which the table's statistics are refreshed at its end.
ANALYZE_AFTER_WRITES = 10_000


def check_run_finalize(*, run_id: int) -> CheckRun:
    """Close the run once every part is done: totals and time per check summed over the parts."""
    open_mode = CheckRun.objects.filter(pk=run_id, finished_at__isnull=True).values_list("mode", flat=True).first()
    # A run rewrote the tallies of a township where it is full, or where its part had no watermark (the first run
    # after the rules changed, for one).
    rewrote = open_mode == RunMode.FULL or (
        open_mode is not None
        and CheckRunPart.objects.filter(run_id=run_id, township__isnull=False, since__isnull=True).exists()
    )
    if (
        rewrote
        and not connection.in_atomic_block
        and not CheckRunPart.objects.filter(run_id=run_id).exclude(status=PartStatus.DONE).exists()
    ):
        # Before the run is closed, so that it is part of the run's time (and the next run meets clean tables).
        derived_tables_vacuum()
    with transaction.atomic():
        run = CheckRun.objects.select_for_update().get(pk=run_id)
        if run.is_finished or run.parts.exclude(status=PartStatus.DONE).exists():
            return run
        checks: dict[str, float] = {}
        counts: dict[str, int] = {}
        households = 0
        for part in run.parts.all():
            households += part.households
            for name, seconds in part.stats.get("checks", {}).items():
                checks[name] = round(checks.get(name, 0.0) + seconds, 4)
            for name, count in part.stats.get("counts", {}).items():
                counts[name] = counts.get(name, 0) + count
        run.stats = {"checks": checks, "counts": counts, "households": households}
        run.status = RunStatus.DONE
        run.parts_done = run.parts_total
        run.finished_at = timezone.now()
        run.save(update_fields=["stats", "status", "parts_done", "finished_at"])
    if sum(counts.values()) >= ANALYZE_AFTER_WRITES:
        # The dashboards count open findings per village and per person: planned on statistics from before a
        # run that opened or closed 100,000 findings (a new roster's first comparison), one page took 5 s instead
        # of 40 ms. Autovacuum would analyze the table in its own time, if it is on at all.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE quality_finding")
    return run


# What a full run rewrites row by row for the incremental parts to read (the roster's matches are rewritten in one
# statement into a table of their own, their dead rows with it).
DERIVED_TABLES = (
    # (The roster's matches are written anew, not rewritten: no dead rows, but none of them yet known to every
    # transaction — the next incremental run's look-ups would stop at each to check and mark it, 5.3 s instead of
    # 2 s at 6 M persons.)
    "quality_rostermatch",
    "quality_householdtally",
    "quality_arearegistrartally",
    "quality_rosterhouseholdcount",
    "quality_rosterareacount",
)


def derived_tables_vacuum() -> None:
    """VACUUM ANALYZE what a full run rewrote: the next incremental parts look rows up in these tables by their
    indexes, and a full run leaves a dead copy of every row (1.8 million tallies at 6,000,000 persons). With
    autovacuum off or behind (a server tuned by hand, as this machine's), five full runs left the tallies at
    2.7 GB with 5.7 million dead rows and statistics from before them, and the planner chose a township's index
    holding 205,000 entries over a look-up of 500. Outside any transaction (VACUUM cannot run in one): a run
    finalized inside a caller's transaction leaves it to autovacuum."""
    with connection.cursor() as cursor:
        for table in DERIVED_TABLES:
            cursor.execute(f'VACUUM (ANALYZE) "{table}"')


def check_run_execute(
    *, run_id: int, poll: float = 0.5, progress: Callable[[CheckRun], None] | None = None, timeout: float = 3600
) -> CheckRun:
    """Work a run to its end from this process: take every part nobody holds, then wait for those others hold.

    The coordinator of a run (its job, or ``run_checks``) calls this. It never waits while there is a part it
    could run itself, so a run completes even with a single worker; a part whose worker died is free again as
    soon as PostgreSQL notices the dead connection, and is taken here.
    """
    deadline = time.monotonic() + timeout
    while True:
        pending = list(
            CheckRunPart.objects.filter(run_id=run_id, status=PartStatus.QUEUED)
            .order_by(F("township_id").asc(nulls_first=True))  # the district parts are the longest: first
            .values_list("pk", flat=True)
        )
        for part_id in pending:
            check_run_part_execute(part_id=part_id)
        run = check_run_finalize(run_id=run_id)
        if progress is not None:
            progress(run)
        if run.is_finished:
            return run
        if time.monotonic() > deadline:
            raise TimeoutError(f"check run {run_id} did not finish in {timeout:.0f} s")
        time.sleep(poll)


def check_run_resume(*, run_id: int) -> None:
    """Put a failed run's failed parts back in the queue (its job is being retried)."""
    CheckRunPart.objects.filter(run_id=run_id, status=PartStatus.FAILED).update(status=PartStatus.QUEUED, error="")
    CheckRun.objects.filter(pk=run_id, status=RunStatus.FAILED).update(
        status=RunStatus.RUNNING, error="", finished_at=None
    )


def check_run_fail(*, run_id: int, error: str) -> None:
    CheckRun.objects.filter(pk=run_id).exclude(status=RunStatus.DONE).update(
        status=RunStatus.FAILED, error=error[:2000], finished_at=timezone.now()
    )


# --- findings --------------------------------------------------------------------------------------------


def _event(finding: Finding, kind: str, actor: StaffMember | None, note: str = "") -> None:
    FindingEvent.objects.create(finding=finding, kind=kind, actor=actor, note=note[:500], at=timezone.now())


def _lock_finding(finding: Finding) -> Finding:
    return Finding.objects.select_for_update().get(pk=finding.pk)


def may_verify(*, actor: StaffMember, finding: Finding) -> bool:
    return _is_supervisor_of(actor, finding)


def _is_supervisor_of(actor: StaffMember, finding: Finding) -> bool:
    if actor.is_superuser:
        return True
    if finding.supervisor_id is not None:
        return finding.supervisor_id == actor.pk
    # Nobody supervises the responsible person (or nobody is responsible): the township office verifies.
    return actor.role == Role.TOWNSHIP_OFFICE and actor.township_id == finding.township_id


def finding_view_record(*, actor: StaffMember, finding: Finding, ip_address: str | None) -> AuditEvent | None:
    """The audit event of a response that showed one finding unmasked (its detail: message and evidence), when
    its evidence holds a name or an ID number."""
    fields = personal_values_shown(finding.rule, finding.evidence, message_only=False)
    if not fields:
        return None
    return record_personal_data_view(actor=actor, obj=finding, fields=fields, ip_address=ip_address)


def findings_view_record(
    *, actor: StaffMember, findings: Iterable[Finding], message_only: bool, ip_address: str | None
) -> AuditEvent | None:
    """The one audit event of a response that showed a list of findings unmasked, naming those whose names or ID
    numbers it showed — in their messages (``message_only``: a page of findings) or in their evidence too (the
    API). Nothing when it showed none."""
    shown = [
        (finding.pk, personal_values_shown(finding.rule, finding.evidence, message_only=message_only))
        for finding in findings
    ]
    ids = [pk for pk, fields in shown if fields]
    fields = {field for _, values in shown for field in values}
    return record_personal_data_list_view(actor=actor, model=Finding, ids=ids, fields=fields, ip_address=ip_address)


@transaction.atomic
def finding_explain(*, finding: Finding, actor: StaffMember, explanation: str, password: str) -> Finding:
    """The registrar explains an open finding and signs the explanation by entering their password again."""
    finding = _lock_finding(finding)
    if finding.responsible_id != actor.pk:
        raise ApplicationError(
            _("Only the person responsible for the record explains this finding."), code="not_responsible"
        )
    if finding.state != FindingState.OPEN:
        raise ConflictError(_("This finding is not open."), code="not_open")
    explanation = explanation.strip()
    if len(explanation) < MIN_EXPLANATION_LENGTH:
        raise ValidationError({"explanation": _("Write what you checked and why the record is right.")})
    # Through the one confirmation of census.passwords: its limit of mistakes is shared with signing, and a
    # plain check_password here would let a stolen session guess without one.
    password_confirm(
        user=actor,
        password=password,
        purpose="finding_explain",
        refusal=_("The password is wrong; the explanation was not signed."),
    )
    finding.state = FindingState.EXPLAINED
    finding.explanation = explanation[:2000]
    finding.explained_by = actor
    finding.explained_at = timezone.now()
    finding.full_clean()
    finding.save(update_fields=["state", "explanation", "explained_by", "explained_at", "updated_at"])
    _event(finding, FindingEventKind.EXPLAINED, actor, explanation[:500])
    return finding


@transaction.atomic
def finding_verify(*, finding: Finding, actor: StaffMember, note: str = "") -> Finding:
    """The supervisor confirms a correction or accepts an explanation."""
    finding = _lock_finding(finding)
    if not _is_supervisor_of(actor, finding):
        raise ApplicationError(
            _("Only the supervisor of the person responsible verifies this finding."), code="not_supervisor"
        )
    if finding.state not in AWAITING_VERIFICATION:
        raise ConflictError(_("Only a corrected or explained finding can be verified."), code="not_verifiable")
    finding.state = FindingState.VERIFIED
    finding.verified_by = actor
    finding.verified_at = timezone.now()
    finding.full_clean()
    finding.save(update_fields=["state", "verified_by", "verified_at", "updated_at"])
    _event(finding, FindingEventKind.VERIFIED, actor, note)
    return finding


@transaction.atomic
def finding_reject(*, finding: Finding, actor: StaffMember, reason: str) -> Finding:
    """The supervisor does not accept an explanation: the finding is open again for the registrar."""
    finding = _lock_finding(finding)
    if not _is_supervisor_of(actor, finding):
        raise ApplicationError(
            _("Only the supervisor of the person responsible verifies this finding."), code="not_supervisor"
        )
    if finding.state != FindingState.EXPLAINED:
        raise ConflictError(_("Only an explained finding can be sent back."), code="not_explained")
    if len(reason.strip()) < MIN_EXPLANATION_LENGTH:
        raise ValidationError({"reason": _("Say why the explanation is not accepted.")})
    finding.state = FindingState.OPEN
    finding.full_clean()
    finding.save(update_fields=["state", "updated_at"])
    _event(finding, FindingEventKind.REJECTED, actor, reason.strip())
    return finding


def findings_escalate_overdue(*, now: datetime | None = None) -> int:
    """Open findings older than ``QUALITY["OVERDUE_DAYS"]`` go to the township office (once each)."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=int(_setting("OVERDUE_DAYS", 7)))
    with transaction.atomic():
        ids = list(
            Finding.objects.filter(state=FindingState.OPEN, escalated_at__isnull=True, first_seen_at__lt=cutoff)
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)
        )
        Finding.objects.filter(pk__in=ids).update(escalated_at=now, updated_at=now)
        FindingEvent.objects.bulk_create(
            [FindingEvent(finding_id=pk, kind=FindingEventKind.ESCALATED, at=now) for pk in ids], batch_size=5000
        )
    return len(ids)


# --- the hukou roster --------------------------------------------------------------------------------------


def roster_import_start(*, actor: StaffMember, file_name: str, chunks: Iterable[bytes]) -> Job:
    """Store an uploaded roster (outside the web root) and import it in a job; the district office imports."""
    if not (actor.is_superuser or actor.role == Role.DISTRICT_OFFICE):
        raise ApplicationError(_("Only the district office imports the hukou roster."), code="not_district")
    suffix = ".xlsx" if file_name.lower().endswith(".xlsx") else ".csv"
    directory = Path(settings.PRIVATE_MEDIA_ROOT) / "roster"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{uuid.uuid4().hex}{suffix}"
    with path.open("wb") as handle:
        for chunk in chunks:
            handle.write(chunk)
    return job_start(
        kind=ROSTER_JOB_KIND,
        title=_("Hukou roster import: %(name)s") % {"name": file_name[:100]},
        user=actor,
        params={"path": str(path), "file_name": file_name[:200], "district": actor.district_id or ""},
    )


def roster_import(*, actor: StaffMember | None, path: Path, district_code: str, file_name: str = "") -> Any:
    """Replace the district's roster from a file (all or nothing), log it, and start a run that classifies it."""
    from supervision.quality.resources import roster_import_bulk

    result = roster_import_bulk(path=path, district_code=district_code)
    audit_record(
        actor=actor,
        action=AuditAction.IMPORT,
        object_type="hukou_roster",
        detail={"file": file_name, "rows": result.rows, "replaced": result.replaced},
    )
    return result


def supervisor_of(staff_id: int | None) -> int | None:
    if staff_id is None:
        return None
    return SupervisorAssignment.objects.filter(enumerator_id=staff_id).values_list("supervisor_id", flat=True).first()


def finding_scope_filter(user: StaffMember) -> Q:
    """Findings a field worker acts on: routed to them, or to them as supervisor."""
    return Q(responsible=user) | Q(supervisor=user)


__all__ = [
    "CHECKS",
    "RUN_JOB_KIND",
    "check_run_create",
    "check_run_execute",
    "check_run_fail",
    "check_run_finalize",
    "check_run_part_execute",
    "check_run_start",
    "finding_explain",
    "finding_reject",
    "finding_verify",
    "finding_view_record",
    "findings_escalate_overdue",
    "findings_view_record",
    "roster_import",
    "roster_import_start",
]


# --- the city-level check: one person registered in two districts ------------------------------------------

CITY_DUPLICATE_RULE = CITY_RULES[0]

# Every person with a number on a signed form of the city's districts, with what a finding needs; then those
# whose number is on signed forms of two districts or more. One pass over the city's persons.
_CITY_DUPLICATES_SQL = """
WITH holders AS MATERIALIZED (
    SELECT p.d3_id_number AS n, p.household_id, p.row_no, h.small_area_id, h.village_id, h.township_id,
           h.current_signature_id, coalesce(s.signer_id, h.registrar_id) AS signer_id,
           left(h.township_id, 6) AS district,
           sa.code || lpad(h.household_no::text, 3, '0') || '#' || p.row_no AS record_key
    FROM enumeration_person p
    JOIN enumeration_household h ON h.id = p.household_id
    JOIN census_smallarea sa ON sa.id = h.small_area_id
    LEFT JOIN enumeration_signature s ON s.id = h.current_signature_id
    WHERE p.d3_id_number <> '' AND h.state = ANY(%(signed)s) AND left(p.township_id, 4) = %(city)s
), numbers AS (
    SELECT n FROM holders GROUP BY n HAVING count(DISTINCT district) > 1
)
SELECT x.n, x.household_id, x.row_no, x.small_area_id, x.village_id, x.township_id, x.current_signature_id,
       x.signer_id, x.district, x.record_key,
       (SELECT array_agg(o.district || ' ' || o.record_key ORDER BY o.district, o.record_key)
        FROM holders o WHERE o.n = x.n AND o.district <> x.district) AS others
FROM holders x JOIN numbers ON numbers.n = x.n
ORDER BY x.n, x.record_key
"""


@dataclass(frozen=True)
class CityDuplicatesOutcome:
    numbers: int
    opened: int
    reopened: int
    closed: int


@transaction.atomic
def city_duplicates_check(*, city: City, now: datetime | None = None) -> CityDuplicatesOutcome:
    """The city-level duplicate check (市级跨区县重复登记核查): an ID number on signed forms of two or more of the
    city's districts is a person possibly counted twice. Each form holding it gets a finding routed, like every
    finding, to whoever signed it (谁普查、谁负责) and their supervisor — so both districts' registrars act on
    their own record, each in their own district's lists, and the evidence names the other district's record.

    Safe to run twice: a finding is found again by its key, a gone one opens again, and a finding whose number
    is no longer on two districts' forms closes itself."""
    from census.models import district_name
    from enumeration.models import SIGNED_STATES

    now = now or timezone.now()
    rule = catalogue_rule(CITY_DUPLICATE_RULE)
    with connection.cursor() as cursor:
        cursor.execute(_CITY_DUPLICATES_SQL, {"city": city.code, "signed": [str(state) for state in SIGNED_STATES]})
        columns = [column.name for column in cursor.description]
        rows = [dict(zip(columns, values, strict=True)) for values in cursor.fetchall()]
    existing = {
        finding.key: finding
        for finding in Finding.objects.select_for_update().filter(
            rule=CITY_DUPLICATE_RULE, township__code__startswith=city.code
        )
    }
    opened = reopened = 0
    seen: set[str] = set()
    for row in rows:
        key = f"h{row['household_id']}:{row['row_no']}:D3"
        seen.add(key)
        evidence = {
            "id_number": row["n"],
            "other": ", ".join(f"{district_name(other[:6])} {other[7:]}" for other in row["others"] or []),
        }
        fields = {
            "record_key": row["record_key"],
            "household_id": row["household_id"],
            "row_no": row["row_no"],
            "item": "D3",
            "small_area_id": row["small_area_id"],
            "village_id": row["village_id"],
            "township_id": row["township_id"],
            "responsible_id": row["signer_id"],
            "supervisor_id": supervisor_of(row["signer_id"]),
            "signature_id": row["current_signature_id"],
            "evidence": evidence,
        }
        finding = existing.get(key)
        if finding is None:
            finding = Finding.objects.create(
                rule=CITY_DUPLICATE_RULE,
                rule_group=rule.group,
                severity=str(rule.severity),
                acts=str(rule.acts),
                key=key,
                state=FindingState.OPEN,
                first_seen_at=now,
                last_seen_at=now,
                **fields,
            )
            _event(finding, FindingEventKind.DETECTED, None)
            opened += 1
        elif finding.is_gone:
            for name, value in fields.items():
                setattr(finding, name, value)
            finding.state, finding.last_seen_at, finding.resolved_at, finding.note = FindingState.OPEN, now, None, ""
            finding.save()
            _event(finding, FindingEventKind.REOPENED, None)
            reopened += 1
        elif finding.evidence != evidence:
            finding.evidence, finding.last_seen_at = evidence, now
            finding.save(update_fields=["evidence", "last_seen_at", "updated_at"])
    closed = 0
    for key, finding in existing.items():
        if key not in seen and finding.state in UNRESOLVED_STATES:
            finding.state, finding.resolved_at = FindingState.CLOSED, now
            finding.note = "该号码已不再登记在本市两个区县"
            finding.save(update_fields=["state", "resolved_at", "note", "updated_at"])
            _event(finding, FindingEventKind.CLOSED, None)
            closed += 1
    return CityDuplicatesOutcome(
        numbers=len({row["n"] for row in rows}), opened=opened, reopened=reopened, closed=closed
    )
