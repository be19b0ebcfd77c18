"""The machinery of the bad-input tests (test_bad_input.py): what a readable message is, and the spoiled values
for a form field, an HTML input and an API property."""

from __future__ import annotations

import re

CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN_WORD = re.compile(r"[A-Za-z]{3,}")


def has_chinese(text: str) -> bool:
    return bool(CJK.search(text))


def has_english(text: str) -> bool:
    """English words, the Chinese terms in parentheses (户主姓名) notwithstanding."""
    return bool(LATIN_WORD.search(CJK.sub("", text)))
