"""S19: the census calendar — phases with the reference's dates (the district moves them), the countdown on
the office dashboards, planned-against-actual lines per phase and each role's to-dos on its start page. Day
counts are worked out by hand."""

from __future__ import annotations

import datetime
import json

import pytest
from django.urls import reverse
from django.utils import translation

from enumeration.models import HouseholdState, HouseholdTransition
from supervision.organisation.models import CensusPhase, Phase, ReadinessComponent, ReadinessStatus, UnitReadiness
from supervision.organisation.selectors.calendar import census_calendar, countdown, phase_lines
from supervision.organisation.services import readiness_ensure_units, readiness_item_update, readiness_member_add
from supervision.organisation.services.calendar import calendar_phase_set
from supervision.progress.services import progress_refresh
from tests.conftest import Cast
from tests.organisation.conftest import Departments
from tests.organisation.factories import upload
from tests.progress.factories import HouseholdFactory, cst

pytestmark = pytest.mark.django_db

D = datetime.date
SPEECH_DAY = D(2020, 7, 3)  # "现距正式普查登记也只有4个月的时间了"


def phases(district: str | None = "511504") -> dict[str, object]:
    return {p.key: p for p in census_calendar(district)}


class TestCalendar:
    def test_the_defaults_are_the_references_and_the_district_moves_a_phase(self, cast: Cast) -> None:
        registration = phases()[Phase.REGISTRATION]
        assert (registration.start, registration.end) == (D(2020, 11, 1), D(2020, 11, 15))  # type: ignore[attr-defined]
        listing = phases()[Phase.LISTING]
        assert (listing.start, listing.end) == (D(2020, 10, 11), D(2020, 10, 31))  # type: ignore[attr-defined]
        calendar_phase_set(
            district_id="511504",
            phase=Phase.LISTING,
            start=D(2020, 10, 8),
            end=D(2020, 10, 31),
            actor=cast.district_office,
        )
        assert phases()[Phase.LISTING].own and phases()[Phase.LISTING].start == D(2020, 10, 8)  # type: ignore[attr-defined]
        assert phases("511502")[Phase.LISTING].start == D(2020, 10, 11)  # type: ignore[attr-defined]
        calendar_phase_set(
            district_id="511504",
            phase=Phase.LISTING,
            start=D(2020, 10, 11),
            end=D(2020, 10, 31),
            actor=cast.district_office,
        )
        assert not CensusPhase.objects.exists()

    def test_the_countdown_on_the_day_of_the_speech(self, cast: Cast) -> None:
        c = countdown("511504", SPEECH_DAY)
        # 3 July → 1 November: 28 days left of July, then 31 + 30 + 31, then the 1st: 121.
        assert c.days_to_registration == 28 + 31 + 30 + 31 + 1 == 121
        left = {p.key: days for p, days in c.under_way}
        # Organisation until 31 July, mapping until 31 August, 两员 until 10 October.
        assert left == {Phase.ORGANISATION: 28, Phase.MAPPING: 28 + 31, Phase.STAFF: 28 + 31 + 30 + 10}
        assert c.next_phase is not None and c.next_phase.key == Phase.PUBLICITY

    def test_planned_against_actual_organisation(self, cast: Cast, depts: Departments) -> None:
        readiness_ensure_units(district_id="511504", actor=cast.district_office)
        units = list(UnitReadiness.objects.order_by("pk"))
        assert len(units) == 8  # 2 townships, 2 villages, 4 departments: 8 organisation items
        for unit in units[:2]:
            readiness_member_add(
                readiness=unit, body="leading_group", name="张伟", post="组长", actor=cast.district_office
            )
            readiness_member_add(readiness=unit, body="office", name="李娜", post="主任", actor=cast.district_office)
            readiness_item_update(
                item=unit.items.get(component=ReadinessComponent.ORGANISATION),
                status=ReadinessStatus.DONE,
                completed_on=D(2020, 3, 1),
                upload=upload(),
                actor=cast.district_office,
            )
        lines = phase_lines(phases()[Phase.ORGANISATION], user=cast.district_office, today=D(2020, 3, 2))  # type: ignore[arg-type]
        # 1 January … 31 July 2020: 31 + 29 + 31 + 30 + 31 + 30 + 31 = 213 days; 1 March is day 61.
        assert len(lines.days) == 213 and lines.days[60] == D(2020, 3, 1)
        assert lines.planned[60] == round(100 * 61 / 213, 1) == 28.6
        assert lines.actual is not None
        assert lines.actual[59] == 0.0 and lines.actual[60] == 25.0 and lines.actual[61] == 25.0  # 2 of 8
        assert lines.actual[62] is None  # after today
        # A phase the system records nothing of has its planned line only.
        assert phase_lines(phases()[Phase.PES], user=cast.district_office, today=D(2020, 3, 2)).actual is None  # type: ignore[arg-type]

    def test_planned_against_actual_long_form_and_acceptance(self, cast: Cast) -> None:
        for number in (1, 2):
            HouseholdFactory(
                small_area=cast.area_a1,
                household_no=number,
                state=HouseholdState.SIGNED if number == 1 else HouseholdState.DRAFT,
                registrar=cast.enumerator_a1,
                signed_at=cst(2020, 11, 18, 10) if number == 1 else None,
                in_long_form_sample=True,
            )
        accepted = [
            HouseholdFactory(
                small_area=cast.area_a2,
                household_no=number,
                state=state,
                registrar=cast.enumerator_a2,
                signed_at=cst(2020, 11, 5, 10),
            )
            for number, state in ((1, HouseholdState.LOCKED), (2, HouseholdState.APPROVED), (3, HouseholdState.SIGNED))
        ]
        # The first was accepted on the 17th (and locked later), the second on the 18th and then reopened.
        for household, day in ((accepted[0], 17), (accepted[1], 18)):
            HouseholdTransition.objects.create(
                household=household,
                from_state=HouseholdState.APPROVED,
                to_state=HouseholdState.ACCEPTED,
                actor=cast.township_office_a,
                at=cst(2020, 11, day, 15),
                hmac="0" * 64,
            )
        today = D(2020, 11, 20)
        long_form = phase_lines(phases()[Phase.LONG_FORM], user=cast.district_office, today=today)  # type: ignore[arg-type]
        # 16 … 30 November; one of the two sample households signed on the 18th (day 3).
        assert long_form.total == 2 and long_form.actual is not None
        assert long_form.actual[1] == 0.0 and long_form.actual[2] == 50.0 and long_form.actual[4] == 50.0
        acceptance = phase_lines(phases()[Phase.ACCEPTANCE], user=cast.district_office, today=today)  # type: ignore[arg-type]
        # 16 … 20 November; the three signed forms plus the sample's one signed: 4; accepted and still so: 1
        # (the 17th); the one reopened does not count.
        assert acceptance.total == 4 and acceptance.actual == [0.0, 25.0, 25.0, 25.0, 25.0]


