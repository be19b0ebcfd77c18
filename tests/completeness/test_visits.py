"""Visits and non-response per listed dwelling unit (issue 23, deliver 1): the outcomes and what each asks for,
callbacks and escalation after the configured count, the enumerator's callbacks of today, the offices' per-area
view, and a small area complete only when every listed dwelling unit has a final outcome."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from census.api import ApplicationError
from census.models import SmallArea
from enumeration.models import DwellingUnit, Household
from enumeration.services import building_create, dwelling_unit_create
from supervision.completeness.models import Outcome, Visit, VisitMode
from supervision.completeness.selectors import area_completeness, callbacks_due, small_area_complete
from supervision.completeness.services import visit_record
from tests.conftest import Cast
from tests.enumeration.test_services_registration import register

pytestmark = pytest.mark.django_db


def units(cast: Cast, n: int, area: SmallArea | None = None) -> list[DwellingUnit]:
    area = area or cast.area_a1
    building = building_create(small_area=area, number="B1", actor=cast.enumerator_a1)
    return [dwelling_unit_create(building=building, number=str(i + 1), actor=cast.enumerator_a1) for i in range(n)]


def evidence() -> SimpleUploadedFile:
    return SimpleUploadedFile("邻居证明.pdf", b"%PDF-1.4\n% a neighbour's statement\n", content_type="application/pdf")


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings.PRIVATE_MEDIA_ROOT = settings.MEDIA_ROOT = tmp_path


class TestOutcomes:
    def test_a_small_area_with_one_unresolved_dwelling_is_not_complete(self, cast: Cast, password: str) -> None:
        a, b, c = units(cast, 3)
        # A household listed in ``a`` whose form is not signed yet does not settle it.
        draft = register(cast, password, sign=False)
        Household.objects.filter(pk=draft.pk).update(dwelling_unit=a)
        visit_record(dwelling_unit=b, actor=cast.enumerator_a1, outcome=Outcome.NOT_DWELLING)
        visit_record(
            dwelling_unit=c,
            actor=cast.enumerator_a1,
            outcome=Outcome.VACANT,
            evidence_kind="neighbour",
            evidence_upload=evidence(),
        )
        # a: never visited, nothing signed in it.
        assert not small_area_complete(cast.area_a1)
        row = area_completeness(SmallArea.objects.filter(pk=cast.area_a1.pk))[0]
        assert (row.units, row.final, row.no_outcome) == (3, 2, 1)
        visit_record(dwelling_unit=a, actor=cast.enumerator_a1, outcome=Outcome.NOBODY_HOME)
        assert not small_area_complete(cast.area_a1)  # nobody at home is not final
        visit_record(
            dwelling_unit=a,
            actor=cast.enumerator_a1,
            outcome=Outcome.REFUSED,
            refusal_reason="不愿透露",
            steps_taken="村干部上门解释",
            escalated_to="village",
        )
        assert not small_area_complete(cast.area_a1)  # nor is a refusal
        visit_record(dwelling_unit=a, actor=cast.enumerator_a1, outcome=Outcome.REGISTERED, mode=VisitMode.PHONE)
        assert small_area_complete(cast.area_a1)

    def test_a_signed_form_of_a_household_in_the_unit_registers_it(self, cast: Cast, password: str) -> None:
        (unit,) = units(cast, 1)
        from enumeration.services import household_list

        listed = household_list(small_area=cast.area_a1, actor=cast.enumerator_a1, head_name="李", dwelling_unit=unit)
        assert not small_area_complete(cast.area_a1)
        signed = register(cast, password)
        Household.objects.filter(pk=signed.pk).update(dwelling_unit=unit)
        assert Household.objects.get(pk=listed.pk).state == "listed"
        assert small_area_complete(cast.area_a1)

    def test_an_area_without_listed_units_is_not_complete(self, cast: Cast) -> None:
        assert not small_area_complete(cast.area_a1)

    def test_what_each_outcome_asks_for(self, cast: Cast) -> None:
        (unit,) = units(cast, 1)
        with pytest.raises(ValidationError) as refused:
            visit_record(dwelling_unit=unit, actor=cast.enumerator_a1, outcome=Outcome.REFUSED)
        assert set(refused.value.message_dict) == {"refusal_reason", "steps_taken", "escalated_to"}
        with pytest.raises(ValidationError) as vacant:
            visit_record(dwelling_unit=unit, actor=cast.enumerator_a1, outcome=Outcome.VACANT)
        assert set(vacant.value.message_dict) == {"evidence_kind", "evidence_upload"}
        with pytest.raises(ApplicationError):
            visit_record(dwelling_unit=unit, actor=cast.enumerator_b1, outcome=Outcome.NOT_DWELLING)
        assert not Visit.objects.exists()
        vacant_visit = visit_record(
            dwelling_unit=unit,
            actor=cast.enumerator_a1,
            outcome=Outcome.VACANT,
            evidence_kind="utility",
            evidence_upload=evidence(),
        )
        assert vacant_visit.evidence is not None and vacant_visit.evidence.township_id == cast.township_a.code


class TestCallbacks:
    def test_nobody_home_is_called_back_and_escalated_after_the_configured_count(self, cast: Cast, settings) -> None:  # type: ignore[no-untyped-def]
        settings.COMPLETENESS_CALLBACKS_BEFORE_ESCALATION = 2
        settings.COMPLETENESS_CALLBACK_HOURS = 6
        (unit,) = units(cast, 1)
        at = timezone.now() - datetime.timedelta(hours=10)
        first = visit_record(dwelling_unit=unit, actor=cast.enumerator_a1, outcome=Outcome.NOBODY_HOME, at=at)
        assert first.callback_due == at + datetime.timedelta(hours=6) and first.escalated_to == ""
        second = visit_record(dwelling_unit=unit, actor=cast.enumerator_a1, outcome=Outcome.NOBODY_HOME)
        assert second.escalated_to == "supervisor"

    def test_the_enumerator_sees_today_s_callbacks_only(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        due_today, due_later, registered = units(cast, 3)
        now = timezone.now()
        visit_record(
            dwelling_unit=due_today,
            actor=cast.enumerator_a1,
            outcome=Outcome.NOBODY_HOME,
            at=now - datetime.timedelta(hours=30),
        )
        visit_record(
            dwelling_unit=due_later,
            actor=cast.enumerator_a1,
            outcome=Outcome.NOBODY_HOME,
            at=now + datetime.timedelta(days=2),
        )
        visit_record(
            dwelling_unit=registered,
            actor=cast.enumerator_a1,
            outcome=Outcome.NOBODY_HOME,
            at=now - datetime.timedelta(hours=30),
        )
        visit_record(dwelling_unit=registered, actor=cast.enumerator_a1, outcome=Outcome.REGISTERED)
        assert [s.unit.pk for s in callbacks_due(user=cast.enumerator_a1)] == [due_today.pk]
        assert callbacks_due(user=cast.enumerator_b1) == []
        page = login(cast.enumerator_a1).get(reverse("supervision:my-callbacks"))
        assert page.status_code == 200 and f'data-callback="{due_today.pk}"' in page.content.decode()


class TestPages:
    def test_the_enumerator_records_a_refusal_on_the_area_page(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        (unit,) = units(cast, 1)
        client = login(cast.enumerator_a1)
        url = reverse("supervision:visit-add", args=[cast.area_a1.pk])
        missing = client.post(url, {"unit": unit.pk, "outcome": "refused", "mode": "in_person"})
        assert missing.status_code == 400 and not Visit.objects.exists()
        ok = client.post(
            url,
            {
                "unit": unit.pk,
                "outcome": "refused",
                "mode": "in_person",
                "refusal_reason": "担心隐私",
                "steps_taken": "出示证件并说明保密规定",
                "escalated_to": "township",
            },
        )
        assert ok.status_code == 302
        html = client.get(reverse("supervision:completeness-area", args=[cast.area_a1.pk])).content.decode()
        assert 'data-escalated="township"' in html and "担心隐私" in html
        assert login(cast.enumerator_b1).post(url, {"unit": unit.pk, "outcome": "not_dwelling"}).status_code == 404

    def test_the_vacant_evidence_is_uploaded_with_the_visit(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        (unit,) = units(cast, 1)
        client = login(cast.enumerator_a1)
        url = reverse("supervision:visit-add", args=[cast.area_a1.pk])
        ok = client.post(
            url,
            {
                "unit": unit.pk,
                "outcome": "vacant",
                "mode": "in_person",
                "evidence_kind": "utility",
                "evidence_upload": evidence(),
            },
        )
        assert ok.status_code == 302
        assert Visit.objects.get().evidence.original_name == "邻居证明.pdf"

    def test_the_offices_see_per_area_what_is_open_with_its_age(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        a, _unvisited = units(cast, 2)
        c = dwelling_unit_create(
            building=building_create(small_area=cast.area_b1, number="B9", actor=cast.enumerator_b1),
            number="1",
            actor=cast.enumerator_b1,
        )
        visit_record(
            dwelling_unit=a,
            actor=cast.enumerator_a1,
            outcome=Outcome.NOBODY_HOME,
            at=timezone.now() - datetime.timedelta(days=3),
        )
        visit_record(dwelling_unit=c, actor=cast.enumerator_b1, outcome=Outcome.NOT_DWELLING)
        township = login(cast.township_office_a).get(reverse("supervision:completeness"))
        rows = {row.small_area.code: row for row in township.context["areas"]}
        assert set(rows) == {cast.area_a1.code, cast.area_a2.code}
        a1 = rows[cast.area_a1.code]
        assert (a1.units, a1.final, a1.no_outcome, a1.callbacks, a1.age_days) == (2, 0, 1, 1, 3)
        district = login(cast.district_office).get(reverse("supervision:completeness"))
        totals = {t.code: row for t, row in district.context["townships"]}
        assert (totals[cast.township_a.code]["units"], totals[cast.township_a.code]["final"]) == (2, 0)
        assert (totals[cast.township_b.code]["units"], totals[cast.township_b.code]["final"]) == (1, 1)
        assert district.context["total"]["share"] == pytest.approx(100 / 3)
        assert login(cast.enumerator_a1).get(reverse("supervision:completeness")).status_code == 403

    def test_the_offices_page_reads_a_constant_number_of_queries(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from tests.census.factories import SmallAreaFactory

        client = login(cast.township_office_a)
        url = reverse("supervision:completeness")
        client.get(url)

        def count() -> int:
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            return len(queries)

        (unit,) = units(cast, 1)
        visit_record(dwelling_unit=unit, actor=cast.enumerator_a1, outcome=Outcome.NOT_DWELLING)
        before = count()
        for number in range(3, 8):
            area = SmallAreaFactory(village=cast.village_a, code=f"{cast.village_a.code}{number:03d}")
            building_create(small_area=area, number="B1", actor=cast.enumerator_a1)
        assert count() == before


def test_registration_progress_is_shown_next_to_completeness(cast: Cast, password: str, login) -> None:  # type: ignore[no-untyped-def]
    from enumeration.services import household_list
    from supervision.progress.services import progress_refresh

    register(cast, password)  # signed
    household_list(small_area=cast.area_a1, actor=cast.enumerator_a1, head_name="李")  # only listed
    progress_refresh()
    page = login(cast.township_office_a).get(reverse("supervision:completeness"))
    rows = {row.small_area.code: row for row in page.context["areas"]}
    assert (rows[cast.area_a1.code].signed, rows[cast.area_a1.code].listed) == (1, 2)
    assert page.context["total"]["progress"] == pytest.approx(50.0)
    assert 'data-kpi="progress"' in page.content.decode()


class TestKeptFigures:
    """The offices' page reads the figures kept per small area (refreshed on commit and by the beat), with the
    time they are as of; they equal a live count once refreshed."""

    def test_the_district_page_reads_the_kept_figures_with_their_time(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        from supervision.completeness.models import AreaFigures
        from supervision.completeness.services import completeness_refresh

        a, b, _c = units(cast, 3)
        visit_record(dwelling_unit=a, actor=cast.enumerator_a1, outcome=Outcome.NOT_DWELLING)
        visit_record(dwelling_unit=b, actor=cast.enumerator_a1, outcome=Outcome.NOBODY_HOME)
        # Every small area gets a row (three in the cast), A1's by hand: 3 units, 1 final, 1 callback, 1 unvisited.
        assert completeness_refresh() == 3
        kept = AreaFigures.objects.get(small_area=cast.area_a1)
        assert (kept.units, kept.final, kept.callbacks, kept.no_outcome, kept.township_id) == (
            3,
            1,
            1,
            1,
            cast.township_a.code,
        )
        client = login(cast.district_office)
        url = reverse("supervision:completeness")
        page = client.get(url)
        totals = {t.code: row for t, row in page.context["townships"]}
        assert (totals[cast.township_a.code]["units"], totals[cast.township_a.code]["final"]) == (3, 1)
        assert page.context["total"]["as_of"] == kept.refreshed_at
        assert "data-as-of" in page.content.decode()
        # A visit after the refresh is not on the page until the next refresh: the page says as of when.
        visit_record(
            dwelling_unit=b,
            actor=cast.enumerator_a1,
            outcome=Outcome.VACANT,
            evidence_kind="neighbour",
            evidence_upload=evidence(),
        )
        assert {t.code: r for t, r in client.get(url).context["townships"]}[cast.township_a.code]["final"] == 1
        assert completeness_refresh(small_area_ids=[cast.area_a1.pk]) == 1
        page = client.get(url)
        assert {t.code: r for t, r in page.context["townships"]}[cast.township_a.code]["final"] == 2
        township = login(cast.township_office_a).get(url)
        a1 = {row.small_area.code: row for row in township.context["areas"]}[cast.area_a1.code]
        assert (a1.units, a1.final, a1.callbacks) == (3, 2, 0) and a1.as_of is not None

    def test_the_district_page_reads_a_constant_number_of_queries(self, cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        from supervision.completeness.services import completeness_refresh
        from tests.census.factories import SmallAreaFactory

        client = login(cast.district_office)
        url = reverse("supervision:completeness")
        (unit,) = units(cast, 1)
        visit_record(dwelling_unit=unit, actor=cast.enumerator_a1, outcome=Outcome.NOT_DWELLING)
        completeness_refresh()
        client.get(url)

        def count() -> int:
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            return len(queries)

        before = count()
        for number in range(3, 8):
            area = SmallAreaFactory(village=cast.village_a, code=f"{cast.village_a.code}{number:03d}")
            building_create(small_area=area, number="B1", actor=cast.enumerator_a1)
        completeness_refresh()
        assert count() == before
