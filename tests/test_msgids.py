"""The msgids themselves (issue 21, item 11): English, so that the English interface shows English; one meaning each,
with a context where one English word means several things ("No." is a household's number, a sheet's row number and
an inspection finding's number, three words in Chinese); and every string extracted (a word inside an f-string is
not, and showed as "摸底 · yuan")."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import polib
import pytest
from django.core.management import call_command
from django.test import override_settings

ROOT = Path(__file__).resolve().parents[1]
LATIN = re.compile(r"[A-Za-z]")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> polib.POFile:
    """The sources' msgids, extracted afresh (makemessages writes beside what it reads, so it reads a copy)."""
    root = tmp_path_factory.mktemp("sources")
    for name in ("census", "enumeration", "supervision", "templates"):
        shutil.copytree(ROOT / name, root / name, ignore=shutil.ignore_patterns("__pycache__", "migrations"))
    (root / "locale" / "zh_Hans" / "LC_MESSAGES").mkdir(parents=True)
    previous = Path.cwd()
    try:
        import os

        os.chdir(root)
        with override_settings(LOCALE_PATHS=[root / "locale"]):
            call_command("makemessages", locale=["zh_Hans"], verbosity=0)
    finally:
        os.chdir(previous)
    return polib.pofile(str(root / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))


def test_every_msgid_is_english(extracted: polib.POFile) -> None:
    chinese_only = [entry.msgid for entry in extracted if entry.msgid and not LATIN.search(entry.msgid)]
    # A msgid of symbols only ("—", "×") has nothing to translate; one in Chinese shows Chinese in English.
    assert not [msgid for msgid in chinese_only if re.search(r"[\u4e00-\u9fff]", msgid)], chinese_only


def test_a_number_column_says_which_number_it_is(extracted: polib.POFile) -> None:
    numbers = {entry.msgctxt for entry in extracted if entry.msgid == "No."}
    assert None not in numbers, "a bare 'No.': say whose number it is with a context (pgettext)"
    assert len(numbers) >= 3


def test_the_subsidy_sheet_s_headers_are_extracted(extracted: polib.POFile) -> None:
    assert "%(phase)s · yuan" in {entry.msgid for entry in extracted}
