"""Process rules (谁登记、谁签字): the signature ledger checked in SQL.

* ``SIGNED_BY_OTHER`` — a signed form whose current signature is not its registrar's;
* ``CONTENT_CHANGED_AFTER_SIGNING`` — the form as it is now no longer hashes to what was signed. The canonical
  content of ``enumeration.ledger`` (sorted-key JSON, empty values left out) is rebuilt byte for byte in SQL
  and hashed with PostgreSQL's ``sha256``, so a direct edit of any row is caught without reading a million rows
  into Python;
* ``SIGNATURE_CHAIN_BROKEN`` — a small area's chain: positions contiguous from 1, every ``prev_hash`` equal to
  the previous link, every HMAC valid. HMAC-SHA256 is composed from two ``sha256`` calls; the key's inner and
  outer pads are passed as query parameters (the key itself never is);
* ``SIGNATURE_IMAGE_CHANGED`` — the respondent's drawn signature (the PNG behind its data URL, decoded with
  PostgreSQL's ``decode(…, 'base64')``) no longer hashes to the SHA-256 the signed content holds;
* ``STATE_TRAIL_BROKEN`` and ``REGISTRAR_CHANGED`` — every household of a township (signed or not: a signed
  form quietly made a draft again is one of the things looked for) against its trail of sealed state changes:
  every change's HMAC valid and linked to the one before, the state where the last change left it, as many
  signings as signatures in the ledger, a current signature that is the latest, and the registrar the actor of
  the first change. In full runs only, like the content hash: these are edits behind the application's back.

``enumeration.verification`` does the same in Python; a test proves the two agree.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
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
    inner, outer = hmac_pads(ledger.district_key(context.district))
    return {"inner_pad": Binary(inner), "outer_pad": Binary(outer)}


_GENESIS = "encode(sha256(convert_to('census-2020-ledger-genesis:' || a.code, 'UTF8')), 'hex')"
# A signature row with its signed message and its link (the message's hash, which the next link names).
_LINK = (
    f"s.*, convert_to({_message('s')}, 'UTF8') AS message, "
    f"encode(sha256(convert_to({_message('s')}, 'UTF8')), 'hex') AS link"
)

# Every link of the chains in scope, with what it should be: its position (contiguous from 1) and the link before
# it. A full part reads every chain of its township (``q_chain_tail`` is then empty and unread). An incremental
# part verifies the links signed since its watermark only — ``q_chain_tail`` holds, per small area with a new
# signature, the first new position — reading the link just before them for its hash (``verify`` false: it was
# verified when it was new). Older links only change behind the application's back: that is the full run's to find,
# as it is for the areas without a change; so too a gap or an edit further back that a full run would also report
# at every later position.
CHAIN = f"""
SELECT s.*,
       CASE WHEN %(every_area)s THEN row_number() OVER w
            WHEN lag(s.seq) OVER w = s.seq - 1 OR (lag(s.seq) OVER w IS NULL AND s.seq = 1) THEN s.seq
            ELSE -1 END AS position,
       coalesce(lag(s.link) OVER w, {_GENESIS}) AS expected_prev,
       a.code AS area_code
FROM (SELECT {_LINK}, true AS verify
      FROM enumeration_signature s JOIN census_smallarea sa ON sa.id = s.small_area_id
      WHERE %(every_area)s AND sa.township_id = ANY(%(townships)s)
      UNION ALL
      SELECT {_LINK}, s.seq >= t.first AS verify
      FROM q_chain_tail t JOIN enumeration_signature s ON s.small_area_id = t.small_area_id AND s.seq >= t.first - 1
      WHERE NOT %(every_area)s) s
