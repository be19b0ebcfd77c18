"""How large a request body may be: the REST API refuses anything above ``DATA_UPLOAD_MAX_MEMORY_SIZE`` with
413 and a message people can read, in their language.

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
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Mapping
from typing import IO, Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from rest_framework import exceptions, parsers, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.utils import json


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


class JSONParser(SizeLimitMixin, parsers.JSONParser):
    """DRF's JSON parser with the size limit and a translated message for a body that is not JSON."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Mapping[str, Any] | None = None) -> Any:
        stream = self.limited(stream, parser_context)
        encoding = parsers.get_encoding(parser_context or {})  # type: ignore[attr-defined]
        try:
            decoded = codecs.getreader(encoding)(stream)
            parse_constant = json.strict_constant if api_settings.STRICT_JSON else None
            return json.load(decoded, parse_constant=parse_constant)  # type: ignore[arg-type]
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


def _wants_json(request: HttpRequest) -> bool:
    return (
        request.path.startswith("/api/")
        or (request.content_type or "").endswith("json")
        or "application/json" in request.headers.get("Accept", "")
    )


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
            if _wants_json(request):
                response: HttpResponse = JsonResponse(
                    {"detail": message, "code": PayloadTooLarge.default_code}, status=413
                )
            else:
                response = HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
            # The body was never read: the connection must not be reused for a next request.
            response["Connection"] = "close"
            return response
        return self.get_response(request)
