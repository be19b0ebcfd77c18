"""Chinese first: every user-visible string of the code and templates has a zh_Hans translation."""

from __future__ import annotations

import shutil
from pathlib import Path

import polib
import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import translation

ROOT = Path(__file__).resolve().parents[1]
PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def _untranslated(path: Path) -> list[str]:
    catalogue = polib.pofile(str(path))
    missing = []
    for entry in catalogue:
        if entry.obsolete:
            continue
        translated = all(entry.msgstr_plural.values()) if entry.msgid_plural else bool(entry.msgstr)
        if not translated or "fuzzy" in entry.flags:
            missing.append(entry.msgid)
    return missing


def test_the_committed_catalogue_is_complete() -> None:
    assert _untranslated(PO) == []


@pytest.mark.slow
def test_every_string_in_the_sources_is_in_the_catalogue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Extract the strings afresh into a copy of the catalogue: anything new and untranslated fails."""
    # makemessages writes next to the sources it reads, so it runs on a copy of them.
    for name in ("census", "enumeration", "supervision", "templates"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__", "migrations"))
    target = tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES"
    target.mkdir(parents=True)
    shutil.copy(PO, target / "django.po")
    monkeypatch.chdir(tmp_path)
    with override_settings(LOCALE_PATHS=[tmp_path / "locale"]):
        call_command("makemessages", locale=["zh_Hans"], no_obsolete=True, verbosity=0)
    assert _untranslated(target / "django.po") == [], "run `make messages` and translate the new strings"


def test_the_compiled_catalogue_matches_the_source() -> None:
    # Keyed by context and msgid: "No." is three entries, told apart by their contexts (pgettext).
    compiled = polib.mofile(str(PO.with_suffix(".mo")))
    source = {
        (entry.msgctxt, entry.msgid): entry.msgstr
        for entry in polib.pofile(str(PO))
        if not entry.obsolete and not entry.msgid_plural
    }
    assert {
        (entry.msgctxt, entry.msgid): entry.msgstr for entry in compiled if not entry.msgid_plural and entry.msgid
    } == {k: v for k, v in source.items() if k[1]}


def test_django_serves_the_chinese_translation() -> None:
    with translation.override("zh-hans"):
        assert translation.gettext("Log in") == "登录"
    with translation.override("en"):
        assert translation.gettext("Log in") == "Log in"
