"""What a request may carry: how large its body may be, how deep its JSON, and no NUL characters.

How large: the REST API refuses anything above ``DATA_UPLOAD_MAX_MEMORY_SIZE`` with 413 and a message people can
read, in their language.

Django already refuses to read an oversized body (``RequestDataTooBig``), but it says so with a bare
"Bad Request (400)" page in English, and Django REST framework passes the exception on instead of answering
it. Here:

* the parsers of the API (``REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]``) check the declared ``Content-Length``
  before reading, and count the bytes they read, so that a body whose length was not declared (or was
  understated) is cut off at the limit too;
* :func:`too_large_response` is what ``census.api.exception_handler`` answers when Django itself refused
  first (DRF reads JSON and form bodies through ``request.body``);
* :class:`RequestSizeLimitMiddleware` answers the same for pages: a form or autosave body above the limit is
  refused before anything reads it. Multipart bodies pass: their files are limited by the views that take them
  (evidence files have their own limit) and Django counts only their non-file fields against the setting.

How deep: :func:`json_loads` (the API's parser and the form page's autosave) refuses JSON nested deeper than
``JSON_MAX_DEPTH`` before parsing it. Python's parser recurses once per level, and ``[`` × 100,000 — 100 KB, under
every size limit — ended in a ``RecursionError`` and a server error.

No NUL: PostgreSQL stores no NUL character (``\\x00``) in text or JSON, so a NUL anywhere in a query string, a
form field or a JSON key or value ended in a database error (a server error) wherever it reached a query.
:class:`NulCharacterMiddleware` refuses such a request with 400 and a message before any view reads it.
"""

from __future__ import annotations

import codecs
import json as stdlib_json
import re
from collections.abc import Callable, Mapping
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions, parsers, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.utils import json

from census.errors import error_response, wants_json

# The deepest JSON the system reads. Its bodies are at most three levels deep (a submission: the body, its list of
# persons, a person); the margin is for clients, not for any form.
JSON_MAX_DEPTH = 20


def body_limit() -> int | None:
    """The largest body accepted, in bytes (``None``: no limit, as Django reads the setting)."""
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def too_large_message(limit: int | None = None) -> str:
    limit = (body_limit() if limit is None else limit) or 0
    size = f"{limit / (1024 * 1024):.0f} MB" if limit >= 1024 * 1024 else f"{limit // 1024} KB"
    return _("The request is too large: at most %(size)s may be sent at once.") % {"size": size}


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"

    def __init__(self) -> None:
        super().__init__(detail=too_large_message(), code=self.default_code)


def declared_length(meta: dict[str, Any]) -> int:
    try:
        return int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


class LimitedReader:
    """A read-only view of a stream that raises ``PayloadTooLarge`` once more than ``limit`` bytes came out."""

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        self.stream = stream
        self.limit = limit
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        # Never ask for more than one byte past the limit: an endless body is not read into memory.
        allowed = self.limit + 1 - self.count
        chunk = self.stream.read(allowed if size is None or size < 0 else min(size, allowed))
        self.count += len(chunk)
        if self.count > self.limit:
            raise PayloadTooLarge()
        return chunk

    def readline(self, size: int = -1) -> bytes:
        allowed = self.limit + 1 - self.count
        line = self.stream.readline(allowed if size is None or size < 0 else min(size, allowed))
        self.count += len(line)
        if self.count > self.limit:
            raise PayloadTooLarge()
        return line

    def __iter__(self) -> Any:
        return iter(self.readline, b"")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


class SizeLimitMixin:
    """Refuse a body above the limit: by its declared length before reading, by the bytes read while parsing."""

    def limited(self, stream: IO[bytes] | None, parser_context: Mapping[str, Any] | None) -> Any:
        limit = body_limit()
        if limit is None or stream is None:
            return stream
        request = (parser_context or {}).get("request")
        if request is not None and declared_length(request.META) > limit:
            raise PayloadTooLarge()
        return LimitedReader(stream, limit)


# --- how deep ---------------------------------------------------------------------------------------------


class JSONTooDeep(ValueError):
    """JSON nested deeper than ``JSON_MAX_DEPTH``: refused before it is parsed."""

    def __init__(self) -> None:
        super().__init__(too_deep_message())


def too_deep_message() -> str:
    return _("The request is nested too deeply: at most %(depth)d levels of lists and objects are read.") % {
        "depth": JSON_MAX_DEPTH
    }


# A JSON text (skipped whole, brackets inside it included), an opening bracket (group 1), or a closing one.
_JSON_TOKEN = re.compile(r'"(?:[^"\\]++|\\.)*+"|([\[{])|[\]}]')


def json_depth_exceeds(text: str, limit: int = JSON_MAX_DEPTH) -> bool:
    """Is ``text`` nested deeper than ``limit``? Counted without recursion, in one pass over its brackets."""
    # A body cannot nest deeper than it has opening brackets: most bodies are decided by two counts in C.
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    for token in _JSON_TOKEN.finditer(text):
        if token.group(1) is not None:
            depth += 1
            if depth > limit:
                return True
        elif len(token.group()) == 1:
            depth -= 1
    return False


