"""Who used the CPU during a load run: user + system seconds per kind of process (gunicorn, PostgreSQL, locust,
Redis) over a window, read from ``/proc`` once a second. Start it beside the load run:

    python bench/cpu_by_process.py 30 --after 15 & python bench/run.py --reuse --only load_locust

prints each kind's CPU seconds and its share of one core over the window (200 % = both cores of this machine).
"""

from __future__ import annotations

import argparse
import collections
import os
import time
from pathlib import Path

KINDS = ("gunicorn", "locust", "postgres", "redis")


def snapshot() -> dict[str, tuple[str, float]]:
    """pid → (kind, CPU seconds so far)."""
    tick = os.sysconf("SC_CLK_TCK")
    seen: dict[str, tuple[str, float]] = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        kind = next((name for name in KINDS if name in command), "other")
        seen[pid] = (kind, (int(fields[11]) + int(fields[12])) / tick)
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("seconds", type=float)
    parser.add_argument("--after", type=float, default=0, help="wait this long before the window opens")
    args = parser.parse_args()
    time.sleep(args.after)
    first, last = snapshot(), {}
    started = time.monotonic()
    while time.monotonic() - started < args.seconds:
        time.sleep(1)
        last.update(snapshot())  # a process that ended keeps its last reading
    window = time.monotonic() - started
    used: collections.Counter[str] = collections.Counter()
    for pid, (kind, seconds) in last.items():
        used[kind] += seconds - first[pid][1] if pid in first else seconds
    print(f"window {window:.0f} s")
    for kind, seconds in used.most_common():
        print(f"{kind:10} {seconds:7.1f} s  {100 * seconds / window:5.0f} % of one core")


if __name__ == "__main__":
    main()
