"""The dashboard pages, their tables (sort, search, page, export) and the exports page, by role and scope."""

from __future__ import annotations

import io
import re

import pytest
from django.urls import reverse
from django.utils import translation
from openpyxl import load_workbook

from census.jobs import job_run
from census.models import AuditAction, AuditEvent, Job, JobStatus, StaffMember, Township
from enumeration.models import Household, HouseholdState
from supervision.progress.services import progress_refresh
from tests.census.factories import (
    EnumeratorFactory,
    SmallAreaAssignmentFactory,
    SmallAreaFactory,
    TownshipFactory,
    VillageFactory,
)
from tests.progress.conftest import Registration
from tests.progress.factories import HouseholdFactory, PersonFactory

pytestmark = pytest.mark.django_db


def cell(body: str, key: str, column: str) -> str:
    """The text of one table cell, found by its row key and column."""
    row = re.search(rf'<tr data-key="{re.escape(key)}">(.*?)</tr>', body, re.S)
    assert row, f"no row {key}"
    match = re.search(rf'<td data-col="{column}"[^>]*>(?:<a [^>]*>)?([^<]*)', row.group(1))
    assert match, f"no column {column} in row {key}"
    return match.group(1).strip()


def grow(township: Township, *, villages: int) -> None:
    """Add villages with two small areas each, an enumerator per small area and a few forms, and refresh."""
    for number in range(villages):
        village = VillageFactory(township=township, code=f"{township.code}{300 + number:03d}")
        for local in (1, 2):
            area = SmallAreaFactory(village=village, code=f"{village.code}{local:03d}")
            enumerator = EnumeratorFactory(township=township)
            SmallAreaAssignmentFactory(staff=enumerator, small_area=area)
            for state in (HouseholdState.LISTED, HouseholdState.SIGNED, HouseholdState.ACCEPTED):
                household = HouseholdFactory(
                    small_area=area, state=state, registrar=None if state == "listed" else enumerator
                )
                PersonFactory(household=household, row_no=1)
    progress_refresh()


def kpi(body: str, name: str) -> str:
    match = re.search(rf'data-kpi="{name}"><div class="value">([^<]*)<', body)
    assert match, f"no KPI {name}"
    return match.group(1).replace(",", "").strip()


class TestTownshipDashboard:
    def test_the_township_office_starts_on_its_own_dashboard(self, registration: Registration, login) -> None:  # type: ignore[no-untyped-def]
        cast = registration.cast
        client = login(cast.township_office_a)
        response = client.get(reverse("home"))
        assert response.status_code == 302 and response["Location"] == reverse("supervision:dashboard")
        body = client.get(reverse("supervision:dashboard")).content.decode()
        assert cast.township_a.name in body
        households = Household.objects.filter(township=cast.township_a)
        assert kpi(body, "households") == str(households.count())
        assert kpi(body, "registered") == str(households.exclude(state=HouseholdState.LISTED).count())
        assert cell(body, cast.village_a.code, "households") == str(households.count())
        assert cell(body, cast.area_a2.code, "hh_accepted") == str(
            Household.objects.filter(small_area=cast.area_a2, state=HouseholdState.ACCEPTED).count()
        )
        # A2 (3 of 4 signed, 2 accepted: 72.5) ranks before A1 (7 of 11 signed, 4 accepted: 62.7).
        assert (cell(body, "enum_a2", "rank"), cell(body, "enum_a1", "rank")) == ("1", "2")
        assert cast.village_b.code not in body and "enum_b1" not in body
        # The score is explained on the page, with the weights of the settings.
        assert "score = 50 × R + 30 × A + 20 × Q" in body or "得分 = 50 × R + 30 × A + 20 × Q" in body

    def test_another_township_is_404_for_a_township_office_and_open_to_the_district(
        self, registration: Registration, login
    ) -> None:  # type: ignore[no-untyped-def]
        cast = registration.cast
        url_b = reverse("supervision:dashboard-township", args=[cast.township_b.code])
        assert login(cast.township_office_a).get(url_b).status_code == 404
        body = login(cast.district_office).get(url_b).content.decode()
        assert cell(body, cast.village_b.code, "households") == str(
            Household.objects.filter(village=cast.village_b).count()
        )

    def test_field_staff_and_departments_may_not_open_it(self, registration: Registration, login) -> None:  # type: ignore[no-untyped-def]
        for user in (
            registration.cast.enumerator_a1,
            registration.cast.supervisor_a,
            registration.cast.department_user,
        ):
            assert login(user).get(reverse("supervision:dashboard")).status_code == 403

    def test_the_page_needs_a_fixed_number_of_queries(
        self, registration: Registration, login, django_assert_max_num_queries
    ) -> None:  # type: ignore[no-untyped-def]
        # More villages, small areas, enumerators and forms than the fixture has: the count stays the same.
        grow(registration.cast.township_a, villages=4)
        client = login(registration.cast.township_office_a)
        # 16 (the villages' counts and their rows apart), areas to staff, the pyramid, the calendar, escalations
        with django_assert_max_num_queries(20):
            assert client.get(reverse("supervision:dashboard")).status_code == 200

    def test_the_charts_get_their_data_without_inline_script(self, registration: Registration, login) -> None:  # type: ignore[no-untyped-def]
        body = login(registration.cast.township_office_a).get(reverse("supervision:dashboard")).content.decode()
        assert '<script id="progress-daily" type="application/json">' in body
        assert "js/progress-charts.js" in body and "vendor/echarts/echarts.min.js" in body
        assert not re.search(r"<script(?![^>]*(src=|application/json))", body)
        assert ' style="' not in body


