"""Formulas never reach a spreadsheet: the rule of census.spreadsheets, the same in Python and in SQL, each kind
of writer read back, and no module writing a csv or xlsx any other way."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
import tablib
from django.db import connection

from census.spreadsheets import cell_safe, csv_writer, dataset_export, sql_text_safe, workbook_new

# (typed, written): the payloads of the CSV-injection write-ups (OWASP "CSV Injection", ASVS 5 V1.2.10) and
# their neutralised form, worked out by hand from the rule, and texts that must stay exactly as they are.
NEUTRALISED = [
    ('=HYPERLINK("http://evil.example/","x")', '\'=HYPERLINK("http://evil.example/","x")'),
    ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
    ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
    ("@SUM(1+1)*cmd|' /C calc'!A0", "'@SUM(1+1)*cmd|' /C calc'!A0"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
    ("\n=1+1", "'\n=1+1"),
    ("\tplain after a tab", "'\tplain after a tab"),
    (" =1+1", "' =1+1"),  # after leading blanks
    ("   @SUM(A1)", "'   @SUM(A1)"),
    ("\u3000=1+1", "'\u3000=1+1"),  # the ideographic space of a Chinese input method
    ("\u00a0+1+1", "'\u00a0+1+1"),  # a no-break space
    ("\u200b=1+1", "'\u200b=1+1"),  # a zero-width space
    ("＝1+1", "'＝1+1"),  # full-width forms
    ("＋1", "'＋1"),
    ("－1", "'－1"),
    ("＠SUM(A1)", "'＠SUM(A1)"),
    ("-", "'-"),
    (" -1", "' -1"),  # a number behind a blank is no longer a plain number
    ("-3\n", "'-3\n"),
    ("-1+1", "'-1+1"),
]
UNCHANGED = [
    "南岸街道",
    "叙州区某路1号",
    "",
    "a=b",
    "1-2",
    "1+1",
    "3 号楼 = 东",
    "'=already safe",
    "-3",  # plain numbers are not formulas
    "+3",
    "-12.5",
    "-.5",
    "-1e5",
    "0",
    "511504101",
]


@pytest.mark.parametrize(("typed", "written"), NEUTRALISED)
def test_a_cell_that_would_start_a_formula_gets_an_apostrophe(typed: str, written: str) -> None:
    assert cell_safe(typed) == written


@pytest.mark.parametrize("typed", UNCHANGED)
def test_other_text_is_written_as_it_is(typed: str) -> None:
    assert cell_safe(typed) == typed


def test_nul_first_is_neutralised_too() -> None:
    assert cell_safe("\0=1") == "'\0=1"


@pytest.mark.parametrize("value", [-3, -2.5, Decimal("-7.25"), 0, None, True, date(2020, 11, 1)])
def test_values_that_are_not_text_stay_as_they_are(value: object) -> None:
    assert cell_safe(value) is value


@pytest.mark.parametrize(("typed", "written"), NEUTRALISED)
def test_the_rule_is_idempotent(typed: str, written: str) -> None:
    assert cell_safe(written) == written


@pytest.mark.django_db
def test_the_sql_rule_writes_what_the_python_rule_writes() -> None:
    # COPY streams are formatted by PostgreSQL: its expression must agree with cell_safe on every case — and on
    # every ASCII first character and a few others, alone and before a formula, which covers its shortcut.
    firsts = [chr(code) for code in range(1, 128)] + ["\u00a0", "\u2003", "\u3000", "＝", "南", "\ufeff"]
    cases = [typed for typed, _written in NEUTRALISED] + UNCHANGED + [None]
    cases += [first + rest for first in firsts for rest in ("", "=1+1", "1", "a")]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT x, {sql_text_safe('x')} FROM unnest(%s::text[]) WITH ORDINALITY AS t(x, n) ORDER BY n", [cases]
        )
        got = cursor.fetchall()
    assert [written for _typed, written in got] == [cell_safe(typed) for typed in cases]
    assert [typed for typed, _written in got] == cases


# --- each kind of writer, read back -------------------------------------------------------------------------

FORMULA = '=HYPERLINK("http://evil.example/","x")'


def test_the_csv_writer(tmp_path: Path) -> None:
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(["name", "change"])
    writer.writerows([[FORMULA, -3], ["-2+3+cmd|' /C calc'!A0", "-3"]])
    assert list(csv.reader(io.StringIO(out.getvalue()))) == [
        ["name", "change"],
        ["'" + FORMULA, "-3"],
        ["'-2+3+cmd|' /C calc'!A0", "-3"],
    ]


def test_the_openpyxl_workbook_however_its_cells_are_set(tmp_path: Path) -> None:
    book = workbook_new()
    sheet = book.active
    sheet.append([FORMULA, -3, "-3", 2.5, None, "南岸街道"])
    sheet["A2"] = "@SUM(A1)"
    sheet.cell(row=3, column=1, value="+1+1")
    path = tmp_path / "book.xlsx"
    book.save(path)
    read = openpyxl.load_workbook(path).active
    assert [cell.coordinate for row in read.iter_rows() for cell in row if cell.data_type == "f"] == []
    assert list(read.iter_rows(values_only=True))[:3] == [
        ("'" + FORMULA, -3, "-3", 2.5, None, "南岸街道"),
        ("'@SUM(A1)", None, None, None, None, None),
        ("'+1+1", None, None, None, None, None),
    ]


def test_a_tablib_dataset_and_databook_as_xlsx_and_csv() -> None:
    dataset = tablib.Dataset([FORMULA, -3], ["民族", 1], headers=["address", "number"])
    dataset.title = "building"
    sheet = openpyxl.load_workbook(io.BytesIO(dataset_export(dataset, "xlsx"))).active
    assert list(sheet.iter_rows(values_only=True)) == [("address", "number"), ("'" + FORMULA, -3), ("民族", 1)]
    book = tablib.Databook([dataset])
    sheet = openpyxl.load_workbook(io.BytesIO(dataset_export(book, "xlsx")))["building"]
    assert sheet["A2"].value == "'" + FORMULA and sheet["A2"].data_type == "s" and sheet["B2"].value == -3
    text = dataset_export(dataset, "csv").decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(text))) == [["address", "number"], ["'" + FORMULA, "-3"], ["民族", "1"]]


# --- no writer around the rule ------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("census", "enumeration", "supervision")
# Every way the code base could write a csv or xlsx, by kind.
WRITERS = {
    "csv.writer": re.compile(r"\bcsv\.(?:writer|DictWriter)\("),
    "openpyxl workbook": re.compile(r"\bWorkbook\("),
    "tablib export": re.compile(r"\.export\(\s*(?:[\"'](?:csv|tsv|xlsx|xls|ods)[\"']|file_format|format=)"),
    "import-export resource": re.compile(r"\bresources\.(?:ModelResource|Resource)\b"),
    "COPY … TO STDOUT": re.compile(r"\bTO\s+STDOUT\b", re.IGNORECASE),
    "another library": re.compile(r"\b(?:xlsxwriter|XlsxWriter|xlwt|pyexcel)\b|\.to_(?:csv|excel)\("),
}
# The writers that may appear outside census/spreadsheets.py, how many times, and why.
ALLOWED = {
    # Its text columns go through spreadsheets.sql_text_safe; tests/progress/test_microdata.py reads it back.
    # (Once in the statement, once in the module's docstring.)
    ("supervision/progress/microdata.py", "COPY … TO STDOUT"): 2,
    # The public-use file: its text columns (township, status) go through sql_text_safe too;
    # tests/progress/test_public_use.py reads it back. (Once in the statement, once in a docstring.)
    ("supervision/progress/public_use.py", "COPY … TO STDOUT"): 2,
    # _CsvStream turns an uploaded workbook into the csv that COPY … FROM reads: the import's own transport,
    # never a file for people (and neutralising it would change what is imported).
    ("supervision/quality/resources.py", "csv.writer"): 1,
    # write_roster_csv: a benchmark's input file for the roster import, read back by the import itself.
    ("supervision/quality/synthetic.py", "COPY … TO STDOUT"): 1,
    # read_rows: a check part's rows out of the replica, in COPY's text format, straight into COPY … FROM
    # on the primary (a spool file of the worker's, never a file for people).
    ("supervision/quality/checks/runner.py", "COPY … TO STDOUT"): 1,
}


def writers_in(source: str) -> dict[str, int]:
    found = {kind: len(pattern.findall(source)) for kind, pattern in WRITERS.items()}
    return {kind: count for kind, count in found.items() if count}


def test_the_scan_recognises_every_kind_of_writer() -> None:
    # What a new export written the usual ways would contain: each must be caught.
    samples = {
        "csv.writer": "writer = csv.writer(response)\nwriter.writerow(row)",
        "openpyxl workbook": "from openpyxl import Workbook\nbook = Workbook(write_only=True)",
        "tablib export": 'return HttpResponse(dataset.export("xlsx"))',
        "import-export resource": "class StaffResource(resources.ModelResource):\n    pass",
        "COPY … TO STDOUT": 'cursor.copy_expert("COPY (SELECT name FROM t) TO STDOUT WITH CSV", out)',
        "another library": "frame.to_excel(path)",
    }
    for kind, sample in samples.items():
        assert kind in writers_in(sample), kind
    assert writers_in("book = workbook_new()\nwriter = csv_writer(out)\nload_workbook(path)") == {}


def test_every_csv_and_xlsx_writer_goes_through_census_spreadsheets() -> None:
    found: dict[tuple[str, str], int] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if relative == "census/spreadsheets.py" or "/migrations/" in relative:
                continue
            for kind, count in writers_in(path.read_text(encoding="utf-8")).items():
                found[(relative, kind)] = count
    assert found == ALLOWED, (
        "A module writes a csv or xlsx without census.spreadsheets (or an allowed one changed): use csv_writer, "
        "workbook_new, dataset_export, SpreadsheetResource or sql_text_safe."
    )
