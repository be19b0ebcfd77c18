"""Django's Redis cache, keeping one client object per connection pool, and carrying on without Redis.

One client per pool: Django's ``RedisCacheClient`` builds a new ``redis.Redis`` object for every cache operation,
and each one copies redis-py's table of some 170 response callbacks: half of a cache read's CPU (105 µs against
53 µs per read, ``/tmp``-script timing 5,000 reads of one key). A household submission reads and writes the
cache four times (the signing password, the dashboards' refresh). The client objects are safe to share:
connections come from the pool, one per command.

Without Redis: the cache is an optimisation (a list's remembered count, a remembered signing password, the
debounce of the dashboards' refresh), so when Redis cannot be reached every read misses and every write is
skipped, instead of the page or the submission failing. The first failure is logged, and for
``RETRY_AFTER_SECONDS`` afterwards Redis is not asked at all, so that a host that does not answer costs one
request its connect timeout, not every request every one of its cache operations. The one rule that must not
carry on without Redis reads it inside :func:`cache_required`, where an unreachable Redis raises
:class:`CacheUnavailable` (the signing-password lockout, census/passwords.py). ``incr`` always raises it: a count
cannot be made up.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from urllib.parse import urlsplit

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

# Redis answers in well under a millisecond; a host that takes a second to accept a connection is down.
CONNECT_TIMEOUT_SECONDS = 1.0
READ_TIMEOUT_SECONDS = 2.0
RETRY_AFTER_SECONDS = 5.0

UNREACHABLE = (RedisConnectionError, RedisTimeoutError)


class CacheUnavailable(Exception):
    """Redis could not be reached, where the caller said it cannot do without it (:func:`cache_required`)."""


_required: ContextVar[bool] = ContextVar("census_cache_required", default=False)


@contextmanager
def cache_required() -> Iterator[None]:
    """Inside this block an unreachable Redis raises :class:`CacheUnavailable` instead of answering like an
    empty cache: for a rule that would be unsafe without what Redis keeps."""
    token = _required.set(True)
    try:
        yield
    finally:
        _required.reset(token)


# Until when each Redis server (by its location) is not asked again, shared by the threads of a process.
_down_until: dict[str, float] = {}


def _where(servers: list[str]) -> str:
    """The servers as host:port, for the log (a URL may carry a password)."""
    return ", ".join(f"{urlsplit(url).hostname}:{urlsplit(url).port or 6379}" for url in servers)


_RAISE = object()
# INCRBY on a key that exists, nil otherwise (Django's incr raises ValueError for a missing key).
_INCR_EXISTING = (
    "if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('INCRBY', KEYS[1], ARGV[1]) end return nil"
)


class _SharedClient(RedisCacheClient):
    def __init__(self, servers: list[str], **options: Any) -> None:
        # Without these redis-py waits for the operating system's connect timeout (minutes) on a silent host.
        options.setdefault("socket_connect_timeout", CONNECT_TIMEOUT_SECONDS)
        options.setdefault("socket_timeout", READ_TIMEOUT_SECONDS)
        super().__init__(servers, **options)
        self._clients: dict[int, Any] = {}
        self._location = ",".join(servers)
        self._where = _where(servers)

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client

    def _guarded(self, fallback: Any, operation: Callable[..., Any], *args: Any) -> Any:
        """``operation(*args)``, or ``fallback`` (what an empty cache answers) when Redis cannot be reached."""
        now = time.monotonic()
        if _down_until.get(self._location, 0.0) > now:
            return self._unreachable(fallback, None)
        try:
            result = operation(*args)
        except UNREACHABLE as exc:
            if self._location not in _down_until:
                logger.warning("Redis at %s cannot be reached (%s): carrying on without the cache", self._where, exc)
            _down_until[self._location] = now + RETRY_AFTER_SECONDS
            return self._unreachable(fallback, exc)
        if _down_until.pop(self._location, None) is not None:
            logger.warning("Redis at %s answers again: the cache is used again", self._where)
        return result

    @staticmethod
    def _unreachable(fallback: Any, exc: Exception | None) -> Any:
        if fallback is _RAISE or _required.get():
            raise CacheUnavailable from exc
        return fallback

    def add(self, key: Any, value: Any, timeout: Any) -> bool:
        return bool(self._guarded(False, super().add, key, value, timeout))

    def get(self, key: Any, default: Any) -> Any:
        return self._guarded(default, super().get, key, default)

    def set(self, key: Any, value: Any, timeout: Any) -> None:
        self._guarded(None, super().set, key, value, timeout)

    def touch(self, key: Any, timeout: Any) -> bool:
        return bool(self._guarded(False, super().touch, key, timeout))

    def delete(self, key: Any) -> bool:
        return bool(self._guarded(False, super().delete, key))

    def get_many(self, keys: Any) -> dict[Any, Any]:
        return self._guarded({}, super().get_many, keys)  # type: ignore[no-any-return]

    def has_key(self, key: Any) -> bool:
        return bool(self._guarded(False, super().has_key, key))

    def incr(self, key: Any, delta: int) -> int:
        return self._guarded(_RAISE, self._incr_existing, key, delta)  # type: ignore[no-any-return]

    def _incr_existing(self, key: Any, delta: int) -> int:
        """Django's ``incr`` asks whether the key exists and then increments it: two round trips, and a key that
        expires between them comes back as a counter without an expiry (a throttle that never resets). One
        script does both at once."""
        value = self.get_client(key, write=True).eval(_INCR_EXISTING, 1, key, delta)
        if value is None:
            raise ValueError(f"Key '{key}' not found.")
        return int(value)

    def set_many(self, data: Any, timeout: Any) -> None:
        self._guarded(None, super().set_many, data, timeout)

    def delete_many(self, keys: Any) -> None:
        self._guarded(None, super().delete_many, keys)

    def clear(self) -> bool:
        return bool(self._guarded(False, super().clear))


class SharedClientRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = _SharedClient
