"""S3, 落实到人头，一级抓一级: one named account per unit of work, the chain above it, and overdue work climbing
that chain. Expected chains and steps are worked out by hand from the definitions: a step up on the first day
overdue, one more every ORGANISATION_ESCALATION_STEP_DAYS (7) days, never past the top."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from census.models import Role, SmallAreaAssignment, StaffMember
from supervision.organisation.models import (
    Escalation,
    EscalationKind,
    ReadinessComponent,
    RectificationTask,
    UnitKind,
    UnitReadiness,
)
from supervision.organisation.selectors.responsibility import (
    responsibility_chain,
    small_area_responsible,
    small_areas_without_one_enumerator,
)
from supervision.organisation.services import (
    readiness_ensure_units,
    rectification_item_create,
    rectification_task_create,
)
from supervision.organisation.services.responsibility import (
    escalation_level,
    office_head_set,
    readiness_item_responsible_set,
    rectification_task_responsible_set,
    work_escalate_overdue,
)
from tests.census.factories import StaffMemberFactory, TownshipOfficeFactory
from tests.conftest import Cast
from tests.organisation.conftest import Departments
from tests.quality.factories import run, sign_family, tamper

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture
def heads(cast: Cast):  # type: ignore[no-untyped-def]
    """The head of township A's office (a second township-office account) and of the district office."""
    district = cast.district_office.district
    # Names of their own: the pages are searched for them, and the factories' names repeat.
    head_a = TownshipOfficeFactory(username="head_a", township=cast.township_a, last_name="孙镇主任", first_name="")
    head_district = StaffMemberFactory(
        username="head_district", role=Role.DISTRICT_OFFICE, district=district, last_name="李区主任", first_name=""
    )
    for person, name in (
        (cast.enumerator_a1, "赵普查员"),
        (cast.supervisor_a, "钱指导员"),
        (cast.township_office_a, "周镇干部"),
    ):
        StaffMember.objects.filter(pk=person.pk).update(last_name=name, first_name="")
        person.refresh_from_db()
    office_head_set(district_id="511504", township_id="511504101", person=head_a, actor=cast.district_office)
    office_head_set(district_id="511504", township_id=None, person=head_district, actor=cast.district_office)
    return head_a, head_district


class TestSmallAreas:
    def test_an_area_without_or_with_two_enumerators_is_flagged(self, cast: Cast) -> None:
        assert list(small_areas_without_one_enumerator(user=cast.district_office)) == []
        assert small_area_responsible(cast.area_a1) == cast.enumerator_a1
        SmallAreaAssignment.objects.filter(small_area=cast.area_a2).delete()
        SmallAreaAssignment.objects.create(staff=cast.enumerator_a2, small_area=cast.area_a1)
        flagged = {a.code: a.active_staff for a in small_areas_without_one_enumerator(user=cast.district_office)}  # type: ignore[attr-defined]
        assert flagged == {cast.area_a1.code: 2, cast.area_a2.code: 0}
        assert small_area_responsible(cast.area_a1) is None and small_area_responsible(cast.area_a2) is None
        # A township office sees only its own township's.
        assert list(small_areas_without_one_enumerator(user=cast.township_office_b)) == []


class TestChains:
    def test_an_enumerators_chain_is_supervisor_then_township_head_then_district_head(self, cast: Cast, heads) -> None:  # type: ignore[no-untyped-def]
        head_a, head_district = heads
        chain = responsibility_chain(cast.enumerator_a1)
        assert [link.person for link in chain] == [cast.enumerator_a1, cast.supervisor_a, head_a, head_district]

    def test_a_level_nobody_was_named_to_shows_as_a_gap(self, cast: Cast, heads) -> None:  # type: ignore[no-untyped-def]
        _head_a, head_district = heads
        chain = responsibility_chain(cast.enumerator_b1)  # township B has no head named
        assert [link.person for link in chain] == [cast.enumerator_b1, cast.supervisor_b, None, head_district]

    def test_only_an_account_of_that_office_can_be_its_head(self, cast: Cast) -> None:
        with pytest.raises(ValidationError):
            office_head_set(
                district_id="511504", township_id="511504101", person=cast.township_office_b, actor=cast.district_office
            )
        with pytest.raises(ValidationError):
            office_head_set(
                district_id="511504",
                township_id="511504101",
                person=cast.township_office_a,
                actor=cast.township_office_a,
            )


