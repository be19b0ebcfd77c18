"""The long-form sample: a systematic (随机等距) 10% sample per 普查区, reproducible from its seed.

The frame is the households of the 普查区 whose short form is complete, excluding the categories the
national scheme excludes, ordered by small-area code and household number. With interval k = 1/rate and a
random start r drawn from the recorded seed, the sample is frame positions r, r+k, r+2k, … (1-based).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

DEFAULT_RATE = 0.10


@dataclass(frozen=True)
class SystematicSample:
    interval: int
    start: int
    positions: tuple[int, ...]  # 1-based positions in the ordered frame


def systematic_sample(frame_size: int, *, seed: int, rate: float = DEFAULT_RATE) -> SystematicSample:
    if not 0 < rate <= 1:
        raise ValueError("rate must lie in (0, 1]")
    interval = max(1, round(1 / rate))
    start = random.Random(seed).randint(1, interval)
    return SystematicSample(interval, start, tuple(range(start, frame_size + 1, interval)))
