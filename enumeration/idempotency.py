"""The ``Idempotency-Key`` header for API writes (see ``enumeration.models.api``)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from census.permissions import staff_of
from enumeration.models import IdempotencyRecord

HEADER = "HTTP_IDEMPOTENCY_KEY"


def _request_hash(request: Request) -> str:
    body = json.dumps(request.data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(f"{request.method} {request.path}\n{body}".encode()).hexdigest()


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
        fingerprint = _request_hash(request)
        user = staff_of(request)
        try:
            # Claim the key first: a concurrent retry blocks here until this request commits, then replays it.
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    user=user,
                    key=key,
                    method=request.method or "",
                    path=request.path[:300],
                    request_hash=fingerprint,
                )
        except IntegrityError:
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
            record.status_code = response.status_code
            # Stored as the client saw it (DRF's encoding of dates and decimals), so a replay is identical.
            record.response_body = json.loads(json.dumps(response.data, cls=JSONEncoder))
            record.save(update_fields=["status_code", "response_body"])
        else:
            record.delete()
        return response

    return wrapper
