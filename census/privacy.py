"""Personal data (names, ID numbers): who sees it unmasked, the masks everyone else sees, the audit of every
response that shows it, and the pseudonyms that stand for an ID number where one must not be stored.

Only the people who collect or check a household need its names and ID numbers in the clear: the enumerator
for the households of their own small areas, the supervisor for those of the enumerators they review (exactly
what ``visible_to`` gives these two roles). Township and district offices, departments, auditors and system
administrators — also an administrator who holds a field role — see masked values. :func:`can_see_personal_data`
is the one decision: pages, template tags and the API all ask it (no export carries a name or an ID number: the
microdata export replaces them with pseudonyms). Every response that shows unmasked
values writes one ``AuditAction.VIEW_PERSONAL_DATA`` event: :func:`record_personal_data_view` for one object,
:func:`record_personal_data_list_view` for a page of them (one event naming the objects, not one per row).

The masks match ``enumeration.identity.mask_id_number``/``mask_name`` (a test keeps them equal); they live here
too because the census package must not import from enumeration.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.db import models
from django.http import HttpRequest

from census.models import AuditAction, AuditEvent, Role, StaffMember

UNMASKED_ROLES: tuple[str, ...] = (Role.ENUMERATOR, Role.SUPERVISOR)
# A list's audit event names at most this many objects (and always how many there were): a page holds fifty.
LISTED_IDS_MAX = 200
PSEUDONYM_HEX_DIGITS = 20
_PSEUDONYM_KIND = re.compile(r"^[a-z_]+$")
_HMAC_BLOCK = 64  # SHA-256's block size (RFC 2104's B)


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

    Without ``obj`` the answer is about the user only: what a caller asks whose objects all come from
    ``visible_to(user)`` already (a list, an API read), at no query. With ``obj`` the object must also lie in the
    user's scope; a model without ``visible_to`` is never shown unmasked.
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


def client_address(request: HttpRequest | None) -> str | None:
    """The address an audit event of a read records (the peer's, as the other reads' events do)."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def record_personal_data_view(
    *, actor: StaffMember, obj: models.Model, fields: Iterable[str] = (), ip_address: str | None = None
) -> AuditEvent:
    """Write the audit event for a response that showed ``obj``'s personal data unmasked."""
    from census.services import audit_record

    return audit_record(
        actor=actor,
        action=AuditAction.VIEW_PERSONAL_DATA,
        object_type=obj._meta.label_lower,
        object_id=obj.pk,
        detail={"fields": sorted(fields)},
        ip_address=ip_address,
    )


def record_personal_data_list_view(
    *,
    actor: StaffMember,
    model: type[models.Model],
    ids: Sequence[int | str],
    fields: Iterable[str] = (),
    ip_address: str | None = None,
) -> AuditEvent | None:
    """Write the one audit event of a response that showed the personal data of a list of objects unmasked:
    which objects (the first ``LISTED_IDS_MAX``) and how many. A response that showed nobody's writes nothing.

    One INSERT: a read outside a transaction (``census.api.ReadsOutsideTransaction``) writes it in its own
    statement, a page in the request's transaction with its other rows."""
    if not ids:
        return None
    from census.services import audit_record

    return audit_record(
        actor=actor,
        action=AuditAction.VIEW_PERSONAL_DATA,
        object_type=model._meta.label_lower,
        detail={"fields": sorted(fields), "count": len(ids), "ids": list(ids[:LISTED_IDS_MAX])},
        ip_address=ip_address,
    )


# --- pseudonyms ------------------------------------------------------------------------------------------
#
# Where a record must be known by a person's ID number without storing it — a finding about a roster person,
# which the checks must find again night after night and across new imports of the roster — it is known by the
# number's pseudonym: HMAC-SHA256 of ``<kind>:<value>`` under ``settings.CENSUS_PSEUDONYM_KEY``, as the
# microdata export's keys are. Without the key the number can be neither recovered nor tested; the system, which
# holds the key, can still find such a record by a whole number typed in (:func:`id_number_pseudonym`).


def _pseudonym_key() -> bytes:
    return str(settings.CENSUS_PSEUDONYM_KEY).encode()


def pseudonym(kind: str, value: str | int | bytes) -> str:
    """HMAC-SHA256 of ``<kind>:<value>`` under the pseudonym key, the first ``PSEUDONYM_HEX_DIGITS`` hex digits."""
    text = value if isinstance(value, bytes) else str(value).encode()
    digest = hmac.new(_pseudonym_key(), kind.encode() + b":" + text, hashlib.sha256).hexdigest()
    return digest[:PSEUDONYM_HEX_DIGITS]


def id_number_pseudonym(number: str) -> str:
    """What stands for a citizen ID number (upper case, as stored) where the number itself must not."""
    return pseudonym("id_number", number.strip().upper())


def pseudonym_params() -> dict[str, bytes]:
    """The parameters of :func:`pseudonym_sql`: the key's inner and outer pads (RFC 2104)."""
    key = _pseudonym_key()
    if len(key) > _HMAC_BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_HMAC_BLOCK, b"\0")
    return {
        "pseudonym_inner": bytes(byte ^ 0x36 for byte in key),
        "pseudonym_outer": bytes(byte ^ 0x5C for byte in key),
    }


def pseudonym_sql(kind: str, expression: str) -> str:
    """:func:`pseudonym` of an SQL text expression, computed by PostgreSQL in a set-based statement.

    HMAC from the built-in ``sha256`` — H((K ⊕ opad) ‖ H((K ⊕ ipad) ‖ m)) — so no extension (pgcrypto) is
    needed; the pads are the named parameters of :func:`pseudonym_params`, never written into the SQL."""
    if not _PSEUDONYM_KIND.match(kind):
        raise ValueError(f"not a pseudonym kind: {kind!r}")
    message = f"convert_to('{kind}:' || {expression}, 'UTF8')"
    inner = f"sha256(%(pseudonym_inner)s::bytea || {message})"
    return f"left(encode(sha256(%(pseudonym_outer)s::bytea || {inner}), 'hex'), {PSEUDONYM_HEX_DIGITS})"
