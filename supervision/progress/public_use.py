"""The public-use microdata file: persons of accepted census forms after statistical disclosure control.

The restricted file (``microdata``) keeps small areas, birth year and month and pseudonymous keys, and is for
the district office only. This one may be handed out. It follows the usual SDC recipe (Hundepool et al.,
*Statistical Disclosure Control*, 2012; sdcMicro's ``globalRecode``, ``topBotCoding`` and
``localSuppression``):

1. **Global recoding**: no geography below the township (no village, small area, county or province
   codes), urban/rural instead of the 城乡分类代码, five-year age groups with 85 and over top-coded, no birth
   month, household size top-coded at 7, ethnic group as Han/minority; no household key, no row number and
   no free text; the rows are shuffled within the township so their order does not rebuild households.
   Residents of Hong Kong, Macao and Taiwan and foreigners are left out (five persons with a nationality are
   identifiable whatever is done); the restricted file holds them.
2. **Local suppression** until every combination of the quasi-identifiers (``QUASI_IDENTIFIERS``) is shared
   by at least ``k`` records (``settings.CENSUS_PUBLIC_USE_K``, 5): the records of smaller classes lose one
   quasi-identifier at a time, in ``SUPPRESSION_ORDER`` (a suppressed value is written empty and counts as a
   category of its own, so the check is conservative); a record still in a class below ``k`` is left out.
   PostgreSQL does it on the classes, not the records, township by township (``_suppression_sql``,
   ``_township_sql``, ``_district``), and writes the file with ``COPY``: the bench row ``public_microdata``.
3. **Report**: the k reached, the cells suppressed per variable and the records left out — the information
   loss — go with every export (the job's result and the last lines of its message).
"""

from __future__ import annotations

import io
import json
import queue
import random
import shutil
import tempfile
import threading
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F

from census.models import StaffMember, Township
from census.spreadsheets import csv_writer, sql_text_safe
from enumeration.models import FormKind, HouseholdState, Person
from supervision.progress.summaries import population
from supervision.progress.summaries.queries import age_expression

ACCEPTED = (HouseholdState.ACCEPTED, HouseholdState.LOCKED)
QUASI_IDENTIFIERS = ("township", "urban", "sex", "age_group", "household_size", "ethnic_group")
# The least useful, most identifying first: a rare minority is what singles a person out in a small township.
SUPPRESSION_ORDER = ("ethnic_group", "household_size", "urban", "age_group", "township")
AGE_TOP = 85
SIZE_TOP = 7
OTHER_ITEMS = (
    "relationship",
    "resident",
    "status",
    "education",
    "literate",
    "away_reason",
    "long_form",
    "work",
    "unit_type",
    "livelihood",
    "marital",
)
HEADER = (*QUASI_IDENTIFIERS, *OTHER_ITEMS)


@dataclass
class Report:
    """What the disclosure control did: the figures stated with every export."""

    k_target: int
    rows_in: int = 0
    rows_out: int = 0
    k_reached: int = 0
    suppressed: dict[str, int] = field(default_factory=dict)

    @property
    def dropped(self) -> int:
        return self.rows_in - self.rows_out

    @property
    def cells_suppressed_share(self) -> float:
        cells = self.rows_in * len(QUASI_IDENTIFIERS)
        return round(100 * sum(self.suppressed.values()) / cells, 3) if cells else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "k_target": self.k_target,
            "k_reached": self.k_reached,
            "rows": self.rows_out,
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "rows_dropped": self.dropped,
            "cells_suppressed": self.suppressed,
            "cells_suppressed_percent": self.cells_suppressed_share,
            "quasi_identifiers": list(QUASI_IDENTIFIERS),
        }


# A missing or suppressed quasi-identifier joins its class through a stand-in outside every code's domain:
# township codes are never empty and the other quasi-identifiers are never negative.
_MISSING = {"township": "''"}
T = TypeVar("T")
_TYPES = {"township": "text", "household_size": "bigint", "n": "bigint"}
Classes = list[tuple[Any, ...]]


def _type(name: str) -> str:
    return _TYPES.get(name.removeprefix("o_"), "integer")


