"""The re-check interview (复查, issue 23 deliver 3): the checker's answers compared item by item with the forms,
the error rate (差错率) per small area and per registrar against the configured thresholds, and the acceptance
gate: a drawn small area's forms are not accepted or locked until its re-check passes, unless the district office
overrides with a written reason and its password. Expected figures are worked by hand from the test family
(王伟 head ♂ 1980-05, 李芳 spouse ♀ 1982-03, 王小明 child ♂ 2010-09; all D7 = 1, D8 = 1)."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from django.utils import translation

from census.api import ApplicationError, ConflictError
from enumeration.models import Household, HouseholdState
from enumeration.services import household_accept, household_approve, household_lock
from enumeration.services.acceptance import Blocked, outstanding_blockers
from supervision.completeness.comparison import (
    EXTRA,
    FAILED,
    ITEM,
    MISSED,
    PASSED,
    PENDING,
    Answers,
    Comparison,
    Thresholds,
    compare_household,
    verdict,
)
from supervision.completeness.models import RecheckArea, RecheckDraw, RecheckOverride
from supervision.completeness.recheck import household_draw_rate, recheck_area_override, recheck_household_save
from supervision.completeness.selectors import recheck_by_registrar, recheck_results
from tests.conftest import Cast
from tests.enumeration.test_services_registration import register

FAMILY: list[dict[str, Any]] = [
    {
        "name": "王伟",
        "sex": 1,
        "birth_year": 1980,
        "birth_month": 5,
        "relationship": 0,
        "residence": 1,
        "hukou_place": 1,
    },
    {
        "name": "李芳",
        "sex": 2,
        "birth_year": 1982,
        "birth_month": 3,
        "relationship": 1,
        "residence": 1,
        "hukou_place": 1,
    },
    {
        "name": "王小明",
        "sex": 1,
        "birth_year": 2010,
        "birth_month": 9,
        "relationship": 2,
        "residence": 1,
        "hukou_place": 1,
    },
]
GRANDMOTHER = {
    "name": "张秀英",
    "sex": 2,
    "birth_year": 1950,
    "birth_month": 2,
    "relationship": 5,
    "residence": 1,
    "hukou_place": 1,
}


def family(**changes: dict[str, Any]) -> list[dict[str, Any]]:
    """The test family as the re-check finds it; ``changes`` by name."""
    return [{**person, **changes.get(person["name"], {})} for person in FAMILY]


def a(key: int | str, name: str, **items: Any) -> Answers:
    return Answers(key, name, **items)


# --- the comparison, by hand -------------------------------------------------------------------------------


class TestComparison:
    def test_missed_extra_and_items_in_error(self) -> None:
        form = [
            a(1, "王伟", id_number="X1", sex=1, birth_year=1980, birth_month=5, relationship=0),
            a(2, "李芳", sex=2, birth_year=1982, birth_month=3, relationship=1),
            a(3, "王小明", sex=2, birth_year=2010, birth_month=9, relationship=2),  # sex entered wrongly
            a(4, "赵六", sex=1, birth_year=1970, birth_month=1, relationship=9),  # does not live there
        ]
        recheck = [
            # Paired by ID number although the name was typed differently.
            a("r1", "王 伟x", id_number="X1", sex=1, birth_year=1980, birth_month=5, relationship=0),
            a("r2", "李芳", sex=2, birth_year=1982, birth_month=4),  # birth month differs; relationship not asked
            a("r3", "王小明", sex=1, birth_year=2010, birth_month=9, relationship=2),  # paired by name alone
            a("r4", "张秀英", sex=2, birth_year=1950, birth_month=2, relationship=5),  # missed by the form
        ]
        result = compare_household(form, recheck)
        # Persons: 4 on the re-check; 1 missed (张秀英) + 1 counted in error (赵六) = 2.
        assert (result.persons_checked, result.persons_in_error) == (4, 2)
        # Items: 王伟 3 (sex, birth, relationship), 李芳 2 (sex, birth), 王小明 3 = 8; in error: 李芳's birth,
        # 王小明's sex = 2.
        assert (result.items_checked, result.items_in_error) == (8, 2)
        kinds = sorted((d.kind, d.item, d.name) for d in result.differences)
        assert kinds == [
            (EXTRA, "", "赵六"),
            (ITEM, "birth", "李芳"),
            (ITEM, "sex", "王小明"),
            (MISSED, "", "张秀英"),
        ]
        birth = next(d for d in result.differences if d.item == "birth")
        assert (birth.form, birth.recheck) == ((1982, 3), (1982, 4))
        assert result.person_rate == pytest.approx(2 / 4) and result.item_rate == pytest.approx(2 / 8)
        assert result.births_in_error == 0

    @pytest.mark.parametrize(
        ("year", "month", "is_birth"),
        [(2019, 10, False), (2019, 11, True), (2020, 10, True), (2020, 11, False)],
    )
    def test_a_birth_of_the_year_before_the_reference_moment_missed_counts_as_a_birth_in_error(
        self, year: int, month: int, is_birth: bool
    ) -> None:
        result = compare_household([], [a("r1", "婴儿", sex=1, birth_year=year, birth_month=month)])
        assert result.births_in_error == int(is_birth)
        extra = compare_household([a(1, "婴儿", sex=1, birth_year=year, birth_month=month)], [])
        assert extra.births_in_error == int(is_birth) and extra.persons_in_error == 1

    def test_the_verdict_against_the_thresholds(self) -> None:
        limits = Thresholds(person=0.004, item=0.004, births=0)
        # 1 person in error in 250 = 4‰: within; 1 in 249: over.
        assert verdict(Comparison(1, 250, 1, 0, 0, 0), drawn=1, thresholds=limits) == PASSED
        assert verdict(Comparison(1, 249, 1, 0, 0, 0), drawn=1, thresholds=limits) == FAILED
        assert verdict(Comparison(1, 1000, 0, 1000, 5, 0), drawn=1, thresholds=limits) == FAILED  # 5‰ of items
        assert verdict(Comparison(1, 1000, 0, 0, 0, 1), drawn=1, thresholds=limits) == FAILED  # one birth
        assert verdict(Comparison(1, 10, 0, 0, 0, 0), drawn=2, thresholds=limits) == PENDING


def test_the_draw_takes_a_rate_per_collection_mode(cast: Cast) -> None:
    draw = RecheckDraw(household_rate=0.1, self_report_rate=0.2, mode_rates={"phone": 0.5})
    assert household_draw_rate(draw, "in_person") == 0.1
    assert household_draw_rate(draw, "self") == 0.2
    assert household_draw_rate(draw, "phone") == 0.5
    draw.mode_rates = {"self": 0.6}
    assert household_draw_rate(draw, "self") == 0.6


# --- the interview, the rates and the gate, through the services -------------------------------------------


def approved_pair(cast: Cast, password: str) -> tuple[Household, Household, RecheckArea]:
    first, second = register(cast, password), register(cast, password)
    for household in (first, second):
        household_approve(household=household, actor=cast.supervisor_a)
    draw = RecheckDraw.objects.create(district_id=cast.township_a.code[:6], seed=7, drawn_by=cast.district_office)
    area = RecheckArea.objects.create(
        draw=draw, small_area=cast.area_a1, checker=cast.enumerator_a2, household_ids=[first.pk, second.pk]
    )
    return first, second, area


def state(household: Household) -> str:
    return Household.objects.get(pk=household.pk).state


@pytest.mark.django_db
def test_a_failing_re_check_blocks_acceptance_until_the_district_overrides(cast: Cast, password: str) -> None:
    first, second, area = approved_pair(cast, password)
    # Drawn, nothing re-checked yet: the township cannot accept either form.
    with pytest.raises(Blocked) as refused:
        household_accept(household=first, actor=cast.township_office_a)
    assert [b.kind for b in refused.value.blockers] == ["recheck"]
    assert refused.value.blockers[0].rule == PENDING
    # Only the area's checker re-checks, and only drawn households.
    with pytest.raises(ApplicationError):
        recheck_household_save(area=area, household=first, actor=cast.enumerator_a1, persons=family())
    # First household: 李芳's birth month heard as April. Second: a grandmother the form missed.
    recheck_household_save(
        area=area, household=first, actor=cast.enumerator_a2, persons=family(李芳={"birth_month": 4})
    )
    assert recheck_results([area])[0].verdict == PENDING
    recheck_household_save(area=area, household=second, actor=cast.enumerator_a2, persons=[*family(), GRANDMOTHER])
    (result,) = recheck_results([area])
    c = result.comparison
    # By hand: persons 3 + 4 = 7 re-checked, 1 missed; items 3·5 + 3·5 = 30 compared, 1 differs.
    assert (c.households, c.persons_checked, c.persons_in_error, c.items_checked, c.items_in_error) == (2, 7, 1, 30, 1)
    assert result.verdict == FAILED  # 1/7 = 143‰ > 4‰
    stored = RecheckArea.objects.get(pk=area.pk)
    assert (stored.persons_checked, stored.persons_in_error, stored.items_in_error) == (7, 1, 1)
    # Per registrar: both forms are enum_a1's.
    assert [(pk, rate.persons_in_error, rate.persons_checked) for pk, rate in recheck_by_registrar([result])] == [
        (cast.enumerator_a1.pk, 1, 7)
    ]
    with pytest.raises(Blocked) as refused:
        household_accept(household=second, actor=cast.township_office_a)
    assert refused.value.blockers[0].rule == FAILED
    assert state(second) == HouseholdState.APPROVED
    # The override: the district office only, a reason, the password.
    with pytest.raises(ApplicationError):
        recheck_area_override(area=area, actor=cast.township_office_a, reason="复查差错已核实为口误", password=password)
    with pytest.raises(ApplicationError):
        recheck_area_override(area=area, actor=cast.district_office, reason="复查差错已核实为口误", password="wrong")
    recheck_area_override(
        area=area, actor=cast.district_office, reason="复查差错已核实为口误，不影响汇总", password=password
    )
    with pytest.raises(ConflictError):
        recheck_area_override(
            area=area, actor=cast.district_office, reason="再次覆盖同一复查结果的理由", password=password
        )
    household_accept(household=first, actor=cast.township_office_a)
    household_accept(household=second, actor=cast.township_office_a)
    household_lock(household=first, actor=cast.district_office)
    assert (state(first), state(second)) == (HouseholdState.LOCKED, HouseholdState.ACCEPTED)
    # The summary tables that count these forms list the override, once for the small area.
    from supervision.progress.summaries.queries import overrides

    lines = [line for line in overrides(cast.district_office) if line.household == f"{cast.area_a1.code}-*"]
    assert [line.reason for line in lines] == ["复查差错已核实为口误，不影响汇总"]
    # A worse result later is not covered: the accepted form cannot be locked.
    recheck_household_save(
        area=area,
        household=second,
        actor=cast.enumerator_a2,
        persons=[*family(王小明={"sex": 2}), GRANDMOTHER],
    )
    assert outstanding_blockers([second.pk])[second.pk][0].kind == "recheck"
    with pytest.raises(Blocked):
        household_lock(household=second, actor=cast.district_office)
    assert RecheckOverride.objects.filter(area=area).count() == 1


@pytest.mark.django_db
def test_a_re_check_that_agrees_with_the_forms_lets_them_be_accepted(cast: Cast, password: str) -> None:
    first, second, area = approved_pair(cast, password)
    for household in (first, second):
        recheck_household_save(area=area, household=household, actor=cast.enumerator_a2, persons=family())
    (result,) = recheck_results([area])
    assert result.verdict == PASSED and result.comparison.persons_checked == 6
    household_accept(household=first, actor=cast.township_office_a)
    assert state(first) == HouseholdState.ACCEPTED
    # A form not yet approved is not held by the re-check (it applies at acceptance and lock only).
    assert outstanding_blockers([first.pk, second.pk]) == {}


@pytest.mark.django_db
def test_the_interview_page_hides_the_form_and_the_area_page_shows_the_differences(
    cast: Cast, password: str, login
) -> None:  # type: ignore[no-untyped-def]
    first, _second, area = approved_pair(cast, password)
    checker = login(cast.enumerator_a2)
    url = reverse("supervision:recheck-household", args=[area.pk])
    page = checker.get(url)  # the first household not yet re-checked
    assert page.context["household"] == first
    assert page.status_code == 200
    html = page.content.decode()
    assert "李芳" not in html and "王小明" not in html  # the form's answers are not shown to the checker
    rows = [family(李芳={"birth_month": 4})[i] for i in range(3)] + [GRANDMOTHER]
    data: dict[str, Any] = {
        "household": str(first.pk),
        "p-TOTAL_FORMS": "6",
        "p-INITIAL_FORMS": "0",
        "p-MIN_NUM_FORMS": "1",
        "p-MAX_NUM_FORMS": "40",
    }
    for index, person in enumerate(rows):
        data.update({f"p-{index}-{key}": str(value) for key, value in person.items()})
    # A half-filled row is refused with a message, and nothing is saved.
    refused = checker.post(url, {**data, "p-5-name": "无名"})
    assert refused.status_code == 400
    with translation.override("zh-hans"):
        assert translation.gettext("The re-check needs this item for every person listed.") in refused.content.decode()
    saved = checker.post(url, data)
    assert saved.status_code == 302
    # The enumerator of the area cannot open the interview; the checker cannot open a household not drawn.
    assert login(cast.enumerator_a1).get(url).status_code == 404
    other = register(cast, password)
    assert checker.get(url, {"household": other.pk}).status_code == 404
    assert checker.get(url, {"household": "x"}).status_code == 404
    office = login(cast.township_office_a).get(reverse("supervision:recheck-area", args=[area.pk]))
    html = office.content.decode()
    assert office.status_code == 200
    assert 'data-difference="item:birth"' in html and 'data-difference="missed"' in html
    assert office.context["result"].comparison.persons_in_error == 1
    assert 'data-verdict="pending"' in html  # the second household is not re-checked yet
    assert office.context["override_form"] is None  # the township office does not override
    district = login(cast.district_office)
    # The coverage page's acceptance state per township and area, from the kept score: A1 not finished.
    coverage = district.get(reverse("supervision:coverage"))
    assert [(name, state) for _code, name, _c, _drawn, state in coverage.context["rates"]] == [
        (cast.township_a.name, {PASSED: 0, FAILED: 0, PENDING: 1})
    ]
    assert coverage.context["areas"] == [] and "data-choose-township" in coverage.content.decode()
    chosen = district.get(reverse("supervision:coverage"), {"township": cast.township_a.code})
    assert 'data-area-state="pending"' in chosen.content.decode()
    assert district.get(reverse("supervision:recheck-area", args=[area.pk])).context["override_form"] is not None
    done = district.post(
        reverse("supervision:recheck-override", args=[area.pk]),
        {"reason": "复查尚未完成，先行验收", "password": password},
    )
    assert done.status_code == 302
    after = district.get(reverse("supervision:recheck-area", args=[area.pk]))
    assert "data-recheck-override" in after.content.decode() and after.context["override_form"] is None
    household_accept(household=first, actor=cast.township_office_a)
    assert state(first) == HouseholdState.ACCEPTED