class TestEscalation:
    def test_the_level_follows_the_days_overdue(self, settings) -> None:  # type: ignore[no-untyped-def]
        settings.ORGANISATION_ESCALATION_STEP_DAYS = 7
        # chain of 4 (person + 3 above): day 1..7 → 1, 8..14 → 2, 15+ → 3, never 4.
        assert [escalation_level(d, 4) for d in (0, 1, 7, 8, 14, 15, 60)] == [0, 1, 1, 2, 2, 3, 3]

    def test_an_overdue_readiness_item_climbs_its_chain_once_per_step(
        self, cast: Cast, depts: Departments, heads
    ) -> None:  # type: ignore[no-untyped-def]
        head_a, head_district = heads
        readiness_ensure_units(district_id="511504", actor=cast.district_office)
        unit = UnitReadiness.objects.get(unit_kind=UnitKind.TOWNSHIP, township=cast.township_a)
        funds = unit.items.get(component=ReadinessComponent.FUNDS)
        with pytest.raises(ValidationError):  # not an account of township A's office
            readiness_item_responsible_set(item=funds, person=cast.township_office_b, actor=cast.district_office)
        readiness_item_responsible_set(item=funds, person=cast.township_office_a, actor=cast.district_office)
        # Funds are due 31 July. On that day nothing; on 1 August the township head; a week later the district's.
        assert work_escalate_overdue(today=D(2020, 7, 31)) == 0
        mine = Escalation.objects.filter(kind=EscalationKind.READINESS_ITEM, object_id=funds.pk)
        work_escalate_overdue(today=D(2020, 8, 1))
        assert [(e.level, e.person) for e in mine.all()] == [(1, head_a)]
        work_escalate_overdue(today=D(2020, 8, 8))  # 8 days overdue: 1 + (8 - 1) // 7 = 2
        assert [(e.level, e.person) for e in mine.all()] == [(1, head_a), (2, head_district)]
        assert work_escalate_overdue(today=D(2020, 8, 8)) == 0  # idempotent
        assert [(e.level, e.person) for e in mine.all()] == [(1, head_a), (2, head_district)]

    def test_a_finding_climbs_from_the_enumerator_through_the_supervisor(self, cast: Cast, heads, settings) -> None:  # type: ignore[no-untyped-def]
        head_a, _ = heads
        settings.QUALITY = {**settings.QUALITY, "OVERDUE_DAYS": 7}
        household = sign_family(cast.area_a1, cast.enumerator_a1)
        tamper(
            "UPDATE enumeration_person SET d5_birth_month = 8 WHERE household_id = %s AND row_no = 3", [household.pk]
        )
        run()
        from supervision.quality.models import Finding

        finding = Finding.objects.get(rule="ID_BIRTH_MISMATCH")
        assert finding.responsible == cast.enumerator_a1
        found = finding.first_seen_at.date()
        due = found + datetime.timedelta(days=7)
        work_escalate_overdue(today=due + datetime.timedelta(days=8))  # 8 days overdue → step 2
        steps = Escalation.objects.filter(kind=EscalationKind.FINDING, object_id=finding.pk)
        assert [(e.level, e.person) for e in steps] == [(1, cast.supervisor_a), (2, head_a)]

    def test_a_rectification_task_goes_from_the_departments_account_to_the_district_head(  # type: ignore[no-untyped-def]
        self, cast: Cast, depts: Departments, heads
    ) -> None:
        _head_a, head_district = heads
        item = rectification_item_create(
            district_id="511504",
            number="1",
            title="数出有据",
            feedback="先报数后收集资料",
            received_on=D(2020, 6, 1),
            actor=cast.district_office,
        )
        task: RectificationTask = rectification_task_create(
            item=item,
            measure="清理在库企业",
            department=depts.jkj,
            responsible_person="王强",
            deadline=D(2020, 9, 30),
            evidence_required="清理台账",
            actor=cast.district_office,
        )
        with pytest.raises(ValidationError):
            rectification_task_responsible_set(task=task, person=depts.fgj_user, actor=cast.district_office)
        rectification_task_responsible_set(task=task, person=depts.jkj_user, actor=cast.district_office)
        work_escalate_overdue(today=D(2020, 12, 31))  # long overdue: the chain has one step above the person
        steps = Escalation.objects.filter(kind=EscalationKind.RECTIFICATION_TASK, object_id=task.pk)
        assert [(e.level, e.person) for e in steps] == [(1, head_district)]


