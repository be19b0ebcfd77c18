"""The audit log's hash chain: sealing committed entries after the fact, and verifying them.

The audit log is append-only by a trigger, but the tables' owner can switch the trigger off, edit, delete or
truncate. That cannot be prevented inside the database; this module makes it visible.

**Sealing after the fact.** Entries are written inside other transactions — a household submission writes its
entry in the same single statement as its rows, at ~100 submissions/s. Chaining each entry to the previous one
as it is inserted would make every such transaction wait for the chain's head. Instead ``audit_chain_seal``
(Celery beat every minute, and ``manage.py seal_audit_log``) links the committed entries that are not linked
yet, in id order, into ``AuditLink`` rows: link n holds the entry's id and content hash, the hash of link
n-1's message, and an HMAC of its own message under the ledger key (``settings.SIGNATURE_LEDGER_KEY``), which
lives in the application's environment and never in the database. Nothing is added to an insert.

**The anchor.** Someone with the database alone could still remove the newest links with their entries, or
truncate both tables. After each commit the sealer writes the chain's head (position, link hash, HMAC) to a
file outside the database (``settings.AUDIT_CHAIN_ANCHOR_DIR``, a volume in docker compose) and to the log;
``verify_audit_log`` requires the chain to reach it, and the sealer refuses to extend a chain that does not —
sealing on top of a shortened chain would write a fresh anchor and hide the loss for good. After an
investigated loss (or a restore from an older backup) an operator re-anchors on the record
(``seal_audit_log --reanchor --reason …``), which writes an audit entry naming the anchor it replaced.

**Entries that commit out of id order.** Ids are taken when a row is inserted, so a transaction may commit an
entry with a smaller id after larger ones were sealed; the chain's order is the sealing order, not the id
order. Each run rereads entries above a watermark and links those not linked yet (the unique ``event_id`` makes
a second link impossible). The watermark may pass an id only when no transaction can still commit an entry at or
below it: each run records the largest committed id it saw and the first transaction id not yet started
(``pg_current_snapshot()``); a later run trusts that record once every older transaction has ended (the
snapshot's ``xmin`` has passed it) *and* the record is ``AUDIT_CHAIN_TRUST_AFTER_SECONDS`` old — the age covers
a transaction that had taken its id but not yet its transaction id when the run looked (a few microseconds
inside one INSERT). The watermark then becomes the trusted id in the *next* run, whose reread has by then linked
every such entry. The nightly run rereads the whole log as a safety net; ``verify_audit_log`` reports any entry
older than ``AUDIT_CHAIN_GRACE_MINUTES`` that is still not sealed. Runs serialise on an advisory lock.

**What verification reports**: an entry altered after it was sealed (its hash differs), an entry deleted or a
truncated log (a link whose entry is missing), links removed from the middle (a gap), a rewritten or forged
link (its HMAC), a chain shorter than or different from its anchor, a missing or forged anchor, and entries
left unsealed. **What it cannot**: an entry altered or deleted in the minute before it was sealed, an entry the
owner inserted (it is sealed like any other), or anyone holding both the database and the key.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import io
import json
import logging
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from census.db import advisory_lock
from census.models import AuditAction, AuditChainRun, AuditChainRunKind, AuditLink
from census.services import audit_record

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

logger = logging.getLogger(__name__)

# pg_advisory_lock key of the sealer ("audt"); held for a whole run, across its commits and anchor writes.
SEAL_LOCK = 0x61756474
# Entries linked per transaction: a backlog is sealed in parts, each committed and anchored, in bounded memory.
SEAL_CHUNK = 50_000
# Links read per query by the verification.
VERIFY_BATCH = 20_000
# Problems kept per kind: a truncated log of a million entries is a million missing entries, counted not listed.
PROBLEMS_KEPT_PER_KIND = 100
# Sealing runs are the sealer's working memory, not evidence; older ones are deleted.
SEAL_RUNS_KEPT = datetime.timedelta(days=2)

# --- the arithmetic -----------------------------------------------------------------------------------------

# Every column of census_auditevent, in the order they are hashed (a test holds this to the model's columns).
ENTRY_COLUMNS: tuple[str, ...] = (
    "id",
    "at",
    "actor_id",
    "actor_username",
    "actor_role",
    "district_id",
    "action",
    "object_type",
    "object_id",
    "detail",
    "ip_address",
)
GENESIS_HASH = hashlib.sha256(b"census-2020-audit-chain-genesis").hexdigest()


def entry_hash_sql(alias: str) -> str:
    """SQL for an entry's content hash: sha256 of the jsonb array ``["audit-entry-v1", id, microseconds since
    the epoch, actor id, username, role, district, action, object type, object id, detail, IP address]`` as
    PostgreSQL writes it as text. Computed by the database, so that sealing and verifying read 64 characters
    per entry, not the entry; jsonb's text form is canonical (keys ordered, one spelling per value), and the
    time is an integer, independent of the session's time zone."""
    values = [
        f'(extract(epoch FROM {alias}."at") * 1000000)::bigint' if column == "at" else f'{alias}."{column}"'
        for column in ENTRY_COLUMNS
    ]
    return f"encode(sha256(convert_to(jsonb_build_array('audit-entry-v1', {', '.join(values)})::text, 'UTF8')), 'hex')"


