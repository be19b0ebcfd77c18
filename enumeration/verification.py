"""Verifying the signature ledger against what is in the database now.

For every small area: walk its signature chain in ``seq`` order — positions contiguous from 1, each
``prev_hash`` equal to the previous link, each HMAC valid under the ledger key — and recompute the content
hash of every household whose form is in a signed state, from its rows as they are now. Anything that does
not match is a :class:`Mismatch`; a direct edit of a signed row in the database shows up here.

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
from enumeration.models import SIGNED_STATES, DeathRecord, Household, Person, RespondentConfirmation, Signature


@dataclass(frozen=True)
class Mismatch:
    small_area: str
    kind: str  # content | chain | hmac | sequence | missing_signature
    household_id: int | None
    signature_id: int | None
    detail: str

    def __str__(self) -> str:
        target = f"household {self.household_id}" if self.household_id else f"signature {self.signature_id}"
        return f"{self.small_area} {self.kind}: {target} — {self.detail}"


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


def verify_small_area(area: SmallArea) -> list[Mismatch]:
    mismatches: list[Mismatch] = []
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
    by_id: dict[int, dict[str, Any]] = {}
    for expected_seq, signature in enumerate(signatures, start=1):
        by_id[signature["id"]] = signature
        if signature["seq"] != expected_seq:
            mismatches.append(
                Mismatch(
                    area.code,
                    "sequence",
                    signature["household_id"],
                    signature["id"],
                    f"expected position {expected_seq}, found {signature['seq']}",
                )
            )
        if signature["prev_hash"] != previous:
            mismatches.append(
                Mismatch(
                    area.code,
                    "chain",
                    signature["household_id"],
                    signature["id"],
                    "prev_hash does not link to the previous signature",
                )
            )
        message = ledger.signature_message(
            household_id=signature["household_id"],
            household_version=signature["household_version"],
            signer_id=signature["signer_id"],
            signer_role=signature["signer_role"],
            signed_at=signature["signed_at"],
            content_hash=signature["content_hash"],
            prev_hash=signature["prev_hash"],
            seq=signature["seq"],
        )
        if not ledger.hmac_matches(message, signature["hmac"]):
            mismatches.append(
                Mismatch(area.code, "hmac", signature["household_id"], signature["id"], "HMAC does not match")
            )
        previous = ledger.link_hash(message)

    signed = list(
        Household.objects.filter(small_area=area, state__in=SIGNED_STATES).values(
            *ledger.HOUSEHOLD_CONTENT_FIELDS, "id", "version", "current_signature_id"
        )
    )
    contents = contents_by_household(signed, area.code)
    for row in signed:
        current = by_id.get(row["current_signature_id"])
        if current is None or current["household_id"] != row["id"]:
            mismatches.append(
                Mismatch(
                    area.code,
                    "missing_signature",
                    row["id"],
                    row["current_signature_id"],
                    "no signature of this household",
                )
            )
            continue
        if ledger.content_hash(contents[row["id"]]) != current["content_hash"]:
            mismatches.append(
                Mismatch(area.code, "content", row["id"], current["id"], "the form no longer matches what was signed")
            )
    return mismatches


def verify(areas: QuerySet[SmallArea] | None = None) -> Iterator[tuple[SmallArea, list[Mismatch]]]:
    for area in (areas if areas is not None else SmallArea.objects.all()).order_by("code").iterator(chunk_size=500):
        yield area, verify_small_area(area)
