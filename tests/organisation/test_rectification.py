"""督察整改: items broken into tasks, answered with evidence, closed only when everything is answered, re-checked."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from census.models import AuditEvent
from supervision.organisation import selectors
from supervision.organisation.models import ItemStatus, RectificationItem, RectificationTask, TaskStatus
from supervision.organisation.services import (
    rectification_item_close,
    rectification_item_create,
    rectification_recheck_record,
    rectification_task_add_evidence,
    rectification_task_answer,
    rectification_task_create,
    rectification_task_return,
)
from tests.conftest import Cast
from tests.organisation.conftest import Departments
from tests.organisation.factories import upload

pytestmark = pytest.mark.django_db

ANSWERED = datetime.date(2021, 3, 20)


@pytest.fixture
def item(cast: Cast, depts: Departments) -> RectificationItem:
    item = rectification_item_create(
        district_id="511504",
        number="反馈1",
        title="在库项目资料不全",
        feedback="抽查40个项目，7个缺少佐证资料。",
        received_on=datetime.date(2020, 12, 18),
        lead_department=depts.fgj,
        actor=cast.district_office,
    )
    for dept, person in ((depts.fgj, "张伟"), (depts.zjj, "李娜")):
        rectification_task_create(
            item=item,
            measure="逐一核查在库项目资料",
            department=dept,
            responsible_person=person,
            deadline=datetime.date(2021, 3, 31),
            evidence_required="核查台账",
            actor=cast.district_office,
        )
    return item


def task_of(item: RectificationItem, dept) -> RectificationTask:  # type: ignore[no-untyped-def]
    return item.tasks.get(department=dept)


def answer(task: RectificationTask, actor, with_file: bool = True) -> RectificationTask:  # type: ignore[no-untyped-def]
    return rectification_task_answer(
        task=task,
        answer="已核查并退库2个项目",
        answered_on=ANSWERED,
        upload=upload() if with_file else None,
        actor=actor,
    )


class TestAnswers:
    def test_an_answer_without_evidence_is_not_an_answer(self, item: RectificationItem, depts: Departments) -> None:
        task = task_of(item, depts.fgj)
        with pytest.raises(ValidationError) as caught:
            answer(task, depts.fgj_user, with_file=False)
        assert "核查台账" in caught.value.message_dict["upload"][0]
        task.refresh_from_db()
        assert task.status == TaskStatus.OPEN
        answer(task, depts.fgj_user)
        task.refresh_from_db()
        assert task.status == TaskStatus.ANSWERED and task.evidence.count() == 1

    def test_evidence_uploaded_first_lets_the_answer_follow(self, item: RectificationItem, depts: Departments) -> None:
        task = task_of(item, depts.zjj)
        rectification_task_add_evidence(task=task, upload=upload("台账.xlsx"), actor=depts.zjj_user)
        answer(task, depts.zjj_user, with_file=False)
        assert task.evidence.get().department_id == depts.zjj.pk

    def test_a_department_answers_only_its_own_tasks(self, item: RectificationItem, depts: Departments) -> None:
        with pytest.raises(ValidationError, match="own department"):
            answer(task_of(item, depts.zjj), depts.fgj_user)

    def test_the_district_returns_an_answer_that_falls_short(
        self, cast: Cast, item: RectificationItem, depts: Departments
    ) -> None:
        task = answer(task_of(item, depts.fgj), depts.fgj_user)
        with pytest.raises(ValidationError):
            rectification_task_return(task=task, reason="材料不全", actor=depts.fgj_user)
        rectification_task_return(task=task, reason="缺少退库审批表", actor=cast.district_office)
        task.refresh_from_db()
        assert task.status == TaskStatus.OPEN and task.returned_reason == "缺少退库审批表"

    def test_the_database_refuses_an_answered_task_without_an_answer(self, item: RectificationItem, depts) -> None:  # type: ignore[no-untyped-def]
        with pytest.raises(IntegrityError), transaction.atomic():
            RectificationTask.objects.filter(pk=task_of(item, depts.fgj).pk).update(status=TaskStatus.ANSWERED)


class TestClosing:
    def test_an_item_closes_only_when_every_task_is_answered_with_evidence(
        self, cast: Cast, item: RectificationItem, depts: Departments
    ) -> None:
        answer(task_of(item, depts.fgj), depts.fgj_user)
        with pytest.raises(ValidationError) as caught:
            rectification_item_close(
                item=item,
                closed_on=datetime.date(2021, 4, 1),
                recheck_on=datetime.date(2021, 10, 1),
                actor=cast.district_office,
            )
        assert "李娜" in caught.value.messages[0]  # names the task still without an answer
        item.refresh_from_db()
        assert item.status == ItemStatus.OPEN
        answer(task_of(item, depts.zjj), depts.zjj_user)
        with pytest.raises(ValidationError):
            rectification_item_close(
                item=item,
                closed_on=datetime.date(2021, 4, 1),
                recheck_on=datetime.date(2021, 4, 1),
                actor=cast.district_office,
            )
        rectification_item_close(
            item=item,
            closed_on=datetime.date(2021, 4, 1),
            recheck_on=datetime.date(2021, 10, 1),
            actor=cast.district_office,
        )
        item.refresh_from_db()
        assert item.status == ItemStatus.CLOSED and item.recheck_on == datetime.date(2021, 10, 1)

    def test_an_item_without_tasks_cannot_close(self, cast: Cast) -> None:
        empty = rectification_item_create(
            district_id="511504",
            number="反馈9",
            title="t",
            feedback="f",
            received_on=datetime.date(2020, 12, 1),
            actor=cast.district_office,
        )
        with pytest.raises(ValidationError, match="no rectification tasks"):
            rectification_item_close(
                item=empty,
                closed_on=datetime.date(2021, 1, 1),
                recheck_on=datetime.date(2021, 2, 1),
                actor=cast.district_office,
            )

    def test_the_database_refuses_a_closed_item_without_a_recheck_date(self, item: RectificationItem) -> None:
        with pytest.raises(IntegrityError), transaction.atomic():
            RectificationItem.objects.filter(pk=item.pk).update(
                status=ItemStatus.CLOSED, closed_on=datetime.date(2021, 4, 1)
            )


class TestRechecks:
    @pytest.fixture
    def closed(self, cast: Cast, item: RectificationItem, depts: Departments) -> RectificationItem:
        answer(task_of(item, depts.fgj), depts.fgj_user)
        answer(task_of(item, depts.zjj), depts.zjj_user)
        return rectification_item_close(
            item=item,
            closed_on=datetime.date(2021, 4, 1),
            recheck_on=datetime.date(2021, 10, 1),
            actor=cast.district_office,
        )

    def test_a_closed_item_comes_back_on_the_list_when_its_recheck_is_due(
        self, cast: Cast, closed: RectificationItem
    ) -> None:
        before = datetime.date(2021, 9, 30)
        assert closed not in selectors.rectification_item_list(
            user=cast.district_office, today=before
        ).needing_attention(before)
        due = datetime.date(2021, 10, 1)
        assert list(selectors.rectification_recheck_due(cast.district_office, today=due)) == [closed]
        assert closed in RectificationItem.objects.needing_attention(due)

    def test_a_recheck_that_held_sets_the_next_date(self, cast: Cast, closed: RectificationItem) -> None:
        with pytest.raises(ValidationError):
            rectification_recheck_record(
                item=closed,
                checked_on=datetime.date(2021, 10, 2),
                held=True,
                note="未反弹",
                next_recheck_on=None,
                actor=cast.district_office,
            )
        rectification_recheck_record(
            item=closed,
            checked_on=datetime.date(2021, 10, 2),
            held=True,
            note="抽查10个项目，资料齐全",
            next_recheck_on=datetime.date(2022, 4, 1),
            actor=cast.district_office,
        )
        closed.refresh_from_db()
        assert closed.status == ItemStatus.CLOSED and closed.recheck_on == datetime.date(2022, 4, 1)

    def test_a_problem_that_came_back_reopens_the_item(self, cast: Cast, closed: RectificationItem, depts) -> None:  # type: ignore[no-untyped-def]
        rectification_recheck_record(
            item=closed,
            checked_on=datetime.date(2021, 10, 2),
            held=False,
            note="又发现3个项目无施工许可",
            next_recheck_on=None,
            actor=cast.district_office,
        )
        closed.refresh_from_db()
        assert closed.status == ItemStatus.OPEN and closed.recheck_on is None
        rectification_task_create(
            item=closed,
            measure="再次核查",
            department=depts.zjj,
            responsible_person="王刚",
            deadline=datetime.date(2021, 12, 31),
            evidence_required="核查台账",
            actor=cast.district_office,
        )
        assert (
            AuditEvent.objects.filter(object_type="organisation.rectification_item", object_id=str(closed.pk)).count()
            >= 3
        )


class TestAccess:
    def test_a_department_sees_the_items_it_leads_or_has_tasks_in(self, cast: Cast, item, depts: Departments) -> None:  # type: ignore[no-untyped-def]
        other = rectification_item_create(
            district_id="511504",
            number="反馈2",
            title="培训不到位",
            feedback="f",
            received_on=datetime.date(2020, 12, 18),
            lead_department=depts.jkj,
            actor=cast.district_office,
        )
        assert set(selectors.rectification_item_list(user=depts.zjj_user)) == {item}
        assert set(selectors.rectification_item_list(user=depts.jkj_user)) == {other}
        assert set(selectors.rectification_task_list(user=depts.zjj_user)) == {task_of(item, depts.zjj)}
        assert set(selectors.rectification_item_list(user=cast.district_office)) == {item, other}

    def test_another_departments_task_is_404_and_their_tasks_are_hidden_on_the_item(
        self, item: RectificationItem, depts: Departments, client_for
    ) -> None:  # type: ignore[no-untyped-def]
        client = client_for(depts.zjj_user)
        fgj_task = task_of(item, depts.fgj)
        assert client.get(reverse("supervision:rectification-task", args=[fgj_task.pk])).status_code == 404
        assert client.post(reverse("supervision:rectification-task-answer", args=[fgj_task.pk]), {}).status_code == 404
        page = client.get(reverse("supervision:rectification-item", args=[item.pk]))
        assert [t.department_id for t in page.context["tasks"]] == [depts.zjj.pk]
        assert page.context["hidden_tasks"] == 1

    def test_a_department_cannot_add_tasks_or_close(
        self, item: RectificationItem, depts: Departments, client_for
    ) -> None:  # type: ignore[no-untyped-def]
        client = client_for(depts.fgj_user)
        assert client.post(reverse("supervision:rectification-task-create", args=[item.pk]), {}).status_code == 403
        assert client.post(reverse("supervision:rectification-item-close", args=[item.pk]), {}).status_code == 403

    def test_the_department_starts_on_the_rectification_page(self, depts: Departments, client_for) -> None:  # type: ignore[no-untyped-def]
        response = client_for(depts.jkj_user).get(reverse("home"))
        assert response.status_code == 302 and response["Location"] == reverse("supervision:rectification")


class TestPages:
    def test_the_register_lists_what_needs_attention_in_few_queries(
        self, cast: Cast, item: RectificationItem, login, django_assert_max_num_queries
    ) -> None:  # type: ignore[no-untyped-def]
        client = login(cast.district_office)
        with django_assert_max_num_queries(16):
            response = client.get(reverse("supervision:rectification"))
        assert response.status_code == 200
        [row] = response.context["listing"].page
        assert (row.task_count, row.answered_count, row.overdue_count) == (2, 0, 2)
        assert response.context["counts"]["tasks_overdue"] == 2
        assert 'data-chart="rectification-chart"' in response.content.decode()

    def test_a_department_answers_through_the_page_with_a_file(
        self, item: RectificationItem, depts: Departments, client_for
    ) -> None:  # type: ignore[no-untyped-def]
        client = client_for(depts.fgj_user)
        listing = client.get(reverse("supervision:rectification"))
        assert [t.pk for t in listing.context["my_tasks"]] == [task_of(item, depts.fgj).pk]
        task = task_of(item, depts.fgj)
        refused = client.post(
            reverse("supervision:rectification-task-answer", args=[task.pk]),
            {"answer": "已整改", "answered_on": "2021-03-20"},
        )
        assert refused.status_code == 400 and "核查台账" in refused.content.decode()
        done = client.post(
            reverse("supervision:rectification-task-answer", args=[task.pk]),
            {"answer": "已整改", "answered_on": "2021-03-20", "upload": upload("核查台账.xlsx")},
        )
        assert done.status_code == 302
        task.refresh_from_db()
        assert task.status == TaskStatus.ANSWERED and task.evidence.get().original_name == "核查台账.xlsx"

    def test_closing_through_the_page_asks_first_and_explains_a_refusal(self, cast: Cast, item, login) -> None:  # type: ignore[no-untyped-def]
        client = login(cast.district_office)
        page = client.get(reverse("supervision:rectification-item", args=[item.pk])).content.decode()
        assert "data-confirm=" in page
        refused = client.post(
            reverse("supervision:rectification-item-close", args=[item.pk]),
            {"closed_on": "2021-04-01", "recheck_on": "2021-10-01"},
        )
        assert refused.status_code == 400 and "张伟" in refused.content.decode()

    def test_the_district_registers_an_item(self, cast: Cast, depts: Departments, login) -> None:  # type: ignore[no-untyped-def]
        response = login(cast.district_office).post(
            reverse("supervision:rectification-item-create"),
            {
                "number": "反馈7",
                "title": "统计法学习不深入",
                "feedback": "……",
                "lead_department": depts.jkj.pk,
                "received_on": "2020-12-18",
            },
        )
        assert response.status_code == 302
        assert RectificationItem.objects.get(number="反馈7").lead_department == depts.jkj
