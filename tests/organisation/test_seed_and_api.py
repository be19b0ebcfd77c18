"""The demo's sample data (seed_organisation) and the API of the organisation part."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient
from stdnum.cn import uscc

from census.models import Role, StaffMember
from supervision.organisation import selectors
from supervision.organisation.models import (
    DirectoryFigure,
    DirectoryUnit,
    ItemStatus,
    RectificationItem,
    RectificationTask,
    SubsidyDue,
    SubsidyPayment,
    SubsidyRate,
    TaskStatus,
    UnitReadiness,
    UnitStatus,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded() -> None:
    call_command("seed_district", persons=900, seed=7, stdout=io.StringIO())
    call_command("seed_organisation", if_empty=True, stdout=io.StringIO())


def test_the_sample_data_covers_every_part_once(seeded: None) -> None:
    district = StaffMember.objects.get(username="district")
    # 四落实 for every township, village and department, a few of them overdue.
    assert UnitReadiness.objects.count() > 9 and UnitReadiness.objects.filter(ready_on__isnull=False).exists()
    assert selectors.readiness_overdue(district).count() >= 3
    # Rates, dues from the seeded work, payments, and some arrears flagged to the district.
    assert SubsidyRate.objects.count() == 1
    assert SubsidyDue.objects.count() > 10 and SubsidyPayment.objects.exists()
    assert SubsidyDue.objects.flagged().exists() and SubsidyDue.objects.filter(reduction_amount__gt=0).count() == 1
    # Rectification items in every state: open with overdue tasks, closed, back for re-check.
    assert RectificationItem.objects.filter(status=ItemStatus.OPEN).exists()
    assert RectificationItem.objects.filter(status=ItemStatus.CLOSED).exists()
    assert selectors.rectification_recheck_due(district).exists()
    assert RectificationTask.objects.filter(status=TaskStatus.ANSWERED).exists()
    assert RectificationTask.objects.exclude(returned_reason="").exists()
    # About 200 directory units with valid credit codes, some removed with their documents, figures with sources.
    assert 190 <= DirectoryUnit.objects.count() <= 210
    assert all(uscc.is_valid(code) for code in DirectoryUnit.objects.values_list("credit_code", flat=True))
    assert DirectoryUnit.objects.filter(status=UnitStatus.REMOVED, removal_evidence__isnull=False).count() >= 5
    assert DirectoryUnit.objects.filter(status=UnitStatus.TO_REMOVE).exists()
    assert DirectoryFigure.objects.exists()
    # Trainings with a missed quarter.
    missed = selectors.training_missed_quarters(district)
    assert any(m.department.code == "fgj" and str(m.quarter) == "2021 Q2" for m in missed)

    # Running it again with --if-empty (as the demo does) changes nothing; without, it refuses.
    before = (UnitReadiness.objects.count(), SubsidyDue.objects.count(), DirectoryUnit.objects.count())
    out = io.StringIO()
    call_command("seed_organisation", if_empty=True, stdout=out)
    assert "nothing to do" in out.getvalue()
    assert (UnitReadiness.objects.count(), SubsidyDue.objects.count(), DirectoryUnit.objects.count()) == before
    with pytest.raises(CommandError):
        call_command("seed_organisation", stdout=io.StringIO())


def test_it_needs_the_district_first() -> None:
    with pytest.raises(CommandError, match="seed_district"):
        call_command("seed_organisation", if_empty=True, stdout=io.StringIO())


def test_the_demo_runs_it(settings) -> None:  # type: ignore[no-untyped-def]
    assert "seed_organisation" in settings.CENSUS_DEMO_EXTRA_COMMANDS


def api(username: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(StaffMember.objects.get(username=username))
    return client


def test_the_api_serves_each_role_its_own_share_of_the_sample_data(seeded: None) -> None:
    # One test over the seeded district: seeding takes a while on a shared machine.
    jkj = api("department")
    tasks = jkj.get(reverse("api-organisation-rectification-tasks")).json()["results"]
    department = StaffMember.objects.get(username="department").department_id
    assert tasks and {t["department"] for t in tasks} == {department}
    units = jkj.get(reverse("api-organisation-directory")).json()
    assert units["count"] == DirectoryUnit.objects.filter(department_id=department).count()
    other = DirectoryUnit.objects.exclude(department_id=department).first()
    assert other is not None
    assert jkj.get(reverse("api-organisation-directory-unit", args=[other.pk])).status_code == 404

    rows = api("district").get(reverse("api-organisation-readiness-overdue")).json()["results"]
    assert rows and all(r["ready_on"] is None for r in rows)
    office = StaffMember.objects.get(username="township")
    township_rows = api("township").get(reverse("api-organisation-readiness")).json()["results"]
    assert {r["township"] for r in township_rows} == {office.township_id}

    assert api("enumerator").get(reverse("api-organisation-rectification-tasks")).status_code == 403
    assert api("auditor").get(reverse("api-organisation-directory")).status_code == 403
    assert StaffMember.objects.filter(role=Role.AUDITOR).exists()
