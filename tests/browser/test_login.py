"""The login page is Chinese first, works on a 360-px phone, and every demo role can log in."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from playwright.sync_api import Page, expect

from tests.browser.conftest import log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_PASSWORD = "census-demo-2020"
ROLES = ["enumerator", "supervisor", "township", "district", "department", "auditor"]


@pytest.fixture
def demo_district() -> None:
    call_command("seed_district", persons=600, seed=5, stdout=io.StringIO())


def test_the_login_page_is_in_chinese_and_fits_a_phone(live_server, phone: Page) -> None:  # type: ignore[no-untyped-def]
    phone.goto(f"{live_server.url}/accounts/login/")
    expect(phone.locator("h1")).to_have_text("第七次全国人口普查")
    expect(phone.locator("main form button[type=submit]")).to_have_text("登录")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the page is {width}px wide on a 360-px phone"
    screenshot(phone, "login-phone")


@pytest.mark.parametrize("username", ROLES)
def test_every_demo_role_can_log_in(live_server, phone: Page, demo_district: None, username: str) -> None:  # type: ignore[no-untyped-def]
    log_in(phone, live_server.url, username, DEMO_PASSWORD)
    assert "/accounts/login/" not in phone.url, f"{username} stayed on the login page"
    expect(phone.locator(".who")).to_be_visible()
    expect(phone.locator("form[action$='/accounts/logout/'] button")).to_have_text("退出")


def test_a_wrong_password_is_refused_with_a_chinese_message(live_server, phone: Page, demo_district: None) -> None:  # type: ignore[no-untyped-def]
    log_in(phone, live_server.url, "district", "wrong-password")
    assert "/accounts/login/" in phone.url
    expect(phone.locator(".error-box")).to_contain_text("用户名")


def test_english_can_be_chosen(live_server, phone: Page) -> None:  # type: ignore[no-untyped-def]
    phone.goto(f"{live_server.url}/accounts/login/")
    phone.click("button[name=language][value=en]")
    expect(phone.locator("h1")).to_have_text("Seventh National Population Census")