class TestPages:
    def test_the_checklist_shows_the_chain_and_the_office_names_the_person(  # type: ignore[no-untyped-def]
        self, cast: Cast, depts: Departments, heads, login
    ) -> None:
        from django.urls import reverse

        _head_a, _head_district = heads
        readiness_ensure_units(district_id="511504", actor=cast.district_office)
        unit = UnitReadiness.objects.get(unit_kind=UnitKind.TOWNSHIP, township=cast.township_a)
        funds = unit.items.get(component=ReadinessComponent.FUNDS)
        client = login(cast.township_office_a)
        response = client.post(
            reverse("supervision:readiness-item-responsible", args=[funds.pk]),
            {"responsible": cast.township_office_a.pk},
        )
        assert response.status_code == 302
        funds.refresh_from_db()
        assert funds.responsible == cast.township_office_a
        work_escalate_overdue(today=D(2020, 8, 1))
        page = client.get(reverse("supervision:readiness-detail", args=[unit.pk])).content.decode()
        section = page.split('id="item-funds"')[1].split("</section>")[0]
        names = ["周镇干部", "孙镇主任", "李区主任"]
        positions = [section.index(name) for name in names]
        assert positions == sorted(positions)  # the person, then up the chain
        with translation.override("zh-hans"):  # the page is in the district's language
            escalated = translation.gettext("escalated %(day)s")
        # The badge carries the day the escalation was recorded (the clock's, not the census calendar's).
        assert re.search(re.escape(escalated).replace(re.escape("%(day)s"), r"\d{4}-\d{2}-\d{2}"), section)

    def test_the_person_an_overdue_item_reached_is_told_on_the_start_page(  # type: ignore[no-untyped-def]
        self, cast: Cast, depts: Departments, heads, login
    ) -> None:
        from django.urls import reverse

        head_a, head_district = heads
        readiness_ensure_units(district_id="511504", actor=cast.district_office)
        unit = UnitReadiness.objects.get(unit_kind=UnitKind.TOWNSHIP, township=cast.township_a)
        funds = unit.items.get(component=ReadinessComponent.FUNDS)
        readiness_item_responsible_set(item=funds, person=cast.township_office_a, actor=cast.district_office)
        work_escalate_overdue(today=D(2020, 8, 1))  # one day overdue: the township office's head only

        def notice(user: StaffMember) -> str:
            page = login(user).get(reverse("supervision:dashboard")).content.decode()
            return (
                page.split('id="escalated-to-me"')[1].split("</section>")[0] if 'id="escalated-to-me"' in page else ""
            )

        section = notice(head_a)
        assert f'data-escalation="readiness_item-{funds.pk}"' in section
        assert f'href="{reverse("supervision:readiness-detail", args=[unit.pk])}"' in section
        assert "2020-07-31" in section  # the funds' deadline
        # The responsible person is not told they were escalated past, and the district head not yet.
        assert notice(cast.township_office_a) == "" and notice(head_district) == ""
        work_escalate_overdue(today=D(2020, 8, 8))  # a week later the district's head
        assert f'data-escalation="readiness_item-{funds.pk}"' in notice(head_district)

    def test_the_responsibility_page_flags_areas_and_lets_the_district_name_heads(  # type: ignore[no-untyped-def]
        self, cast: Cast, login
    ) -> None:
        from django.urls import reverse

        SmallAreaAssignment.objects.filter(small_area=cast.area_b1).delete()
        url = reverse("supervision:responsibility")
        page = login(cast.township_office_b).get(url)
        assert page.status_code == 200 and page.context["flagged_count"] == 1
        assert (
            login(cast.township_office_b)
            .post(url, {"township": "511504102", "person": cast.township_office_b.pk})
            .status_code
            == 403
        )
        assert login(cast.enumerator_a1).get(url).status_code == 403
        client = login(cast.district_office)
        client.post(url, {"township": "511504102", "person": cast.township_office_b.pk})
        assert responsibility_chain(cast.enumerator_b1)[2].person == cast.township_office_b

    def test_the_finding_and_the_form_show_the_registrars_chain(self, cast: Cast, heads, login) -> None:  # type: ignore[no-untyped-def]
        from django.urls import reverse

        from supervision.quality.models import Finding

        _head_a, _head_district = heads
        household = sign_family(cast.area_a1, cast.enumerator_a1)
        tamper(
            "UPDATE enumeration_person SET d5_birth_month = 8 WHERE household_id = %s AND row_no = 3", [household.pk]
        )
        run()
        finding = Finding.objects.get(rule="ID_BIRTH_MISMATCH")
        names = ["赵普查员", "钱指导员", "孙镇主任", "李区主任"]
        client = login(cast.township_office_a)
        for url in (
            reverse("supervision:finding-detail", args=[finding.pk]),
            reverse("enumeration:household-detail", args=[household.pk]),
        ):
            page = client.get(url).content.decode()
            chain = page.split("data-chain>")[1].split("</div>")[0]
            positions = [chain.index(name) for name in names]
            assert positions == sorted(positions), url

    def test_the_district_names_the_account_of_a_rectification_task(  # type: ignore[no-untyped-def]
        self, cast: Cast, depts: Departments, heads, login
    ) -> None:
        from django.urls import reverse

        item = rectification_item_create(
            district_id="511504",
            number="2",
            title="统计法学习",
            feedback="学习不深入",
            received_on=D(2020, 6, 1),
            actor=cast.district_office,
        )
        task = rectification_task_create(
            item=item,
            measure="中心组学习",
            department=depts.jkj,
            responsible_person="王强",
            deadline=D(2020, 9, 30),
            evidence_required="学习记录",
            actor=cast.district_office,
        )
        url = reverse("supervision:rectification-task-responsible", args=[task.pk])
        assert login(depts.jkj_user).post(url, {"responsible": depts.jkj_user.pk}).status_code == 403
        client = login(cast.district_office)
        assert client.post(url, {"responsible": depts.fgj_user.pk}).status_code == 302  # refused: another department
        task.refresh_from_db()
        assert task.responsible is None
        client.post(url, {"responsible": depts.jkj_user.pk})
        task.refresh_from_db()
        assert task.responsible == depts.jkj_user
        page = client.get(reverse("supervision:rectification-task", args=[task.pk])).content.decode()
        chain = page.split("data-chain>")[1].split("</div>")[0]
        assert chain.index(depts.jkj_user.get_full_name()) < chain.index(heads[1].get_full_name())