class TestDistrictDashboard:
    def test_the_district_sees_every_township(self, registration: Registration, login) -> None:  # type: ignore[no-untyped-def]
        cast = registration.cast
        body = login(cast.district_office).get(reverse("supervision:dashboard")).content.decode()
        for township in (cast.township_a, cast.township_b):
            assert cell(body, township.code, "households") == str(Household.objects.filter(township=township).count())
        assert kpi(body, "households") == str(Household.objects.count())
        assert reverse("supervision:dashboard-township", args=[cast.township_b.code]) in body

    def test_publicity_awareness_is_shown_per_township_and_in_all(self, registration: Registration, login) -> None:  # type: ignore[no-untyped-def]
        cast = registration.cast
        body = login(cast.district_office).get(reverse("supervision:dashboard")).content.decode()
        for township in (cast.township_a, cast.township_b):
            asked = Household.objects.filter(township=township, aware_of_census__isnull=False)
            aware = asked.filter(aware_of_census=True).count()
            assert cell(body, township.code, "awareness") == f"{100 * aware / asked.count():.1f}"
        asked_all = Household.objects.filter(aware_of_census__isnull=False)
        expected = 100 * asked_all.filter(aware_of_census=True).count() / asked_all.count()
        assert kpi(body, "awareness") == f"{expected:.1f}%"

    def test_awareness_is_a_dash_where_nobody_was_asked(self, registration: Registration, login) -> None:  # type: ignore[no-untyped-def]
        cast = registration.cast
        Household.objects.filter(township=cast.township_b).update(aware_of_census=None)
        progress_refresh()
        body = login(cast.district_office).get(reverse("supervision:dashboard")).content.decode()
        assert cell(body, cast.township_b.code, "awareness") == "—"
        assert cell(body, cast.township_a.code, "awareness") != "—"

    def test_readiness_is_shown_when_the_organisation_part_provides_it(
        self, registration: Registration, login, settings
    ) -> None:  # type: ignore[no-untyped-def]
        settings.PROGRESS_READINESS_SOURCE = "tests.progress.test_dashboard_reads.fake_readiness"
        body = login(registration.cast.district_office).get(reverse("supervision:dashboard")).content.decode()
        assert cell(body, "511504101", "readiness") == "50.0"
        settings.PROGRESS_READINESS_SOURCE = "supervision.organisation.nothing.here"
        body = login(registration.cast.district_office).get(reverse("supervision:dashboard")).content.decode()
        assert 'data-col="readiness"' not in body

    def test_the_page_needs_a_fixed_number_of_queries(
        self, registration: Registration, login, django_assert_max_num_queries
    ) -> None:  # type: ignore[no-untyped-def]
        grow(TownshipFactory(district=registration.cast.township_a.district, code="511504103"), villages=2)
        client = login(registration.cast.district_office)
        # 13 (the townships' counts and their rows apart), the overdue readiness list and its count, the pyramid,
        # the calendar, the escalations to the user
        with django_assert_max_num_queries(18):
            assert client.get(reverse("supervision:dashboard")).status_code == 200


