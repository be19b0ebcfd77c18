"""Password re-entry: the one way an action is confirmed with the actor's password (谁登记、谁签字).

A household's signature, a household submitted from a device, the reopening of an accepted form and the
explanation of a finding are each signed by entering the password again; all of them call
:func:`password_confirm`, which counts wrong passwords per person across every one of these actions and, at
the login's limit (``LOGIN_FAILURE_LIMIT``, django-axes' ``AXES_FAILURE_LIMIT``), refuses them all for the
login's cool-off (``LOGIN_LOCKOUT_MINUTES``): a stolen session cannot guess the password five times through
the signing form, then five more through the explanation form. Every refusal is in the audit log.

The count of mistakes is kept on the person's own row (``password_failures``, ``password_failed_at``), which the
request has read already to know who is asking: the limit costs no query, and it holds when Redis is down — the
cache is an optimisation, signing must go on without it. A refused password rolls back everything the request
wrote, so the count is written after the view has returned (:class:`RefusalAuditMiddleware`), with one UPDATE
that adds to what the database holds, so that parallel guesses all count.

An enumerator re-enters their password to sign every household — eighty or more a day. Checking Argon2 each
time would cost a tenth of a second of CPU per signature (and make a district's peak hour need many cores),
so a successful check is remembered for the idle-session window as a keyed digest of (user, stored hash,
password) in the cache. The password is still required every time and compared every time; a wrong one
always goes to Argon2 (and stays slow for guessing); a changed password changes the stored hash and so
misses the cache. The cache holds no password and no hash, only an HMAC under the server's secret key.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core.cache import cache
from django.db import transaction
from django.db.models import Case, F, Value, When
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from census.api import ApplicationError
from census.models import AuditAction, StaffMember

LOCKED_CODE = "signing_locked"


def _digest(user: StaffMember, password: str) -> str:
    message = f"{user.pk}\0{user.password}\0{password}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def _remembered_key(user: StaffMember) -> str:
    return f"census:signing-password:{user.pk}"


def _lockout_minutes() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)


def _failures_now(user: StaffMember, now: datetime.datetime) -> int:
    """The person's mistakes in a row that still count: those of the cool-off before ``now``."""
    failed_at = user.password_failed_at
    if failed_at is None or now - failed_at >= settings.AXES_COOLOFF_TIME:
        return 0
    return int(user.password_failures)


def password_confirm(*, user: StaffMember, password: str, purpose: str, refusal: str) -> None:
    """Confirm an action with ``user``'s password, or refuse it with an :class:`ApplicationError`: code
    ``bad_password`` and the caller's ``refusal`` message for a wrong password, code ``signing_locked`` and
    the one lockout message once the person has made too many mistakes in a row (whatever they were
    confirming). ``purpose`` names the action in the audit log (``household_sign``, ``finding_explain``…).

    A success clears the count of mistakes. ``user`` is the person as this request read them (their count with
    them); the remembered success lives in the cache and holds no password."""
    limit = int(settings.AXES_FAILURE_LIMIT)
    now = timezone.now()
    failures = _failures_now(user, now)
    if failures >= limit:
        _after_refusal(_refusal_audit(user=user, purpose=purpose, failures=failures, locked=True))
        raise ApplicationError(
            _("Too many wrong passwords: signing is paused for %(minutes)d minutes.") % {"minutes": _lockout_minutes()},
            code=LOCKED_CODE,
        )
    if _matches(user, password, remembered=cache.get(_remembered_key(user))):
        if user.password_failures:
            StaffMember.objects.filter(pk=user.pk).update(password_failures=0, password_failed_at=None)
            user.password_failures, user.password_failed_at = 0, None
        return
    failures += 1
    user.password_failures, user.password_failed_at = failures, now
    _after_refusal(_failure_count(user_id=user.pk, now=now))
    _after_refusal(_refusal_audit(user=user, purpose=purpose, failures=failures, locked=failures >= limit))
    raise ApplicationError(refusal, code="bad_password")


def _matches(user: StaffMember, password: str, *, remembered: Any) -> bool:
    if not password or not user.has_usable_password():
        return False
    digest = _digest(user, password)
    if isinstance(remembered, str) and hmac.compare_digest(remembered, digest):
        return True
    # Verify without upgrading the stored hash: an upgrade would change the session hash and log the signer out
    # of their other devices in the middle of their work. Hashes are upgraded at login.
    if not check_password(password, user.password):
        return False
    cache.set(_remembered_key(user), digest, timeout=settings.SESSION_COOKIE_AGE)
    return True


# --- the audit of refusals ----------------------------------------------------------------------------------

# What the refusals of the current request write, done once the request is over (see RefusalAuditMiddleware).
Write = Callable[[HttpRequest | None], None]
_pending: ContextVar[list[Write] | None] = ContextVar("census_password_refusals", default=None)


def _after_refusal(write: Write) -> None:
    pending = _pending.get()
    if pending is not None:
        pending.append(write)
        return
    # Outside a request (a command, a task, a test calling the service): in the caller's transaction.
    write(None)


def _failure_count(*, user_id: int, now: datetime.datetime) -> Write:
    def write(request: HttpRequest | None) -> None:
        # Added to what the database holds, not set from what this request read: guesses sent in parallel all count.
        StaffMember.objects.filter(pk=user_id).update(
            password_failures=Case(
                When(password_failed_at__gt=now - settings.AXES_COOLOFF_TIME, then=F("password_failures") + 1),
                default=Value(1),
            ),
            password_failed_at=now,
        )

    return write


def _refusal_audit(*, user: StaffMember, purpose: str, failures: int, locked: bool) -> Write:
    def write(request: HttpRequest | None) -> None:
        from census.security import client_ip
        from census.services import audit_record

        audit_record(
            actor=user,
            action=AuditAction.PASSWORD_REFUSED,
            object_type="staff",
            object_id=user.pk,
            detail={"purpose": purpose, "failures": failures, "locked": locked},
            ip_address=client_ip(request) if request is not None else None,
        )

    return write


class RefusalAuditMiddleware:
    """Writes the count and the audit entries of refused passwords after the view, outside the request's
    transaction.

    A refused password refuses the whole action, and everything written for it is rolled back — by the
    service's own atomic block, by ``ATOMIC_REQUESTS`` on a page, by the API's exception handler — including a
    count or an audit entry written at the moment of refusal. The attempt still counts towards the limit and is
    still a fact for the auditor, so both wait here and are written when the view has returned."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        pending: list[Write] = []
        token = _pending.set(pending)
        try:
            return self.get_response(request)
        finally:
            _pending.reset(token)
            if pending:
                with transaction.atomic():
                    for write in pending:
                        write(request)


def password_login(*, request: HttpRequest, username: str, password: str) -> StaffMember | None:
    """Sign in with a login name and password outside the login page (the API's token endpoint): Django's
    ``authenticate`` with django-axes in front, so that the login's lockout, its failure signal and its audit
    entry apply alike. ``None`` for a wrong password, an inactive account or a locked-out one
    (``request.axes_locked_out`` then says which)."""
    from django.contrib.auth import authenticate

    user = authenticate(request, username=username, password=password)
    return user if isinstance(user, StaffMember) else None
