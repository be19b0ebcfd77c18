"""Property tests (hypothesis) for the ID-number logic, the masks, the area-code validation and the ledger's SQL
twin."""

from __future__ import annotations

import base64
import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from psycopg2 import Binary

from census import privacy
from census.models import District, SmallArea, Township, TownshipKind, Village, VillageKind
from census.models.areas import TOWNSHIP_CODE_RANGES, UrbanRuralCode
from enumeration import identity, ledger
from enumeration.models import HouseholdState
from supervision.quality.checks import process

DIGITS = "0123456789"
digits = st.text(alphabet=DIGITS, min_size=1, max_size=1)
first17 = st.text(alphabet=DIGITS, min_size=17, max_size=17)
birth_dates = st.dates(min_value=datetime.date(1900, 1, 1), max_value=datetime.date(2020, 10, 31))
address_codes = st.sampled_from(["511504", "511521", "512527", "110105", "440305"])
sequences = st.integers(min_value=0, max_value=999)
DB_EXAMPLES = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def reference_check(first: str) -> str:
    """ISO 7064 MOD 11-2 written out, independently of python-stdnum."""
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(first))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


# --- the check character ---------------------------------------------------------------------------------


@given(first17)
@example("11010519491231002")  # GB 11643's own example: 11010519491231002X
def test_the_check_character_is_iso_7064_mod_11_2(first: str) -> None:
    assert identity.check_character(first) == reference_check(first)


def test_the_standards_example() -> None:
    assert identity.check_character("11010519491231002") == "X"


@given(first17, st.integers(min_value=0, max_value=16), digits)
def test_any_single_wrong_digit_is_caught(first: str, position: int, digit: str) -> None:
    assume(first[position] != digit)
    number = first + identity.check_character(first)
    typo = number[:position] + digit + number[position + 1 :]
    assert not identity.read_id_number(typo).checksum_ok


@given(first17, st.integers(min_value=0, max_value=15))
def test_any_swap_of_two_neighbouring_digits_is_caught(first: str, position: int) -> None:
    assume(first[position] != first[position + 1])
    number = first + identity.check_character(first)
    swapped = number[:position] + number[position + 1] + number[position] + number[position + 2 :]
    assert not identity.read_id_number(swapped).checksum_ok


# --- reading a number --------------------------------------------------------------------------------------


@given(address_codes, birth_dates, sequences)
def test_a_composed_number_reads_back_its_birth_date_and_sex(address: str, birth: datetime.date, seq: int) -> None:
    number = identity.make_id_number(address, birth, seq)
    facts = identity.read_id_number(number)
    assert facts.well_formed and facts.checksum_ok
    assert facts.birth_date == birth and (facts.birth_year, facts.birth_month) == (birth.year, birth.month)
    assert facts.sex == (1 if seq % 2 == 1 else 2)  # odd sequence: male
    assert facts.address_code == address and facts.address_known
    if number.endswith("X"):
        assert identity.read_id_number(number.lower()) == facts


@given(first17)
def test_an_impossible_birth_date_is_read_as_none_not_an_error(first: str) -> None:
    number = first + identity.check_character(first)
    facts = identity.read_id_number(number)
    try:
        expected: datetime.date | None = datetime.date(int(first[6:10]), int(first[10:12]), int(first[12:14]))
    except ValueError:
        expected = None
    assert facts.well_formed and facts.checksum_ok and facts.birth_date == expected


@given(st.text(max_size=25))
@example("511504198001010017")
@example("٥١١٥٠٤١٩٨٠٠١٠١٠٠١7")  # Arabic-Indic digits: str.isdigit() says yes, but this is no ID number
@example("51150419800101001²")
def test_anything_that_is_not_17_digits_and_a_digit_or_x_is_not_well_formed(text: str) -> None:
    facts = identity.read_id_number(text)
    compact = identity.normalise(text)
    shaped = len(compact) == 18 and compact[:17].isdigit() and (compact[17].isdigit() or compact[17] == "X")
    shaped = shaped and compact.isascii()
    assert facts.well_formed == shaped
    if not facts.well_formed:
        assert not facts.checksum_ok and facts.birth_date is None and facts.sex is None


# --- 15 → 18 ----------------------------------------------------------------------------------------------


@given(st.text(alphabet=DIGITS, min_size=15, max_size=15))
def test_a_15_digit_number_becomes_a_valid_18_digit_one(old: str) -> None:
    new = identity.upgrade_15_to_18(old)
    assert len(new) == 18 and new[:6] == old[:6] and new[6:8] == "19" and new[8:17] == old[6:]
    facts = identity.read_id_number(new)
    assert facts.checksum_ok
    try:
        born: datetime.date | None = datetime.date(1900 + int(old[6:8]), int(old[8:10]), int(old[10:12]))
    except ValueError:
        born = None
    assert facts.birth_date == born
    assert facts.sex == (1 if int(old[14]) % 2 else 2)  # the sex digit keeps its place at the end


