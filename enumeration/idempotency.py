"""The ``Idempotency-Key`` header for API writes (see ``enumeration.models.api``)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from census.db import execute_prepared
from census.permissions import staff_of
from enumeration.models import IdempotencyRecord

HEADER = "HTTP_IDEMPOTENCY_KEY"


def request_fingerprint(*, method: str, path: str, data: Any) -> str:
    """What a retry must repeat to be the same request: method, path and body (keys sorted)."""
    body = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(f"{method} {path}\n{body}".encode()).hexdigest()


def _claim(*, user_id: int, key: str, method: str, path: str, fingerprint: str) -> int | None:
    """Claim the key: the new record's id, or ``None`` when the user's key is taken.

    One statement: ON CONFLICT DO NOTHING waits for a concurrent claim of the same key until it commits (then
    the key is taken) or rolls back (then this one claims it) — what catching the unique violation inside a
    savepoint did, in three round trips.
    """
    table = IdempotencyRecord._meta.db_table
    with connection.cursor() as cursor:
        execute_prepared(
            cursor,
            f"INSERT INTO {table} (user_id, key, method, path, request_hash, created_at) "
            "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (user_id, key) DO NOTHING RETURNING id",
            [user_id, key, method, path[:300], fingerprint, timezone.now()],
        )
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def _settle(*, record_id: int, status_code: int, body: str) -> None:
    """Store the response of the claimed request: one statement written once (every API write ends here)."""
    with connection.cursor() as cursor:
        execute_prepared(
            cursor,
            f"UPDATE {IdempotencyRecord._meta.db_table} SET status_code = %s, response_body = %s::jsonb WHERE id = %s",
            [status_code, body, record_id],
        )


def idempotent(method: Callable[..., Response]) -> Callable[..., Response]:
    """Decorate an APIView's ``post``: with an ``Idempotency-Key`` header, the first response is stored and
    replayed for every retry; without the header the request runs as usual."""

    @wraps(method)
    def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.META.get(HEADER, "").strip()
        if not key:
            return method(view, request, *args, **kwargs)
        if len(key) > 100:
            return Response(
                {"detail": _("The Idempotency-Key is longer than 100 characters."), "code": "bad_idempotency_key"},
                status=status.HTTP_400_BAD_REQUEST,
            )
        fingerprint = request_fingerprint(method=request.method or "", path=request.path, data=request.data)
        user = staff_of(request)
        record_id = _claim(
            user_id=user.pk, key=key, method=request.method or "", path=request.path, fingerprint=fingerprint
        )
        if record_id is None:
            previous = IdempotencyRecord.objects.get(user=user, key=key)
            if previous.request_hash != fingerprint:
                return Response(
                    {
                        "detail": _("This Idempotency-Key was used for a different request."),
                        "code": "idempotency_key_reused",
                    },
                    status=status.HTTP_422_UNPROCESSABLE_ENTITY,
                )
            if previous.status_code is None:
                return Response(
                    {"detail": _("The first request with this key is still running."), "code": "in_progress"},
                    status=status.HTTP_409_CONFLICT,
                )
            response = Response(previous.response_body, status=previous.status_code)
            response["Idempotent-Replayed"] = "true"
            return response
        response = method(view, request, *args, **kwargs)
        if response.status_code < 500:
            # Stored as the client saw it (DRF's encoding of dates and decimals), so a replay is identical.
            _settle(
                record_id=record_id, status_code=response.status_code, body=json.dumps(response.data, cls=JSONEncoder)
            )
        else:
            IdempotencyRecord.objects.filter(pk=record_id).delete()
        return response

    return wrapper


def idempotent_json(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """``idempotent`` for a plain Django view that answers JSON (the form's autosave): with an ``Idempotency-Key``
    header the first answer is stored and replayed for every retry of the same body.

    The phone's outbox (static/js/offline.js) sends each version of a record once under its own key; when the
    answer is lost (the page closed, the signal dropped), the retry gets the same answer instead of a 409 for a
    version the first request already moved on.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        key = request.META.get(HEADER, "").strip()
        if not key:
            return view(request, *args, **kwargs)
        if len(key) > 100:
            return JsonResponse(
                {
                    "ok": False,
                    "code": "bad_idempotency_key",
                    "message": _("The Idempotency-Key is longer than 100 characters."),
                },
                status=400,
            )
        fingerprint = request_fingerprint(
            method=request.method or "", path=request.path, data=request.body.decode("utf-8", errors="replace")
        )
        user_id = staff_of(request).pk  # the view is behind role_required: a signed-in staff member
        record_id = _claim(
            user_id=user_id, key=key, method=request.method or "", path=request.path, fingerprint=fingerprint
        )
        if record_id is None:
            previous = IdempotencyRecord.objects.get(user_id=user_id, key=key)
            if previous.request_hash != fingerprint:
                return JsonResponse(
                    {
                        "ok": False,
                        "code": "idempotency_key_reused",
                        "message": _("This Idempotency-Key was used for a different request."),
                    },
                    status=422,
                )
            if previous.status_code is None:
                return JsonResponse(
                    {
                        "ok": False,
                        "code": "in_progress",
                        "message": _("The first request with this key is still running."),
                    },
                    status=409,
                )
            replay = JsonResponse(previous.response_body, status=previous.status_code, safe=False)
            replay["Idempotent-Replayed"] = "true"
            return replay
        response = view(request, *args, **kwargs)
        if response.status_code < 500:
            _settle(record_id=record_id, status_code=response.status_code, body=response.content.decode())
        else:
            IdempotencyRecord.objects.filter(pk=record_id).delete()
        return response

    return wrapper