class TestTables:
    def url(self, name: str, **params: str) -> str:
        query = "&".join(f"{key}={value}" for key, value in params.items())
        return reverse("supervision:progress-table", args=[name]) + (f"?{query}" if query else "")

    def test_htmx_gets_only_the_table_sorted_as_asked(self, registration: Registration, login) -> None:  # type: ignore[no-untyped-def]
        cast = registration.cast
        client = login(cast.township_office_a)
        response = client.get(
            self.url("small_areas", township=cast.township_a.code, sort="-households"), HTTP_HX_REQUEST="true"
        )
        body = response.content.decode()
        assert "<html" not in body and 'id="table-small_areas"' in body
        assert body.index(cast.area_a1.code) < body.index(cast.area_a2.code)
        body = client.get(
            self.url("small_areas", township=cast.township_a.code, sort="households"), HTTP_HX_REQUEST="true"
        ).content.decode()
        assert body.index(cast.area_a2.code) < body.index(cast.area_a1.code)
        # Sorting links stay on the table's own URL, keeping the township.
        assert (
            f'href="{reverse("supervision:progress-table", args=["small_areas"])}?township={cast.township_a.code}'
            in body
        )

    def test_search_and_the_village_filter(self, registration: Registration, login) -> None:  # type: ignore[no-untyped-def]
        cast = registration.cast
        client = login(cast.district_office)
        body = client.get(self.url("small_areas", township=cast.township_a.code, q=cast.area_a2.code)).content.decode()
        assert cast.area_a2.code in body and f'data-key="{cast.area_a1.code}"' not in body
        body = client.get(self.url("townships", q="乙")).content.decode()
        assert f'data-key="{cast.township_b.code}"' in body and f'data-key="{cast.township_a.code}"' not in body

    def test_a_table_of_another_township_is_404(self, registration: Registration, login) -> None:  # type: ignore[no-untyped-def]
        cast = registration.cast
        client = login(cast.township_office_a)
        assert client.get(self.url("villages", township=cast.township_b.code)).status_code == 404
        assert client.get(self.url("townships")).status_code == 404

    def test_exporting_a_table_runs_a_job_whose_workbook_holds_the_rows(
        self, registration: Registration, login, settings, tmp_path
    ) -> None:  # type: ignore[no-untyped-def]
        settings.PRIVATE_MEDIA_ROOT = settings.MEDIA_ROOT = tmp_path
        cast = registration.cast
        client = login(cast.township_office_a)
        response = client.post(
            reverse("supervision:progress-table-export", args=["enumerators"]),
            {"township": cast.township_a.code, "sort": "-households"},
            HTTP_HX_REQUEST="true",
        )
        assert response.status_code == 200 and "job-" in response.content.decode()
        job = Job.objects.get(kind="progress_table")
        assert job.township_id == cast.township_a.code
        job_run(job.pk)
        job.refresh_from_db()
        assert job.status == JobStatus.DONE, job.error
        sheet = load_workbook(io.BytesIO(job.file.read())).active
        rows = list(sheet.iter_rows(values_only=True))
        header = rows[1]
        accounts = [row[header.index("账号")] if "账号" in header else row[header.index("Account")] for row in rows[2:]]
        assert accounts == ["enum_a1", "enum_a2"]  # 11 households before 4
        assert AuditEvent.objects.filter(action=AuditAction.EXPORT, object_type="progress_table").count() == 1

    def test_a_formula_in_a_name_reaches_the_table_workbook_as_text(
        self, registration: Registration, login, settings, tmp_path
    ) -> None:  # type: ignore[no-untyped-def]
        settings.PRIVATE_MEDIA_ROOT = settings.MEDIA_ROOT = tmp_path
        cast = registration.cast
        formula = '=HYPERLINK("http://evil.example/","x")'
        StaffMember.objects.filter(pk=cast.enumerator_a1.pk).update(first_name="", last_name=formula)
        client = login(cast.township_office_a)
        client.post(
            reverse("supervision:progress-table-export", args=["enumerators"]),
            {"township": cast.township_a.code},
            HTTP_HX_REQUEST="true",
        )
        job = Job.objects.get(kind="progress_table")
        job_run(job.pk)
        job.refresh_from_db()
        assert job.status == JobStatus.DONE, job.error
        sheet = load_workbook(io.BytesIO(job.file.read())).active
        assert [cell.coordinate for row in sheet.iter_rows() for cell in row if cell.data_type == "f"] == []
        rows = list(sheet.iter_rows(values_only=True))
        assert "'" + formula in [value for row in rows for value in row]
        # The counts are numbers in the workbook, as before.
        header = rows[1]
        households = header.index("摸底户数") if "摸底户数" in header else header.index("Households listed")
        assert all(isinstance(row[households], int) for row in rows[2:])

    def test_a_township_office_cannot_export_another_townships_table(self, registration: Registration, login) -> None:  # type: ignore[no-untyped-def]
        cast = registration.cast
        response = login(cast.township_office_a).post(
            reverse("supervision:progress-table-export", args=["villages"]), {"township": cast.township_b.code}
        )
        assert response.status_code == 404
        assert not Job.objects.exists()


