"""Configuration comes from the environment; without DEBUG there is no default secret key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

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


# --- the keys that protect the ledger and the pseudonyms ----------------------------------------------------
# Outside DEBUG each must be set, long and varied enough to be a key, and different from the others: a key
# that is empty, short or shared with SECRET_KEY lets whoever can write the database (or read a session
# cookie's key) recompute the ledger's HMACs or link the pseudonymous microdata back to people.
STRONG = {
    "SECRET_KEY": "Xo2v-session-key-9fQzLr0pW4nY7tB1cM5eK8hJ3gD6aS",
    "SIGNATURE_LEDGER_KEY": "L3dg3r-hmac-key-Zq8Wm2Rt6Yp0Nv4Bx7Cs1Fj5Hk9",
    "CENSUS_PSEUDONYM_KEY": "Ps3ud0-hmac-key-Ua1Ie5Oy9Tq3Lw7Mz2Kx6Gv0Rb4",
}


def _import_settings(env_overrides: dict[str, str], drop: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """Only the settings module (faster than django.setup()): the keys are checked when it is imported."""
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "-c", "import census.settings"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_with_three_strong_keys_it_starts() -> None:
    result = _run_settings({"DEBUG": "False", **STRONG})
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("name", ["SIGNATURE_LEDGER_KEY", "CENSUS_PSEUDONYM_KEY"])
@pytest.mark.parametrize(
    ("value", "says"),
    [
        (None, "is not set"),  # missing
        ("", "is not set"),  # what `${SIGNATURE_LEDGER_KEY:-}` in the old compose file handed over
        ("short-key-0123456789", "must be at least 32 characters long"),
        ("a" * 64, "must have at least 10 different characters"),
    ],
)
def test_without_debug_a_missing_empty_or_weak_key_refuses_to_start_and_says_which(
    name: str, value: str | None, says: str
) -> None:
    env = {"DEBUG": "False", **STRONG}
    if value is None:
        del env[name]
        result = _import_settings(env, drop=(name,))
    else:
        result = _import_settings({**env, name: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"{name} {says}" in result.stderr, result.stderr[-2000:]


@pytest.mark.parametrize(
    ("name", "same_as"),
    [
        ("SIGNATURE_LEDGER_KEY", "SECRET_KEY"),
        ("CENSUS_PSEUDONYM_KEY", "SECRET_KEY"),
        ("CENSUS_PSEUDONYM_KEY", "SIGNATURE_LEDGER_KEY"),
    ],
)
def test_a_key_shared_with_another_is_refused(name: str, same_as: str) -> None:
    result = _import_settings({"DEBUG": "False", **STRONG, name: STRONG[same_as]})
    assert result.returncode != 0
    assert f"{name} must differ from {same_as}" in result.stderr, result.stderr[-2000:]


def test_with_debug_on_a_development_machine_the_keys_may_be_left_out() -> None:
    result = _run_settings(
        {"DEBUG": "True", "SECRET_KEY": STRONG["SECRET_KEY"]}, drop=("SIGNATURE_LEDGER_KEY", "CENSUS_PSEUDONYM_KEY")
    )
    assert result.returncode == 0, result.stderr


def test_the_incremental_runs_page_cost_is_a_number_or_empty_and_nothing_else_starts() -> None:
    """``QUALITY_INCREMENTAL_RANDOM_PAGE_COST``: a malformed value stops the process at start-up, naming the
    variable, instead of failing the first nightly run hours later."""
    bad = _import_settings({"DEBUG": "True", "QUALITY_INCREMENTAL_RANDOM_PAGE_COST": "fast"})
    assert bad.returncode != 0
    assert "QUALITY_INCREMENTAL_RANDOM_PAGE_COST must be a number" in bad.stderr
    for value in ("", "2"):
        assert _import_settings({"DEBUG": "True", "QUALITY_INCREMENTAL_RANDOM_PAGE_COST": value}).returncode == 0


def test_a_command_or_worker_starts_without_the_admin_and_openpyxl_which_the_urls_and_workbooks_load() -> None:
    """Every management command and Celery worker sets Django up; the admin's modules (and django-import-export's,
    which load openpyxl) and openpyxl itself are loaded where they are used — with the URLs, when a workbook is
    written — not by every process as it starts (0.46 s of 1.25 before)."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, django; django.setup()\n"
            "from django.contrib import admin\n"
            "from census.models import StaffMember\n"
            "print('openpyxl' in sys.modules, 'import_export.admin' in sys.modules, admin.site.is_registered(StaffMember))\n"
            "from django.urls import resolve\n"
            "resolve('/admin/')\n"
            "from census.spreadsheets import workbook_new\n"
            "workbook_new()\n"
            "print('openpyxl' in sys.modules, 'import_export.admin' in sys.modules, admin.site.is_registered(StaffMember))",
        ],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "census.settings", "DEBUG": "True"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False", "False", "True", "True", "True"]
