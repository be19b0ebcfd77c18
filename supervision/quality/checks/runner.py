"""Running the checks of one part in PostgreSQL: temporary tables, the checks, and the merge into findings.

Everything here runs inside the part's transaction (see ``services.check_run_part_execute``): the detections of
all checks go to the temporary table ``q_det``, warnings the registrar already explained on the form are dropped,
and then one statement upserts the findings — ``(rule, key)`` is unique, so a finding is updated, never
duplicated — and one statement resolves the findings of the part's domain that the checks no longer produce:
``corrected`` when the record was signed again since, ``explained`` when it was signed again with a note on this
warning, ``closed`` (the cause is gone) otherwise.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.backends.utils import CursorWrapper

from census import privacy
from census.models import District
from enumeration import ledger
from enumeration.rules.catalogue import RULES, Severity
from supervision.quality.checks import CHECKS, HOUSEHOLD_CHECKS, Check, PartContext, tally
from supervision.quality.checks.base import (
    ADDRESS_CODES_TABLE,
    SIGNED_SQL,
    STRIP_CHARACTERS,
    address_codes,
    age_sql,
    ensure_address_codes,
    id_for_reading,
)
from supervision.quality.models import GONE_STATES, FindingState

DET_COLUMNS = (
    "code, key, record_key, household_id, row_no, item, small_area_id, village_id, township_id, staff_id, "
    "responsible_id, signature_id, evidence"
)

_HOUSEHOLD_FORM_COLUMNS = ", ".join(
    f"h.{name}"
    for name in dict.fromkeys([*ledger.HOUSEHOLD_CONTENT_FIELDS, "version", "in_long_form_sample", "expected_persons"])
    if name != "household_no"
)

TEMP_BUFFERS = "128MB"
# Room for a district's worth of groups in a forms section (a hash of every household's numbers).
WORK_MEM = "256MB"
# H1 = 1 (a family household), never NULL — written so that PostgreSQL estimates it from H1's statistics (it
# cannot see into coalesce(), and a wrong guess of how many households are families picks a slower plan).
FAMILY = "(h.h1_kind = 1 AND h.h1_kind IS NOT NULL)"
WARNING_CODES = [rule.code for rule in RULES if rule.severity is Severity.WARNING]


@dataclass(frozen=True)
class Tables:
    """Where the form rows are read from: the real tables, or (in the agreement tests) look-alike temporary
    tables holding rows the database constraints would refuse."""

    household: str = "enumeration_household"
    person: str = "enumeration_person"
    death: str = "enumeration_deathrecord"


TABLES = Tables()


@dataclass
class PartResult:
    households: int = 0
    detections: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


def _execute(cursor: CursorWrapper, sql: str, params: dict[str, Any] | Sequence[Any] | None = None) -> None:
    cursor.execute(sql, params if params is not None else {})


def tune_session(cursor: CursorWrapper) -> None:
    """Settings for one part's transaction: room for hashes and sorts, and no JIT for a few hundred quick queries."""
    # temp_buffers can only change before a session's first temporary table: try, in a savepoint. For the session,
    # so that it holds for the next part's tables too — except through PgBouncer in transaction mode, where the
    # server session is shared with other clients and nothing may outlive the transaction.
    scope = "LOCAL " if getattr(settings, "CENSUS_PGBOUNCER", False) else ""
    _execute(cursor, "SELECT current_setting('temp_buffers')")
    if cursor.fetchone()[0] != TEMP_BUFFERS:
        try:
            with transaction.atomic():
                _execute(cursor, f"SET {scope}temp_buffers = '{TEMP_BUFFERS}'")
        except DatabaseError:
            pass
    tune_reads(cursor)


def plan_for_few_rows(cursor: CursorWrapper) -> None:
    """An incremental district section: plan its look-ups of the changed households' rows with the
    ``INCREMENTAL_RANDOM_PAGE_COST`` of the settings (for the rest of the part's transaction)."""
    cost = settings.QUALITY.get("INCREMENTAL_RANDOM_PAGE_COST")
    if cost is not None:
        _execute(cursor, "SELECT set_config('random_page_cost', %s, true)", [str(cost)])


def create_signed(
    cursor: CursorWrapper, townships: Sequence[str], tables: Tables = TABLES, *, only: str | None = None
) -> None:
    """``q_signed``: every signed household of the townships (or those of them in the temporary table ``only``),
    with its signer, area code and a few items."""
    sql, params = signed_sql(townships, tables, only=only)
    _execute(cursor, f"CREATE TEMP TABLE q_signed ON COMMIT DROP AS {sql}", params)
    _execute(cursor, "CREATE UNIQUE INDEX ON q_signed (id)")
    # updated_at too: how many households an incremental part picks decides how q_hh reads the household rows.
    _execute(cursor, "ANALYZE q_signed (id, updated_at)")


