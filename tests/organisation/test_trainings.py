"""Trainings once a quarter per department, study sessions and self-inspections; a missed quarter is flagged."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from supervision.organisation import selectors
from supervision.organisation.models import SelfInspection, StudySession, Training
from supervision.organisation.selectors import Quarter
from supervision.organisation.services import self_inspection_record, study_session_record, training_record
from tests.conftest import Cast
from tests.organisation.conftest import Departments
from tests.organisation.factories import upload

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2021, 5, 10)  # 2021 Q2: the quarters up to 2021 Q1 are over


def train(dept, user, day: datetime.date, subject: str) -> Training:  # type: ignore[no-untyped-def]
    return training_record(department=dept, held_on=day, subject=subject, topic="统计报表制度", trainees=40, actor=user)


@pytest.fixture
def trainings(depts: Departments) -> None:
    """From 2020 Q3 (the first required quarter): 经科局 every quarter; 发改局 misses 2020 Q4; 住建局 trains in
    2020 Q4 only in another line (which does not count) and otherwise every quarter."""
    for day in (datetime.date(2020, 8, 1), datetime.date(2020, 11, 1), datetime.date(2021, 2, 1)):
        train(depts.jkj, depts.jkj_user, day, "industry_trade_services")
        train(depts.zjj, depts.zjj_user, day, "construction_real_estate" if day.month != 11 else "census")
    for day in (datetime.date(2020, 8, 1), datetime.date(2021, 2, 1)):
        train(depts.fgj, depts.fgj_user, day, "investment")


def test_a_quarter_without_training_in_the_departments_line_is_flagged(cast: Cast, trainings: None) -> None:
    missed = {
        (m.department.code, str(m.quarter))
        for m in selectors.training_missed_quarters(cast.district_office, today=TODAY)
    }
    assert missed == {("fgj", "2020 Q4"), ("zjj", "2020 Q4")}


def test_the_current_quarter_is_not_missed_until_it_ends(cast: Cast, trainings: None) -> None:
    later = datetime.date(2021, 7, 2)
    missed = {
        (m.department.code, str(m.quarter))
        for m in selectors.training_missed_quarters(cast.district_office, today=later)
    }
    assert ("jkj", "2021 Q2") in missed and ("jkj", "2021 Q3") not in missed


def test_the_matrix_of_a_year(cast: Cast, trainings: None) -> None:
    matrix = {
        row.department.code: row.cells
        for row in selectors.training_quarter_matrix(cast.district_office, year=2020, today=TODAY)
    }
    assert [c.trainings for c in matrix["jkj"]] == [0, 0, 1, 1]
    assert [c.missed for c in matrix["fgj"]] == [False, False, False, True]
    assert matrix["jkj"][0].pending  # before the first required quarter


def test_a_department_sees_and_records_its_own_only(depts: Departments, trainings: None) -> None:
    assert [m.department.code for m in selectors.training_missed_quarters(depts.fgj_user, today=TODAY)] == ["fgj"]
    assert {t.department_id for t in selectors.training_list(user=depts.jkj_user)} == {depts.jkj.pk}
    with pytest.raises(ValidationError, match="own department"):
        train(depts.fgj, depts.jkj_user, datetime.date(2021, 3, 1), "investment")


def test_study_sessions_and_self_inspections_check_their_numbers(depts: Departments) -> None:
    with pytest.raises(ValidationError):
        study_session_record(
            department=depts.jkj,
            held_on=datetime.date(2020, 9, 1),
            form="central_group",
            topic="学习《统计法》",
            attendance=30,
            expected=25,
            actor=depts.jkj_user,
        )
    session = study_session_record(
        department=depts.jkj,
        held_on=datetime.date(2020, 9, 1),
        form="central_group",
        topic="学习《统计法》",
        attendance=23,
        expected=25,
        upload=upload("签到表.jpg"),
        actor=depts.jkj_user,
    )
    assert session.evidence.department_id == depts.jkj.pk
    with pytest.raises(ValidationError) as caught:
        self_inspection_record(
            department=depts.jkj,
            carried_out_on=datetime.date(2021, 1, 10),
            documents_reviewed=40,
            problems_found=2,
            problems_corrected=3,
            findings="清理文件",
            actor=depts.jkj_user,
        )
    assert "problems_corrected" in caught.value.message_dict
    self_inspection_record(
        department=depts.jkj,
        carried_out_on=datetime.date(2021, 1, 10),
        documents_reviewed=40,
        problems_found=2,
        problems_corrected=1,
        findings="2个文件含按统计数据排名的条款，已废止1个",
        actor=depts.jkj_user,
    )


def test_the_database_checks_the_numbers_too(depts: Departments) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        StudySession.objects.create(
            department=depts.jkj,
            held_on=datetime.date(2020, 9, 1),
            form="central_group",
            topic="t",
            attendance=9,
            expected=5,
            recorded_by=depts.jkj_user,
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        SelfInspection.objects.create(
            department=depts.jkj,
            carried_out_on=datetime.date(2021, 1, 1),
            documents_reviewed=5,
            problems_found=1,
            problems_corrected=2,
            findings="f",
            recorded_by=depts.jkj_user,
        )


def test_quarters() -> None:
    assert Quarter.of(datetime.date(2020, 12, 31)) == Quarter(2020, 4)
    assert Quarter(2020, 4).next() == Quarter(2021, 1) and Quarter(2021, 1).previous() == Quarter(2020, 4)
    assert Quarter(2020, 3).last_day == datetime.date(2020, 9, 30)
    assert Quarter.parse("2020Q3") == Quarter(2020, 3)


class TestPages:
    def test_the_trainings_page_flags_the_missed_quarters_in_few_queries(
        self, cast: Cast, trainings: None, login, django_assert_max_num_queries
    ) -> None:  # type: ignore[no-untyped-def]
        client = login(cast.district_office)
        with django_assert_max_num_queries(14):
            response = client.get(reverse("supervision:trainings") + "?year=2020")
        assert response.status_code == 200
        body = response.content.decode()
        assert 'data-chart="training-chart"' in body and 'id="missed"' in body
        assert {(m.department.code, str(m.quarter)) for m in response.context["missed"]} >= {("fgj", "2020 Q4")}

    def test_a_department_records_a_training_through_the_page(self, depts: Departments, client_for) -> None:  # type: ignore[no-untyped-def]
        client = client_for(depts.fgj_user)
        response = client.post(
            reverse("supervision:trainings"),
            {
                "department": depts.fgj.pk,
                "held_on": "2020-11-20",
                "subject": "investment",
                "topic": "投资项目入库审核",
                "trainees": "35",
                "upload": upload("签到表.pdf"),
            },
        )
        assert response.status_code == 302
        assert Training.objects.get().evidence.original_name == "签到表.pdf"
        other = client.post(
            reverse("supervision:trainings"),
            {
                "department": depts.jkj.pk,
                "held_on": "2020-11-20",
                "subject": "investment",
                "topic": "x",
                "trainees": "3",
            },
        )
        assert other.status_code == 400 and Training.objects.count() == 1

    def test_study_and_self_inspection_pages(self, depts: Departments, client_for) -> None:  # type: ignore[no-untyped-def]
        client = client_for(depts.jkj_user)
        assert (
            client.post(
                reverse("supervision:study-sessions"),
                {
                    "department": depts.jkj.pk,
                    "held_on": "2020-09-01",
                    "form": "party_group",
                    "topic": "学习《统计法》",
                    "attendance": "12",
                    "expected": "12",
                },
            ).status_code
            == 302
        )
        assert client.get(reverse("supervision:study-sessions")).context["listing"].page.paginator.count == 1
        refused = client.post(
            reverse("supervision:self-inspections"),
            {
                "department": depts.jkj.pk,
                "carried_out_on": "2021-01-10",
                "documents_reviewed": "3",
                "problems_found": "5",
                "problems_corrected": "0",
                "findings": "f",
            },
        )
        assert refused.status_code == 400 and not SelfInspection.objects.exists()
