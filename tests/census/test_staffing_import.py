"""Importing staff from an office's spreadsheet (issue 20, part 2): 3,000 rows with 5 bad ones report exactly those
5 and import nothing until they are fixed — or, when the office asks, import the good rows; the same file again
changes nothing; a township office imports its own township only; the template and the export have the columns
the import reads; the page runs the import as a job and shows its report."""

from __future__ import annotations

import io
from typing import Any

import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from census.jobs import job_run
from census.models import AuditAction, AuditEvent, Job, Role, StaffMember
from census.staffing.imports import STAFF_IMPORT_JOB, dataset_of, staff_import
from tests.census.factories import staff_id_number
from tests.conftest import Cast

pytestmark = pytest.mark.django_db

HEADINGS = ["姓名", "公民身份号码", "手机号码", "角色", "乡镇代码", "来源单位", "选聘日期", "培训日期", "考试成绩"]
BAD_LINES = {101: "公民身份号码", 502: "姓名", 1003: "乡镇代码", 2004: "手机号码", 2999: "选聘日期"}


def good_row(serial: int, township: str = "") -> list[Any]:
    role = "普查指导员" if serial % 5 == 0 else "普查员"
    return [
        f"王{'伟芳敏静丽强磊军'[serial % 8]}{serial}",
        staff_id_number(serial),
        f"139{serial:08d}",
        role,
        township,
        "甲镇中心小学",
        "2020-08-15",
        "2020/9/20",
        60 + serial % 40,
    ]


def staff_file(n: int, *, bad: bool, township: str = "", other_township: str = "511504102") -> tablib.Dataset:
    """``n`` people; with ``bad``, the five lines of BAD_LINES are wrong, each in one way (line = row + 2)."""
    dataset = tablib.Dataset(headers=HEADINGS)
    for serial in range(n):
        row = good_row(serial, township)
        line = serial + 2
        if bad and line == 101:
            row[1] = row[1][:17] + ("0" if row[1][17] != "0" else "1")  # a wrong check character
        if bad and line == 502:
            row[0] = ""
        if bad and line == 1003:
            row[4] = other_township
        if bad and line == 2004:
            row[2] = f"139{serial - 1:08d}"  # the phone of line 2003
        if bad and line == 2999:
            row[6] = "2020-13-01"
        dataset.append(row)
    return dataset


def staff_rows() -> list[tuple[Any, ...]]:
    """The staff table as it stands, to tell whether an import changed anything."""
    return list(StaffMember.objects.order_by("pk").values_list())


def test_3000_rows_with_5_bad_report_exactly_those_and_import_nothing_until_fixed(cast: Cast) -> None:
    office = cast.township_office_a
    before = staff_rows()
    report = staff_import(dataset=staff_file(3000, bad=True), actor=office)
    assert report.rows == 3000 and not report.imported
    assert report.bad_lines == sorted(BAD_LINES)
    assert {(p.line, p.column) for p in report.problems} == set(BAD_LINES.items())
    assert staff_rows() == before
    assert not AuditEvent.objects.filter(object_type="staff").exists()
    duplicate = next(p for p in report.problems if p.line == 2004)
    assert "2003" in duplicate.message  # it names the line it repeats

    fixed = staff_import(dataset=staff_file(3000, bad=False), actor=office)
    assert fixed.ok and fixed.imported and (fixed.new, fixed.updated, fixed.unchanged) == (3000, 0, 0)
    imported = StaffMember.objects.filter(township=cast.township_a, phone__startswith="139")
    assert imported.count() == 3000
    assert imported.filter(role=Role.SUPERVISOR).count() == 600  # every fifth row
    person = imported.get(phone="13900000007")
    assert (person.last_name, person.first_name, person.id_number) == ("王", "军7", staff_id_number(7))
    assert (str(person.selected_on), str(person.trained_on), person.exam_score) == ("2020-08-15", "2020-09-20", 67)
    assert person.username == "13900000007" and person.must_change_password and not person.has_usable_password()
    assert person.credential_no == f"{cast.township_a.code}-{person.pk:06d}"
    created = AuditEvent.objects.filter(object_type="staff", action=AuditAction.PERMISSION_CHANGE)
    assert created.count() == 3000
    summary = AuditEvent.objects.get(object_type="staff", action=AuditAction.IMPORT)
    assert summary.detail["new"] == 3000 and summary.actor_username == "office_a"

    # The same file again changes nothing.
    after = staff_rows()
    again = staff_import(dataset=staff_file(3000, bad=False), actor=office)
    assert (again.new, again.updated, again.unchanged) == (0, 0, 3000) and not again.imported
    assert staff_rows() == after


