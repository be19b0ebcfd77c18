"""Django admin for the census frame. The audit log is shown read-only: nobody adds, edits or deletes an event
here (and the database refuses UPDATE and DELETE anyway, migration 0002)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from census.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("at", "action", "actor_username", "actor_role", "object_type", "object_id", "ip_address")
    list_filter = ("action", "actor_role")
    search_fields = ("actor_username", "object_type", "object_id")
    date_hierarchy = "at"
    ordering = ("-at", "-id")
    actions = None  # no "delete selected"
    readonly_fields = tuple(field.name for field in AuditEvent._meta.fields)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
