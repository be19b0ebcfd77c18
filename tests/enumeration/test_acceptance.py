"""Acceptance that listens to the checks (issue 23, deliver 2): a form with an open hard finding, or whose signature
no longer verifies, is refused at approve, accept and lock — on the page and in the API, which say what blocks it —;
the district office's override (written reason, password) lets it through and shows on the reports; the bulk
actions and the district's bulk lock skip the blocked forms and list them."""

from __future__ import annotations

import zipfile

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from rest_framework.test import APIClient

from census.api import ApplicationError
from census.jobs import job_run, job_start
from census.models import AuditEvent, Job, JobStatus, StaffMember
from enumeration.jobs import BULK_LOCK
from enumeration.models import AcceptanceOverride, Household, HouseholdState
from enumeration.services import (
    household_accept,
    household_approve,
    household_lock,
    household_override,
    households_accept,
    households_approve,
    households_lock,
)
from enumeration.services.acceptance import BLOCKED_CODE, Blocked, outstanding_blockers
from supervision.progress.summaries.compute import build_summary
from supervision.progress.summaries.writers import write_csv_zip, write_xlsx
from supervision.quality.models import Finding, FindingState
from tests.conftest import Cast
from tests.enumeration.test_services_registration import register

pytestmark = pytest.mark.django_db
S = HouseholdState


def hard_finding(household: Household, *, state: str = FindingState.OPEN, rule: str = "ID_CHECKSUM") -> Finding:
    """A finding as the nightly run writes it (supervision/quality/checks/runner.py): ID_CHECKSUM is a hard rule
    of the catalogue (强制性)."""
    now = timezone.now()
    return Finding.objects.create(
        rule=rule,
        rule_group="A",
        severity="hard",
        acts="registrar",
        key=f"h{household.pk}:1:D3",
        record_key=f"{household.small_area.code}{household.household_no:03d}#1",
        state=state,
        household=household,
        row_no=1,
        item="D3",
        small_area=household.small_area,
        village=household.village,
        township=household.township,
        responsible=household.registrar,
        evidence={},
        first_seen_at=now,
        last_seen_at=now,
    )


