"""The machinery of the bad-input tests (test_bad_input.py): what a readable message is, and the spoiled values
for a form field, an HTML input and an API property."""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile

CJK = re.compile(r"[\u4e00-\u9fff]")
LATIN_WORD = re.compile(r"[A-Za-z]{3,}")


def has_chinese(text: str) -> bool:
    return bool(CJK.search(text))


def has_english(text: str) -> bool:
    """English words, the Chinese terms in parentheses (户主姓名) notwithstanding."""
    return bool(LATIN_WORD.search(CJK.sub("", text)))


# --- form classes ---------------------------------------------------------------------------------------

PACKAGES = ("census.", "enumeration.", "supervision.")


def project_forms() -> list[type[forms.Form]]:
    """Every ``Form`` subclass defined in the project's packages (the URL conf imports them all)."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018  (imports every view module, and with them their forms)
    found: list[type[forms.Form]] = []
    queue: list[type[forms.Form]] = [forms.Form]
    while queue:
        cls = queue.pop()
        for sub in cls.__subclasses__():
            queue.append(sub)
            # By the class or a base: forms built with type() (PersonForm …) carry the metaclass's module.
            ours = any(klass.__module__.startswith(PACKAGES) for klass in sub.__mro__)
            if ours and not sub.__name__.startswith("_") and sub not in found:
                found.append(sub)
    return sorted(found, key=lambda c: f"{c.__module__}.{c.__qualname__}")


def keyword_arguments(cls: type[forms.Form]) -> list[str]:
    """The keyword-only arguments a form's constructor needs (``small_area``, ``user`` …)."""
    names: list[str] = []
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None or klass.__module__.startswith("django."):
            continue
        names.extend(
            parameter.name
            for parameter in inspect.signature(init).parameters.values()
            if parameter.kind is inspect.Parameter.KEYWORD_ONLY and parameter.default is inspect.Parameter.empty
        )
    return list(dict.fromkeys(names))


@dataclass(frozen=True)
class Spoiled:
    kind: str  # unknown code | malformed ID number | out of range | wrong type | oversized | impossible date
    value: Any


ID_FIELD_HINTS = ("id_number",)


def spoiled_values(name: str, field: forms.Field, form: forms.Form) -> Iterator[Spoiled]:
    """Values a field must refuse, by its type: the form's declared rules, not the page's."""
    if isinstance(field, forms.BooleanField | forms.NullBooleanField):
        return
    if isinstance(field, forms.ModelChoiceField):
        yield Spoiled("unknown code", "987654321")
        yield Spoiled("wrong type", "abc")
        return
    if isinstance(field, forms.ChoiceField):
        yield Spoiled("unknown code", "no-such-code")
        if isinstance(field, forms.TypedChoiceField) and field.coerce is int:
            yield Spoiled("unknown code", "77")
        return
    if isinstance(field, forms.IntegerField | forms.DecimalField | forms.FloatField):
        yield Spoiled("wrong type", "abc")
        if field.max_value is not None:
            yield Spoiled("out of range", str(field.max_value + 1))
        if field.min_value is not None:
            yield Spoiled("out of range", str(field.min_value - 1))
        return
    if isinstance(field, forms.DateField):
        yield Spoiled("impossible date", "2020-02-30")
        yield Spoiled("wrong type", "abc")
        return
    if isinstance(field, forms.FileField):
        if hasattr(form, f"clean_{name}"):
            yield Spoiled("wrong type", SimpleUploadedFile("program.exe", b"MZ\x90\x00 not a spreadsheet"))
        return
    if isinstance(field, forms.CharField):
        if any(hint in name for hint in ID_FIELD_HINTS):
            yield Spoiled("malformed ID number", "51152119800512001")  # 17 characters
            yield Spoiled("malformed ID number", "51152119800512001Z")
        if hasattr(form, f"clean_{name}") and not any(hint in name for hint in ID_FIELD_HINTS):
            yield Spoiled("malformed code", "12ab")
        if field.max_length is not None:
            yield Spoiled("oversized", "x" * (field.max_length + 1))


def error_text(messages: list[str]) -> str:
    return " ".join(str(m) for m in messages)
