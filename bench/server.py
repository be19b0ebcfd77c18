"""Starting a server under load (gunicorn, on loopback): a free port, and waiting for it to answer. No Django
here: the benchmark runner imports it before any settings exist; the short load run in CI uses it too."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_server(server: subprocess.Popen[bytes], port: int, timeout: float = 60) -> None:
    """Until the server started as ``server`` accepts connections on ``port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the server stopped")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("the server did not start")


def start_gunicorn(*, port: int, workers: int, env: Mapping[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    """The project under gunicorn's sync workers on loopback, as the load rows measure it."""
    gunicorn = Path(sys.executable).parent / "gunicorn"
    return subprocess.Popen(
        [
            str(gunicorn),
            "census.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        cwd=cwd,
        env=dict(env),
    )