class TestExportsPage:
    def test_only_the_district_office_may_open_it(self, registration: Registration, login) -> None:  # type: ignore[no-untyped-def]
        cast = registration.cast
        assert login(cast.township_office_a).get(reverse("supervision:exports")).status_code == 403
        assert login(cast.auditor).get(reverse("supervision:exports")).status_code == 403
        body = login(cast.district_office).get(reverse("supervision:exports")).content.decode()
        accepted = Household.objects.filter(state__in=(HouseholdState.ACCEPTED, HouseholdState.LOCKED)).count()
        assert f"{accepted}" in body and "T11" in body

    def test_starting_an_export_creates_a_job_and_an_audit_entry(self, registration: Registration, login) -> None:  # type: ignore[no-untyped-def]
        client = login(registration.cast.district_office)
        response = client.post(reverse("supervision:export-start"), {"kind": "progress_summary", "format": "xlsx"})
        assert response.status_code == 302
        job = Job.objects.get(kind="progress_summary")
        assert job.params == {"format": "xlsx"} and job.status == JobStatus.QUEUED
        event = AuditEvent.objects.get(action=AuditAction.EXPORT, object_type="progress_summary")
        assert event.object_id == str(job.pk) and event.actor_username == "district"
        body = client.get(response["Location"]).content.decode()
        assert f'id="job-{job.pk}"' in body

    def test_several_exports_can_wait_at_once(self, registration: Registration, login) -> None:  # type: ignore[no-untyped-def]
        client = login(registration.cast.district_office)
        for data in ({"format": "xlsx"}, {"format": "csv"}, {"forms": "accepted"}):
            kind = "progress_microdata" if "forms" in data else "progress_summary"
            client.post(reverse("supervision:export-start"), {"kind": kind, **data})
        assert Job.objects.filter(status=JobStatus.QUEUED).count() == 3

    def test_an_unknown_format_is_refused_with_a_message(self, registration: Registration, login) -> None:  # type: ignore[no-untyped-def]
        client = login(registration.cast.district_office)
        response = client.post(
            reverse("supervision:export-start"), {"kind": "progress_summary", "format": "docx"}, follow=True
        )
        assert not Job.objects.exists()
        assert response.status_code == 200 and "error" in response.content.decode()


