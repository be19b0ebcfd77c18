"""Writes about the phones that keep an enumerator's work (enumeration.models.devices): registering a phone,
revoking a lost one, and noting that a revoked phone was told to delete its copy."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from census.api import ApplicationError
from census.models import AuditAction, StaffMember
from census.passwords import password_confirm
from census.services import audit_record
from census.staffing.services import staff_may_manage
from enumeration.models import PhoneDevice
from enumeration.models.devices import device_key_digest

# A phone's last-seen time is written again after this long (not on every page it opens).
SEEN_INTERVAL = timedelta(minutes=5)


class DeviceRevoked(ApplicationError):
    """The phone's key belongs to a revoked device: it must delete what it keeps."""

    status_code = 410


@dataclass
class Registered:
    device: PhoneDevice
    new_key: str | None  # set when the phone is given a new key (its cookie)


@transaction.atomic
def phone_device_register(
    *, staff: StaffMember, key: str | None, session_key: str, label: str, ip_address: str | None
) -> Registered:
    """The phone logged in as ``staff`` opened an offline page: the device its key names (when it is this
    person's), seen now with this session; a phone without a key, or with another person's, gets a new one.
    A revoked key is refused (:class:`DeviceRevoked`): the phone deletes its copy before anything else."""
    now = timezone.now()
    device = None
    if key:
        device = PhoneDevice.objects.select_for_update().filter(key_sha256=device_key_digest(key)).first()
    if device is not None and device.revoked_at is not None:
        raise DeviceRevoked(
            _("This phone was revoked by the office. What it kept of the census is deleted from it."),
            code="device_revoked",
        )
    if device is not None and device.staff_id == staff.pk:
        if device.session_key != session_key or now - device.last_seen_at >= SEEN_INTERVAL:
            device.session_key, device.last_seen_at, device.last_ip = session_key, now, ip_address
            device.save(update_fields=["session_key", "last_seen_at", "last_ip"])
        return Registered(device=device, new_key=None)
    new_key = secrets.token_urlsafe(32)
    device = PhoneDevice.objects.create(
        staff=staff,
        key_sha256=device_key_digest(new_key),
        label=label[:200],
        session_key=session_key,
        last_seen_at=now,
        last_ip=ip_address,
    )
    return Registered(device=device, new_key=new_key)


@transaction.atomic
def phone_device_revoke(*, device: PhoneDevice, actor: StaffMember, password: str) -> PhoneDevice:
    """A lost phone: the office that manages its person revokes it, confirming with the actor's own password.
    Its login session ends now; the phone deletes its copy at its next contact with the server."""
    device = PhoneDevice.objects.select_for_update().select_related("staff").get(pk=device.pk)
    if not staff_may_manage(actor, device.staff):
        raise ApplicationError(_("Your office does not manage this person's phones."), code="not_managed")
    if device.revoked_at is not None:
        raise ApplicationError(_("This phone is already revoked."), code="already_revoked")
    password_confirm(
        user=actor,
        password=password,
        purpose="phone_device_revoke",
        refusal=_("The password is wrong; the phone was not revoked."),
    )
    device.revoked_at, device.revoked_by = timezone.now(), actor
    device.save(update_fields=["revoked_at", "revoked_by"])
    if device.session_key:
        session_store = import_module(settings.SESSION_ENGINE).SessionStore
        # Within the transaction (the database's sessions): a phone's request of that session is read again.
        session_store(session_key=device.session_key).delete()
    audit_record(
        actor=actor,
        action=AuditAction.PERMISSION_CHANGE,
        object_type="phone_device",
        object_id=device.pk,
        detail={"change": "phone_revoked", "username": device.staff.username, "label": device.label},
    )
    return device


def phone_device_wiped(*, device: PhoneDevice) -> None:
    """The revoked phone made contact and was told to delete its copy (the first time is kept)."""
    PhoneDevice.objects.filter(pk=device.pk, wiped_at__isnull=True).update(wiped_at=timezone.now())
