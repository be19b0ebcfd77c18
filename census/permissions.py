"""Role checks for views and APIs, and the access declarations the permission-matrix test reads.

Object access is decided by ``visible_to``, not here. Who may use a URL at all is declared on its view, and
``tests/security/test_permission_matrix.py`` walks every URL and API operation as every role and checks the
declaration against what the server does. A view without a declaration fails that test:

* HTML views: ``@role_required(Role.X, …)`` (the roles), ``@any_role`` (any signed-in staff member) or
  ``@public`` (login, health check, language switch — no account needed).
* DRF views: ``permission_classes = [IsAuthenticated, HasRole.of(Role.X, …)]`` or ``[IsAuthenticated, AnyRole]``;
  ``[AllowAny]`` declares a public endpoint.
* URLs that take an object (``<int:pk>``, ``<str:code>``): ``@url_objects(pk=Household)`` says which model the
  argument looks up, so the test can ask for objects inside and outside each user's scope (outside must be 404).
  DRF generic views need no declaration: the model and ``lookup_field`` are read from the view.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast

from django.conf import settings
from django.contrib.admin.sites import AdminSite, all_sites
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import HttpRequest, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import resolve_url
from django.utils.translation import gettext as _
from rest_framework.permissions import AllowAny, BasePermission

from census.models import Role, StaffMember

ALL_ROLES: tuple[str, ...] = tuple(Role.values)

_V = TypeVar("_V", bound=Callable[..., Any])


class StaffRequest(HttpRequest):
    """A request that passed ``login_required``/``role_required``: its user is a staff member."""

    user: StaffMember  # type: ignore[assignment]


def staff_of(request: Any) -> StaffMember:
    """The authenticated staff member of a request (DRF or Django) that passed authentication."""
    user = request.user
    assert isinstance(user, StaffMember), "authentication is enforced before this point"
    return user


def has_role(user: Any, roles: tuple[str, ...]) -> bool:
    return bool(user.is_authenticated and user.is_active and (user.is_superuser or user.role in roles))


def wants_json(request: HttpRequest) -> bool:
    """A script's request that reads JSON (the form's autosave sends ``Accept: application/json``), not a page
    a person navigates to (a browser's navigation asks for ``text/html``)."""
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def not_authenticated_json() -> JsonResponse:
    """The answer to a script whose session ended: 401 in JSON, never the login page. A redirect to the login
    page would reach the script as a 200 it could take for success (issue 19: "已保存" while nothing was)."""
    return JsonResponse(
        {
            "ok": False,
            "code": "not_authenticated",
            "message": _("Your login has ended. Log in again; what you typed is kept."),
            "login_url": resolve_url(settings.LOGIN_URL),
        },
        status=401,
    )


def role_required(*roles: str) -> Callable[[_V], _V]:
    """Allow only the given roles (superusers always); others get 403, anonymous users the login page — or,
    when the request is a script's that reads JSON, a JSON 401."""

    def decorator(view: _V) -> _V:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                if wants_json(request):
                    return not_authenticated_json()
                return redirect_to_login(request.get_full_path())
            if not has_role(request.user, roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)  # type: ignore[no-any-return]

        # Read by the permission-matrix test; ``functools.wraps`` in outer decorators carries it outwards.
        wrapped.allowed_roles = roles  # type: ignore[attr-defined]
        return cast(_V, wrapped)

    return decorator


def any_role(view: _V) -> _V:
    """Any signed-in, active staff member, whatever their role. What they see still comes from
    ``visible_to``: use this for pages every role has (the start page, one's own jobs)."""
    return role_required(*ALL_ROLES)(view)


def public(view: _V) -> _V:
    """Declare a view that needs no account (login, health check, language switch, favicon).

    This is a declaration, not a gate: it says that anonymous visitors are meant to reach the view.
    """
    view.public_access = True  # type: ignore[attr-defined]
    return view


ObjectLookup = type[models.Model] | tuple[type[models.Model], str] | list[str]


def url_objects(**lookups: ObjectLookup) -> Callable[[_V], _V]:
    """Declare what the URL arguments of a view look up, e.g. ``@url_objects(pk=SmallArea, code=Township)``.

    A value is a model (looked up by the argument's name: ``pk`` or a field such as ``code``), a
    ``(model, field)`` pair, or a list of literal values for arguments that are not objects (``["xlsx", "csv"]``).
    """

    def decorator(view: _V) -> _V:
        view.url_objects = lookups  # type: ignore[attr-defined]
        return view

    return decorator


class HasRole(BasePermission):
    """DRF permission: ``permission_classes = [IsAuthenticated, HasRole.of(Role.ENUMERATOR, …)]``."""

    roles: tuple[str, ...] = ()

    @classmethod
    def of(cls, *roles: str) -> type[HasRole]:
        return type(f"HasRole_{'_'.join(roles)}", (cls,), {"roles": roles})

    def has_permission(self, request: Any, view: Any) -> bool:
        return has_role(request.user, self.roles)


class AnyRole(HasRole):
    """DRF permission for endpoints every signed-in staff member may call (scoping still applies)."""

    roles = ALL_ROLES


# --- reading the declarations ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Access:
    """Who may use a URL: ``public`` (anyone), ``roles`` (signed-in users with one of ``roles``) or
    ``admin`` (the Django admin, which lets only ``is_staff`` accounts in and sends others to its login)."""

    kind: str  # "public" | "roles" | "admin"
    roles: frozenset[str] = frozenset()

    def allows(self, user: Any) -> bool:
        if self.kind == "public":
            return True
        if self.kind == "admin":
            return bool(user.is_authenticated and user.is_active and user.is_staff)
        return has_role(user, tuple(self.roles))


PUBLIC = Access("public")
ADMIN = Access("admin")


def _admin_site_names() -> set[str]:
    return {site.name for site in all_sites}


def access_of(callback: Callable[..., Any], namespaces: Iterable[str] = ()) -> Access | None:
    """The declared access of a resolved view, or ``None`` when the view declares nothing."""
    namespaces = list(namespaces)
    if namespaces and namespaces[0] in _admin_site_names():
        # The admin site has its own gate (is_staff); its login page is open to everyone.
        bound_to = getattr(callback, "__self__", None)
        if isinstance(bound_to, AdminSite) and getattr(callback, "__name__", "") == "login":
            return PUBLIC
        return ADMIN
    if getattr(callback, "public_access", False):
        return PUBLIC
    roles = getattr(callback, "allowed_roles", None)
    if roles is not None:
        return Access("roles", frozenset(roles))
    view_class = getattr(callback, "cls", None)  # Django REST framework's APIView.as_view()
    if view_class is not None:
        return _drf_access(view_class)
    return None


def _drf_access(view_class: type) -> Access | None:
    classes = list(getattr(view_class, "permission_classes", ()))
    if getattr(view_class, "public_access", False):
        return PUBLIC
    role_sets = [frozenset(p.roles) for p in classes if isinstance(p, type) and issubclass(p, HasRole)]
    if role_sets:
        return Access("roles", frozenset.intersection(*role_sets))
    if classes and all(isinstance(p, type) and issubclass(p, AllowAny) for p in classes):
        return PUBLIC
    return None
