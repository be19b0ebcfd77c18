"""在库企业和项目 in the browser: an import with a wrong credit code loads nothing and names the line; the fixed
file loads; a unit is removed (退库) with its reason and document after confirming."""

from __future__ import annotations

import pytest
import tablib
from playwright.sync_api import Page, expect
from stdnum.cn import uscc

from supervision.organisation.models import DirectoryUnit, UnitStatus
from tests.browser.conftest import log_in, screenshot
from tests.organisation.browser import DEMO_PASSWORD, charts_drawn, pdf_file, seed_demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def demo(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    seed_demo(settings, tmp_path)


def workbook(*rows: list[str]) -> dict[str, object]:
    data = tablib.Dataset(*rows, headers=["credit_code", "name", "kind", "township", "address"])
    return {"name": "directory.xlsx", "mimeType": XLSX, "buffer": data.export("xlsx")}


def test_import_then_remove_a_unit(live_server, desktop: Page, demo: None) -> None:  # type: ignore[no-untyped-def]
    body = "91511504MA6BRWN1Q"
    good = body + uscc.calc_check_digit(body)
    other = "91511504MA6BRWN2Q"
    wrong = other + ("0" if uscc.calc_check_digit(other) != "0" else "1")
    before = DirectoryUnit.objects.count()
    log_in(desktop, live_server.url, "district", DEMO_PASSWORD)
    desktop.goto(f"{live_server.url}/supervision/directory/")
    assert charts_drawn(desktop) == ["true"]
    screenshot(desktop, "organisation-directory")

    desktop.click("main a[href$='/directory/import/']")
    desktop.set_input_files(
        "#id_file",
        workbook([good, "宜宾浏览器测试有限公司", "industry", "", ""], [wrong, "校验位错误公司", "industry", "", ""]),
    )
    desktop.locator("main form button[type=submit]").click()
    problems = desktop.locator("#import-problems")
    expect(problems).to_contain_text("校验码")
    expect(problems.locator("tbody tr td").first).to_have_text("3")
    assert DirectoryUnit.objects.count() == before

    desktop.set_input_files("#id_file", workbook([good, "宜宾浏览器测试有限公司", "industry", "", ""]))
    desktop.locator("main form button[type=submit]").click()
    expect(desktop.locator(".message.success")).to_be_visible()
    unit = DirectoryUnit.objects.get(credit_code=good)

    desktop.goto(f"{live_server.url}/supervision/directory/{unit.pk}/")
    desktop.select_option("#remove select[name=reason]", "closed")
    desktop.locator("#remove input[type=file]").set_input_files(pdf_file("deregistered.pdf"))
    asked: list[str] = []
    desktop.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    desktop.locator("#remove button[type=submit]").click()
    expect(desktop.locator(".message.success")).to_be_visible()
    expect(desktop.locator("#removal")).to_contain_text("deregistered.pdf")
    assert asked and "宜宾浏览器测试有限公司" in asked[0]
    unit.refresh_from_db()
    assert unit.status == UnitStatus.REMOVED
