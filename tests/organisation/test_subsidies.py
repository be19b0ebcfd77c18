"""两员 subsidies: computed from accepted work at the district's rates, paid, never withheld or left unpaid."""

from __future__ import annotations

import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from census.jobs import job_run
from census.models import AuditAction, AuditEvent, Job, JobStatus, StaffMember
from enumeration.models import HouseholdState
from supervision.organisation import selectors
from supervision.organisation.models import SubsidyDue, SubsidyPhase, SubsidyRate
from supervision.organisation.services import (
    subsidy_flag_overdue,
    subsidy_households_by_staff,
    subsidy_payment_record,
    subsidy_rates_for,
    subsidy_rates_update,
    subsidy_reduce,
    subsidy_settle,
    subsidy_sheet_export_start,
)
from supervision.organisation.tasks import flag_unpaid_subsidies
from tests.conftest import Cast
from tests.organisation.conftest import Departments
from tests.organisation.factories import listed_household, signed_household

pytestmark = pytest.mark.django_db

LISTING_DUE = datetime.date(2020, 10, 31)
REGISTRATION_DUE = datetime.date(2020, 12, 31)


@pytest.fixture
def work(cast: Cast) -> None:
    """Enumerator a1: 4 households listed, 3 accepted (1 sampled), 1 only signed. Enumerator a2: 2 accepted
    (1 locked). Enumerator b1: 1 accepted. Supervisor a oversees a1 and a2; supervisor b oversees b1."""
    a1, a2, b1 = cast.enumerator_a1, cast.enumerator_a2, cast.enumerator_b1
    signed_household(small_area=cast.area_a1, household_no=1, registrar=a1, long_form=True)
    signed_household(small_area=cast.area_a1, household_no=2, registrar=a1)
    signed_household(small_area=cast.area_a1, household_no=3, registrar=a1)
    signed_household(small_area=cast.area_a1, household_no=4, registrar=a1, state=HouseholdState.SIGNED)
    signed_household(small_area=cast.area_a2, household_no=1, registrar=a2)
    signed_household(small_area=cast.area_a2, household_no=2, registrar=a2, state=HouseholdState.LOCKED)
    signed_household(small_area=cast.area_b1, household_no=1, registrar=b1)
    listed_household(small_area=cast.area_b1, household_no=2, listed_by=b1, aware=True)


def settle_all(actor) -> None:  # type: ignore[no-untyped-def]
    subsidy_settle(district_id="511504", phase=SubsidyPhase.LISTING, due_on=LISTING_DUE, actor=actor)
    for phase in (SubsidyPhase.SHORT_FORM, SubsidyPhase.LONG_FORM, SubsidyPhase.SUPERVISION):
        subsidy_settle(district_id="511504", phase=phase, due_on=REGISTRATION_DUE, actor=actor)


def due_of(staff, phase: str) -> SubsidyDue:  # type: ignore[no-untyped-def]
    return SubsidyDue.objects.get(staff=staff, phase=phase)