def signed_sql(
    townships: Sequence[str], tables: Tables = TABLES, *, only: str | None = None
) -> tuple[str, dict[str, Any]]:
    """What ``create_signed`` selects, and its parameters."""
    # For one township (or a chosen few households), one index look-up per household (the LIMIT keeps PostgreSQL
    # from turning the look-ups into a hash join that reads every signature of the district: 50 ms instead of 90
    # at 1 M persons); for the whole district that hash join is the cheaper way.
    one_by_one = "LIMIT 1" if len(townships) == 1 or only else ""
    chosen = f"AND h.id IN (SELECT id FROM {only})" if only else ""
    return (
        f"""
        SELECT h.id, h.small_area_id, h.village_id, h.township_id, h.household_no, h.registrar_id,
               h.current_signature_id AS signature_id, s.signer_id, s.signed_at,
               coalesce(s.signer_id, h.registrar_id) AS responsible_id, sa.code AS area_code, h.updated_at,
               {FAMILY} AS family, h.form_kind = 'foreign' AS is_foreign,
               h.h1_kind, h.h3_births_male, h.h3_births_female, h.h5_residence_type, h.h6_floor_area, h.h7_rooms,
               h.listed_at IS NOT NULL AS listed, h.expected_persons, s.content_hash AS signed_hash,
               s.household_id AS signature_household_id
        FROM {tables.household} h JOIN census_smallarea sa ON sa.id = h.small_area_id
        LEFT JOIN LATERAL (SELECT s.signer_id, s.signed_at, s.content_hash, s.household_id FROM enumeration_signature s
                           WHERE s.id = h.current_signature_id {one_by_one}) s ON true
        WHERE h.township_id = ANY(%(townships)s) AND h.state IN {SIGNED_SQL} {chosen}
        """,
        {"townships": list(townships)},
    )


def create_changed(
    cursor: CursorWrapper, townships: Sequence[str], since: datetime | None, *, persons: bool = True
) -> None:
    """``q_changed`` and (with ``persons``) ``q_changed_p``: the households of the townships written after
    ``since`` and their persons — what an incremental district section looks at again (both empty when ``since``
    is None: the section then looks at everything, and its SQL still names the tables). A township part reads
    its changed households' persons with their whole rows (``create_household_tables``), not these."""
    # One township: through the (township, updated_at) index — a row comparison, which the index on updated_at
    # alone cannot serve (PostgreSQL estimates "changed since" at one row either way, and took that one: every
    # part then read the whole district's changes). The whole district: through updated_at.
    changed = (
        "township_id = %(township)s AND (township_id, updated_at) > (%(township)s, %(since)s)"
        if len(townships) == 1
        else "township_id = ANY(%(townships)s) AND updated_at > %(since)s"
    )
    # (Statistics of the columns the sections join and match on only: for the 57,000 persons of 20,000 changed
    # households, ANALYZE of all fourteen took 0.17–0.21 s, of these six 0.12 s.)
    changed_persons = """
        CREATE TEMP TABLE q_changed_p ON COMMIT DROP AS
        SELECT p.id, p.household_id, p.row_no, p.township_id, p.village_id, p.small_area_id, p.d3_id_number,
               p.d8_hukou_place, p.d8_hukou_county, p.d1_name, p.d4_sex, p.d5_birth_year, p.d5_birth_month,
               p.f_identity
        FROM q_changed c JOIN enumeration_person p ON p.household_id = c.id;
        ANALYZE q_changed_p (household_id, d3_id_number, d1_name, d4_sex, d5_birth_year, d5_birth_month);
        """
    _execute(
        cursor,
        f"""
        CREATE TEMP TABLE q_changed ON COMMIT DROP AS
        SELECT id, small_area_id FROM enumeration_household
        WHERE %(since)s::timestamptz IS NOT NULL AND {changed};
        CREATE UNIQUE INDEX ON q_changed (id);
        ANALYZE q_changed;
        {changed_persons if persons else ""}
        """,
        {"townships": list(townships), "township": townships[0] if townships else "", "since": since},
    )


def tally_township(cursor: CursorWrapper, township: str) -> None:
    """Count every signed household of ``q_signed`` (the whole township) into ``quality_householdtally`` again."""
    _execute(cursor, tally.REBUILD, {"township": township})


def tally_changed(cursor: CursorWrapper, result: PartResult) -> None:
    """Count the households changed since the part's watermark again (``q_changed``; those still signed are in
    ``q_signed``, their persons in ``q_p``)."""
    for step, sql in tally.REWRITE_CHANGED:
        started = time.perf_counter()
        _execute(cursor, sql)
        result.timings[f"tally_{step}"] = time.perf_counter() - started


_AGE = age_sql("p.d5_birth_year", "p.d5_birth_month")
# What q_p and q_d carry of their household (as tables of a township part, or views of a forms section).
_PERSON_CONTEXT = "h.regular, h.is_foreign, h.family, h.long_form, h.h3_births_male, h.h3_births_female"
_DEATHS = "SELECT d.*, h.regular, h.is_foreign FROM {death} d JOIN q_hh h ON h.id = d.household_id"


def _counts_sql(persons: str) -> str:
    """Per regular household of q_hh: its persons, heads, persons here, infants by sex and its one head (what the
    structure and relationship rules share); ``persons`` is where the person rows (with ``age``) come from. The
    persons are counted by household first — grouped by one integer, not by the household's columns."""
    return f"""
        SELECT h.id AS household_id, h.h2_present, h.h2_away, h.h3_births_male, h.h3_births_female, h.family,
               h.is_foreign, coalesce(c.persons, 0) AS persons, coalesce(c.heads, 0) AS heads,
               coalesce(c.here, 0) AS here, coalesce(c.infants_male, 0) AS infants_male,
               coalesce(c.infants_female, 0) AS infants_female, c.head_row, c.head_age, c.head_sex,
               coalesce(c.has_spouse, false) AS has_spouse, coalesce(c.has_child, false) AS has_child,
               c.first_child_in_law
        FROM q_hh h LEFT JOIN (
            SELECT p.household_id, count(*) AS persons,
                   count(*) FILTER (WHERE p.d2_relationship = 0) AS heads,
                   count(*) FILTER (WHERE p.d7_residence = 1) AS here,
                   count(*) FILTER (WHERE p.age = 0 AND p.d4_sex = 1) AS infants_male,
                   count(*) FILTER (WHERE p.age = 0 AND p.d4_sex = 2) AS infants_female,
                   min(p.row_no) FILTER (WHERE p.d2_relationship = 0) AS head_row,
                   min(p.age) FILTER (WHERE p.d2_relationship = 0) AS head_age,
                   min(p.d4_sex) FILTER (WHERE p.d2_relationship = 0) AS head_sex,
                   bool_or(p.d2_relationship = 1) AS has_spouse,
                   bool_or(p.d2_relationship = 2) AS has_child,
                   min(p.row_no) FILTER (WHERE p.d2_relationship = 6) AS first_child_in_law
            FROM {persons} p GROUP BY p.household_id
        ) c ON c.household_id = h.id
        WHERE h.regular
        """


