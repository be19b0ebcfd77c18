"""在库企业和项目: credit codes checked, the directory imported all or nothing, reviewed, removed, figures with documents."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import pytest
import tablib
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation

from census.models import AuditAction, AuditEvent
from supervision.organisation.models import DirectoryFigure, DirectoryUnit, UnitStatus, credit_code_validate
from supervision.organisation.services import (
    directory_figure_report,
    directory_import,
    directory_remove,
    directory_review,
)
from tests.conftest import Cast
from tests.organisation.conftest import Departments
from tests.organisation.factories import DirectoryUnitFactory, upload, valid_credit_code

pytestmark = pytest.mark.django_db

HEADERS = ["credit_code", "name", "kind", "township", "address"]


def workbook(*rows: list[object]) -> io.BytesIO:
    return io.BytesIO(tablib.Dataset(*rows, headers=HEADERS).export("xlsx"))


class TestCreditCodes:
    def test_a_valid_code_passes(self) -> None:
        credit_code_validate("91110000600037341L")
        credit_code_validate(valid_credit_code(1))

    @pytest.mark.parametrize(
        ("code", "message"),
        [
            ("91110000600037341X", "check character"),
            ("9111000060003734", "18 characters"),
            ("9111000O600037341L", "digits 1–8"),
            ("91110000I00037341L", "other than I, O, Z, S, V"),
        ],
    )
    def test_a_wrong_code_is_refused_with_the_reason(self, code: str, message: str) -> None:
        with pytest.raises(ValidationError, match=message):
            credit_code_validate(code)

    def test_the_database_refuses_a_code_of_the_wrong_shape(self, depts: Departments) -> None:
        with pytest.raises(IntegrityError), transaction.atomic():
            DirectoryUnit.objects.create(
                district_id="511504", credit_code="9111000O600037341L", name="x", kind="industry", department=depts.jkj
            )


class TestImport:
    def test_the_directory_loads_with_the_department_for_each_kind(self, cast: Cast, depts: Departments) -> None:
        report = directory_import(
            upload=workbook(
                [valid_credit_code(1), "宜宾甲酒业有限公司", "industry", "511504101", "甲镇酒厂路1号"],
                [valid_credit_code(2).lower(), "宜宾乙商贸有限公司", "限上批零住餐", "", ""],
                [valid_credit_code(3), "宜宾丙产业园建设项目", "investment_project", "511504102", ""],
                [valid_credit_code(4), "宜宾丁建筑工程有限公司", "construction", "", ""],
            ),
            actor=cast.district_office,
        )
        assert report.ok, report.problems
        assert report.new == 4
        units = {u.name: u for u in DirectoryUnit.objects.all()}
        assert units["宜宾甲酒业有限公司"].department == depts.jkj
        assert units["宜宾乙商贸有限公司"].kind == "trade" and units[
            "宜宾乙商贸有限公司"
        ].credit_code == valid_credit_code(2)
        assert units["宜宾丙产业园建设项目"].department == depts.fgj
        assert units["宜宾丁建筑工程有限公司"].department == depts.zjj
        assert AuditEvent.objects.filter(action=AuditAction.IMPORT, object_type="organisation.directory").count() == 1

    def test_importing_the_same_file_again_changes_nothing(self, cast: Cast, depts: Departments) -> None:
        rows = [[valid_credit_code(1), "宜宾甲酒业有限公司", "industry", "", ""]]
        directory_import(upload=workbook(*rows), actor=cast.district_office)
        again = directory_import(upload=workbook(*rows), actor=cast.district_office)
        assert (again.new, again.updated, again.skipped) == (0, 0, 1)

    def test_one_wrong_row_loads_nothing_and_every_problem_has_its_line(self, cast: Cast, depts: Departments) -> None:
        report = directory_import(
            upload=workbook(
                [valid_credit_code(1), "宜宾甲酒业有限公司", "industry", "", ""],
                ["91511504000000001X", "校验位错误公司", "industry", "", ""],
                [valid_credit_code(3), "", "industry", "", ""],
                [valid_credit_code(4), "未知类型公司", "farming", "", ""],
                [valid_credit_code(1), "重复公司", "industry", "", ""],
            ),
            actor=cast.district_office,
        )
        assert not report.ok
        lines = {p.line for p in report.problems}
        assert lines == {3, 4, 5, 6}
        assert any("check character" in p.message for p in report.problems if p.line == 3)
        assert any("line 2" in p.message for p in report.problems if p.line == 6)
        assert not DirectoryUnit.objects.exists()

    def test_a_department_loads_only_its_own_kinds(self, depts: Departments) -> None:
        report = directory_import(
            upload=workbook([valid_credit_code(5), "宜宾戊置业有限公司", "real_estate", "", ""]), actor=depts.jkj_user
        )
        assert [p.line for p in report.problems] == [2]
        assert "another department" in report.problems[0].message
        assert not DirectoryUnit.objects.exists()

    def test_a_file_without_the_columns_is_refused(self, cast: Cast) -> None:
        bad = io.BytesIO(tablib.Dataset(["x"], headers=["名称"]).export("xlsx"))
        with pytest.raises(ValidationError, match="credit_code"):
            directory_import(upload=bad, actor=cast.district_office)


class TestReviewAndRemoval:
    @pytest.fixture
    def unit(self, depts: Departments) -> DirectoryUnit:
        return DirectoryUnitFactory(district=depts.jkj.district, department=depts.jkj, kind="industry")

    def test_a_unit_that_fails_a_criterion_is_marked_for_removal(self, unit: DirectoryUnit, depts: Departments) -> None:
        results = {"legal_unit": True, "in_district": True, "has_records": True, "revenue_20m": False}
        with pytest.raises(ValidationError):  # a failing review says why
            directory_review(unit=unit, reviewed_on=datetime.date(2021, 4, 1), results=results, actor=depts.jkj_user)
        review = directory_review(
            unit=unit,
            reviewed_on=datetime.date(2021, 4, 1),
            results=results,
            note="2020年营收1500万元",
            actor=depts.jkj_user,
        )
        unit.refresh_from_db()
        assert not review.meets_criteria and unit.status == UnitStatus.TO_REMOVE
        directory_review(
            unit=unit,
            reviewed_on=datetime.date(2021, 5, 1),
            results={**results, "revenue_20m": True},
            actor=depts.jkj_user,
        )
        unit.refresh_from_db()
        assert unit.status == UnitStatus.IN_DIRECTORY

    def test_removal_needs_a_reason_and_a_document(self, unit: DirectoryUnit, depts: Departments) -> None:
        with pytest.raises(ValidationError) as caught:
            directory_remove(
                unit=unit, reason="", note="", removed_on=datetime.date(2021, 5, 1), upload=None, actor=depts.jkj_user
            )
        assert set(caught.value.message_dict) == {"reason", "upload"}
        directory_remove(
            unit=unit,
            reason="closed",
            note="已注销",
            removed_on=datetime.date(2021, 5, 1),
            upload=upload("注销证明.pdf"),
            actor=depts.jkj_user,
        )
        unit.refresh_from_db()
        assert unit.status == UnitStatus.REMOVED and unit.removal_evidence.department_id == depts.jkj.pk

    def test_another_department_cannot_remove_the_unit(
        self, unit: DirectoryUnit, depts: Departments, client_for
    ) -> None:  # type: ignore[no-untyped-def]
        with pytest.raises(ValidationError):
            directory_remove(
                unit=unit,
                reason="closed",
                note="",
                removed_on=datetime.date(2021, 5, 1),
                upload=upload(),
                actor=depts.fgj_user,
            )
        assert client_for(depts.fgj_user).get(reverse("supervision:directory-unit", args=[unit.pk])).status_code == 404
        assert (
            client_for(depts.fgj_user).post(reverse("supervision:directory-remove", args=[unit.pk]), {}).status_code
            == 404
        )

    def test_the_database_refuses_a_removal_without_a_document(self, unit: DirectoryUnit, cast: Cast) -> None:
        with pytest.raises(IntegrityError), transaction.atomic():
            DirectoryUnit.objects.filter(pk=unit.pk).update(
                status=UnitStatus.REMOVED,
                removed_on=datetime.date(2021, 5, 1),
                removal_reason="closed",
                removed_by=cast.district_office,
            )


class TestFigures:
    def test_a_figure_goes_in_only_with_its_source_document(self, depts: Departments) -> None:
        unit = DirectoryUnitFactory(district=depts.jkj.district, department=depts.jkj)
        with pytest.raises(ValidationError) as caught:
            directory_figure_report(
                unit=unit,
                period=datetime.date(2020, 11, 1),
                indicator="operating_revenue",
                value=Decimal("2300"),
                upload=None,
                actor=depts.jkj_user,
            )
        assert "upload" in caught.value.message_dict
        figure = directory_figure_report(
            unit=unit,
            period=datetime.date(2020, 11, 15),
            indicator="operating_revenue",
            value=Decimal("2300"),
            upload=upload("11月财务报表.xlsx"),
            actor=depts.jkj_user,
        )
        assert (
            figure.period == datetime.date(2020, 11, 1) and figure.source_document.original_name == "11月财务报表.xlsx"
        )
        replaced = directory_figure_report(
            unit=unit,
            period=datetime.date(2020, 11, 1),
            indicator="operating_revenue",
            value=Decimal("2400"),
            upload=upload("更正报表.pdf"),
            actor=depts.jkj_user,
        )
        assert replaced.pk == figure.pk and DirectoryFigure.objects.get().value == Decimal("2400.00")
        event = AuditEvent.objects.filter(object_type="organisation.directory_figure").latest("at")
        assert (event.detail["before"], event.detail["after"]) == ("2300.00", "2400")

    def test_the_database_refuses_a_figure_without_a_document(self, depts: Departments) -> None:
        unit = DirectoryUnitFactory(district=depts.jkj.district, department=depts.jkj)
        with pytest.raises(IntegrityError), transaction.atomic():
            DirectoryFigure.objects.create(
                unit=unit,
                period=datetime.date(2020, 11, 1),
                indicator="sales",
                value=1,
                reported_by=depts.jkj_user,
                source_document_id=None,
            )


class TestPages:
    def test_the_list_filters_by_kind_and_status_in_few_queries(
        self, cast: Cast, depts: Departments, login, django_assert_max_num_queries
    ) -> None:  # type: ignore[no-untyped-def]
        for n in range(30):
            DirectoryUnitFactory(
                district=depts.jkj.district,
                department=depts.jkj if n % 2 else depts.fgj,
                kind="industry" if n % 2 else "investment_project",
            )
        client = login(cast.district_office)
        with django_assert_max_num_queries(12):
            response = client.get(reverse("supervision:directory") + "?kind=industry")
        assert response.context["listing"].page.paginator.count == 15
        assert 'data-chart="directory-chart"' in response.content.decode()

    def test_a_department_sees_only_the_units_it_answers_for(self, depts: Departments, client_for) -> None:  # type: ignore[no-untyped-def]
        mine = DirectoryUnitFactory(district=depts.jkj.district, department=depts.jkj)
        DirectoryUnitFactory(district=depts.jkj.district, department=depts.fgj, kind="investment_project")
        response = client_for(depts.jkj_user).get(reverse("supervision:directory"))
        assert [u.pk for u in response.context["listing"].page] == [mine.pk]

    def test_the_import_page_lists_the_wrong_lines(self, cast: Cast, depts: Departments, login) -> None:  # type: ignore[no-untyped-def]
        upload_file = workbook(["91511504000000001X", "校验位错误公司", "industry", "", ""])
        upload_file.name = "目录.xlsx"
        with translation.override("en"):
            response = login(cast.district_office).post(reverse("supervision:directory-import"), {"file": upload_file})
        assert response.status_code == 400
        assert response.context["report"].problems[0].line == 2

    def test_the_template_workbook_has_a_valid_example(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        response = login(cast.district_office).get(reverse("supervision:directory-template"))
        sheet = tablib.Dataset().load(response.content, format="xlsx")
        assert sheet.headers == HEADERS
        credit_code_validate(sheet[0][0])

    def test_removing_through_the_page_asks_first(self, depts: Departments, client_for) -> None:  # type: ignore[no-untyped-def]
        unit = DirectoryUnitFactory(district=depts.jkj.district, department=depts.jkj)
        client = client_for(depts.jkj_user)
        page = client.get(reverse("supervision:directory-unit", args=[unit.pk])).content.decode()
        assert 'data-confirm="' in page
        response = client.post(
            reverse("supervision:directory-remove", args=[unit.pk]),
            {"reason": "moved_out", "note": "", "removed_on": "2021-05-01", "upload": upload("迁出证明.png")},
        )
        assert response.status_code == 302
        unit.refresh_from_db()
        assert unit.status == UnitStatus.REMOVED