@given(st.text(max_size=20))
def test_only_15_digits_can_be_upgraded(text: str) -> None:
    compact = identity.normalise(text)
    assume(not (len(compact) == 15 and compact.isdigit() and compact.isascii()))
    with pytest.raises(ValueError):
        identity.upgrade_15_to_18(text)


# --- masks -------------------------------------------------------------------------------------------------


@given(address_codes, birth_dates, sequences)
def test_a_masked_id_number_hides_the_birth_date_and_keeps_its_length(
    address: str, birth: datetime.date, seq: int
) -> None:
    number = identity.make_id_number(address, birth, seq)
    masked = identity.mask_id_number(number)
    assert len(masked) == 18 and masked[:4] == number[:4] and masked[-4:] == number[-4:]
    assert masked[4:14] == "*" * 10  # digits 5–14: the rest of the place, and the whole birth date


@given(st.text(max_size=30))
def test_a_mask_never_shows_more_than_eight_characters(text: str) -> None:
    masked = identity.mask_id_number(text)
    assert len(masked) == len(text)
    assert sum(1 for a, b in zip(masked, text, strict=True) if a == b and a != "*") <= 8
    if len(text) <= 8:
        assert set(masked) <= {"*"}


@given(st.text(min_size=1, max_size=12))
def test_a_masked_name_keeps_the_family_name_only(name: str) -> None:
    masked = identity.mask_name(name)
    assert masked[0] == name[0] and set(masked[1:]) == {"*"}
    assert len(masked) == max(2, len(name))


@given(st.text(max_size=30))
def test_the_census_masks_equal_the_enumeration_masks(text: str) -> None:
    assert privacy.mask_id_number(text) == identity.mask_id_number(text)
    assert privacy.mask_name(text) == identity.mask_name(text)


# --- area codes: clean() and the database agree ---------------------------------------------------------

district_codes = st.from_regex(r"\A[1-9][0-9]{5}\Z")
locals_ = st.integers(min_value=0, max_value=999)
township_kinds = st.sampled_from(list(TownshipKind))


def _db_accepts(obj: object) -> bool:
    try:
        with transaction.atomic():
            obj.save()  # type: ignore[attr-defined]
            transaction.set_rollback(True)
        return True
    except IntegrityError:
        return False


def _clean_accepts(obj: object) -> bool:
    try:
        obj.clean()  # type: ignore[attr-defined]
        return True
    except ValidationError:
        return False


@pytest.mark.django_db
@DB_EXAMPLES
@given(district_codes, locals_, township_kinds)
def test_a_township_code_passes_clean_exactly_when_the_database_takes_it(
    district_code: str, local: int, kind: str
) -> None:
    district, _ = District.objects.get_or_create(code=district_code, defaults={"name": "区"})
    township = Township(code=f"{district_code}{local:03d}", district=district, name="镇", kind=kind)
    low, high = TOWNSHIP_CODE_RANGES[kind]
    assert _clean_accepts(township) == (low <= local <= high)
    assert _clean_accepts(township) == _db_accepts(township)


@given(district_codes, st.text(alphabet=DIGITS + "a ", max_size=12))
def test_a_township_code_that_is_not_nine_digits_of_its_district_is_refused(district_code: str, code: str) -> None:
    assume(not (len(code) == 9 and code.isdigit() and code.startswith(district_code)))
    township = Township(code=code, district_id=district_code, name="镇", kind=TownshipKind.TOWN)
    with pytest.raises(ValidationError) as refused:
        township.clean()
    assert "code" in refused.value.message_dict or "kind" in refused.value.message_dict


@pytest.fixture
def township(db: None) -> Township:
    district = District.objects.create(code="511504", name="叙州区")
    return Township.objects.create(code="511504101", district=district, name="甲镇", kind=TownshipKind.TOWN)


@pytest.mark.django_db
@DB_EXAMPLES
@given(st.integers(min_value=0, max_value=999), st.sampled_from(list(VillageKind)))
def test_a_village_code_clean_accepts_is_one_the_database_takes(township: Township, local: int, kind: str) -> None:
    from django.conf import settings as django_settings

    village = Village(
        code=f"{township.code}{local:03d}",
        township=township,
        name="村",
        kind=kind,
        urban_rural_code=UrbanRuralCode.VILLAGE,
    )
    ranges = django_settings.CENSUS_VILLAGE_CODE_RANGES[kind]
    assert _clean_accepts(village) == (local != 0 and any(lo <= local <= hi for lo, hi in ranges))
    if _clean_accepts(village):
        assert _db_accepts(village)
    if local == 0:
        assert not _db_accepts(village)


@given(st.text(alphabet=DIGITS + "x", max_size=16))
def test_a_village_code_must_be_twelve_digits_under_its_township(code: str) -> None:
    assume(not (len(code) == 12 and code.isdigit() and code.startswith("511504101")))
    village = Village(code=code, township_id="511504101", name="村", kind=VillageKind.VILLAGERS, urban_rural_code=220)
    with pytest.raises(ValidationError):
        village.clean()


