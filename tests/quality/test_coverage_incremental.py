"""The coverage of households in an incremental run (issue 26): a township part counts again the small areas with a
household written since its watermark — every area when an assignment of the district changed, since that changes
who answers for an area — and settles those areas' findings only; the others keep what the last run found."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from census.staffing.services import small_area_assign, small_area_unassign
from enumeration.models import Household
from supervision.quality.checks import coverage
from supervision.quality.models import Finding
from tests.conftest import Cast
from tests.quality.factories import persons_of, resign, run, sign_family

pytestmark = pytest.mark.django_db

RULE = "COVERAGE_HOUSEHOLDS"


@pytest.fixture(autouse=True)
def no_margin(settings: Any) -> None:
    settings.QUALITY = {**settings.QUALITY, "INCREMENTAL_MARGIN_SECONDS": 0}


def _registered_unlisted(cast: Cast, households: int) -> list[Household]:
    """Households of area a1 registered without being on the listing: ``households`` registered against 0 listed,
    a gap above the threshold (3) from 4 on."""
    signed = [sign_family(cast.area_a1, cast.enumerator_a1, head=f"王{n}") for n in range(households)]
    Household.objects.filter(pk__in=[h.pk for h in signed]).update(listed_at=None, updated_at=timezone.now())
    return signed


def _coverage() -> dict[str, tuple[str, int | None]]:
    return {f.key: (f.state, f.responsible_id) for f in Finding.objects.filter(rule=RULE)}


@pytest.mark.parametrize("few_areas", [50, 0], ids=["through-the-areas", "reading-the-township"])
def test_an_incremental_part_counts_again_only_the_areas_written_since(
    cast: Cast, few_areas: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Up to FEW_AREAS changed areas are read through the area's index, more by reading the township: both ways.
    monkeypatch.setattr(coverage, "FEW_AREAS", few_areas)
    unlisted = _registered_unlisted(cast, 4)
    other = sign_family(cast.area_a2, cast.enumerator_a2, head="李强")
    run()
    key = "a" + cast.area_a1.code
    assert _coverage() == {key: ("open", cast.enumerator_a1.pk)}
    # Behind the application's back the four get their listing (no household row written): a part whose only
    # change is in area a2 — same township — does not count a1 again, and its finding stays as the last run left it.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE enumeration_household SET listed_at = now() WHERE id = ANY(%s)", [[h.pk for h in unlisted]]
        )
    resign(other, cast.enumerator_a2, persons=persons_of(other))
    incremental = run(mode="incremental")
    assert incremental.parts.get(township=cast.township_a).households == 1
    assert _coverage() == {key: ("open", cast.enumerator_a1.pk)}
    # A household of a1 written: a1 is counted again — 4 registered, 4 listed — and its finding is closed.
    resign(unlisted[0], cast.enumerator_a1, persons=persons_of(unlisted[0]))
    run(mode="incremental")
    assert _coverage() == {key: ("closed", cast.enumerator_a1.pk)}


def test_after_an_assignment_changed_every_area_is_counted_again_for_who_answers_for_it(cast: Cast) -> None:
    _registered_unlisted(cast, 4)
    other = sign_family(cast.area_a2, cast.enumerator_a2, head="李强")
    run()
    key = "a" + cast.area_a1.code
    assert _coverage() == {key: ("open", cast.enumerator_a1.pk)}
    # Area a1 goes to the enumerator of a2; no household of a1 is written, one of a2 is.
    small_area_assign(staff=cast.enumerator_a2, small_area=cast.area_a1, actor=cast.district_office)
    small_area_unassign(staff=cast.enumerator_a1, small_area=cast.area_a1, actor=cast.district_office)
    resign(other, cast.enumerator_a2, persons=persons_of(other))
    run(mode="incremental")
    assert _coverage() == {key: ("open", cast.enumerator_a2.pk)}
