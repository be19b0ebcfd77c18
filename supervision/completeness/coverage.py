"""The district's coverage estimate: person matching and the dual-system (capture–recapture) estimate.

Two independent lists of the persons of the sampled small areas: the census forms (the first "capture") and the
re-check's own list (the second). Persons are matched

1. by ID number (公民身份号码), exactly;
2. else by name + sex + birth month within the same small area, when exactly one census person fits;
3. else, when the same small area holds a census person with the same name and sex but another birth month
   (within a year), or several census persons fit, the pair goes to a **clerical-review queue**: a person decides
   (``ClericalDecision``, on the clerical review page); until then it counts as not matched and the page says how
   many are pending. A decision is applied before the rules above.

Census records that are the same person twice (the same ID number, or the same name + sex + birth month in the same
small area) are **double counts**: all but one are erroneous enumerations and leave the census count.

The Chandra Sekar–Deming (Lincoln–Petersen) estimate of the true number of persons in the sampled areas, with
C = census persons correctly counted (less the double counts), P = persons on the re-check list, M = matched, is
N̂ = C·P/M. Chapman's form, N̂ = (C+1)(P+1)/(M+1) − 1, is used: nearly unbiased even for small M. Its variance
(Seber 1970) is Var = (C+1)(P+1)(C−M)(P−M) / ((M+1)²(M+2)). The omission rate (漏登率) is 1 − C/N̂, the share of
the true population the census missed; its interval follows from N̂'s (C fixed). The double-count rate is D/(C+D)
with a Wilson interval. A township's rate is that of its sampled areas; the district's pools the townships.

Assumptions, shown on the page: the two lists are independent (being missed by one does not change the chance of
being missed by the other — the re-check is made by other staff, on its own list); the population is closed between
the two (the same reference moment); matches are correct (the clerical queue decides the doubtful ones); every
person has the same chance of being listed within a township (post-stratum), or at least chances that do not
correlate between the lists.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

Z95 = 1.959963984540054


@dataclass(frozen=True)
class PersonRecord:
    """One person as either list has them."""

    key: int | str
    small_area: str
    id_number: str
    name: str
    sex: int
    birth_year: int
    birth_month: int

    @property
    def birth(self) -> int:
        return self.birth_year * 12 + self.birth_month


@dataclass
class MatchResult:
    matched: list[tuple[int | str, int | str]] = field(default_factory=list)  # (re-check key, census key)
    unmatched_recheck: list[int | str] = field(default_factory=list)
    clerical: list[tuple[int | str, list[int | str]]] = field(default_factory=list)  # re-check key, candidates
    duplicates: list[int | str] = field(default_factory=list)  # census keys counted a second (third…) time
    census_correct: int = 0  # census persons less the double counts


def _soft_key(person: PersonRecord) -> tuple[str, str, int, int]:
    return (person.small_area, person.name, person.sex, person.birth)


def census_duplicates(census: Iterable[PersonRecord]) -> tuple[list[PersonRecord], list[int | str]]:
    """The census persons once each, and the keys of the records that count someone a second time."""
    kept: list[PersonRecord] = []
    duplicates: list[int | str] = []
    seen_ids: set[str] = set()
    seen_soft: set[tuple[str, str, int, int]] = set()
    for person in sorted(census, key=lambda p: str(p.key)):
        soft = _soft_key(person)
        if (person.id_number and person.id_number in seen_ids) or soft in seen_soft:
            duplicates.append(person.key)
            continue
        if person.id_number:
            seen_ids.add(person.id_number)
        seen_soft.add(soft)
        kept.append(person)
    return kept, duplicates


def match_persons(
    census: Iterable[PersonRecord],
    recheck: Iterable[PersonRecord],
    decisions: dict[int | str, int | str | None] | None = None,
) -> MatchResult:
    """Match the re-check's persons to the census's. ``decisions`` are the clerical review's: re-check key →
    the census key it is (``None``: nobody on the census); a decided person is matched (or not) as decided,
    provided the census person is still there and not taken."""
    decisions = decisions or {}
    kept, duplicates = census_duplicates(census)
    kept_keys = {p.key: p for p in kept}
    by_id = {p.id_number: p for p in kept if p.id_number}
    by_soft: dict[tuple[str, str, int, int], list[PersonRecord]] = defaultdict(list)
    by_name: dict[tuple[str, str, int], list[PersonRecord]] = defaultdict(list)
    for person in kept:
        by_soft[_soft_key(person)].append(person)
        by_name[(person.small_area, person.name, person.sex)].append(person)
    result = MatchResult(duplicates=duplicates, census_correct=len(kept))
    taken: set[int | str] = set()
    for person in sorted(recheck, key=lambda p: str(p.key)):
        if person.key in decisions:
            decided = decisions[person.key]
            if decided is None:
                result.unmatched_recheck.append(person.key)
                continue
            if decided in kept_keys and decided not in taken:
                result.matched.append((person.key, decided))
                taken.add(decided)
                continue
        found = by_id.get(person.id_number) if person.id_number else None
        if found is not None and found.key not in taken:
            result.matched.append((person.key, found.key))
            taken.add(found.key)
            continue
        candidates = [c for c in by_soft.get(_soft_key(person), []) if c.key not in taken]
        if len(candidates) == 1:
            result.matched.append((person.key, candidates[0].key))
            taken.add(candidates[0].key)
            continue
        near = [
            c
            for c in by_name.get((person.small_area, person.name, person.sex), [])
            if c.key not in taken and abs(c.birth - person.birth) <= 12
        ]
        if len(candidates) > 1 or near:
            result.clerical.append((person.key, [c.key for c in (candidates or near)]))
        else:
            result.unmatched_recheck.append(person.key)
    return result


@dataclass(frozen=True)
class Estimate:
    census: int  # C: counted correctly
    recheck: int  # P
    matched: int  # M
    duplicates: int  # D
    pending: int  # in the clerical queue (counted as not matched)
    population: float  # N̂
    population_se: float
    omission_rate: float  # 漏登率
    omission_low: float
    omission_high: float
    double_rate: float
    double_low: float
    double_high: float

    @property
    def missed(self) -> float:
        return self.population - self.census

    @property
    def population_low(self) -> float:
        return self.population - Z95 * self.population_se

    @property
    def population_high(self) -> float:
        return self.population + Z95 * self.population_se


def wilson(successes: int, total: int, z: float = Z95) -> tuple[float, float]:
    if total == 0:
        return 0.0, 1.0
    p = successes / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return max(0.0, centre - half), min(1.0, centre + half)


def dual_system(*, census: int, recheck: int, matched: int, duplicates: int = 0, pending: int = 0) -> Estimate:
    """Chapman's form of the Lincoln–Petersen estimate, Seber's variance, and the rates with 95 % intervals."""
    c, p, m = census, recheck, matched
    population = (c + 1) * (p + 1) / (m + 1) - 1
    variance = (c + 1) * (p + 1) * (c - m) * (p - m) / ((m + 1) ** 2 * (m + 2))
    se = math.sqrt(max(variance, 0.0))
    low_n, high_n = max(population - Z95 * se, float(c)), population + Z95 * se
    rate = 1 - c / population if population > 0 else 0.0
    low = 1 - c / low_n if low_n > 0 else 0.0
    high = 1 - c / high_n if high_n > 0 else 0.0
    double_low, double_high = wilson(duplicates, c + duplicates)
    return Estimate(
        census=c,
        recheck=p,
        matched=m,
        duplicates=duplicates,
        pending=pending,
        population=population,
        population_se=se,
        omission_rate=max(rate, 0.0),
        omission_low=max(low, 0.0),
        omission_high=max(high, 0.0),
        double_rate=duplicates / (c + duplicates) if c + duplicates else 0.0,
        double_low=double_low,
        double_high=double_high,
    )


def estimate_from_match(result: MatchResult) -> Estimate:
    return dual_system(
        census=result.census_correct,
        recheck=len(result.matched) + len(result.unmatched_recheck) + len(result.clerical),
        matched=len(result.matched),
        duplicates=len(result.duplicates),
        pending=len(result.clerical),
    )


def estimates_by_stratum(
    census: Iterable[PersonRecord],
    recheck: Iterable[PersonRecord],
    stratum_of: dict[str, str],
    decisions: dict[int | str, int | str | None] | None = None,
) -> dict[str, Estimate]:
    """One estimate per post-stratum (township: ``stratum_of`` maps a small area code to it) and "" for the
    whole (the district), each from the persons of its sampled small areas."""
    census_by: dict[str, list[PersonRecord]] = defaultdict(list)
    recheck_by: dict[str, list[PersonRecord]] = defaultdict(list)
    for person in census:
        census_by[stratum_of[person.small_area]].append(person)
    for person in recheck:
        recheck_by[stratum_of[person.small_area]].append(person)
    out: dict[str, Estimate] = {}
    for stratum in sorted(set(recheck_by) | set(census_by)):
        out[stratum] = estimate_from_match(match_persons(census_by[stratum], recheck_by[stratum], decisions))
    out[""] = combine(list(out.values()))
    return out


def combine(estimates: list[Estimate]) -> Estimate:
    """The stratified estimate of a whole (the district): the sum of the strata's N̂, their variances added (the
    strata are sampled independently); the rates from the sums."""
    if not estimates:
        return dual_system(census=0, recheck=0, matched=0)
    totals: Counter[str] = Counter()
    for estimate in estimates:
        totals.update(
            census=estimate.census,
            recheck=estimate.recheck,
            matched=estimate.matched,
            duplicates=estimate.duplicates,
            pending=estimate.pending,
        )
    population = sum(e.population for e in estimates)
    se = math.sqrt(sum(e.population_se**2 for e in estimates))
    c = totals["census"]
    low_n, high_n = max(population - Z95 * se, float(c)), population + Z95 * se
    double_low, double_high = wilson(totals["duplicates"], c + totals["duplicates"])
    return Estimate(
        census=c,
        recheck=totals["recheck"],
        matched=totals["matched"],
        duplicates=totals["duplicates"],
        pending=totals["pending"],
        population=population,
        population_se=se,
        omission_rate=max(1 - c / population, 0.0) if population > 0 else 0.0,
        omission_low=max(1 - c / low_n, 0.0) if low_n > 0 else 0.0,
        omission_high=max(1 - c / high_n, 0.0) if high_n > 0 else 0.0,
        double_rate=totals["duplicates"] / (c + totals["duplicates"]) if c + totals["duplicates"] else 0.0,
        double_low=double_low,
        double_high=double_high,
    )
