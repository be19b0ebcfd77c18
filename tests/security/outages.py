"""Real outages for the fault tests: Redis and PostgreSQL unreachable, by pointing the application at a port on
which nothing listens. Every connection attempt is really made and really refused by the operating system
(ECONNREFUSED), as it is when the server is stopped; nothing is mocked."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import connections
from django.test import override_settings


def closed_port() -> int:
    """A local port nobody listens on: the operating system hands out a free one, and it is closed again."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def redis_unreachable() -> Iterator[str]:
    """Redis down for the cache, the Celery broker and result backend and /healthz: every client is pointed at a
    closed port, and the connections made to the real Redis before (Django's cache clients, Celery's pools) are
    dropped, so that the next use connects again — and is refused."""
    from census.celery import app

    url = f"redis://127.0.0.1:{closed_port()}/0"
    cache = {**settings.CACHES["default"], "LOCATION": url}
    before = (app.conf.broker_url, app.conf.result_backend)
    # Celery keeps its result backend once made (per thread, or for all threads): made again from the setting.
    backend = (app._backend_cache, getattr(app._local, "backend", None))
    # override_settings of CACHES closes Django's cache connections (django.test.signals.clear_cache_handlers).
    with override_settings(REDIS_URL=url, CACHES={"default": cache}, CELERY_BROKER_URL=url, CELERY_RESULT_BACKEND=url):
        app.conf.broker_url = app.conf.result_backend = url
        _pools_drop(app)
        app._backend_cache = app._local.backend = None
        try:
            yield url
        finally:
            app.conf.broker_url, app.conf.result_backend = before
            _pools_drop(app)
            app._backend_cache, app._local.backend = backend


def _pools_drop(app: Any) -> None:
    """Forget Celery's connection pool and the producer pool made from it (as Celery does in a forked worker):
    ``app.close()`` forgets only the first, and a producer kept from an earlier test still holds a connection to
    the real Redis, through which a task would be sent after all."""
    app._pool = None
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


@contextmanager
def postgres_unreachable() -> Iterator[None]:
    """PostgreSQL down: every database alias is pointed at a closed port and its open connection closed, so
    that the next query connects again — and is refused. Restored (and reconnected on first use) afterwards.

    Only for tests that hold no transaction open across it (``django_db(transaction=True)``): the test's own
    connection is closed here."""
    saved: dict[str, dict[str, Any]] = {}
    port = str(closed_port())
    for connection in connections.all():
        saved[connection.alias] = {"HOST": connection.settings_dict["HOST"], "PORT": connection.settings_dict["PORT"]}
        connection.close()
        connection.settings_dict["HOST"] = "127.0.0.1"
        connection.settings_dict["PORT"] = port
    try:
        yield
    finally:
        for connection in connections.all():
            connection.close()
            connection.settings_dict.update(saved.get(connection.alias, {}))