def format_time(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).isoformat(timespec="microseconds")


def link_message(*, seq: int, event_id: int, event_hash: str, prev_hash: str, sealed_at: str) -> bytes:
    """``sealed_at`` as ``format_time`` writes it (formatted once per run: every link of a run shares it)."""
    return "|".join(["audit-link-v1", str(seq), str(event_id), event_hash, prev_hash, sealed_at]).encode()


def link_hash(message: bytes) -> str:
    """What the next link stores as its ``prev_hash``."""
    return hashlib.sha256(message).hexdigest()


class _Mac:
    """HMAC-SHA256 under the ledger key; the messages' prefixes keep them apart from the signature ledger's."""

    def __init__(self) -> None:
        self._key = str(settings.SIGNATURE_LEDGER_KEY).encode()

    def __call__(self, message: bytes) -> str:
        return hmac.digest(self._key, message, "sha256").hex()

    def matches(self, message: bytes, mac: str) -> bool:
        return hmac.compare_digest(self(message), mac)


def _message_of(link: AuditLink) -> bytes:
    return link_message(
        seq=link.seq,
        event_id=link.event_id,
        event_hash=link.event_hash,
        prev_hash=link.prev_hash,
        sealed_at=format_time(link.sealed_at),
    )


# --- the anchor outside the database ----------------------------------------------------------------------


class AnchorUnreadable(Exception):
    pass


@dataclass(frozen=True)
class Anchor:
    seq: int
    event_id: int
    link_hash: str
    written_at: str
    hmac: str

    def message(self) -> bytes:
        return "|".join(
            ["audit-anchor-v1", str(self.seq), str(self.event_id), self.link_hash, self.written_at]
        ).encode()

    def authentic(self) -> bool:
        return _Mac().matches(self.message(), self.hmac)

    def as_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "event_id": self.event_id,
            "link_hash": self.link_hash,
            "written_at": self.written_at,
            "hmac": self.hmac,
        }


def anchor_path() -> Path:
    """One file per database: a development machine's databases share one private-files folder."""
    return Path(settings.AUDIT_CHAIN_ANCHOR_DIR) / f"{connection.settings_dict['NAME']}.json"


