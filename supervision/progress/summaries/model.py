"""The shape of a summary table: columns, blocks of rows with their total, notes and statutory markings.

A table is a list of blocks; each block has data rows and, usually, a total row. Totals are not computed
by adding the rows: they come from their own aggregate (a separate grouping set, or another query), so that
the balance check (``balance.py``) compares two independent figures and catches rows that fell through.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Number = int | float | None


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    # Counts add up down a block; rates and ratios do not (their label says %, ‰ or 比).
    additive: bool = True
    # This column is the sum of these columns in every row (e.g. total = male + female).
    parts: tuple[str, ...] = ()
    # Digits after the decimal point as printed: None for counts, 1 for ratios (‰, 性别比, estimates), 2 for
    # percentages.
    decimals: int | None = None


@dataclass
class Row:
    key: str
    label: str
    values: Mapping[str, Number]

    def get(self, column: str) -> Number:
        return self.values.get(column)

    def count(self, column: str) -> int:
        """A count cell as an int (an empty cell counts 0)."""
        return int(self.values.get(column) or 0)


@dataclass
class Block:
    key: str
    title: str
    rows: list[Row]
    total: Row | None

    def row(self, key: str) -> Row:
        for row in self.rows:
            if row.key == key:
                return row
        raise KeyError(key)


@dataclass
class SummaryTable:
    code: str  # T01 …
    title: str
    universe: str  # who is counted (资料范围)
    columns: list[Column]
    blocks: list[Block]
    notes: list[str] = field(default_factory=list)

    def column(self, key: str) -> Column:
        return next(column for column in self.columns if column.key == key)

    def block(self, key: str) -> Block:
        return next(block for block in self.blocks if block.key == key)

    def total(self, column: str, block: str = "") -> Number:
        chosen = self.block(block) if block else self.blocks[0]
        assert chosen.total is not None, f"{self.code} block {chosen.key} has no total"
        return chosen.total.get(column)


@dataclass(frozen=True)
class Markings:
    """统计法: 表号, 制定机关, 批准文号, 有效期限 on every table."""

    table_no: str
    authority: str
    document_no: str
    valid_until: str


@dataclass(frozen=True)
class OverrideLine:
    """A form counted in the tables that passed review over blocking checks (the district office's override)."""

    household: str  # its key, small area code + 户编号
    at: str
    by: str
    reason: str
    blockers: str


@dataclass
class Summary:
    tables: list[SummaryTable]
    markings: dict[str, Markings]
    pending_note: str
    # Households (small-area code-户编号) whose H4 disagrees with their death-register rows.
    death_mismatches: list[str] = field(default_factory=list)
    checks: list[Any] = field(default_factory=list)  # balance.Check, filled by balance.check_summary
    overrides: list[OverrideLine] = field(default_factory=list)
    # Whose tables these are (the compiling office's district, or a city office's city), for the footer; the
    # settings' district name if unset.
    office_name: str = ""

    def table(self, code: str) -> SummaryTable:
        return next(table for table in self.tables if table.code == code)
