"""What a check is, and the SQL every check of a township part shares.

A :class:`Check` is one SELECT that PostgreSQL runs over one township: it produces the records that break one
rule (sometimes a few closely related rules). Nothing is looped over in Python — the catalogue runs as set-based
SQL, and a township's part runs all checks in one transaction.

Household checks (``kind="household"``) read three temporary tables the part builds first:

* ``q_hh`` — the signed households being checked (in an incremental run only those changed since the last run
  of the township), with the form's household items, the signer and the current signature;
* ``q_p`` — their person rows, with the household context (``is_foreign``, ``family``, ``long_form``,
  ``regular`` = not 户编号 999) and ``age`` (completed years at 2020-11-01, NULL when D5 is incomplete);
* ``q_d`` — their death-register rows;
* ``q_person_rows``, ``q_death_rows`` — rows of the person and death tables that include every row of those
  households (and may include others: read them only for households of ``q_hh``).

In a township part these are tables built first; in a full run's forms sections, views over every form of the
run (``runner.create_form_views``).

They select ``code, household_id, row_no, item, evidence``; the part adds the key, the record key, the area
and the person responsible. Cross-record checks (``kind="cross"``: duplicates, roster, coverage, anomalies,
aggregates, the signature chain) look at the whole township every run and select every column of ``q_det``
themselves. ``q_signed`` holds every signed household of the township (what cross checks about households
may report on).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any, Literal

from enumeration.codes import code_list
from enumeration.identity import REFERENCE_MONTH, REFERENCE_YEAR
from enumeration.models import SIGNED_STATES
from enumeration.rules.thresholds import threshold

REFERENCE_YM = REFERENCE_YEAR * 100 + REFERENCE_MONTH  # 202011: born at or after this is after the reference

SIGNED_SQL = "(" + ", ".join(f"'{state}'" for state in SIGNED_STATES) + ")"


@dataclass(frozen=True)
class PartContext:
    """What a check needs to know about the part it runs in."""

    run_id: int
    township: str
    district: str
    full: bool
    since: datetime | None
    # Every township of the run (what the district part works on).
    townships: tuple[str, ...] = ()
    # An assignment of the district changed since the watermark: who answers for any area may have changed.
    assignments_changed: bool = False

    def params(self) -> dict[str, Any]:
        return {
            "township": self.township,
            "district": self.district,
            "since": self.since,
            "townships": list(self.townships or (self.township,)),
            # A part that looks at everything (no watermark), not at what changed since.
            "every_area": self.since is None,
            "assignments_changed": self.assignments_changed,
        }


Params = Callable[[PartContext], dict[str, Any]]


@dataclass(frozen=True)
class Check:
    name: str
    codes: tuple[str, ...]
    kind: Literal["household", "cross", "district"]
    sql: str
    params: Params | None = None
    # Hand-written comparison queries in the benchmarks look these up by name.
    group: str = ""
    doc: str = field(default="", compare=False)
    # A cross check that only full runs make (an incremental run neither opens nor closes its findings): what
    # looks for edits made behind the application's back and costs too much to repeat every night.
    full_runs_only: bool = False
    # A cross check whose incremental run looks only at what the changes touch: the findings such a part settles
    # (an SQL condition on ``f``, over the part's temporary tables); empty, the township's every finding of it.
    settles: str = ""

    def parameters(self, context: PartContext) -> dict[str, Any]:
        values = context.params()
        if self.params is not None:
            values.update(self.params(context))
        return values


# --- SQL fragments -----------------------------------------------------------------------------------------


def ints(values: Iterable[int]) -> str:
    """An SQL list of integers for ``IN (…)``; the values come from the code lists, never from users."""
    items = sorted(int(v) for v in values)
    return "(" + ", ".join(str(v) for v in items) + ")" if items else "(NULL)"


def codes(item: str) -> str:
    return ints(code_list(item).codes)


def age_sql(year: str, month: str) -> str:
    """Completed years at the reference moment from year and month of birth (``identity.age_at_reference``)."""
    return (
        f"(CASE WHEN {year} IS NULL OR {month} IS NULL THEN NULL "
        f"ELSE {REFERENCE_YEAR} - {year} - (CASE WHEN {month} >= {REFERENCE_MONTH} THEN 1 ELSE 0 END) END)"
    )


def case_map(expression: str, mapping: dict[Any, Any], default: str = "NULL") -> str:
    """``CASE expression WHEN k THEN v … END`` from a threshold dict."""
    whens = " ".join(f"WHEN {int(k)} THEN {v}" for k, v in sorted(mapping.items()))
    return f"(CASE {expression} {whens} ELSE {default} END)"


def evidence(**values: str) -> str:
    """``jsonb_build_object`` over SQL expressions (the message's values, named as in the catalogue)."""
    parts = ", ".join(f"'{name}', {expression}" for name, expression in values.items())
    return f"jsonb_build_object({parts})"


def legal_marriage_age(sex: str) -> str:
    return case_map(sex, threshold("legal_marriage_age"))


# --- ID numbers (GB 11643-1999) in SQL -----------------------------------------------------------------------

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_normalised(column: str) -> str:
    """``identity.normalise``: python-stdnum's compact (spaces and hyphens out, upper case)."""
    return f"upper(replace(replace({column}, ' ', ''), '-', ''))"


def id_for_reading(column: str) -> str:
    """The number as the identity rules read it: ``id_normalised`` when it holds a space, a hyphen or a lower-case
    x, else as it is. The two differ then only in other lower-case letters, which a well-formed number never has,
    so every verdict and every value read from a well-formed number is the same — at less than half the cost of
    normalising each of a district's million numbers."""
    test = " OR ".join(f"strpos({column}, '{c}') > 0" for c in (" ", "-", "x"))
    return f"(CASE WHEN {test} THEN {id_normalised(column)} ELSE {column} END)"


def id_well_formed(number: str) -> str:
    return f"({number} ~ '^[0-9]{{17}}[0-9X]$')"


def id_check_character(number: str) -> str:
    """The MOD 11-2 check character of the first 17 digits of a well-formed number (digits read as ASCII)."""
    weighted = " + ".join(f"ascii(substr({number}, {i + 1}, 1)) * {w}" for i, w in enumerate(ID_WEIGHTS))
    # Σ (ascii − 48)·w = Σ ascii·w − 48·Σw; mod keeps it exact.
    return f"substr('10X98765432', mod({weighted} - {48 * sum(ID_WEIGHTS)}, 11) + 1, 1)"


def id_date_valid(number: str) -> str:
    """Digits 7–14 form a real calendar date (what ``datetime.date`` accepts)."""
    y, m, d = f"substr({number}, 7, 4)::int", f"substr({number}, 11, 2)::int", f"substr({number}, 13, 2)::int"
    return (
        f"(CASE WHEN {y} >= 1 AND {m} BETWEEN 1 AND 12 THEN {d} BETWEEN 1 AND "
        f"extract(day FROM make_date({y}, {m}, 1) + interval '1 month - 1 day')::int ELSE false END)"
    )


def id_birth_ym(number: str) -> str:
    return f"(substr({number}, 7, 4)::int * 100 + substr({number}, 11, 2)::int)"


def id_sex(number: str) -> str:
    return f"(CASE WHEN mod(ascii(substr({number}, 17, 1)), 2) = 1 THEN 1 ELSE 2 END)"


@cache
def address_codes() -> list[str]:
    """Every 6-digit code in python-stdnum's GB/T 2260 history that names a county (as ``address_code_known``)."""
    from stdnum import numdb

    def walk(prefixes: list[Any], prefix: str = "") -> Iterable[str]:
        for _length, low, high, props, children in prefixes:
            for value in range(int(low), int(high) + 1):
                code = prefix + str(value).zfill(len(low))
                if len(code) == 6 and "county" in props:
                    yield code
                yield from walk(children, code)

    return sorted(set(walk(numdb.get("cn/loc").prefixes)))


ADDRESS_CODES_TABLE = "q_address_codes"


def ensure_address_codes(cursor: Any) -> None:
    """A temporary table of the GB/T 2260 codes, kept for the session (one per worker connection)."""
    cursor.execute("SELECT to_regclass('pg_temp.q_address_codes') IS NOT NULL")
    if cursor.fetchone()[0]:
        return
    cursor.execute(f"CREATE TEMP TABLE {ADDRESS_CODES_TABLE} (code text PRIMARY KEY)")
    cursor.execute(f"INSERT INTO {ADDRESS_CODES_TABLE} (code) SELECT unnest(%s::text[])", [address_codes()])
    cursor.execute(f"ANALYZE {ADDRESS_CODES_TABLE}")


def address_known(expression: str) -> str:
    # IN over the whole table, not EXISTS per row: PostgreSQL hashes the codes once.
    return f"coalesce({expression} IN (SELECT c.code FROM {ADDRESS_CODES_TABLE} c), false)"


# Python's str.strip() in SQL, for the notes on warnings (ASCII white space and the ideographic space).
STRIP_CHARACTERS = " \t\n\r\x0b\x0c\u3000\u00a0"