JOIN census_smallarea a ON a.id = s.small_area_id
WINDOW w AS (PARTITION BY s.small_area_id ORDER BY s.seq)
"""


def create_chain_tail(cursor: Any, since: datetime | None) -> None:
    """``q_chain_tail`` (small area, first position signed since ``since``) and ``q_chain_keys``, the keys of the
    findings those links can have (the incremental part's domain for the rule); both empty in a full part. A new
    signature changes its household (``updated_at``): the new links are those of ``q_changed`` signed since."""
    cursor.execute(
        """
        CREATE TEMP TABLE q_chain_tail ON COMMIT DROP AS
        SELECT s.small_area_id, min(s.seq) AS first
        FROM q_changed c JOIN enumeration_signature s ON s.household_id = c.id
        WHERE %(since)s::timestamptz IS NOT NULL AND s.signed_at > %(since)s
        GROUP BY s.small_area_id;
        ANALYZE q_chain_tail;
        CREATE TEMP TABLE q_chain_keys ON COMMIT DROP AS
        SELECT 'h' || s.household_id || ':seq' || s.seq AS key
        FROM q_chain_tail t JOIN enumeration_signature s ON s.small_area_id = t.small_area_id AND s.seq >= t.first;
        ANALYZE q_chain_keys;
        """,
        {"since": since},
    )


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
WHERE c.verify AND (c.position <> c.seq OR c.prev_hash <> c.expected_prev
   OR c.hmac <> encode(sha256(%(outer_pad)s || sha256(%(inner_pad)s || c.message)), 'hex'))
""",
    params=_pads,
    doc="Every small area's signature chain is unbroken and authentic.",
    settles="f.key IN (SELECT key FROM q_chain_keys)",
)

# The image's bytes as ``enumeration.ledger.image_bytes`` reads them, hashed, or NULL (a function of migration
# enumeration.ledger_image_sha256: ``decode`` itself would raise on a damaged image, or read more than Python).
_IMAGE_HASH = "ledger_image_sha256(c.signature_image)"

IMAGE_CHANGED = Check(
    name="SIGNATURE_IMAGE_CHANGED",
    codes=("SIGNATURE_IMAGE_CHANGED",),
    kind="household",
    group="process",
    sql=(
        "SELECT 'SIGNATURE_IMAGE_CHANGED', c.household_id, NULL::int, '', "
        + evidence(signed="c.signature_sha256", now="c.hash")
        + " FROM (SELECT h.id AS household_id, c.signature_sha256, c.signature_image, "
        + _IMAGE_HASH
        + " AS hash FROM q_hh h JOIN LATERAL ("
        "   SELECT c.refused, c.signature_sha256, c.signature_image FROM enumeration_respondentconfirmation c"
        "   WHERE c.household_id = h.id AND c.household_version = h.version"
        "   ORDER BY c.confirmed_at DESC, c.id DESC LIMIT 1) c ON true"
        " WHERE NOT c.refused) c WHERE c.hash IS DISTINCT FROM c.signature_sha256"
        # A self-reported form's declaration stands where a drawn image would (enumeration.self_enumeration):
        # no image, the SHA-256 of a declaration of the household (verify_signatures checks the declaration's seal).
        " AND NOT (c.signature_image = '' AND EXISTS (SELECT 1 FROM self_enumeration_declaration d"
        "   WHERE d.household_id = c.household_id AND d.content_hash = c.signature_sha256))"
    ),
    doc="The respondent's signature image is the one that was signed.",
)


def _transition_message(alias: str, prev: str) -> str:
    """``ledger.transition_message`` as SQL text (``prev``: the SQL of the previous change's HMAC)."""
    return (
        f"'t1|' || {alias}.household_id || '|' || {alias}.from_state || '|' || {alias}.to_state || '|' || "
        f"{alias}.actor_id || '|' || "
        f"to_char({alias}.at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US') || '+00:00|' || "
        f"{prev} || '|' || {alias}.reason"
    )


