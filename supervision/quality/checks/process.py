"""Process rules (谁登记、谁签字): the signature ledger checked in SQL.

* ``SIGNED_BY_OTHER`` — a signed form whose current signature is not its registrar's;
* ``CONTENT_CHANGED_AFTER_SIGNING`` — the form as it is now no longer hashes to what was signed. The canonical
  content of ``enumeration.ledger`` (sorted-key JSON, empty values left out) is rebuilt byte for byte in SQL
  and hashed with PostgreSQL's ``sha256``, so a direct edit of any row is caught without reading a million rows
  into Python;
* ``SIGNATURE_CHAIN_BROKEN`` — a small area's chain: positions contiguous from 1, every ``prev_hash`` equal to
  the previous link, every HMAC valid. HMAC-SHA256 is composed from two ``sha256`` calls; the key's inner and
  outer pads are passed as query parameters (the key itself never is). ``enumeration.verification`` does the
  same walk in Python; a test proves the two agree.
"""

from __future__ import annotations

import hashlib
from typing import Any

from psycopg2 import Binary

from enumeration import ledger
from supervision.quality.checks.base import Check, PartContext, evidence

TEXT_FIELDS = {
    "form_kind",
    "collection_mode",
    "d1_name",
    "d3_id_number",
    "d6_ethnicity",
    "d7_residence_county",
    "d8_hukou_county",
    "c13_birth_province",
    "c14_county",
    "c20_industry",
    "c21_occupation",
    "f_nationality",
    "name",
    "id_number",
    "ethnicity",
    "signature_sha256",
    "refusal_reason",
}
BOOLEAN_FIELDS = {"refused"}


def _member(alias: str, field: str) -> str:
    """One ``"field":value`` member of a canonical object, or NULL when ``_sparse`` leaves it out (a NULL value
    makes the whole concatenation NULL, and ``concat_ws`` skips it)."""
    column = f"{alias}.{field}"
    if field == "warning_notes":
        notes = (
            f"(SELECT '{{' || string_agg(to_json(n.key)::text || ':' || n.value::text, ',' "
            f"ORDER BY n.key COLLATE \"C\") || '}}' FROM jsonb_each({column}) n)"
        )
        return f"CASE WHEN {column} <> '{{}}'::jsonb THEN '\"{field}\":' || {notes} END"
    if field in TEXT_FIELDS:
        return f"'\"{field}\":' || to_json(nullif({column}, ''))::text"
    if field in BOOLEAN_FIELDS:
        return f"'\"{field}\":' || CASE WHEN {column} THEN 'true' WHEN NOT {column} THEN 'false' END"
    return f"'\"{field}\":' || {column}"


def canonical_object(alias: str, fields: tuple[str, ...]) -> str:
    members = ", ".join(_member(alias, field) for field in sorted(fields))
    return f"('{{' || concat_ws(',', {members}) || '}}')"


PERSON_OBJECT = canonical_object("p", ledger.PERSON_CONTENT_FIELDS)
DEATH_OBJECT = canonical_object("d", ledger.DEATH_CONTENT_FIELDS)
HOUSEHOLD_OBJECT = canonical_object("h", ledger.HOUSEHOLD_CONTENT_FIELDS)
RESPONDENT_OBJECT = canonical_object("r", ledger.RESPONDENT_CONTENT_FIELDS)

# The canonical content of every household in q_hh, as the ledger's ``canonical_bytes`` spells it.
CONTENT = f"""
SELECT h.id AS household_id, h.signature_id, h.signed_hash, h.signature_household_id,
  '{{"deaths":[' || coalesce((SELECT string_agg({DEATH_OBJECT}, ',' ORDER BY d.row_no) FROM q_d d
                              WHERE d.household_id = h.id), '') ||
  '],"household":' || {HOUSEHOLD_OBJECT} ||
  ',"persons":[' || coalesce(pp.persons, '') ||
  '],"respondent":' || coalesce((SELECT {RESPONDENT_OBJECT} FROM enumeration_respondentconfirmation r
                                 WHERE r.household_id = h.id AND r.household_version = h.version
                                 ORDER BY r.confirmed_at DESC, r.id DESC LIMIT 1), 'null') ||
  ',"small_area":' || to_json(h.area_code)::text || '}}' AS content
FROM q_hh h
LEFT JOIN (SELECT p.household_id, string_agg({PERSON_OBJECT}, ',' ORDER BY p.row_no) AS persons
           FROM q_p p GROUP BY p.household_id) pp ON pp.household_id = h.id
"""

_STAFF_NAME = "coalesce(nullif(m.last_name || m.first_name, ''), m.username)"

