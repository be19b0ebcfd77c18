"""四落实 readiness: checklists for every unit, done only with date and evidence, deadlines and overdue units."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from census.models import AuditEvent
from supervision.organisation import selectors
from supervision.organisation.models import (
    MemberBody,
    ReadinessComponent,
    ReadinessItem,
    ReadinessStatus,
    UnitKind,
    UnitReadiness,
)
from supervision.organisation.services import (
    readiness_ensure_units,
    readiness_item_update,
    readiness_member_add,
    readiness_member_remove,
)
from tests.conftest import Cast
from tests.organisation.conftest import Departments
from tests.organisation.factories import upload

pytestmark = pytest.mark.django_db

# Between the townships' deadline (31 March) and the villages' (30 June).
APRIL = datetime.date(2020, 4, 15)


@pytest.fixture
def units(cast: Cast, depts: Departments) -> dict[str, UnitReadiness]:
    readiness_ensure_units(district_id="511504", actor=cast.district_office)
    qs = UnitReadiness.objects.all()
    return {
        "a": qs.get(unit_kind=UnitKind.TOWNSHIP, township=cast.township_a),
        "b": qs.get(unit_kind=UnitKind.TOWNSHIP, township=cast.township_b),
        "village_a": qs.get(village=cast.village_a),
        "jkj": qs.get(department=depts.jkj),
    }


def complete(unit: UnitReadiness, actor, day: datetime.date = datetime.date(2020, 3, 1)) -> None:  # type: ignore[no-untyped-def]
    readiness_member_add(readiness=unit, body=MemberBody.LEADING_GROUP, name="张伟", post="组长", actor=actor)
    readiness_member_add(readiness=unit, body=MemberBody.OFFICE, name="李娜", post="主任", actor=actor)
    for item in unit.items.all():
        readiness_item_update(item=item, status=ReadinessStatus.DONE, completed_on=day, upload=upload(), actor=actor)


class TestChecklists:
    def test_every_township_village_and_department_gets_four_items_once(self, cast: Cast, units, depts) -> None:  # type: ignore[no-untyped-def]
        # 2 townships + 2 villages + 4 departments (the cast's and jkj, fgj, zjj).
        assert UnitReadiness.objects.count() == 8
        assert ReadinessItem.objects.count() == 32
        assert set(units["a"].items.values_list("component", flat=True)) == set(ReadinessComponent.values)
        assert readiness_ensure_units(district_id="511504", actor=cast.district_office) == 0
        assert UnitReadiness.objects.count() == 8

    def test_a_unit_of_the_wrong_kind_is_refused_by_the_database(self, cast: Cast, units) -> None:  # type: ignore[no-untyped-def]
        with pytest.raises(IntegrityError), transaction.atomic():
            UnitReadiness.objects.create(district_id="511504", unit_kind=UnitKind.VILLAGE, township=cast.township_b)
        with pytest.raises(IntegrityError), transaction.atomic():
            UnitReadiness.objects.create(district_id="511504", unit_kind=UnitKind.TOWNSHIP, township=cast.township_a)


class TestItems:
    def test_done_needs_a_date_and_a_document_and_nothing_is_half_saved(self, cast: Cast, units) -> None:  # type: ignore[no-untyped-def]
        item = units["a"].items.get(component=ReadinessComponent.FUNDS)
        with pytest.raises(ValidationError) as caught:
            readiness_item_update(
                item=item, status=ReadinessStatus.DONE, completed_on=None, actor=cast.township_office_a
            )
        assert "completed_on" in caught.value.message_dict
        with pytest.raises(ValidationError) as caught:
            readiness_item_update(
                item=item,
                status=ReadinessStatus.DONE,
                completed_on=datetime.date(2020, 3, 1),
                actor=cast.township_office_a,
            )
        assert "upload" in caught.value.message_dict
        with pytest.raises(ValidationError):
            readiness_item_update(
                item=item,
                status=ReadinessStatus.DONE,
                completed_on=datetime.date(2020, 3, 1),
                upload=upload("拨款.pdf", b"not a pdf"),
                actor=cast.township_office_a,
            )
        item.refresh_from_db()
        assert item.status == ReadinessStatus.NOT_STARTED and item.evidence_id is None

    def test_the_database_refuses_done_without_evidence(self, units) -> None:  # type: ignore[no-untyped-def]
        item = units["a"].items.first()
        with pytest.raises(IntegrityError), transaction.atomic():
            ReadinessItem.objects.filter(pk=item.pk).update(status=ReadinessStatus.DONE, completed_on=APRIL)

    def test_the_organisation_is_done_only_with_a_leading_group_and_an_office(self, cast: Cast, units) -> None:  # type: ignore[no-untyped-def]
        item = units["a"].items.get(component=ReadinessComponent.ORGANISATION)
        readiness_member_add(
            readiness=units["a"], body=MemberBody.LEADING_GROUP, name="张伟", post="组长", actor=cast.township_office_a
        )
        with pytest.raises(ValidationError, match="leading group and the office"):
            readiness_item_update(
                item=item,
                status=ReadinessStatus.DONE,
                completed_on=APRIL,
                upload=upload(),
                actor=cast.township_office_a,
            )
        readiness_member_add(
            readiness=units["a"], body=MemberBody.OFFICE, name="李娜", post="主任", actor=cast.township_office_a
        )
        readiness_item_update(
            item=item, status=ReadinessStatus.DONE, completed_on=APRIL, upload=upload(), actor=cast.township_office_a
        )
        # The office cannot then be emptied while the organisation counts as done.
        office = units["a"].members.get(body=MemberBody.OFFICE)
        with pytest.raises(ValidationError):
            readiness_member_remove(member=office, actor=cast.township_office_a)

    def test_ready_on_is_the_last_of_the_four_dates_and_clears_when_one_goes_back(self, cast: Cast, units) -> None:  # type: ignore[no-untyped-def]
        unit = units["a"]
        complete(unit, cast.township_office_a, datetime.date(2020, 3, 1))
        last = unit.items.get(component=ReadinessComponent.CONDITIONS)
        readiness_item_update(
            item=last,
            status=ReadinessStatus.DONE,
            completed_on=datetime.date(2020, 3, 20),
            actor=cast.township_office_a,
        )
        unit.refresh_from_db()
        assert unit.ready_on == datetime.date(2020, 3, 20)
        readiness_item_update(
            item=last, status=ReadinessStatus.IN_PROGRESS, completed_on=None, actor=cast.township_office_a
        )
        unit.refresh_from_db()
        assert unit.ready_on is None
        assert AuditEvent.objects.filter(object_type="organisation.readiness_item", object_id=str(last.pk)).count() == 3


class TestDeadlines:
    def test_in_april_only_the_township_that_is_not_ready_is_overdue(self, cast: Cast, units) -> None:  # type: ignore[no-untyped-def]
        complete(units["a"], cast.township_office_a)
        overdue = list(selectors.readiness_overdue(cast.district_office, today=APRIL))
        assert overdue == [units["b"]]

    def test_in_august_villages_and_departments_are_overdue_too(self, cast: Cast, units) -> None:  # type: ignore[no-untyped-def]
        complete(units["a"], cast.township_office_a)
        overdue = set(selectors.readiness_overdue(cast.district_office, today=datetime.date(2020, 8, 1)))
        assert units["b"] in overdue and units["village_a"] in overdue and units["jkj"] in overdue
        assert units["a"] not in overdue

    def test_the_deadlines_come_from_settings(self, cast: Cast, units, settings) -> None:  # type: ignore[no-untyped-def]
        settings.ORGANISATION_READINESS_DEADLINES = {
            **settings.ORGANISATION_READINESS_DEADLINES,
            "township": datetime.date(2020, 5, 31),
        }
        assert list(selectors.readiness_overdue(cast.district_office, today=APRIL)) == []

    def test_a_unit_ready_after_its_deadline_counts_as_late_not_overdue(self, cast: Cast, units) -> None:  # type: ignore[no-untyped-def]
        complete(units["b"], cast.township_office_b, datetime.date(2020, 4, 10))
        summary = {row.code: row for row in selectors.readiness_summary_by_township(cast.district_office, today=APRIL)}
        assert summary["511504102"].late == 1 and summary["511504102"].overdue == 0
        assert summary["511504101"].overdue == 1  # township A itself; its village is not due yet
        assert summary["511504101"].units == 2 and summary["511504101"].ready == 0
        assert selectors.readiness_by_township(user=cast.district_office)["511504102"] == 0.5

    def test_a_township_office_sees_its_own_township_and_villages_only(self, cast: Cast, units) -> None:  # type: ignore[no-untyped-def]
        seen = set(selectors.readiness_list(user=cast.township_office_a))
        assert seen == {units["a"], units["village_a"]}
        assert set(selectors.readiness_overdue(cast.township_office_a, today=datetime.date(2020, 8, 1))) == seen


class TestPages:
    def test_the_list_shows_the_overdue_units_and_the_chart_in_few_queries(
        self, cast: Cast, units, login, django_assert_max_num_queries
    ) -> None:  # type: ignore[no-untyped-def]
        client = login(cast.district_office)
        # 19: one more than before the per-item deadlines, for the district's own deadlines (a constant).
        with django_assert_max_num_queries(19):
            response = client.get(reverse("supervision:readiness"))
        assert response.status_code == 200
        body = response.content.decode()
        assert 'id="readiness-chart"' in body and 'data-chart="readiness-chart"' in body
        assert response.context["overdue_count"] == 8  # nothing done, every deadline of 2020 has passed
        filtered = client.get(reverse("supervision:readiness") + "?kind=village&q=甲村")
        assert [r.pk for r in filtered.context["listing"].page] == [units["village_a"].pk]

    def test_the_district_dashboard_lists_the_overdue_units(self, cast: Cast, units, login, settings) -> None:  # type: ignore[no-untyped-def]
        complete(units["a"], cast.district_office)
        client = login(cast.district_office)
        body = client.get(reverse("supervision:dashboard")).content.decode()
        panel = body.split('id="overdue-readiness"')[1].split("</section>")[0]
        assert f'data-unit="{units["b"].pk}"' in panel and f'data-unit="{units["jkj"].pk}"' in panel
        assert f'data-unit="{units["a"].pk}"' not in panel  # its four were in place before 31 March
        assert '<span class="badge bad">7</span>' in panel
        assert reverse("supervision:readiness") + "?state=overdue" in panel
        settings.PROGRESS_READINESS_OVERDUE_SOURCE = "supervision.organisation.nothing.here"
        assert 'id="overdue-readiness"' not in client.get(reverse("supervision:dashboard")).content.decode()

    def test_a_department_sees_only_its_own_checklist_and_another_is_404(
        self, cast: Cast, depts: Departments, units, client_for
    ) -> None:  # type: ignore[no-untyped-def]
        client = client_for(depts.jkj_user)
        response = client.get(reverse("supervision:readiness"))
        assert [r.pk for r in response.context["listing"].page] == [units["jkj"].pk]
        assert client.get(reverse("supervision:readiness-detail", args=[units["a"].pk])).status_code == 404
        item = units["a"].items.first()
        post = client.post(reverse("supervision:readiness-item-update", args=[item.pk]), {})
        assert post.status_code == 404

    def test_marking_an_item_done_with_a_file_through_the_page(self, cast: Cast, units, login) -> None:  # type: ignore[no-untyped-def]
        item = units["a"].items.get(component=ReadinessComponent.FUNDS)
        client = login(cast.township_office_a)
        response = client.post(
            reverse("supervision:readiness-item-update", args=[item.pk]),
            {
                "funds-status": "done",
                "funds-completed_on": "2020-03-02",
                "funds-note": "区财政已拨付",
                "funds-upload": upload("拨款文件.pdf"),
            },
        )
        assert response.status_code == 302
        item.refresh_from_db()
        assert item.status == "done" and item.evidence.original_name == "拨款文件.pdf"
        page = client.get(reverse("supervision:readiness-detail", args=[units["a"].pk])).content.decode()
        assert reverse("supervision:evidence-download", args=[item.evidence_id]) in page

    def test_a_wrong_input_is_shown_on_the_form_and_nothing_is_saved(self, cast: Cast, units, login) -> None:  # type: ignore[no-untyped-def]
        item = units["a"].items.get(component=ReadinessComponent.FUNDS)
        response = login(cast.township_office_a).post(
            reverse("supervision:readiness-item-update", args=[item.pk]),
            {"funds-status": "done", "funds-completed_on": "2020-03-02", "funds-upload": upload("拨款文件.exe")},
            HTTP_ACCEPT_LANGUAGE="zh-hans",
        )
        assert response.status_code == 400
        assert "errorlist" in response.content.decode()
        item.refresh_from_db()
        assert item.status == "not_started"

    def test_members_are_added_and_removed_after_asking(self, cast: Cast, units, login) -> None:  # type: ignore[no-untyped-def]
        client = login(cast.township_office_a)
        url = reverse("supervision:readiness-member-add", args=[units["a"].pk])
        assert (
            client.post(url, {"body": "leading_group", "name": "王强", "post": "组长", "job_title": "镇长"}).status_code
            == 302
        )
        member = units["a"].members.get()
        page = client.get(reverse("supervision:readiness-detail", args=[units["a"].pk])).content.decode()
        assert "data-confirm=" in page and "王强" in page
        assert client.post(reverse("supervision:readiness-member-remove", args=[member.pk])).status_code == 302
        assert not units["a"].members.exists()
