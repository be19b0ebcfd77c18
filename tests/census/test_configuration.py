"""Configuration comes from the environment; without DEBUG there is no default secret key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run_settings(env_overrides: dict[str, str], drop: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(env_overrides)
    env["DJANGO_SETTINGS_MODULE"] = "census.settings"
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; print(settings.LANGUAGE_CODE, settings.TIME_ZONE)",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_without_debug_and_without_a_secret_key_the_process_refuses_to_start_and_says_why() -> None:
    result = _run_settings({"DEBUG": "False"}, drop=("SECRET_KEY",))
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_with_a_secret_key_it_starts_chinese_first_in_shanghai_time() -> None:
    result = _run_settings({"DEBUG": "False", "SECRET_KEY": "k" * 50})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["zh-hans", "Asia/Shanghai"]


def test_a_non_postgres_database_url_is_refused() -> None:
    result = _run_settings({"DEBUG": "True", "DATABASE_URL": "sqlite:///tmp/x.db"})
    assert result.returncode != 0
    assert "PostgreSQL only" in result.stderr
