"""SPEED_IMPLAUSIBLE (more than six households signed by one person within an hour) in incremental runs: a part
looks again only at the signers and days whose signatures changed (issue 26) — reading the hour's windows across
midnight — and leaves the other signers' findings as they were."""

from __future__ import annotations

import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from enumeration.models import Household
from enumeration.services import household_return
from supervision.quality.models import Finding, FindingState
from tests.conftest import Cast
from tests.quality.factories import run, sign_family, tamper

pytestmark = pytest.mark.django_db

CHINA = ZoneInfo("Asia/Shanghai")
HEADS = ["王伟", "李强", "张勇", "刘洋", "陈静", "杨帆", "赵磊", "黄敏"]


@pytest.fixture(autouse=True)
def no_margin(settings: Any) -> None:
    settings.QUALITY = {**settings.QUALITY, "INCREMENTAL_MARGIN_SECONDS": 0}


def speed() -> dict[str, tuple[str, int]]:
    rows = Finding.objects.filter(rule="SPEED_IMPLAUSIBLE").values_list("key", "state", "evidence")
    return {key: (state, evidence["count"]) for key, state, evidence in rows}


def signed_at(household: Household, moment: datetime.datetime) -> None:
    """Move the household's signature to ``moment`` (and mark the household changed, as a signing would)."""
    tamper(
        "UPDATE enumeration_signature SET signed_at = %s WHERE id = "
        "(SELECT current_signature_id FROM enumeration_household WHERE id = %s)",
        [moment, household.pk],
    )
    tamper("UPDATE enumeration_household SET updated_at = clock_timestamp() WHERE id = %s", [household.pk])


def test_a_seventh_signature_in_the_hour_is_found_and_settled_by_incremental_runs(cast: Cast) -> None:
    for head in HEADS[:6]:
        sign_family(cast.area_a1, cast.enumerator_a1, head=head)
    run()
    assert speed() == {}
    seventh = sign_family(cast.area_a1, cast.enumerator_a1, head=HEADS[6])
    run(mode="incremental")
    today = datetime.datetime.now(CHINA).strftime("%Y-%m-%d")
    key = f"s{cast.enumerator_a1.pk}:{today}"
    assert speed() == {key: ("open", 7)}
    # Another enumerator's signature in the same township: the first one's day is not looked at again, and its
    # finding stays as it is.
    sign_family(cast.area_a2, cast.enumerator_a2, head=HEADS[7])
    assert cast.area_a2.township_id == cast.area_a1.township_id
    run(mode="incremental")
    assert speed() == {key: ("open", 7)}
    # One of the seven returned to the enumerator (no longer signed): six in the hour, the finding is closed.
    household_return(household=seventh, actor=cast.supervisor_a, comments=[("H1", "请核实")])
    run(mode="incremental")
    assert speed()[key][0] != FindingState.OPEN


def test_a_signature_after_midnight_completes_the_hour_begun_the_day_before(cast: Cast) -> None:
    day = datetime.datetime(2020, 11, 3, tzinfo=CHINA)
    households = [sign_family(cast.area_a1, cast.enumerator_a1, head=head) for head in HEADS[:7]]
    for household, minute in zip(households[:6], (10, 20, 30, 40, 50, 55), strict=True):
        signed_at(household, day.replace(hour=23, minute=minute))
    signed_at(households[6], day.replace(hour=12) + datetime.timedelta(days=1))
    run()
    assert speed() == {}
    # The seventh signature moved from noon of the next day to 00:05: the window that began at 23:10 the day
    # before holds seven (no signature of that day changed).
    signed_at(households[6], day.replace(hour=0, minute=5) + datetime.timedelta(days=1))
    run(mode="incremental")
    assert speed() == {f"s{cast.enumerator_a1.pk}:2020-11-03": ("open", 7)}
