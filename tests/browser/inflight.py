"""Requests the live server is still answering, so that a browser test's database is flushed only after them.

A browser closed at the end of a test does not stop a request its page had sent: the live server's thread goes on
with it (on a loaded machine, seconds later) while pytest-django truncates every table for the next test — and the
truncation and the request's locks can deadlock, failing the next test's set-up. The test settings put this
middleware outermost; ``wait_until_idle`` is called between closing the test's browsers and the flush."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from django.core.management.base import CommandError
from django.db import OperationalError
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


def wait_until_idle(timeout: float = 20.0, quiet: float = 0.2) -> int:
    """Wait until no request has been answered for ``quiet`` seconds (a request already sent may still be waiting
    for a thread), or ``timeout`` seconds; returns how many are being answered."""
    deadline = time.monotonic() + timeout
    idle_since = time.monotonic()
    while time.monotonic() < deadline:
        if _in_flight:
            idle_since = time.monotonic()
        elif time.monotonic() - idle_since >= quiet:
            break
        time.sleep(0.02)
    return _in_flight


def flush_retrying_deadlocks(flush: Callable[..., None]) -> Callable[..., None]:
    """``TransactionTestCase._fixture_teardown`` that tries again when the truncation deadlocks with a request the
    closed browser had sent (PostgreSQL cancels one of the two; the request then finishes and the next try
    truncates), instead of failing the next test's set-up."""

    def teardown(self: Any) -> None:
        for attempt in range(4):
            try:
                flush(self)
                return
            except (OperationalError, CommandError) as error:  # flush wraps the database's error
                if "deadlock detected" not in f"{error} {error.__cause__}" or attempt == 3:
                    raise
                wait_until_idle(timeout=5.0)
                time.sleep(0.2 * (attempt + 1))

    return teardown
