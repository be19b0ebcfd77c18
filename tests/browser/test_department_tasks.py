"""部门分工协作 in the browser: the district assigns a task to 卫健, the department answers it on a phone with its
evidence, the district accepts it, and the assessment ranking moves. Every page passes axe-core; on the phone
nothing scrolls sideways and every control is at least 44 × 44 px."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from census.models import Role
from supervision.organisation.models import DepartmentTask, DepartmentTaskStatus
from supervision.organisation.services import readiness_ensure_units
from tests.browser.conftest import log_in, screenshot
from tests.browser.pages import check_page
from tests.census.factories import PASSWORD, StaffMemberFactory
from tests.conftest import Cast
from tests.organisation.browser import pdf_file
from tests.organisation.factories import department

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def row_of(page: Page, name: str):  # type: ignore[no-untyped-def]
    return page.locator("#ranking tbody tr", has_text=name)


def test_the_district_assigns_a_task_to_wjw_the_department_answers_and_the_ranking_moves(  # type: ignore[no-untyped-def]
    live_server, cast: Cast, phone: Page, desktop: Page, settings, tmp_path
) -> None:
    settings.PRIVATE_MEDIA_ROOT = settings.MEDIA_ROOT = tmp_path
    settings.ASSESSMENT_SCORE = {
        "weights": {
            "readiness": 20,
            "publicity": 10,
            "tasks": 20,
            "registration": 25,
            "acceptance": 15,
            "findings": 10,
        },
        "multiplier": 2,
    }
    district = cast.district_office.district
    wjw = department("wjw", district)  # 区wjw局: the health commission (卫健)
    StaffMemberFactory(username="dept_wjw", role=Role.DEPARTMENT, department=wjw, district=district)
    readiness_ensure_units(district_id=district.code, actor=cast.district_office)
    deadline = timezone.localdate() + datetime.timedelta(days=30)

    # Before: nothing is done anywhere, so every unit scores 0 and all share rank 1.
    log_in(desktop, live_server.url, "district", PASSWORD)
    desktop.goto(f"{live_server.url}/supervision/assessment/")
    expect(row_of(desktop, "区wjw局").locator("[data-score]")).to_have_text("0.0")
    expect(desktop.locator("#weights [data-weight=tasks]")).to_have_text("20")
    check_page(desktop, phone=False)

    # The district assigns the birth-records task.
    desktop.goto(f"{live_server.url}/supervision/department-tasks/")
    desktop.select_option("#id_department", label="区wjw局")
    desktop.select_option("#id_kind", value="births")
    desktop.fill("#id_title", "出生医学证明与住院分娩记录比对")
    desktop.fill("#id_deliverable", "比对清单（漏登婴幼儿名单）")
    desktop.fill("#id_deadline", deadline.isoformat())
    desktop.locator("#assign-task button[type=submit]").click()
    expect(desktop.locator(".message.success")).to_be_visible()
    expect(desktop.locator("#department-tasks")).to_contain_text("出生医学证明与住院分娩记录比对")
    check_page(desktop, phone=False)
    task = DepartmentTask.objects.get(department=wjw)

    # The department answers on a phone, with its evidence; it sees its own task only.
    log_in(phone, live_server.url, "dept_wjw", PASSWORD)
    phone.goto(f"{live_server.url}/supervision/department-tasks/")
    expect(phone.locator("#department-tasks tbody tr")).to_have_count(1)
    check_page(phone, phone=True)
    phone.locator("#department-tasks a", has_text="出生医学证明").click()
    phone.fill("#id_answer", "已完成比对，发现漏登婴幼儿12名，名单附后。")
    phone.fill("#id_answered_on", timezone.localdate().isoformat())
    phone.locator("#answer-form input[type=file]").set_input_files(pdf_file("births.pdf"))
    phone.locator("#answer-form button[type=submit]").click()
    expect(phone.locator(".message.success")).to_be_visible()
    expect(phone.locator("#evidence")).to_contain_text("births.pdf")
    check_page(phone, phone=True)
    screenshot(phone, "department-task-answered-phone")
    task.refresh_from_db()
    assert task.status == DepartmentTaskStatus.ANSWERED

    # The district accepts it as delivered; the ranking moves: tasks 1/1 delivered on time, readiness 0/4:
    # 100 × (20 × 0 + 20 × 1) ÷ (20 + 20) = 50.0, points 100.0, alone at the top.
    desktop.goto(f"{live_server.url}/supervision/department-tasks/{task.pk}/")
    desktop.locator("#review button.primary").click()
    expect(desktop.locator(".message.success")).to_be_visible()
    desktop.goto(f"{live_server.url}/supervision/assessment/")
    row = row_of(desktop, "区wjw局")
    expect(row.locator("[data-score]")).to_have_text("50.0")
    expect(row.locator("[data-points]")).to_have_text("100.0")
    expect(desktop.locator("#ranking tbody tr").first).to_contain_text("区wjw局")
    expect(row.locator("td").first).to_have_text("1")
    check_page(desktop, phone=False)
    screenshot(desktop, "assessment-ranking")
