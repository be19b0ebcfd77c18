"""The summary tables: from accepted forms only, balanced before every export, written as xlsx and CSV with
the statutory markings — and re-checked here by reading the workbook back with openpyxl."""

from __future__ import annotations

import csv
import io
import zipfile
from collections import Counter
from typing import Any

import pytest
from openpyxl import load_workbook

from census.jobs import job_run
from census.models import Job, JobStatus
from enumeration.identity import age_at_reference
from enumeration.models import FormKind, Household, HouseholdState, Person
from supervision.progress.services import export_start
from tests.progress.conftest import Registration
from tests.progress.factories import DeathRecordFactory, HouseholdFactory, PersonFactory

pytestmark = pytest.mark.django_db

ACCEPTED = (HouseholdState.ACCEPTED, HouseholdState.LOCKED)


@pytest.fixture
def media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.PRIVATE_MEDIA_ROOT = settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def varied(registration: Registration) -> Registration:
    """Accepted households with what the tables break down: 人户分离 cases, a collective household, a birth, a
    death with its register row, minorities, illiteracy, a long-form household; and forms that must not count
    (a foreign form, a signed one)."""
    cast = registration.cast
    area = cast.area_b1

    def accepted(**fields: Any) -> Household:
        return HouseholdFactory(small_area=area, state=HouseholdState.ACCEPTED, registrar=cast.enumerator_b1, **fields)

    migrants = accepted(h1_kind=2, h5_residence_type=2, h6_floor_area=None, h7_rooms=None)
    for row, (d8, d9, d7) in enumerate([(3, 4, 1), (4, 8, 1), (4, 2, 1), (3, 3, 1), (2, 5, 1)], start=1):
        PersonFactory(
            household=migrants,
            row_no=row,
            d2_relationship=None,
            d8_hukou_place=d8,
            d9_away_duration=d9,
            d7_residence=d7,
        )
    family = accepted(
        h3_births_female=1,
        h4_deaths_male=1,
        in_long_form_sample=True,
        h9_structure=2,
        h13_piped_water=1,
        h14_kitchen=1,
        h15_toilet=1,
        h16_bathing=2,
        h17_tenure=7,
        h6_floor_area=260,
        h7_rooms=8,
    )
    PersonFactory(
        household=family,
        row_no=1,
        d4_sex=1,
        d5_birth_year=1950,
        d5_birth_month=2,
        d6_ethnicity="03",
        d11_education=1,
        d12_literate=2,
    )
    PersonFactory(
        household=family,
        row_no=2,
        d2_relationship=2,
        d4_sex=2,
        d5_birth_year=2020,
        d5_birth_month=3,
        d11_education=None,
        d12_literate=None,
    )
    # Hukou here, living in another county for two years: registered at the hukou place.
    PersonFactory(
        household=family,
        row_no=3,
        d2_relationship=2,
        d4_sex=1,
        d5_birth_year=1995,
        d7_residence=5,
        d8_hukou_place=1,
        d9_away_duration=5,
        d11_education=7,
    )
    PersonFactory(
        household=family,
        row_no=4,
        d2_relationship=3,
        d4_sex=2,
        d5_birth_year=1920,
        d5_birth_month=12,
        d6_ethnicity="08",
        d11_education=None,
        d12_literate=None,
    )
    DeathRecordFactory(household=family, sex=1)
    foreign = accepted(form_kind=FormKind.FOREIGN)
    PersonFactory(household=foreign, row_no=1)
    return registration


def start(user: Any, **params: str) -> Job:
    kind = "progress_microdata" if "forms" in params else "progress_summary"
    job = export_start(user=user, kind=kind, params=params)
    job_run(job.pk)
    job.refresh_from_db()
    return job


# --- reading a table back ---------------------------------------------------------------------------------


def blocks(lines: list[list[Any]]) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """The header and the blocks of one table in the written layout (header on line 6)."""
    header = [str(value) for value in lines[5]]
    found: dict[str, dict[str, Any]] = {}
    current: dict[str, Any] = {"rows": [], "total": None}
    found[""] = current
    for line in lines[6:]:
        if not line or line[0] in (None, ""):
            break
        values = list(line) + [None] * (len(header) - len(line))
        if all(value in (None, "") for value in values[1:]):
            current = {"rows": [], "total": None}
            found[str(values[0])] = current
        elif values[0] in ("合计", "Total"):
            current["total"] = values
        else:
            current["rows"].append(values)
    return header, {title: block for title, block in found.items() if block["rows"]}


