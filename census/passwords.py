"""Password re-entry for signatures (谁登记、谁签字).

An enumerator re-enters their password to sign every household — eighty or more a day. Checking Argon2 each
time would cost a tenth of a second of CPU per signature (and make a district's peak hour need many cores),
so a successful check is remembered for the idle-session window as a keyed digest of (user, stored hash,
password) in the cache. The password is still required every time and compared every time; a wrong one
always goes to Argon2 (and stays slow for guessing); a changed password changes the stored hash and so
misses the cache. The cache holds no password and no hash, only an HMAC under the server's secret key.

The count of wrong passwords lives in Redis too. When Redis cannot be reached it can be neither read nor kept,
and signing on would let a stolen session try passwords without limit, so signing fails closed: it is refused
(:class:`SigningUnavailable`, a 503 that says why) until Redis answers again. Forms are still saved meanwhile.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core.cache import cache
from django.utils.translation import gettext as _

from census.api import ServiceUnavailable
from census.cache import CacheUnavailable, cache_required
from census.models import StaffMember


def _digest(user: StaffMember, password: str) -> str:
    message = f"{user.pk}\0{user.password}\0{password}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


class SigningLocked(Exception):
    """Too many wrong passwords in a row: signing is paused for this user (like the login lockout)."""


class SigningUnavailable(ServiceUnavailable):
    """The count of wrong passwords cannot be read (Redis unreachable): signing waits until it can."""

    def __init__(self) -> None:
        super().__init__(
            _(
                "Signing is not possible for a moment: the service that counts wrong passwords cannot be reached. "
                "Your entries are kept; sign again in a few minutes."
            ),
            code="signing_unavailable",
        )


def _failures_key(user: StaffMember) -> str:
    return f"census:signing-failures:{user.pk}"


def password_matches(user: StaffMember, password: str) -> bool:
    """Is ``password`` the user's password? Raises :class:`SigningLocked` after too many wrong ones in a row,
    so that a stolen session cannot be used to guess the password through the signing form."""
    limit = int(getattr(settings, "LOGIN_FAILURE_LIMIT", 5))
    key = f"census:signing-password:{user.pk}"
    # Both in one round trip: every signature asks. Without the count, no password is checked (fails closed).
    try:
        with cache_required():
            known = cache.get_many([_failures_key(user), key])
    except CacheUnavailable:
        raise SigningUnavailable from None
    if int(known.get(_failures_key(user)) or 0) >= limit:
        raise SigningLocked
    if not password or not user.has_usable_password():
        return False
    digest = _digest(user, password)
    remembered = known.get(key)
    if isinstance(remembered, str) and hmac.compare_digest(remembered, digest):
        return True
    # Verify without upgrading the stored hash: an upgrade would change the session hash and log the signer out
    # of their other devices in the middle of their work. Hashes are upgraded at login.
    if not check_password(password, user.password):
        failures = _failures_key(user)
        try:
            cache.add(failures, 0, timeout=60 * int(getattr(settings, "LOGIN_LOCKOUT_MINUTES", 30)))
            cache.incr(failures)
        except CacheUnavailable:
            pass  # Redis went away after the count was read: the next attempt is refused by that read
        return False
    cache.set(key, digest, timeout=settings.SESSION_COOKIE_AGE)
    cache.delete(_failures_key(user))
    return True