class TestApi:
    def test_small_area_progress_is_scoped(self, registration: Registration) -> None:
        from rest_framework.test import APIClient

        cast = registration.cast
        client = APIClient()
        client.force_authenticate(cast.township_office_a)
        rows = client.get(reverse("api-progress-small-areas")).json()["results"]
        assert {row["code"] for row in rows} == {cast.area_a1.code, cast.area_a2.code}
        row = next(row for row in rows if row["code"] == cast.area_a1.code)
        assert row["households"] == Household.objects.filter(small_area=cast.area_a1).count()
        client.force_authenticate(cast.enumerator_a1)
        assert client.get(reverse("api-progress-small-areas")).status_code == 403

    def test_township_scores(self, registration: Registration) -> None:
        from rest_framework.test import APIClient

        cast = registration.cast
        client = APIClient()
        client.force_authenticate(cast.district_office)
        rows = {row["code"]: row for row in client.get(reverse("api-progress-townships")).json()}
        assert set(rows) == {cast.township_a.code, cast.township_b.code}
        assert rows[cast.township_b.code]["households"] == Household.objects.filter(township=cast.township_b).count()
        assert sorted(row["rank"] for row in rows.values()) == [1, 2]
        client.force_authenticate(cast.township_office_b)
        assert [row["code"] for row in client.get(reverse("api-progress-townships")).json()] == [cast.township_b.code]


def test_the_district_exports_its_townships_table_although_the_title_holds_a_slash(  # type: ignore[no-untyped-def]
    registration: Registration, login, settings, tmp_path
) -> None:
    """The table is called "乡镇/街道" in Chinese, and "/" may not stand in a sheet's name (issue 21, item 1)."""
    settings.PRIVATE_MEDIA_ROOT = settings.MEDIA_ROOT = tmp_path
    cast = registration.cast
    client = login(cast.district_office)
    response = client.post(reverse("supervision:progress-table-export", args=["townships"]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    job = Job.objects.get(kind="progress_table")
    job_run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE, job.error
    book = load_workbook(io.BytesIO(job.file.read()))
    assert "/" not in book.active.title
    codes = {row[1] for row in list(book.active.iter_rows(values_only=True))[2:]}  # rank, code, name, …
    assert codes == {cast.township_a.code, cast.township_b.code}


def _kpi_label(body: str, name: str) -> str:
    match = re.search(rf'data-kpi="{name}">.*?<div class="label">([^<]*)<', body, re.S)
    assert match, f"no KPI {name}"
    return match.group(1)


def test_the_dashboard_says_what_each_number_counts(registration: Registration, login) -> None:  # type: ignore[no-untyped-def]
    """Issue 21, item 7: the number that counts drafts says so, the signed forms have a number of their own, and a
    signed form is 已签字 on every part of the page, never 已签名."""
    cast = registration.cast
    with translation.override("zh-hans"):
        body = login(cast.township_office_a).get(reverse("supervision:dashboard")).content.decode()
    households = Household.objects.filter(township=cast.township_a)
    started = households.exclude(state=HouseholdState.LISTED)
    assert kpi(body, "registered") == str(started.count())
    assert households.filter(state=HouseholdState.DRAFT).exists()  # so the label must say drafts are in it
    label = _kpi_label(body, "registered")
    assert "草稿" in label or "draft" in label.lower(), label  # Chinese once the catalogue has it, English till then
    signed = households.filter(
        state__in=(HouseholdState.SIGNED, HouseholdState.APPROVED, HouseholdState.ACCEPTED, HouseholdState.LOCKED)
    )
    assert kpi(body, "signed") == str(signed.count())
    text = re.sub(r"<(script|style)\b.*?</\1>", "", body, flags=re.S)
    assert "已签名" not in text
