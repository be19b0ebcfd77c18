"""Django's PostgreSQL backend, with a kept-alive connection checked without a query, and the connection's
prepared statements remembered.

``CONN_HEALTH_CHECKS`` makes Django check a kept-alive connection before the first query of each request, so
that a restarted database costs no request; Django's check is a ``SELECT 1`` round trip, one more statement for
every request (a fifth of the statements of a household list read). A server that ends a connection — a
restart, a crash recovery, ``pg_terminate_backend`` — sends its notice and closes the socket, which makes the
socket readable; an idle connection the server still holds has nothing to read. So the socket is looked at
first, and only a connection with something to read gets Django's ``SELECT 1``.

``prepared`` names the statements prepared on the current server connection (``census.db.execute_prepared``);
a new connection starts with none.
"""

from __future__ import annotations

import select
from typing import Any

from django.conf import settings
from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.prepared: set[str] = set()

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        connection = super().get_new_connection(conn_params)
        self.prepared = set()
        return connection

    @property
    def prepares(self) -> bool:
        """Whether statements may be prepared on this connection: not through PgBouncer in transaction mode, where
        the next transaction may run on another server connection that never saw the PREPARE."""
        return not (self.alias == "default" and getattr(settings, "CENSUS_PGBOUNCER", False))

    def is_usable(self) -> bool:
        if self.connection is None or self.connection.closed:
            return False
        poll = select.poll()
        poll.register(self.connection.fileno(), select.POLLIN | select.POLLPRI)
        if poll.poll(0):
            return bool(super().is_usable())
        return True