def json_loads(text: str | bytes, **options: Any) -> Any:
    """``json.loads`` that refuses JSON nested deeper than ``JSON_MAX_DEPTH`` with :class:`JSONTooDeep` instead
    of recursing into it. Bytes are UTF-8 (RFC 8259); a body that is not raises ``UnicodeDecodeError``."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    if json_depth_exceeds(text):
        raise JSONTooDeep()
    return stdlib_json.loads(text, **options)


class JSONParser(SizeLimitMixin, parsers.JSONParser):
    """DRF's JSON parser with the size limit, the depth limit and a translated message for a body that is not
    JSON."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        stream = self.limited(stream, parser_context)
        encoding = parsers.get_encoding(parser_context or {})  # type: ignore[attr-defined]
        try:
            text = codecs.getreader(encoding)(stream).read() if stream is not None else ""
            parse_constant = json.strict_constant if api_settings.STRICT_JSON else None
            return json_loads(text, parse_constant=parse_constant)
        except JSONTooDeep as exc:
            raise exceptions.ParseError(str(exc), code="too_deep") from exc
        except (ValueError, UnicodeDecodeError) as exc:
            raise exceptions.ParseError(
                _("The request body is not valid JSON (%(error)s).") % {"error": exc}, code="parse_error"
            ) from exc


class FormParser(SizeLimitMixin, parsers.FormParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        return super().parse(self.limited(stream, parser_context), media_type, parser_context)


class MultiPartParser(SizeLimitMixin, parsers.MultiPartParser):
    """The API takes no files: a multipart body is held to the same limit as any other."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        self.limited(stream, parser_context)  # the declared length; Django's parser counts the fields itself
        return super().parse(stream, media_type, parser_context)


def too_large_response() -> Response:
    return Response(
        {"detail": too_large_message(), "code": PayloadTooLarge.default_code},
        status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    )


# --- pages ------------------------------------------------------------------------------------------------


class RequestSizeLimitMiddleware:
    """Refuse a non-multipart body whose declared length is above the limit, with 413 and a translated
    message (JSON for the API and for scripts, text for pages), before anything tries to read it.

    Placed after LocaleMiddleware (the message is in the reader's language) and before CsrfViewMiddleware
    (which would read a form body to find its token)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = body_limit()
        if (
            limit is not None
            and declared_length(request.META) > limit
            and not (request.content_type or "").startswith("multipart/")
        ):
            message = too_large_message(limit)
            if wants_json(request):
                response: HttpResponse = JsonResponse(
                    {"detail": message, "code": PayloadTooLarge.default_code}, status=413
                )
            else:
                response = HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
            # The body was never read: the connection must not be reused for a next request.
            response["Connection"] = "close"
            return response
        return self.get_response(request)


# --- no NUL -----------------------------------------------------------------------------------------------

# A NUL in JSON text is the escape \u0000 after an even number of other backslashes (\\u0000 is a backslash
# followed by the text "u0000").
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def nul_message() -> str:
    return _(
        "The request contains a NUL character (\\0), which cannot be stored. Remove it (it often comes from "
        "copying text out of another program) and send the request again."
    )


def carries_nul(request: HttpRequest) -> bool:
    """Does the request carry a NUL character in its path, its query string or its body's fields (a form's
    fields, a JSON key or value)? Files are not looked at: they are bytes, not text."""
    query = request.META.get("QUERY_STRING", "")
    if "%00" in query or "\x00" in query or "\x00" in request.path_info:
        return True
    if request.method not in ("POST", "PUT", "PATCH", "DELETE"):
        return False
    content_type = request.content_type or ""
    try:
        if content_type.endswith("json"):
            # A NUL in a JSON text is always escaped (a bare one is not JSON): a substring test settles almost
            # every body, the exact pattern the rest.
            body = request.body
            return b"\\u0000" in body and _JSON_NUL.search(body) is not None
        if content_type == "application/x-www-form-urlencoded":
            body = request.body
            return b"%00" in body or b"\x00" in body
    except RequestDataTooBig:
        return False  # refused as too large by whoever reads it next (the API's parser answers 413)
    if content_type.startswith("multipart/") and not request.path.startswith("/api/"):
        # Parsed here rather than by the CSRF check a moment later; the API's parser refuses its own (DRF's text
        # fields refuse NUL) and keeps its size limit.
        return any("\x00" in key or any("\x00" in value for value in values) for key, values in request.POST.lists())
    return False


class NulCharacterMiddleware:
    """Refuse a request that carries a NUL character (:func:`carries_nul`) with 400 and a message in the
    reader's language: JSON for the API and for scripts, the site's error page otherwise.

    Placed after ``RequestSizeLimitMiddleware`` (an oversized body is refused before this reads it) and before
    ``CsrfViewMiddleware``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if carries_nul(request):
            return error_response(
                request, status=400, title=_("The request was refused"), message=nul_message(), code="nul_character"
            )
        return self.get_response(request)