def anchor_read() -> Anchor | None:
    path = anchor_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Anchor(
            seq=int(data["seq"]),
            event_id=int(data["event_id"]),
            link_hash=str(data["link_hash"]),
            written_at=str(data["written_at"]),
            hmac=str(data["hmac"]),
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise AnchorUnreadable(str(exc)) from exc


def _anchor_write(head: AuditLink) -> Anchor:
    unsigned = Anchor(
        seq=head.seq,
        event_id=head.event_id,
        link_hash=link_hash(_message_of(head)),
        written_at=format_time(timezone.now()),
        hmac="",
    )
    anchor = Anchor(**{**unsigned.as_json(), "hmac": _Mac()(unsigned.message())})
    path = anchor_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written whole or not at all: a crash leaves the previous anchor, never half a file.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        json.dump(anchor.as_json(), handle)
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(path)
    # The log is a second copy outside the database (docker's log driver, a syslog server).
    logger.info(
        "audit chain anchored: link %s, entry #%s, link hash %s, hmac %s",
        anchor.seq,
        anchor.event_id,
        anchor.link_hash,
        anchor.hmac,
    )
    return anchor


# --- problems ---------------------------------------------------------------------------------------------

PROBLEM_MESSAGES: dict[str, StrOrPromise] = {
    "entry_missing": gettext_lazy(
        "Entry #%(entry)s (link %(seq)s) is missing: it was deleted, or the audit log was truncated."
    ),
    "entry_altered": gettext_lazy(
        "Entry #%(entry)s (link %(seq)s) was altered after it was sealed: its content no longer matches the "
        "hash in the chain."
    ),
    "link_forged": gettext_lazy(
        "Link %(seq)s (entry #%(entry)s) does not carry a valid HMAC: it was rewritten, or written without the key."
    ),
    "chain_broken": gettext_lazy("Link %(seq)s does not follow the link before it: the chain was rewritten."),
    "chain_short": gettext_lazy(
        "The chain in the database ends at link %(seq)s, but the anchor outside the database records link "
        "%(anchored)s (written %(written)s): the newest links and their entries were removed, or the database "
        "was restored from an older backup."
    ),
    "anchor_mismatch": gettext_lazy(
        "Link %(seq)s is not the one the anchor outside the database records: the chain was rewritten."
    ),
    "anchor_missing": gettext_lazy(
        "The anchor file %(path)s is missing although the database holds a chain of %(seq)s links."
    ),
    "anchor_forged": gettext_lazy(
        "The anchor file %(path)s is not one the sealer wrote: its HMAC does not match, or it cannot be read."
    ),
}


@dataclass(frozen=True)
class ChainProblem:
    """One thing wrong with the chain; ``kind`` is a stable code, the message is translated when shown."""

    kind: str
    params: dict[str, Any] = field(default_factory=dict)

    def message(self) -> str:
        if self.kind == "links_missing":
            count = int(self.params["last"]) - int(self.params["seq"]) + 1
            return (
                ngettext(
                    "Link %(seq)s is missing from the chain: it was removed from the database.",
                    "Links %(seq)s to %(last)s are missing from the chain: they were removed from the database.",
                    count,
                )
                % self.params
            )
        if self.kind == "unsealed":
            return (
                ngettext(
                    "%(count)s entry older than %(minutes)s minutes is not sealed (the first: #%(entry)s): the sealer "
                    "is not running, or it was written around the application.",
                    "%(count)s entries older than %(minutes)s minutes are not sealed (the first: #%(entry)s): the "
                    "sealer is not running, or they were written around the application.",
                    int(self.params["count"]),
                )
                % self.params
            )
        return str(PROBLEM_MESSAGES[self.kind]) % self.params

    def __str__(self) -> str:
        return f"[{self.kind}] {self.message()}"

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, **self.params}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ChainProblem:
        params = dict(data)
        return cls(kind=str(params.pop("kind")), params=params)


def _check_head(head: AuditLink | None, mac: _Mac) -> tuple[list[ChainProblem], bool]:
    """Does the database's chain reach the anchor, and is its head authentic? (problems, anchor behind head)"""
    path = str(anchor_path())
    try:
        anchor = anchor_read()
    except AnchorUnreadable:
        return [ChainProblem("anchor_forged", {"path": path})], False
    if anchor is None:
        if head is None:
            return [], False
        return [ChainProblem("anchor_missing", {"path": path, "seq": head.seq})], False
    if not anchor.authentic():
        return [ChainProblem("anchor_forged", {"path": path})], False
    if head is None or head.seq < anchor.seq:
        params = {"seq": head.seq if head else 0, "anchored": anchor.seq, "written": anchor.written_at}
        return [ChainProblem("chain_short", params)], False
    anchored = head if head.seq == anchor.seq else AuditLink.objects.filter(seq=anchor.seq).first()
    if anchored is None or link_hash(_message_of(anchored)) != anchor.link_hash:
        return [ChainProblem("anchor_mismatch", {"seq": anchor.seq})], False
    if not mac.matches(_message_of(head), head.hmac):
        return [ChainProblem("link_forged", {"seq": head.seq, "entry": head.event_id})], False
    return [], anchor.seq < head.seq


# --- sealing ----------------------------------------------------------------------------------------------


@dataclass
class SealReport:
    linked: int = 0
    head_seq: int = 0
    head_event_id: int | None = None
    busy: bool = False
    problems: list[ChainProblem] = field(default_factory=list)


@dataclass
class _Part:
    linked: int
    head: AuditLink | None
    last_event_id: int | None
    anchor_behind: bool
    problems: list[ChainProblem]


_UNLINKED_SQL = (
    f"SELECT e.id, {entry_hash_sql('e')} FROM census_auditevent e "
    "WHERE e.id > %s AND NOT EXISTS (SELECT 1 FROM census_auditlink l WHERE l.event_id = e.id) "
    "ORDER BY e.id LIMIT %s"
)