# The persons the relationship rules read: family households with exactly one head, narrow rows.
FAMILY_SQL = """
    SELECT p.household_id, p.row_no, p.d2_relationship, p.d4_sex, p.age, c.head_row, c.head_age, c.head_sex,
           c.has_spouse, c.has_child, c.first_child_in_law
    FROM q_p p JOIN q_counts c ON c.household_id = p.household_id
    WHERE p.regular AND p.family AND c.family AND c.heads = 1
"""


def create_household_tables(
    cursor: CursorWrapper, townships: Sequence[str], since: datetime | None, tables: Tables = TABLES
) -> int:
    """``q_hh``, ``q_p``, ``q_d``: the households a part checks (of its township or group of townships: changed
    since ``since``, or all), with rows."""
    changed = "WHERE s.updated_at > %(since)s" if since is not None else ""
    _execute(
        cursor,
        f"""
        CREATE TEMP TABLE q_hh ON COMMIT DROP AS
        SELECT s.id, s.small_area_id, s.village_id, s.township_id, s.household_no, s.registrar_id, s.signature_id,
               s.signer_id, s.responsible_id, s.area_code, s.signed_hash, s.signature_household_id,
               s.household_no <> 999 AS regular, s.is_foreign, s.family,
               h.in_long_form_sample AS long_form, {_HOUSEHOLD_FORM_COLUMNS}
        FROM q_signed s JOIN {tables.household} h ON h.id = s.id {changed}
        """,
        {"since": since},
    )
    _execute(cursor, "CREATE UNIQUE INDEX ON q_hh (id)")
    # Column statistics of these wide tables would cost more than the checks; row counts are what matters.
    _execute(cursor, "ANALYZE q_hh (id)")
    # An incremental part reads the persons of its few changed households through the household index, not the
    # township's every person.
    persons = (
        f"(SELECT p.* FROM q_hh h JOIN {tables.person} p ON p.household_id = h.id)"
        if since is not None
        else f"(SELECT p.* FROM {tables.person} p WHERE p.township_id = ANY(%(townships)s))"
    )
    _execute(
        cursor,
        f"""
        CREATE TEMP TABLE q_p ON COMMIT DROP AS
        SELECT p.*, {_PERSON_CONTEXT}, {_AGE} AS age
        FROM (SELECT p.*, {id_for_reading("p.d3_id_number")} AS id_n FROM {persons} p OFFSET 0) p
        JOIN q_hh h ON h.id = p.household_id
        """,
        {"townships": list(townships)},
    )
    _execute(cursor, "CREATE INDEX ON q_p (household_id)")
    _execute(cursor, "ANALYZE q_p (household_id)")
    # What the structure and relationship rules share: per household, its counts and its one head.
    _execute(cursor, f"CREATE TEMP TABLE q_counts ON COMMIT DROP AS {_counts_sql('q_p')}")
    _execute(cursor, "CREATE UNIQUE INDEX ON q_counts (household_id)")
    _execute(cursor, "ANALYZE q_counts (household_id)")
    _execute(cursor, f"CREATE TEMP TABLE q_family ON COMMIT DROP AS {FAMILY_SQL}")
    _execute(
        cursor,
        f"""
        CREATE TEMP TABLE q_d ON COMMIT DROP AS
        {_DEATHS.format(death=tables.death)} WHERE d.township_id = ANY(%(townships)s)
        """,
        {"townships": list(townships)},
    )
    _execute(cursor, "CREATE INDEX ON q_d (household_id)")
    _execute(cursor, "ANALYZE q_d (household_id)")
    _execute(cursor, ROW_VIEWS.format(person="q_p", death="q_d"))
    _execute(cursor, "SELECT count(*) FROM q_hh")
    return int(cursor.fetchone()[0])


# ``q_person_rows`` and ``q_death_rows``: rows of the form tables that include every row of q_hh's households (and
# may hold others: a check reads them only for households of q_hh). Over tables built for a township part they
# are q_p and q_d; in a forms section they are the tables themselves — a test for a household's rows, or counting
# rows by household before joining, then reads no household it does not need.
ROW_VIEWS = """
    CREATE TEMP VIEW q_person_rows AS SELECT * FROM {person};
    CREATE TEMP VIEW q_death_rows AS SELECT * FROM {death};
"""


