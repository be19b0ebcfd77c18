"""The review trail: each state change of a household sealed under the ledger key, linked to the one before.

Every service that moves a household from one state to another writes its change through here, with the
household's row locked (``select_for_update``), so the change read as the trail's last is the last one: the
lock is what keeps a trail from forking, and sealing takes no lock of its own. The trail's last change is
read after the lock is granted, by a statement of its own (a subquery of the locking statement would read the
snapshot taken before waiting for the lock).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import timezone

from enumeration import ledger
from enumeration.models import Household, HouseholdTransition

# A change is always later than the one before it: the trail is verified in (at, id) order, and a clock that
# steps back between two changes of one household must not reorder them.
TICK = datetime.timedelta(microseconds=1)


@dataclass(frozen=True)
class TrailEnd:
    """The last change of a household's trail: what the next one links to and must come after."""

    hmac: str
    at: datetime.datetime


def trail_ends(household_ids: Iterable[int]) -> dict[int, TrailEnd]:
    """The last change of each household's trail (households with none are left out), in one query."""
    ids = list(household_ids)
    if not ids:
        return {}
    rows = (
        HouseholdTransition.objects.filter(household_id__in=ids)
        .order_by("household_id", "-at", "-id")
        .distinct("household_id")
        .values_list("household_id", "hmac", "at")
    )
    return {household_id: TrailEnd(mac, at) for household_id, mac, at in rows}


def transition_sealed(
    *,
    household_id: int,
    from_state: str,
    to_state: str,
    actor_id: int,
    after: TrailEnd | None,
    key: bytes,
    reason: str = "",
    at: datetime.datetime | None = None,
) -> HouseholdTransition:
    """The change that follows ``after`` (``None``: the household's first), sealed under ``key`` (its district's:
    ``ledger.district_key``) and not yet saved."""
    reason = reason[:500]
    at = at or timezone.now()
    if after is not None and at <= after.at:
        at = after.at + TICK
    message = ledger.transition_message(
        household_id=household_id,
        from_state=from_state,
        to_state=to_state,
        actor_id=actor_id,
        at=at,
        prev_hmac=after.hmac if after is not None else ledger.TRAIL_START,
        reason=reason,
    )
    return HouseholdTransition(
        household_id=household_id,
        from_state=from_state,
        to_state=to_state,
        actor_id=actor_id,
        reason=reason,
        at=at,
        hmac=ledger.message_hmac(message, key),
    )


def transition_record(
    *, household_id: int, area_code: str, from_state: str, to_state: str, actor_id: int, reason: str = ""
) -> None:
    """Append a change to the trail of a household (in the small area ``area_code``) whose row the caller holds
    locked."""
    transition_sealed(
        household_id=household_id,
        from_state=from_state,
        to_state=to_state,
        actor_id=actor_id,
        after=trail_ends([household_id]).get(household_id),
        key=ledger.district_key(area_code),
        reason=reason,
    ).save(force_insert=True)


def transitions_record(
    *,
    household_ids: list[int],
    from_state: str,
    to_state: str,
    actor_id: int,
    reason: str = "",
    area_code: str | None = None,
) -> None:
    """The same change of many households whose rows the caller holds locked: two queries however many (three
    when the households' small area, ``area_code``, is not given: their districts' keys are read then)."""
    ends = trail_ends(household_ids)
    if area_code is not None:
        townships = dict.fromkeys(household_ids, area_code)
    else:
        townships = dict(Household.objects.filter(pk__in=household_ids).values_list("pk", "township_id"))
    now = timezone.now()
    HouseholdTransition.objects.bulk_create(
        [
            transition_sealed(
                household_id=pk,
                from_state=from_state,
                to_state=to_state,
                actor_id=actor_id,
                after=ends.get(pk),
                key=ledger.district_key(townships[pk]),
                reason=reason,
                at=now,
            )
            for pk in household_ids
        ],
        batch_size=2000,
    )
