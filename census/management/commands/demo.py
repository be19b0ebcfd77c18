"""python manage.py demo — the whole system on this machine: web, Celery worker and beat.

Migrates, loads a synthetic district once (running it again does not duplicate anything), starts gunicorn,
a worker and beat as child processes, prints the address and one login per role, and on Ctrl-C stops all
of them — and the embedded PostgreSQL and Redis, when it was the one that needed them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

DEMO_LOGINS = [
    ("enumerator", "普查员 enumerator"),
    ("supervisor", "普查指导员 supervisor"),
    ("township", "乡镇普查办 township office"),
    ("district", "区普查办 district office"),
    ("department", "部门 department (经科局)"),
    ("auditor", "审计 auditor"),
]


class Command(BaseCommand):
    help = "Run the demo system (web + Celery worker + beat) with a synthetic district."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--persons", type=int, default=int(os.environ.get("DEMO_PERSONS", "20000")))
        parser.add_argument("--port", type=int, default=int(os.environ.get("DEMO_PORT", "8000")))
        parser.add_argument("--host", default=os.environ.get("DEMO_HOST", "127.0.0.1"))
        parser.add_argument("--no-serve", action="store_true", help="prepare the data and exit")

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write("migrating …")
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write(f"loading the synthetic district (≈{options['persons']:,} persons) if it is not there yet …")
        call_command("seed_district", persons=options["persons"], if_empty=True, stdout=self.stdout)
        for extra in getattr(settings, "CENSUS_DEMO_EXTRA_COMMANDS", []):
            call_command(extra, if_empty=True, stdout=self.stdout)
        call_command("collectstatic", interactive=False, verbosity=0)
        if options["no_serve"]:
            return
        self._serve(options["host"], options["port"])

    def _serve(self, host: str, port: int) -> None:
        self.own_database_url = bool(os.environ.get("DATABASE_URL"))
        self.own_redis_url = bool(os.environ.get("REDIS_URL"))
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "census.settings"}
        # Without DATABASE_URL the children find the same embedded PostgreSQL through census/embedded.py.
        env["REDIS_URL"] = settings.REDIS_URL
        python = sys.executable
        bindir = os.path.dirname(python)
        commands = {
            "web": [
                os.path.join(bindir, "gunicorn"),
                "census.wsgi:application",
                "--bind",
                f"{host}:{port}",
                "--workers",
                "3",
                "--threads",
                "2",
                "--access-logfile",
                "-",
                "--log-level",
                "warning",
            ],
            "worker": [python, "-m", "celery", "-A", "census", "worker", "--loglevel", "WARNING", "--concurrency", "2"],
            "beat": [
                python,
                "-m",
                "celery",
                "-A",
                "census",
                "beat",
                "--loglevel",
                "WARNING",
                "--schedule",
                str(settings.CELERY_BEAT_SCHEDULE_FILENAME),
            ],
        }
        children = {name: subprocess.Popen(command, env=env) for name, command in commands.items()}
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"The census system is running at http://{host}:{port}/"))
        self.stdout.write(f"Demo logins (password for all: {settings.CENSUS_DEMO_PASSWORD}):")
        for username, role in DEMO_LOGINS:
            self.stdout.write(f"  {username:<12} {role}")
        self.stdout.write("Press Ctrl-C to stop everything.")

        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                for name, child in children.items():
                    if child.poll() is not None:
                        self.stderr.write(f"{name} exited with status {child.returncode}; stopping the demo")
                        stopping = True
                time.sleep(0.5)
        finally:
            self.stdout.write("stopping …")
            for child in children.values():
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 15
            for child in children.values():
                try:
                    child.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.kill()
            from census.embedded import stop as stop_embedded

            stop_embedded(postgres=not self.own_database_url, redis=not self.own_redis_url)
            self.stdout.write("stopped.")
