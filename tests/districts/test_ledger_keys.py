"""Each district seals its ledger under a key of its own, derived from the installation's one secret; a district
whose ledger predates that keeps the installation's key, so that what it signed still verifies."""

from __future__ import annotations

import pytest

from census.models import District
from enumeration import ledger
from enumeration.models import Signature
from enumeration.verification import verify_small_area
from tests.districts.conftest import TwoDistricts, family, register

pytestmark = pytest.mark.django_db


def test_hkdf_gives_rfc_5869s_first_test_vector() -> None:
    # RFC 5869, appendix A.1 (basic test case with SHA-256).
    okm = ledger.hkdf_sha256(
        bytes.fromhex("0b" * 22),
        salt=bytes.fromhex("000102030405060708090a0b0c"),
        info=bytes.fromhex("f0f1f2f3f4f5f6f7f8f9"),
        length=42,
    )
    assert okm.hex() == ("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865")


def test_districts_have_distinct_keys_and_one_that_predates_them_keeps_the_installations(
    two_districts: TwoDistricts,
) -> None:
    a, b = ledger.district_key("511504"), ledger.district_key("511502001001001")
    assert a != b and ledger.ledger_key() not in (a, b)
    assert ledger.district_key("511502") == b  # any code of the district
    old = District.objects.get(code="511504")
    old.ledger_key_version = 0
    old.save()
    assert ledger.district_key("511504") == ledger.ledger_key()


def test_a_signature_sealed_with_district_as_key_does_not_verify_as_district_bs(
    two_districts: TwoDistricts, password: str
) -> None:
    b = two_districts.b
    household = register(b.area, b.enumerator, password, family("511502", ("赵一", "钱二", "赵三"), (11, 22, 33)))
    assert verify_small_area(b.area) == []
    signature = Signature.objects.get(pk=household.current_signature_id)
    message = ledger.stored_signature_message(
        {name: getattr(signature, name) for name in ledger.SIGNATURE_MESSAGE_FIELDS}
    )
    assert ledger.hmac_matches(message, signature.hmac, ledger.district_key("511502"))
    # Someone who holds district A's key (or the installation's) seals the same message: B does not accept it.
    for foreign in (ledger.district_key("511504"), ledger.ledger_key()):
        Signature.objects.filter(pk=signature.pk).update(hmac=ledger.message_hmac(message, foreign))
        assert [(m.kind, m.household_id) for m in verify_small_area(b.area)] == [("hmac", household.pk)]


def test_an_existing_districts_signatures_still_verify_after_the_upgrade(
    two_districts: TwoDistricts, password: str
) -> None:
    """A district made before keys per district signed with the installation's key: with version 0 (what the
    migration gives every district already stored) its ledger verifies, and it goes on signing with that key."""
    cast = two_districts.a
    old = District.objects.get(code="511504")
    old.ledger_key_version = 0
    old.save()
    household = register(
        cast.area_a1, cast.enumerator_a1, password, family("511521", ("王伟", "李芳", "王小明"), (11, 22, 33))
    )
    signature = Signature.objects.get(pk=household.current_signature_id)
    message = ledger.stored_signature_message(
        {name: getattr(signature, name) for name in ledger.SIGNATURE_MESSAGE_FIELDS}
    )
    assert signature.hmac == ledger.message_hmac(message, ledger.ledger_key())
    assert verify_small_area(cast.area_a1) == []
