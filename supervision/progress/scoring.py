"""The ranking score of villages, townships and enumerators — one formula, written once, shown on the page.

The district scores townships and departments in its annual performance assessment and counts the census
twice (双倍计分), so a rank must be explainable from numbers anyone can check on the dashboard::

    score  = W_reg × R + W_acc × A + W_qual × Q            (0–100, one decimal)
    R      = forms signed or further ÷ households listed    (signed, approved, accepted, locked)
    A      = forms accepted or locked ÷ households listed
    Q      = max(0, 1 − open findings per 100 registered households ÷ F)   (0 when nothing is registered)
    points = score × M                                      (the assessment's 双倍计分, M = 2)

The weights W (50/30/20), F (10: ten open findings per hundred registered households cost all quality
points) and M come from ``settings.PROGRESS_SCORE``. Ties share a rank and are listed by code.
:func:`score` is the only implementation: the dashboards, the totals and the exports all call it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings


@dataclass(frozen=True)
class ScoreWeights:
    registration: float
    acceptance: float
    quality: float
    findings_per_100_for_zero: float
    assessment_multiplier: float


def weights() -> ScoreWeights:
    config = settings.PROGRESS_SCORE
    return ScoreWeights(
        registration=float(config["registration"]),
        acceptance=float(config["acceptance"]),
        quality=float(config["quality"]),
        findings_per_100_for_zero=float(config["findings_per_100_for_zero"]),
        assessment_multiplier=float(config["assessment_multiplier"]),
    )


def _one_decimal(value: float) -> Decimal:
    # Rounded from 15 significant digits, so that 42.449999999999996 (float noise for 42.45) gives 42.5.
    return Decimal(f"{value:.15g}").quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def score(
    *,
    households: int,
    signed: int,
    accepted: int,
    registered: int,
    open_findings: int,
    w: ScoreWeights | None = None,
) -> Decimal:
    """The score of one unit from its counts (``signed`` and ``accepted`` include the states after them).
    ``w``: the weights, when scoring many rows at once (read from the settings otherwise)."""
    w = w or weights()
    r = signed / households if households else 0.0
    a = accepted / households if households else 0.0
    q = max(0.0, 1.0 - open_findings * ((100.0 / w.findings_per_100_for_zero) / registered)) if registered else 0.0
    return _one_decimal(w.registration * r + w.acceptance * a + w.quality * q)


def points(value: Decimal, w: ScoreWeights | None = None) -> Decimal:
    return _one_decimal(float(value) * (w or weights()).assessment_multiplier)


def ranks(ordered: list[tuple[Any, Decimal]]) -> dict[Any, int]:
    """Competition ranks (1, 2, 2, 4) for keys already ordered by descending score."""
    result: dict[Any, int] = {}
    previous: Decimal | None = None
    rank = 0
    for position, (key, value) in enumerate(ordered, start=1):
        if value != previous:
            rank = position
            previous = value
        result[key] = rank
    return result