def audit_chain_seal(*, sweep: bool = False, chunk: int = SEAL_CHUNK) -> SealReport:
    """Link every committed entry not linked yet into the chain and anchor its head; safe to run any number of
    times, at once from any number of processes (the others return ``busy``).

    ``sweep`` rereads the whole log instead of the entries above the watermark (the nightly run). It commits
    its own transactions — the anchor is written after each commit, so it never records a link a rollback
    could take back — and therefore refuses to run inside a transaction.
    """
    if connection.in_atomic_block:
        raise RuntimeError("audit_chain_seal commits as it goes; call it outside a transaction")
    report = SealReport()
    with advisory_lock(SEAL_LOCK, wait=False) as locked:
        if not locked:
            return SealReport(busy=True)
        after: int | None = None
        mac = _Mac()
        while True:
            part = _seal_part(sweep=sweep, after=after, chunk=chunk, mac=mac)
            report.linked += part.linked
            if part.head is not None:
                report.head_seq, report.head_event_id = part.head.seq, part.head.event_id
            if part.problems:
                report.problems = part.problems
                break
            if part.head is not None and (part.linked or part.anchor_behind):
                _anchor_write(part.head)
            if part.linked < chunk:
                break
            after = part.last_event_id
    if report.problems:
        logger.error(
            "audit chain NOT sealed, the chain does not reach its anchor: %s", "; ".join(map(str, report.problems))
        )
    elif report.linked:
        logger.info("audit chain: %s entries sealed, head link %s", report.linked, report.head_seq)
    return report


@transaction.atomic
def _seal_part(*, sweep: bool, after: int | None, chunk: int, mac: _Mac) -> _Part:
    started = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_snapshot_xmin(s)::text::bigint, pg_snapshot_xmax(s)::text::bigint, "
            "(SELECT coalesce(max(id), 0) FROM census_auditevent) FROM pg_current_snapshot() AS s"
        )
        xmin, xmax, horizon = cursor.fetchone()
    runs = AuditChainRun.objects.filter(kind=AuditChainRunKind.SEAL, ok=True)
    # Every entry with an id up to ``proven`` is linked: the last successful run's word, true by induction.
    proven = runs.order_by("-id").values_list("safe_through", flat=True).first() or 0
    watermark = 0 if sweep else proven
    trust_before = started - datetime.timedelta(seconds=settings.AUDIT_CHAIN_TRUST_AFTER_SECONDS)
    trusted = (
        runs.filter(started_at__lte=trust_before, horizon_xid__lte=xmin)
        .order_by("-id")
        .values_list("horizon_event_id", flat=True)
        .first()
    )
    candidate = max(proven, trusted or 0)
    head = AuditLink.objects.order_by("-seq").first()

    problems: list[ChainProblem] = []
    anchor_behind = False
    if after is None:  # the first part of a run; later parts extend the chain this run has just anchored
        problems, anchor_behind = _check_head(head, mac)
    if problems:
        _run_record(
            started=started,
            ok=False,
            head=head,
            problems=problems,
            scanned_from=watermark,
            safe_through=proven,
            horizon=horizon,
            xmax=xmax,
        )
        return _Part(linked=0, head=head, last_event_id=None, anchor_behind=False, problems=problems)

    start = max(watermark, after or 0)
    with connection.cursor() as cursor:
        cursor.execute(_UNLINKED_SQL, [start, chunk])
        rows: list[tuple[int, str]] = cursor.fetchall()
        if rows:
            head = _links_write(rows, head, mac, cursor)
    if start > watermark:
        # A later part read from where the previous one stopped, not from the watermark: entries below that
        # which committed meanwhile are still to be read by the next run.
        safe_through = proven
    elif len(rows) == chunk:
        # Read from the watermark up to the last entry linked: past that, nothing is proved yet.
        safe_through = max(proven, min(candidate, rows[-1][0]))
    else:
        safe_through = candidate
    _run_record(
        started=started,
        ok=True,
        head=head,
        count=len(rows),
        scanned_from=start,
        safe_through=safe_through,
        horizon=horizon,
        xmax=xmax,
    )
    return _Part(
        linked=len(rows),
        head=head,
        last_event_id=rows[-1][0] if rows else None,
        anchor_behind=anchor_behind,
        problems=[],
    )


