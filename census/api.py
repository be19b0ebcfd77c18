"""API plumbing shared by every app: the exception handler and pagination."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from census.limits import PayloadTooLarge, too_large_response


class ApplicationError(Exception):
    """A domain rule refused the request. ``code`` is stable; ``message`` is for people."""

    status_code: int = status.HTTP_400_BAD_REQUEST

    def __init__(self, message: str, *, code: str = "invalid", extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.extra = extra or {}


class ConflictError(ApplicationError):
    """The client's copy is stale (optimistic locking) or the action clashes with the current state."""

    status_code = status.HTTP_409_CONFLICT


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Map service-layer exceptions to HTTP: services never raise DRF exceptions themselves."""
    if isinstance(exc, ApplicationError):
        # A refused request changes nothing: roll back whatever the view wrote before the refusal.
        set_rollback()
        body: dict[str, Any] = {"detail": exc.message, "code": exc.code, **exc.extra}
        return Response(body, status=exc.status_code)
    if isinstance(exc, RequestDataTooBig | PayloadTooLarge):
        # Django refused to read a body above DATA_UPLOAD_MAX_MEMORY_SIZE (DRF reads JSON through request.body):
        # unanswered, that became a bare English "Bad Request" page. census.limits' parsers refuse the rest.
        set_rollback()
        return too_large_response()
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        set_rollback()
        return Response(
            {"detail": _("The request has too many fields."), "code": "too_many_fields"},
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, DjangoValidationError):
        detail: Any = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail=detail)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    return drf_exception_handler(exc, context)
