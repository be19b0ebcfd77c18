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


# --- API request bodies -----------------------------------------------------------------------------------

Path = tuple[str | int, ...]


def resolve(node: Any, components: dict[str, Any]) -> dict[str, Any]:
    """A schema node with its ``$ref`` followed and a lone ``allOf`` merged (drf-spectacular's enum fields)."""
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 20:
        node = {**components[node["$ref"].rsplit("/", 1)[-1]], **{k: v for k, v in node.items() if k != "$ref"}}
        seen += 1
    if isinstance(node, dict) and "allOf" in node:
        merged = {k: v for k, v in node.items() if k != "allOf"}
        for part in node["allOf"]:
            merged = {**resolve(part, components), **merged}
        return merged
    if isinstance(node, dict) and "oneOf" in node:
        # enum + null (drf-spectacular's nullable choices): the enum is the interesting part
        parts = [resolve(p, components) for p in node["oneOf"]]
        enums = [p for p in parts if "enum" in p and p["enum"] not in ([None], [""])]
        if enums:
            return {**enums[0], **{k: v for k, v in node.items() if k != "oneOf"}}
    return node if isinstance(node, dict) else {}


def spoiled_properties(
    schema: dict[str, Any], components: dict[str, Any], baseline: Any
) -> Iterator[tuple[Path, Spoiled]]:
    """Every property of a request body (nested objects, the first item of arrays), each with the values its
    schema says it must refuse."""

    def walk(node: Any, value: Any, path: Path) -> Iterator[tuple[Path, Spoiled]]:
        node = resolve(node, components)
        if node.get("readOnly"):
            return
        kind = node.get("type")
        if path:
            yield from ((path, s) for s in _spoils(node))
        if kind == "object" or "properties" in node:
            for name, child in (node.get("properties") or {}).items():
                sub = value.get(name) if isinstance(value, dict) else None
                yield from walk(child, sub, (*path, name))
            extra = node.get("additionalProperties")
            if isinstance(extra, dict) and path:
                key = next(iter(value), "key") if isinstance(value, dict) and value else "key"
                yield from walk(extra, value.get(key) if isinstance(value, dict) else None, (*path, key))
        elif kind == "array" and isinstance(value, list) and value:
            yield from walk(node.get("items") or {}, value[0], (*path, 0))

    yield from walk(schema, baseline, ())


def _spoils(node: dict[str, Any]) -> Iterator[Spoiled]:
    kind = node.get("type")
    if "enum" in node:
        values = [v for v in node["enum"] if v not in (None, "")]
        yield Spoiled("unknown code", 987 if values and all(isinstance(v, int) for v in values) else "no-such-code")
        return
    if kind == "integer" or kind == "number":
        yield Spoiled("wrong type", "abc")
        if "maximum" in node:
            yield Spoiled("out of range", node["maximum"] + 1)
        if "minimum" in node:
            yield Spoiled("out of range", node["minimum"] - 1)
    elif kind == "string":
        yield Spoiled("wrong type", {"not": "a string"})
        if node.get("maxLength") is not None and node["maxLength"] < 1_000_000:
            yield Spoiled("oversized", "x" * (node["maxLength"] + 1))
        if node.get("pattern"):
            yield Spoiled("malformed", "12ab!")
        if node.get("format") == "date":
            yield Spoiled("impossible date", "2020-02-30")
    elif kind == "boolean":
        yield Spoiled("wrong type", "maybe")
    elif kind == "object":
        yield Spoiled("wrong type", "not an object")
    elif kind == "array":
        yield Spoiled("wrong type", "not a list")
        if node.get("maxItems") is not None and node["maxItems"] <= 500:
            yield Spoiled("too many", node["maxItems"] + 1)  # copies of the baseline's first item


def with_value(body: Any, path: Path, value: Any) -> Any:
    """A deep copy of ``body`` with ``value`` at ``path`` (missing containers are created)."""
    import copy

    out = copy.deepcopy(body)
    if not path:
        return value
    node = out
    for key in path[:-1]:
        if isinstance(node, list):
            node = node[int(key)]
        else:
            node = node.setdefault(key, {})
    last = path[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return out


def messages_at(body: Any, path: Path) -> list[str]:
    """The messages of an error body at ``path`` (DRF nests them as the request was nested)."""
    node = body
    for key in path:
        if isinstance(node, dict):
            node = node.get(str(key), node.get(key) if not isinstance(key, str) else None)  # type: ignore[call-overload]
        elif isinstance(node, list) and isinstance(key, int) and key < len(node):
            node = node[key]
        else:
            node = None
        if node is None:
            return []
    return list(_strings(node))


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def png_data_url() -> str:
    """A real 1×1 PNG as signature_pad sends it (data:image/png;base64,…)."""
    import base64
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0))
    raw += chunk(b"IDAT", zlib.compress(b"\x00\x00\x00\x00\x00")) + chunk(b"IEND", b"")
    return "data:image/png;base64," + base64.b64encode(raw).decode()
