"""The project's Redis cache backend: Django's, with one client object per connection pool."""

from __future__ import annotations

from django.core.cache import caches

from census.cache import SharedClientRedisCache


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
