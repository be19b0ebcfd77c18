"""The enumerator's start page, the listing (摸底) of a small area, and the offices' listing import."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse

from census.models import AuditAction, AuditEvent, Building
from enumeration.models import DwellingUnit, Household, HouseholdState
from enumeration.services import household_list, household_return, household_save
from enumeration.views import areas
from tests.conftest import Cast
from tests.enumeration.factories import family_form
from tests.enumeration.test_services_registration import register

pytestmark = pytest.mark.django_db


class TestMyAreas:
    def test_an_enumerator_sees_their_small_areas_counted_by_state(self, cast: Cast, login, password: str) -> None:  # type: ignore[no-untyped-def]
        register(cast, password)
        household_list(small_area=cast.area_a1, actor=cast.enumerator_a1, head_name="李四", expected_persons=2)
        household_list(small_area=cast.area_a2, actor=cast.enumerator_a2, head_name="外人", expected_persons=9)
        response = login(cast.enumerator_a1).get(reverse("enumeration:my-areas"))
        assert response.status_code == 200
        (area,) = response.context["areas"]
        assert area.code == cast.area_a1.code
        assert (area.n_households, area.n_signed, area.n_listed, area.n_expected_persons) == (2, 1, 1, 5)

    def test_returned_forms_come_first_with_the_comments(self, cast: Cast, login, password: str) -> None:  # type: ignore[no-untyped-def]
        household = register(cast, password)
        household_return(household=household, actor=cast.supervisor_a, comments=[("H6", "请核实建筑面积")])
        html = login(cast.enumerator_a1).get(reverse("enumeration:my-areas")).content.decode()
        assert html.index("退回给您的表") < html.index('id="areas-title"')
        assert "请核实建筑面积" in html and "H6 本户现住房建筑面积" in html

    def test_the_findings_slot_stays_empty_until_the_findings_part_provides_its_template(
        self, cast: Cast, login, tmp_path: Path, settings, monkeypatch: pytest.MonkeyPatch
    ) -> None:  # type: ignore[no-untyped-def]
        client = login(cast.enumerator_a1)
        monkeypatch.setattr(areas, "FINDINGS_SUMMARY_TEMPLATE", "quality/partials/not_there_yet.html")
        response = client.get(reverse("enumeration:my-areas"))
        assert response.status_code == 200 and response.context["findings_template"] is None
        partial = tmp_path / "quality" / "partials" / "not_there_yet.html"
        partial.parent.mkdir(parents=True)
        partial.write_text('<p class="findings-test">3 open findings</p>', encoding="utf-8")
        templates = [{**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], tmp_path]}]
        with override_settings(TEMPLATES=templates):
            html = client.get(reverse("enumeration:my-areas")).content.decode()
        assert html.index('<p class="findings-test">3 open findings</p>') < html.index('id="areas-title"')

    def test_the_findings_part_s_own_summary_renders_in_the_slot(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        response = login(cast.enumerator_a1).get(reverse("enumeration:my-areas"))
        assert response.status_code == 200
        assert response.context["findings_template"] == areas.FINDINGS_SUMMARY_TEMPLATE

    def test_only_field_workers_have_the_page(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        url = reverse("enumeration:my-areas")
        assert login(cast.township_office_a).get(url).status_code == 403
        assert login(cast.department_user).get(url).status_code == 403
        assert Client().get(url).status_code == 302


class TestListing:
    def url(self, cast: Cast, name: str = "area-listing") -> str:
        return reverse(f"enumeration:{name}", args=[cast.area_a1.pk])

    def test_the_register_of_a_small_area(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        household_list(small_area=cast.area_a1, actor=cast.enumerator_a1, head_name="王伟", expected_persons=3)
        household_list(small_area=cast.area_a1, actor=cast.enumerator_a1, all_members_died=True)
        response = login(cast.enumerator_a1).get(self.url(cast))
        assert response.status_code == 200
        html = response.content.decode()
        assert "王伟" in html and "全户死亡户" in html
        assert response.context["listing"].totals["expected_persons"] == 3
        assert login(cast.enumerator_a2).get(self.url(cast)).status_code == 404

    def test_offices_see_the_register_with_names_masked(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        household_list(small_area=cast.area_a1, actor=cast.enumerator_a1, head_name="王小伟", expected_persons=3)
        html = login(cast.township_office_a).get(self.url(cast)).content.decode()
        assert "王**" in html and "王小伟" not in html
        assert "在户主姓名底册中添加一户" not in html
        assert login(cast.township_office_b).get(self.url(cast)).status_code == 404

    def test_the_enumerators_view_of_names_is_audited(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        household_list(small_area=cast.area_a1, actor=cast.enumerator_a1, head_name="王伟", expected_persons=3)
        login(cast.enumerator_a1).get(self.url(cast))
        assert AuditEvent.objects.filter(
            action=AuditAction.VIEW_PERSONAL_DATA, actor_username=cast.enumerator_a1.username
        ).exists()

    def test_households_found_later_get_max_plus_one_and_999_is_the_all_dead_household(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        client = login(cast.enumerator_a1)
        url = self.url(cast, "household-add")
        for name in ("甲", "乙"):
            assert client.post(url, {"head_name": name, "expected_persons": 2, "aware": "yes"}).status_code == 302
        assert client.post(url, {"expected_persons": 0, "all_members_died": "on"}).status_code == 302
        assert client.post(url, {"head_name": "丙", "expected_persons": 1, "aware": "no"}).status_code == 302
        rows = list(
            Household.objects.order_by("household_no").values_list(
                "household_no", "head_name_listed", "aware_of_census"
            )
        )
        assert rows == [(1, "甲", True), (2, "乙", True), (3, "丙", False), (999, "", None)]
        again = client.post(url, {"expected_persons": 0, "all_members_died": "on"})
        assert again.status_code == 400 and "已有999户" in again.content.decode()

    def test_a_household_needs_its_head_and_errors_are_in_chinese(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        response = login(cast.enumerator_a1).post(self.url(cast, "household-add"), {"expected_persons": "x"})
        assert response.status_code == 400
        html = response.content.decode()
        assert "请填写户主姓名。" in html and "输入整数" in html
        assert not Household.objects.exists()

    def test_buildings_and_dwelling_units(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        client = login(cast.enumerator_a1)
        assert (
            client.post(
                self.url(cast, "building-add"), {"number": "B01", "address": "幸福路1号", "is_residential": "on"}
            ).status_code
            == 302
        )
        building = Building.objects.get(small_area=cast.area_a1, number="B01")
        assert client.post(self.url(cast, "unit-add"), {"building": building.pk, "number": "101"}).status_code == 302
        bad = client.post(self.url(cast, "building-add"), {"number": "B 01!"})
        assert bad.status_code == 400 and Building.objects.filter(small_area=cast.area_a1).count() == 1
        duplicate = client.post(self.url(cast, "unit-add"), {"building": building.pk, "number": "101"})
        assert duplicate.status_code == 400 and DwellingUnit.objects.count() == 1
        unit = DwellingUnit.objects.get()
        response = client.post(
            self.url(cast, "household-add"), {"head_name": "王伟", "expected_persons": 3, "dwelling_unit": unit.pk}
        )
        assert response.status_code == 302
        assert Household.objects.get().building == building

    def test_a_unit_of_another_small_areas_building_is_refused(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        other = Building.objects.create(small_area=cast.area_a2, number="X1")
        response = login(cast.enumerator_a1).post(self.url(cast, "unit-add"), {"building": other.pk, "number": "1"})
        assert response.status_code == 400 and not DwellingUnit.objects.exists()

    def test_only_the_field_workers_assigned_to_the_small_area_keep_its_listing(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        data = {"head_name": "王伟", "expected_persons": 3}
        assert login(cast.supervisor_a).post(self.url(cast, "household-add"), data).status_code == 403
        assert login(cast.enumerator_a2).post(self.url(cast, "household-add"), data).status_code == 404
        assert login(cast.township_office_a).post(self.url(cast, "household-add"), data).status_code == 403
        assert not Household.objects.exists()

    def test_a_listing_entry_changes_until_registration_starts(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        household = household_list(
            small_area=cast.area_a1, actor=cast.enumerator_a1, head_name="王伟", expected_persons=3
        )
        client = login(cast.enumerator_a1)
        url = reverse("enumeration:household-listing-edit", args=[household.pk])
        assert client.get(url).status_code == 200
        assert client.post(url, {"head_name": "王伟伟", "expected_persons": 4, "aware": "yes"}).status_code == 302
        household.refresh_from_db()
        assert (household.head_name_listed, household.expected_persons, household.aware_of_census) == (
            "王伟伟",
            4,
            True,
        )
        data, persons = family_form()
        household_save(
            household=household,
            actor=cast.enumerator_a1,
            expected_version=household.version,
            data=data,
            persons=persons,
        )
        assert client.post(url, {"head_name": "别人", "expected_persons": 1}).status_code == 403
        assert Household.objects.get(pk=household.pk).head_name_listed == "王伟伟"
        assert "一户开始登记后" in client.get(url).content.decode()


def upload(rows: list[list[object]], headers: list[str], name: str = "listing.csv") -> SimpleUploadedFile:
    dataset = tablib.Dataset(*rows, headers=headers)
    if name.endswith(".csv"):
        return SimpleUploadedFile(name, dataset.export("csv").encode("utf-8-sig"), content_type="text/csv")
    return SimpleUploadedFile(name, dataset.export("xlsx"), content_type="application/octet-stream")


HEADERS = ["small_area", "household_no", "head_name", "expected_persons", "aware", "building", "dwelling_unit"]


class TestListingImport:
    def post(self, client: Client, file: SimpleUploadedFile):  # type: ignore[no-untyped-def]
        return client.post(reverse("enumeration:listing-import"), {"file": file})

    def test_a_listing_file_loads_and_loading_it_again_changes_nothing(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        client = login(cast.township_office_a)
        rows = [
            [cast.area_a1.code, "001", "王伟", 3, "是", "B1", "101"],
            [cast.area_a1.code, "002", "李娜", 2, "否", "B1", "102"],
            [cast.area_a2.code, "1", "张强", 1, "", "", ""],
            [cast.area_a1.code, "999", "", "", "", "", ""],
        ]
        response = self.post(client, upload(rows, HEADERS))
        assert response.status_code == 302
        assert Household.objects.count() == 4
        first = Household.objects.get(small_area=cast.area_a1, household_no=1)
        assert (first.head_name_listed, first.expected_persons, first.aware_of_census) == ("王伟", 3, True)
        assert first.dwelling_unit is not None and first.dwelling_unit.number == "101"
        assert first.state == HouseholdState.LISTED and first.listed_by == cast.township_office_a
        again = self.post(client, upload(rows, HEADERS, name="listing.xlsx"))
        assert again.status_code == 302
        assert Household.objects.count() == 4
        event = (
            AuditEvent.objects.filter(action=AuditAction.IMPORT, object_type="household_listing").order_by("pk").last()
        )
        assert event.detail == {"new": 0, "updated": 0, "skipped": 4}

    def test_chinese_headers_are_understood(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        headers = ["普查小区", "户编号", "户主姓名", "应登记人数", "知晓"]
        response = self.post(
            login(cast.district_office), upload([[cast.area_b1.code, "005", "赵六", 4, "是"]], headers)
        )
        assert response.status_code == 302
        assert Household.objects.get().household_no == 5

    def test_a_wrong_row_loads_nothing_and_every_wrong_row_is_reported_by_line(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        rows = [
            [cast.area_a1.code, "001", "王伟", 3, "是", "", ""],
            [cast.area_b1.code, "002", "外乡人", 2, "是", "", ""],  # township B: outside township A's office
            [cast.area_a1.code, "abc", "李娜", 2, "是", "", ""],
            [cast.area_a1.code, "003", "张强", 2, "也许", "", ""],
        ]
        response = self.post(login(cast.township_office_a), upload(rows, HEADERS))
        assert response.status_code == 400
        report = response.context["report"]
        assert [p.line for p in report.problems] == [3, 4, 5]
        html = response.content.decode()
        assert "不在您的管辖范围内" in html and "不是001至999之间的数字" in html and "应填“是”或“否”" in html
        assert not Household.objects.exists() and not Building.objects.filter(number="B1").exists()

    def test_repeated_keys_in_one_file_are_reported(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        rows = [[cast.area_a1.code, "001", "王伟", 3, "", "", ""], [cast.area_a1.code, "1", "李娜", 2, "", "", ""]]
        response = self.post(login(cast.township_office_a), upload(rows, HEADERS))
        assert response.status_code == 400
        assert [p.line for p in response.context["report"].problems] == [3]
        assert not Household.objects.exists()

    def test_a_started_registration_keeps_its_listing(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        household = household_list(
            small_area=cast.area_a1, actor=cast.enumerator_a1, head_name="王伟", expected_persons=3
        )
        data, persons = family_form()
        household_save(household=household, actor=cast.enumerator_a1, expected_version=1, data=data, persons=persons)
        rows = [[cast.area_a1.code, "001", "别人", 9, "", "", ""]]
        response = self.post(login(cast.township_office_a), upload(rows, HEADERS))
        assert response.status_code == 400
        assert "已开始登记" in response.content.decode()
        assert Household.objects.get().head_name_listed == "王伟"

    def test_unknown_columns_and_files_are_refused(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        client = login(cast.township_office_a)
        response = self.post(
            client, upload([[cast.area_a1.code, "001", "x"]], ["small_area", "household_no", "colour"])
        )
        assert response.status_code == 400 and "未知的列" in response.content.decode()
        text = SimpleUploadedFile("listing.txt", b"hello")
        assert self.post(client, text).status_code == 400
        assert not Household.objects.exists()

    def test_only_offices_import(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        url = reverse("enumeration:listing-import")
        assert login(cast.enumerator_a1).get(url).status_code == 403
        assert login(cast.supervisor_a).post(url, {"file": io.BytesIO(b"")}).status_code == 403
        assert login(cast.township_office_a).get(url).status_code == 200
