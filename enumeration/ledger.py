"""The signature ledger's arithmetic: canonical content, content hash, chain links and HMAC.

Pure functions over plain values, shared by the signing service, ``verify_signatures``, the nightly checks
and the synthetic-district generator, so that all of them compute exactly the same bytes.

Canonical content is the sorted-key JSON of the household's form items, its persons (by row), its death
records and the respondent's confirmation. Empty values (None and "") are left out, so a form's hash does not
change when a column is added to the table later. The confirmation enters the content with the SHA-256 of the
respondent's drawn signature (the PNG's bytes), so the image itself is vouched for through that hash.

Besides the small areas' signature chains, each household has a trail of state changes (draft → signed →
approved …): every change carries an HMAC, under the same key, of the household, both states, who, when, why
and the HMAC of the household's change before it. The trail vouches for the form's state and, through the
actor of its first change (who started the form, and so became its registrar), for its registrar.
"""

from __future__ import annotations

import base64
import datetime
import functools
import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.conf import settings

# The form items that belong to the signed content, by table. Keep these in step with the models: a column
# that is not listed here is not protected by the signature. Whether a household is in the long-form sample
# is an office decision taken after the short form is signed, so it is not part of the content.
HOUSEHOLD_CONTENT_FIELDS: tuple[str, ...] = (
    "household_no",
    "form_kind",
    "h1_kind",
    "h2_present",
    "h2_away",
    "h3_births_male",
    "h3_births_female",
    "h4_deaths_male",
    "h4_deaths_female",
    "h5_residence_type",
    "h6_floor_area",
    "h7_rooms",
    "h8_storeys",
    "h9_structure",
    "h10_year_built",
    "h11_lift",
    "h12_cooking_fuel",
    "h13_piped_water",
    "h14_kitchen",
    "h15_toilet",
    "h16_bathing",
    "h17_tenure",
    "h18_rent",
    "h19_car_value",
    "collection_mode",
    "warning_notes",
)
PERSON_CONTENT_FIELDS: tuple[str, ...] = (
    "row_no",
    "d1_name",
    "d2_relationship",
    "d3_id_number",
    "d4_sex",
    "d5_birth_year",
    "d5_birth_month",
    "d6_ethnicity",
    "d7_residence",
    "d7_residence_county",
    "d8_hukou_place",
    "d8_hukou_county",
    "d9_away_duration",
    "d10_away_reason",
    "d11_education",
    "d12_literate",
    "c11_hukou_type",
    "c12_land_right",
    "c13_birthplace",
    "c13_birth_province",
    "c14_residence_5y",
    "c14_county",
    "c16_school_status",
    "c18_work",
    "c18_hours",
    "c19_unit_type",
    "c20_industry",
    "c21_occupation",
    "c22_not_working_reason",
    "c23_livelihood",
    "c24_marital",
    "c25_first_marriage_year",
    "c25_first_marriage_month",
    "c26_born_male",
    "c26_born_female",
    "c26_alive_male",
    "c26_alive_female",
    "c27_birth_last_year",
    "c28_living_arrangement",
    "c29_health",
    "f_identity",
    "f_nationality",
    "f_stay",
    "f_purpose",
    "f_employed",
)
DEATH_CONTENT_FIELDS: tuple[str, ...] = (
    "row_no",
    "name",
    "id_number",
    "sex",
    "birth_year",
    "birth_month",
    "death_year",
    "death_month",
    "ethnicity",
    "education",
    "marital",
)
RESPONDENT_CONTENT_FIELDS: tuple[str, ...] = ("name", "relationship", "signature_sha256", "refused", "refusal_reason")


