"""The machinery of the bad-input tests (test_bad_input.py): what a readable message is, and the spoiled values
for a form field, an HTML input and an API property."""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
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

# A NUL character (%00 in a URL or a form, \u0000 in JSON): PostgreSQL stores no NUL in text or JSON.
NUL = "\x00"
# 2⁷⁰: above every integer PostgreSQL stores (bigint is 2⁶³ − 1).
ABSURD_INTEGER = 2**70
# A page number whose offset is beyond bigint (the probe's).
ABSURD_PAGE = "462599420882135936"


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
        elif kind == "integer":
            # No declared maximum: still no number above what PostgreSQL stores (bigint) may reach the database.
            yield Spoiled("out of range", ABSURD_INTEGER)
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


# --- forms on pages ---------------------------------------------------------------------------------------


@dataclass
class Input:
    name: str
    tag: str  # input | select | textarea
    type: str
    value: str
    attrs: dict[str, str]
    options: list[str]


@dataclass
class PageForm:
    action: str
    inputs: list[Input]
    multipart: bool


class _FormFinder(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[PageForm] = []
        self._form: PageForm | None = None
        self._select: Input | None = None
        self._option_value: str | None = None
        self._textarea: Input | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            if a.get("method", "get").lower() == "post":
                action = a.get("action") or self.page
                self._form = PageForm(action, [], "multipart" in a.get("enctype", ""))
            return
        if self._form is None:
            return
        if tag == "input" and a.get("name"):
            self._form.inputs.append(
                Input(a["name"], "input", a.get("type", "text").lower(), a.get("value", ""), a, [])
            )
            if a.get("type", "").lower() in ("checkbox", "radio") and "checked" not in a:
                self._form.inputs[-1].value = ""
        elif tag == "select" and a.get("name"):
            self._select = Input(a["name"], "select", "select", "", a, [])
            self._form.inputs.append(self._select)
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            self._select.options.append(value)
            if "selected" in a or (not self._select.value and value):
                self._select.value = value
        elif tag == "textarea" and a.get("name"):
            self._textarea = Input(a["name"], "textarea", "textarea", "", a, [])
            self._form.inputs.append(self._textarea)

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea.value += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def post_forms(html: str, page: str) -> list[PageForm]:
    finder = _FormFinder(page)
    finder.feed(html)
    return finder.forms


SKIPPED_INPUTS = {"csrfmiddlewaretoken", "next"}


def plausible(item: Input, password: str) -> str | None:
    """What a person would fill in where the page left an input empty (None: leave it out)."""
    if item.type in ("checkbox", "radio"):
        return item.value or None
    if item.type == "file" or item.type == "submit":
        return None
    if item.value:
        return item.value
    if item.type == "password":
        return password
    if item.type == "date":
        return "2020-10-15"
    if item.type == "month":
        return "2020-10"
    if item.type == "number" or item.attrs.get("inputmode") == "numeric":
        return item.attrs.get("min") or "1"
    if item.tag == "select":
        return next((o for o in item.options if o), "")
    return "测试"


def spoiled_inputs(item: Input) -> Iterator[Spoiled]:
    """Values an input must refuse, read from the page: its options, bounds, length and type — and a NUL
    character in every one of them, hidden inputs too (a script or a hand-made request sends what it likes)."""
    if item.name in SKIPPED_INPUTS or item.type in ("checkbox", "radio", "file", "submit", "password", "button"):
        return
    yield Spoiled("NUL character", f"测试{NUL}")
    if item.type == "hidden":
        if item.name == "version":
            yield Spoiled("wrong type", "abc")
        return
    if item.tag == "select":
        yield Spoiled("unknown code", "no-such-code")
        return
    if any(hint in item.name for hint in ID_FIELD_HINTS):
        yield Spoiled("malformed ID number", "51152119800512001Z")
    numeric = item.type == "number" or item.attrs.get("inputmode") == "numeric"
    if numeric:
        yield Spoiled("wrong type", "abc")
        for bound, step in (("max", 1), ("min", -1)):
            if item.attrs.get(bound, "").lstrip("-").isdigit():
                yield Spoiled("out of range", str(int(item.attrs[bound]) + step))
    if item.type == "date":
        yield Spoiled("impossible date", "2020-02-30")
    if item.type == "month":
        yield Spoiled("impossible date", "2020-13")
    if item.attrs.get("maxlength", "").isdigit():
        yield Spoiled("oversized", "x" * (int(item.attrs["maxlength"]) + 1))


class _ErrorFinder(HTMLParser):
    """The text of a page's error messages: field errors, error boxes, error messages, alerts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.stack: list[bool] = []
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        classes = set(a.get("class", "").split())
        is_error = bool(classes & {"errorlist", "error-box"}) or ("message" in classes and "error" in classes)
        is_error = is_error or a.get("role") == "alert"
        if tag in ("input", "br", "img", "meta", "link", "hr"):
            return
        self.stack.append(is_error)
        self.depth += is_error

    def handle_endtag(self, tag: str) -> None:
        if self.stack and tag not in ("input", "br", "img", "meta", "link", "hr"):
            self.depth -= self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.depth > 0 and data.strip():
            self.texts.append(data.strip())


def error_messages_of(html: str) -> str:
    finder = _ErrorFinder()
    finder.feed(html)
    return " ".join(finder.texts)


# --- queries and JSON bodies: NUL characters, absurd numbers, deep nesting --------------------------------


def query_names(html: str) -> list[str]:
    """The query parameters a page reads: its search, sort and page, and every input of its GET forms."""
    from tests.security.xss import get_form_fields

    return list(dict.fromkeys(["q", "sort", "page", *get_form_fields(html)]))


def api_query_parameters(schema: dict[str, Any], path: str) -> dict[str, dict[str, Any]]:
    """The documented query parameters (name → schema) of the GET operation that serves ``path``; literal
    paths before templated ones (``/api/households/submit/`` is not ``/api/households/{id}/``)."""
    templates = sorted(schema.get("paths", {}), key=lambda t: (t.count("{"), t))
    for template in templates:
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        operation = schema["paths"][template].get("get")
        if operation is not None and re.fullmatch(pattern, path):
            return {p["name"]: p.get("schema", {}) for p in operation.get("parameters", []) if p.get("in") == "query"}
    return {}


def nul_places(schema: dict[str, Any], components: dict[str, Any], body: Any) -> Iterator[tuple[Path, str]]:
    """Where a NUL character can go in a request body: every text (each string property of the schema and each
    string of the baseline body) and a new key in every object (``warning_notes`` takes any key)."""

    def from_schema(node: Any, value: Any, path: Path) -> Iterator[tuple[Path, str]]:
        node = resolve(node, components)
        if node.get("readOnly"):
            return
        kind = node.get("type")
        if kind == "string":
            yield path, "text"
        if kind == "object" or "properties" in node:
            yield path, "key"
            for name, child in (node.get("properties") or {}).items():
                yield from from_schema(child, value.get(name) if isinstance(value, dict) else None, (*path, name))
            extra = node.get("additionalProperties")
            if isinstance(extra, dict) and isinstance(value, dict) and value:
                key = next(iter(value))
                yield from from_schema(extra, value[key], (*path, key))
        elif kind == "array" and isinstance(value, list) and value:
            yield from from_schema(node.get("items") or {}, value[0], (*path, 0))

    def from_body(value: Any, path: Path) -> Iterator[tuple[Path, str]]:
        if isinstance(value, dict):
            yield path, "key"
            for key, item in value.items():
                yield from from_body(item, (*path, key))
        elif isinstance(value, list) and value:
            yield from from_body(value[0], (*path, 0))
        elif isinstance(value, str):
            yield path, "text"

    seen: set[tuple[Path, str]] = set()
    for place in (*from_schema(schema, body, ()), *from_body(body, ())):
        if place not in seen:
            seen.add(place)
            yield place


def with_nul(body: Any, path: Path, kind: str) -> Any:
    """``body`` with a NUL in the text at ``path``, or in a new key of the object at ``path``."""
    if kind == "key":
        return with_value(body, (*path, f"键{NUL}"), "说明")
    return with_value(body, path, f"测试{NUL}")


def nested(depth: int) -> str:
    """JSON nested ``depth`` arrays deep (``[[[…]]]``), as text: the JSON encoder itself would recurse."""
    return "[" * depth + "]" * depth
