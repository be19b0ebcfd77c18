"""Django admin for the census frame, all of it read-only. The audit log: nobody adds, edits or deletes an event
here (and the database refuses UPDATE and DELETE anyway, migration 0002). Staff, departments and assignments:
they change through the staff pages, which check who may do what and write the audit log."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from census.models import AuditEvent, Department, SmallAreaAssignment, StaffMember, SupervisorAssignment


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


class _ReadOnly(admin.ModelAdmin):  # type: ignore[type-arg]
    """Shown, never changed here: accounts, departments and assignments change through the staff pages, whose
    services check who may do what and write the audit log."""

    actions = None

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(StaffMember)
class StaffMemberAdmin(_ReadOnly):
    list_display = ("username", "last_name", "first_name", "role", "township", "department", "status", "last_login")
    list_filter = ("role", "status", "township")
    search_fields = ("username", "last_name", "first_name", "phone", "credential_no")
    exclude = ("password", "credential_key")


@admin.register(Department)
class DepartmentAdmin(_ReadOnly):
    list_display = ("code", "name", "district")
    search_fields = ("code", "name")


@admin.register(SmallAreaAssignment)
class SmallAreaAssignmentAdmin(_ReadOnly):
    list_display = ("small_area", "staff", "assigned_at")
    search_fields = ("small_area__code", "staff__username")
    list_select_related = ("small_area", "staff")


@admin.register(SupervisorAssignment)
class SupervisorAssignmentAdmin(_ReadOnly):
    list_display = ("supervisor", "enumerator", "assigned_at")
    search_fields = ("supervisor__username", "enumerator__username")
    list_select_related = ("supervisor", "enumerator")