def _links_write(rows: list[tuple[int, str]], head: AuditLink | None, mac: _Mac, cursor: Any) -> AuditLink:
    """Append a link per (entry id, entry hash) after ``head``, with COPY; returns the new head."""
    sealed_at = timezone.now()
    sealed_text = format_time(sealed_at)
    seq = head.seq if head is not None else 0
    prev = link_hash(_message_of(head)) if head is not None else GENESIS_HASH
    buffer = io.StringIO()
    for event_id, event_hash in rows:
        seq += 1
        message = link_message(seq=seq, event_id=event_id, event_hash=event_hash, prev_hash=prev, sealed_at=sealed_text)
        buffer.write(f"{seq}\t{event_id}\t{event_hash}\t{prev}\t{mac(message)}\t{sealed_text}\n")
        prev = link_hash(message)
    buffer.seek(0)
    cursor.copy_expert(
        "COPY census_auditlink (seq, event_id, event_hash, prev_hash, hmac, sealed_at) FROM STDIN", buffer
    )
    return AuditLink.objects.get(seq=seq)


def _run_record(
    *,
    started: datetime.datetime,
    ok: bool,
    head: AuditLink | None,
    problems: Sequence[ChainProblem] = (),
    count: int = 0,
    scanned_from: int,
    safe_through: int,
    horizon: int,
    xmax: int,
) -> None:
    AuditChainRun.objects.create(
        kind=AuditChainRunKind.SEAL,
        started_at=started,
        finished_at=timezone.now(),
        ok=ok,
        count=count,
        head_seq=head.seq if head is not None else 0,
        head_event_id=head.event_id if head is not None else None,
        scanned_from=scanned_from,
        safe_through=safe_through,
        horizon_event_id=horizon,
        horizon_xid=xmax,
        problems=[problem.as_json() for problem in problems],
        problem_count=len(problems),
    )
    # The newest successful run is the watermark; keep it however old it is.
    keep = AuditChainRun.objects.filter(kind=AuditChainRunKind.SEAL, ok=True).order_by("-id").values("id")[:1]
    AuditChainRun.objects.filter(kind=AuditChainRunKind.SEAL, started_at__lt=started - SEAL_RUNS_KEPT).exclude(
        id__in=keep
    ).delete()


def audit_chain_reanchor(*, reason: str) -> SealReport:
    """Adopt the database's chain as it is now, on the record: an audit entry says why and which anchor it
    replaces, the anchor is rewritten at the database's head (or removed when the chain is empty), and a
    sealing run then links that entry too. For after an investigated loss or a restore from an older backup."""
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("Say why the chain is re-anchored: the reason goes into the audit log."))
    with advisory_lock(SEAL_LOCK, wait=True):
        try:
            previous = anchor_read()
            replaced: dict[str, Any] | str | None = previous.as_json() if previous is not None else None
        except AnchorUnreadable as exc:
            replaced = f"unreadable: {exc}"
        with transaction.atomic():
            head = AuditLink.objects.order_by("-seq").first()
            audit_record(
                actor=None,
                action=AuditAction.RECORD_CHANGE,
                object_type="audit_chain",
                object_id="anchor",
                detail={
                    "reason": reason,
                    "replaced_anchor": replaced,
                    "database_head": {"seq": head.seq, "event_id": head.event_id} if head is not None else None,
                },
            )
        if head is not None:
            _anchor_write(head)
        else:
            anchor_path().unlink(missing_ok=True)
        logger.warning("audit chain re-anchored (%s); replaced anchor: %s", reason, replaced)
    return audit_chain_seal()


# --- verifying --------------------------------------------------------------------------------------------


@dataclass
class VerifyReport:
    links: int = 0
    head_seq: int = 0
    head_event_id: int | None = None
    problems: list[ChainProblem] = field(default_factory=list)  # at most PROBLEMS_KEPT_PER_KIND of each kind
    counts: Counter[str] = field(default_factory=Counter)  # every problem, by kind

    @property
    def problem_count(self) -> int:
        return sum(self.counts.values())

    def add(self, problem: ChainProblem) -> None:
        self.counts[problem.kind] += 1
        if self.counts[problem.kind] <= PROBLEMS_KEPT_PER_KIND:
            self.problems.append(problem)


_WALK_SQL = (
    "SELECT l.seq, l.event_id, l.event_hash, l.prev_hash, l.hmac, l.sealed_at, e.id IS NOT NULL, "
    f"{entry_hash_sql('e')} "
    "FROM census_auditlink l LEFT JOIN census_auditevent e ON e.id = l.event_id "
    "WHERE l.seq > %s ORDER BY l.seq LIMIT %s"
)