SIGNED_BY_OTHER = Check(
    name="SIGNED_BY_OTHER",
    codes=("SIGNED_BY_OTHER",),
    kind="household",
    group="process",
    sql=(
        "SELECT 'SIGNED_BY_OTHER', h.id, NULL::int, '', "
        + evidence(
            signer=f"(SELECT {_STAFF_NAME} FROM census_staffmember m WHERE m.id = h.signer_id)",
            registrar=f"(SELECT {_STAFF_NAME} FROM census_staffmember m WHERE m.id = h.registrar_id)",
        )
        + " FROM q_hh h WHERE h.signer_id IS DISTINCT FROM h.registrar_id"
    ),
    doc="The registrar signs their own form (谁登记、谁签字).",
)

CONTENT_CHANGED = Check(
    name="CONTENT_CHANGED_AFTER_SIGNING",
    codes=("CONTENT_CHANGED_AFTER_SIGNING",),
    kind="household",
    group="process",
    sql=(
        "SELECT 'CONTENT_CHANGED_AFTER_SIGNING', c.household_id, NULL::int, '', "
        + evidence(signed="c.signed_hash", now="c.hash")
        + " FROM (SELECT x.*, encode(sha256(convert_to(x.content, 'UTF8')), 'hex') AS hash "
        f"FROM ({CONTENT}) x) c "
        "WHERE c.signed_hash IS NULL OR c.signature_household_id <> c.household_id OR c.signed_hash <> c.hash"
    ),
    doc="The form still hashes to what was signed.",
)


def _message(alias: str) -> str:
    """``ledger.signature_message`` as SQL text."""
    return (
        f"'v1|' || {alias}.household_id || '|' || {alias}.household_version || '|' || {alias}.signer_id || '|' || "
        f"{alias}.signer_role || '|' || "
        f"to_char({alias}.signed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US') || '+00:00|' || "
        f"{alias}.content_hash || '|' || {alias}.prev_hash || '|' || {alias}.seq"
    )


def hmac_pads(key: bytes | None = None) -> tuple[bytes, bytes]:
    """The inner and outer pads of HMAC-SHA256 (RFC 2104) for the ledger key."""
    key = key if key is not None else ledger.ledger_key()
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


def _pads(context: PartContext) -> dict[str, Any]:
    inner, outer = hmac_pads()
    return {"inner_pad": Binary(inner), "outer_pad": Binary(outer)}


CHAIN = f"""
SELECT s.*, row_number() OVER w AS position,
       coalesce(lag(s.link) OVER w, encode(sha256(convert_to('census-2020-ledger-genesis:' || a.code, 'UTF8')), 'hex'))
         AS expected_prev,
       a.code AS area_code
FROM (SELECT s.*, convert_to({_message("s")}, 'UTF8') AS message,
             encode(sha256(convert_to({_message("s")}, 'UTF8')), 'hex') AS link
      FROM enumeration_signature s JOIN census_smallarea sa ON sa.id = s.small_area_id
      WHERE sa.township_id = %(township)s) s
JOIN census_smallarea a ON a.id = s.small_area_id
WINDOW w AS (PARTITION BY s.small_area_id ORDER BY s.seq)
"""

CHAIN_BROKEN = Check(
    name="SIGNATURE_CHAIN_BROKEN",
    codes=("SIGNATURE_CHAIN_BROKEN",),
    kind="cross",
    group="process",
    sql=f"""
SELECT 'SIGNATURE_CHAIN_BROKEN', 'h' || c.household_id || ':seq' || c.seq,
       c.area_code || lpad(h.household_no::text, 3, '0'),
       c.household_id, NULL::int, '', h.small_area_id, h.village_id, h.township_id, NULL::bigint,
       c.signer_id, h.current_signature_id,
       jsonb_build_object('seq', c.seq, 'detail', to_jsonb(array_remove(ARRAY[
           CASE WHEN c.position <> c.seq THEN 'sequence' END,
           CASE WHEN c.prev_hash <> c.expected_prev THEN 'chain' END,
           CASE WHEN c.hmac <> encode(sha256(%(outer_pad)s || sha256(%(inner_pad)s || c.message)), 'hex')
                THEN 'hmac' END], NULL)))
FROM ({CHAIN}) c JOIN enumeration_household h ON h.id = c.household_id
WHERE c.position <> c.seq OR c.prev_hash <> c.expected_prev
   OR c.hmac <> encode(sha256(%(outer_pad)s || sha256(%(inner_pad)s || c.message)), 'hex')
""",
    params=_pads,
    doc="Every small area's signature chain is unbroken and authentic.",
)

HOUSEHOLD_CHECKS = [SIGNED_BY_OTHER, CONTENT_CHANGED]
CROSS_CHECKS = [CHAIN_BROKEN]