def _sparse(values: Mapping[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    """The fields that hold something (no None, empty text or empty notes)."""
    get = values.get
    return {name: value for name in fields if (value := get(name)) is not None and value != "" and value != {}}


def canonical_content(
    *,
    small_area_code: str,
    household: Mapping[str, Any],
    persons: Iterable[Mapping[str, Any]],
    deaths: Iterable[Mapping[str, Any]] = (),
    respondent: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The signed content as a plain dict (what versions store and diffs compare)."""
    return {
        "small_area": small_area_code,
        "household": _sparse(household, HOUSEHOLD_CONTENT_FIELDS),
        "persons": sorted((_sparse(p, PERSON_CONTENT_FIELDS) for p in persons), key=lambda p: p["row_no"]),
        "deaths": sorted((_sparse(d, DEATH_CONTENT_FIELDS) for d in deaths), key=lambda d: d["row_no"]),
        "respondent": _sparse(respondent, RESPONDENT_CONTENT_FIELDS) if respondent else None,
    }


def canonical_bytes(content: Mapping[str, Any]) -> bytes:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def content_hash(content: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_bytes(content)).hexdigest()


def genesis_hash(small_area_code: str) -> str:
    """The ``prev_hash`` of the first signature in a small area."""
    return hashlib.sha256(f"census-2020-ledger-genesis:{small_area_code}".encode()).hexdigest()


def format_time(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).isoformat(timespec="microseconds")


def signature_message(
    *,
    household_id: int,
    household_version: int,
    signer_id: int,
    signer_role: str,
    signed_at: datetime.datetime,
    content_hash: str,
    prev_hash: str,
    seq: int,
) -> bytes:
    return "|".join(
        [
            "v1",
            str(household_id),
            str(household_version),
            str(signer_id),
            signer_role,
            format_time(signed_at),
            content_hash,
            prev_hash,
            str(seq),
        ]
    ).encode()


SIGNATURE_MESSAGE_FIELDS = (
    "household_id",
    "household_version",
    "signer_id",
    "signer_role",
    "signed_at",
    "content_hash",
    "prev_hash",
    "seq",
)


def stored_signature_message(row: Mapping[str, Any]) -> bytes:
    """The message of a signature as stored (a row read with at least ``SIGNATURE_MESSAGE_FIELDS``): what the
    verifier and the acceptance check recompute its HMAC over."""
    return signature_message(**{name: row[name] for name in SIGNATURE_MESSAGE_FIELDS})


def link_hash(message: bytes) -> str:
    """What the next signature in the small area stores as its ``prev_hash``."""
    return hashlib.sha256(message).hexdigest()


def transition_message(
    *,
    household_id: int,
    from_state: str,
    to_state: str,
    actor_id: int,
    at: datetime.datetime,
    prev_hmac: str,
    reason: str,
) -> bytes:
    """What a state change's HMAC is of. ``prev_hmac`` is the HMAC of the household's change before it (empty for
    its first), so a change removed from the middle of a trail breaks the one after it. The reason, free text,
    comes last: every field before it is free of "|", so no two changes give the same message."""
    return "|".join(
        ["t1", str(household_id), from_state, to_state, str(actor_id), format_time(at), prev_hmac, reason]
    ).encode()


def declaration_message(
    *,
    household_id: int,
    content_hash: str,
    declarant_relationship: int,
    declared_at: datetime.datetime,
    confirmation_no: str,
    declarant_name: str,
) -> bytes:
    """What a self-enumeration declaration's HMAC is of (``enumeration.self_enumeration``). The declarant's name,
    free text, comes last: every field before it is free of "|"."""
    return "|".join(
        [
            "d1",
            str(household_id),
            content_hash,
            str(declarant_relationship),
            format_time(declared_at),
            confirmation_no,
            declarant_name,
        ]
    ).encode()


# The ``prev_hmac`` of a household's first state change.
TRAIL_START = ""

# A form nobody has signed yet, handed over to another enumerator with its small area (census.staffing's
# small_area_reassign, enumeration.services.handover): the one change from a state to itself. Its actor is the
# form's registrar from then on.
HANDOVER = ("draft", "draft")


def trail_registrar(trail: Sequence[Mapping[str, Any]]) -> int | None:
    """Who a household's trail (its changes in order) says its registrar is: the actor of its last hand-over,
    else of its first change (who started the form: the services make them registrar)."""
    for change in reversed(trail):
        if (change["from_state"], change["to_state"]) == HANDOVER:
            return int(change["actor_id"])
    return int(trail[0]["actor_id"]) if trail else None


SIGNATURE_IMAGE_PREFIX = "data:image/png;base64,"


def image_bytes(data_url: str) -> bytes | None:
    """The PNG behind a respondent's ``data:image/png;base64,…`` signature, or ``None`` when the text is no such
    URL: base64 as a browser's canvas writes it — whole quanta of the alphabet, at most two "=" ending the last,
    nothing else. The nightly checks read it the same way in SQL (the function ``ledger_image_sha256`` of
    migration ``ledger_image_sha256``), and a property test holds the two together."""
    if not data_url.startswith(SIGNATURE_IMAGE_PREFIX):
        return None
    body = data_url[len(SIGNATURE_IMAGE_PREFIX) :]
    if len(body) % 4:
        return None
    try:
        # Strict: no character outside the alphabet (whitespace included), "=" only at the end.
        return base64.b64decode(body, validate=True)
    except ValueError:  # binascii.Error, or a character that is not ASCII
        return None


def image_sha256(data_url: str) -> str | None:
    """The SHA-256 (hex) of the drawn signature's bytes — what the confirmation's ``signature_sha256``, and
    through it the signed content, vouches for — or ``None`` when the text is no signature image."""
    raw = image_bytes(data_url)
    return hashlib.sha256(raw).hexdigest() if raw is not None else None


def ledger_key() -> bytes:
    """The installation's secret (``SIGNATURE_LEDGER_KEY``): what each district's key is derived from."""
    return str(settings.SIGNATURE_LEDGER_KEY).encode()


def hkdf_sha256(secret: bytes, *, salt: bytes, info: bytes, length: int = 32) -> bytes:
    """HKDF with SHA-256 (RFC 5869): extract a pseudorandom key from ``secret`` under ``salt``, expand it into
    ``length`` bytes bound to ``info``."""
    prk = hmac.digest(salt, secret, "sha256")
    out, block = b"", b""
    for counter in range(1, -(-length // 32) + 1):
        block = hmac.digest(prk, block + info + bytes([counter]), "sha256")
        out += block
    return out[:length]


LEDGER_KEY_SALT = b"census-2020-signature-ledger"


@functools.lru_cache(maxsize=64)
def _derived_key(secret: bytes, district: str) -> bytes:
    return hkdf_sha256(secret, salt=LEDGER_KEY_SALT, info=f"district:{district}".encode())


def district_key(area_code: str) -> bytes:
    """The key a district's signatures, state changes and declarations are sealed under, for any area code of
    the district (its first six digits are the district's code).

    One secret to keep — the installation's — and a distinct key per district, derived from it with HKDF: a
    signature made in one district does not verify as another's. A district whose ledger was begun before
    districts had keys of their own (``District.ledger_key_version`` 0) keeps the installation's key, so that
    what it signed then still verifies."""
    from census.models import district_key_version

    code = area_code[:6]
    if district_key_version(code) == 0:
        return ledger_key()
    return _derived_key(ledger_key(), code)


@functools.lru_cache(maxsize=4)
def _keyed(key: bytes) -> hmac.HMAC:
    """HMAC-SHA256 with the key's pads applied: each message then costs a copy (a seed seals a million)."""
    return hmac.new(key, digestmod=hashlib.sha256)


def message_hmac(message: bytes, key: bytes | None = None) -> str:
    keyed = _keyed(key if key is not None else ledger_key()).copy()
    keyed.update(message)
    return keyed.hexdigest()


def hmac_matches(message: bytes, mac: str, key: bytes | None = None) -> bool:
    return hmac.compare_digest(message_hmac(message, key), mac)


def content_diff(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Field-level changes between two canonical contents, in the form's own terms (item, row, field)."""
    changes: list[dict[str, Any]] = []
    before = before or {"household": {}, "persons": [], "deaths": [], "respondent": None}

    def compare(section: str, row: int | None, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        for name in sorted(set(old) | set(new)):
            if name == "row_no":
                continue
            if old.get(name) != new.get(name):
                changes.append(
                    {"section": section, "row": row, "field": name, "before": old.get(name), "after": new.get(name)}
                )

    compare("household", None, before.get("household", {}), after.get("household", {}))
    for section in ("persons", "deaths"):
        old_rows = {r["row_no"]: r for r in before.get(section, [])}
        new_rows = {r["row_no"]: r for r in after.get(section, [])}
        for row in sorted(set(old_rows) | set(new_rows)):
            compare(section, row, old_rows.get(row, {}), new_rows.get(row, {}))
    compare("respondent", None, before.get("respondent") or {}, after.get("respondent") or {})
    return changes
