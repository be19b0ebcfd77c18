"""Role checks for views and APIs. Object access is decided by ``visible_to``, not here."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from rest_framework.permissions import BasePermission

from census.models import StaffMember


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


def role_required(*roles: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Allow only the given roles (superusers always); others get 403, anonymous users the login page."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not has_role(request.user, roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapped.allowed_roles = roles  # type: ignore[attr-defined]
        return wrapped

    return decorator


class HasRole(BasePermission):
    """DRF permission: ``permission_classes = [HasRole.of(Role.ENUMERATOR, …)]``."""

    roles: tuple[str, ...] = ()

    @classmethod
    def of(cls, *roles: str) -> type[HasRole]:
        return type(f"HasRole_{'_'.join(roles)}", (cls,), {"roles": roles})

    def has_permission(self, request: Any, view: Any) -> bool:
        return has_role(request.user, self.roles)