class TestComputing:
    def test_households_are_counted_by_the_rules_of_each_phase(self, cast: Cast, work: None) -> None:
        a1, a2, b1 = cast.enumerator_a1.pk, cast.enumerator_a2.pk, cast.enumerator_b1.pk
        assert subsidy_households_by_staff(district_id="511504", phase="listing") == {a1: 4, a2: 2, b1: 2}
        assert subsidy_households_by_staff(district_id="511504", phase="short_form") == {a1: 3, a2: 2, b1: 1}
        assert subsidy_households_by_staff(district_id="511504", phase="long_form") == {a1: 1}
        assert subsidy_households_by_staff(district_id="511504", phase="supervision") == {
            cast.supervisor_a.pk: 5,
            cast.supervisor_b.pk: 1,
        }

    def test_amounts_are_households_times_the_default_rates(self, cast: Cast, work: None) -> None:
        settle_all(cast.district_office)
        assert due_of(cast.enumerator_a1, "listing").computed_amount == Decimal("32.00")  # 4 × 8
        assert due_of(cast.enumerator_a1, "short_form").computed_amount == Decimal("30.00")  # 3 × 10
        assert due_of(cast.enumerator_a1, "long_form").computed_amount == Decimal("20.00")  # 1 × 20
        assert due_of(cast.supervisor_a, "supervision").computed_amount == Decimal("10.00")  # 5 × 2
        assert due_of(cast.enumerator_b1, "short_form").township_id == "511504102"
        assert due_of(cast.enumerator_a1, "listing").due_on == LISTING_DUE

    def test_each_district_sets_its_own_rates(self, cast: Cast, work: None, other_district_office) -> None:  # type: ignore[no-untyped-def]
        subsidy_rates_update(
            district_id="511504",
            listing=Decimal("9.50"),
            short_form=Decimal("12"),
            long_form=Decimal("25"),
            supervision=Decimal("3"),
            actor=cast.district_office,
        )
        assert subsidy_rates_for(district_id="511502").listing == Decimal("8.00")
        subsidy_settle(district_id="511504", phase="listing", due_on=LISTING_DUE, actor=cast.district_office)
        assert due_of(cast.enumerator_a1, "listing").computed_amount == Decimal("38.00")
        with pytest.raises(ValidationError):
            subsidy_rates_update(
                district_id="511504",
                listing=Decimal("-1"),
                short_form=Decimal("12"),
                long_form=Decimal("25"),
                supervision=Decimal("3"),
                actor=cast.district_office,
            )

    def test_settling_again_adds_new_work_and_never_lowers_an_amount(self, cast: Cast, work: None) -> None:
        settle_all(cast.district_office)
        again = subsidy_settle(district_id="511504", phase="short_form", due_on=REGISTRATION_DUE, actor=None)
        assert (again.created, again.raised, again.unchanged) == (0, 0, 3)
        signed_household(small_area=cast.area_a1, household_no=9, registrar=cast.enumerator_a1)
        raised = subsidy_settle(district_id="511504", phase="short_form", due_on=REGISTRATION_DUE, actor=None)
        assert raised.raised == 1 and due_of(cast.enumerator_a1, "short_form").computed_amount == Decimal("40.00")
        # A household sent back for re-registration lowers the count; the recorded amount stands (不得克扣).
        from enumeration.models import Household

        Household.objects.filter(small_area=cast.area_a2, household_no=1).update(state=HouseholdState.RETURNED)
        lowered = subsidy_settle(district_id="511504", phase="short_form", due_on=REGISTRATION_DUE, actor=None)
        assert lowered.lower_kept == 1 and due_of(cast.enumerator_a2, "short_form").computed_amount == Decimal("20.00")


class TestPaying:
    @pytest.fixture
    def due(self, cast: Cast, work: None) -> SubsidyDue:
        settle_all(cast.district_office)
        return due_of(cast.enumerator_a1, "listing")

    def test_payments_add_up_and_cannot_exceed_what_is_outstanding(self, cast: Cast, due: SubsidyDue) -> None:
        subsidy_payment_record(
            due=due,
            amount=Decimal("20"),
            paid_on=datetime.date(2020, 11, 10),
            reference="甲-001",
            actor=cast.township_office_a,
        )
        due.refresh_from_db()
        assert (due.amount_paid, due.outstanding) == (Decimal("20.00"), Decimal("12.00"))
        with pytest.raises(ValidationError, match=r"Only 12\.00 yuan"):
            subsidy_payment_record(
                due=due,
                amount=Decimal("12.01"),
                paid_on=datetime.date(2020, 11, 11),
                reference="甲-002",
                actor=cast.district_office,
            )
        assert due.payments.count() == 1

    def test_a_township_records_only_its_own_payments_and_never_in_the_future(
        self, cast: Cast, due: SubsidyDue
    ) -> None:
        with pytest.raises(ValidationError, match="payments it made itself"):
            subsidy_payment_record(
                due=due,
                amount=Decimal("1"),
                paid_on=datetime.date(2020, 11, 10),
                reference="x",
                actor=cast.township_office_b,
                township=cast.township_b,
            )
        with pytest.raises(ValidationError):
            subsidy_payment_record(
                due=due,
                amount=Decimal("1"),
                paid_on=timezone.localdate() + datetime.timedelta(days=3),
                reference="x",
                actor=cast.district_office,
            )

    def test_the_database_refuses_paying_more_than_is_due(self, due: SubsidyDue) -> None:
        with pytest.raises(IntegrityError), transaction.atomic():
            SubsidyDue.objects.filter(pk=due.pk).update(amount_paid=Decimal("32.01"))

    def test_the_database_refuses_an_amount_that_is_not_households_times_rate(self, due: SubsidyDue) -> None:
        with pytest.raises(IntegrityError), transaction.atomic():
            SubsidyDue.objects.filter(pk=due.pk).update(computed_amount=Decimal("30.00"))


