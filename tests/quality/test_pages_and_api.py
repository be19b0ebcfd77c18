"""Pages and API of the quality part, for the people who use them."""

from __future__ import annotations

from typing import Any

import pytest
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import timezone

from supervision.quality.models import CheckRun, Finding
from tests.census.factories import PASSWORD
from tests.conftest import Cast
from tests.quality.factories import run, sign_family, tamper

pytestmark = pytest.mark.django_db


@pytest.fixture
def finding(cast: Cast) -> Finding:
    """An open finding on enumerator A1's signed household (the son's D5 no longer matches his number)."""
    household = sign_family(cast.area_a1, cast.enumerator_a1)
    tamper("UPDATE enumeration_person SET d5_birth_month = 8 WHERE household_id = %s AND row_no = 3", [household.pk])
    run()
    return Finding.objects.get(rule="ID_BIRTH_MISMATCH")


def test_the_start_page_partial_shows_the_enumerator_s_open_findings_first(cast: Cast, finding: Finding) -> None:
    request = RequestFactory().get("/")
    request.user = cast.enumerator_a1
    html = render_to_string("quality/partials/my_findings_summary.html", {"request": request})
    link = f"/supervision/quality/findings/{finding.pk}/"
    assert 'id="my-findings-summary"' in html and link in html
    request.user = cast.enumerator_a2
    assert link not in render_to_string("quality/partials/my_findings_summary.html", {"request": request})
    request.user = cast.district_office
    assert render_to_string("quality/partials/my_findings_summary.html", {"request": request}).strip() == ""


def test_the_enumerator_s_start_page_includes_it(cast: Cast, finding: Finding, login: Any) -> None:
    page = login(cast.enumerator_a1).get("/enumeration/my-areas/")
    assert page.status_code == 200 and f"/supervision/quality/findings/{finding.pk}/" in page.content.decode()


def test_my_findings_then_explain_then_verify_in_pages(
    cast: Cast, finding: Finding, login: Any, django_assert_max_num_queries: Any
) -> None:
    client = login(cast.enumerator_a1)
    with django_assert_max_num_queries(20):
        page = client.get("/supervision/quality/mine/")
    assert page.status_code == 200 and f"/supervision/quality/findings/{finding.pk}/" in page.content.decode()
    detail = client.get(f"/supervision/quality/findings/{finding.pk}/")
    assert 'id="explain-form"' in detail.content.decode()
    wrong = client.post(
        f"/supervision/quality/findings/{finding.pk}/explain/", {"explanation": "已核实无误", "password": "nope"}
    )
    assert wrong.status_code == 200 and Finding.objects.get(pk=finding.pk).state == "open"
    done = client.post(
        f"/supervision/quality/findings/{finding.pk}/explain/", {"explanation": "已入户核实无误", "password": PASSWORD}
    )
    assert done.status_code == 302 and Finding.objects.get(pk=finding.pk).state == "explained"
    # Another enumerator of the same township cannot even see it.
    assert login(cast.enumerator_b1).get(f"/supervision/quality/findings/{finding.pk}/").status_code == 404
    supervisor = login(cast.supervisor_a)
    assert (
        f"/supervision/quality/findings/{finding.pk}/"
        in supervisor.get("/supervision/quality/mine/?show=verify").content.decode()
    )
    rejected = supervisor.post(f"/supervision/quality/findings/{finding.pk}/reject/", {"reason": "请再核对户口簿"})
    assert rejected.status_code == 302 and Finding.objects.get(pk=finding.pk).state == "open"


def test_the_detail_page_says_which_run_found_it_still_there(cast: Cast, finding: Finding, login: Any) -> None:
    later = run()
    page = login(cast.enumerator_a1).get(f"/supervision/quality/findings/{finding.pk}/").content.decode()
    checked = timezone.localtime(later.finished_at).strftime("%Y-%m-%d %H:%M")
    assert f'id="finding-last-checked">{checked} 的检查仍发现此问题' in page


def test_offices_list_findings_and_start_runs(
    cast: Cast,
    finding: Finding,
    login: Any,
    django_assert_max_num_queries: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    office = login(cast.township_office_a)
    with django_assert_max_num_queries(20):
        listing = office.get("/supervision/quality/findings/?state=unresolved")
    assert listing.status_code == 200 and f"/supervision/quality/findings/{finding.pk}/" in listing.content.decode()
    with django_capture_on_commit_callbacks():
        started = office.post("/supervision/quality/runs/", {"mode": "incremental"})
    assert started.status_code == 302
    new = CheckRun.objects.order_by("-pk").first()
    assert new is not None and new.township_id == cast.township_a.code and new.started_by == cast.township_office_a
    live = office.get(f"/supervision/quality/runs/{new.pk}/", HTTP_HX_REQUEST="true")
    assert live.status_code == 200 and "hx-trigger" in live.content.decode()
    assert (
        f"/supervision/quality/findings/{finding.pk}/"
        not in login(cast.township_office_b).get("/supervision/quality/findings/").content.decode()
    )
    assert login(cast.enumerator_a1).get("/supervision/quality/runs/").status_code == 403
    roster = login(cast.township_office_a).get("/supervision/quality/roster/?level=village")
    assert roster.status_code == 200 and "roster-import" not in roster.content.decode()


def test_names_and_numbers_in_evidence_are_masked_for_offices(cast: Cast, login: Any) -> None:
    household = sign_family(cast.area_a1, cast.enumerator_a1)
    tamper("UPDATE enumeration_person SET d3_id_number = '' WHERE household_id = %s AND row_no = 2", [household.pk])
    sign_family(cast.area_b1, cast.enumerator_b1, head="李强")
    run()
    near = Finding.objects.filter(rule="NEAR_DUPLICATE_PERSON").first()
    assert near is not None and near.evidence["name"] == "李芳"
    office_page = login(cast.district_office).get(f"/supervision/quality/findings/{near.pk}/").content.decode()
    assert "李*" in office_page and "李芳" not in office_page
    own = login(near.responsible).get(f"/supervision/quality/findings/{near.pk}/").content.decode()
    assert "李芳" in own


def test_the_api(cast: Cast, finding: Finding, login: Any, django_capture_on_commit_callbacks: Any) -> None:
    client = login(cast.enumerator_a1)
    listed = client.get("/api/quality/findings/?mine=1")
    assert listed.status_code == 200
    body = listed.json()
    items = body["results"] if isinstance(body, dict) else body
    assert [item["record_key"] for item in items if item["rule"] == "ID_BIRTH_MISMATCH"] == [finding.record_key]
    explained = client.post(
        f"/api/quality/findings/{finding.pk}/explain/",
        {"explanation": "已入户核实无误", "password": PASSWORD},
        content_type="application/json",
    )
    assert explained.status_code == 200 and explained.json()["state"] == "explained"
    verified = login(cast.supervisor_a).post(f"/api/quality/findings/{finding.pk}/verify/")
    assert verified.status_code == 200 and verified.json()["state"] == "verified"
    again = login(cast.supervisor_a).post(f"/api/quality/findings/{finding.pk}/verify/")
    assert again.status_code == 409
    office = login(cast.district_office)
    with django_capture_on_commit_callbacks():
        created = office.post("/api/quality/runs/", {"mode": "full"}, content_type="application/json")
    assert created.status_code == 201 and created.json()["parts_total"] == 9  # 2 townships, 2 + 5 sections
    roster = office.get("/api/quality/roster/?level=township")
    assert roster.status_code == 200
