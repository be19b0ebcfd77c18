"""Planted errors for ``seed_district --plant-errors``: known breaks of known rules, and their manifest.

Each entry in :data:`MUTATIONS` turns a clean household into one that breaks one rule of the catalogue; it
returns the person row it broke (or 0 for a household-level break), or ``None`` when the household is not
a suitable host. After a mutation the household is validated again and *every* rule it now breaks is
written to the manifest — a break sometimes drags a second rule with it (a spouse of the same sex also has
an ID number of the other sex) and the manifest must explain everything the checks will find.

Process rules (谁登记、谁签字) are planted around signing: a form changed after its signature, a form signed
by someone else, a broken link in a small area's chain, a respondent's signature image swapped for another's;
and, once a household's trail of state changes is written, what an insider with the database would do to the
household: lock it without the trail saying so, or name someone else its registrar. Rules that the database
itself makes impossible (a malformed ID number, hours outside 1–98, codes outside the constrained ranges)
cannot be planted; they are refused at entry and by the constraints.

Manifest keys: a household is ``<15-digit small area><3-digit 户编号>``; a person adds ``#<row>``.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from enumeration.identity import age_at_reference, check_character
from enumeration.rules.entry import validate_household

Row = dict[str, Any]
Mutation = Callable[[random.Random, Row, list[Row], list[Row]], int | None]

MUTATIONS: dict[str, Mutation] = {}

# Rules the nightly run finds that planting here produces (the quality part plants the cross-record,
# coverage, roster and anomaly rules itself).
PROCESS_RULES = (
    "CONTENT_CHANGED_AFTER_SIGNING",
    "SIGNED_BY_OTHER",
    "SIGNATURE_CHAIN_BROKEN",
    "SIGNATURE_IMAGE_CHANGED",
    "STATE_TRAIL_BROKEN",
    "REGISTRAR_CHANGED",
)
NOT_PLANTABLE = {
    "ID_FORMAT": "database constraint person_d3_format",
    "HOURS_RANGE": "database constraint person_c18_hours",
    "HOUSING_NOT_ASKED": "database constraint household_h5_skips_h6_h7",
}


def mutation(code: str) -> Callable[[Mutation], Mutation]:
    def register(function: Mutation) -> Mutation:
        MUTATIONS[code] = function
        return function

    return register


def age(person: Row) -> int:
    return age_at_reference(person["d5_birth_year"], person["d5_birth_month"])


def _pick(rng: random.Random, persons: list[Row], test: Callable[[Row], bool]) -> Row | None:
    candidates = [p for p in persons if test(p)]
    return rng.choice(candidates) if candidates else None


def _census(household: Row) -> bool:
    return household.get("form_kind", "census") == "census" and household.get("household_no") != 999


def _with_id(person: Row, first17: str) -> None:
    person["d3_id_number"] = first17 + check_character(first17)


# --- A identity ---------------------------------------------------------------------------------------


@mutation("ID_CHECKSUM")
def _id_checksum(rng: random.Random, h: Row, persons: list[Row], deaths: list[Row]) -> int | None:
    person = _pick(rng, persons, lambda p: bool(p.get("d3_id_number")))
    if person is None:
        return None
    number = person["d3_id_number"]
    wrong = next(c for c in "0123456789X" if c != number[17])
    person["d3_id_number"] = number[:17] + wrong
    return int(person["row_no"])


@mutation("ID_BIRTH_DATE_INVALID")
def _id_birth_invalid(rng: random.Random, h: Row, persons: list[Row], deaths: list[Row]) -> int | None:
    person = _pick(rng, persons, lambda p: bool(p.get("d3_id_number")))
    if person is None:
        return None
    number = person["d3_id_number"]
    _with_id(person, number[:12] + "32" + number[14:17])  # day 32 of the month
    return int(person["row_no"])


@mutation("ID_BIRTH_MISMATCH")
def _id_birth_mismatch(rng: random.Random, h: Row, persons: list[Row], deaths: list[Row]) -> int | None:
    person = _pick(rng, persons, lambda p: bool(p.get("d3_id_number")) and 2 <= p["d5_birth_month"] <= 9)
    if person is None:
        return None
    person["d5_birth_month"] += 1  # same age: the November boundary is not crossed
    return int(person["row_no"])


@mutation("ID_SEX_MISMATCH")
def _id_sex_mismatch(rng: random.Random, h: Row, persons: list[Row], deaths: list[Row]) -> int | None:
    person = _pick(rng, persons, lambda p: bool(p.get("d3_id_number")))
    if person is None:
        return None
    number = person["d3_id_number"]
    sequence = 997 if person["d4_sex"] == 2 else 998  # parity of the other sex, high enough to be unused
    _with_id(person, number[:14] + f"{sequence:03d}")
    return int(person["row_no"])


@mutation("ID_DUPLICATE_IN_HOUSEHOLD")
def _id_duplicate(rng: random.Random, h: Row, persons: list[Row], deaths: list[Row]) -> int | None:
    with_ids = [p for p in persons if p.get("d3_id_number")]
    if len(with_ids) < 2:
        return None
    first, second = rng.sample(with_ids, 2)
    second["d3_id_number"] = first["d3_id_number"]
    return int(second["row_no"])


@mutation("ID_ADDRESS_UNKNOWN")
def _id_address_unknown(rng: random.Random, h: Row, persons: list[Row], deaths: list[Row]) -> int | None:
    person = _pick(rng, persons, lambda p: bool(p.get("d3_id_number")))
    if person is None:
        return None
    _with_id(person, "519999" + person["d3_id_number"][6:17])
    return int(person["row_no"])


@mutation("ID_MISSING")
def _id_missing(rng: random.Random, h: Row, persons: list[Row], deaths: list[Row]) -> int | None:
    person = _pick(rng, persons, lambda p: bool(p.get("d3_id_number")) and age(p) >= 16 and _census(h))
    if person is None:
        return None
    person["d3_id_number"] = ""
    return int(person["row_no"])


@mutation("BIRTH_AFTER_REFERENCE")
def _birth_after(rng: random.Random, h: Row, persons: list[Row], deaths: list[Row]) -> int | None:
    person = _pick(rng, persons, lambda p: age(p) == 0 and p["d5_birth_year"] == 2020)
    if person is None:
        return None
    person["d5_birth_month"] = 11
    person["d3_id_number"] = ""
    return int(person["row_no"])


# --- B household structure ----------------------------------------------------------------------------


def _family(h: Row, persons: list[Row], minimum: int = 2) -> bool:
    return _census(h) and h.get("h1_kind") == 1 and len(persons) >= minimum


@mutation("HEAD_NOT_FIRST")
def _head_not_first(rng: random.Random, h: Row, persons: list[Row], deaths: list[Row]) -> int | None:
    if not _family(h, persons):
        return None
    persons[0]["row_no"], persons[1]["row_no"] = persons[1]["row_no"], persons[0]["row_no"]
    persons.sort(key=lambda p: p["row_no"])
    return 1


@mutation("HEAD_NOT_UNIQUE")
def _head_not_unique(rng: random.Random, h: Row, persons: list[Row], deaths: list[Row]) -> int | None:
    if not _family(h, persons):
        return None
    person = _pick(rng, persons[1:], lambda p: True)
    assert person is not None
    person["d2_relationship"] = 0
    return 0


@mutation("PERSON_COUNT_MISMATCH")
def _person_count(rng: random.Random, h: Row, persons: list[Row], deaths: list[Row]) -> int | None:
    if not _census(h) or not persons:
        return None
    h["h2_away"] += 1
    return 0


@mutation("PRESENT_COUNT_MISMATCH")
def _present_count(rng: random.Random, h: Row, persons: list[Row], deaths: list[Row]) -> int | None:
    if not _census(h) or h.get("h2_present", 0) < 2:
        return None
    h["h2_present"] -= 1
    h["h2_away"] += 1
    return 0


@mutation("BIRTHS_MISMATCH")
def _births(rng: random.Random, h: Row, persons: list[Row], deaths: list[Row]) -> int | None:
    if not _census(h) or not persons:
        return None
    h["h3_births_male"] += 1
    return 0


@mutation("DEATHS_MISMATCH")
def _deaths(rng: random.Random, h: Row, persons: list[Row], deaths: list[Row]) -> int | None:
    if not _census(h) or not persons:
        return None
    h["h4_deaths_female"] += 1
    return 0


@mutation("DEATH_BEFORE_BIRTH")
def _death_before_birth(rng: random.Random, h: Row, persons: list[Row], deaths: list[Row]) -> int | None:
    if not deaths:
        return None
    death = deaths[0]
    death["birth_year"] = 2020
    death["birth_month"] = 10
    death["death_year"], death["death_month"] = 2019, 11
    return 0


@mutation("ALL_DEAD_HOUSEHOLD")
def _all_dead(rng: random.Random, h: Row, persons: list[Row], deaths: list[Row]) -> int | None:
    if h.get("household_no") != 999:
        return None
    h["h1_kind"] = 1
    return 0


def _housing(h: Row) -> bool:
    return _census(h) and h.get("h5_residence_type") == 1 and not h.get("in_long_form_sample")


@mutation("HOUSING_MISSING")
def _housing_missing(rng: random.Random, h: Row, persons: list[Row], deaths: list[Row]) -> int | None:
    if not _housing(h):
        return None
    h["h7_rooms"] = None
    return 0


@mutation("FLOOR_AREA_PER_PERSON_HIGH")
def _area_high(rng: random.Random, h: Row, persons: list[Row], deaths: list[Row]) -> int | None:
    if not _housing(h) or not h.get("h2_present"):
        return None
    h["h6_floor_area"] = 250 * h["h2_present"]
    h["h7_rooms"] = min(12, h["h7_rooms"])
    return 0


@mutation("FLOOR_AREA_LOW")
def _area_low(rng: random.Random, h: Row, persons: list[Row], deaths: list[Row]) -> int | None:
    if not _housing(h):
        return None
    h["h6_floor_area"] = 4
    return 0


@mutation("ROOMS_HIGH")
def _rooms_high(rng: random.Random, h: Row, persons: list[Row], deaths: list[Row]) -> int | None:
    if not _housing(h):
        return None
    h["h7_rooms"] = 16
    h["h6_floor_area"] = max(h["h6_floor_area"], 320)
    h["h6_floor_area"] = min(h["h6_floor_area"], 200 * max(1, h["h2_present"]))
    return 0


# --- C relationships ----------------------------------------------------------------------------------


def _spouse(persons: list[Row]) -> Row | None:
    return next((p for p in persons if p.get("d2_relationship") == 1), None)


def _relabel_spouse(relationship: int) -> Mutation:
    def apply(rng: random.Random, h: Row, persons: list[Row], deaths: list[Row]) -> int | None:
        spouse = _spouse(persons)
        if not _family(h, persons) or spouse is None:
            return None
        spouse["d2_relationship"] = relationship
        return int(spouse["row_no"])

    return apply


MUTATIONS["CHILD_AGE_GAP"] = _relabel_spouse(2)
MUTATIONS["PARENT_AGE_GAP"] = _relabel_spouse(3)
MUTATIONS["GRANDPARENT_AGE_GAP"] = _relabel_spouse(5)
MUTATIONS["GRANDCHILD_AGE_GAP"] = _relabel_spouse(7)


@mutation("CHILD_IN_LAW_WITHOUT_CHILD")
def _child_in_law(rng: random.Random, h: Row, persons: list[Row], deaths: list[Row]) -> int | None:
    if not _family(h, persons) or any(p.get("d2_relationship") == 2 for p in persons):
        return None
    return _relabel_spouse(6)(rng, h, persons, deaths)


@mutation("SPOUSE_MULTIPLE")
def _spouse_multiple(rng: random.Random, h: Row, persons: list[Row], deaths: list[Row]) -> int | None:
    if not _family(h, persons, 3) or _spouse(persons) is None:
        return None
    other = _pick(rng, persons, lambda p: p.get("d2_relationship") in (2, 3, 8, 9) and age(p) >= 25)
    if other is None:
        return None
    other["d2_relationship"] = 1
    return int(other["row_no"])


@mutation("SPOUSE_UNDER_15")
def _spouse_under_15(rng: random.Random, h: Row, persons: list[Row], deaths: list[Row]) -> int | None:
    if not _family(h, persons) or _spouse(persons) is not None:
        return None
    child = _pick(rng, persons, lambda p: p.get("d2_relationship") == 2 and 3 <= age(p) < 15)
    if child is None:
        return None
    child["d2_relationship"] = 1
    return int(child["row_no"])


@mutation("SPOUSE_UNDER_MARRIAGE_AGE")
def _spouse_young(rng: random.Random, h: Row, persons: list[Row], deaths: list[Row]) -> int | None:
    if not _family(h, persons) or _spouse(persons) is not None:
        return None
    child = _pick(rng, persons, lambda p: p.get("d2_relationship") == 2 and 15 <= age(p) < 20)
    if child is None:
        return None
    child["d2_relationship"] = 1
    return int(child["row_no"])


@mutation("SPOUSE_SAME_SEX")
def _spouse_same_sex(rng: random.Random, h: Row, persons: list[Row], deaths: list[Row]) -> int | None:
    spouse = _spouse(persons)
    if not _family(h, persons) or spouse is None or h.get("in_long_form_sample"):
        return None
    spouse["d4_sex"] = persons[0]["d4_sex"]
    if spouse.get("d3_id_number"):
        number = spouse["d3_id_number"]
        _with_id(spouse, number[:14] + ("995" if spouse["d4_sex"] == 1 else "996"))
    return int(spouse["row_no"])


# --- D migration --------------------------------------------------------------------------------------


@mutation("AWAY_LONGER_THAN_AGE")
def _away_longer(rng: random.Random, h: Row, persons: list[Row], deaths: list[Row]) -> int | None:
    person = _pick(rng, persons, lambda p: 1 <= age(p) <= 4 and p.get("d9_away_duration") not in (None, 1))
    if person is None:
        return None
    person["d9_away_duration"] = 9
    return int(person["row_no"])


@mutation("AWAY_BUT_LIVES_AT_HUKOU")
def _away_lives_at_hukou(rng: random.Random, h: Row, persons: list[Row], deaths: list[Row]) -> int | None:
    person = _pick(
        rng,
        persons,
        lambda p: (
            p.get("d7_residence") == 1
            and p.get("d8_hukou_place") == 1
            and p.get("d9_away_duration") == 1
            and age(p) >= 1
        ),
    )
    if person is None or h.get("in_long_form_sample"):
        return None
    person["d9_away_duration"] = 3
    person["d10_away_reason"] = 3
    return int(person["row_no"])


@mutation("AWAY_REASON_AGE")
def _away_reason_age(rng: random.Random, h: Row, persons: list[Row], deaths: list[Row]) -> int | None:
    person = _pick(rng, persons, lambda p: p.get("d10_away_reason") is not None and age(p) < 16)
    if person is None:
        return None
    person["d10_away_reason"] = 6  # 婚姻嫁娶
    return int(person["row_no"])


# --- E education --------------------------------------------------------------------------------------


@mutation("EDUCATION_AGE")
def _education_age(rng: random.Random, h: Row, persons: list[Row], deaths: list[Row]) -> int | None:
    person = _pick(rng, persons, lambda p: p.get("d11_education") == 3 and 6 <= age(p) <= 10)
    if person is None:
        return None
    person["d11_education"] = 5
    return int(person["row_no"])


@mutation("EDUCATED_ILLITERATE")
def _educated_illiterate(rng: random.Random, h: Row, persons: list[Row], deaths: list[Row]) -> int | None:
    person = _pick(rng, persons, lambda p: (p.get("d11_education") or 0) >= 4 and p.get("d12_literate") == 1)
    if person is None:
        return None
    person["d12_literate"] = 2
    return int(person["row_no"])


# --- completeness and codes ---------------------------------------------------------------------------


@mutation("ITEM_MISSING")
def _item_missing(rng: random.Random, h: Row, persons: list[Row], deaths: list[Row]) -> int | None:
    person = _pick(rng, persons, lambda p: bool(p.get("d6_ethnicity")))
    if person is None:
        return None
    person["d6_ethnicity"] = ""
    return int(person["row_no"])


@mutation("ITEM_NOT_ASKED")
def _item_not_asked(rng: random.Random, h: Row, persons: list[Row], deaths: list[Row]) -> int | None:
    person = _pick(rng, persons, lambda p: age(p) < 3 and p.get("d11_education") is None and _census(h))
    if person is None:
        return None
    person["d11_education"] = 1
    return int(person["row_no"])


@mutation("CODE_INVALID")
def _code_invalid(rng: random.Random, h: Row, persons: list[Row], deaths: list[Row]) -> int | None:
    person = _pick(rng, persons, lambda p: bool(p.get("d6_ethnicity")))
    if person is None:
        return None
    person["d6_ethnicity"] = "99"
    return int(person["row_no"])


# --- F long form --------------------------------------------------------------------------------------


def _long(h: Row) -> bool:
    return _census(h) and bool(h.get("in_long_form_sample"))


@mutation("MARRIED_UNDER_15")
def _married_young(rng: random.Random, h: Row, persons: list[Row], deaths: list[Row]) -> int | None:
    person = _pick(rng, persons, lambda p: _long(h) and 10 <= age(p) < 15)
    if person is None:
        return None
    person["c24_marital"] = 2
    return int(person["row_no"])


@mutation("FIRST_MARRIAGE_DATE")
def _first_marriage(rng: random.Random, h: Row, persons: list[Row], deaths: list[Row]) -> int | None:
    person = _pick(rng, persons, lambda p: _long(h) and p.get("c25_first_marriage_year") is not None)
    if person is None:
        return None
    person["c25_first_marriage_year"] = person["d5_birth_year"] + 10
    return int(person["row_no"])


@mutation("CHILDREN_ALIVE_EXCEEDS_BORN")
def _alive_exceeds(rng: random.Random, h: Row, persons: list[Row], deaths: list[Row]) -> int | None:
    person = _pick(rng, persons, lambda p: _long(h) and p.get("c26_born_male") is not None)
    if person is None:
        return None
    person["c26_alive_male"] = person["c26_born_male"] + 1
    return int(person["row_no"])


@mutation("FERTILITY_NOT_WOMAN")
def _fertility_man(rng: random.Random, h: Row, persons: list[Row], deaths: list[Row]) -> int | None:
    person = _pick(rng, persons, lambda p: _long(h) and p["d4_sex"] == 1 and 20 <= age(p) <= 50)
    if person is None:
        return None
    person.update({"c26_born_male": 1, "c26_born_female": 0, "c26_alive_male": 1, "c26_alive_female": 0})
    return int(person["row_no"])


@mutation("BIRTH_LAST_YEAR_NO_INFANT")
def _birth_no_infant(rng: random.Random, h: Row, persons: list[Row], deaths: list[Row]) -> int | None:
    if any(age(p) == 0 for p in persons) or h.get("h3_births_male") or h.get("h3_births_female"):
        return None
    person = _pick(rng, persons, lambda p: _long(h) and p.get("c27_birth_last_year") == 1)
    if person is None:
        return None
    person["c27_birth_last_year"] = 2
    return int(person["row_no"])


@mutation("RETIRED_YOUNG")
def _retired_young(rng: random.Random, h: Row, persons: list[Row], deaths: list[Row]) -> int | None:
    person = _pick(rng, persons, lambda p: _long(h) and p.get("c18_work") == 3 and 20 <= age(p) < 40)
    if person is None:
        return None
    person["c22_not_working_reason"] = 2
    return int(person["row_no"])


@mutation("STUDENT_OLD")
def _student_old(rng: random.Random, h: Row, persons: list[Row], deaths: list[Row]) -> int | None:
    person = _pick(rng, persons, lambda p: _long(h) and p.get("c18_work") == 3 and 36 <= age(p) <= 60)
    if person is None:
        return None
    person["c22_not_working_reason"] = 1
    return int(person["row_no"])


@mutation("RENT_NOT_ASKED")
def _rent_not_asked(rng: random.Random, h: Row, persons: list[Row], deaths: list[Row]) -> int | None:
    if not _long(h) or h.get("h17_tenure") in (None, 1, 2):
        return None
    h["h18_rent"] = 2
    return 0


def household_key(small_area_code: str, household_no: int) -> str:
    return f"{small_area_code}{household_no:03d}"


class ErrorPlanter:
    """Plants every plantable rule a few times across the district and keeps the manifest."""

    def __init__(self, rng: random.Random, per_rule: int = 2) -> None:
        self.rng = rng
        self.per_rule = per_rule
        self.manifest: dict[str, list[str]] = {}
        self.planted: dict[str, int] = dict.fromkeys(MUTATIONS, 0)
        self.process_planted: dict[str, int] = dict.fromkeys(PROCESS_RULES, 0)
        self.touched: set[int] = set()
        self.cross = CrossPlanter(self)

    @property
    def roster_extras(self) -> list[dict[str, Any]]:
        """Roster persons registered nowhere (for the roster the quality part generates)."""
        return self.cross.roster_extras

    def _record(self, code: str, key: str) -> None:
        keys = self.manifest.setdefault(code, [])
        if key not in keys:
            keys.append(key)

    def plant_village(self, village: Any, by_area: list[tuple[Any, list[Any]]]) -> None:
        """Break a few signed households of the village, one rule each, while rules still need planting."""
        from enumeration.models import SIGNED_STATES

        candidates = [
            (area, generated)
            for area, households in by_area
            for generated in households
            if generated.row["state"] in SIGNED_STATES and generated.row["id"] not in self.touched
        ]
        self.rng.shuffle(candidates)
        for code, count in sorted(self.planted.items()):
            if count >= self.per_rule:
                continue
            for area, generated in candidates:
                if generated.row["id"] in self.touched:
                    continue
                row = MUTATIONS[code](self.rng, generated.row, generated.persons, generated.deaths)
                if row is None:
                    continue
                self.touched.add(generated.row["id"])
                self.planted[code] += 1
                self._explain(area.code, generated, code)
                break
        self.cross.plant_village(village, by_area)

    def _explain(self, small_area_code: str, generated: Any, intended: str) -> None:
        """Record every rule the broken household now breaks (the intended one among them)."""
        key = household_key(small_area_code, generated.row["household_no"])
        issues = validate_household(generated.row, generated.persons, generated.deaths)
        codes = {issue.code for issue in issues}
        assert intended in codes, f"planting {intended} did not break it ({sorted(codes)})"
        for issue in issues:
            self._record(
                issue.code, key if issue.row is None or issue.code.startswith("DEATH") else f"{key}#{issue.row}"
            )

    # --- process rules, planted around the signature ---------------------------------------------------
    def choose_signer(self, small_area_code: str, generated: Any, other_staff_id: int | None) -> int | None:
        """SIGNED_BY_OTHER: a validly signed form whose signer is not its registrar."""
        if other_staff_id is None or self.process_planted["SIGNED_BY_OTHER"] >= self.per_rule:
            return None
        if generated.row["id"] in self.touched or self.rng.random() > 0.05:
            return None
        self.touched.add(generated.row["id"])
        self.process_planted["SIGNED_BY_OTHER"] += 1
        self._record("SIGNED_BY_OTHER", household_key(small_area_code, generated.row["household_no"]))
        return other_staff_id

    def after_signing(
        self,
        small_area_code: str,
        generated: Any,
        signature: dict[str, Any],
        confirmation: dict[str, Any],
        is_last: bool,
    ) -> None:
        """CONTENT_CHANGED_AFTER_SIGNING, SIGNATURE_CHAIN_BROKEN and SIGNATURE_IMAGE_CHANGED: damage done after the
        ledger was written."""
        from enumeration.models import SIGNED_STATES
        from enumeration.synthetic.district import synthetic_signature

        if generated.row["id"] in self.touched or not generated.persons:
            return
        key = household_key(small_area_code, generated.row["household_no"])
        if (
            self.process_planted["SIGNATURE_IMAGE_CHANGED"] < self.per_rule
            and generated.row["state"] in SIGNED_STATES
            and self.rng.random() < 0.05
        ):
            # Another household's drawing (the id of a household in another district's range).
            confirmation["signature_image"] = synthetic_signature(generated.row["id"] + 1_000_000_000)[0]
            self.touched.add(generated.row["id"])
            self.process_planted["SIGNATURE_IMAGE_CHANGED"] += 1
            self._record("SIGNATURE_IMAGE_CHANGED", key)
        elif self.process_planted["CONTENT_CHANGED_AFTER_SIGNING"] < self.per_rule and self.rng.random() < 0.05:
            generated.persons[-1]["d1_name"] += "改"
            self.touched.add(generated.row["id"])
            self.process_planted["CONTENT_CHANGED_AFTER_SIGNING"] += 1
            self._record("CONTENT_CHANGED_AFTER_SIGNING", key)
        elif self.process_planted["SIGNATURE_CHAIN_BROKEN"] < self.per_rule and is_last and self.rng.random() < 0.1:
            # The last link of the small area, so no later signature depends on it.
            signature["prev_hash"] = "0" * 64
            self.touched.add(generated.row["id"])
            self.process_planted["SIGNATURE_CHAIN_BROKEN"] += 1
            self._record("SIGNATURE_CHAIN_BROKEN", key)

    def after_trail(self, small_area_code: str, generated: Any, other_staff_id: int) -> None:
        """STATE_TRAIL_BROKEN and REGISTRAR_CHANGED: a signed household's row edited once its trail is written —
        locked with no lock in the trail, or another staff member (``other_staff_id``) named its registrar, which
        also makes it a form signed by someone other than its registrar."""
        from enumeration.models import SIGNED_STATES, HouseholdState

        row = generated.row
        if row["id"] in self.touched or row["state"] not in SIGNED_STATES or row["state"] == HouseholdState.LOCKED:
            return
        key = household_key(small_area_code, row["household_no"])
        if self.process_planted["STATE_TRAIL_BROKEN"] < self.per_rule and self.rng.random() < 0.02:
            row["state"] = HouseholdState.LOCKED
            self.touched.add(row["id"])
            self.process_planted["STATE_TRAIL_BROKEN"] += 1
            self._record("STATE_TRAIL_BROKEN", key)
        elif (
            self.process_planted["REGISTRAR_CHANGED"] < self.per_rule
            and other_staff_id != row["registrar_id"]
            and self.rng.random() < 0.02
        ):
            row["registrar_id"] = other_staff_id
            self.touched.add(row["id"])
            self.process_planted["REGISTRAR_CHANGED"] += 1
            self._record("REGISTRAR_CHANGED", key)
            self._record("SIGNED_BY_OTHER", key)

    def plant_cross_records(self, plan: Any) -> None:
        """The cross-record rules were planted village by village (``CrossPlanter``), before signing."""
        return None

    def missing(self) -> list[str]:
        """Rules that could not be planted (no suitable household in a district this small)."""
        counts = {**self.planted, **self.process_planted, **self.cross.planted}
        return [code for code, count in counts.items() if count == 0]


# --- cross-record and nightly rules (the quality part's checks) --------------------------------------------
#
# Planted village by village, before anything is signed, so that every signature still matches its form:
# duplicates across households and villages, coverage gaps, enumerator anomalies and roster omissions. Every
# household changed here is validated again and a change that would break an entry rule is undone, so the
# manifest names exactly what the nightly checks must find. Keys: persons and households as above, areas by
# their code, enumerators as ``staff:<username>``, roster persons as ``roster:<pseudonym of the ID number>``.

CROSS_RULES = (
    "ID_DUPLICATE_DISTRICT",
    "NEAR_DUPLICATE_PERSON",
    "COVERAGE_HOUSEHOLDS",
    "COVERAGE_PERSONS",
    "ROSTER_NOT_REGISTERED",
    "AREA_ROSTER_GAP",
    "SPEED_IMPLAUSIBLE",
    "COPY_PASTE_HOUSEHOLDS",
    "AGE_HEAPING",
    "SEX_RATIO_BY_AGE",
)
ROSTER_OMISSIONS = 6  # persons dropped from their forms (still on the roster) …
# … and roster persons nobody registered, in the same village: 12 against ≈ 1,200 is ≈ 10‰.
ROSTER_ONLY_NAMES = ("建国", "秀兰", "志强", "桂英", "德明", "淑芬")
SPEED_BURST = 10  # households signed three minutes apart


def _signed(generated: Any) -> bool:
    from enumeration.models import SIGNED_STATES

    return generated.row["state"] in SIGNED_STATES


class CrossPlanter:
    def __init__(self, planter: ErrorPlanter) -> None:
        self.planter = planter
        self.rng = planter.rng
        self.planted: dict[str, int] = dict.fromkeys(CROSS_RULES, 0)
        self.roster_extras: list[dict[str, Any]] = []
        # Persons of earlier villages that a later household can register a second time.
        self.earlier: list[tuple[str, dict[str, Any]]] = []
        self.sequence = 901  # ID sequence codes for rewritten numbers (above what the generator hands out)
        self.staff_anomaly_areas: set[str] = set()

    # --- bookkeeping -------------------------------------------------------------------------------------
    def _record(self, code: str, key: str) -> None:
        self.planter._record(code, key)
        self.planted[code] = self.planted.get(code, 0) + 1

    def _username(self, staff_id: int) -> str:
        from census.models import StaffMember

        return str(StaffMember.objects.filter(pk=staff_id).values_list("username", flat=True).get())

    def _new_id(self, number: str, sex: int, birth: tuple[int, int] | None = None) -> str:
        """A fresh, valid number with the same address code and day, the given sex and birth month."""
        import datetime

        from enumeration.identity import make_id_number

        year, month = birth if birth is not None else (int(number[6:10]), int(number[10:12]))
        day = min(int(number[12:14]), 28)
        self.sequence += 1
        # 901–992: above what the generator hands out, below the error planter's 995–998.
        code = 2 * ((self.sequence - 901) % 46) + 901 + (0 if sex == 1 else 1)
        return make_id_number(number[:6], datetime.date(year, month, day), code)

    def _candidates(self, by_area: list[tuple[Any, list[Any]]], **conditions: Any) -> list[tuple[Any, Any]]:
        found = []
        for area, households in by_area:
            for generated in households:
                row = generated.row
                if not _signed(generated) or row["id"] in self.planter.touched or not _census(row):
                    continue
                if row.get("in_long_form_sample") or row.get("h1_kind") != 1 or not generated.persons:
                    continue
                found.append((area, generated))
        return found

    def _issues(self, generated: Any) -> list[Any]:
        return validate_household(generated.row, generated.persons, generated.deaths)

    def _attempt(self, generated: Any, change: Callable[[], bool], allowed: frozenset[str] = frozenset()) -> bool:
        """Apply ``change``; keep it only if the household breaks no entry rule but the ``allowed`` ones."""
        import copy

        saved = copy.deepcopy((generated.row, generated.persons, generated.deaths))
        if change() and {issue.code for issue in self._issues(generated)} <= allowed:
            return True
        generated.row.clear()
        generated.row.update(saved[0])
        generated.persons[:] = saved[1]
        generated.deaths[:] = saved[2]
        return False

    # --- the village hook --------------------------------------------------------------------------------
    def plant_village(self, village: Any, by_area: list[tuple[Any, list[Any]]]) -> None:
        candidates = self._candidates(by_area)
        self.rng.shuffle(candidates)
        if self.earlier:
            for code in ("ID_DUPLICATE_DISTRICT", "NEAR_DUPLICATE_PERSON"):
                if self.planted[code] < self.planter.per_rule:
                    self._duplicate(code, candidates)
        if len(village.small_areas) >= 4 and not self.planted["COVERAGE_PERSONS"]:
            self._omissions(village, by_area)
        elif not self.planted["COVERAGE_HOUSEHOLDS"] and len(by_area) >= 2:
            self._unlisted(by_area)
        for code, plant in (
            ("SPEED_IMPLAUSIBLE", self._speed),
            ("COPY_PASTE_HOUSEHOLDS", self._copy_paste),
            ("AGE_HEAPING", self._age_heaping),
            ("SEX_RATIO_BY_AGE", self._sex_ratio),
        ):
            if not self.planted[code]:
                plant(by_area)
        self._remember(by_area)

    def _remember(self, by_area: list[tuple[Any, list[Any]]]) -> None:
        """Keep a few adults of this village for duplicates planted in later villages."""
        if len(self.earlier) >= 12:
            return
        for area, generated in self._candidates(by_area)[:6]:
            person = next(
                (
                    p
                    for p in generated.persons
                    if p.get("d3_id_number") and p.get("d8_hukou_place") in (1, 2, 3) and age(p) >= 18
                ),
                None,
            )
            if person is None:
                continue
            self.planter.touched.add(generated.row["id"])
            key = household_key(area.code, generated.row["household_no"])
            self.earlier.append((f"{key}#{person['row_no']}", dict(person)))

    # --- duplicates -------------------------------------------------------------------------------------
    def _duplicate(self, code: str, candidates: list[tuple[Any, Any]]) -> None:
        """The same person registered again in another household: with their number (ID_DUPLICATE_DISTRICT),
        or with a mistyped number or none where one is due (NEAR_DUPLICATE_PERSON, which then also breaks
        ID_CHECKSUM or ID_MISSING — recorded too)."""
        original_key, original = self.earlier.pop(0)
        variant = self.planted[code] % 2
        allowed: frozenset[str] = frozenset()
        if code == "NEAR_DUPLICATE_PERSON":
            allowed = frozenset({"ID_CHECKSUM"} if variant == 0 else {"ID_MISSING"})
        for area, generated in candidates:
            if generated.row["id"] in self.planter.touched:
                continue

            def add(generated: Any = generated) -> bool:
                years = age(original)
                number = original["d3_id_number"]
                if code == "NEAR_DUPLICATE_PERSON":
                    wrong = next(c for c in "0123456789X" if c != number[17])
                    number = number[:17] + wrong if variant == 0 else ""
                generated.persons.append(
                    {
                        "row_no": len(generated.persons) + 1,
                        "d1_name": original["d1_name"],
                        "d2_relationship": 9,
                        "d3_id_number": number,
                        "d4_sex": original["d4_sex"],
                        "d5_birth_year": original["d5_birth_year"],
                        "d5_birth_month": original["d5_birth_month"],
                        "d6_ethnicity": original.get("d6_ethnicity") or "01",
                        "d7_residence": 1,
                        # Registered again where they also stayed: hukou in another village of the township.
                        "d8_hukou_place": 2,
                        "d9_away_duration": 8 if years >= 10 else 3,
                        "d10_away_reason": 1 if years >= 16 else 3,
                        "d11_education": original.get("d11_education"),
                        "d12_literate": original.get("d12_literate"),
                        "_age": years,
                    }
                )
                generated.row["h2_present"] += 1
                return True

            if self._attempt(generated, add, allowed):
                self.planter.touched.add(generated.row["id"])
                new_key = f"{household_key(area.code, generated.row['household_no'])}#{len(generated.persons)}"
                self._record(code, new_key)
                if code == "ID_DUPLICATE_DISTRICT":
                    self._record(code, original_key)
                for issue in self._issues(generated):
                    self.planter._record(issue.code, new_key)
                return

    # --- coverage and the roster --------------------------------------------------------------------------
    def _omissions(self, village: Any, by_area: list[tuple[Any, list[Any]]]) -> None:
        """COVERAGE_PERSONS in one small area (persons left off signed forms that the listing expected); they and
        some roster-only persons make the village's roster gap (ROSTER_NOT_REGISTERED, AREA_ROSTER_GAP)."""
        area, households = max(by_area, key=lambda pair: len(pair[1]))
        self.staff_anomaly_areas.add(area.code)
        dropped: list[dict[str, Any]] = []
        for generated in households:
            if len(dropped) >= ROSTER_OMISSIONS:
                break
            row = generated.row
            if (
                not _signed(generated)
                or row["id"] in self.planter.touched
                or not _census(row)
                or row.get("in_long_form_sample")
                or row.get("h1_kind") != 1
            ):
                continue
            person = next(
                (
                    p
                    for p in generated.persons[1:]
                    if p.get("d2_relationship") in (2, 7, 8, 9)
                    and p.get("d7_residence") == 1
                    and p.get("d8_hukou_place") == 1
                    and p.get("d3_id_number")
                    and age(p) >= 1
                ),
                None,
            )
            if person is None:
                continue

            def drop(person: dict[str, Any] = person, generated: Any = generated) -> bool:
                generated.persons.remove(person)
                for number, remaining in enumerate(generated.persons, start=1):
                    remaining["row_no"] = number
                generated.row["h2_present"] -= 1
                return True

            if self._attempt(generated, drop):
                self.planter.touched.add(row["id"])
                dropped.append({**person, "_household_no": row["household_no"]})
        if len(dropped) < ROSTER_OMISSIONS:
            return
        self._record("COVERAGE_PERSONS", area.code)
        for person in dropped:
            self._roster_person(area, village, person, person["_household_no"])
        surname = dropped[0]["d1_name"][0]
        for index, given in enumerate(ROSTER_ONLY_NAMES):
            sex = 1 if index % 2 == 0 else 2
            year, month = 1950 + 7 * index, 1 + index
            number = self._new_id(f"{village.code[:6]}{year}{month:02d}15000", sex, (year, month))
            person = {
                "d3_id_number": number,
                "d1_name": surname + given,
                "d4_sex": sex,
                "d5_birth_year": year,
                "d5_birth_month": month,
            }
            self._roster_person(area, village, person, None)
        self._record("AREA_ROSTER_GAP", village.code)

    def _roster_person(self, area: Any, village: Any, person: dict[str, Any], household_no: int | None) -> None:
        self.roster_extras.append(
            {
                "id_number": person["d3_id_number"],
                "name": person["d1_name"],
                "sex": person["d4_sex"],
                "birth_year": person["d5_birth_year"],
                "birth_month": person["d5_birth_month"],
                "village_id": village.code,
                "small_area_id": area.id,
                "household_no": household_no,
            }
        )
        from census.privacy import id_number_pseudonym

        # (Findings know a roster person by the pseudonym of their number, never by the number.)
        self._record("ROSTER_NOT_REGISTERED", f"roster:{id_number_pseudonym(person['d3_id_number'])}")

    def _unlisted(self, by_area: list[tuple[Any, list[Any]]]) -> None:
        """COVERAGE_HOUSEHOLDS: a small area done with registration where five households were not listed."""
        area, households = by_area[-1]
        self.staff_anomaly_areas.add(area.code)
        for generated in households:
            row = generated.row
            if row["state"] == "listed":
                row.update(
                    {
                        "state": "draft",
                        "registrar_id": area.enumerator_id,
                        "started_at": row["listed_at"],
                        "updated_at": row["listed_at"],
                    }
                )
        unlisted = [g for g in households if _signed(g) and g.row["id"] not in self.planter.touched][:5]
        if len(unlisted) < 5:
            return
        for generated in unlisted:
            generated.row.update({"listed_at": None, "listed_by_id": None})
        self._record("COVERAGE_HOUSEHOLDS", area.code)

    # --- enumerator anomalies -----------------------------------------------------------------------------
    def _anomaly_area(
        self, by_area: list[tuple[Any, list[Any]]], score: Callable[[list[Any]], int] | None = None
    ) -> tuple[Any, list[Any]] | None:
        """A small area no other anomaly or coverage gap was planted in (the best by ``score``)."""
        free = [(area, households) for area, households in by_area if area.code not in self.staff_anomaly_areas]
        if not free:
            return None
        area, households = max(free, key=lambda pair: score(pair[1])) if score is not None else free[0]
        self.staff_anomaly_areas.add(area.code)
        return area, households

    def _speed(self, by_area: list[tuple[Any, list[Any]]]) -> None:
        import datetime

        picked = self._anomaly_area(by_area)
        if picked is None:
            return
        area, households = picked
        signed = sorted(
            (g for g in households if _signed(g) and g.row["id"] not in self.planter.touched),
            key=lambda g: g.row["signed_at"],
        )
        if len(signed) < SPEED_BURST:
            return
        start = signed[0].row["signed_at"]
        for index, generated in enumerate(signed[:SPEED_BURST]):
            moment = start + datetime.timedelta(minutes=3 * index)
            generated.row.update(
                {"signed_at": moment, "updated_at": moment, "started_at": moment - datetime.timedelta(minutes=2)}
            )
            self.planter.touched.add(generated.row["id"])
        self._record("SPEED_IMPLAUSIBLE", f"staff:{self._username(area.enumerator_id)}")

    def _copy_paste(self, by_area: list[tuple[Any, list[Any]]]) -> None:
        picked = self._anomaly_area(by_area)
        if picked is None:
            return
        area, _households = picked
        pool = [g for a, g in self._candidates([picked])]
        sources = [g for g in pool if len(g.persons) >= 3 and all(p.get("d3_id_number") for p in g.persons)]
        for source in sources:
            for target in pool:
                if target is source:
                    continue

                def copy_source(target: Any = target, source: Any = source) -> bool:
                    surname = target.persons[0]["d1_name"][0]
                    if surname == source.persons[0]["d1_name"][0]:
                        return False
                    copies = []
                    for person in source.persons:
                        copied = {k: v for k, v in person.items() if k not in ("id",)}
                        copied["d1_name"] = surname + person["d1_name"][1:]
                        copied["d3_id_number"] = self._new_id(person["d3_id_number"], person["d4_sex"])
                        copies.append(copied)
                    target.persons[:] = copies
                    for name in (
                        "h1_kind",
                        "h2_present",
                        "h2_away",
                        "h3_births_male",
                        "h3_births_female",
                        "h5_residence_type",
                        "h6_floor_area",
                        "h7_rooms",
                    ):
                        target.row[name] = source.row.get(name)
                    target.row["expected_persons"] = len(copies)
                    target.row["head_name_listed"] = copies[0]["d1_name"]
                    return True

                if self._attempt(target, copy_source):
                    for generated in (source, target):
                        self.planter.touched.add(generated.row["id"])
                        self._record("COPY_PASTE_HOUSEHOLDS", household_key(area.code, generated.row["household_no"]))
                    return

    def _age_heaping(self, by_area: list[tuple[Any, list[Any]]]) -> None:
        picked = self._anomaly_area(by_area)
        if picked is None:
            return
        area, _households = picked
        for _, generated in self._candidates([picked]):

            def heap(generated: Any = generated) -> bool:
                changed = False
                for person in generated.persons:
                    years = age(person)
                    if not 23 <= years <= 62 or years % 5 == 0:
                        continue
                    target = 5 * round(years / 5)
                    person["d5_birth_year"] -= target - years
                    if person.get("d3_id_number"):
                        person["d3_id_number"] = self._new_id(
                            person["d3_id_number"],
                            person["d4_sex"],
                            (person["d5_birth_year"], person["d5_birth_month"]),
                        )
                    changed = True
                return changed

            if self._attempt(generated, heap):
                self.planter.touched.add(generated.row["id"])
        ages = [age(p) for _, g in self._signed_family(picked) for p in g.persons if 23 <= age(p) <= 62]
        heaped = sum(1 for years in ages if years % 5 == 0)
        if (
            len(ages) >= 30
            and 500 * heaped / len(ages) > 125
            and (heaped - 0.2 * len(ages)) / (0.16 * len(ages)) ** 0.5 > 5
        ):
            self._record("AGE_HEAPING", f"staff:{self._username(area.enumerator_id)}")

    def _signed_family(self, picked: tuple[Any, list[Any]]) -> list[tuple[Any, Any]]:
        area, households = picked
        return [(area, g) for g in households if _signed(g) and g.row.get("h1_kind") == 1 and _census(g.row)]

    def _sex_ratio(self, by_area: list[tuple[Any, list[Any]]]) -> None:
        """SEX_RATIO_BY_AGE: the girls under 15 of one enumerator's households all registered as boys."""

        def children(households: list[Any]) -> int:
            return sum(1 for g in households if _signed(g) for p in g.persons if 0 <= age(p) <= 14)

        picked = self._anomaly_area(by_area, children)
        if picked is None:
            return
        area, _households = picked
        for _, generated in self._candidates([picked]):

            def flip(generated: Any = generated) -> bool:
                changed = False
                for person in generated.persons:
                    if person.get("d4_sex") != 2 or age(person) > 14 or person.get("d2_relationship") not in (2, 7):
                        continue
                    person["d4_sex"] = 1
                    if person.get("d3_id_number"):
                        person["d3_id_number"] = self._new_id(person["d3_id_number"], 1)
                    if age(person) == 0:
                        generated.row["h3_births_female"] -= 1
                        generated.row["h3_births_male"] += 1
                    changed = True
                return changed

            if self._attempt(generated, flip):
                self.planter.touched.add(generated.row["id"])
        young = [p for _, g in self._signed_family(picked) for p in g.persons if 0 <= age(p) <= 14]
        male = sum(1 for p in young if p.get("d4_sex") == 1)
        n = len(young)
        expected = 105 / 205
        out_of_range = n - male == 0 or not 70 <= 100 * male / (n - male) <= 140
        if n >= 20 and out_of_range and abs(male - expected * n) / (n * expected * (1 - expected)) ** 0.5 > 5:
            self._record("SEX_RATIO_BY_AGE", f"staff:{self._username(area.enumerator_id)}")
