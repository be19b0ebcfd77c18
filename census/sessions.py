"""Idle sessions end after ``SESSION_COOKIE_AGE`` without a request, without a session write on every request.

Django's ``SESSION_SAVE_EVERY_REQUEST`` keeps the idle window exact by writing the session row (an UPDATE and a
commit) on every request — a tenth of the database work of a household submission. Instead, a request renews
the session only when the last renewal is ``SESSION_TOUCH_INTERVAL`` seconds old or more, so the session ends
between ``SESSION_COOKIE_AGE - SESSION_TOUCH_INTERVAL`` and ``SESSION_COOKIE_AGE`` after the last request (29 to
30 minutes by default) and a busy enumerator's session is written about once a minute.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

TOUCHED_KEY = "_census_touched"


class SessionTouchMiddleware:
    """Place directly after ``SessionMiddleware``: it marks the session modified when its renewal is due, and
    ``SessionMiddleware`` then saves it with a fresh expiry and cookie."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        session = getattr(request, "session", None)
        # An empty session (anonymous, or just flushed at logout) has nothing to keep alive.
        if session is None or session.is_empty():
            return response
        now = int(time.time())
        touched = session.get(TOUCHED_KEY)
        if session.modified or not isinstance(touched, int) or now - touched >= settings.SESSION_TOUCH_INTERVAL:
            session[TOUCHED_KEY] = now
        return response