def test_the_office_may_import_the_good_rows_and_fix_the_bad_ones_later(cast: Cast) -> None:
    report = staff_import(dataset=staff_file(3000, bad=True), actor=cast.township_office_a, import_good_rows=True)
    assert report.imported and report.new == 2995 and report.bad_lines == sorted(BAD_LINES)
    phones = set(StaffMember.objects.filter(phone__startswith="139").values_list("phone", flat=True))
    assert len(phones) == 2995
    for line in (101, 502, 1003, 2999):
        assert f"139{line - 2:08d}" not in phones
    # Line 2004 repeated line 2003's phone: line 2003 came in, line 2004's person (serial 2002) did not.
    assert StaffMember.objects.get(phone="13900002001").id_number == staff_id_number(2001)
    assert not StaffMember.objects.filter(id_number=staff_id_number(2002)).exists()
    # The fixed file brings the five, and leaves the 2,995 alone.
    fixed = staff_import(dataset=staff_file(3000, bad=False), actor=cast.township_office_a)
    assert (fixed.new, fixed.updated, fixed.unchanged) == (5, 0, 2995)


def test_a_changed_row_changes_the_person_and_the_audit_log_says_what(cast: Cast) -> None:
    office = cast.township_office_a
    staff_import(dataset=staff_file(3, bad=False), actor=office)
    changed = staff_file(3, bad=False)
    row = list(changed[1])
    row[2], row[8] = "13711112222", 99
    changed[1] = row
    report = staff_import(dataset=changed, actor=office)
    assert (report.new, report.updated, report.unchanged) == (0, 1, 2)
    person = StaffMember.objects.get(id_number=staff_id_number(1))
    assert person.phone == "13711112222" and person.exam_score == 99
    event = AuditEvent.objects.get(object_type="staff", object_id=str(person.pk), action=AuditAction.RECORD_CHANGE)
    assert event.detail["fields"] == {"phone": ["13900000001", "13711112222"], "exam_score": [61, 99]}


def test_a_township_office_imports_its_own_township_only(cast: Cast) -> None:
    # Township B's enumerator is active with this ID number: township A's office may not take them over.
    cast.enumerator_b1.id_number = staff_id_number(1)
    cast.enumerator_b1.save()
    report = staff_import(dataset=staff_file(3, bad=False), actor=cast.township_office_a)
    assert report.bad_lines == [3] and report.problems[0].column == "公民身份号码"
    # A row naming township B is refused too; a district office may name any township of its district.
    other = staff_file(1, bad=False, township="511504102")
    assert staff_import(dataset=other, actor=cast.township_office_a).bad_lines == [2]
    assert staff_import(dataset=other, actor=cast.district_office).new == 1
    assert StaffMember.objects.get(phone="13900000000").township_id == "511504102"


def test_a_role_or_township_change_is_refused_and_sent_to_the_persons_page(cast: Cast) -> None:
    office = cast.township_office_a
    staff_import(dataset=staff_file(2, bad=False), actor=office)
    moved = staff_file(2, bad=False)
    row = list(moved[1])
    row[3] = "普查指导员"
    moved[1] = row
    report = staff_import(dataset=moved, actor=office)
    assert report.bad_lines == [3] and report.problems[0].column == "角色"


