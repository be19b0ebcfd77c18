"""Synthetic households and persons drawn from the 2020 national distributions.

Sources (see the domain reference): household sizes (national 2020, mean 2.62), collective households
(5.5% of households, 8.4% of persons), sex ratio ≈105 and 111 at birth, age shares (0–14 17.95%,
15–59 63.35%, 60+ 18.70%), education per 100,000, illiteracy 2.67% at 15+, Han 91.11% with the largest
minorities, 人户分离 492.8 M of 1,411.8 M (34.9%).

Every generated household is internally consistent with the entry rules — relationships fit ages, education
fits age, migration items follow the skip logic — so that a clean district raises no finding; the error
planter breaks exactly the records it names in its manifest.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from enumeration.identity import age_at_reference, make_id_number
from enumeration.synthetic import names

FAMILY_SIZE_WEIGHTS = {1: 25.4, 2: 29.7, 3: 21.0, 4: 13.2, 5: 6.2, 6: 2.6, 7: 1.1, 8: 0.5, 9: 0.2, 10: 0.1}
COLLECTIVE_HOUSEHOLD_SHARE = 0.0546
ETHNIC_WEIGHTS = {
    "01": 91.11,
    "08": 1.39,
    "05": 0.83,
    "03": 0.81,
    "06": 0.78,
    "11": 0.74,
    "07": 0.70,
    "15": 0.68,
    "04": 0.50,
    "02": 0.45,
    "09": 0.25,
    "12": 0.20,
    "13": 0.20,
    "14": 0.15,
    "10": 0.12,
    "16": 0.12,
    "33": 0.02,
}
AWAY_REASON_WEIGHTS = {1: 45, 2: 10, 3: 12, 4: 12, 5: 3, 6: 8, 7: 3, 8: 3, 9: 2, 10: 2}
# Lowest age (completed years) at which a reason raises no warning (see the entry rules).
AWAY_REASON_MIN_AGE = {1: 16, 2: 6, 3: 0, 4: 0, 5: 0, 6: 20, 7: 45, 8: 25, 9: 60, 10: 0}
AWAY_REASON_MAX_AGE = {2: 30}
# D9 category → minimum years away it implies.
AWAY_MIN_YEARS = {2: 0.0, 3: 0.5, 4: 1, 5: 2, 6: 3, 7: 4, 8: 5, 9: 10}
REGISTRATION_START = datetime.datetime(2020, 11, 1, 8, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))


def weighted(rng: random.Random, weights: Mapping[Any, float]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


@dataclass
class IdAllocator:
    """Hands out unique sequence codes per (address code, birth date) with the right parity for sex.

    Townships are generated apart (in parallel processes), each with an allocator of its own: allocator
    ``offset`` of ``stride`` takes every ``stride``-th sequence code, so no two townships hand out the same one.
    """

    used: dict[str, int] = field(default_factory=dict)
    stride: int = 1
    offset: int = 0

    def allocate(self, address: str, birth: datetime.date, sex: int) -> str:
        key = f"{address}{birth:%Y%m%d}{sex}"
        count = self.used.get(key, 0)
        self.used[key] = count + 1
        # Sequence 001–999: odd for men, even for women; spread over the range as real numbers are.
        sequence = 2 * ((count * self.stride + self.offset) % 499) + (1 if sex == 1 else 2)
        return make_id_number(address, birth, sequence)


class PersonMaker:
    def __init__(self, rng: random.Random, ids: IdAllocator, district_code: str, previous_codes: list[str]) -> None:
        self.rng = rng
        self.ids = ids
        self.district_code = district_code
        self.previous_codes = previous_codes

    # --- names ---------------------------------------------------------------------------------------
    def surname(self) -> str:
        return self.rng.choices(names.SURNAMES, weights=names.SURNAME_WEIGHTS)[0]

    def given(self, sex: int) -> str:
        pool = names.GIVEN_MALE if sex == 1 else names.GIVEN_FEMALE
        if self.rng.random() < 0.35:
            return self.rng.choice(pool)
        return self.rng.choice(names.GIVEN_ANY + pool) + self.rng.choice(pool)

    # --- items -----------------------------------------------------------------------------------------
    def birth(self, age: int) -> tuple[int, int]:
        month = self.rng.randint(1, 12)
        year = 2020 - age - (1 if month >= 11 else 0)
        return year, month

    def education(self, age: int) -> int | None:
        rng = self.rng
        if age < 3:
            return None
        if age <= 5:
            return 2 if rng.random() < 0.85 else 1
        if age <= 11:
            return 3
        if age <= 14:
            return 4 if age >= 12 else 3
        if age <= 17:
            return 5 if rng.random() < 0.8 else 4
        if age <= 22:
            return weighted(rng, {4: 22, 5: 35, 6: 20, 7: 23})
        if age <= 59:
            weights = {1: 1.5, 3: 18, 4: 42, 5: 18, 6: 9, 7: 8}
            if age >= 23:
                weights[8] = 1.7
            if age >= 27:
                weights[9] = 0.3
            return weighted(rng, weights)
        return weighted(rng, {1: 12, 3: 45, 4: 28, 5: 10, 6: 3, 7: 2})

    def literate(self, age: int, education: int | None) -> int | None:
        if age < 15:
            return None
        if education == 1:
            return 2 if self.rng.random() < 0.7 else 1
        if education == 3 and age >= 60:
            return 2 if self.rng.random() < 0.05 else 1
        return 1

    def id_number(self, birth_year: int, birth_month: int, sex: int, hukou_place: int) -> str:
        rng = self.rng
        if hukou_place == 5:
            return ""  # 户口待定: no number yet
        if (birth_year == 2020 or (birth_year == 2019 and birth_month >= 11)) and rng.random() < 0.3:
            return ""  # newborn not yet registered
        if hukou_place == 4:
            address = rng.choice(names.OTHER_COUNTIES)
        elif birth_year >= 2018:
            address = self.district_code
        elif birth_year >= 1980:
            address = self.previous_codes[0] if self.previous_codes else self.district_code
        else:
            address = self.previous_codes[-1] if self.previous_codes else self.district_code
        day = rng.randint(1, 28)
        return self.ids.allocate(address, datetime.date(birth_year, birth_month, day), sex)

    def migration(self, age: int, *, present: bool, township_is_urban: bool) -> dict[str, Any]:
        """D7–D10 for a person who slept here (``present``) or whose hukou is here but was away."""
        rng = self.rng
        if not present:
            d9 = self._away_duration(age, at_least_half_year=rng.random() < 0.85)
            residence = weighted(rng, {2: 5, 3: 10, 4: 25, 5: 60})
            away: dict[str, Any] = {
                "d7_residence": residence,
                "d8_hukou_place": 1,
                "d9_away_duration": d9,
                "d10_away_reason": self._away_reason(age),
            }
            if residence == 5:
                away["d7_residence_county"] = rng.choice(names.OTHER_COUNTIES)
            return away
        # Living here; where is the hukou? Urban areas draw more people from elsewhere.
        elsewhere = 0.42 if township_is_urban else 0.24
        roll = rng.random()
        if roll < 0.003:
            return {"d7_residence": 1, "d8_hukou_place": 5}
        if roll < 1 - elsewhere:
            return {"d7_residence": 1, "d8_hukou_place": 1, "d9_away_duration": 1}
        hukou = weighted(rng, {2: 25, 3: 35, 4: 40})
        d9 = self._away_duration(age, at_least_half_year=rng.random() < 0.9)
        out: dict[str, Any] = {
            "d7_residence": 1,
            "d8_hukou_place": hukou,
            "d9_away_duration": d9,
            "d10_away_reason": self._away_reason(age),
        }
        if hukou == 4:
            out["d8_hukou_county"] = rng.choice(names.OTHER_COUNTIES)
        return out

    def _away_duration(self, age: int, *, at_least_half_year: bool) -> int:
        choices = [
            code for code, years in AWAY_MIN_YEARS.items() if years <= age and (code >= 3 or not at_least_half_year)
        ]
        if not choices:
            return 2
        return self.rng.choice(choices)

    def _away_reason(self, age: int) -> int:
        allowed = {
            code: weight
            for code, weight in AWAY_REASON_WEIGHTS.items()
            if age >= AWAY_REASON_MIN_AGE[code] and age <= AWAY_REASON_MAX_AGE.get(code, 200)
        }
        return int(weighted(self.rng, allowed))

    def person(
        self,
        *,
        relationship: int | None,
        age: int,
        sex: int,
        surname: str,
        ethnicity: str,
        present: bool,
        township_is_urban: bool,
        hukou_like: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        year, month = self.birth(age)
        # A child's hukou follows the parent's, as it does in practice.
        migration = (
            dict(hukou_like)
            if hukou_like is not None and present
            else self.migration(age, present=present, township_is_urban=township_is_urban)
        )
        if "d9_away_duration" in migration and migration.get("d9_away_duration", 1) != 1:
            if AWAY_MIN_YEARS.get(migration["d9_away_duration"], 0) > age:
                migration["d9_away_duration"] = self._away_duration(age, at_least_half_year=False)
            reason = migration.get("d10_away_reason")
            if reason is not None and not (AWAY_REASON_MIN_AGE[reason] <= age <= AWAY_REASON_MAX_AGE.get(reason, 200)):
                migration["d10_away_reason"] = self._away_reason(age)
        education = self.education(age)
        person: dict[str, Any] = {
            "d1_name": surname + self.given(sex),
            "d2_relationship": relationship,
            "d4_sex": sex,
            "d5_birth_year": year,
            "d5_birth_month": month,
            "d6_ethnicity": ethnicity,
            "d11_education": education,
            "d12_literate": self.literate(age, education),
            **migration,
        }
        person["d3_id_number"] = self.id_number(year, month, sex, migration.get("d8_hukou_place", 1))
        person["_age"] = age
        return person


def family_members(rng: random.Random, size: int) -> list[tuple[int, int, int]]:
    """(relationship, age, sex) for a family household of ``size``; the head first."""
    members: list[tuple[int, int, int]] = []
    # Couples' heads are mostly men; people living alone or with a child are as often women.
    head_sex = 1 if rng.random() < (0.7 if size >= 3 else 0.53) else 2
    other = 3 - head_sex

    def spouse_age(head_age: int) -> int:
        age = head_age + rng.randint(-4, 4)
        return max(22 if other == 1 else 20, age)

    if size == 1:
        kind = weighted(rng, {"young": 35, "middle": 25, "old": 40})
        age = {"young": rng.randint(20, 35), "middle": rng.randint(36, 59), "old": rng.randint(60, 92)}[kind]
        return [(0, age, head_sex)]
    if size == 2:
        kind = weighted(rng, {"old_couple": 38, "young_couple": 16, "parent_child": 31, "grand": 9, "siblings": 6})
        if kind == "old_couple":
            head = rng.randint(55, 88)
            return [(0, head, head_sex), (1, spouse_age(head), other)]
        if kind == "young_couple":
            head = rng.randint(24, 38)
            return [(0, head, head_sex), (1, spouse_age(head), other)]
        if kind == "parent_child":
            head = rng.randint(28, 70)
            return [(0, head, head_sex), (2, rng.randint(max(0, head - 40), head - 20), rng.choice((1, 2)))]
        if kind == "grand":
            head = rng.randint(58, 80)
            return [(0, head, head_sex), (7, rng.randint(2, min(16, head - 45)), rng.choice((1, 2)))]
        head = rng.randint(20, 70)
        return [(0, head, head_sex), (8, max(16, head + rng.randint(-8, 8)), rng.choice((1, 2)))]
    # Three or more: a couple with children, possibly parents, possibly grandchildren.
    head = rng.randint(26, 58)
    members = [(0, head, head_sex), (1, spouse_age(head), other)]
    slots = size - 2
    mother_age = head if head_sex == 2 else members[1][1]
    youngest_parent = min(head, members[1][1])
    with_parents = slots >= 2 and rng.random() < 0.35
    if with_parents:
        parent_age = head + rng.randint(22, 32)
        if parent_age <= 95:
            members.append((3, parent_age, 1 if rng.random() < 0.45 else 2))
            slots -= 1
            if slots >= 2 and rng.random() < 0.5 and parent_age <= 90:
                members.append((3, parent_age + rng.randint(-3, 3), 3 - members[-1][2]))
                slots -= 1
    children = max(1, slots - (1 if slots >= 3 and rng.random() < 0.3 else 0))
    max_child_age = max(0, min(youngest_parent - 20, mother_age - 20))
    min_child_age = max(0, mother_age - 42)
    for _ in range(min(children, slots)):
        child_age = rng.randint(min(min_child_age, max_child_age), max_child_age) if max_child_age > 0 else 0
        # Sex ratio at birth ≈ 111 for the youngest children, ≈ 105 otherwise.
        boy = rng.random() < (0.526 if child_age <= 1 else 0.512)
        members.append((2, child_age, 1 if boy else 2))
        slots -= 1
    while slots > 0:
        # A grown child's spouse, a grandchild, or another relative.
        if head >= 50 and rng.random() < 0.6:
            members.append((7, rng.randint(0, max(0, head - 46)), rng.choice((1, 2))))
        else:
            members.append((9, rng.randint(18, 60), rng.choice((1, 2))))
        slots -= 1
    return members


def collective_members(rng: random.Random) -> list[tuple[int | None, int, int]]:
    kind = weighted(rng, {"dorm": 70, "care_home": 15, "site": 15})
    size = max(1, int(rng.expovariate(1 / 4.2)) + 1)
    size = min(size, 40)
    if kind == "care_home":
        return [(None, rng.randint(62, 95), rng.choice((1, 2))) for _ in range(size)]
    if kind == "site":
        return [(None, rng.randint(18, 58), 1 if rng.random() < 0.75 else 2) for _ in range(size)]
    sex = rng.choice((1, 2))
    return [(None, rng.randint(16, 45), sex) for _ in range(size)]


def age_of(person: dict[str, Any]) -> int:
    return age_at_reference(person["d5_birth_year"], person["d5_birth_month"])
