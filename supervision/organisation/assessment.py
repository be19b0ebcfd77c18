"""The assessment score of townships and departments over the whole census (S4: 纳入年度目标绩效考核，实行双倍
计分) — one formula, written once, shown with its weights on the page so a rank can be explained::

    score  = 100 × Σ wᵢ × cᵢ ÷ Σ wᵢ        over the components i that count for the unit (one decimal)
    points = score × M                       (双倍计分: M = 2)

Components cᵢ (0–1):

- readiness:    四落实 items done by their own deadline ÷ all the unit's items (a township with its villages)
- tasks:        the department's census tasks delivered, answered by their deadline ÷ its tasks due or delivered
                (counts only for a unit that has such tasks)
- publicity:    知晓率, households aware ÷ households asked (townships, from the first day of registration)
- registration: forms signed or further ÷ households listed (townships, from the first day of registration)
- acceptance:   forms accepted or locked ÷ households listed (idem)
- findings:     max(0, 1 − open findings per 100 registered households ÷ F) (idem; F as on the dashboard)

A component that does not count is left out of both sums, so a department is not marked down for registration it
does not do and a township's score before November is its readiness (and its tasks), not 0. The weights and M
come from ``settings.ASSESSMENT_SCORE``. Ties share a rank.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

COMPONENTS = ("readiness", "tasks", "publicity", "registration", "acceptance", "findings")


@dataclass(frozen=True)
class AssessmentWeights:
    weights: dict[str, float]
    multiplier: float


def assessment_weights() -> AssessmentWeights:
    config = settings.ASSESSMENT_SCORE
    return AssessmentWeights(
        weights={name: float(config["weights"][name]) for name in COMPONENTS},
        multiplier=float(config["multiplier"]),
    )


def _one_decimal(value: float) -> Decimal:
    return Decimal(f"{value:.15g}").quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def assessment_score(components: dict[str, float | None], w: AssessmentWeights | None = None) -> Decimal:
    """The score from the unit's components (None: does not count for it). 0 when nothing counts."""
    w = w or assessment_weights()
    counted = {name: value for name, value in components.items() if value is not None and w.weights.get(name)}
    total = sum(w.weights[name] for name in counted)
    if not total:
        return Decimal("0.0")
    return _one_decimal(100.0 * sum(w.weights[name] * value for name, value in counted.items()) / total)


def assessment_points(score: Decimal, w: AssessmentWeights | None = None) -> Decimal:
    return _one_decimal(float(score) * (w or assessment_weights()).multiplier)


@dataclass
class AssessedUnit:
    kind: str  # "township" or "department"
    key: str  # township code, or "dept:<pk>"
    name: str
    components: dict[str, float | None] = field(default_factory=dict)
    score: Decimal = Decimal("0.0")
    points: Decimal = Decimal("0.0")
    rank: int = 0

    def percent(self, name: str) -> Decimal | None:
        value = self.components.get(name)
        return None if value is None else _one_decimal(100.0 * value)

    @property
    def cells(self) -> list[Decimal | None]:
        """The components in percent, in the order of ``COMPONENTS`` (for the page)."""
        return [self.percent(name) for name in COMPONENTS]
