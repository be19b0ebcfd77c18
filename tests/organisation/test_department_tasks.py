"""S18 + S4: departments' census tasks (each department sees and answers only its own, with evidence) and the
assessment score of townships and departments. Expected scores are worked out in the tests from the documented
definition (supervision/organisation/assessment.py, settings.ASSESSMENT_SCORE), not by calling the function:

    score = 100 × Σ wᵢ cᵢ ÷ Σ wᵢ over the components that count;  points = score × multiplier
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from supervision.organisation.models import (
    DepartmentTask,
    DepartmentTaskKind,
    DepartmentTaskStatus,
    MemberBody,
    ReadinessComponent,
    ReadinessStatus,
    UnitKind,
    UnitReadiness,
)
from supervision.organisation.selectors.assessment import assessment_ranking
from supervision.organisation.services import readiness_ensure_units, readiness_item_update, readiness_member_add
from supervision.organisation.services.department_tasks import (
    department_task_answer,
    department_task_create,
    department_task_review,
)
from supervision.progress.models import SmallAreaProgress
from tests.conftest import Cast
from tests.organisation.conftest import Departments
from tests.organisation.factories import upload

pytestmark = pytest.mark.django_db

D = datetime.date
SEPTEMBER_30 = D(2020, 9, 30)
WEIGHTS = {"readiness": 20, "publicity": 10, "tasks": 20, "registration": 25, "acceptance": 15, "findings": 10}


@pytest.fixture(autouse=True)
def weights(settings) -> None:  # type: ignore[no-untyped-def]
    # Stated here, so the hand-worked numbers below do not depend on the deployment's choice.
    settings.ASSESSMENT_SCORE = {"weights": dict(WEIGHTS), "multiplier": 2}
    settings.PROGRESS_WINDOW = ("2020-11-01", "2020-12-10")


def hand_score(components: dict[str, float]) -> Decimal:
    """The documented formula, written out independently of the code under test."""
    total = sum(WEIGHTS[name] for name in components)
    value = 100 * sum(WEIGHTS[name] * c for name, c in components.items()) / total
    return Decimal(str(round(value + 1e-9, 1))).quantize(Decimal("0.1"))


def task(depts: Departments, actor, *, department=None, deadline=SEPTEMBER_30, title="出生医学证明比对"):  # type: ignore[no-untyped-def]
    return department_task_create(
        department=department or depts.jkj,
        kind=DepartmentTaskKind.BIRTHS,
        title=title,
        deliverable="比对清单及佐证",
        deadline=deadline,
        actor=actor,
    )


class TestTasks:
    def test_a_department_sees_and_answers_only_its_own(self, cast: Cast, depts: Departments, login) -> None:  # type: ignore[no-untyped-def]
        mine = task(depts, cast.district_office)
        theirs = task(depts, cast.district_office, department=depts.fgj, title="民政记录")
        assert list(DepartmentTask.objects.visible_to(depts.jkj_user)) == [mine]
        assert set(DepartmentTask.objects.visible_to(cast.district_office)) == {mine, theirs}
        # The tasks' pages are the district's and the departments' (townships see the ranking only).
        assert login(cast.township_office_a).get(reverse("supervision:department-tasks")).status_code == 403
        client = login(depts.jkj_user)
        listing = client.get(reverse("supervision:department-tasks")).content.decode()
        assert "出生医学证明比对" in listing and "民政记录" not in listing
        assert client.get(reverse("supervision:department-task", args=[theirs.pk])).status_code == 404
        answer = {"answer": "已比对", "answered_on": "2020-09-20", "upload": upload()}
        assert client.post(reverse("supervision:department-task-answer", args=[theirs.pk]), answer).status_code == 404
        with pytest.raises(ValidationError):
            department_task_answer(
                task=theirs, answer="x", answered_on=D(2020, 9, 20), upload=upload(), actor=depts.jkj_user
            )
        # A department cannot assign tasks.
        assert client.post(reverse("supervision:department-tasks"), {"title": "x"}).status_code == 403

    def test_an_answer_needs_evidence_and_the_district_accepts_or_returns_it(
        self, cast: Cast, depts: Departments
    ) -> None:  # type: ignore[no-untyped-def]
        t = task(depts, cast.district_office)
        with pytest.raises(ValidationError) as caught:
            department_task_answer(task=t, answer="已比对", answered_on=D(2020, 9, 20), actor=depts.jkj_user)
        assert "upload" in caught.value.message_dict
        department_task_answer(
            task=t, answer="已比对", answered_on=D(2020, 9, 20), upload=upload(), actor=depts.jkj_user
        )
        with pytest.raises(ValidationError):
            department_task_review(task=t, accept=False, reason="", on=D(2020, 9, 21), actor=cast.district_office)
        department_task_review(
            task=t, accept=False, reason="缺少比对清单", on=D(2020, 9, 21), actor=cast.district_office
        )
        t.refresh_from_db()
        assert t.status == DepartmentTaskStatus.OPEN and t.returned_reason == "缺少比对清单"
        department_task_answer(task=t, answer="补充清单", answered_on=D(2020, 9, 25), actor=depts.jkj_user)
        with pytest.raises(ValidationError):
            department_task_review(task=t, accept=True, on=D(2020, 9, 26), actor=depts.jkj_user)
        department_task_review(task=t, accept=True, on=D(2020, 9, 26), actor=cast.district_office)
        t.refresh_from_db()
        assert t.status == DepartmentTaskStatus.DELIVERED and t.on_time


def finish(unit: UnitReadiness, component: str, day: datetime.date, actor) -> None:  # type: ignore[no-untyped-def]
    if component == ReadinessComponent.ORGANISATION and not unit.members.exists():
        readiness_member_add(readiness=unit, body=MemberBody.LEADING_GROUP, name="张伟", post="组长", actor=actor)
        readiness_member_add(readiness=unit, body=MemberBody.OFFICE, name="李娜", post="主任", actor=actor)
    item = unit.items.get(component=component)
    readiness_item_update(item=item, status=ReadinessStatus.DONE, completed_on=day, upload=upload(), actor=actor)


class TestScore:
    def test_a_department_is_scored_on_readiness_and_tasks(self, cast: Cast, depts: Departments) -> None:
        readiness_ensure_units(district_id="511504", actor=cast.district_office)
        unit = UnitReadiness.objects.get(department=depts.jkj)
        # Three of its four items by their deadlines (departments: organisation 31 July, funds 31 July, staff
        # 31 August); conditions not done.
        finish(unit, ReadinessComponent.ORGANISATION, D(2020, 7, 1), depts.jkj_user)
        finish(unit, ReadinessComponent.FUNDS, D(2020, 7, 1), depts.jkj_user)
        finish(unit, ReadinessComponent.STAFF, D(2020, 8, 1), depts.jkj_user)
        on_time = task(depts, cast.district_office, deadline=D(2020, 9, 30))
        task(depts, cast.district_office, deadline=D(2020, 9, 30), title="学校宣传")  # never answered
        task(depts, cast.district_office, deadline=D(2020, 12, 31), title="未到期")  # not due on 1 October
        department_task_answer(
            task=on_time, answer="已比对", answered_on=D(2020, 9, 20), upload=upload(), actor=depts.jkj_user
        )
        department_task_review(task=on_time, accept=True, on=D(2020, 9, 21), actor=cast.district_office)
        units = {u.key: u for u in assessment_ranking(district_id="511504", today=D(2020, 10, 1))}
        jkj = units[f"dept:{depts.jkj.pk}"]
        # readiness 3/4; tasks 1 delivered on time of the 2 due; nothing else counts for a department.
        expected = hand_score({"readiness": 3 / 4, "tasks": 1 / 2})
        assert expected == Decimal("62.5")
        assert jkj.score == expected and jkj.points == expected * 2
        assert jkj.components["registration"] is None
        # A department with nothing done scores 0 and ranks below.
        assert units[f"dept:{depts.fgj.pk}"].score == Decimal("0.0")
        assert units[f"dept:{depts.fgj.pk}"].rank > jkj.rank

    def test_a_township_before_and_after_registration_starts(self, cast: Cast, depts: Departments) -> None:
        readiness_ensure_units(district_id="511504", actor=cast.district_office)
        own = UnitReadiness.objects.get(unit_kind=UnitKind.TOWNSHIP, township=cast.township_a)
        finish(own, ReadinessComponent.ORGANISATION, D(2020, 3, 20), cast.township_office_a)  # on time
        finish(own, ReadinessComponent.FUNDS, D(2020, 7, 20), cast.township_office_a)  # on time
        village = UnitReadiness.objects.get(village=cast.village_a)
        finish(village, ReadinessComponent.ORGANISATION, D(2020, 7, 20), cast.township_office_a)  # late (30 June)
        # Township A's 8 items (its own and its village's): 2 done on time.
        before = {u.key: u for u in assessment_ranking(district_id="511504", today=D(2020, 10, 1))}
        assert before["511504101"].score == hand_score({"readiness": 2 / 8}) == Decimal("25.0")
        SmallAreaProgress.objects.create(
            small_area=cast.area_a1,
            township=cast.township_a,
            village=cast.village_a,
            households=100,
            hh_listed=40,
            hh_signed=20,
            hh_approved=10,
            hh_accepted=30,
            aware_answered=60,
            aware=45,
            refreshed_at=timezone.now(),
        )
        after = {u.key: u for u in assessment_ranking(district_id="511504", today=D(2020, 11, 20))}
        # publicity 45/60; registration (20+10+30)/100; acceptance 30/100; findings: none open → 1.
        expected = hand_score(
            {
                "readiness": 2 / 8,
                "publicity": 45 / 60,
                "registration": 60 / 100,
                "acceptance": 30 / 100,
                "findings": 1.0,
            }
        )
        assert expected == Decimal("52.5")
        assert after["511504101"].score == expected and after["511504101"].points == Decimal("105.0")
        assert after["511504101"].rank == 1

    def test_the_page_shows_the_weights_and_the_multiplier(self, cast: Cast, depts: Departments, login) -> None:  # type: ignore[no-untyped-def]
        body = login(depts.jkj_user).get(reverse("supervision:assessment")).content.decode()
        assert 'data-weight="tasks">20<' in body and "×2" in body
        assert login(cast.enumerator_a1).get(reverse("supervision:assessment")).status_code == 403
