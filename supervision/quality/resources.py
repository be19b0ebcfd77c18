"""Importing the hukou roster (户籍) that public security hands over: xlsx or csv, a million rows and more.

``HukouRosterResource`` is the django-import-export resource: its columns (with the Chinese headings public
security files use) and its row-by-row import, which cleans every row through the model (``full_clean``) and
looks up each area code — the standard path, fine for a few thousand rows.

``roster_import_bulk`` is the bulk path for the whole district, with the same columns: the file goes into a
temporary staging table with COPY (PostgreSQL parses the csv; an xlsx is streamed through openpyxl into csv
first), every check is one set-based query over the staging table that returns the offending lines, and only a
file without a single error replaces the district's roster — in one transaction, so a failed import changes
nothing. Errors name the line of the file (the heading is line 1).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg2
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from import_export import fields, widgets

from census.models import SmallArea, Village
from census.spreadsheets import SpreadsheetResource, csv_writer
from supervision.quality.models import HukouRosterEntry

# Canonical column → the headings accepted for it (first: what an exported template uses).
COLUMNS: dict[str, tuple[str, ...]] = {
    "id_number": ("id_number", "公民身份号码", "身份证号码", "身份证号"),
    "name": ("name", "姓名"),
    "sex": ("sex", "性别"),
    "birth_year": ("birth_year", "出生年"),
    "birth_month": ("birth_month", "出生月"),
    "hukou_area": ("hukou_area", "户籍地代码", "户口登记地代码"),
    "household_no": ("household_no", "户编号", "户号"),
    "address": ("address", "户籍地址", "住址"),
}
REQUIRED = ("id_number", "name", "sex", "birth_year", "birth_month", "hukou_area")
SEX_WORDS = {"1": 1, "2": 2, "男": 1, "女": 2}
MAX_ERRORS = 50


def canonical_column(heading: str) -> str | None:
    cleaned = (heading or "").strip().lstrip("\ufeff").lower()
    for column, names in COLUMNS.items():
        if cleaned in (name.lower() for name in names):
            return column
    return None


# --- the standard resource (row by row) -----------------------------------------------------------------------


class SexWidget(widgets.IntegerWidget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        text = str(value).strip() if value is not None else ""
        if text in SEX_WORDS:
            return SEX_WORDS[text]
        raise ValueError(_("Sex is 1 (男) or 2 (女)."))


class HukouRosterResource(SpreadsheetResource):
    id_number = fields.Field(attribute="id_number", column_name="id_number")
    sex = fields.Field(attribute="sex", column_name="sex", widget=SexWidget())
    village = fields.Field(
        attribute="village", column_name="village", widget=widgets.ForeignKeyWidget(Village, field="code")
    )
    small_area = fields.Field(
        attribute="small_area", column_name="small_area", widget=widgets.ForeignKeyWidget(SmallArea, field="code")
    )

    class Meta:
        model = HukouRosterEntry
        fields = (
            "id_number",
            "name",
            "sex",
            "birth_year",
            "birth_month",
            "village",
            "small_area",
            "household_no",
            "address",
        )
        import_id_fields = ("id_number", "village")
        clean_model_instances = True
        use_transactions = True
        skip_unchanged = True

    def before_import_row(self, row: Any, **kwargs: Any) -> None:
        """Headings in Chinese or English; ``hukou_area`` (a village's 12 digits or a small area's 15) gives the
        village and the small area."""
        for heading in list(row.keys()):
            column = canonical_column(heading)
            if column and column != heading:
                row[column] = row[heading]
        number = str(row.get("id_number") or "").strip().upper()
        row["id_number"] = number
        area = str(row.get("hukou_area") or row.get("village") or "").strip()
        row["village"] = area[:12]
        row["small_area"] = area if len(area) == 15 else None

    def import_instance(self, instance: HukouRosterEntry, row: Any, **kwargs: Any) -> None:
        super().import_instance(instance, row, **kwargs)
        if instance.village_id:
            instance.township_id = instance.village_id[:9]
        if instance.imported_at is None:
            instance.imported_at = timezone.now()


# --- the bulk path (COPY) -------------------------------------------------------------------------------------


@dataclass
class RosterImportResult:
    rows: int
    seconds: float
    replaced: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)


class RosterImportError(ValidationError):
    """The file has errors; nothing was imported. ``lines`` holds (line, column, message)."""

    def __init__(self, lines: list[tuple[int, str, str]]) -> None:
        self.lines = lines
        super().__init__(
            [_("Line %(line)d, %(column)s: %(message)s") % {"line": n, "column": c, "message": m} for n, c, m in lines]
        )


def _xlsx_rows(path: Path) -> Iterator[list[Any]]:
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield [
                "" if v is None else (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v))
                for v in values
            ]
    finally:
        workbook.close()


def _csv_encoding(path: Path) -> str:
    head = path.open("rb").read(1 << 16)
    try:
        head.decode("utf-8")
        return "UTF8"
    except UnicodeDecodeError as exc:
        if exc.start > len(head) - 4:  # a character cut at the end of the sample
            return "UTF8"
        return "GB18030"  # what Excel writes on a Chinese Windows


def _headings(path: Path, kind: str, encoding: str) -> list[str]:
    if kind == "xlsx":
        return next(_xlsx_rows(path), [])
    with path.open("r", encoding="gb18030" if encoding == "GB18030" else "utf-8-sig", newline="") as handle:
        return next(csv.reader(handle), [])


class _CsvStream(io.RawIOBase):
    """xlsx rows as csv bytes, read by COPY in chunks (never the whole file in memory)."""

    def __init__(self, rows: Iterable[list[Any]]) -> None:
        self.rows = iter(rows)
        self.buffer = b""

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        while len(self.buffer) < len(target):
            chunk = io.StringIO()
            writer = csv.writer(chunk)
            for _row in range(2000):
                row = next(self.rows, None)
                if row is None:
                    break
                writer.writerow(row)
            data = chunk.getvalue().encode("utf-8")
            if not data:
                break
            self.buffer += data
        size = min(len(target), len(self.buffer))
        target[:size] = self.buffer[:size]
        self.buffer = self.buffer[size:]
        return size


# One query per check over the staging table; each returns (line, column, message key).
CHECKS: tuple[tuple[str, str, str], ...] = (
    ("id_number", "id_number !~ '^[0-9]{17}[0-9X]$'", "bad_id"),
    ("name", "name = '' OR length(name) > 50", "bad_name"),
    ("sex", "sex_code IS NULL", "bad_sex"),
    ("birth_year", "birth_year_int IS NULL OR birth_year_int NOT BETWEEN 1880 AND 2020", "bad_year"),
    ("birth_month", "birth_month_int IS NULL OR birth_month_int NOT BETWEEN 1 AND 12", "bad_month"),
    ("hukou_area", "village_code IS NULL", "bad_area"),
    (
        "household_no",
        "household_no <> '' AND (household_no_int IS NULL OR household_no_int NOT BETWEEN 1 AND 999)",
        "bad_household_no",
    ),
)


def _messages() -> dict[str, str]:
    return {
        "bad_id": _("the ID number must be 17 digits and a digit or X"),
        "bad_name": _("the name is missing or longer than 50 characters"),
        "bad_sex": _("sex is 1 (男) or 2 (女)"),
        "bad_year": _("the year of birth is not a year between 1880 and 2020"),
        "bad_month": _("the month of birth is not 1–12"),
        "bad_area": _("not the code of a village (12 digits) or small area (15 digits) of this district"),
        "bad_household_no": _("the household number is 1–999"),
    }


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__


def roster_import_bulk(
    *,
    path: Path | str,
    district_code: str,
    progress: Callable[[str], None] | None = None,
) -> RosterImportResult:
    """Replace the district's roster with the file's rows, or change nothing and raise ``RosterImportError``."""
    import time

    started = time.monotonic()
    say = progress or (lambda message: None)
    path = Path(path)
    kind = "xlsx" if path.suffix.lower() in (".xlsx", ".xlsm") else "csv"
    encoding = "UTF8" if kind == "xlsx" else _csv_encoding(path)
    headings = _headings(path, kind, encoding)
    columns = [canonical_column(h) for h in headings]
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise RosterImportError([(1, ", ".join(missing), _("these columns are missing"))])
    staging = [
        column if column is not None and column not in columns[:index] else f"ignored_{index}"
        for index, column in enumerate(columns)
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        cursor.execute(
            "CREATE TEMP TABLE q_roster_in (line bigint GENERATED ALWAYS AS IDENTITY (START WITH 2), "
            + ", ".join(f'"{name}" text' for name in staging)
            + ") ON COMMIT DROP"
        )
        say(_("reading the file"))
        copy = f"COPY q_roster_in ({', '.join(chr(34) + n + chr(34) for n in staging)}) FROM STDIN WITH (FORMAT csv"
        raw = connection.connection
        try:
            with transaction.atomic(), raw.cursor() as copier:
                if kind == "csv":
                    with path.open("rb") as handle:
                        copier.copy_expert(f"{copy}, HEADER true, ENCODING '{encoding}')", handle)
                else:
                    rows = _xlsx_rows(path)
                    next(rows, None)
                    copier.copy_expert(f"{copy}, ENCODING 'UTF8')", io.BufferedReader(_CsvStream(rows), 1 << 20))
        except (DatabaseError, psycopg2.Error) as exc:
            # A row COPY cannot read (too many or too few columns, broken quoting): PostgreSQL names its line.
            found = re.search(r"line (\d+)", str(exc))
            line = int(found.group(1)) if found else 0
            raise RosterImportError([(line, "", _("the row cannot be read: %(error)s") % {"error": _first_line(exc)})])
        for column in COLUMNS:
            if column not in staging:
                cursor.execute(f'ALTER TABLE q_roster_in ADD COLUMN "{column}" text')
        say(_("checking every row"))
        cursor.execute(
            """
            CREATE TEMP TABLE q_roster_clean ON COMMIT DROP AS
            SELECT i.line, upper(btrim(coalesce(i.id_number, ''))) AS id_number, btrim(coalesce(i.name, '')) AS name,
                   CASE btrim(coalesce(i.sex, '')) WHEN '1' THEN 1 WHEN '男' THEN 1 WHEN '2' THEN 2 WHEN '女' THEN 2
                   END AS sex_code,
                   CASE WHEN btrim(i.birth_year) ~ '^[0-9]{1,4}$' THEN btrim(i.birth_year)::int END AS birth_year_int,
                   CASE WHEN btrim(i.birth_month) ~ '^[0-9]{1,2}$' THEN btrim(i.birth_month)::int END
                     AS birth_month_int,
                   coalesce(sa.village_id, v.code) AS village_code, sa.id AS small_area_id,
                   btrim(coalesce(i.household_no, '')) AS household_no,
                   CASE WHEN btrim(i.household_no) ~ '^[0-9]{1,3}$' THEN btrim(i.household_no)::int END
                     AS household_no_int,
                   left(btrim(coalesce(i.address, '')), 200) AS address
            FROM q_roster_in i
            LEFT JOIN census_smallarea sa ON length(btrim(i.hukou_area)) = 15 AND sa.code = btrim(i.hukou_area)
                 AND left(sa.township_id, 6) = %(district)s
            LEFT JOIN census_village v ON length(btrim(i.hukou_area)) = 12 AND v.code = btrim(i.hukou_area)
                 AND left(v.township_id, 6) = %(district)s
            """,
            {"district": district_code},
        )
        cursor.execute("SELECT count(*) FROM q_roster_clean")
        row_count = int(cursor.fetchone()[0])
        messages = _messages()
        errors: list[tuple[int, str, str]] = []
        for column, condition, message in CHECKS:
            cursor.execute(f"SELECT line FROM q_roster_clean WHERE {condition} ORDER BY line LIMIT {MAX_ERRORS}")
            errors += [(int(line), column, messages[message]) for (line,) in cursor.fetchall()]
        if errors:
            errors.sort()
            cursor.execute("DROP TABLE IF EXISTS q_roster_in, q_roster_clean")
            raise RosterImportError(errors[:MAX_ERRORS])
        say(_("replacing the roster"))
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM quality_hukourosterentry WHERE left(township_id, 6) <> %s)", [district_code]
        )
        if cursor.fetchone()[0]:
            cursor.execute("DELETE FROM quality_hukourosterentry WHERE left(township_id, 6) = %s", [district_code])
            replaced = cursor.rowcount
        else:
            cursor.execute("SELECT count(*) FROM quality_hukourosterentry")
            replaced = int(cursor.fetchone()[0])
            cursor.execute("TRUNCATE quality_hukourosterentry")
        from enumeration.synthetic.loader import BulkLoader

        # Foreign keys are checked once per key after the load (BulkLoader), not by a trigger per row.
        with BulkLoader([HukouRosterEntry]):
            cursor.execute(
                """
                INSERT INTO quality_hukourosterentry (id_number, name, sex, birth_year, birth_month, township_id,
                    village_id, small_area_id, household_no, address, imported_at)
                SELECT id_number, name, sex_code, birth_year_int, birth_month_int, left(village_code, 9), village_code,
                       small_area_id, household_no_int, address, %(now)s
                FROM q_roster_clean
                """,
                {"now": timezone.now()},
            )
        cursor.execute("DROP TABLE IF EXISTS q_roster_in, q_roster_clean")
    return RosterImportResult(rows=row_count, seconds=time.monotonic() - started, replaced=replaced)


def roster_import_rowwise(*, path: Path | str, dry_run: bool = False) -> Any:
    """django-import-export's standard import of the same file, row by row (the benchmark's baseline; also
    fine for a small correction file). Returns the ``Result``; rows with errors leave the database unchanged."""
    import tablib

    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        dataset = tablib.Dataset().load(path.read_bytes(), format="xlsx")
    else:
        dataset = tablib.Dataset().load(path.read_text(encoding="utf-8-sig"), format="csv")
    dataset.headers = [canonical_column(h) or h for h in dataset.headers or []]
    areas = [str(value or "").strip() for value in dataset["hukou_area"]] if "hukou_area" in dataset.headers else []
    dataset.append_col([area[:12] for area in areas], header="village")
    dataset.append_col([area if len(area) == 15 else "" for area in areas], header="small_area")
    return HukouRosterResource().import_data(dataset, dry_run=dry_run, raise_errors=False, use_transactions=True)


def write_template(path: Path | str, rows: Iterable[Iterable[Any]] = ()) -> None:
    """A csv with the headings the import reads (and optionally rows), for offices and tests."""
    with Path(path).open("w", encoding="utf-8", newline="") as handle:
        writer = csv_writer(handle)
        writer.writerow([names[1] for names in COLUMNS.values()])
        for row in rows:
            writer.writerow(list(row))


__all__ = [
    "COLUMNS",
    "HukouRosterResource",
    "RosterImportError",
    "RosterImportResult",
    "roster_import_bulk",
    "roster_import_rowwise",
    "write_template",
]