def _form_view_sql(cursor: CursorWrapper, townships: Sequence[str], tables: Tables, *, signed: bool) -> dict[str, str]:
    """What the forms section's views are (``create_form_views``), as SQL by name, in an order where each reads
    only those before it."""
    # Views take no parameters: the township codes are written in as a literal (quoted by the driver). When no
    # other township has a household (one district, the whole of it), the test is left out: it would cost more
    # than a household rule's own.
    _execute(
        cursor,
        f"SELECT EXISTS (SELECT 1 FROM census_township t WHERE NOT t.code = ANY(%s) "
        f"AND EXISTS (SELECT 1 FROM {tables.household} h WHERE h.township_id = t.code))",
        [list(townships)],
    )
    others = bool(cursor.fetchone()[0])
    codes = cursor.mogrify("%s::text[]", [list(townships)]).decode()
    in_townships = f"h.township_id = ANY({codes}) AND" if others else ""
    signature = (
        """, s.signer_id, coalesce(s.signer_id, h.registrar_id) AS responsible_id, sa.code AS area_code,
               s.content_hash AS signed_hash, s.household_id AS signature_household_id
        FROM {household} h JOIN census_smallarea sa ON sa.id = h.small_area_id
        LEFT JOIN enumeration_signature s ON s.id = h.current_signature_id"""
        if signed
        else "FROM {household} h"
    ).format(household=tables.household)
    persons = f"(SELECT p.*, {_AGE} AS age FROM {tables.person} p)"
    views = {
        "q_hh": f"""
            SELECT h.id, h.small_area_id, h.village_id, h.township_id, h.household_no, h.registrar_id,
                   h.current_signature_id AS signature_id,
                   h.household_no <> 999 AS regular, h.form_kind = 'foreign' AS is_foreign,
                   {FAMILY} AS family, h.in_long_form_sample AS long_form,
                   {_HOUSEHOLD_FORM_COLUMNS} {signature}
            WHERE {in_townships} h.state IN {SIGNED_SQL}""",
        "q_p": f"""
            SELECT p.*, {_PERSON_CONTEXT}, {_AGE} AS age, {id_for_reading("p.d3_id_number")} AS id_n
            FROM {tables.person} p JOIN q_hh h ON h.id = p.household_id""",
        "q_d": _DEATHS.format(death=tables.death),
        "q_person_rows": f"SELECT * FROM {tables.person}",
        "q_death_rows": f"SELECT * FROM {tables.death}",
        "q_counts": _counts_sql(persons),
        "q_family": FAMILY_SQL,
    }
    return views


def create_form_views(
    cursor: CursorWrapper,
    townships: Sequence[str],
    tables: Tables = TABLES,
    *,
    counted: bool = False,
    signed: bool = False,
    reads: Iterable[Check] | None = None,
) -> None:
    """``q_hh``, ``q_p``, ``q_d``, ``q_counts`` and ``q_family`` as views over every signed household of the
    townships: what a forms section reads. Each check then is one statement over the forms themselves, as a
    hand-written query would be, instead of a statement per township over tables built first. ``counted``:
    q_counts and q_family are built once as tables (for a section whose checks read them over and over);
    ``signed``: q_hh carries the signature and the area code (the process rules read them; joining them into
    every other check's plan would cost more planning than a small check takes to run); ``reads``: the checks
    that will read the views (only the views they need are made)."""
    views = _form_view_sql(cursor, townships, tables, signed=signed)
    # Only what the section's checks read (each view is a few catalogue rows to write), in one round trip.
    wanted = _read_by(views, reads)
    counted_tables = {"q_counts", "q_family"} if counted else set()
    _execute(
        cursor,
        ";\n".join(
            f"CREATE TEMP VIEW {name} AS {sql}"
            for name, sql in views.items()
            if name in wanted and name not in counted_tables
        ),
    )
    if counted:
        _execute(cursor, f"CREATE TEMP TABLE q_counts ON COMMIT DROP AS {views['q_counts']}")
        _execute(cursor, "CREATE UNIQUE INDEX ON q_counts (household_id)")
        _execute(cursor, "ANALYZE q_counts (household_id)")
        _execute(cursor, f"CREATE TEMP TABLE q_family ON COMMIT DROP AS {FAMILY_SQL}")
        _execute(cursor, "ANALYZE q_family")


def _read_by(views: dict[str, str], checks: Iterable[Check] | None) -> set[str]:
    """The views the checks read, with the views those read (every view when no checks are named)."""
    if checks is None:
        return set(views)
    wanted = {"q_hh"}  # (enrich, the explained warnings and the merge read it)
    pending = [check.sql for check in checks]
    while pending:
        text = pending.pop()
        for name, sql in views.items():
            if name not in wanted and re.search(rf"\b{name}\b", text):
                wanted.add(name)
                pending.append(sql)
    return wanted


# --- A forms section's detection as read-only statements (on a streaming replica) -----------------------------
#
# A hot standby refuses temporary tables and views — every write, the catalogue's included. There the section's
# views become the CTEs of each check's statement: NOT MATERIALIZED, so that PostgreSQL inlines them exactly as it
# inlines the views, and the tables a counted section builds once (q_counts, q_family) MATERIALIZED, shared by
# the checks that read them in one statement of UNION ALL. The other checks stay one statement each: in one plan
# every branch's hash tables would be held until the last branch ends.

_BUILT_ONCE = ("q_counts", "q_family")
# Detections beyond this many bytes wait in a file on disk, not in the worker's memory.
SPOOL_BYTES = 32 * 1024 * 1024


