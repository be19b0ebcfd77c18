"""Read-mostly admin views for support staff. Changes go through the pages (and their services)."""

from django.contrib import admin

from supervision.organisation import models


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(models.UnitReadiness)
class UnitReadinessAdmin(ReadOnlyAdmin):
    list_display = ("unit_kind", "township", "village", "department", "ready_on")
    list_filter = ("unit_kind",)


@admin.register(models.SubsidyDue)
class SubsidyDueAdmin(ReadOnlyAdmin):
    list_display = ("staff", "phase", "households", "computed_amount", "reduction_amount", "amount_paid", "due_on")
    list_filter = ("phase",)
    search_fields = ("staff__username",)


@admin.register(models.RectificationItem)
class RectificationItemAdmin(ReadOnlyAdmin):
    list_display = ("number", "title", "status", "recheck_on")
    list_filter = ("status",)


@admin.register(models.DirectoryUnit)
class DirectoryUnitAdmin(ReadOnlyAdmin):
    list_display = ("credit_code", "name", "kind", "status")
    list_filter = ("kind", "status")
    search_fields = ("credit_code", "name")


@admin.register(models.EvidenceFile)
class EvidenceFileAdmin(ReadOnlyAdmin):
    list_display = ("original_name", "kind", "size", "uploaded_by", "uploaded_at")
    exclude = ("file",)
