"""Microdata export: one CSV row per person, without names or ID numbers, streamed with COPY.

Identifying items never leave: no D1 name, no D3 ID number, no 申报人, no free text (C20/C21 may name an
employer or a person), no household number or address. Each person and household carries a stable
pseudonymous key instead — the first 20 hex digits of HMAC-SHA256 of ``person:<id>`` / ``household:<id>``
under ``settings.CENSUS_PSEUDONYM_KEY`` — so exports taken on different days can be linked by the bureau but
not traced back to a form without the key.

PostgreSQL writes the rows (``COPY (SELECT …) TO STDOUT WITH CSV``) township by township, on a few
connections at once; the writer replaces the two leading id columns with their keys as each row arrives and
appends to a part file, so memory stays flat whatever the size of the district, and progress is reported as
each township is done. Text columns are made safe for spreadsheets in the statement itself
(``census.spreadsheets.sql_text_safe``): a value that would start a formula arrives with an apostrophe.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import queue
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import F, QuerySet

from census.db_router import read_alias
from census.models import StaffMember, Township
from census.spreadsheets import sql_text_safe
from enumeration.models import SIGNED_STATES, HouseholdState, Person
from supervision.progress.summaries.queries import age_expression

KEY_HEX_DIGITS = 20
FORMS = {
    "accepted": (HouseholdState.ACCEPTED, HouseholdState.LOCKED),
    "signed": SIGNED_STATES,
}

# (CSV header, ORM path from Person). The first two are replaced by pseudonymous keys.
COLUMNS: list[tuple[str, Any]] = [
    ("person_key", F("id")),
    ("household_key", F("household_id")),
    ("township", F("township_id")),
    ("village", F("village_id")),
    ("small_area", F("small_area__code")),
    ("urban_rural_code", F("village__urban_rural_code")),
    ("form", F("household__form_kind")),
    ("state", F("household__state")),
    ("long_form", F("household__in_long_form_sample")),
    ("row", F("row_no")),
    ("h1", F("household__h1_kind")),
    ("h3_births_male", F("household__h3_births_male")),
    ("h3_births_female", F("household__h3_births_female")),
    ("h4_deaths_male", F("household__h4_deaths_male")),
    ("h4_deaths_female", F("household__h4_deaths_female")),
    ("h5", F("household__h5_residence_type")),
    ("h6", F("household__h6_floor_area")),
    ("h7", F("household__h7_rooms")),
    ("h8", F("household__h8_storeys")),
    ("h9", F("household__h9_structure")),
    ("h10", F("household__h10_year_built")),
    ("h11", F("household__h11_lift")),
    ("h12", F("household__h12_cooking_fuel")),
    ("h13", F("household__h13_piped_water")),
    ("h14", F("household__h14_kitchen")),
    ("h15", F("household__h15_toilet")),
    ("h16", F("household__h16_bathing")),
    ("h17", F("household__h17_tenure")),
    ("h18", F("household__h18_rent")),
    ("h19", F("household__h19_car_value")),
    ("d2", F("d2_relationship")),
    ("d4", F("d4_sex")),
    ("d5_year", F("d5_birth_year")),
    ("d5_month", F("d5_birth_month")),
    ("age", age_expression()),
    ("d6", F("d6_ethnicity")),
    ("d7", F("d7_residence")),
    ("d7_county", F("d7_residence_county")),
    ("d8", F("d8_hukou_place")),
    ("d8_county", F("d8_hukou_county")),
    ("d9", F("d9_away_duration")),
    ("d10", F("d10_away_reason")),
    ("d11", F("d11_education")),
    ("d12", F("d12_literate")),
    ("c11", F("c11_hukou_type")),
    ("c12", F("c12_land_right")),
    ("c13", F("c13_birthplace")),
    ("c13_province", F("c13_birth_province")),
    ("c14", F("c14_residence_5y")),
    ("c14_county", F("c14_county")),
    ("c16", F("c16_school_status")),
    ("c18", F("c18_work")),
    ("c18_hours", F("c18_hours")),
    ("c19", F("c19_unit_type")),
    ("c22", F("c22_not_working_reason")),
    ("c23", F("c23_livelihood")),
    ("c24", F("c24_marital")),
    ("c25_year", F("c25_first_marriage_year")),
    ("c25_month", F("c25_first_marriage_month")),
    ("c26_born_male", F("c26_born_male")),
    ("c26_born_female", F("c26_born_female")),
    ("c26_alive_male", F("c26_alive_male")),
    ("c26_alive_female", F("c26_alive_female")),
    ("c27", F("c27_birth_last_year")),
    ("c28", F("c28_living_arrangement")),
    ("c29", F("c29_health")),
    ("f_identity", F("f_identity")),
    ("f_nationality", F("f_nationality")),
    ("f_stay", F("f_stay")),
    ("f_purpose", F("f_purpose")),
    ("f_employed", F("f_employed")),
]
HEADER = [name for name, _ in COLUMNS]
# UTF-8 with a BOM, so that spreadsheet programs on Chinese Windows read it as UTF-8.
HEADER_LINE = ("\ufeff" + ",".join(HEADER) + "\n").encode("utf-8")
# Never exported, whatever is added to COLUMNS later (a test holds the export to this list).
IDENTIFYING_FIELDS = ("d1_name", "d3_id_number", "c20_industry", "c21_occupation", "household_no")


class Pseudonymizer:
    """HMAC-SHA256 under the pseudonym key, with the key's inner and outer pads hashed once (RFC 2104): each
    key then costs two hash-state copies instead of a fresh HMAC — the same digest as ``hmac.digest``, at less
    than half the time, which matters at a million rows."""

    BLOCK = 64  # SHA-256 block size

    def __init__(self, key: bytes) -> None:
        if len(key) > self.BLOCK:
            key = hashlib.sha256(key).digest()
        key = key.ljust(self.BLOCK, b"\0")
        self._inner = hashlib.sha256(bytes(byte ^ 0x36 for byte in key))
        self._outer = hashlib.sha256(bytes(byte ^ 0x5C for byte in key))

    def key(self, message: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()[:KEY_HEX_DIGITS].encode()


def pseudonym(kind: str, pk: int | str | bytes) -> str:
    """The stable pseudonymous key of a person or household: HMAC-SHA256 of ``<kind>:<id>``, 20 hex digits."""
    value = pk if isinstance(pk, bytes) else str(pk).encode()
    key = settings.CENSUS_PSEUDONYM_KEY.encode()
    return hmac.digest(key, kind.encode() + b":" + value, hashlib.sha256).hex()[:KEY_HEX_DIGITS]


def persons(*, user: StaffMember, forms: str) -> QuerySet[Person, Any]:
    """The persons the export holds: what the user may see, on forms in the chosen states."""
    return (
        Person.objects.visible_to(user)
        .filter(household__state__in=FORMS[forms])
        .order_by()
        .values(**{f"c{index}": expression for index, (_, expression) in enumerate(COLUMNS)})
    )


@contextlib.contextmanager
def _without_jit(alias: str = DEFAULT_DB_ALIAS) -> Iterator[Any]:
    """A short transaction in which PostgreSQL does not JIT-compile: a district-wide scan is estimated as
    expensive enough to compile, and compiling it takes longer than running it."""
    with transaction.atomic(using=alias), connections[alias].cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        yield cursor


def count(*, user: StaffMember, forms: str) -> int:
    # (On the replica inside census.db_router.replica_reads, as the rows then are.)
    alias = read_alias()
    with _without_jit(alias):
        return persons(user=user, forms=forms).using(alias).count()


class _KeyingWriter:
    """Receives COPY rows one at a time (psycopg2 calls ``write`` once per row, with bytes) and writes them
    with the two leading ids replaced by their keys. Runs a million times: kept to a split, one or two MACs
    and one write."""

    def __init__(self, out: IO[bytes]) -> None:
        self._write = out.write
        self._key = Pseudonymizer(settings.CENSUS_PSEUDONYM_KEY.encode()).key
        self.rows = 0
        self._household = b""
        self._household_key = b""

    def write(self, data: bytes) -> None:
        person_id, household_id, rest = data.split(b",", 2)
        if household_id != self._household:
            # Rows of one household arrive together: key each household once.
            self._household = household_id
            self._household_key = self._key(b"household:" + household_id)
        self._write(b"%s,%s,%s" % (self._key(b"person:" + person_id), self._household_key, rest))
        self.rows += 1


def _is_text(field: Any) -> bool:
    # A foreign key is written as the key it points to (a township's code is text).
    field = getattr(field, "target_field", field)
    return field.get_internal_type() in ("CharField", "TextField")


def _copy_township(
    *, user: StaffMember, forms: str, township: Township, out: IO[bytes], alias: str = DEFAULT_DB_ALIAS
) -> int:
    """Stream one township's rows through COPY into ``out``; returns the number of rows."""
    writer = _KeyingWriter(out)
    query = persons(user=user, forms=forms).filter(township=township).query
    columns = ", ".join(
        sql_text_safe(f'q."c{index}"') if _is_text(query.annotations[f"c{index}"].output_field) else f'q."c{index}"'
        for index in range(len(COLUMNS))
    )
    sql, params = query.sql_with_params()
    with _without_jit(alias) as cursor:
        raw = cursor.cursor
        statement = raw.mogrify(f"COPY (SELECT {columns} FROM ({sql}) q) TO STDOUT WITH (FORMAT csv)", params)
        raw.copy_expert(statement, writer)
    return writer.rows


