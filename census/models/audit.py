"""The append-only audit log (全国人口普查条例 §33: personal data must not leak or be altered unseen).

Rows are only ever inserted; a database trigger (migration 0002) rejects UPDATE and DELETE, so not even a
bug or a console session can rewrite history; and the application's database role holds only SELECT and INSERT
on it and owns nothing, so it can neither TRUNCATE the table nor switch the trigger off
(census/database_roles.py).
"""

from __future__ import annotations

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
    census_append_only = True

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
        indexes = [models.Index(fields=["action", "at"]), models.Index(fields=["actor_id", "at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_type}:{self.object_id}"
