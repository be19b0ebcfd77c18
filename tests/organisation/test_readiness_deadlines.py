"""S2: each of the four 四落实 items has its own deadline per kind of unit, and "late" and "overdue" are decided
per item. The expected dates are the speech's: a township's organisation by the end of March, its funds by the
end of July ("乡镇、街道要在7月底前全面落实普查经费")."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import translation

from census.models import AuditEvent
from supervision.organisation import selectors
from supervision.organisation.models import (
    MemberBody,
    ReadinessComponent,
    ReadinessDeadline,
    ReadinessItem,
    ReadinessStatus,
    UnitKind,
    UnitReadiness,
)
from supervision.organisation.services import (
    readiness_deadline_set,
    readiness_ensure_units,
    readiness_item_update,
    readiness_member_add,
)
from tests.conftest import Cast
from tests.organisation.conftest import Departments
from tests.organisation.factories import upload

pytestmark = pytest.mark.django_db

D = datetime.date
ORGANISATION, STAFF, FUNDS, CONDITIONS = (
    ReadinessComponent.ORGANISATION,
    ReadinessComponent.STAFF,
    ReadinessComponent.FUNDS,
    ReadinessComponent.CONDITIONS,
)


@pytest.fixture
def units(cast: Cast, depts: Departments) -> dict[str, UnitReadiness]:
    readiness_ensure_units(district_id="511504", actor=cast.district_office)
    qs = UnitReadiness.objects.all()
    return {
        "a": qs.get(unit_kind=UnitKind.TOWNSHIP, township=cast.township_a),
        "b": qs.get(unit_kind=UnitKind.TOWNSHIP, township=cast.township_b),
    }


def done(unit: UnitReadiness, component: str, day: datetime.date, actor) -> ReadinessItem:  # type: ignore[no-untyped-def]
    if component == ORGANISATION and not unit.members.exists():
        readiness_member_add(readiness=unit, body=MemberBody.LEADING_GROUP, name="张伟", post="组长", actor=actor)
        readiness_member_add(readiness=unit, body=MemberBody.OFFICE, name="李娜", post="主任", actor=actor)
    item = unit.items.get(component=component)
    return readiness_item_update(item=item, status=ReadinessStatus.DONE, completed_on=day, upload=upload(), actor=actor)


def due(item: ReadinessItem) -> datetime.date:
    return ReadinessItem.objects.with_due_on().get(pk=item.pk).due_on  # type: ignore[attr-defined]


class TestPerItem:
    def test_funds_on_20_july_are_on_time_while_the_organisation_in_april_is_late(self, cast: Cast, units) -> None:  # type: ignore[no-untyped-def]
        actor = cast.township_office_a
        organisation = done(units["a"], ORGANISATION, D(2020, 4, 10), actor)
        funds = done(units["a"], FUNDS, D(2020, 7, 20), actor)
        assert due(organisation) == D(2020, 3, 31) and due(funds) == D(2020, 7, 31)
        late = set(ReadinessItem.objects.late())
        assert organisation in late and funds not in late
        # With the other two done in time the unit is ready, and late because of its organisation alone.
        done(units["a"], STAFF, D(2020, 7, 20), actor)
        done(units["a"], CONDITIONS, D(2020, 7, 20), actor)
        assert units["a"] in set(UnitReadiness.objects.late())

    def test_a_township_with_only_its_funds_ready_in_time_is_not_late(self, cast: Cast, units) -> None:  # type: ignore[no-untyped-def]
        actor = cast.township_office_a
        done(units["a"], ORGANISATION, D(2020, 3, 20), actor)
        for component in (STAFF, FUNDS, CONDITIONS):
            done(units["a"], component, D(2020, 7, 20), actor)
        units["a"].refresh_from_db()
        # Ready on 20 July — months after the March deadline that once covered all four — and on time.
        assert units["a"].ready_on == D(2020, 7, 20)
        assert units["a"] not in set(UnitReadiness.objects.late())
        assert not units["a"].is_late

    def test_missing_funds_make_a_township_overdue_only_after_july(self, cast: Cast, units) -> None:  # type: ignore[no-untyped-def]
        done(units["a"], ORGANISATION, D(2020, 3, 20), cast.township_office_a)
        in_april = set(selectors.readiness_overdue(cast.district_office, today=D(2020, 4, 15)))
        assert units["a"] not in in_april and units["b"] in in_april
        in_august = set(
            ReadinessItem.objects.overdue(D(2020, 8, 1))
            .filter(readiness=units["a"])
            .values_list("component", flat=True)
        )
        assert in_august == {FUNDS}
        assert units["a"].is_overdue(D(2020, 8, 1)) and not units["a"].is_overdue(D(2020, 7, 31))

    def test_the_list_annotates_the_next_deadline_and_the_state(self, cast: Cast, units) -> None:  # type: ignore[no-untyped-def]
        done(units["a"], ORGANISATION, D(2020, 4, 10), cast.township_office_a)
        row = selectors.readiness_list(user=cast.district_office, today=D(2020, 5, 1)).get(pk=units["a"].pk)
        # Organisation done (late); the earliest of the other three is funds, 31 July.
        assert row.deadline == D(2020, 7, 31)  # type: ignore[attr-defined]
        assert row.has_late and not row.has_overdue  # type: ignore[attr-defined]


class TestTheDistrictSetsThem:
    def test_a_district_deadline_replaces_the_default_for_its_units_only(  # type: ignore[no-untyped-def]
        self, cast: Cast, units, other_district_office
    ) -> None:
        funds = done(units["a"], FUNDS, D(2020, 7, 20), cast.township_office_a)
        assert funds not in set(ReadinessItem.objects.late())
        readiness_deadline_set(
            district_id="511504",
            unit_kind=UnitKind.TOWNSHIP,
            component=FUNDS,
            due_on=D(2020, 7, 15),
            actor=cast.district_office,
        )
        assert due(funds) == D(2020, 7, 15) and funds in set(ReadinessItem.objects.late())
        # Villages keep theirs; another district has none of its own.
        village_funds = ReadinessItem.objects.get(readiness__village=cast.village_a, component=FUNDS)
        assert due(village_funds) == D(2020, 7, 31)
        assert selectors.readiness_deadlines(district_id="511502")[0].due[FUNDS] == D(2020, 7, 31)
        assert AuditEvent.objects.filter(object_type="organisation.readiness_deadline").count() == 1
        # Back to the default: the district's own row goes.
        readiness_deadline_set(
            district_id="511504",
            unit_kind=UnitKind.TOWNSHIP,
            component=FUNDS,
            due_on=D(2020, 7, 31),
            actor=cast.district_office,
        )
        assert not ReadinessDeadline.objects.exists()

    def test_the_page_saves_them_and_only_the_district_office_opens_it(self, cast: Cast, units, login) -> None:  # type: ignore[no-untyped-def]
        url = reverse("supervision:readiness-deadlines")
        assert login(cast.township_office_a).get(url).status_code == 403
        client = login(cast.district_office)
        page = client.get(url)
        assert page.status_code == 200 and 'value="2020-07-31"' in page.content.decode()
        data = {
            f"{row.kind}__{c}": day.isoformat()
            for row in selectors.readiness_deadlines(district_id="511504")
            for c, day in row.due.items()
        }
        data["village__staff"] = "2020-09-15"
        assert client.post(url, data).status_code == 302
        assert list(ReadinessDeadline.objects.values_list("unit_kind", "component", "due_on")) == [
            (UnitKind.VILLAGE, STAFF, D(2020, 9, 15))
        ]
        data["village__staff"] = "not a date"
        assert client.post(url, data).status_code == 400

    def test_the_checklist_shows_each_items_own_deadline(self, cast: Cast, units, login) -> None:  # type: ignore[no-untyped-def]
        done(units["a"], ORGANISATION, D(2020, 4, 10), cast.township_office_a)
        body = login(cast.district_office).get(reverse("supervision:readiness-detail", args=[units["a"].pk]))
        text = body.content.decode()
        organisation = text.split('id="item-organisation"')[1].split("</section>")[0]
        funds = text.split('id="item-funds"')[1].split("</section>")[0]
        with translation.override("zh-hans"):  # the page is in the district's language
            late = translation.gettext("Late")
        assert "2020-03-31" in organisation and late in organisation
        assert "2020-07-31" in funds