def form_detection_statements(
    cursor: CursorWrapper,
    townships: Sequence[str],
    checks: Sequence[Check],
    tables: Tables = TABLES,
    *,
    counted: bool = False,
    signed: bool = False,
) -> list[tuple[str, str]]:
    """The section's checks as (name, SELECT) pairs that create nothing: each selects ``HOUSEHOLD_DET_COLUMNS``.
    ``cursor`` is only read from (whether other townships have households)."""
    views = _form_view_sql(cursor, townships, tables, signed=signed)
    views[ADDRESS_CODES_TABLE] = cursor.mogrify("SELECT unnest(%s::text[]) AS code", [address_codes()]).decode()
    built_once = set(_BUILT_ONCE) if counted else set()

    def statement(group: Sequence[Check]) -> str:
        wanted = _read_by(views, group)
        ctes = ",\n".join(
            f"{name} AS {'' if name in built_once else 'NOT '}MATERIALIZED ({sql})"
            for name, sql in views.items()
            if name in wanted
        )
        # (The checks' SQL is written for the driver's parameters — %% for a % — though none of them takes one.)
        sql = f"WITH {ctes}\n" + "\nUNION ALL\n".join(_household_detections(check) for check in group)
        return cursor.mogrify(sql, {}).decode()

    shared = [check for check in checks if any(re.search(rf"\b{name}\b", check.sql) for name in built_once)]
    statements = [(check.name, statement([check])) for check in checks if check not in shared]
    if shared:
        statements.append(("+".join(check.name for check in shared), statement(shared)))
    return statements


def tune_reads(cursor: CursorWrapper) -> None:
    """The settings of ``tune_session`` a read-only transaction takes (on a replica too)."""
    # (The run is already parallel, a part per township or section: no parallel workers inside a part.)
    _execute(cursor, f"SET LOCAL work_mem = '{WORK_MEM}'")
    _execute(cursor, "SET LOCAL jit = off")
    _execute(cursor, "SET LOCAL max_parallel_workers_per_gather = 0")


def read_rows(
    cursor: CursorWrapper, statements: Sequence[tuple[str, str]], spool: IO[bytes], result: PartResult
) -> None:
    """Run the statements on ``cursor`` (a replica's, in one snapshot) and write their rows — detections, tally or
    roster-match rows — to ``spool``, in COPY's text format."""
    for name, sql in statements:
        started = time.perf_counter()
        cursor.copy_expert(f"COPY ({sql}) TO STDOUT", spool)
        result.timings[name] = result.timings.get(name, 0.0) + time.perf_counter() - started


def load_rows(cursor: CursorWrapper, spool: IO[bytes], table: str, columns: str) -> None:
    """The rows ``read_rows`` wrote, into ``table`` (q_det, say) in this transaction."""
    spool.seek(0)
    cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", spool)


def district_detection_statements(
    cursor: CursorWrapper, townships: Sequence[str], checks: Sequence[Check], context: PartContext
) -> list[tuple[str, str]]:
    """A full duplicates section's checks as (name, SELECT) pairs that create nothing, each selecting
    ``DET_COLUMNS``: ``q_signed`` as a CTE, and the scope tables of an incremental section — empty in a full one —
    as empty CTEs of their columns."""
    signed, signed_params = signed_sql(townships)
    ctes = {
        "q_signed": cursor.mogrify(signed, signed_params).decode(),
        "q_dup_persons": "SELECT household_id, d3_id_number, township_id FROM enumeration_person WHERE false",
        "q_near_scope": "SELECT * FROM enumeration_person WHERE false",
    }
    return detection_statements(cursor, checks, context, ctes)


# What the cross rules of a township part that looks at everything read besides the tables themselves: the
# incremental part's scopes, empty then.
_EMPTY_TOWNSHIP_SCOPES = {
    "q_changed": "SELECT id, small_area_id FROM enumeration_household WHERE false",
    "q_chain_tail": "SELECT small_area_id, seq AS first FROM enumeration_signature WHERE false",
}


def reads_forms_only(check: Check) -> bool:
    """A cross rule of a township part that looks at everything whose reads a replica can serve: it reads the
    forms, the ledger and the frame only — not the tally and sums the part has just rewritten, nor a temporary
    table but the empty scopes."""
    named = set(re.findall(r"\bq_\w+", check.sql))
    return not re.search(r"\bquality_\w+", check.sql) and named <= set(_EMPTY_TOWNSHIP_SCOPES)


def township_statements(cursor: CursorWrapper, checks: Sequence[Check], context: PartContext) -> list[tuple[str, str]]:
    """A township part that looks at everything, as (name, SELECT) pairs that create nothing: the cross rules
    ``reads_forms_only`` (each selecting ``DET_COLUMNS``)."""
    return detection_statements(cursor, checks, context, dict(_EMPTY_TOWNSHIP_SCOPES))


def township_tally_statement(cursor: CursorWrapper, township: str) -> tuple[str, str]:
    """The township's tally rows (``tally.COLUMNS``) as one SELECT that creates nothing: ``q_signed`` as a CTE."""
    signed, params = signed_sql([township])
    sql = f"WITH q_signed AS MATERIALIZED ({signed})\n{tally.rows_sql(tally.TOWNSHIP_PERSONS)}"
    return "tally_rows", cursor.mogrify(sql, {**params, "township": township}).decode()


def detection_statements(
    cursor: CursorWrapper, checks: Sequence[Check], context: PartContext, ctes: dict[str, str]
) -> list[tuple[str, str]]:
    """Checks that select every column of q_det, each as one statement with the ``ctes`` it names."""
    statements = []
    for check in checks:
        with_clause = ",\n".join(
            f"{name} AS MATERIALIZED ({sql})" for name, sql in ctes.items() if re.search(rf"\b{name}\b", check.sql)
        )
        sql = f"WITH {with_clause}\nSELECT * FROM ({check.sql}) x" if with_clause else check.sql
        statements.append((check.name, cursor.mogrify(sql, check.parameters(context)).decode()))
    return statements


