"""The append-only audit log (全国人口普查条例 §33: personal data must not leak or be altered unseen).

Rows are only ever inserted; a database trigger (migration 0002) rejects UPDATE and DELETE, so not even a
bug or a console session can rewrite history; and the application's database role holds only SELECT and INSERT
on it and owns nothing, so it can neither TRUNCATE the table nor switch the trigger off
(census/database_roles.py). The owner of the tables can still do both, so the log is also sealed into a hash
chain after the fact (``AuditLink``, census.audit_chain): an entry removed or altered after it was sealed is
reported by ``verify_audit_log``.

Models with ``census_append_only = True`` are the ones the application's database role may only INSERT into
and SELECT from (the deployment's grants read this attribute).
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from census.scoping import ScopedQuerySet


class AuditAction(models.TextChoices):
    VIEW_PERSONAL_DATA = "view_personal_data", _("Viewed unmasked personal data")
    EXPORT = "export", _("Export")
    IMPORT = "import", _("Import")
    PERMISSION_CHANGE = "permission_change", _("Permission change")
    ASSIGNMENT_CHANGE = "assignment_change", _("Assignment change")
    RECORD_CHANGE = "record_change", _("Record change")
    LOGIN = "login", _("Login")
    LOGIN_FAILED = "login_failed", _("Failed login")
    # A wrong password where an action is signed with it (census.passwords), and each attempt while locked.
    PASSWORD_REFUSED = "password_refused", _("Password refused at a signature")


class AuditEventQuerySet(ScopedQuerySet["AuditEvent"]):
    scope_fields = {"district": "district_id"}


class AuditEvent(models.Model):
    # The application's database role may only insert and read this table (census/database_roles.py).
    census_append_only: ClassVar[bool] = True

    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    # Who acted, copied rather than referenced: the log must outlive any change to the staff table, and a
    # foreign key would let a cascade or a SET NULL rewrite it.
    actor_id = models.BigIntegerField(_("actor id"), null=True, blank=True, db_index=True)
    actor_username = models.CharField(_("actor"), max_length=150, blank=True)
    actor_role = models.CharField(_("actor's role"), max_length=20, blank=True)
    district_id = models.CharField(_("district"), max_length=6, blank=True)
    action = models.CharField(_("action"), max_length=30, choices=AuditAction.choices)
    object_type = models.CharField(_("object type"), max_length=60, blank=True)
    object_id = models.CharField(_("object id"), max_length=60, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-at"]
        indexes = [
            models.Index(fields=["action", "at"]),
            models.Index(fields=["actor_id", "at"]),
            # A staff member's page lists what the log says about their account.
            models.Index(fields=["object_type", "object_id"], name="census_audit_object_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_type}:{self.object_id}"


class AuditLink(models.Model):
    """One entry of the audit log sealed into the chain: link ``seq`` vouches for entry ``event_id``.

    Written by the sealer only (census.audit_chain), never changed. ``event_hash`` is the entry's content hash,
    ``prev_hash`` the hash of the previous link's message (the genesis hash for link 1), ``hmac`` the HMAC of
    this link's message under the ledger key, which the database never holds. No foreign key to the entry: the
    link must keep saying what it saw when the entry is gone.
    """

    census_append_only: ClassVar[bool] = True

    # The position in the chain, 1, 2, 3 … without gaps; the sealer assigns it (no sequence to grant).
    seq = models.BigIntegerField(_("link"), primary_key=True)
    event_id = models.BigIntegerField(_("audit entry"), unique=True)
    event_hash = models.CharField(_("entry hash"), max_length=64)
    prev_hash = models.CharField(_("previous link's hash"), max_length=64)
    hmac = models.CharField("HMAC", max_length=64)
    sealed_at = models.DateTimeField(_("sealed at"))

    class Meta:
        verbose_name = _("audit-log link")
        verbose_name_plural = _("audit-log links")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(seq__gte=1),
                name="census_auditlink_seq_positive",
                violation_error_message=_("A link's position starts at 1."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.seq} → {self.event_id}"


class AuditChainRunKind(models.TextChoices):
    SEAL = "seal", _("Sealing")
    VERIFY = "verify", _("Full verification")


class AuditChainRun(models.Model):
    """One run of the sealer or of the full verification: what the auditor's page shows, and the sealer's
    memory of how far every entry is known to be linked. Working state, not evidence: old runs are pruned."""

    kind = models.CharField(_("kind"), max_length=10, choices=AuditChainRunKind.choices)
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"))
    ok = models.BooleanField(_("passed"))
    # Sealing: entries linked by the run; verification: links checked.
    count = models.BigIntegerField(_("count"), default=0)
    head_seq = models.BigIntegerField(_("last link"), default=0)
    head_event_id = models.BigIntegerField(_("last sealed entry"), null=True, blank=True)
    # Sealing only. The run looked at entries with ids above ``scanned_from``; after it, every entry with an
    # id up to ``safe_through`` that will ever commit is linked. ``horizon_event_id`` is the largest entry id
    # committed when the run began and ``horizon_xid`` the first transaction id not yet started then: once
    # every transaction older than that has ended, no entry at or below that id can still appear.
    scanned_from = models.BigIntegerField(default=0)
    safe_through = models.BigIntegerField(default=0)
    horizon_event_id = models.BigIntegerField(default=0)
    horizon_xid = models.BigIntegerField(default=0)
    # The first problems found (census.audit_chain.ChainProblem as JSON) and how many there were in all.
    problems = models.JSONField(_("problems"), default=list, blank=True)
    problem_count = models.BigIntegerField(_("problems found"), default=0)

    class Meta:
        verbose_name = _("audit-chain run")
        verbose_name_plural = _("audit-chain runs")
        indexes = [models.Index(fields=["kind", "ok", "started_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.started_at:%Y-%m-%d %H:%M} {'ok' if self.ok else 'FAILED'}"

    def problem_messages(self) -> list[str]:
        """The problems kept, each in the reader's language."""
        from census.audit_chain import ChainProblem  # the messages live beside the code that finds the problems

        return [ChainProblem.from_json(problem).message() for problem in self.problems]
