"""Issue 23 in a browser: a refusal escalated on the enumerator's phone, a callback due today in their list, and an
acceptance the checks block on the township office's desk (the blockers listed, no accept button) — axe-core on
each page, and on the phone no horizontal scroll and 44 × 44 px targets."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import Page

from enumeration.services import building_create, dwelling_unit_create, household_approve
from supervision.completeness.models import Outcome, Visit
from supervision.completeness.services import visit_record
from tests.browser.conftest import log_in
from tests.browser.pages import check_page
from tests.census.factories import PASSWORD
from tests.conftest import Cast
from tests.enumeration.test_acceptance import hard_finding
from tests.enumeration.test_services_registration import register

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_refusal_escalated_and_a_callback_due_on_the_phone(
    live_server, phone: Page, cast: Cast, settings, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    settings.PRIVATE_MEDIA_ROOT = settings.MEDIA_ROOT = tmp_path
    building = building_create(small_area=cast.area_a1, number="B1", actor=cast.enumerator_a1)
    refused = dwelling_unit_create(building=building, number="1", actor=cast.enumerator_a1)
    callback = dwelling_unit_create(building=building, number="2", actor=cast.enumerator_a1)
    visit_record(
        dwelling_unit=callback,
        actor=cast.enumerator_a1,
        outcome=Outcome.NOBODY_HOME,
        at=timezone.now() - datetime.timedelta(days=2),
    )
    log_in(phone, live_server.url, cast.enumerator_a1.username, PASSWORD)
    phone.goto(f"{live_server.url}/supervision/completeness/callbacks/")
    check_page(phone, phone=True)
    assert phone.locator(f"[data-callback='{callback.pk}']").count() == 1
    phone.goto(f"{live_server.url}/supervision/completeness/areas/{cast.area_a1.pk}/")
    check_page(phone, phone=True)
    phone.select_option("select[name=unit]", str(refused.pk))
    phone.check("input[name=outcome][value=refused]")
    phone.fill("input[name=refusal_reason]", "担心隐私")
    phone.fill("textarea[name=steps_taken]", "出示证件，说明保密规定")
    phone.select_option("select[name=escalated_to]", "township")
    phone.click("[data-action=visit]")
    phone.wait_for_selector(f"tr[data-unit='{refused.pk}'] [data-escalated='township']")
    check_page(phone, phone=True)
    visit = Visit.objects.get(dwelling_unit=refused)
    assert (visit.outcome, visit.escalated_to, visit.refusal_reason) == ("refused", "township", "担心隐私")


def test_a_blocked_acceptance_on_the_township_desk(live_server, desktop: Page, cast: Cast) -> None:  # type: ignore[no-untyped-def]
    household = register(cast, PASSWORD)
    household_approve(household=household, actor=cast.supervisor_a)
    finding = hard_finding(household)
    log_in(desktop, live_server.url, cast.township_office_a.username, PASSWORD)
    desktop.goto(f"{live_server.url}/enumeration/households/{household.pk}/")
    check_page(desktop, phone=False)
    assert desktop.locator(f"[data-blocker='finding:{finding.pk}']").count() == 1
    assert desktop.locator("[data-action=accept]").count() == 0


def test_the_supervisor_reads_completeness_on_a_phone(live_server, phone: Page, cast: Cast) -> None:  # type: ignore[no-untyped-def]
    building = building_create(small_area=cast.area_a1, number="B1", actor=cast.enumerator_a1)
    dwelling_unit_create(building=building, number="1", actor=cast.enumerator_a1)
    log_in(phone, live_server.url, cast.supervisor_a.username, PASSWORD)
    phone.goto(f"{live_server.url}/supervision/completeness/")
    check_page(phone, phone=True)
    assert phone.locator(f"tr[data-area='{cast.area_a1.code}']").count() == 1


def test_a_re_check_on_the_checker_s_phone_and_its_differences(live_server, phone: Page, cast: Cast) -> None:  # type: ignore[no-untyped-def]
    """The checker re-interviews a drawn household on a phone (the form's answers not shown), and the area's page
    shows the difference found and the verdict; the form cannot be accepted meanwhile."""
    from enumeration.services import household_accept
    from enumeration.services.acceptance import Blocked
    from supervision.completeness.models import RecheckArea, RecheckDraw

    household = register(cast, PASSWORD)
    household_approve(household=household, actor=cast.supervisor_a)
    draw = RecheckDraw.objects.create(district_id=cast.township_a.code[:6], seed=5, drawn_by=cast.district_office)
    area = RecheckArea.objects.create(
        draw=draw, small_area=cast.area_a1, checker=cast.enumerator_a2, household_ids=[household.pk]
    )
    log_in(phone, live_server.url, cast.enumerator_a2.username, PASSWORD)
    phone.goto(f"{live_server.url}/supervision/completeness/recheck/mine/")
    check_page(phone, phone=True)
    phone.click(f"[data-recheck-area='{cast.area_a1.code}'] a")
    phone.click(f"[data-recheck-household='{household.household_no}'] a")
    check_page(phone, phone=True)
    assert "李芳" not in phone.content()
    people = [("王伟", "1", "1980", "5", "0"), ("李芳", "2", "1982", "4", "1"), ("王小明", "1", "2010", "9", "2")]
    for index, (name, sex, year, month, relationship) in enumerate(people):
        phone.fill(f"input[name='p-{index}-name']", name)
        phone.select_option(f"select[name='p-{index}-sex']", sex)
        phone.fill(f"input[name='p-{index}-birth_year']", year)
        phone.fill(f"input[name='p-{index}-birth_month']", month)
        phone.select_option(f"select[name='p-{index}-relationship']", relationship)
        phone.select_option(f"select[name='p-{index}-residence']", "1")
        phone.select_option(f"select[name='p-{index}-hukou_place']", "1")
    phone.click("[data-action=recheck-save]")
    phone.wait_for_selector("tr[data-difference='item:birth']")
    check_page(phone, phone=True)
    assert phone.locator("[data-verdict='failed']").count() == 1  # 1 of 15 items: 67‰ over 4‰
    with pytest.raises(Blocked):
        household_accept(household=household, actor=cast.township_office_a)
    assert RecheckArea.objects.get(pk=area.pk).items_in_error == 1
