"""Access log in the admin: readable by the platform admin, never editable."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from .models import AccessLog


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "created_at",
        "actor_username",
        "agency",
        "action",
        "target_type",
        "target_id",
        "ip",
    ]
    list_filter = ["action", "target_type", "agency"]
    search_fields = ["actor_username", "target_id", "request_id"]
    date_hierarchy = "created_at"
    list_select_related = ["agency"]

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return [f.name for f in AccessLog._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
