"""What the system answers when it cannot serve a request: a page in the site's layout for people, JSON on the
API — never Django's bare English "Server Error (500)".

* :func:`server_error` is the project's ``handler500``. Django calls it for any exception a view, a middleware or
  an on-commit hook let through, while that exception is being handled, so it can tell the cases apart:
  the database unreachable (``OperationalError``/``InterfaceError``: 503, "try again in a moment"), a refusal
  of the domain that no view caught (an ``ApplicationError``: its own status and message — a 503 when the task
  queue or the signing-password counter cannot be reached), and anything else (500).
* :func:`error_response` renders these pages *without the request*: no context processor runs, so a page says
  "the database is unavailable" without asking the database who is signed in.
"""

from __future__ import annotations

import sys

from django.conf import settings
from django.db.utils import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

# PostgreSQL refusing connections, a connection lost mid-request, or a server shutting down: all are over once it
# is back, so the answer is "unavailable, try again", not "something is broken".
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
# Seconds a client is asked to wait before trying again (Retry-After): a restart of the database or of Redis.
RETRY_AFTER_SECONDS = 30


def wants_json(request: HttpRequest) -> bool:
    """The API, and scripts that send or ask for JSON (the form page's autosave), are answered in JSON."""
    return (
        request.path.startswith("/api/")
        or (request.content_type or "").endswith("json")
        or "application/json" in request.headers.get("Accept", "")
    )


def error_response(
    request: HttpRequest, *, status: int, title: str, message: str, code: str, retry_after: int | None = None
) -> HttpResponse:
    """An error as JSON (``{"detail", "code"}``) or as a page of the site, rendered without the request."""
    response: HttpResponse
    if wants_json(request):
        response = JsonResponse({"detail": message, "code": code}, status=status)
    else:
        context = {"title": title, "message": message, "district_name": settings.CENSUS_DISTRICT_NAME}
        response = HttpResponse(render_to_string("census/error.html", context), status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def database_unavailable(request: HttpRequest) -> HttpResponse:
    return error_response(
        request,
        status=503,
        title=_("Service unavailable"),
        message=_(
            "The census database cannot be reached at the moment, so nothing was read or saved. "
            "Please try again in a few minutes."
        ),
        code="database_unavailable",
        retry_after=RETRY_AFTER_SECONDS,
    )


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: the exception being handled decides the answer (see the module's docstring)."""
    from census.api import ApplicationError

    exc = sys.exc_info()[1]
    if isinstance(exc, DATABASE_UNAVAILABLE):
        return database_unavailable(request)
    if isinstance(exc, ApplicationError):
        unavailable = exc.status_code == 503
        return error_response(
            request,
            status=exc.status_code,
            title=_("Service unavailable") if unavailable else _("The request was refused"),
            message=exc.message,
            code=exc.code,
            retry_after=RETRY_AFTER_SECONDS if unavailable else None,
        )
    return error_response(
        request,
        status=500,
        title=_("Server error"),
        message=_(
            "Something went wrong on the server and has been recorded for the administrators. Please try again, "
            "and tell your census office if it happens again."
        ),
        code="server_error",
    )
