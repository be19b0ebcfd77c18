"""API plumbing shared by every app: the exception handler, pagination and reads outside the request's transaction."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.permissions import SAFE_METHODS
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


class ReadsOutsideTransaction:
    """For an API view: a read (GET, HEAD, OPTIONS) runs without the request's transaction; a write keeps it.

    ``ATOMIC_REQUESTS`` wraps every request in a transaction — for a read, a ``BEGIN`` and a ``COMMIT`` around
    statements that each see their own snapshot anyway (PostgreSQL's READ COMMITTED), two more round trips
    for the field worker's most frequent requests. A write still runs in one transaction, the same block
    ``ATOMIC_REQUESTS`` would give it, so DRF still rolls it back when the view raises. A read that writes (the
    audit entry of a view of unmasked personal data) writes one row in its own statement.
    """

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Any:
        return transaction.non_atomic_requests(super().as_view(**initkwargs))  # type: ignore[misc]

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        # Inside a block someone else opened (a test's), a read gets a block of its own as before: DRF marks the
        # innermost block for rollback when a view raises, and that must not be the other's.
        if request.method in SAFE_METHODS and not transaction.get_connection().in_atomic_block:
            return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
        with transaction.atomic():
            return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
