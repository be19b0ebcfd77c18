"""The first login: an account whose password someone else chose (a one-time password) does nothing but
choose its own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _

# What such an account may still open: the password page, logging out, the language switch, the health check,
# the public credential check.
ALLOWED_URL_NAMES = frozenset({"password-change", "logout", "set_language", "healthz", "frame:credential-check"})


class PasswordChangeRequiredMiddleware:
    """After ``AuthenticationMiddleware``: a signed-in person who must change their password is sent to the
    password page (a JSON 403 on the API). It reads the user the request has loaded anyway; a request without a
    session (the API's tokens) costs nothing, and such a person gets no token until they have chosen."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> HttpResponse | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not getattr(user, "must_change_password", False):
            return None
        match = request.resolver_match
        if match is not None and match.view_name in ALLOWED_URL_NAMES:
            return None
        if request.path.startswith("/api/"):
            return JsonResponse(
                {"detail": _("Choose your own password first."), "code": "password_change_required"}, status=403
            )
        return redirect("password-change")