class TestReductions:
    @pytest.fixture
    def due(self, cast: Cast, work: None) -> SubsidyDue:
        settle_all(cast.district_office)
        return due_of(cast.enumerator_a1, "short_form")

    def test_a_reduction_needs_a_reason_and_another_district_officer(
        self, cast: Cast, depts: Departments, due: SubsidyDue
    ) -> None:
        for reason, approver, field in [
            ("", depts.approver, "reason"),
            ("复查退回重登", None, "approver"),
            ("复查退回重登", cast.township_office_a, "approver"),
            ("复查退回重登", cast.district_office, "approver"),  # the recorder cannot approve their own reduction
        ]:
            with pytest.raises(ValidationError) as caught:
                subsidy_reduce(
                    due=due,
                    reduction_amount=Decimal("10"),
                    reason=reason,
                    approver=approver,
                    actor=cast.district_office,
                )
            assert field in caught.value.message_dict
        subsidy_reduce(
            due=due,
            reduction_amount=Decimal("10"),
            reason="1户经复查退回重登",
            approver=depts.approver,
            actor=cast.district_office,
        )
        due.refresh_from_db()
        assert (due.amount_due, due.reduction_approved_by) == (Decimal("20.00"), depts.approver)
        event = AuditEvent.objects.get(object_type="organisation.subsidy_reduction")
        assert event.detail["approver"] == "district2" and event.detail["after"]["reduction"] == "10"

    def test_a_reduction_cannot_take_back_what_was_paid(self, cast: Cast, depts: Departments, due: SubsidyDue) -> None:
        subsidy_payment_record(
            due=due,
            amount=Decimal("25"),
            paid_on=datetime.date(2021, 1, 5),
            reference="甲-100",
            actor=cast.district_office,
        )
        with pytest.raises(ValidationError, match=r"5\.00 yuan"):
            subsidy_reduce(
                due=due,
                reduction_amount=Decimal("6"),
                reason="复查退回重登",
                approver=depts.approver,
                actor=cast.district_office,
            )

    def test_the_database_refuses_a_reduction_without_reason_or_approver(self, due: SubsidyDue) -> None:
        with pytest.raises(IntegrityError), transaction.atomic():
            SubsidyDue.objects.filter(pk=due.pk).update(reduction_amount=Decimal("5"))


class TestArrears:
    def test_what_is_unpaid_30_days_after_it_fell_due_is_flagged_once(self, cast: Cast, work: None) -> None:
        settle_all(cast.district_office)
        paid = due_of(cast.enumerator_a2, "listing")
        subsidy_payment_record(
            due=paid,
            amount=paid.outstanding,
            paid_on=datetime.date(2020, 11, 5),
            reference="甲-9",
            actor=cast.district_office,
        )
        # 30 days after 31 October is 30 November: not yet.
        assert subsidy_flag_overdue(on=datetime.date(2020, 11, 30)) == 0
        flagged = subsidy_flag_overdue(on=datetime.date(2020, 12, 1))
        assert flagged == 2  # the listing of a1 and b1; a2 was paid
        assert subsidy_flag_overdue(on=datetime.date(2020, 12, 2)) == 0
        assert set(SubsidyDue.objects.flagged().values_list("staff__username", flat=True)) == {"enum_a1", "enum_b1"}
        assert AuditEvent.objects.filter(object_type="organisation.subsidy_arrears").count() == 1
        assert {
            d.staff.username
            for d in selectors.subsidy_overdue(cast.township_office_b, today=datetime.date(2020, 12, 1))
        } == {"enum_b1"}

    def test_the_beat_task_runs_the_service(self, cast: Cast, work: None) -> None:
        settle_all(cast.district_office)
        assert flag_unpaid_subsidies() > 0  # every due of 2020 is long past
        assert flag_unpaid_subsidies() == 0