def _recoded_sql(user: StaffMember, township: str) -> tuple[str, Any]:
    """The persons of one township's accepted census forms, recoded (step 1), as SQL with its parameters:
    the columns of ``HEADER``."""
    base = (
        Person.objects.visible_to(user)
        # The household's township too, so that its (township, state) index finds the township's forms.
        .filter(
            household__state__in=ACCEPTED,
            household__form_kind=FormKind.CENSUS,
            household__township_id=township,
            township_id=township,
        )
        .order_by()
        .values(
            "household_id",
            township_code=F("township_id"),
            ur=F("village__urban_rural_code"),
            sex=F("d4_sex"),
            age=age_expression(),
            eth=F("d6_ethnicity"),
            rel=F("d2_relationship"),
            d7=F("d7_residence"),
            d8=F("d8_hukou_place"),
            d9=F("d9_away_duration"),
            d8_county=F("d8_hukou_county"),
            edu=F("d11_education"),
            lit=F("d12_literate"),
            d10=F("d10_away_reason"),
            lf=F("household__in_long_form_sample"),
            c18=F("c18_work"),
            c19=F("c19_unit_type"),
            c23=F("c23_livelihood"),
            c24=F("c24_marital"),
        )
    )
    sql, params = base.query.sql_with_params()
    status = population.status_sql("b.d7", "b.d8", "b.d9", "b.d8_county", district="left(b.township_code, 6)")
    columns = (
        "b.township_code",
        "CASE WHEN b.ur IS NULL THEN NULL WHEN b.ur < 200 THEN 1 ELSE 2 END",
        "b.sex",
        f"CASE WHEN b.age IS NULL OR b.age < 0 THEN NULL ELSE least(b.age, {AGE_TOP}) / 5 * 5 END",
        f"least(count(*) OVER (PARTITION BY b.household_id), {SIZE_TOP})",
        "CASE WHEN b.eth = '' THEN NULL WHEN b.eth = '01' THEN 1 ELSE 2 END",
        "b.rel",
        f"(({status}) IN {population.in_sql(population.RESIDENT)})::int",
        status,
        "b.edu",
        "b.lit",
        "b.d10",
        "b.lf::int",
        "b.c18",
        "b.c19",
        "b.c23",
        "b.c24",
    )
    named = ", ".join(f"{column} AS {name}" for column, name in zip(columns, HEADER, strict=True))
    return f"SELECT {named} FROM ({sql}) b", params


def _unnest(names: list[str], rows: Classes) -> tuple[str, list[list[Any]]]:
    """``rows`` as an SQL relation with columns ``names`` (the types of their quasi-identifiers), with its
    parameters: one array per column."""
    columns = [list(values) for values in zip(*rows, strict=True)] if rows else [[] for _ in names]
    arrays = ", ".join(f"%s::{_type(name)}[]" for name in names)
    return f"unnest({arrays}) AS t({', '.join(names)})", columns


def _suppression_sql(classes: str, *, k: int, rounds: tuple[str, ...]) -> str:
    """Local suppression (step 2) on classes rather than on records: every record of a class is treated
    alike, so it is enough to follow each class — a few hundred a township — through the ``rounds``.
    ``classes`` is an SQL relation of the quasi-identifiers and ``n``, the records of each combination. Round by
    round, a class smaller than ``k`` (its size counted over the classes as they stand before the round, with a
    suppressed value a category of its own) loses that quasi-identifier; classes that then coincide are one
    class for the next round. The result maps every class it was given (``o_…``) to its final values, with its
    records (``n``) and the size of the final class it ends in (``size``)."""
    qi = ", ".join(QUASI_IDENTIFIERS)
    originals = ", ".join(f"o_{name}" for name in QUASI_IDENTIFIERS)
    steps = [f"c0 AS (SELECT {', '.join(f'{name} AS o_{name}' for name in QUASI_IDENTIFIERS)}, {qi}, n FROM {classes})"]
    for index, suppressed in enumerate(rounds, start=1):
        columns = ", ".join(
            f"CASE WHEN sum(n) OVER w < {int(k)} THEN NULL ELSE {name} END AS {name}" if name == suppressed else name
            for name in QUASI_IDENTIFIERS
        )
        steps.append(
            f"c{index} AS (SELECT {originals}, {columns}, n FROM c{index - 1} WINDOW w AS (PARTITION BY {qi}))"
        )
    return (
        f"WITH {', '.join(steps)} SELECT {originals}, {qi}, n, sum(n) OVER (PARTITION BY {qi})::bigint AS size "
        f"FROM c{len(rounds)}"
    )


# The suppression runs township by township, which is the same as running it on the whole district: up to the
# last round the township is in every class, so a class's size is counted within one township; only the last
# round, the township's own, joins classes of different townships — and only those still below k, which lose
# their township and are few. Each township's records are held in a temporary table while its classes are
# worked out and its records written.
assert SUPPRESSION_ORDER[-1] == "township"
LOCAL_ROUNDS = SUPPRESSION_ORDER[:-1]
ROWS_TABLE = "public_use_rows"
CLASSES_TABLE = "public_use_classes"


