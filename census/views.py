"""Site-wide pages: the start page that sends each role to its work, and the health check."""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse
from django.views import i18n
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from census.db_router import replica_configured, replica_status
from census.models import Role
from census.permissions import any_role, public

# Where each role starts. Missing pages fall back to the generic start page.
START_PAGES: dict[str, str] = {
    Role.ENUMERATOR: "enumeration:my-areas",
    Role.SUPERVISOR: "enumeration:review-queue",
    Role.TOWNSHIP_OFFICE: "supervision:dashboard",
    Role.DISTRICT_OFFICE: "supervision:dashboard",
    Role.DEPARTMENT: "supervision:rectification",
    Role.AUDITOR: "frame:audit-log",
    Role.CITY_OFFICE: "supervision:city-dashboard",
}


@require_GET
@any_role
def home(request: HttpRequest) -> HttpResponse:
    url_name = START_PAGES.get(request.user.role)  # type: ignore[union-attr]
    if url_name:
        try:
            return redirect(reverse(url_name))
        except NoReverseMatch:
            pass
    return render(request, "census/home.html")


@require_GET
@public
def favicon(request: HttpRequest) -> HttpResponse:
    # Resolved per request: the hashed static name exists only after collectstatic.
    return redirect(static("favicon.svg"), permanent=True)


def _database_ok() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return True, "ok"
    except Exception as exc:
        return False, type(exc).__name__


def _redis_ok() -> tuple[bool, str]:
    import redis
    from django.conf import settings

    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
        client.ping()
        return True, "ok"
    except Exception as exc:
        return False, type(exc).__name__


def _workers_ok() -> tuple[bool, str]:
    from census.celery import app

    try:
        replies = app.control.ping(timeout=1.0)
    except Exception as exc:
        return False, type(exc).__name__
    if not replies:
        return False, "no worker answered"
    return True, f"{len(replies)} worker(s)"


# Without the request's transaction (ATOMIC_REQUESTS): opening it needs the database, and the answer "the database
# is unreachable" must not depend on the database.
@transaction.non_atomic_requests
@require_GET
@never_cache
@public
def healthz(request: HttpRequest) -> JsonResponse:
    """Database, Redis and Celery worker reachability: 200 when all answer, 503 otherwise."""
    checks = {"database": _database_ok(), "redis": _redis_ok()}
    # Asking workers goes through Redis; without Redis the answer is known.
    checks["worker"] = _workers_ok() if checks["redis"][0] else (False, "redis unreachable")
    healthy = all(ok for ok, _ in checks.values())
    body: dict[str, Any] = {
        "status": "ok" if healthy else "unavailable",
        "checks": {name: {"ok": ok, "detail": detail} for name, (ok, detail) in checks.items()},
    }
    if replica_configured():
        # Not a condition of health: without the replica its reads go to the primary (census/db_router.py).
        replica = replica_status()
        body["replica"] = {"lag_seconds": replica.lag, "used": replica.usable, "detail": replica.error or "ok"}
    return JsonResponse(body, status=200 if healthy else 503)


@public
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch (a POST from every page's header), declared public for the access checks."""
    return i18n.set_language(request)
