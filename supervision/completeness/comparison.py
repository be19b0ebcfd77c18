"""The re-check (复查) compared with the enumerated forms, item by item, and its error rate (差错率).

For each drawn household whose re-check interview is finished, the persons the checker listed are paired with the
persons of the form: by ID number when both have one, else by name and sex, else by name alone (so that a wrong
sex is found as a wrong item, not as a missed person). Then

* a person on the re-check with no partner on the form was **missed** (漏登);
* a person on the form with no partner on the re-check was **counted in error** (多登/重登: not living there);
* for each pair, each key item the re-check answered — sex (D4), year and month of birth (D5, one item),
  relationship to the head (D2), residence at the reference moment (D7), place of hukou registration (D8) — is
  compared with the form; a different (or missing) answer on the form is an **item in error**.

The rates, as in the 登记阶段验收 (domain reference §5.3):

* persons in error ÷ persons re-checked — the 登记人数 差错率, missed plus counted in error over the persons on
  the re-check's list (the true count of the re-checked households);
* items in error ÷ items compared (over the paired persons);
* births in error: persons born in the year before the reference moment (2019-11 … 2020-10, 出生人口) missed or
  counted in error — the verified standard allows none.

A small area passes when every drawn household is re-checked and each rate is within its threshold
(``RECHECK_PERSON_ERROR_MAX``, ``RECHECK_ITEM_ERROR_MAX``, ``RECHECK_BIRTH_ERRORS_MAX``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

# The key items compared, in the order they are shown.
ITEMS = ("sex", "birth", "relationship", "residence", "hukou_place")
ITEM_CODES = {"sex": "D4", "birth": "D5", "relationship": "D2", "residence": "D7", "hukou_place": "D8"}
# 出生人口: born from 2019-11 to 2020-10 (the year before the reference moment 2020-11-01 00:00).
BIRTHS_FROM = 2019 * 12 + 11
BIRTHS_TO = 2020 * 12 + 10

MISSED = "missed"
EXTRA = "extra"
ITEM = "item"


@dataclass(frozen=True)
class Answers:
    """One person of one household, as the form or the re-check has them (``None``: not answered)."""

    key: int | str
    name: str
    id_number: str = ""
    sex: int | None = None
    birth_year: int | None = None
    birth_month: int | None = None
    relationship: int | None = None
    residence: int | None = None
    hukou_place: int | None = None

    def value(self, item: str) -> object:
        if item == "birth":
            return None if self.birth_year is None or self.birth_month is None else (self.birth_year, self.birth_month)
        return getattr(self, item)

    @property
    def born_last_year(self) -> bool:
        if self.birth_year is None or self.birth_month is None:
            return False
        return BIRTHS_FROM <= self.birth_year * 12 + self.birth_month <= BIRTHS_TO


@dataclass(frozen=True)
class Difference:
    kind: str  # MISSED | EXTRA | ITEM
    name: str
    item: str = ""  # for ITEM: one of ITEMS
    form: object = None
    recheck: object = None
    form_key: int | str | None = None
    recheck_key: int | str | None = None


@dataclass
class Comparison:
    """The re-check of some households compared with their forms; sums with ``+``."""

    households: int = 0
    persons_checked: int = 0
    persons_in_error: int = 0
    items_checked: int = 0
    items_in_error: int = 0
    births_in_error: int = 0
    differences: list[Difference] = field(default_factory=list)

    def __add__(self, other: Comparison) -> Comparison:
        return Comparison(
            households=self.households + other.households,
            persons_checked=self.persons_checked + other.persons_checked,
            persons_in_error=self.persons_in_error + other.persons_in_error,
            items_checked=self.items_checked + other.items_checked,
            items_in_error=self.items_in_error + other.items_in_error,
            births_in_error=self.births_in_error + other.births_in_error,
            differences=self.differences + other.differences,
        )

    @property
    def person_rate(self) -> float:
        if self.persons_checked == 0:
            return 1.0 if self.persons_in_error else 0.0
        return self.persons_in_error / self.persons_checked

    @property
    def item_rate(self) -> float:
        return self.items_in_error / self.items_checked if self.items_checked else 0.0


def _pair(form: list[Answers], recheck: list[Answers]) -> tuple[list[tuple[Answers, Answers]], list[Answers]]:
    """(re-check person, form person) pairs and the re-check persons without a partner, in re-check order."""
    taken: set[int | str] = set()
    pairs: list[tuple[Answers, Answers]] = []
    unpaired: list[Answers] = []
    tests = (
        lambda r, f: bool(r.id_number) and r.id_number == f.id_number,
        lambda r, f: r.name.strip() == f.name.strip() and r.sex is not None and r.sex == f.sex,
        lambda r, f: r.name.strip() == f.name.strip(),
    )
    left = list(recheck)
    for test in tests:
        still: list[Answers] = []
        for person in left:
            partner = next((f for f in form if f.key not in taken and test(person, f)), None)
            if partner is None:
                still.append(person)
            else:
                taken.add(partner.key)
                pairs.append((person, partner))
        left = still
    order = {person.key: index for index, person in enumerate(recheck)}
    pairs.sort(key=lambda pair: order[pair[0].key])
    unpaired = sorted(left, key=lambda p: order[p.key])
    return pairs, unpaired


def compare_household(form: Iterable[Answers], recheck: Iterable[Answers]) -> Comparison:
    form_list, recheck_list = list(form), list(recheck)
    pairs, missed = _pair(form_list, recheck_list)
    paired_form = {f.key for _r, f in pairs}
    extra = [f for f in form_list if f.key not in paired_form]
    out = Comparison(households=1, persons_checked=len(recheck_list))
    for person in missed:
        out.differences.append(Difference(MISSED, person.name, recheck_key=person.key))
    for person in extra:
        out.differences.append(Difference(EXTRA, person.name, form_key=person.key))
    out.persons_in_error = len(missed) + len(extra)
    out.births_in_error = sum(1 for p in (*missed, *extra) if p.born_last_year)
    for checked, enumerated in pairs:
        for item in ITEMS:
            said = checked.value(item)
            if said is None:
                continue
            out.items_checked += 1
            if enumerated.value(item) != said:
                out.items_in_error += 1
                out.differences.append(
                    Difference(
                        ITEM,
                        checked.name,
                        item=item,
                        form=enumerated.value(item),
                        recheck=said,
                        form_key=enumerated.key,
                        recheck_key=checked.key,
                    )
                )
    return out


@dataclass(frozen=True)
class Thresholds:
    person: float
    item: float
    births: int

    @classmethod
    def configured(cls) -> Thresholds:
        from django.conf import settings

        return cls(
            person=float(settings.RECHECK_PERSON_ERROR_MAX),
            item=float(settings.RECHECK_ITEM_ERROR_MAX),
            births=int(settings.RECHECK_BIRTH_ERRORS_MAX),
        )


PENDING = "pending"
PASSED = "passed"
FAILED = "failed"


def verdict(result: Comparison, *, drawn: int, thresholds: Thresholds) -> str:
    """PENDING until every drawn household is re-checked; then PASSED when each rate is within its threshold."""
    if result.households < drawn:
        return PENDING
    within = (
        result.person_rate <= thresholds.person
        and result.item_rate <= thresholds.item
        and result.births_in_error <= thresholds.births
    )
    return PASSED if within else FAILED