def create_detections(cursor: CursorWrapper) -> None:
    _execute(
        cursor,
        """
        CREATE TEMP TABLE q_det (code text, key text, record_key text, household_id bigint, row_no int, item text,
            small_area_id bigint, village_id text, township_id text, staff_id bigint, responsible_id bigint,
            signature_id bigint, evidence jsonb) ON COMMIT DROP
        """,
    )


# What a household check's rows become in q_det before ``enrich_household_detections``.
HOUSEHOLD_DET_COLUMNS = "code, key, household_id, row_no, item, evidence"


def _household_detections(check: Check) -> str:
    """A household check's rows with their key."""
    return f"""
    SELECT x.code, 'h' || x.household_id || ':' || coalesce(x.row_no, 0) || ':' || x.item,
           x.household_id, x.row_no, x.item, x.evidence
    FROM ({check.sql}) x(code, household_id, row_no, item, evidence)
    """


def _household_insert(check: Check) -> str:
    """Wrap a household check: its rows go to q_det with their key; ``enrich_household_detections`` adds the
    record key, area, responsible person and signature once for all of them (not a join per check)."""
    return f"INSERT INTO q_det ({HOUSEHOLD_DET_COLUMNS}) {_household_detections(check)}"


def enrich_household_detections(cursor: CursorWrapper) -> None:
    _execute(
        cursor,
        """
        UPDATE q_det d SET
            record_key = sa.code || lpad(h.household_no::text, 3, '0') ||
                CASE WHEN d.row_no IS NOT NULL AND left(d.code, 5) <> 'DEATH' THEN '#' || d.row_no ELSE '' END,
            small_area_id = h.small_area_id, village_id = h.village_id, township_id = h.township_id,
            -- 谁签字谁负责: the signer; for a form signed by someone else, its registrar (who must sign it).
            responsible_id = CASE WHEN d.code = 'SIGNED_BY_OTHER' THEN h.registrar_id
                                  ELSE coalesce(s.signer_id, h.registrar_id) END,
            signature_id = h.signature_id
        FROM q_hh h JOIN census_smallarea sa ON sa.id = h.small_area_id
        LEFT JOIN enumeration_signature s ON s.id = h.signature_id
        WHERE h.id = d.household_id AND d.record_key IS NULL
        """,
    )


def run_checks(cursor: CursorWrapper, context: PartContext, checks: Iterable[Check], result: PartResult) -> None:
    for check in checks:
        started = time.perf_counter()
        if ADDRESS_CODES_TABLE in check.sql:
            # (Made once per worker session, by the first check that reads it.)
            ensure_address_codes(cursor)
        if check.kind == "household":
            sql = _household_insert(check)
        else:
            sql = f"INSERT INTO q_det ({DET_COLUMNS}) {check.sql}"
        _execute(cursor, sql, check.parameters(context))
        result.timings[check.name] = result.timings.get(check.name, 0.0) + time.perf_counter() - started


def drop_explained_warnings(cursor: CursorWrapper) -> None:
    """Warnings with a note on the form (≥ 2 characters, as at signing) were explained at entry."""
    _execute(
        cursor,
        """
        DELETE FROM q_det d USING q_hh h
        WHERE d.household_id = h.id AND d.code = ANY(%(codes)s)
          AND length(btrim(coalesce(h.warning_notes ->> (d.code || coalesce('@' || d.row_no, '')), ''), %(strip)s)) >= 2
        """,
        {"codes": WARNING_CODES, "strip": STRIP_CHARACTERS},
    )


def _rules_values() -> str:
    rows = ", ".join(f"('{r.code}', '{r.group}', '{r.severity}', '{r.acts}')" for r in RULES)
    return f"(VALUES {rows}) r(code, grp, severity, acts)"


# Finding.is_gone in SQL.
REOPEN = (
    f"(f.state IN ({', '.join(repr(str(state)) for state in GONE_STATES)}) "
    f"OR (f.state = '{FindingState.VERIFIED}' AND f.explanation = ''))"
)


