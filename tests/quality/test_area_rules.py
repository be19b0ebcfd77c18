"""G. The aggregate rules per small area, village and township: an area that breaks each one and one that does
not (planted districts do not plant them; the clean-district test shows that a realistic district breaks
none). Also: the ledger checks in SQL agree with ``enumeration.verification`` on a planted district."""

from __future__ import annotations

from itertools import count
from typing import Any

import pytest
from django.utils import timezone

from census.models import SmallArea, StaffMember
from enumeration.models import Household, Person, Signature
from enumeration.verification import verify_small_area
from supervision.quality.models import Finding
from tests.conftest import Cast
from tests.quality.factories import run

pytestmark = pytest.mark.django_db

_seq = count(1)
HEX = "0" * 64


def _households(
    area: SmallArea,
    registrar: StaffMember,
    households: int,
    members: list[dict[str, Any]],
    **items: Any,
) -> None:
    """Signed family households straight into the tables (their signatures are placeholders)."""
    now = timezone.now()
    for _ in range(households):
        number = next(_seq)
        household = Household.objects.create(
            small_area=area,
            village_id=area.village_id,
            township_id=area.township_id,
            household_no=number,
            state="listed",
            h1_kind=1,
            h2_present=len(members),
            h2_away=0,
            h3_births_male=items.get("h3_births_male", 0),
            h3_births_female=0,
            h4_deaths_male=0,
            h4_deaths_female=0,
            h5_residence_type=1,
            h6_floor_area=30 * len(members),
            h7_rooms=2,
            registrar=registrar,
            listed_at=now,
            expected_persons=len(members),
        )
        Person.objects.bulk_create(
            Person(
                household=household,
                small_area=area,
                village_id=area.village_id,
                township_id=area.township_id,
                row_no=row,
                d1_name=f"人{number}{row}",
                d2_relationship=member.get("rel", 0 if row == 1 else 2),
                d4_sex=member.get("sex", 1),
                d5_birth_year=member.get("year", 1980),
                d5_birth_month=member.get("month", 6),
                d6_ethnicity="01",
                d7_residence=1,
                d8_hukou_place=member.get("d8", 1),
                d9_away_duration=None if member.get("d8", 1) == 5 else 1,
            )
            for row, member in enumerate(members, start=1)
        )
        signature = Signature.objects.create(
            household=household,
            small_area=area,
            seq=number,
            household_version=1,
            signer=registrar,
            signer_role="enumerator",
            signed_at=now,
            content_hash=HEX,
            prev_hash=HEX,
            hmac=HEX,
        )
        Household.objects.filter(pk=household.pk).update(state="signed", current_signature=signature)


def _areas(rule: str) -> set[str]:
    return set(Finding.objects.filter(rule=rule).values_list("record_key", flat=True))


COUPLE = [{"sex": 1}, {"rel": 1, "sex": 2}]


def test_sex_ratio(cast: Cast) -> None:
    _households(cast.area_a1, cast.enumerator_a1, 30, [{"sex": 1}, {"rel": 8, "sex": 1, "year": 1982}])
    _households(cast.area_b1, cast.enumerator_b1, 30, COUPLE)
    run()
    assert cast.area_a1.code in _areas("AREA_SEX_RATIO")
    assert cast.area_b1.code not in _areas("AREA_SEX_RATIO")


def test_household_size(cast: Cast) -> None:
    five = [*COUPLE, {"year": 2010}, {"year": 2012, "sex": 2}, {"year": 2014}]
    _households(cast.area_a1, cast.enumerator_a1, 25, five)
    _households(cast.area_b1, cast.enumerator_b1, 25, [*COUPLE, {"year": 2010}])
    run()
    found = Finding.objects.get(rule="AREA_HOUSEHOLD_SIZE", record_key=cast.area_a1.code)
    assert float(found.evidence["size"]) == 5.0 and found.evidence["households"] == 25
    assert cast.area_b1.code not in _areas("AREA_HOUSEHOLD_SIZE")