def markings_of(line: list[Any]) -> str:
    """The marking of one of lines 1–4: the last filled cell (the title shares line 1)."""
    return str(next(value for value in reversed(line) if value not in (None, "")))


def number(value: Any) -> float:
    return float(value) if value not in (None, "") else 0.0


def additive(label: str) -> bool:
    return not any(mark in label for mark in ("%", "‰", "比", "ratio"))


def recheck(header: list[str], table_blocks: dict[str, dict[str, Any]]) -> None:
    """Every block adds up to its total; every total column is the sum of its sex columns."""
    for title, block in table_blocks.items():
        if block["total"] is None:
            continue
        for index, label in enumerate(header[1:], start=1):
            if additive(label):
                assert sum(number(row[index]) for row in block["rows"]) == number(block["total"][index]), (title, label)
    if header[1:4] in (["合计", "男", "女"], ["Total", "Male", "Female"]):
        for block in table_blocks.values():
            for row in [*block["rows"], *([block["total"]] if block["total"] else [])]:
                assert number(row[1]) == number(row[2]) + number(row[3]), row


def total_of(table_blocks: dict[str, dict[str, Any]], header: list[str], label_index: int = 1) -> float:
    first = next(iter(table_blocks.values()))
    return number(first["total"][label_index])


class TestWorkbook:
    def test_the_workbook_balances_when_read_back_and_matches_the_forms(self, varied: Registration, media) -> None:  # type: ignore[no-untyped-def]
        cast = varied.cast
        job = start(cast.district_office, format="xlsx")
        assert job.status == JobStatus.DONE, job.error
        book = load_workbook(io.BytesIO(job.file.read()), data_only=True)
        sheets = {name[:3]: book[name] for name in book.sheetnames}
        assert set(sheets) >= {f"T{n:02d}" for n in range(1, 12)}
        tables = {}
        for code in (f"T{n:02d}" for n in range(1, 12)):
            lines = [list(row) for row in sheets[code].iter_rows(values_only=True)]
            # The statutory markings on every sheet.
            # The statutory markings, one a line in the top-right block (the last filled cell of lines 1–4).
            marks = [markings_of(line) for line in lines[:4]]
            assert [mark.split("：")[0] for mark in marks] == ["表号", "制表机关", "文号", "有效期至"]
            assert "人普汇" in marks[0] and "2021年3月" in marks[3]
            header, table_blocks = blocks(lines)
            recheck(header, table_blocks)
            tables[code] = (header, table_blocks, lines)

        persons = list(
            Person.objects.filter(household__state__in=ACCEPTED, household__form_kind=FormKind.CENSUS).values(
                "d4_sex",
                "d5_birth_year",
                "d5_birth_month",
                "d8_hukou_place",
                "d9_away_duration",
                "d7_residence",
                "township_id",
                "d11_education",
            )
        )
        registered = len(persons)

        # 常住人口 by the 2020 definition (reference §1.1), written out here independently of the code: living in
        # the small area with hukou in the township, hukou pending, or hukou elsewhere and away half a year or
        # more; or hukou here and away (to another township or county) under half a year.
        def resident(p: dict[str, Any]) -> bool:
            away_long = (p["d9_away_duration"] or 0) >= 3
            if p["d7_residence"] == 1:
                return p["d8_hukou_place"] in (1, 2, 5) or away_long
            return p["d7_residence"] in (4, 5) and p["d8_hukou_place"] in (1, 2) and not away_long

        residents = [p for p in persons if resident(p)]
        population = len(residents)
        # Worked by hand from the fixture: the visitor from another county here under half a year (D8 4, D9 2)
        # and the son living in another county for two years (D7 5, D9 5) are not residents here.
        assert registered - population == 2
        # The same resident population in every person table (T01's population is its second column).
        assert total_of(tables["T01"][1], tables["T01"][0], 2) == population
        for code in ("T02", "T04", "T05", "T06", "T07"):
            assert total_of(tables[code][1], tables[code][0]) == population, code
        # T03 counts every person on the household forms, as T08 does.
        assert number(next(iter(tables["T03"][1].values()))["total"][5]) == registered
        assert total_of(tables["T08"][1], tables["T08"][0]) == registered
        # T01 per township and sex, from the forms.
        t01 = {row[0][:9]: row for row in tables["T01"][1][""]["rows"]}
        pending_column = tables["T01"][0].index("未验收户数")
        for township in (cast.township_a, cast.township_b):
            sexes = Counter(p["d4_sex"] for p in residents if p["township_id"] == township.code)
            assert (t01[township.code][3], t01[township.code][4]) == (sexes[1], sexes[2])
            pending = (
                Household.objects.filter(township=township, form_kind=FormKind.CENSUS)
                .exclude(state__in=ACCEPTED)
                .count()
            )
            assert t01[township.code][pending_column] == pending
        # Five-year groups of the residents, from the birth dates.
        ages = Counter(min(age_at_reference(p["d5_birth_year"], p["d5_birth_month"]) // 5, 20) for p in residents)
        t02 = tables["T02"][1][""]["rows"]
        assert [int(row[1]) for row in t02] == [ages[group] for group in range(21)]
        # T08: every registered person by status. Two came from another township of this county for half a
        # year or more (D8 3, D9 ≥ 3), one from another county whose county code was not written; the visitor
        # and the son away in another county are registered but not resident.
        t08 = {row[0]: int(row[1]) for row in tables["T08"][1][""]["rows"]}
        labels = {"in_county": 1, "in_unstated": 5, "visit_outside": 10, "out_outside": 12}
        counts = [int(row[1]) for row in tables["T08"][1][""]["rows"]]
        assert [counts[index] for index in labels.values()] == [2, 1, 1, 1], t08
        assert counts[0] == registered - 5  # the rest live here with hukou in the township
        # Households: one collective, a family of four, the rest from the registration fixture.
        t03 = tables["T03"][1][""]
        accepted_households = Household.objects.filter(state__in=ACCEPTED, form_kind=FormKind.CENSUS).count()
        assert number(t03["total"][4]) == accepted_households
        assert number(t03["total"][2]) == 1  # collective
        # Births and deaths; the death register agrees with H4.
        assert [int(row[1]) for row in tables["T09"][1][""]["rows"]] == [1, 1, 1, 1]
        # Long form: the one sampled household in an ordinary dwelling, in every block.
        for block in tables["T11"][1].values():
            assert number(block["total"][1]) == 1
        # The pending share is stated on every sheet.
        pending_all = Household.objects.filter(form_kind=FormKind.CENSUS).exclude(state__in=ACCEPTED).count()
        assert f"{pending_all}" in tables["T05"][2][4][0]
        # The foreign form is not in the population, but noted.
        assert any(
            "1" in str(line[0]) and ("港澳台" in str(line[0]) or "Hong Kong" in str(line[0]))
            for line in tables["T01"][2]
        )
        # The last sheet lists the balance checks, all passed.
        checks = list(book.worksheets[-1].iter_rows(min_row=5, values_only=True))
        assert checks and all(row[4] in ("通过", "OK") for row in checks)

    def test_csv_holds_the_same_tables(self, varied: Registration, media) -> None:  # type: ignore[no-untyped-def]
        xlsx = start(varied.cast.district_office, format="xlsx")
        zipped = start(varied.cast.district_office, format="csv")
        assert zipped.status == JobStatus.DONE, zipped.error
        archive = zipfile.ZipFile(io.BytesIO(zipped.file.read()))
        assert sorted(archive.namelist()) == sorted([f"T{n:02d}.csv" for n in range(1, 18)] + ["balance.csv"])
        lines = list(csv.reader(io.StringIO(archive.read("T02.csv").decode("utf-8-sig"))))
        header, table_blocks = blocks(lines)
        recheck(header, table_blocks)
        book = load_workbook(io.BytesIO(xlsx.file.read()))
        sheet_rows = [
            [("" if v is None else str(v)) for v in row]
            for row in book[book.sheetnames[1]].iter_rows(min_row=6, max_row=28, values_only=True)
        ]
        assert [row[:4] for row in lines[5:28]] == [row[:4] for row in sheet_rows]

    def test_the_markings_come_from_the_settings(self, varied: Registration, media, settings) -> None:  # type: ignore[no-untyped-def]
        settings.CENSUS_TABLE_MARKINGS = {
            **settings.CENSUS_TABLE_MARKINGS,
            "document_no": "国统字〔2020〕99号",
            "table_numbers": {**settings.CENSUS_TABLE_MARKINGS["table_numbers"], "T01": "PS-1"},
        }
        job = start(varied.cast.district_office, format="xlsx")
        sheet = load_workbook(io.BytesIO(job.file.read())).worksheets[0]
        lines = [list(row) for row in sheet.iter_rows(max_row=4, values_only=True)]
        assert "PS-1" in markings_of(lines[0]) and "国统字〔2020〕99号" in markings_of(lines[2])


class TestBalanceCheck:
    def test_a_person_born_after_the_reference_moment_blocks_the_export_and_says_where(
        self, varied: Registration, media
    ) -> None:  # type: ignore[no-untyped-def]
        household = Household.objects.filter(state=HouseholdState.ACCEPTED, form_kind=FormKind.CENSUS).first()
        PersonFactory(household=household, row_no=9, d5_birth_year=2020, d5_birth_month=12)
        job = start(varied.cast.district_office, format="xlsx")
        assert job.status == JobStatus.FAILED
        assert "T02" in job.error and not job.file
        # The reason is the person's to read (the job's page shows the message): no exception class in it.
        assert "T02" in job.message and "BalanceError" not in job.message

    def test_deaths_that_disagree_with_the_register_block_the_export_naming_the_household(
        self, varied: Registration, media
    ) -> None:  # type: ignore[no-untyped-def]
        household = HouseholdFactory(
            small_area=varied.cast.area_a2,
            household_no=77,
            state=HouseholdState.ACCEPTED,
            registrar=varied.cast.enumerator_a2,
            h4_deaths_female=1,
        )
        PersonFactory(household=household, row_no=1)
        job = start(varied.cast.district_office, format="csv")
        assert job.status == JobStatus.FAILED
        assert "T09" in job.error and f"{varied.cast.area_a2.code}-077" in job.error

    def test_only_accepted_forms_count(self, varied: Registration, media) -> None:  # type: ignore[no-untyped-def]
        before = start(varied.cast.district_office, format="xlsx")
        population = load_workbook(io.BytesIO(before.file.read())).worksheets[0]
        total_before = next(row for row in population.iter_rows(values_only=True) if row[0] in ("合计", "Total"))[2]
        signed = HouseholdFactory(
            small_area=varied.cast.area_a2,
            household_no=78,
            state=HouseholdState.SIGNED,
            registrar=varied.cast.enumerator_a2,
        )
        PersonFactory(household=signed, row_no=1)
        after = start(varied.cast.district_office, format="xlsx")
        sheet = load_workbook(io.BytesIO(after.file.read())).worksheets[0]
        total_after = next(row for row in sheet.iter_rows(values_only=True) if row[0] in ("合计", "Total"))[2]
        assert total_after == total_before


class TestWhoMayExport:
    def test_a_township_office_may_not_export_summaries(self, varied: Registration) -> None:
        from census.api import ApplicationError

        with pytest.raises(ApplicationError):
            export_start(user=varied.cast.township_office_a, kind="progress_summary", params={"format": "xlsx"})

    def test_a_job_whose_requester_lost_the_role_fails_with_a_reason(self, varied: Registration, media) -> None:  # type: ignore[no-untyped-def]
        user = varied.cast.district_office
        job = export_start(user=user, kind="progress_summary", params={"format": "xlsx"})
        user.is_active, user.status = False, "left"  # is_active follows the status (census.models.staff)
        user.save()
        job_run(job.pk)
        job.refresh_from_db()
        assert job.status == JobStatus.FAILED and job.error


def test_the_summary_writers_write_formulas_as_text_and_numbers_as_numbers(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Today every label begins with a code or a fixed word; a label that began with text a person typed (a
    township named like a formula) must still arrive as text, in the workbook and in the CSV files."""
    from supervision.progress.summaries import write_csv_zip, write_xlsx
    from supervision.progress.summaries.model import Block, Column, Row, Summary, SummaryTable

    formula = '=HYPERLINK("http://evil.example/","x")'
    table = SummaryTable(
        code="T01",
        title="test",
        universe="test",
        columns=[Column("persons", "persons"), Column("change", "change", additive=False)],
        blocks=[Block("", "@SUM(1+1)", [Row("a", formula, {"persons": 3, "change": -3})], None)],
    )
    summary = Summary(tables=[table], markings={}, pending_note="")
    write_xlsx(summary, tmp_path / "summary.xlsx")
    write_csv_zip(summary, tmp_path / "summary.zip")
    sheet = load_workbook(tmp_path / "summary.xlsx").worksheets[0]
    assert [cell.coordinate for row in sheet.iter_rows() for cell in row if cell.data_type == "f"] == []
    sheet_lines = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert sheet_lines[6][0] == "'@SUM(1+1)"
    assert sheet_lines[7][:3] == ["'" + formula, 3, -3]
    lines = list(csv.reader(io.StringIO(zipfile.ZipFile(tmp_path / "summary.zip").read("T01.csv").decode("utf-8-sig"))))
    assert lines[6][0] == "'@SUM(1+1)"
    assert lines[7][:3] == ["'" + formula, "3", "-3"]