@pytest.mark.django_db
@DB_EXAMPLES
@given(st.integers(min_value=0, max_value=999))
def test_a_small_area_code_clean_accepts_is_one_the_database_takes(township: Township, local: int) -> None:
    village, _ = Village.objects.get_or_create(
        code=f"{township.code}201",
        defaults={"township": township, "name": "村", "kind": VillageKind.VILLAGERS, "urban_rural_code": 220},
    )
    area = SmallArea(code=f"{village.code}{local:03d}", village=village, township=township, name="小区")
    assert _clean_accepts(area) == (local != 0) == _db_accepts(area)
    if local >= 900:
        assert area.is_virtual


@given(st.text(alphabet=DIGITS + "-", max_size=17))
def test_a_small_area_code_must_be_fifteen_digits_under_its_village(code: str) -> None:
    assume(not (len(code) == 15 and code.isdigit() and code.startswith("511504101201") and not code.endswith("000")))
    area = SmallArea(code=code, village_id="511504101201", township_id="511504101")
    with pytest.raises(ValidationError):
        area.clean()


# --- the ledger's arithmetic and its SQL twin in the nightly checks -------------------------------------------

BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
image_texts = st.one_of(
    st.binary(max_size=64).map(lambda raw: ledger.SIGNATURE_IMAGE_PREFIX + base64.b64encode(raw).decode()),
    st.text(alphabet=BASE64, max_size=24).map(lambda text: ledger.SIGNATURE_IMAGE_PREFIX + text),
    st.text(alphabet=BASE64 + " \t\r\n-_.\u00e9", max_size=24).map(lambda text: ledger.SIGNATURE_IMAGE_PREFIX + text),
    st.text(max_size=40).filter(lambda text: "\x00" not in text),
)
# Whatever PostgreSQL stores as text: no NUL, no lone surrogate.
stored_texts = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=500)
moments = st.datetimes(
    min_value=datetime.datetime(1990, 1, 1),
    max_value=datetime.datetime(2090, 12, 31),
    timezones=st.sampled_from([datetime.UTC, datetime.timezone(datetime.timedelta(hours=8))]),
)
states = st.sampled_from([state.value for state in HouseholdState])


@pytest.mark.django_db
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(image_texts)
@example(ledger.SIGNATURE_IMAGE_PREFIX + "QUJ=")  # padding over non-zero bits
@example(ledger.SIGNATURE_IMAGE_PREFIX + "QUI=QUI=")  # data after the padding (PostgreSQL's decode takes it)
@example(ledger.SIGNATURE_IMAGE_PREFIX + "QU=A")  # padding in the middle (ditto)
@example(ledger.SIGNATURE_IMAGE_PREFIX + "QU I=")  # whitespace (which decode skips)
@example(ledger.SIGNATURE_IMAGE_PREFIX + "0000=")  # excess padding (which Python's strict decoding takes)
@example(ledger.SIGNATURE_IMAGE_PREFIX + "QUJ\u00e9")  # a character outside the alphabet
def test_a_signature_image_hashes_to_the_same_in_sql_as_in_python(text: str) -> None:
    """The nightly SIGNATURE_IMAGE_CHANGED reads the image as ``verify_signatures`` does: the same digest, or
    none for both (and no error from ``decode`` whatever the text)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {process._IMAGE_HASH} FROM (SELECT %s::text AS signature_image) c", [text])
        in_sql = cursor.fetchone()[0]
    assert in_sql == ledger.image_sha256(text)


@pytest.mark.django_db
@DB_EXAMPLES
@given(st.integers(1, 2**62), states, states, st.integers(1, 2**62), moments, stored_texts, stored_texts)
def test_a_state_change_s_hmac_is_the_same_in_sql_as_in_python(
    household: int, before: str, after: str, actor: int, at: datetime.datetime, prev: str, reason: str
) -> None:
    inner, outer = process.hmac_pads()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT encode(sha256(%(outer)s || sha256(%(inner)s || convert_to("
            + process._transition_message("t", "%(prev)s")
            + ", 'UTF8'))), 'hex') FROM (SELECT %(household)s::bigint AS household_id, %(before)s::text AS from_state,"
            " %(after)s::text AS to_state, %(actor)s::bigint AS actor_id, %(at)s::timestamptz AS at,"
            " %(reason)s::text AS reason) t",
            {
                "inner": Binary(inner),
                "outer": Binary(outer),
                "prev": prev,
                "household": household,
                "before": before,
                "after": after,
                "actor": actor,
                "at": at,
                "reason": reason,
            },
        )
        in_sql = cursor.fetchone()[0]
    message = ledger.transition_message(
        household_id=household, from_state=before, to_state=after, actor_id=actor, at=at, prev_hmac=prev, reason=reason
    )
    assert in_sql == ledger.message_hmac(message)