def tamper_name(household: Household) -> None:
    """Change a signed form's row behind the application's back: its signature no longer verifies."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE enumeration_person SET d1_name = '篡改' WHERE household_id = %s", [household.pk])


def api_as(user: StaffMember) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def transition(user: StaffMember, household: Household, action: str, **extra: str):  # type: ignore[no-untyped-def]
    return api_as(user).post(
        reverse("api-household-transition", args=[household.pk]), {"action": action, **extra}, format="json"
    )


def state_of(household: Household) -> str:
    return Household.objects.get(pk=household.pk).state


def to_state(cast: Cast, household: Household, state: str) -> None:
    """Move a clean form on through the real services."""
    if state in (S.APPROVED, S.ACCEPTED, S.LOCKED):
        household_approve(household=household, actor=cast.supervisor_a)
    if state in (S.ACCEPTED, S.LOCKED):
        household_accept(household=household, actor=cast.township_office_a)
    if state == S.LOCKED:
        household_lock(household=household, actor=cast.district_office)


class TestRefusedAtEachStep:
    def test_an_open_hard_finding_blocks_approve_accept_and_lock_in_the_services(
        self, cast: Cast, password: str
    ) -> None:
        for state, act, actor in (
            (S.SIGNED, household_approve, cast.supervisor_a),
            (S.APPROVED, household_accept, cast.township_office_a),
            (S.ACCEPTED, household_lock, cast.district_office),
        ):
            household = register(cast, password)
            to_state(cast, household, state)
            finding = hard_finding(household)
            with pytest.raises(Blocked) as refused:
                act(household=household, actor=actor)
            assert refused.value.code == BLOCKED_CODE
            assert [b["finding"] for b in refused.value.extra["blockers"]] == [finding.pk]
            assert state_of(household) == state

    def test_a_finding_no_longer_open_does_not_block(self, cast: Cast, password: str) -> None:
        household = register(cast, password)
        hard_finding(household, state=FindingState.CLOSED)
        household_approve(household=household, actor=cast.supervisor_a)
        assert state_of(household) == S.APPROVED

    def test_a_warning_finding_does_not_block(self, cast: Cast, password: str) -> None:
        household = register(cast, password)
        finding = hard_finding(household, rule="ROOMS_HIGH")
        Finding.objects.filter(pk=finding.pk).update(severity="warning", rule_group="B")
        household_approve(household=household, actor=cast.supervisor_a)
        assert state_of(household) == S.APPROVED

    def test_a_signature_that_fails_verification_blocks_even_before_any_check_run(
        self, cast: Cast, password: str
    ) -> None:
        household = register(cast, password)
        to_state(cast, household, S.APPROVED)
        tamper_name(household)
        assert not Finding.objects.exists()  # no nightly run has seen it: the check is made at the action
        with pytest.raises(Blocked) as refused:
            household_accept(household=household, actor=cast.township_office_a)
        assert [b["rule"] for b in refused.value.extra["blockers"]] == ["content"]
        assert state_of(household) == S.APPROVED

    def test_a_forged_state_change_blocks_the_lock(self, cast: Cast, password: str) -> None:
        household = register(cast, password)
        to_state(cast, household, S.APPROVED)
        # Accepted by a direct edit, without the sealed state change the service writes.
        Household.objects.filter(pk=household.pk).update(state=S.ACCEPTED)
        with pytest.raises(Blocked) as refused:
            household_lock(household=household, actor=cast.district_office)
        assert "state" in {b["rule"] for b in refused.value.extra["blockers"]}


class TestPagesAndApi:
    def test_the_page_lists_the_blockers_offers_no_approve_and_refuses_the_post(
        self, cast: Cast, login, password: str
    ) -> None:  # type: ignore[no-untyped-def]
        household = register(cast, password)
        finding = hard_finding(household)
        client = login(cast.supervisor_a)
        page = client.get(reverse("enumeration:household-detail", args=[household.pk]))
        html = page.content.decode()
        assert page.context["actions"].blocked and not page.context["actions"].approve
        assert 'data-action="approve"' not in html
        assert f'data-blocker="finding:{finding.pk}"' in html
        assert "公民身份号码校验码错误" in html  # the rule's own message, in Chinese
        refused = client.post(reverse("enumeration:household-approve", args=[household.pk]), follow=True)
        said = [str(message) for message in refused.context["messages"]]
        assert len(said) == 1 and "公民身份号码校验码错误" in said[0]
        assert state_of(household) == S.SIGNED

    @pytest.mark.parametrize(
        ("state", "url", "role"),
        [
            (S.SIGNED, "enumeration:household-approve", "supervisor_a"),
            (S.APPROVED, "enumeration:household-accept", "township_office_a"),
            (S.ACCEPTED, "enumeration:household-lock", "district_office"),
        ],
    )
    def test_each_page_action_is_refused_for_a_broken_signature(
        self, cast: Cast, login, password: str, state: str, url: str, role: str
    ) -> None:  # type: ignore[no-untyped-def]
        household = register(cast, password)
        to_state(cast, household, state)
        tamper_name(household)
        client = login(getattr(cast, role))
        response = client.post(reverse(url, args=[household.pk]), follow=True)
        assert response.status_code == 200
        assert [m.level_tag for m in response.context["messages"]] == ["error"]
        assert response.context["blockers"][0].rule == "content"
        assert 'data-blocker="signature:content:' in response.content.decode()
        assert state_of(household) == state

    @pytest.mark.parametrize(
        ("state", "action", "role"),
        [
            (S.SIGNED, "approve", "supervisor_a"),
            (S.APPROVED, "accept", "township_office_a"),
            (S.ACCEPTED, "lock", "district_office"),
        ],
    )
    def test_each_api_action_is_refused_with_the_blockers(
        self, cast: Cast, password: str, state: str, action: str, role: str
    ) -> None:
        household = register(cast, password)
        to_state(cast, household, state)
        finding = hard_finding(household)
        tamper_name(household)
        response = transition(getattr(cast, role), household, action)
        assert response.status_code == 409
        body = response.json()
        assert body["code"] == BLOCKED_CODE
        assert {(b["kind"], b["rule"], b["finding"]) for b in body["blockers"]} == {
            ("finding", "ID_CHECKSUM", finding.pk),
            ("signature", "content", None),
        }
        assert state_of(household) == state


class TestOverride:
    def test_only_the_district_office_with_a_reason_and_its_password(self, cast: Cast, password: str) -> None:
        household = register(cast, password)
        hard_finding(household)
        with pytest.raises(ApplicationError) as township:
            household_override(
                household=household, actor=cast.township_office_a, reason="经核实身份证号码无误", password=password
            )
        assert township.value.code == "not_district_office"
        with pytest.raises(ApplicationError) as wrong:
            household_override(
                household=household, actor=cast.district_office, reason="经核实身份证号码无误", password="nope"
            )
        assert wrong.value.code == "bad_password"
        from django.core.exceptions import ValidationError

        with pytest.raises(ValidationError):
            household_override(household=household, actor=cast.district_office, reason="无误", password=password)
        assert not AcceptanceOverride.objects.exists()

    def test_an_override_lets_the_form_through_and_a_later_blocker_blocks_again(
        self, cast: Cast, password: str
    ) -> None:
        household = register(cast, password)
        first = hard_finding(household)
        override = household_override(
            household=household,
            actor=cast.district_office,
            reason="户籍系统核实：号码为旧证号码，本人无新证",
            password=password,
        )
        assert override.covered_keys() == {f"finding:{first.pk}"}
        assert AuditEvent.objects.filter(object_type="household", object_id=str(household.pk)).exists()
        household_approve(household=household, actor=cast.supervisor_a)
        tamper_name(household)  # a new blocker, not covered by the override
        with pytest.raises(Blocked) as refused:
            household_accept(household=household, actor=cast.township_office_a)
        assert [b["rule"] for b in refused.value.extra["blockers"]] == ["content"]
        household_override(
            household=household, actor=cast.district_office, reason="登记人更正了姓名的书写，已核实", password=password
        )
        household_accept(household=household, actor=cast.township_office_a)
        assert state_of(household) == S.ACCEPTED
        # Nothing blocks it now: a further override is refused.
        with pytest.raises(ApplicationError) as nothing:
            household_override(
                household=household, actor=cast.district_office, reason="没有需要放行的检查项", password=password
            )
        assert nothing.value.code == "not_blocked"

    def test_the_override_through_the_page_and_the_api(self, cast: Cast, login, password: str) -> None:  # type: ignore[no-untyped-def]
        household = register(cast, password)
        hard_finding(household)
        client = login(cast.district_office)
        url = reverse("enumeration:household-override", args=[household.pk])
        page = client.get(reverse("enumeration:household-detail", args=[household.pk]))
        assert page.context["actions"].override and 'data-action="override"' in page.content.decode()
        wrong = client.post(url, {"reason": "户籍系统核实号码无误的情况", "password": "nope"})
        assert wrong.status_code == 400 and not AcceptanceOverride.objects.exists()
        ok = client.post(url, {"reason": "户籍系统核实号码无误的情况", "password": password})
        assert ok.status_code == 302
        html = client.get(reverse("enumeration:household-detail", args=[household.pk])).content.decode()
        assert "户籍系统核实号码无误的情况" in html and 'id="overrides"' in html
        assert login(cast.township_office_a).post(url, {"reason": "x" * 20, "password": password}).status_code == 403
        # The API: refused while blocked, then overridden, then approved.
        other = register(cast, password)
        hard_finding(other)
        assert transition(cast.supervisor_a, other, "approve").status_code == 409
        overridden = transition(
            cast.district_office, other, "override", reason="经乡镇核实无误的号码", password=password
        )
        assert overridden.status_code == 200
        assert transition(cast.supervisor_a, other, "approve").json()["state"] == S.APPROVED

    def test_the_override_shows_on_every_summary_table_and_its_own_sheet(
        self, cast: Cast, password: str, tmp_path
    ) -> None:  # type: ignore[no-untyped-def]
        household = register(cast, password)
        clean = register(cast, password)
        hard_finding(household)
        household_override(
            household=household, actor=cast.district_office, reason="户籍系统核实号码无误的情况", password=password
        )
        for form in (household, clean):
            to_state(cast, form, S.LOCKED)
        summary = build_summary(user=cast.district_office)
        key = f"{household.small_area.code}{household.household_no:03d}"
        assert [line.household for line in summary.overrides] == [key]
        assert all(any(key in note for note in table.notes) for table in summary.tables)
        write_xlsx(summary, tmp_path / "s.xlsx")
        book = load_workbook(tmp_path / "s.xlsx")
        sheet = book[book.sheetnames[-1]]
        rows = [list(row) for row in sheet.iter_rows(values_only=True)]
        assert [key, "户籍系统核实号码无误的情况"] == [rows[4][0], rows[4][3]]
        write_csv_zip(summary, tmp_path / "s.zip")
        with zipfile.ZipFile(tmp_path / "s.zip") as archive:
            assert "户籍系统核实号码无误的情况" in archive.read("overrides.csv").decode("utf-8-sig")
            assert key in archive.read("T01.csv").decode("utf-8-sig")
        # A form not counted (still signed) is not listed.
        assert build_summary(user=cast.township_office_b).overrides == []


class TestBulk:
    def test_bulk_approve_and_accept_skip_the_blocked_forms_and_list_them(self, cast: Cast, password: str) -> None:
        forms = [register(cast, password) for _ in range(3)]
        hard_finding(forms[0])
        approved = households_approve(households=Household.objects.all(), actor=cast.supervisor_a)
        assert approved.done == 2 and set(approved.blocked) == {forms[0].pk}
        tamper_name(forms[1])
        accepted = households_accept(households=Household.objects.all(), actor=cast.township_office_a)
        assert accepted.done == 1 and set(accepted.blocked) == {forms[1].pk}
        assert [state_of(f) for f in forms] == [S.SIGNED, S.APPROVED, S.ACCEPTED]

    def test_bulk_lock_locks_only_the_unblocked_forms(self, cast: Cast, password: str) -> None:
        forms = [register(cast, password) for _ in range(4)]
        for form in forms:
            to_state(cast, form, S.ACCEPTED)
        hard_finding(forms[1])
        tamper_name(forms[2])
        outcome = households_lock(households=Household.objects.all(), actor=cast.district_office)
        assert outcome.done == 2 and set(outcome.blocked) == {forms[1].pk, forms[2].pk}
        assert [state_of(f) for f in forms] == [S.LOCKED, S.ACCEPTED, S.ACCEPTED, S.LOCKED]
        with pytest.raises(ApplicationError):
            households_lock(households=Household.objects.all(), actor=cast.township_office_a)

    def test_the_bulk_lock_job_from_the_page_locks_the_unblocked_and_lists_the_blocked(
        self, cast: Cast, login, password: str
    ) -> None:  # type: ignore[no-untyped-def]
        forms = [register(cast, password) for _ in range(3)]
        for form in forms:
            to_state(cast, form, S.ACCEPTED)
        hard_finding(forms[0])
        client = login(cast.district_office)
        queue = client.get(reverse("enumeration:review-queue"))
        assert queue.context["lockable_count"] == 3
        page = client.get(reverse("enumeration:review-lock-all"))
        assert page.context["count"] == 3
        started = client.post(reverse("enumeration:review-lock-all"), {"state": "accepted"})
        job = Job.objects.get(kind=BULK_LOCK)
        assert started["Location"] == reverse("jobs:detail", args=[job.pk])
        job_run(job.pk)
        job.refresh_from_db()
        assert job.status == JobStatus.DONE
        key = f"{forms[0].small_area.code}{forms[0].household_no:03d}"
        assert job.result == {"locked": 2, "blocked": [key]}
        assert key in job.message
        assert [state_of(f) for f in forms] == [S.ACCEPTED, S.LOCKED, S.LOCKED]
        assert "公民身份号码校验码错误" in job.file.read().decode("utf-8-sig")
        assert login(cast.township_office_a).get(reverse("enumeration:review-lock-all")).status_code == 403

    def test_a_job_started_by_someone_who_is_no_longer_district_office_fails(self, cast: Cast, password: str) -> None:
        household = register(cast, password)
        to_state(cast, household, S.ACCEPTED)
        job = job_start(kind=BULK_LOCK, title="x", user=cast.township_office_a, params={"filters": {}})
        job_run(job.pk)
        job.refresh_from_db()
        assert job.status == JobStatus.FAILED and state_of(household) == S.ACCEPTED


def test_outstanding_blockers_reads_a_constant_number_of_queries(
    cast: Cast, password: str, django_assert_max_num_queries
) -> None:  # type: ignore[no-untyped-def]
    forms = [register(cast, password) for _ in range(6)]
    with django_assert_max_num_queries(12):
        assert outstanding_blockers([f.pk for f in forms]) == {}