def _township_sql(cursor: Any, rows: str, params: Any, *, k: int, columns: list[str]) -> tuple[Classes, str]:
    """Take one township's records (the SQL ``rows`` with its ``params``: the quasi-identifiers and the other
    columns named in ``columns``) into ``ROWS_TABLE`` and run the township's rounds on their classes. Returns
    the classes (see ``_suppression_sql``) and the statement of its records: ``columns`` over ``r`` (the
    record) and ``c`` (its class, as suppressed so far), in random order, with an empty township when the class
    is still below ``k`` — such a record waits for the district's last round."""
    cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{ROWS_TABLE}, pg_temp.{CLASSES_TABLE}")
    cursor.execute(f"CREATE TEMPORARY TABLE {ROWS_TABLE} AS {rows}", params)
    qi = ", ".join(QUASI_IDENTIFIERS)
    grouped = f"(SELECT {qi}, count(*) AS n FROM pg_temp.{ROWS_TABLE} GROUP BY {qi}) g"
    cursor.execute(f"CREATE TEMPORARY TABLE {CLASSES_TABLE} AS {_suppression_sql(grouped, k=k, rounds=LOCAL_ROUNDS)}")
    cursor.execute(f"SELECT * FROM pg_temp.{CLASSES_TABLE}")
    classes: Classes = cursor.fetchall()
    joined = " AND ".join(
        f"coalesce(c.o_{name}, {_MISSING.get(name, '-1')}) = coalesce(r.{name}, {_MISSING.get(name, '-1')})"
        for name in QUASI_IDENTIFIERS
    )
    records = (
        f"SELECT {', '.join(columns)} FROM pg_temp.{ROWS_TABLE} r JOIN pg_temp.{CLASSES_TABLE} c ON {joined} "
        "ORDER BY random()"
    )
    return classes, records


def _columns(others: tuple[str, ...], *, k: int) -> list[str]:
    township = f"CASE WHEN c.size >= {int(k)} THEN c.township END"
    return [
        sql_text_safe(township),
        *(f"c.{name}" for name in QUASI_IDENTIFIERS[1:]),
        *(sql_text_safe(f"r.{name}") if name == "status" else f"r.{name}" for name in others),
    ]


def _district(cursor: Any, townships: list[Classes], *, k: int) -> tuple[Report, set[tuple[Any, ...]]]:
    """The last round on the classes of every township (``_township_sql``) still below ``k``: they lose their
    township and are counted together. Returns the report of the whole suppression and the quasi-identifiers
    (all but the township) of the classes that then reach ``k``."""
    width = len(QUASI_IDENTIFIERS)
    report = Report(k_target=k, suppressed=dict.fromkeys(QUASI_IDENTIFIERS, 0))
    small = []
    for row in (row for classes in townships for row in classes):
        n, size = row[2 * width], row[2 * width + 1]
        report.rows_in += n
        for index, name in enumerate(QUASI_IDENTIFIERS):
            if row[index] is not None and row[width + index] is None:
                report.suppressed[name] += n
        if size >= k:
            report.rows_out += n
            report.k_reached = min(report.k_reached or size, size)
        else:
            small.append(row[width : 2 * width + 1])
    source, params = _unnest([*QUASI_IDENTIFIERS, "n"], small)
    qi = ", ".join(QUASI_IDENTIFIERS)
    merged = f"(SELECT {qi}, sum(n)::bigint AS n FROM {source} GROUP BY {qi}) g"
    cursor.execute(_suppression_sql(merged, k=k, rounds=("township",)), params)
    kept = set()
    for row in cursor.fetchall():
        n, size = row[2 * width], row[2 * width + 1]
        report.suppressed["township"] += n  # every one of them had a township: the records' own
        if size >= k:
            report.rows_out += n
            report.k_reached = min(report.k_reached or size, size)
            kept.add(tuple(row[width + 1 : 2 * width]))
    return report, kept


def anonymise(rows: list[list[Any]], *, k: int) -> tuple[list[list[Any]], Report]:
    """Local suppression (step 2) on rows whose first columns are ``QUASI_IDENTIFIERS`` (township text, the
    others integers), township by township by the same statements as the export; returns the rows kept, in
    their order, and the report."""
    width = len(QUASI_IDENTIFIERS)
    by_township: dict[Any, list[tuple[Any, ...]]] = {}
    for index, row in enumerate(rows):
        by_township.setdefault(row[0], []).append((*row[:width], index))
    final: dict[int, list[Any]] = {}
    townships = []
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_mergejoin = off")
        for township_rows in by_township.values():
            source, params = _unnest([*QUASI_IDENTIFIERS, "i"], township_rows)
            classes, records = _township_sql(
                cursor, f"SELECT * FROM {source}", params, k=k, columns=[*_columns((), k=k), "r.i"]
            )
            townships.append(classes)
            cursor.execute(records)
            final.update((found[-1], list(found[:-1])) for found in cursor.fetchall())
        report, loose = _district(cursor, townships, k=k)
    kept = []
    for index, row in enumerate(rows):
        values = final[index]
        if values[0] is not None or tuple(values[1:]) in loose:
            kept.append([*values, *row[width:]])
    return kept, report


