"""Verifying the signature ledger against what is in the database now.

For every small area:

1. walk its signature chain in ``seq`` order — positions contiguous from 1, each ``prev_hash`` equal to the
   previous link, each HMAC valid under the ledger key;
2. recompute the content hash of every household whose form is in a signed state, from its rows as they are
   now, and re-hash the respondent's drawn signature (the PNG's bytes) against the SHA-256 the content holds;
3. walk every household's trail of state changes in (``at``, ``id``) order — each HMAC valid and linked to the
   change before it — and check that the household agrees with its trail and its signatures: its state is
   where its last change left it; it was signed as often as the ledger holds signatures of it; a form in a
   signed state stands on its latest signature (another form may stand on none, or on that one); and its
   registrar is who started the form (the actor of its first change, the one the services make registrar).

Anything that does not match is a :class:`Mismatch` naming the household; a direct edit of any of these rows in
the database shows up here. What remains out of reach: the newest signature of a small area together with
everything that refers to it can be removed without breaking a chain (a chain's end has no successor to
notice), and rows written before the trail was sealed are vouched for as they stood at the upgrade.

Reads are set-based per small area (one query per table), so a whole district is verified in one pass.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from census.models import SmallArea
from enumeration import ledger
from enumeration.models import (
    SIGNED_STATES,
    DeathRecord,
    Household,
    HouseholdState,
    HouseholdTransition,
    Person,
    RespondentConfirmation,
    Signature,
)
from enumeration.models.households import household_key
from enumeration.self_enumeration.models import Declaration

# What a mismatch is about. content | missing_signature | image: a signed form against what was signed;
# sequence | chain | hmac: a small area's signature chain; transition: a state change that does not verify;
# state: a household's state or current signature that does not follow from its trail and its signatures;
# registrar: a registrar who is not the one the trail records.
# declaration: a self-reported form's declaration (enumeration.self_enumeration) that does not verify.
KINDS = (
    "content",
    "missing_signature",
    "image",
    "declaration",
    "sequence",
    "chain",
    "hmac",
    "transition",
    "state",
    "registrar",
)


@dataclass(frozen=True)
class Mismatch:
    small_area: str
    kind: str
    household_id: int | None
    signature_id: int | None
    detail: str
    detail_zh: str = ""
    household_no: int | None = None

    @property
    def household_key(self) -> str | None:
        return household_key(self.small_area, self.household_no) if self.household_no is not None else None

    def __str__(self) -> str:
        if self.household_id is not None:
            target = f"户 {self.household_key or '?'}（household {self.household_id}）"
        else:
            target = f"签名 signature {self.signature_id}"
        return f"{self.small_area} {self.kind} — {target}：{self.detail_zh} / {self.detail}"


def contents_by_household(households: Iterable[dict[str, Any]], small_area_code: str) -> dict[int, dict[str, Any]]:
    """Canonical contents of the given household rows (dicts from ``.values()``), read in three queries."""
    rows = {row["id"]: row for row in households}
    if not rows:
        return {}
    ids = list(rows)
    persons: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for person in Person.objects.filter(household_id__in=ids).values(*ledger.PERSON_CONTENT_FIELDS, "household_id"):
        persons[person["household_id"]].append(person)
    deaths: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for death in DeathRecord.objects.filter(household_id__in=ids).values(*ledger.DEATH_CONTENT_FIELDS, "household_id"):
        deaths[death["household_id"]].append(death)
    respondents: dict[tuple[int, int], dict[str, Any]] = {}
    for confirmation in (
        RespondentConfirmation.objects.filter(household_id__in=ids)
        .order_by("household_id", "confirmed_at", "id")
        .values(*ledger.RESPONDENT_CONTENT_FIELDS, "household_id", "household_version")
    ):
        # The latest confirmation of each version counts.
        respondents[(confirmation["household_id"], confirmation["household_version"])] = confirmation
    return {
        household_id: ledger.canonical_content(
            small_area_code=small_area_code,
            household=row,
            persons=persons[household_id],
            deaths=deaths[household_id],
            respondent=respondents.get((household_id, row["version"])),
        )
        for household_id, row in rows.items()
    }


def household_content(household: Household) -> dict[str, Any]:
    """The canonical content of one household as it is in the database now."""
    row = Household.objects.filter(pk=household.pk).values(*ledger.HOUSEHOLD_CONTENT_FIELDS, "id", "version").get()
    return contents_by_household([row], household.small_area.code)[household.pk]


def signature_images(households: Iterable[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """The confirmation each household's signed content holds (the latest of its current version), with the
    drawn image, for the households that have one."""
    versions = {row["id"]: row["version"] for row in households}
    latest: dict[int, dict[str, Any]] = {}
    for confirmation in (
        RespondentConfirmation.objects.filter(household_id__in=list(versions))
        .order_by("household_id", "confirmed_at", "id")
        .values(
            "household_id",
            "household_version",
            "refused",
            "signature_sha256",
            "signature_image",
            "name",
            "relationship",
        )
    ):
        if confirmation["household_version"] == versions[confirmation["household_id"]]:
            latest[confirmation["household_id"]] = dict(confirmation)
    return latest


def image_matches(confirmation: dict[str, Any]) -> bool:
    """A refusal has no image; a drawn signature hashes to the SHA-256 that was signed."""
    if confirmation["refused"]:
        return True
    return ledger.image_sha256(confirmation["signature_image"]) == confirmation["signature_sha256"]


def is_declaration(confirmation: dict[str, Any]) -> bool:
    """A self-reported form's confirmation: no drawn image, the declared content's SHA-256 in its place."""
    return not confirmation["refused"] and not confirmation["signature_image"]


def declarations_by_hash(household_ids: list[int]) -> dict[tuple[int, str], dict[str, Any]]:
    return {
        (row["household_id"], row["content_hash"]): dict(row)
        for row in Declaration.objects.filter(household_id__in=household_ids).values(
            "household_id",
            "content",
            "content_hash",
            "declarant_name",
            "declarant_relationship",
            "declared_at",
            "confirmation_no",
            "hmac",
        )
    }


def declaration_problem(
    confirmation: dict[str, Any], declaration: dict[str, Any] | None, key: bytes
) -> tuple[str, str] | None:
    """How a self-reported form's confirmation disagrees with the household's sealed declaration (sealed under
    ``key``, its district's), in English and Chinese, or ``None``."""
    if declaration is None:
        return (
            "no declaration of the household has the SHA-256 that was signed",
            "没有与签字时 SHA-256 相符的住户申报",
        )
    message = ledger.declaration_message(
        household_id=confirmation["household_id"],
        content_hash=declaration["content_hash"],
        declarant_relationship=declaration["declarant_relationship"],
        declared_at=declaration["declared_at"],
        confirmation_no=declaration["confirmation_no"],
        declarant_name=declaration["declarant_name"],
    )
    if not ledger.hmac_matches(message, declaration["hmac"], key):
        return ("the household's declaration does not verify (altered or forged)", "住户申报无法核验（被改动或伪造）")
    if ledger.content_hash(declaration["content"]) != declaration["content_hash"]:
        return ("the declared content no longer hashes to what was declared", "申报内容与申报时的 SHA-256 不符")
    if (confirmation["name"], confirmation["relationship"]) != (
        declaration["declarant_name"],
        declaration["declarant_relationship"],
    ):
        return ("the signed respondent is not the declarant", "签字的申报人与住户申报不符")
    return None


@dataclass(frozen=True)
class TrailFinding:
    """What is wrong with one household's trail, in both languages."""

    kind: str
    zh: str
    en: str


def trail_findings(
    household: dict[str, Any], trail: list[dict[str, Any]], signature_ids: list[int], key: bytes
) -> list[TrailFinding]:
    """How ``household`` (state, registrar, current signature) disagrees with its ``trail`` (its state changes
    in (at, id) order, sealed under ``key``, its district's) and the ids of its ``signature_ids`` in the ledger
    (in chain order)."""
    found: list[TrailFinding] = []
    prev = ledger.TRAIL_START
    for position, change in enumerate(trail, start=1):
        message = ledger.transition_message(
            household_id=change["household_id"],
            from_state=change["from_state"],
            to_state=change["to_state"],
            actor_id=change["actor_id"],
            at=change["at"],
            prev_hmac=prev,
            reason=change["reason"],
        )
        if not ledger.hmac_matches(message, change["hmac"], key):
            when = ledger.format_time(change["at"])
            found.append(
                TrailFinding(
                    "transition",
                    f"第{position}次状态变更（{change['from_state']} → {change['to_state']}，{when}）无法核验："
                    "被改动、伪造，或它之前的一次被删除",
                    f"state change {position} ({change['from_state']} → {change['to_state']}, {when}) does not "
                    "verify: altered, forged, or one before it removed",
                )
            )
        # The next change links to this one as stored: one altered row is reported once, not with all after it.
        prev = change["hmac"]

    state, problems_zh, problems_en = household["state"], [], []
    last_state = trail[-1]["to_state"] if trail else HouseholdState.LISTED
    if state != last_state:
        if trail:
            problems_zh.append(f"表的状态为 {state}，但最后一次状态变更是到 {last_state}")
            problems_en.append(f"the form is {state}, but its last recorded state change is to {last_state}")
        else:
            problems_zh.append(f"表的状态为 {state}，但没有任何状态变更记录")
            problems_en.append(f"the form is {state} without any recorded state change")
    signings = sum(1 for change in trail if change["to_state"] == HouseholdState.SIGNED)
    if signings != len(signature_ids):
        problems_zh.append(f"账本中有这张表的{len(signature_ids)}个签名，状态变更记录中签字{signings}次")
        problems_en.append(
            f"the ledger holds {len(signature_ids)} signature(s) of the form, its trail {signings} signing(s)"
        )
    latest = signature_ids[-1] if signature_ids else None
    current = household["current_signature_id"]
    # (A form in a signed state always has a current signature: the database's household_signed_state_has_signature.)
    if current is not None and current != latest:
        problems_zh.append("表所依据的签名不是它最新的签名")
        problems_en.append("the form does not stand on its latest signature")
    if problems_en:
        found.append(TrailFinding("state", "；".join(problems_zh), "; ".join(problems_en)))

    # The services make the actor of a form's first change (listed → draft) its registrar; only a sealed hand-over
    # of a form nobody has signed (ledger.HANDOVER) makes someone else its registrar.
    recorded = ledger.trail_registrar(trail)
    if household["registrar_id"] != recorded:
        found.append(
            TrailFinding(
                "registrar",
                f"登记人为工作人员 #{household['registrar_id']}，但状态变更记录中开始登记（或接手）的是 #{recorded}",
                f"the registrar is staff #{household['registrar_id']}, but the trail records #{recorded} as the one "
                "who started the form (or took it over)",
            )
        )
    return found


def verify_small_area(area: SmallArea) -> list[Mismatch]:
    mismatches: list[Mismatch] = []
    households: dict[int, dict[str, Any]] = {
        row["id"]: row
        for row in Household.objects.filter(small_area=area).values(
            *ledger.HOUSEHOLD_CONTENT_FIELDS, "id", "version", "state", "registrar_id", "current_signature_id"
        )
    }

    def mismatch(kind: str, household_id: int | None, signature_id: int | None, en: str, zh: str) -> Mismatch:
        row = households.get(household_id) if household_id is not None else None
        return Mismatch(area.code, kind, household_id, signature_id, en, zh, row["household_no"] if row else None)

    signatures: list[dict[str, Any]] = [
        dict(row)
        for row in Signature.objects.filter(small_area=area)
        .order_by("seq")
        .values(
            "id",
            "household_id",
            "seq",
            "household_version",
            "signer_id",
            "signer_role",
            "signed_at",
            "content_hash",
            "prev_hash",
            "hmac",
        )
    ]
    previous = ledger.genesis_hash(area.code)
    key = ledger.district_key(area.code)
    by_id: dict[int, dict[str, Any]] = {}
    signatures_of: dict[int, list[int]] = defaultdict(list)
    for expected_seq, signature in enumerate(signatures, start=1):
        by_id[signature["id"]] = signature
        signatures_of[signature["household_id"]].append(signature["id"])
        if signature["seq"] != expected_seq:
            mismatches.append(
                mismatch(
                    "sequence",
                    signature["household_id"],
                    signature["id"],
                    f"expected position {expected_seq}, found {signature['seq']}",
                    f"签名链中应为第{expected_seq}个，实为第{signature['seq']}个",
                )
            )
        if signature["prev_hash"] != previous:
            mismatches.append(
                mismatch(
                    "chain",
                    signature["household_id"],
                    signature["id"],
                    "prev_hash does not link to the previous signature",
                    "prev_hash 与前一个签名不衔接",
                )
            )
        message = ledger.stored_signature_message(signature)
        if not ledger.hmac_matches(message, signature["hmac"], key):
            mismatches.append(
                mismatch("hmac", signature["household_id"], signature["id"], "HMAC does not match", "签名的 HMAC 不符")
            )
        previous = ledger.link_hash(message)

    signed = [row for row in households.values() if row["state"] in SIGNED_STATES]
    contents = contents_by_household(signed, area.code)
    images = signature_images(signed)
    declarations = declarations_by_hash([row_id for row_id, c in images.items() if is_declaration(c)])
    for row in signed:
        current = by_id.get(row["current_signature_id"])
        if current is None or current["household_id"] != row["id"]:
            mismatches.append(
                mismatch(
                    "missing_signature",
                    row["id"],
                    row["current_signature_id"],
                    "no signature of this household",
                    "已签字的表没有属于它的签名",
                )
            )
            continue
        if ledger.content_hash(contents[row["id"]]) != current["content_hash"]:
            mismatches.append(
                mismatch(
                    "content",
                    row["id"],
                    current["id"],
                    "the form no longer matches what was signed",
                    "表的内容与签字时不符",
                )
            )
        confirmation = images.get(row["id"])
        if confirmation is not None and is_declaration(confirmation):
            problem = declaration_problem(
                confirmation, declarations.get((row["id"], confirmation["signature_sha256"])), key
            )
            if problem is not None:
                mismatches.append(mismatch("declaration", row["id"], current["id"], *problem))
        elif confirmation is not None and not image_matches(confirmation):
            mismatches.append(
                mismatch(
                    "image",
                    row["id"],
                    current["id"],
                    "the respondent's signature image does not hash to the SHA-256 that was signed "
                    "(replaced or removed)",
                    "申报人签名图像与签字时的 SHA-256 不符（被替换或删除）",
                )
            )

    trails: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for change in (
        HouseholdTransition.objects.filter(household_id__in=list(households))
        .order_by("household_id", "at", "id")
        .values("household_id", "from_state", "to_state", "actor_id", "at", "reason", "hmac")
    ):
        trails[change["household_id"]].append(dict(change))
    for household_id, row in households.items():
        mismatches.extend(
            mismatch(finding.kind, household_id, row["current_signature_id"], finding.en, finding.zh)
            for finding in trail_findings(row, trails.get(household_id, []), signatures_of.get(household_id, []), key)
        )
    return mismatches


def verify(areas: QuerySet[SmallArea] | None = None) -> Iterator[tuple[SmallArea, list[Mismatch]]]:
    for area in (areas if areas is not None else SmallArea.objects.all()).order_by("code").iterator(chunk_size=500):
        yield area, verify_small_area(area)