def test_month_heaping(cast: Cast) -> None:
    january = [{"sex": 1, "month": 1}, {"rel": 1, "sex": 2, "month": 1}]
    _households(cast.area_a1, cast.enumerator_a1, 30, january)
    _households(cast.area_b1, cast.enumerator_b1, 30, COUPLE)
    run()
    assert cast.area_a1.code in _areas("AREA_MONTH_HEAPING")
    assert cast.area_b1.code not in _areas("AREA_MONTH_HEAPING")


def test_hukou_pending_share(cast: Cast) -> None:
    _households(cast.area_a1, cast.enumerator_a1, 15, [{"sex": 1}, {"rel": 1, "sex": 2, "d8": 5}])
    _households(cast.area_a1, cast.enumerator_a1, 15, COUPLE)
    _households(cast.area_b1, cast.enumerator_b1, 30, COUPLE)
    run()
    assert cast.area_a1.code in _areas("AREA_HUKOU_PENDING_SHARE")
    assert cast.area_b1.code not in _areas("AREA_HUKOU_PENDING_SHARE")


def test_infants_against_births(cast: Cast) -> None:
    _households(cast.area_a1, cast.enumerator_a1, 10, COUPLE, h3_births_male=1)
    baby = [*COUPLE, {"year": 2020, "month": 3}]
    _households(cast.area_b1, cast.enumerator_b1, 10, baby, h3_births_male=1)
    run()
    found = Finding.objects.get(rule="AREA_INFANTS_VS_BIRTHS", record_key=cast.area_a1.code)
    assert (found.evidence["infants"], found.evidence["births"]) == (0, 10)
    assert cast.area_b1.code not in _areas("AREA_INFANTS_VS_BIRTHS")


# The rule the nightly run reports each kind of ``verify_signatures`` mismatch under.
RULE_OF_KIND = {
    "content": "CONTENT_CHANGED_AFTER_SIGNING",
    "missing_signature": "CONTENT_CHANGED_AFTER_SIGNING",
    "sequence": "SIGNATURE_CHAIN_BROKEN",
    "chain": "SIGNATURE_CHAIN_BROKEN",
    "hmac": "SIGNATURE_CHAIN_BROKEN",
    "image": "SIGNATURE_IMAGE_CHANGED",
    # A confirmation without an image that no declaration of the household vouches for (self-enumeration): the SQL
    # sees an image that does not hash to what was signed.
    "declaration": "SIGNATURE_IMAGE_CHANGED",
    "transition": "STATE_TRAIL_BROKEN",
    "state": "STATE_TRAIL_BROKEN",
    "registrar": "REGISTRAR_CHANGED",
}


def test_the_ledger_checks_agree_with_the_python_verification(planted: dict[str, Any]) -> None:
    run()
    rules = set(RULE_OF_KIND.values())
    sql = {(finding.household_id, finding.rule) for finding in Finding.objects.filter(rule__in=rules)}
    python = set()
    for area in SmallArea.objects.all():
        for mismatch in verify_small_area(area):
            python.add((mismatch.household_id, RULE_OF_KIND[mismatch.kind]))
    assert sql == python
    # Every ledger rule was planted, and is found where it was planted.
    keys = dict(Household.objects.values_list("id", "household_no"))
    codes = dict(SmallArea.objects.values_list("id", "code"))
    areas = dict(Household.objects.values_list("id", "small_area_id"))
    found = {(rule, f"{codes[areas[pk]]}{keys[pk]:03d}") for pk, rule in sql}
    planted_keys = {(rule, key) for rule in rules for key in planted["manifest"].get(rule, [])}
    assert planted_keys == found and {rule for rule, _ in planted_keys} == rules


def test_the_sql_content_hash_is_the_ledger_s(planted: dict[str, Any]) -> None:
    """Byte for byte: every clean signed household hashes in SQL to its signature's content hash."""
    run()
    changed = set(Finding.objects.filter(rule="CONTENT_CHANGED_AFTER_SIGNING").values_list("household_id", flat=True))
    signed = Household.objects.filter(state__in=("signed", "approved", "accepted", "locked")).count()
    assert 0 < len(changed) < signed * 0.01