def audit_chain_verify(
    *, grace: datetime.timedelta | None = None, record: bool = True, batch: int = VERIFY_BATCH
) -> VerifyReport:
    """Walk the whole chain: every link's HMAC and predecessor, every sealed entry's hash; the chain against
    its anchor; entries older than ``grace`` never sealed. ``record`` keeps the result for the auditor's page."""
    started = timezone.now()
    if grace is None:
        grace = datetime.timedelta(minutes=settings.AUDIT_CHAIN_GRACE_MINUTES)
    report = VerifyReport()
    mac = _Mac()
    path = str(anchor_path())
    # The anchor first: the sealer writes it after its commit, so every link it records is there to be read.
    anchor: Anchor | None = None
    try:
        anchor = anchor_read()
        if anchor is not None and not anchor.authentic():
            report.add(ChainProblem("anchor_forged", {"path": path}))
            anchor = None
    except AnchorUnreadable:
        report.add(ChainProblem("anchor_forged", {"path": path}))
    anchored_hash: str | None = None
    expected_seq, prev = 1, GENESIS_HASH
    sealed_at_seen, sealed_text = None, ""
    with connection.cursor() as cursor:
        while True:
            cursor.execute(_WALK_SQL, [expected_seq - 1, batch])
            rows = cursor.fetchall()
            for seq, event_id, event_hash, prev_hash, stored_mac, sealed_at, present, actual_hash in rows:
                if seq > expected_seq:
                    report.add(ChainProblem("links_missing", {"seq": expected_seq, "last": seq - 1}))
                elif seq < expected_seq or prev_hash != prev:
                    report.add(ChainProblem("chain_broken", {"seq": seq}))
                if sealed_at != sealed_at_seen:  # a run's links share their time: format it once
                    sealed_at_seen, sealed_text = sealed_at, format_time(sealed_at)
                message = link_message(
                    seq=seq, event_id=event_id, event_hash=event_hash, prev_hash=prev_hash, sealed_at=sealed_text
                )
                if not mac.matches(message, stored_mac):
                    report.add(ChainProblem("link_forged", {"seq": seq, "entry": event_id}))
                if not present:
                    report.add(ChainProblem("entry_missing", {"seq": seq, "entry": event_id}))
                elif actual_hash != event_hash:
                    report.add(ChainProblem("entry_altered", {"seq": seq, "entry": event_id}))
                prev = link_hash(message)
                if anchor is not None and seq == anchor.seq:
                    anchored_hash = prev
                report.links += 1
                report.head_seq, report.head_event_id = seq, event_id
                expected_seq = seq + 1
            if len(rows) < batch:
                break
        if anchor is not None:
            if report.head_seq < anchor.seq:
                report.add(
                    ChainProblem(
                        "chain_short",
                        {"seq": report.head_seq, "anchored": anchor.seq, "written": anchor.written_at},
                    )
                )
            elif anchored_hash != anchor.link_hash:
                report.add(ChainProblem("anchor_mismatch", {"seq": anchor.seq}))
        elif report.links and not report.counts["anchor_forged"]:
            report.add(ChainProblem("anchor_missing", {"path": path, "seq": report.head_seq}))
        cursor.execute(
            "SELECT count(*), min(e.id) FROM census_auditevent e WHERE e.at < %s "
            "AND NOT EXISTS (SELECT 1 FROM census_auditlink l WHERE l.event_id = e.id)",
            [started - grace],
        )
        unsealed, first = cursor.fetchone()
    if unsealed:
        minutes = int(grace.total_seconds() // 60)
        report.add(ChainProblem("unsealed", {"count": unsealed, "minutes": minutes, "entry": first}))
    if record:
        AuditChainRun.objects.create(
            kind=AuditChainRunKind.VERIFY,
            started_at=started,
            finished_at=timezone.now(),
            ok=not report.problem_count,
            count=report.links,
            head_seq=report.head_seq,
            head_event_id=report.head_event_id,
            problems=[problem.as_json() for problem in report.problems[:20]],
            problem_count=report.problem_count,
        )
    if report.problem_count:
        logger.error("audit chain verification found %s problem(s): %s", report.problem_count, dict(report.counts))
    return report


__all__ = [
    "ENTRY_COLUMNS",
    "GENESIS_HASH",
    "SEAL_LOCK",
    "Anchor",
    "ChainProblem",
    "SealReport",
    "VerifyReport",
    "audit_chain_reanchor",
    "audit_chain_seal",
    "audit_chain_verify",
    "entry_hash_sql",
]
