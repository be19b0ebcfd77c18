"""Planted errors for the synthetic district (filled in with the rule catalogue)."""

from __future__ import annotations

import random
from typing import Any


class ErrorPlanter:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.manifest: dict[str, list[str]] = {}

    def plant_village(self, village: Any, by_area: Any) -> None:
        return None

    def plant_cross_records(self, plan: Any) -> None:
        return None