def merge(
    cursor: CursorWrapper,
    *,
    run_id: int,
    now: datetime,
    domains: Sequence[str],
    domain_params: dict[str, Any],
    result: PartResult,
) -> None:
    """Upsert the detections and resolve the findings of the part's domain not detected. ``domains`` are SQL
    conditions on ``f``; a finding meeting any of them is in the domain (each is looked up on its own, so each
    can use its index: as one condition joined by OR, every part read the whole findings table).

    A finding detected again with the same values is not written: a township's roster comparison finds the same
    100,000 unregistered entries night after night, and rewriting each of them cost more than every check of an
    incremental run together. The finding's ``last_seen_at`` is when it was last found *new or different*; that
    it is still found is what the latest run over its area says (``selectors.finding_last_checked_at``).
    """
    started = time.perf_counter()
    params = {"run": run_id, "now": now, **domain_params}
    _execute(cursor, "SELECT count(*) FROM q_det")
    result.detections += int(cursor.fetchone()[0])
    # One detection per (rule, key): a record a check finds twice gets one finding, the same one every run.
    _execute(
        cursor,
        """
        CREATE TEMP TABLE q_found ON COMMIT DROP AS
        SELECT DISTINCT ON (d.code, d.key) d.code, d.key, d.record_key, d.household_id, d.row_no,
            coalesce(d.item, '') AS item, d.small_area_id, d.village_id, d.township_id, d.staff_id,
            d.responsible_id, sv.supervisor_id, d.evidence, d.signature_id
        FROM q_det d LEFT JOIN census_supervisorassignment sv ON sv.enumerator_id = d.responsible_id
        ORDER BY d.code, d.key, d.evidence::text
        """,
    )
    # Without an index and statistics the planner takes a temporary table for a few rows and looks findings up in
    # it with a nested loop: harmless at 300 detections, hours at 100,000 (a new roster's first comparison).
    _execute(cursor, "CREATE INDEX ON q_found (code, key)")
    _execute(cursor, "ANALYZE q_found")
    _execute(
        cursor,
        f"""
        CREATE TEMP TABLE q_prev ON COMMIT DROP AS
        SELECT f.id, f.rule, f.key, {REOPEN} AS reopen,
               (f.record_key, f.household_id, f.row_no, f.item, f.small_area_id, f.village_id, f.township_id,
                f.staff_id, f.responsible_id, f.supervisor_id, f.evidence, f.signature_id)
               IS NOT DISTINCT FROM
               (n.record_key, n.household_id, n.row_no, n.item, n.small_area_id, n.village_id, n.township_id,
                n.staff_id, n.responsible_id, n.supervisor_id, n.evidence, n.signature_id) AS same
        FROM quality_finding f JOIN q_found n ON n.code = f.rule AND n.key = f.key
        """,
    )
    _execute(
        cursor,
        f"""
        INSERT INTO quality_finding AS f (rule, rule_group, severity, acts, key, record_key, state, household_id,
            row_no, item, small_area_id, village_id, township_id, staff_id, responsible_id, supervisor_id, evidence,
            signature_id, explanation, note, first_seen_at, last_seen_at, first_run_id, last_run_id, updated_at)
        SELECT n.code, r.grp, r.severity, r.acts, n.key, n.record_key, 'open', n.household_id, n.row_no, n.item,
            n.small_area_id, n.village_id, n.township_id, n.staff_id, n.responsible_id, n.supervisor_id, n.evidence,
            n.signature_id, '', '', %(now)s, %(now)s, %(run)s, %(run)s, %(now)s
        FROM q_found n JOIN {_rules_values()} ON r.code = n.code
        WHERE NOT EXISTS (SELECT 1 FROM q_prev p WHERE p.rule = n.code AND p.key = n.key AND p.same AND NOT p.reopen)
        ON CONFLICT (rule, key) DO UPDATE SET
            record_key = EXCLUDED.record_key, household_id = EXCLUDED.household_id, row_no = EXCLUDED.row_no,
            item = EXCLUDED.item, small_area_id = EXCLUDED.small_area_id, village_id = EXCLUDED.village_id,
            township_id = EXCLUDED.township_id, staff_id = EXCLUDED.staff_id,
            responsible_id = EXCLUDED.responsible_id, supervisor_id = EXCLUDED.supervisor_id,
            evidence = EXCLUDED.evidence, signature_id = EXCLUDED.signature_id,
            last_seen_at = EXCLUDED.last_seen_at, last_run_id = EXCLUDED.last_run_id, updated_at = EXCLUDED.updated_at,
            state = CASE WHEN {REOPEN} THEN 'open' ELSE f.state END,
            resolved_at = CASE WHEN {REOPEN} THEN NULL ELSE f.resolved_at END,
            verified_by_id = CASE WHEN {REOPEN} THEN NULL ELSE f.verified_by_id END,
            verified_at = CASE WHEN {REOPEN} THEN NULL ELSE f.verified_at END,
            escalated_at = CASE WHEN {REOPEN} THEN NULL ELSE f.escalated_at END,
            note = CASE WHEN {REOPEN} THEN 'reappeared' ELSE f.note END
        """,
        params,
    )
    _execute(
        cursor,
        """
        INSERT INTO quality_findingevent (finding_id, kind, run_id, note, at)
        SELECT f.id, CASE WHEN p.id IS NULL THEN 'detected' ELSE 'reopened' END, %(run)s, '', %(now)s
        FROM quality_finding f JOIN q_found n ON n.code = f.rule AND n.key = f.key
        LEFT JOIN q_prev p ON p.id = f.id
        WHERE p.id IS NULL OR p.reopen
        """,
        params,
    )
    cursor.execute("SELECT count(*) FILTER (WHERE NOT reopen), count(*) FILTER (WHERE reopen) FROM q_prev")
    seen, reopened = cursor.fetchone()
    _execute(cursor, "SELECT count(*) FROM q_found")
    distinct = int(cursor.fetchone()[0])
    result.counts["new"] = result.counts.get("new", 0) + distinct - int(seen) - int(reopened)
    result.counts["reopened"] = result.counts.get("reopened", 0) + int(reopened)

    # Findings of the domain that were open (or explained) and are no longer detected.
    candidates = " UNION ".join(
        f"""
            SELECT f.id FROM quality_finding f
            WHERE f.state IN ('open', 'explained') AND ({domain})
              AND NOT EXISTS (SELECT 1 FROM q_found n WHERE n.code = f.rule AND n.key = f.key)"""
        for domain in domains
    )
    # The candidates as a table with an index and statistics, for the reason q_found has them: as a CTE, with the
    # findings table's statistics taken while it was nearly empty (a new district, a test), the planner nested
    # seven loops of sequential scans around the update and took minutes over a few hundred findings.
    _execute(cursor, f"CREATE TEMP TABLE q_gone ON COMMIT DROP AS {candidates}", params)
    _execute(cursor, "CREATE UNIQUE INDEX ON q_gone (id)")
    _execute(cursor, "ANALYZE q_gone")
    _execute(
        cursor,
        f"""
        WITH decided AS (
            SELECT f.id,
                   h.id IS NOT NULL AND h.current_signature_id IS DISTINCT FROM f.signature_id AS signed_again,
                   nullif(btrim(coalesce(h.warning_notes ->> (f.rule || coalesce('@' || f.row_no, '')), ''),
                                %(strip)s), '') AS form_note,
                   s.signer_id, s.signed_at, h.current_signature_id
            FROM quality_finding f JOIN q_gone g ON g.id = f.id
            LEFT JOIN enumeration_household h ON h.id = f.household_id AND h.state IN {SIGNED_SQL}
            LEFT JOIN enumeration_signature s ON s.id = h.current_signature_id
        ), resolved AS (
            UPDATE quality_finding f SET
                state = CASE WHEN d.signed_again AND f.severity = 'warning' AND length(d.form_note) >= 2
                             THEN 'explained' WHEN d.signed_again THEN 'corrected' ELSE 'closed' END,
                explanation = CASE WHEN d.signed_again AND f.severity = 'warning' AND length(d.form_note) >= 2
                                   THEN d.form_note ELSE f.explanation END,
                explained_by_id = CASE WHEN d.signed_again AND f.severity = 'warning' AND length(d.form_note) >= 2
                                       THEN d.signer_id ELSE f.explained_by_id END,
                explained_at = CASE WHEN d.signed_again AND f.severity = 'warning' AND length(d.form_note) >= 2
                                    THEN d.signed_at ELSE f.explained_at END,
                signature_id = coalesce(d.current_signature_id, f.signature_id),
                resolved_at = %(now)s,
                note = CASE WHEN d.signed_again AND f.severity = 'warning' AND length(d.form_note) >= 2
                            THEN 'note_on_form' WHEN d.signed_again THEN 'corrected' ELSE 'cause_gone' END,
                last_run_id = %(run)s, updated_at = %(now)s
            FROM decided d WHERE f.id = d.id
            RETURNING f.id, f.state
        )
        INSERT INTO quality_findingevent (finding_id, kind, run_id, note, at)
        SELECT id, state, %(run)s, '', %(now)s FROM resolved
        RETURNING kind
        """,
        {**params, "strip": STRIP_CHARACTERS},
    )
    for (kind,) in cursor.fetchall():
        result.counts[kind] = result.counts.get(kind, 0) + 1
    result.timings["merge"] = result.timings.get("merge", 0.0) + time.perf_counter() - started