def _worker(
    *,
    user: StaffMember,
    forms: str,
    work: queue.Queue[tuple[int, Township] | None],
    parts: Path,
    done: queue.Queue[Any],
    alias: str,
) -> None:
    """One stream: takes townships off the queue until it is empty; its own database connection (of ``alias``:
    a thread does not inherit the caller's ``replica_reads``, so it is told)."""
    try:
        while (item := work.get()) is not None:
            index, township = item
            with (parts / f"{index:04d}.csv").open("wb", buffering=1024 * 1024) as out:
                rows = _copy_township(user=user, forms=forms, township=township, out=out, alias=alias)
            done.put((rows, township.name))
    except BaseException as exc:  # handed to the main thread, which raises it
        done.put(exc)
    finally:
        connections[alias].close()
        connection.close()


def _export_here(
    *,
    user: StaffMember,
    forms: str,
    path: Path,
    townships: list[Township],
    progress: Callable[[int, str], None] | None,
) -> int:
    total = 0
    with path.open("wb", buffering=1024 * 1024) as out:
        out.write(HEADER_LINE)
        for township in townships:
            rows = _copy_township(user=user, forms=forms, township=township, out=out)
            total += rows
            if progress is not None:
                progress(rows, township.name)
    return total


def export_to_file(
    *,
    user: StaffMember,
    forms: str,
    path: Path,
    progress: Callable[[int, str], None] | None = None,
    streams: int | None = None,
) -> int:
    """Write the header and every person row to ``path``; returns the number of rows.

    Townships are written by ``streams`` COPY streams at once (``settings.PROGRESS_MICRODATA_STREAMS``), each
    on its own connection and into its own part file; PostgreSQL formats the rows in one backend per stream,
    which is where the time goes. The parts are then joined in township order, so the file is the same
    whatever the number of streams. Each township is one consistent statement. Inside
    ``census.db_router.replica_reads`` the streams read the replica when it is close enough behind.
    """
    townships = list(Township.objects.visible_to(user).order_by("code"))
    count = max(1, min(streams or settings.PROGRESS_MICRODATA_STREAMS, len(townships) or 1))
    if connection.in_atomic_block:
        # Called inside a transaction (a test, a caller with its own writes): other connections would not see
        # what this one sees, so everything goes through this connection.
        return _export_here(user=user, forms=forms, path=path, townships=townships, progress=progress)
    alias = read_alias()
    work: queue.Queue[tuple[int, Township] | None] = queue.Queue()
    for item in enumerate(townships):
        work.put(item)
    for _ in range(count):
        work.put(None)
    done: queue.Queue[Any] = queue.Queue()
    total = 0
    with tempfile.TemporaryDirectory(dir=path.parent) as directory:
        parts = Path(directory)
        threads = [
            threading.Thread(
                target=_worker,
                kwargs={"user": user, "forms": forms, "work": work, "parts": parts, "done": done, "alias": alias},
            )
            for _ in range(count)
        ]
        for thread in threads:
            thread.start()
        failure: BaseException | None = None
        for _ in townships:
            message = done.get()
            if isinstance(message, BaseException):
                failure = failure or message
                break
            rows, name = message
            total += rows
            if progress is not None:
                progress(rows, name)
        for thread in threads:
            thread.join()
        if failure is not None:
            raise failure
        with path.open("wb") as out:
            out.write(HEADER_LINE)
            for index in range(len(townships)):
                with (parts / f"{index:04d}.csv").open("rb") as part:
                    shutil.copyfileobj(part, out, 1024 * 1024)
    return total