class TestPages:
    @pytest.fixture
    def on(self, monkeypatch):  # type: ignore[no-untyped-def]
        def set_day(day: datetime.date) -> None:
            for module in (
                "supervision.organisation.templatetags.census_calendar",
                "supervision.organisation.views.calendar",
            ):
                monkeypatch.setattr(f"{module}.today", lambda: day)

        return set_day

    def test_the_countdown_is_on_every_office_dashboard(self, cast: Cast, login, on) -> None:  # type: ignore[no-untyped-def]
        on(SPEECH_DAY)
        for user, url in (
            (cast.district_office, reverse("supervision:dashboard")),
            (cast.township_office_a, reverse("supervision:dashboard")),
            (cast.district_office, reverse("supervision:dashboard-township", args=[cast.township_a.code])),
        ):
            body = login(user).get(url).content.decode()
            assert 'id="census-countdown"' in body and "<strong data-days-to-registration>121</strong>" in body, url

    def test_the_dashboards_draw_registrations_planned_line_against_the_signed_forms(
        self, cast: Cast, login, on
    ) -> None:  # type: ignore[no-untyped-def]
        # Six households in one small area of township A, three of them signed; registration 1–15 November.
        for number in range(1, 7):
            signed = number <= 3
            HouseholdFactory(
                small_area=cast.area_a1,
                household_no=number,
                state=HouseholdState.SIGNED if signed else HouseholdState.LISTED,
                registrar=cast.enumerator_a1 if signed else None,
                signed_at=cst(2020, 11, 2, 10) if signed else None,
            )
        progress_refresh()
        on(D(2020, 11, 8))  # the 8th of the phase's 15 days
        for user, url in (
            (cast.township_office_a, reverse("supervision:dashboard")),
            (cast.district_office, reverse("supervision:dashboard-township", args=[cast.township_a.code])),
        ):
            body = login(user).get(url).content.decode()
            bars = body.split('data-phase="registration"')[1].split("</li>")[0]
            assert "<span data-planned>53.3%</span>" in bars, url  # 8 / 15 of the days
            assert "<span data-actual>50.0%</span>" in bars, url  # 3 of 6 households signed
            daily = json.loads(body.split('id="progress-daily" type="application/json">')[1].split("</script>")[0])
            planned = dict(zip(daily["days"], daily["planned"], strict=True))
            # 6 households over 15 days, whole households by the end of each day: 6·d/15 rounded down.
            assert planned["2020-11-01"] == 0 and planned["2020-11-03"] == 1 and planned["2020-11-08"] == 3
            assert planned["2020-11-15"] == 6 and planned["2020-12-10"] == 6
            assert daily["signed"][daily["days"].index("2020-11-08")] == 3

    def test_each_role_sees_the_to_dos_of_the_phase_on_its_start_page(self, cast: Cast, login, on) -> None:  # type: ignore[no-untyped-def]
        on(D(2020, 10, 15))  # listing and self-enumeration under way
        body = login(cast.enumerator_a1).get(reverse("enumeration:my-areas")).content.decode()
        with translation.override("zh-hans"):  # the page is in the district's language
            listing = translation.gettext("Walk every building of your small areas and list every household (摸底).")
        assert 'id="phase-todos"' in body and listing in body
        on(D(2020, 11, 20))  # matching review under way
        body = login(cast.department_user).get(reverse("supervision:rectification")).content.decode()
        with translation.override("zh-hans"):
            matching = translation.gettext(
                "Deliver your records for matching (公安 hukou, 卫健 births, 民政) with the evidence."
            )
        assert matching in body
        body = login(cast.supervisor_a).get(reverse("enumeration:review-queue")).content.decode()
        with translation.override("zh-hans"):
            answer = translation.gettext("Answer the findings of your small areas before acceptance.")
        assert answer in body  # acceptance, 16 … 20 November

    def test_the_calendar_page_draws_a_line_per_phase_and_the_district_edits_it(self, cast: Cast, login, on) -> None:  # type: ignore[no-untyped-def]
        on(SPEECH_DAY)
        client = login(cast.district_office)
        page = client.get(reverse("supervision:calendar"))
        body = page.content.decode()
        for key in Phase.values:
            assert f'id="lines-{key}"' in body and f'data-chart="phase-{key}"' in body
        chart = json.loads(body.split('id="phase-registration" type="application/json">')[1].split("</script>")[0])
        assert chart["line"] and chart["series"][0]["data"][-1] == 100.0
        data = {}
        for p in census_calendar("511504"):
            data[f"{p.key}-start"], data[f"{p.key}-end"] = p.start.isoformat(), p.end.isoformat()
        data["pes-end"] = "2021-01-15"
        assert client.post(reverse("supervision:calendar"), data).status_code == 302
        assert CensusPhase.objects.get().planned_end == D(2021, 1, 15)
        data["pes-end"] = "2020-12-01"  # before its start
        assert client.post(reverse("supervision:calendar"), data).status_code == 400
        assert login(cast.township_office_a).post(reverse("supervision:calendar"), data).status_code == 403
