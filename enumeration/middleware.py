"""A revoked phone deletes its copy at its next contact (issue 19, item 7).

The phone's key travels in the ``census_device`` cookie (enumeration.views.offline.device_register gives it).
Any request that carries the key of a revoked device (read once per request, except in the very session the phone
registered in, which revoking deletes) — the outbox sending, a page opened, a page the service
worker keeps — is answered 410 with code ``device_revoked`` and ``Clear-Site-Data``, and its login (if any is
left) ends: a script's request with JSON, a page with the page that deletes the phone's copy
(static/js/device-revoked.js). The cookie stays until the phone reports its copy deleted
(``device_wiped``), so a phone that missed the first answer is told again.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from enumeration import selectors
from enumeration.models.devices import device_key_digest

DEVICE_COOKIE = "census_device"
CLEAR_SITE_DATA = '"cache", "storage"'


def revoked_response(request: HttpRequest) -> HttpResponse:
    message = _("This phone was revoked by the office. What it kept of the census is deleted from it.")
    response: HttpResponse
    if request.method != "GET" or request.path.startswith("/api/") or "json" in request.headers.get("Accept", ""):
        response = JsonResponse({"detail": message, "code": "device_revoked"}, status=410)
    else:
        response = render(request, "enumeration/device_revoked.html", {"message": message}, status=410)
    response["Clear-Site-Data"] = CLEAR_SITE_DATA
    response["Cache-Control"] = "no-store"
    return response


# The session of a phone that registered in it remembers which key it registered and under which session key.
# Revoking a phone deletes the session it registered in, so a request of that same session with that same key
# cannot come from a revoked phone: no read. Any other request with a key (no login left, a new session) is read.
SESSION_DEVICE = "_census_device"


def session_mark(key: str, session_key: str) -> str:
    return f"{device_key_digest(key)[:32]}:{session_key}"


def seen_in_this_session(request: HttpRequest, key: str) -> bool:
    session = getattr(request, "session", None)
    if session is None or not session.session_key:
        return False
    return bool(session.get(SESSION_DEVICE) == session_mark(key, session.session_key))


class RevokedPhoneMiddleware:
    """After ``AuthenticationMiddleware``. One indexed read for the requests that carry a phone's key (only
    browsers that ran the offline pages have one); nothing for any other request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    @staticmethod
    def exempt() -> set[str]:
        """The phone's report that it deleted its copy, and the service worker's script."""
        paths = set()
        for name in ("enumeration:device-wiped", "service-worker"):
            with suppress(NoReverseMatch):  # a URL conf without them (the security tests' broken one)
                paths.add(reverse(name))
        return paths

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.COOKIES.get(DEVICE_COOKIE)
        if key and not seen_in_this_session(request, key) and request.path not in self.exempt():
            device = selectors.phone_device_by_key(key)
            if device is not None and device.revoked_at is not None:
                if getattr(request, "user", None) is not None and request.user.is_authenticated:
                    logout(request)
                return revoked_response(request)
        return self.get_response(request)