class TestPaymentSheet:
    def test_the_township_sheet_is_built_in_the_background_and_holds_that_township_only(
        self, cast: Cast, work: None
    ) -> None:
        settle_all(cast.district_office)
        job = subsidy_sheet_export_start(township=cast.township_a, actor=cast.township_office_a)
        assert AuditEvent.objects.filter(action=AuditAction.EXPORT, object_type="organisation.subsidy_sheet").exists()
        job_run(job.pk)
        job.refresh_from_db()
        assert job.status == JobStatus.DONE, job.error
        sheet = openpyxl.load_workbook(io.BytesIO(job.file.read())).active
        usernames = {row[2] for row in sheet.iter_rows(min_row=4, values_only=True) if row[2]}
        assert usernames == {"enum_a1", "enum_a2", "sup_a"}
        assert job.result["people"] == 3 and job.result["due"] == 32 + 30 + 20 + 16 + 20 + 10

    def test_a_formula_in_a_name_arrives_as_text_and_the_amounts_stay_numbers(self, cast: Cast, work: None) -> None:
        # A name or credential number typed as a formula (OWASP's CSV-injection payloads) must reach the sheet
        # as text; the amounts are numbers and stay numbers.
        StaffMember.objects.filter(pk=cast.enumerator_a1.pk).update(
            first_name="", last_name='=HYPERLINK("http://evil.example/","x")', credential_no="@SUM(1+1)"
        )
        StaffMember.objects.filter(pk=cast.enumerator_a2.pk).update(first_name="", last_name="-2+3+cmd|' /C calc'!A0")
        settle_all(cast.district_office)
        job = subsidy_sheet_export_start(township=cast.township_a, actor=cast.township_office_a)
        job_run(job.pk)
        job.refresh_from_db()
        assert job.status == JobStatus.DONE, job.error
        sheet = openpyxl.load_workbook(io.BytesIO(job.file.read())).active
        assert [cell.coordinate for row in sheet.iter_rows() for cell in row if cell.data_type == "f"] == []
        by_username = {row[2]: row for row in sheet.iter_rows(min_row=4, values_only=True) if row[2]}
        assert by_username["enum_a1"][1] == '\'=HYPERLINK("http://evil.example/","x")'
        assert by_username["enum_a1"][4] == "'@SUM(1+1)"
        assert by_username["enum_a2"][1] == "'-2+3+cmd|' /C calc'!A0"
        due_column = len(by_username["enum_a1"]) - 4
        assert isinstance(by_username["enum_a1"][due_column], int | float) and by_username["enum_a1"][due_column] > 0

    def test_a_township_office_cannot_start_another_townships_sheet(self, cast: Cast, work: None, login) -> None:  # type: ignore[no-untyped-def]
        response = login(cast.township_office_a).post(reverse("supervision:subsidy-export"), {"township": "511504102"})
        assert response.status_code == 302 and not Job.objects.exists()


class TestPages:
    def test_the_list_with_its_chart_and_arrears_in_few_queries(
        self, cast: Cast, work: None, login, django_assert_max_num_queries
    ) -> None:  # type: ignore[no-untyped-def]
        settle_all(cast.district_office)
        client = login(cast.district_office)
        with django_assert_max_num_queries(16):
            response = client.get(reverse("supervision:subsidies") + "?phase=listing&state=overdue")
        assert response.status_code == 200
        assert {d.staff.username for d in response.context["listing"].page} == {"enum_a1", "enum_a2", "enum_b1"}
        assert 'data-chart="subsidy-chart"' in response.content.decode()

    def test_a_township_office_sees_its_own_people_and_gets_404_for_others(self, cast: Cast, work: None, login) -> None:  # type: ignore[no-untyped-def]
        settle_all(cast.district_office)
        client = login(cast.township_office_a)
        listed = {d.township_id for d in client.get(reverse("supervision:subsidies")).context["listing"].page}
        assert listed == {"511504101"}
        other = due_of(cast.enumerator_b1, "listing")
        assert client.get(reverse("supervision:subsidy-detail", args=[other.pk])).status_code == 404
        assert client.post(reverse("supervision:subsidy-pay", args=[other.pk]), {}).status_code == 404

    def test_paying_and_a_refused_reduction_through_the_pages(
        self, cast: Cast, depts: Departments, work: None, login
    ) -> None:  # type: ignore[no-untyped-def]
        settle_all(cast.district_office)
        due = due_of(cast.enumerator_a1, "listing")
        client = login(cast.township_office_a)
        response = client.post(
            reverse("supervision:subsidy-pay", args=[due.pk]),
            {"amount": "32.00", "paid_on": "2020-11-20", "reference": "甲镇-2020-11-001"},
        )
        assert response.status_code == 302
        due.refresh_from_db()
        assert due.outstanding == 0
        refused = client.post(
            reverse("supervision:subsidy-reduce", args=[due.pk]),
            {"reduction_amount": "5", "reason": "", "approver": depts.approver.pk},
        )
        assert refused.status_code == 400
        due.refresh_from_db()
        assert due.reduction_amount == 0

    def test_only_the_district_edits_the_rates(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        data = {"listing": "9", "short_form": "11", "long_form": "21", "supervision": "2.5"}
        assert login(cast.township_office_a).post(reverse("supervision:subsidy-rates"), data).status_code == 403
        assert login(cast.district_office).post(reverse("supervision:subsidy-rates"), data).status_code == 302
        assert SubsidyRate.objects.get(district_id="511504").supervision == Decimal("2.50")

    def test_the_api_shows_a_field_worker_their_own_subsidies_only(self, cast: Cast, work: None) -> None:
        settle_all(cast.district_office)
        api = APIClient()
        api.force_authenticate(cast.enumerator_a1)
        rows = api.get(reverse("api-organisation-subsidies")).json()["results"]
        assert {row["staff_username"] for row in rows} == {"enum_a1"} and len(rows) == 3