def _csv_value(value: Any) -> Any:
    """Codes as they are, booleans as 0/1, missing or suppressed as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return int(value)
    return value


VARIABLES: dict[str, tuple[str, str, str | None]] = {
    # name: (label zh, label en, code list of enumeration.codes or a local list below)
    "township": ("乡镇(街道)代码", "Township code (9 digits)", None),
    "urban": ("城乡", "Urban or rural", "URBAN"),
    "sex": ("性别", "Sex", "D4"),
    "age_group": ("年龄组（五岁组下限，85 = 85岁及以上）", "Age group (5-year lower bound; 85 = 85+)", None),
    "household_size": ("户规模（7 = 7人及以上）", "Household size (7 = 7 or more)", None),
    "ethnic_group": ("民族", "Ethnic group", "ETHNIC"),
    "relationship": ("与户主关系", "Relationship to the head", "D2"),
    "resident": ("是否常住人口（1 是，0 否）", "Resident population (1 yes, 0 no)", None),
    "status": ("人口类别", "Population status", "STATUS"),
    "education": ("受教育程度", "Education", "D11"),
    "literate": ("是否识字", "Literate", "D12"),
    "away_reason": ("离开户口登记地原因", "Reason for leaving the hukou place", "D10"),
    "long_form": ("是否长表户（1 是，0 否）", "Long-form household (1 yes, 0 no)", None),
    "work": ("工作情况", "Work in the reference week", "C18"),
    "unit_type": ("工作单位类型", "Type of work unit", "C19"),
    "livelihood": ("主要生活来源", "Main source of livelihood", "C23"),
    "marital": ("婚姻状况", "Marital status", "C24"),
}
LOCAL_LISTS: dict[str, list[tuple[Any, str, str]]] = {
    "URBAN": [(1, "城镇", "Urban"), (2, "乡村", "Rural")],
    "ETHNIC": [(1, "汉族", "Han"), (2, "少数民族", "Ethnic minority")],
}


def codebook_rows() -> list[list[Any]]:
    """The codebook: every variable with its zh and en labels, then its values with theirs (from
    ``enumeration.codes``); an empty cell in the data is missing or suppressed."""
    from django.utils import translation

    from enumeration.codes import code_list

    with translation.override("zh-hans"):
        status_zh = population.labels()
    with translation.override("en"):
        status_en = population.labels()
    lists = {
        **LOCAL_LISTS,
        "STATUS": [(status, status_zh[status], status_en[status]) for status in population.STATUSES],
    }
    rows: list[list[Any]] = [["variable", "value", "label_zh", "label_en"]]
    for name, (zh, en, source) in VARIABLES.items():
        rows.append([name, "", zh, en])
        entries = lists.get(source or "") or (list(code_list(source).entries) if source else [])
        rows.extend([name, code, value_zh, value_en] for code, value_zh, value_en in entries)
        rows.append([name, "", "（空）缺失或已隐去", "(empty) missing or suppressed"])
    return rows


def _csv_bytes(rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv_writer(out, lineterminator="\n")
    for row in rows:
        writer.writerow([_csv_value(value) for value in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


class _Part:
    """Receives one township's COPY rows (psycopg2 calls ``write`` once per row, with bytes): a row whose
    township is suppressed (its first cell empty) is held back, to be shuffled among the district's others at
    the head of the file; the rest go to the township's part file."""

    def __init__(self, out: IO[bytes]) -> None:
        self._write = out.write
        self.loose: list[bytes] = []

    def write(self, data: bytes) -> None:
        if data.startswith(b","):
            self.loose.append(data)
        else:
            self._write(data)