def test_english_headings_and_a_gb18030_csv_are_read(cast: Cast) -> None:
    text = "name,id_number,phone,role\n李雷," + staff_id_number(5) + ",13811112222,普查员\n"
    dataset = dataset_of(text.encode("gb18030"), file_format="csv")
    report = staff_import(dataset=dataset, actor=cast.township_office_a)
    assert report.ok and report.new == 1
    assert StaffMember.objects.get(phone="13811112222").get_full_name() == "李雷"


def test_a_file_without_the_name_column_is_refused_as_a_whole(cast: Cast) -> None:
    report = staff_import(dataset=tablib.Dataset(["x"], headers=["备注"]), actor=cast.township_office_a)
    assert report.bad_lines == [1] and not report.imported


def test_the_template_and_the_export_have_the_columns_the_import_reads(cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
    client = login(cast.township_office_a)
    template = client.get(reverse("frame:staff-import-template"))
    workbook = tablib.Dataset().load(template.content, format="xlsx")
    assert workbook.headers[:4] == ["姓名", "公民身份号码", "手机号码", "角色"]
    # The template's example row imports as it is.
    assert staff_import(dataset=workbook, actor=cast.township_office_a).new == 1
    staff_import(dataset=staff_file(4, bad=False), actor=cast.township_office_a)
    exported = client.get(reverse("frame:staff-export"))
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT, object_type="staff").count() == 1
    before = staff_rows()
    again = staff_import(dataset=tablib.Dataset().load(exported.content, format="xlsx"), actor=cast.township_office_a)
    assert again.ok and not again.imported and again.unchanged == again.rows
    assert staff_rows() == before


def test_the_page_runs_the_import_as_a_job_and_shows_its_report(cast: Cast, login, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.PRIVATE_MEDIA_ROOT = settings.MEDIA_ROOT = tmp_path
    client = login(cast.township_office_a)
    content = io.BytesIO(staff_file(30, bad=False).export("xlsx"))
    upload = SimpleUploadedFile("两员名单.xlsx", content.getvalue())
    response = client.post(reverse("frame:staff-import"), {"file": upload})
    job = Job.objects.get(kind=STAFF_IMPORT_JOB)
    assert response["Location"] == f"{reverse('frame:staff-import')}?job={job.pk}"
    job_run(job.pk)  # no worker in the test
    job.refresh_from_db()
    assert job.status == "done" and job.result["new"] == 30
    assert not list(tmp_path.glob("staff-imports/*"))  # the uploaded personal data does not stay on disk
    page = client.get(response["Location"]).content.decode()
    assert 'data-status="done"' in page and 'data-kpi="new"' in page
    # Township B's office does not see township A's import.
    other = login(cast.township_office_b).get(response["Location"]).content.decode()
    assert 'id="import-report"' not in other


def test_a_cell_quoted_in_the_report_is_shown_as_text(cast: Cast, login, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A refused cell is quoted back in the report; a payload typed into the spreadsheet stays text on the page."""
    settings.PRIVATE_MEDIA_ROOT = settings.MEDIA_ROOT = tmp_path
    payload = "<script>alert(1)</script>"
    dataset = staff_file(1, bad=False)
    row = list(dataset[0])
    row[3] = payload
    dataset[0] = row
    client = login(cast.township_office_a)
    upload = SimpleUploadedFile("staff.xlsx", dataset.export("xlsx"))
    location = client.post(reverse("frame:staff-import"), {"file": upload})["Location"]
    job_run(Job.objects.get(kind=STAFF_IMPORT_JOB).pk)
    page = client.get(location).content.decode()
    assert payload not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_models_field_rules_hold_for_imported_text(cast: Cast) -> None:
    dataset = staff_file(3, bad=False)
    rows = [list(row) for row in dataset]
    rows[0][5] = "单" * 101  # the unit: at most 100 characters
    dataset[0] = rows[0]
    long_name = list(dataset[1])
    long_name[0] = "王" + "明" * 151  # a given name of 151 characters: at most 150
    dataset[1] = long_name
    report = staff_import(dataset=dataset, actor=cast.township_office_a)
    assert {(p.line, p.column) for p in report.problems} == {(2, "来源单位"), (3, "姓名")}
    assert not report.imported