# Every household of the township with its trail (in (at, id) order, as the services write it and
# ``enumeration.verification`` walks it) and its signatures; one row per household that disagrees with them.
# Each household's changes and signatures are read through its own index entries (a join would read every
# change of the district for each township).
TRAIL = f"""
WITH hh AS (
    SELECT h.id, h.small_area_id, h.village_id, h.township_id, h.household_no, h.state, h.registrar_id,
           h.current_signature_id
    FROM enumeration_household h WHERE h.township_id = ANY(%(townships)s)
), judged AS (
    SELECT hh.*, t.first_actor, array_remove(ARRAY[
               CASE WHEN t.forged THEN 'transition' END,
               CASE WHEN hh.state <> coalesce(t.last_state, 'listed') THEN 'state' END,
               CASE WHEN coalesce(t.signings, 0) <> s.signatures
                      OR (hh.current_signature_id IS NOT NULL AND hh.current_signature_id IS DISTINCT FROM s.latest)
                    THEN 'signature' END], NULL) AS detail
    FROM hh
    LEFT JOIN LATERAL (
        SELECT bool_or(c.hmac <> encode(sha256(%(outer_pad)s || sha256(%(inner_pad)s || c.message)), 'hex')) AS forged,
               (array_agg(c.to_state ORDER BY c.position DESC))[1] AS last_state,
               -- Who the trail says the registrar is (ledger.trail_registrar): whom the form was last handed
               -- over to (a change from draft to draft), else who started it.
               coalesce((array_agg(c.actor_id ORDER BY c.position DESC)
                             FILTER (WHERE c.from_state = '{ledger.HANDOVER[0]}'
                                       AND c.to_state = '{ledger.HANDOVER[1]}'))[1],
                        (array_agg(c.actor_id ORDER BY c.position))[1]) AS first_actor,
               count(*) FILTER (WHERE c.to_state = 'signed') AS signings
        FROM (SELECT t.from_state, t.to_state, t.actor_id, t.hmac, row_number() OVER w AS position,
                     convert_to({_transition_message("t", "coalesce(lag(t.hmac) OVER w, '')")}, 'UTF8') AS message
              FROM enumeration_householdtransition t WHERE t.household_id = hh.id
              WINDOW w AS (ORDER BY t.at, t.id)) c
    ) t ON true
    CROSS JOIN LATERAL (
        SELECT count(*) AS signatures, (array_agg(s.id ORDER BY s.seq DESC))[1] AS latest
        FROM enumeration_signature s WHERE s.household_id = hh.id
    ) s
)
SELECT x.code, 'h' || j.id || ':' || x.suffix, a.code || lpad(j.household_no::text, 3, '0'), j.id, NULL::int, '',
       j.small_area_id, j.village_id, j.township_id, NULL::bigint, coalesce(j.first_actor, j.registrar_id),
       j.current_signature_id, x.evidence
FROM judged j JOIN census_smallarea a ON a.id = j.small_area_id
CROSS JOIN LATERAL (
    SELECT 'STATE_TRAIL_BROKEN', 'trail',
           {evidence(state="j.state", detail="to_jsonb(j.detail)")}
    WHERE cardinality(j.detail) > 0
    UNION ALL
    SELECT 'REGISTRAR_CHANGED', 'registrar',
           {
    evidence(
        registrar=f"(SELECT {_STAFF_NAME} FROM census_staffmember m WHERE m.id = j.registrar_id)",
        recorded=f"(SELECT {_STAFF_NAME} FROM census_staffmember m WHERE m.id = j.first_actor)",
    )
}
    WHERE j.registrar_id IS DISTINCT FROM j.first_actor
) x(code, suffix, evidence)
WHERE cardinality(j.detail) > 0 OR j.registrar_id IS DISTINCT FROM j.first_actor
"""

TRAIL_BROKEN = Check(
    name="STATE_TRAIL_BROKEN",
    codes=("STATE_TRAIL_BROKEN", "REGISTRAR_CHANGED"),
    kind="cross",
    group="process",
    sql=TRAIL,
    params=_pads,
    doc="Every household's state, signatures and registrar follow from its sealed trail of state changes.",
    # Every state change of the township re-sealed: three times the signature chain's HMACs (≈ 0.5 s a township
    # of 34,000 persons on the 2-core machine), for edits that only the weekly full run looks for anyway.
    full_runs_only=True,
)

# A household that declared its own form (自主填报, enumeration.self_enumeration) whose signed form was registered at
# the door instead (a self-reported form is signed with the collection mode "self"): the two are a duplicate.
SELF_AND_DOOR = Check(
    name="SELF_REPORTED_AND_DOOR",
    codes=("SELF_REPORTED_AND_DOOR",),
    kind="household",
    group="process",
    sql=(
        "SELECT 'SELF_REPORTED_AND_DOOR', h.id, NULL::int, '', "
        + evidence(confirmation="d.confirmation_no")
        + " FROM q_hh h JOIN LATERAL (SELECT d.confirmation_no FROM self_enumeration_declaration d"
        "   WHERE d.household_id = h.id ORDER BY d.declared_at DESC, d.id DESC LIMIT 1) d ON true"
        " WHERE h.collection_mode <> 'self'"
    ),
    doc="A household that declared its own form is not also registered at the door.",
)

HOUSEHOLD_CHECKS = [SIGNED_BY_OTHER, CONTENT_CHANGED, IMAGE_CHANGED, SELF_AND_DOOR]
CROSS_CHECKS = [CHAIN_BROKEN, TRAIL_BROKEN]
# Cross rules whose findings may be about a household in any state (the others are about signed forms only).
ANY_STATE_RULES = ("STATE_TRAIL_BROKEN", "REGISTRAR_CHANGED")
