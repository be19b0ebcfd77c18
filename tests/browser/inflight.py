"""Requests the live server is still answering, so that a browser test's database is flushed only after them.

A browser closed at the end of a test does not stop a request its page had sent: the live server's thread goes on
with it (on a loaded machine, seconds later) while pytest-django truncates every table for the next test — and the
truncation and the request's locks can deadlock, failing the next test's set-up. The test settings put this
middleware outermost; ``wait_until_idle`` is called between closing the test's browsers and the flush."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

_lock = threading.Lock()
_in_flight = 0


class InFlightMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        global _in_flight
        with _lock:
            _in_flight += 1
        try:
            return self.get_response(request)
        finally:
            with _lock:
                _in_flight -= 1


def wait_until_idle(timeout: float = 20.0) -> int:
    """Wait until no request is being answered (or ``timeout`` seconds); returns how many still are."""
    deadline = time.monotonic() + timeout
    while _in_flight and time.monotonic() < deadline:
        time.sleep(0.05)
    return _in_flight
