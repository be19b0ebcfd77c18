"""Personal data (names, ID numbers): who sees it unmasked, and the masks everyone else sees.

Only the people who collect or check a household need its names and ID numbers in the clear: the enumerator
for the households of their own small areas, the supervisor for those of the enumerators they review (exactly
what ``visible_to`` gives these two roles). Township and district offices, departments, auditors and system
administrators see masked values. Every page that shows unmasked values writes one
``AuditAction.VIEW_PERSONAL_DATA`` event (:func:`record_personal_data_view`).

The masks match ``enumeration.identity.mask_id_number``/``mask_name`` (a test keeps them equal); they live here
too because the census package must not import from enumeration.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import models

from census.models import AuditAction, AuditEvent, Role, StaffMember

UNMASKED_ROLES: tuple[str, ...] = (Role.ENUMERATOR, Role.SUPERVISOR)


def mask_id_number(number: str) -> str:
    """5115**********003X — the first four and last four characters stay readable."""
    if not number:
        return ""
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_name(name: str) -> str:
    """张** — the family name stays, the given name is hidden."""
    if not name:
        return ""
    return name[0] + "*" * max(1, len(name) - 1)


def can_see_personal_data(user: Any, obj: models.Model | None = None) -> bool:
    """May ``user`` see names and ID numbers unmasked — of ``obj`` when given (a household, a person …)?

    Without ``obj`` the answer is about the role only. With ``obj`` the object must also lie in the user's
    scope; a model without ``visible_to`` is never shown unmasked.
    """
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return False
    if user.is_superuser or user.role not in UNMASKED_ROLES:
        return False
    if obj is None:
        return True
    manager = type(obj)._default_manager
    if not hasattr(manager, "visible_to"):
        return False
    return bool(manager.visible_to(user).filter(pk=obj.pk).exists())


def record_personal_data_view(
    *, actor: StaffMember, obj: models.Model, fields: Iterable[str] = (), ip_address: str | None = None
) -> AuditEvent:
    """Write the audit event for a page that showed ``obj``'s personal data unmasked."""
    from census.services import audit_record

    return audit_record(
        actor=actor,
        action=AuditAction.VIEW_PERSONAL_DATA,
        object_type=obj._meta.label_lower,
        object_id=obj.pk,
        detail={"fields": sorted(fields)},
        ip_address=ip_address,
    )