PART_TABLES = (
    "q_person_rows",
    "q_death_rows",
    "q_signed",
    "q_hh",
    "q_p",
    "q_d",
    "q_counts",
    "q_family",
    "q_det",
    "q_prev",
    "q_found",
    "q_gone",
    "q_changed",
    "q_changed_p",
    "q_chain_tail",
    "q_tally_before",
    "q_tally_after",
    "q_speed_days",
    "q_copy_prints",
    "q_copy_households",
    "q_chain_keys",
    "q_roster_new",
    "q_roster_hit",
    "q_changed_roster",
    "q_roster_delta",
    "q_roster_area_delta",
    "q_roster_keys",
    "q_dup_scope",
    "q_dup_persons",
    "q_near_scope",
    "q_dup_households",
)


def drop_part_tables(cursor: CursorWrapper) -> None:
    """Commit drops the tables anyway (not the views of a forms section); dropping them here lets several parts
    share one transaction or one session (workers, tests, shells)."""
    _execute(
        cursor,
        "SELECT relname, relkind FROM pg_class WHERE relnamespace = pg_my_temp_schema() AND relname = ANY(%s)",
        [list(PART_TABLES)],
    )
    present = dict(cursor.fetchall())
    views = [name for name, kind in present.items() if kind == "v"]
    if views:
        _execute(cursor, f"DROP VIEW IF EXISTS {', '.join(views)} CASCADE")
    _execute(cursor, f"DROP TABLE IF EXISTS {', '.join(name for name in PART_TABLES if name not in views)}")


def catalogue_fingerprint() -> str:
    """What the checks are: their SQL (thresholds are written into it), the rules' severities and who acts, and
    the settings the checks read. An incremental run re-checks everything of a township whose last run was made
    with a different catalogue — a changed rule must see the forms it did not see before."""
    parts = [f"{check.name}\n{check.sql}" for check in CHECKS]
    parts += [f"{rule.code}:{rule.severity}:{rule.acts}:{rule.group}" for rule in RULES]
    parts.append(repr(list(District.objects.order_by("code").values_list("code", "previous_codes"))))
    # (How a household is tallied: a changed threshold — an age group — tallies every township again.)
    parts.append(tally.REBUILD)
    parts.append(hashlib.sha256(ledger.ledger_key()).hexdigest())
    # (Another pseudonym key re-keys the roster findings: the roster part then rebuilds its matches.)
    parts.append(privacy.pseudonym("catalogue", "fingerprint"))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def rule_codes(checks: Iterable[Check]) -> list[str]:
    """The catalogue codes the checks find (a part's domain: the findings it may open and close)."""
    return [code for check in checks for code in check.codes]


def household_rules() -> list[str]:
    return rule_codes(HOUSEHOLD_CHECKS)