def _each_township(townships: list[str], task: Callable[[str], T]) -> list[T]:
    """``task`` for every township, over ``settings.PROGRESS_MICRODATA_STREAMS`` connections at once, each
    township in a transaction of its own; the results in the order of ``townships``. Inside a transaction (a
    test, a caller with its own writes) other connections would not see what this one sees, and everything runs
    here."""
    if connection.in_atomic_block:
        return [task(code) for code in townships]
    work: queue.Queue[int] = queue.Queue()
    for index in range(len(townships)):
        work.put(index)
    results: dict[int, T] = {}
    failures: list[BaseException] = []

    def stream() -> None:
        try:
            while not failures:
                try:
                    index = work.get_nowait()
                except queue.Empty:
                    break
                with transaction.atomic():
                    results[index] = task(townships[index])
        except BaseException as exc:  # handed to the main thread, which raises it
            failures.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=stream)
        for _ in range(max(1, min(settings.PROGRESS_MICRODATA_STREAMS, len(townships) or 1)))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
    return [results[index] for index in range(len(townships))]


FORMATS = ("csv", "stata", "spss", "parquet")


def export_public(*, user: StaffMember, path: Path, k: int | None = None, file_format: str = "csv") -> Report:
    """Write the public-use file to ``path`` — a zip of the data (``public-use.csv``, or ``.dta``, ``.sav`` or
    ``.parquet`` by ``file_format``: ``public_formats``), its codebook (``codebook.csv``, zh and en) and the
    disclosure-control report (``disclosure.json``) — and return the report.

    PostgreSQL does the work, township by township on a few connections: it takes the township's records,
    recoded, into a temporary table, counts the records of each combination of the quasi-identifiers, runs the
    suppression's rounds on those classes (``_suppression_sql``) and streams the records with
    ``COPY … TO STDOUT`` into a part file, in random order so that neighbouring rows are not a household.
    Records still in a class below k (few) are held back for the last round, on the whole district
    (``_district``). The file reads township by township in code order (the township is the sort key), after
    the records whose township is suppressed, shuffled together. Codes and counts are numbers, booleans 0/1 and
    a missing or suppressed value empty; the two text columns go through ``census.spreadsheets.sql_text_safe``
    like every file the system writes (no cell can start a formula)."""
    k = k or settings.CENSUS_PUBLIC_USE_K
    townships = list(Township.objects.visible_to(user).order_by("code").values_list("code", flat=True))
    columns = _columns(OTHER_ITEMS, k=k)

    with tempfile.TemporaryDirectory(dir=path.parent) as directory:

        def write(township: str) -> tuple[Classes, list[bytes]]:
            sql, params = _recoded_sql(user, township)
            with connection.cursor() as cursor, (Path(directory) / f"{township}.csv").open("wb", 1 << 20) as out:
                cursor.execute("SET LOCAL jit = off")
                # Joined on six keys, a township's records and its classes look like a few matches to the
                # planner, who would sort both sides for a merge join; a hash join is right.
                cursor.execute("SET LOCAL enable_mergejoin = off")
                classes, records = _township_sql(cursor, sql, params, k=k, columns=columns)
                part = _Part(out)
                cursor.cursor.copy_expert(f"COPY ({records}) TO STDOUT WITH (FORMAT csv)", part)
                cursor.execute(f"DROP TABLE pg_temp.{ROWS_TABLE}, pg_temp.{CLASSES_TABLE}")
            return classes, part.loose

        written = _each_township(townships, write)
        with connection.cursor() as cursor:
            report, kept = _district(cursor, [classes for classes, _ in written], k=k)
        keys = {b",".join(b"" if value is None else str(value).encode() for value in key) for key in kept}
        width = len(QUASI_IDENTIFIERS)
        loose = [row for _, rows in written for row in rows if b",".join(row.split(b",", width)[1:width]) in keys]
        random.SystemRandom().shuffle(loose)
        data = Path(directory) / "public-use.csv"
        with data.open("wb", 1 << 20) as out:
            out.write(("\ufeff" + ",".join(HEADER) + "\n").encode("utf-8"))
            out.write(b"".join(loose))
            for township in townships:
                with (Path(directory) / f"{township}.csv").open("rb") as part_file:
                    shutil.copyfileobj(part_file, out, 1 << 20)
        name = "public-use.csv"
        if file_format != "csv":
            from supervision.progress import public_formats

            name = f"public-use.{public_formats.EXTENSIONS[file_format]}"
            table = public_formats.read_csv(data)
            data = Path(directory) / name
            public_formats.write(table, data, file_format=file_format, report=report.as_dict())
        # The fastest deflate: a district's file is a few tens of megabytes of digits and commas, which the
        # default level takes five times as long to squeeze a little further.
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
            archive.write(data, name)
            archive.writestr("codebook.csv", _csv_bytes(codebook_rows()))
            archive.writestr("disclosure.json", json.dumps(report.as_dict(), ensure_ascii=False, indent=1))
    return report
