"""An enumerator reads their findings on a 360-px phone (issue 21, item 5): names, not codes; every page fits the
screen; axe-core finds nothing critical or serious; the controls are big enough for a thumb."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import Page

from census.models import StaffMember
from supervision.quality.models import Finding
from tests.browser.conftest import log_in
from tests.browser.pages import check_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_PASSWORD = "census-demo-2020"
CODE = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")


@pytest.fixture
def checked_district(tmp_path) -> StaffMember:  # type: ignore[no-untyped-def]
    call_command(
        "seed_district", persons=3000, seed=8, plant_errors=str(tmp_path / "manifest.json"), stdout=io.StringIO()
    )
    call_command("run_checks", full=True, workers=1, stdout=io.StringIO())
    # The enumerator with the most kinds of open findings: the widest evidence and the longest messages.
    best = max(
        StaffMember.objects.filter(role="enumerator"),
        key=lambda staff: Finding.objects.filter(responsible=staff).values("rule").distinct().count(),
    )
    return best


def test_an_enumerator_reads_every_finding_on_a_phone(live_server, phone: Page, checked_district: StaffMember) -> None:  # type: ignore[no-untyped-def]
    enumerator = checked_district
    log_in(phone, live_server.url, enumerator.username, DEMO_PASSWORD)
    phone.goto(f"{live_server.url}/supervision/quality/mine/?show=all")
    check_page(phone, phone=True)
    text = phone.locator("main").inner_text()
    assert not CODE.findall(text), CODE.findall(text)
    assert phone.locator("a[href='?show=verify']").count() == 0, "an enumerator verifies nothing"
    for finding in Finding.objects.filter(responsible=enumerator).order_by("rule", "pk").distinct("rule"):
        phone.goto(f"{live_server.url}/supervision/quality/findings/{finding.pk}/")
        check_page(phone, phone=True, where=f"finding {finding.pk} ({finding.rule})")
        text = phone.locator("main").inner_text()
        assert not CODE.findall(text), f"finding {finding.pk}: {CODE.findall(text)}"
