"""督察整改 in the browser: a department on a phone answers its task with evidence; the district cannot close an
item while another department's task has no answer."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from census.models import StaffMember
from supervision.organisation.models import ItemStatus, RectificationTask, TaskStatus
from tests.browser.conftest import log_in, screenshot
from tests.organisation.browser import DEMO_PASSWORD, charts_drawn, fits, pdf_file, seed_demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    seed_demo(settings, tmp_path)


def test_a_department_answers_and_the_district_cannot_close_too_early(
    live_server, phone: Page, desktop: Page, demo: None
) -> None:  # type: ignore[no-untyped-def]
    department = StaffMember.objects.get(username="department").department
    task = RectificationTask.objects.filter(department=department, status=TaskStatus.OPEN).first()
    assert task is not None, "the sample data gives 经科局 an open task"
    log_in(phone, live_server.url, "department", DEMO_PASSWORD)
    # The department's start page is the register, with its own tasks first.
    assert phone.url.endswith("/supervision/rectification/")
    expect(phone.locator("#my-tasks")).to_contain_text(task.item.number)
    assert charts_drawn(phone) == ["true"]
    fits(phone, 360)
    screenshot(phone, "organisation-rectification-phone")

    phone.goto(f"{live_server.url}/supervision/rectification/tasks/{task.pk}/")
    phone.fill("#id_answer", "已组织企业统计人员培训3次，签到表附后。")
    phone.fill("#id_answered_on", "2021-03-25")
    phone.locator("#answer-form input[type=file]").set_input_files(pdf_file("sign-in.pdf"))
    phone.locator("#answer-form button[type=submit]").click()
    expect(phone.locator(".message.success")).to_be_visible()
    expect(phone.locator("#evidence")).to_contain_text("sign-in.pdf")
    task.refresh_from_db()
    assert task.status == TaskStatus.ANSWERED

    # Another department's task of the same item is still open or returned: the item does not close.
    item = task.item
    assert item.tasks.exclude(status=TaskStatus.ANSWERED).exists()
    log_in(desktop, live_server.url, "district", DEMO_PASSWORD)
    desktop.goto(f"{live_server.url}/supervision/rectification/{item.pk}/")
    desktop.locator("#close input[name=recheck_on]").fill("2027-06-30")
    desktop.once("dialog", lambda dialog: dialog.accept())
    desktop.locator("#close button[type=submit]").click()
    expect(desktop.locator("#close .error-box")).to_contain_text("不能销号")
    item.refresh_from_db()
    assert item.status == ItemStatus.OPEN
    screenshot(desktop, "organisation-rectification-item")
