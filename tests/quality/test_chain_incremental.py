"""The signature chains in an incremental run: the links signed since the last run are verified — their position,
the link before them and their HMAC — and the older links are the full run's (issue 26: a township's part no longer
re-hashes every chain of a changed small area)."""

from __future__ import annotations

from typing import Any

import pytest

from supervision.quality.models import Finding, FindingState
from tests.conftest import Cast
from tests.quality.factories import run, sign_family, tamper

pytestmark = pytest.mark.django_db

CHAIN = "SIGNATURE_CHAIN_BROKEN"


@pytest.fixture(autouse=True)
def no_margin(settings: Any) -> None:
    settings.QUALITY = {**settings.QUALITY, "INCREMENTAL_MARGIN_SECONDS": 0}


def open_chain_findings() -> dict[str, list[str]]:
    rows = Finding.objects.filter(rule=CHAIN, state=FindingState.OPEN).values_list("key", "evidence")
    return {key: evidence["detail"] for key, evidence in rows}


def key(household: Any, seq: int) -> str:
    return f"h{household.pk}:seq{seq}"


def seq_of(household: Any) -> int:
    household.refresh_from_db()
    return int(household.current_signature.seq)


def test_new_links_are_verified_and_older_ones_left_to_the_full_run(cast: Cast) -> None:
    old = sign_family(cast.area_a1, cast.enumerator_a1, head="王伟")
    run()
    assert open_chain_findings() == {}
    # Damage to a link verified before: an incremental run with a new signature in the same small area does not
    # look at it again (the chain before the new links was verified when it was new) …
    tamper("UPDATE enumeration_signature SET hmac = repeat('0', 64) WHERE household_id = %s", [old.pk])
    new = sign_family(cast.area_a1, cast.enumerator_a1, head="李强")
    assert seq_of(new) == seq_of(old) + 1
    run(mode="incremental")
    assert open_chain_findings() == {}
    # … the full run finds it, and the next incremental run, which does not verify it, leaves that finding open.
    run()
    assert open_chain_findings() == {key(old, seq_of(old)): ["hmac"]}
    newer = sign_family(cast.area_a1, cast.enumerator_a1, head="张勇")
    run(mode="incremental")
    assert open_chain_findings() == {key(old, seq_of(old)): ["hmac"]}
    # A new link that does not follow the one before it, and one whose HMAC is wrong, are found by the next
    # incremental run: verified against the link before the new ones, which is read but not judged again.
    last = sign_family(cast.area_a1, cast.enumerator_a1, head="刘洋")
    tamper("UPDATE enumeration_signature SET prev_hash = repeat('a', 64) WHERE household_id = %s", [last.pk])
    other = sign_family(cast.area_a2, cast.enumerator_a2, head="陈静")
    tamper("UPDATE enumeration_signature SET hmac = repeat('b', 64) WHERE household_id = %s", [other.pk])
    run(mode="incremental")
    assert open_chain_findings() == {
        key(old, seq_of(old)): ["hmac"],
        # The previous-hash field is part of what the HMAC seals: both are wrong.
        key(last, seq_of(last)): ["chain", "hmac"],
        key(other, seq_of(other)): ["hmac"],
    }
    assert seq_of(last) == seq_of(newer) + 1


def test_a_gap_before_a_new_link_is_found(cast: Cast) -> None:
    run()
    second = sign_family(cast.area_a1, cast.enumerator_a1, head="李强")
    third = sign_family(cast.area_a1, cast.enumerator_a1, head="张勇")
    # The third link moved one place on behind the application's back: a position left empty before it.
    tamper("UPDATE enumeration_signature SET seq = seq + 1 WHERE household_id = %s", [third.pk])
    run(mode="incremental")
    # Its position is not the one after its predecessor's, and its HMAC sealed the old position; the link it
    # names as previous is still the one before it.
    assert open_chain_findings() == {key(third, seq_of(third)): ["sequence", "hmac"]}
    assert seq_of(third) == seq_of(second) + 2
    # The full run agrees.
    run()
    assert open_chain_findings() == {key(third, seq_of(third)): ["sequence", "hmac"]}
