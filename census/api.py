"""API plumbing shared by every app: the exception handler, pagination and reads outside the request's
transaction."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import Page
from django.db import transaction
from django.db.models import Count, Window
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from census.db import BIGINT_MAX
from census.errors import RETRY_AFTER_SECONDS
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


class ServiceUnavailable(ApplicationError):
    """A service the request needs cannot be reached for now (the task queue, the signing-password counter):
    nothing was done, and the same request may be sent again later. Answered with 503 and ``Retry-After``."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Map service-layer exceptions to HTTP: services never raise DRF exceptions themselves."""
    if isinstance(exc, ApplicationError):
        # A refused request changes nothing: roll back whatever the view wrote before the refusal.
        set_rollback()
        body: dict[str, Any] = {"detail": exc.message, "code": exc.code, **exc.extra}
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if isinstance(exc, ServiceUnavailable) else None
        return Response(body, status=exc.status_code, headers=headers)
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


class CountedPagination(PageNumberPagination):
    """Page-number pagination that learns the number of rows with the page: ``COUNT(*) OVER ()`` on the page's
    own statement, instead of a ``COUNT`` statement before it — one statement for a list a field device asks
    for on every screen. A page past the end, or asked for by name ("last"), is left to DRF's pagination; a
    page whose first row would lie beyond what PostgreSQL can count (an ``OFFSET`` above bigint) is 404 at once."""

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> list[Any] | None:
        page_size = self.get_page_size(request)
        asked = request.query_params.get(self.page_query_param) or "1"
        # ASCII digits only: "²".isdigit() is true and int("²") an error.
        if not page_size or not (asked.isascii() and asked.isdigit()) or int(asked) < 1:
            return super().paginate_queryset(queryset, request, view)
        number = int(asked)
        start = (number - 1) * page_size
        if start > BIGINT_MAX - page_size:
            raise exceptions.NotFound(self.invalid_page_message)
        rows = list(queryset.annotate(census_total=Window(Count("*")))[start : start + page_size])
        if not rows and number > 1:
            return super().paginate_queryset(queryset, request, view)
        total = 0
        for row in rows:
            total = row.pop("census_total") if isinstance(row, dict) else row.__dict__.pop("census_total")
        self.request = request
        paginator = self.django_paginator_class(queryset, page_size)
        paginator.__dict__["count"] = total  # Paginator.count is a cached property: the count is known
        self.page = Page(rows, number, paginator)
        if paginator.num_pages > 1 and self.template is not None:
            self.display_page_controls = True
        return rows
