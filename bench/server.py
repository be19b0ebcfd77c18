"""Starting a server under load (gunicorn, on loopback): a free port, and waiting for it to answer. No Django
here: the benchmark runner imports it before any settings exist; the short load run in CI uses it too."""

from __future__ import annotations

import socket
import subprocess
import time


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
