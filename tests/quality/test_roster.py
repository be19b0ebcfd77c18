"""The hukou roster: imported in bulk (csv or xlsx, all or nothing, errors by line) or row by row with
django-import-export, and classified against the registrations (户口整顿)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from census.models import AuditEvent
from supervision.quality.models import (
    Finding,
    HukouRosterEntry,
    RosterAreaCount,
    RosterHouseholdCount,
    RosterMatch,
)
from supervision.quality.resources import (
    RosterImportError,
    roster_import_bulk,
    roster_import_rowwise,
    write_template,
)
from supervision.quality.selectors import ROSTER_MEASURES, roster_classification
from tests.conftest import Cast
from tests.quality.factories import persons_of, resign, roster_pseudonym, run, same_number, sign_family

pytestmark = pytest.mark.django_db

HEADINGS = ["公民身份号码", "姓名", "性别", "出生年", "出生月", "户籍地代码", "户编号", "户籍地址"]


def _rows(cast: Cast) -> list[list[Any]]:
    return [
        [same_number(1980, 5, 1, 11), "王伟", "男", 1980, 5, cast.area_a1.code, 1, "甲村1号"],
        [same_number(1982, 3, 2, 12), "李芳", "女", 1982, 3, cast.village_a.code, "", ""],
        [same_number(1950, 1, 1, 13), "赵大", "1", 1950, 1, cast.area_b1.code, "", ""],
    ]


def _csv(path: Path, rows: list[list[Any]], headings: list[str] = HEADINGS, encoding: str = "utf-8") -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headings)
        writer.writerows(rows)
    return path


def test_a_csv_replaces_the_district_s_roster(cast: Cast, tmp_path: Path) -> None:
    result = roster_import_bulk(path=_csv(tmp_path / "r.csv", _rows(cast)), district_code="511504")
    assert result.rows == 3
    entries = {e.name: e for e in HukouRosterEntry.objects.all()}
    assert entries["王伟"].small_area_id == cast.area_a1.pk and entries["王伟"].household_no == 1
    assert (entries["李芳"].village_id, entries["李芳"].small_area_id, entries["李芳"].sex) == (
        cast.village_a.code,
        None,
        2,
    )
    assert entries["赵大"].township_id == cast.township_b.code
    again = roster_import_bulk(path=_csv(tmp_path / "s.csv", _rows(cast)[:1]), district_code="511504")
    assert (again.rows, again.replaced, HukouRosterEntry.objects.count()) == (1, 3, 1)


def test_an_xlsx_and_a_gb18030_csv_are_read_too(cast: Cast, tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADINGS)
    for row in _rows(cast):
        sheet.append(row)
    workbook.save(tmp_path / "r.xlsx")
    assert roster_import_bulk(path=tmp_path / "r.xlsx", district_code="511504").rows == 3
    assert set(HukouRosterEntry.objects.values_list("name", flat=True)) == {"王伟", "李芳", "赵大"}
    roster_import_bulk(path=_csv(tmp_path / "g.csv", _rows(cast), encoding="gb18030"), district_code="511504")
    assert set(HukouRosterEntry.objects.values_list("name", flat=True)) == {"王伟", "李芳", "赵大"}


def test_a_file_with_errors_changes_nothing_and_names_the_lines(cast: Cast, tmp_path: Path) -> None:
    roster_import_bulk(path=_csv(tmp_path / "good.csv", _rows(cast)), district_code="511504")
    bad = [
        *_rows(cast),
        ["12345", "", "3", 2030, 13, "999999999999", 1000, ""],
        [same_number(1990, 1, 1, 14), "钱二", "男", 1990, 1, "511502101201001", "", ""],  # another district
    ]
    with pytest.raises(RosterImportError) as caught:
        roster_import_bulk(path=_csv(tmp_path / "bad.csv", bad), district_code="511504")
    lines = caught.value.lines
    assert {(line, column) for line, column, _ in lines} == {
        (5, "id_number"),
        (5, "name"),
        (5, "sex"),
        (5, "birth_year"),
        (5, "birth_month"),
        (5, "hukou_area"),
        (5, "household_no"),
        (6, "hukou_area"),
    }
    assert HukouRosterEntry.objects.count() == 3
    with pytest.raises(RosterImportError) as missing:
        roster_import_bulk(path=_csv(tmp_path / "m.csv", [["x"]], headings=["姓名"]), district_code="511504")
    assert "id_number" in missing.value.lines[0][1]
    broken = tmp_path / "broken.csv"
    broken.write_text("公民身份号码,姓名,性别,出生年,出生月,户籍地代码\n1,2,3,4,5,6,7,8,9\n", encoding="utf-8")
    with pytest.raises(RosterImportError) as unreadable:
        roster_import_bulk(path=broken, district_code="511504")
    assert unreadable.value.lines[0][0] == 2


def test_the_standard_row_by_row_import_reads_the_same_file(cast: Cast, tmp_path: Path) -> None:
    result = roster_import_rowwise(path=_csv(tmp_path / "r.csv", _rows(cast)))
    assert not result.has_errors() and not result.has_validation_errors()
    assert HukouRosterEntry.objects.count() == 3
    assert HukouRosterEntry.objects.get(name="赵大").township_id == cast.township_b.code
    template = tmp_path / "template.csv"
    write_template(template)
    assert template.read_text(encoding="utf-8").startswith("公民身份号码")


def test_every_roster_person_is_classified_and_omissions_are_findings(cast: Cast, tmp_path: Path) -> None:
    household = sign_family(cast.area_a1, cast.enumerator_a1)
    persons = persons_of(household)
    head, wife, son = persons
    missing_number = same_number(1950, 1, 1, 13)
    rows = [
        [head["d3_id_number"], "王伟", "男", 1980, 5, cast.area_a1.code, household.household_no, ""],  # living here
        [wife["d3_id_number"], "李芳", "女", 1982, 3, cast.area_b1.code, "", ""],  # hukou in B, lives in A
        [missing_number, "赵大", "男", 1950, 1, cast.area_a1.code, household.household_no, ""],  # registered nowhere
    ]
    roster_import_bulk(path=_csv(tmp_path / "r.csv", rows), district_code="511504")
    run()
    omission = Finding.objects.get(rule="ROSTER_NOT_REGISTERED")
    assert omission.record_key == f"roster:{roster_pseudonym(missing_number)}"
    assert omission.responsible == cast.enumerator_a1 and omission.small_area_id == cast.area_a1.pk
    by_area = {row["code"]: row for row in roster_classification(cast.district_office, level="small_area")}
    assert by_area[cast.area_a1.code]["roster"] == 2
    assert by_area[cast.area_a1.code]["living_here"] == 1 and by_area[cast.area_a1.code]["not_registered"] == 1
    assert by_area[cast.area_b1.code]["living_elsewhere"] == 1
    # The son is registered but not on the roster, his hukou (D8 = 1) in the district.
    assert by_area[cast.area_a1.code]["registered"] == 3 and by_area[cast.area_a1.code]["not_on_roster_local"] == 1
    townships = roster_classification(cast.township_office_a, level="township")
    assert [row["code"] for row in townships] == [cast.township_a.code]
    assert townships[0]["roster"] == 2 and townships[0]["not_registered"] == 1
    village_b = roster_classification(cast.township_office_b, level="village")
    assert [(row["code"], row["roster"], row["living_elsewhere"]) for row in village_b] == [(cast.village_b.code, 1, 1)]
    assert son["d3_id_number"] not in HukouRosterEntry.objects.values_list("id_number", flat=True)


def test_the_district_office_imports_through_a_job(cast: Cast, tmp_path: Path, login: Any) -> None:
    client = login(cast.district_office)
    path = _csv(tmp_path / "r.csv", _rows(cast))
    with path.open("rb") as handle:
        response = client.post("/supervision/quality/roster/", {"file": handle})
    assert response.status_code == 302 and "/jobs/" in response["Location"]
    from census.jobs import job_run
    from census.models import Job

    job = Job.objects.get(kind="quality_roster_import")
    job_run(job.pk)
    job.refresh_from_db()
    assert job.status == "done" and job.result["rows"] == 3
    assert HukouRosterEntry.objects.count() == 3
    assert AuditEvent.objects.filter(object_type="hukou_roster").exists()
    office = login(cast.township_office_a)
    with path.open("rb") as handle:
        assert office.post("/supervision/quality/roster/", {"file": handle}).status_code == 404


def _kept_roster() -> dict[str, Any]:
    """Everything the roster comparison keeps and shows: matches, household counts, area counts, findings."""
    return {
        "matches": sorted(
            RosterMatch.objects.values_list(
                "id_number", "village_id", "registered", "here", "household_id", "pseudonym"
            )
        ),
        "households": sorted(
            RosterHouseholdCount.objects.values_list(
                "household_id", "small_area_id", "registered", "not_on_roster_local", "not_on_roster_other"
            )
        ),
        "areas": sorted(
            RosterAreaCount.objects.values_list("village_id", "small_area_id", *ROSTER_MEASURES),
            key=str,
        ),
        "findings": sorted(
            Finding.objects.filter(rule__in=["ROSTER_NOT_REGISTERED", "AREA_ROSTER_GAP"]).values_list(
                "rule", "key", "state"
            )
        ),
    }


def test_an_incremental_run_re_matches_the_changed_households_as_a_full_run_would(
    cast: Cast, tmp_path: Path, settings: Any
) -> None:
    settings.QUALITY = {**settings.QUALITY, "INCREMENTAL_MARGIN_SECONDS": 0}
    household = sign_family(cast.area_a1, cast.enumerator_a1)
    head, wife, son = persons_of(household)
    later = same_number(1950, 1, 1, 13)
    never = same_number(1961, 7, 3, 15)
    rows = [
        [head["d3_id_number"], "王伟", "男", 1980, 5, cast.area_a1.code, household.household_no, ""],
        [wife["d3_id_number"], "李芳", "女", 1982, 3, cast.area_b1.code, "", ""],
        [later, "赵大", "男", 1950, 1, cast.area_b1.code, "", ""],
        [later, "赵大", "男", 1950, 1, cast.area_b1.code, "", ""],  # the same line twice counts once
        [never, "钱七", "男", 1961, 7, cast.village_b.code, "", ""],  # registered nowhere, before and after
    ]
    roster_import_bulk(path=_csv(tmp_path / "r.csv", rows), district_code="511504")
    run()
    assert RosterMatch.objects.get(id_number=later).registered is False
    # Nothing of the roster and no household in the second small area of 甲村 yet: no row of its counts.
    assert not RosterAreaCount.objects.filter(small_area=cast.area_a2).exists()
    never_key = f"r{roster_pseudonym(never)}:{cast.village_b.code}"
    assert Finding.objects.get(rule="ROSTER_NOT_REGISTERED", key=never_key).state == "open"
    # The head leaves the form (his number goes), and 赵大 is registered in another household, living at his hukou.
    resign(
        household,
        cast.enumerator_a1,
        persons=[dict(wife, row_no=1, d2_relationship=0), dict(son, row_no=2)],
        data={"h2_present": 2, "h2_away": 0},
    )
    zhao = {**head, "d1_name": "赵大", "d3_id_number": later, "d5_birth_year": 1950, "d5_birth_month": 1}
    sign_family(cast.area_b1, cast.enumerator_b1, head="赵大", persons=[zhao], data={"h2_present": 1, "h2_away": 0})
    # A man registered where the roster knows nobody: a new row of counts for that small area.
    sun = {
        **head,
        "d1_name": "孙八",
        "d3_id_number": same_number(1990, 2, 1, 17),
        "d5_birth_year": 1990,
        "d5_birth_month": 2,
    }
    sign_family(cast.area_a2, cast.enumerator_a2, head="孙八", persons=[sun], data={"h2_present": 1, "h2_away": 0})
    incremental = run(mode="incremental")
    roster_part = incremental.parts.get(section="roster")
    assert roster_part.stats["since"] is not None, "the roster part re-matched only what changed"
    after_incremental = _kept_roster()
    assert RosterMatch.objects.get(id_number=head["d3_id_number"]).registered is False
    assert RosterMatch.objects.values_list("registered", "here").get(id_number=later) == (True, True)
    assert ("ROSTER_NOT_REGISTERED", f"r{roster_pseudonym(head['d3_id_number'])}:{cast.village_a.code}", "open") in (
        after_incremental["findings"]
    )
    # 钱七's match was not looked at again, and his finding stays open; 赵大's, registered now, is closed.
    assert ("ROSTER_NOT_REGISTERED", never_key, "open") in after_incremental["findings"]
    assert ("ROSTER_NOT_REGISTERED", f"r{roster_pseudonym(later)}:{cast.village_b.code}", "closed") in (
        after_incremental["findings"]
    )
    a2 = RosterAreaCount.objects.get(small_area=cast.area_a2)
    assert (a2.roster, a2.registered, a2.not_on_roster_local + a2.not_on_roster_other) == (0, 1, 1)
    rebuilt = run()
    assert rebuilt.parts.get(section="roster").stats["since"] is None
    assert _kept_roster() == after_incremental


def test_a_new_roster_import_makes_the_next_run_match_everyone_again(cast: Cast, tmp_path: Path, settings: Any) -> None:
    settings.QUALITY = {**settings.QUALITY, "INCREMENTAL_MARGIN_SECONDS": 0}
    household = sign_family(cast.area_a1, cast.enumerator_a1)
    head = persons_of(household)[0]
    missing = same_number(1950, 1, 1, 13)
    roster_import_bulk(path=_csv(tmp_path / "r.csv", _rows(cast)[:1]), district_code="511504")
    run()
    assert run(mode="incremental").parts.get(section="roster").stats["since"] is not None
    rows = [
        [head["d3_id_number"], "王伟", "男", 1980, 5, cast.area_a1.code, household.household_no, ""],
        [missing, "赵大", "男", 1950, 1, cast.area_a1.code, "", ""],
    ]
    roster_import_bulk(path=_csv(tmp_path / "r2.csv", rows), district_code="511504")
    again = run(mode="incremental")
    assert again.parts.get(section="roster").stats["since"] is None
    assert sorted(RosterMatch.objects.values_list("id_number", "registered")) == sorted(
        [(head["d3_id_number"], True), (missing, False)]
    )
    # A correction adds a line after the last (the standard row-by-row import): everyone is matched again too.
    assert run(mode="incremental").parts.get(section="roster").stats["since"] is not None
    late = same_number(1960, 2, 1, 14)
    HukouRosterEntry.objects.create(
        id_number=late,
        name="钱二",
        sex=1,
        birth_year=1960,
        birth_month=2,
        township=cast.township_a,
        village=cast.area_a1.village,
        imported_at=household.updated_at,
    )
    assert run(mode="incremental").parts.get(section="roster").stats["since"] is None
    assert RosterMatch.objects.filter(id_number=late, registered=False).exists()
