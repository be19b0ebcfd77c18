"""Sign-in security: failed and successful logins in the audit log, the lockout page, the CSRF failure page.

Lockout itself is django-axes (settings: ``AXES_*``); this module only connects Django's login signals to
the audit log and renders the pages a person sees when something is refused. The receivers are connected in
``CensusConfig.ready()``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from census.models import AuditAction, StaffMember

USERNAME_MAX = 150


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address as django-axes sees it (it honours the proxy settings)."""
    if request is None:
        return None
    from axes.helpers import get_client_ip_address

    address = getattr(request, "axes_ip_address", None) or get_client_ip_address(request)
    return address or None


def on_user_logged_in(sender: Any, request: HttpRequest | None, user: StaffMember, **kwargs: Any) -> None:
    from census.services import audit_record

    audit_record(
        actor=user,
        action=AuditAction.LOGIN,
        object_type="staff",
        object_id=user.pk,
        ip_address=client_ip(request),
    )


def on_user_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    from census.services import audit_record

    # Django has already replaced the password with asterisks; the username is what was typed.
    username = str(credentials.get(StaffMember.USERNAME_FIELD) or credentials.get("username") or "")[:USERNAME_MAX]
    staff_id = StaffMember.objects.filter(username=username).values_list("pk", flat=True).first() if username else None
    audit_record(
        actor=None,
        action=AuditAction.LOGIN_FAILED,
        object_type="staff",
        object_id=staff_id or "",
        detail={"username": username, "locked_out": bool(getattr(request, "axes_locked_out", False))},
        ip_address=client_ip(request),
    )


def connect_signals() -> None:
    user_logged_in.connect(on_user_logged_in, dispatch_uid="census.security.user_logged_in")
    user_login_failed.connect(on_user_login_failed, dispatch_uid="census.security.user_login_failed")


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict[str, Any] | None = None
) -> HttpResponse:
    """The page a locked-out person sees (django-axes ``AXES_LOCKOUT_CALLABLE``): 429 with the wait in minutes;
    JSON for the API's token endpoint, whose clients read JSON."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    if request.path.startswith("/api/"):
        message = _("Too many failed logins: wait %(minutes)d minutes.") % {"minutes": minutes}
        return JsonResponse({"detail": message, "code": "locked_out"}, status=429)
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "minutes": minutes}
    return render(request, "registration/locked_out.html", context, status=429)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: a refused form in the site's own page (no inline style, unlike Django's)."""
    return render(request, "registration/csrf_failure.html", {"reason": reason}, status=403)


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's minimum length, with a message that has a Chinese translation (Django 5.2 changed the msgid
    to "%d" and its zh_Hans catalogue has not caught up, so staff would read English)."""

    def get_error_message(self) -> str:
        return ngettext(
            "This password is too short: it needs at least %(min_length)d character.",
            "This password is too short: it needs at least %(min_length)d characters.",
            self.min_length,
        ) % {"min_length": self.min_length}
