"""The sample re-check's draw (issue 23, deliver 3, the draw only): reproducible from its seed, never a checker in
an area they enumerated; and the coverage estimate from the database (deliver 4): the census persons of the drawn
small areas against the re-check's list, on a hand-worked case, and its page with the method."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from census.api import ApplicationError
from census.models import SmallArea, SmallAreaAssignment
from enumeration.models import Household, Person
from supervision.completeness.models import RecheckArea, RecheckDraw
from supervision.completeness.recheck import coverage_estimates, coverage_refresh, recheck_draw, recheck_person_add
from tests.census.factories import EnumeratorFactory, SmallAreaAssignmentFactory, SmallAreaFactory
from tests.conftest import Cast
from tests.enumeration.test_services_registration import register

pytestmark = pytest.mark.django_db


def sample_of(draw: RecheckDraw) -> list[tuple[str, int | None, list[int]]]:
    return [(a.small_area.code, a.checker_id, a.household_ids) for a in draw.areas.select_related("small_area")]


def more_areas(cast: Cast) -> None:
    """Township A gets four more small areas, each with its own enumerator, so that draws have a choice."""
    for number in range(3, 7):
        area = SmallAreaFactory(village=cast.village_a, code=f"{cast.village_a.code}{number:03d}")
        SmallAreaAssignmentFactory(
            staff=EnumeratorFactory(username=f"enum_a{number}", township=cast.township_a), small_area=area
        )


class TestDraw:
    def test_the_same_seed_draws_the_same_sample(self, cast: Cast, password: str) -> None:
        more_areas(cast)
        for _ in range(12):
            register(cast, password)
        first = recheck_draw(actor=cast.district_office, seed=20201101, areas_per_township=2, household_rate=0.5)
        again = recheck_draw(actor=cast.district_office, seed=20201101, areas_per_township=2, household_rate=0.5)
        assert sample_of(first) == sample_of(again)
        assert len(sample_of(first)) == 3  # two small areas of township A, the only one of township B
        seeds = {
            tuple(
                map(
                    tuple,
                    (x[:2] for x in sample_of(recheck_draw(actor=cast.district_office, seed=s, areas_per_township=2))),
                )
            )
            for s in range(8)
        }
        assert len(seeds) > 1  # the seed matters

    def test_a_checker_never_rechecks_an_area_they_enumerated(self, cast: Cast, password: str) -> None:
        more_areas(cast)
        register(cast, password)  # enumerator A1 registered in A1
        # A2's enumerator also registered a household in A3 (helping out): A3 is theirs too.
        a3 = SmallArea.objects.get(code=f"{cast.village_a.code}003")
        helped = register(cast, password)
        Household.objects.filter(pk=helped.pk).update(small_area=a3, registrar=cast.enumerator_a2)
        for seed in range(30):
            draw = recheck_draw(actor=cast.township_office_a, seed=seed, areas_per_township=3)
            for area in draw.areas.all():
                assert area.checker_id is not None
                assigned = set(
                    SmallAreaAssignment.objects.filter(small_area=area.small_area).values_list("staff_id", flat=True)
                )
                registrars = set(
                    Household.objects.filter(small_area=area.small_area).values_list("registrar_id", flat=True)
                )
                assert area.checker_id not in assigned | registrars, (seed, area.small_area.code)
        assert {a.small_area.township_id for a in RecheckArea.objects.all()} == {cast.township_a.code}

    def test_only_offices_draw(self, cast: Cast) -> None:
        with pytest.raises(ApplicationError):
            recheck_draw(actor=cast.supervisor_a, seed=1)


def rename(household: Household, names: list[tuple[str, str]]) -> None:
    """Give the census persons of a form their own names and ID numbers (each test family is otherwise the same
    family), behind the application's back: coverage reads the rows as they are."""
    with connection.cursor() as cursor:
        for row, (name, id_number) in enumerate(names, start=1):
            cursor.execute(
                "UPDATE enumeration_person SET d1_name = %s, d3_id_number = %s WHERE household_id = %s AND row_no = %s",
                [name, id_number, household.pk, row],
            )


def test_the_coverage_estimate_from_the_database_on_a_hand_worked_case(cast: Cast, password: str, login) -> None:  # type: ignore[no-untyped-def]
    # Census in A1: 4 forms × 3 persons = 12, one of them counted twice (the same ID number) → C = 11, D = 1.
    forms = [register(cast, password) for _ in range(4)]
    ids = iter(f"51152119800101{n:03d}X" for n in range(100))
    people = [[(f"甲{f}{r}", next(ids)) for r in range(3)] for f in range(4)]
    people[3][2] = people[0][0]  # form 4's third person is form 1's first again
    for form, names in zip(forms, people, strict=True):
        rename(form, names)
    draw = RecheckDraw.objects.create(district_id=cast.township_a.code[:6], seed=1, drawn_by=cast.district_office)
    area = RecheckArea.objects.create(draw=draw, small_area=cast.area_a1, checker=cast.enumerator_a2)
    # The re-check lists 10 persons: 8 census persons by ID number, 1 by name + sex + birth month without an ID,
    # 1 the census missed. (Persons row 1 of each family are men born 1980-05.)
    listed = [people[f][r] for f in range(3) for r in range(3)][:8]
    for name, id_number in listed:
        p = Person.objects.filter(d3_id_number=id_number, d1_name=name).order_by("pk").first()
        assert p is not None
        recheck_person_add(
            area=area,
            actor=cast.enumerator_a2,
            name=name,
            sex=p.d4_sex,
            birth_year=p.d5_birth_year,
            birth_month=p.d5_birth_month,
            id_number=id_number,
        )
    p = Person.objects.get(d1_name=people[3][0][0])
    recheck_person_add(
        area=area,
        actor=cast.enumerator_a2,
        name=p.d1_name,
        sex=p.d4_sex,
        birth_year=p.d5_birth_year,
        birth_month=p.d5_birth_month,
    )
    recheck_person_add(area=area, actor=cast.enumerator_a2, name="未登记者", sex=2, birth_year=1990, birth_month=1)
    with pytest.raises(ApplicationError):
        recheck_person_add(area=area, actor=cast.enumerator_a1, name="x", sex=1, birth_year=1990, birth_month=1)
    estimates = coverage_estimates(areas=RecheckArea.objects.filter(pk=area.pk))
    township = estimates[cast.township_a.code]
    # C = 11, P = 10, M = 9, D = 1: N = 12·11/10 − 1 = 12.2; omission 1 − 11/12.2; double count 1/12.
    assert (township.census, township.recheck, township.matched, township.duplicates) == (11, 10, 9, 1)
    assert township.population == pytest.approx(12 * 11 / 10 - 1)
    assert township.omission_rate == pytest.approx(1 - 11 / 12.2)
    assert township.double_rate == pytest.approx(1 / 12)
    assert estimates[""].population == pytest.approx(township.population)
    # The page reads the kept estimate: none before the refresh (the task enqueued on commit) has run …
    client = login(cast.district_office)
    page = client.get(reverse("supervision:coverage"))
    html = page.content.decode()
    assert page.status_code == 200 and 'id="method"' in html and "Chapman" in html
    assert page.context["whole"] is None and 'data-as-of="none"' in html
    # … and the same figures, with the time they are as of, once it has.
    assert coverage_refresh(draw_id=draw.pk) == 2  # the township and the whole
    page = client.get(reverse("supervision:coverage"))
    assert page.context["whole"].matched == 9 and page.context["whole"].census == 11
    assert page.context["as_of"] is not None and "data-as-of>" in page.content.decode()


def test_the_clerical_review_decides_a_doubtful_pair(cast: Cast, password: str, login) -> None:  # type: ignore[no-untyped-def]
    from supervision.completeness.models import ClericalDecision

    form = register(cast, password)
    rename(form, [("赵六", "511521198005120011"), ("钱八", "511521198203120022"), ("孙九", "511521201009120033")])
    draw = RecheckDraw.objects.create(district_id=cast.township_a.code[:6], seed=3, drawn_by=cast.district_office)
    area = RecheckArea.objects.create(draw=draw, small_area=cast.area_a1, checker=cast.enumerator_a2)
    # 赵六 is a man born 1980-05 on the form; the re-check heard 1980-07 and has no ID number: doubtful.
    doubtful = recheck_person_add(
        area=area, actor=cast.enumerator_a2, name="赵六", sex=1, birth_year=1980, birth_month=7
    )
    census_zhao = Person.objects.get(household=form, d1_name="赵六")
    estimates = coverage_estimates(areas=RecheckArea.objects.filter(pk=area.pk))
    assert (estimates[""].matched, estimates[""].pending) == (0, 1)
    office = login(cast.township_office_a)
    page = office.get(reverse("supervision:clerical"))
    assert [case.person.pk for case in page.context["cases"]] == [doubtful.pk]
    assert [c.pk for c in page.context["cases"][0].candidates] == [census_zhao.pk]
    # A candidate must be one of the case's.
    other = Person.objects.get(household=form, d1_name="钱八")
    office.post(reverse("supervision:clerical-decide"), {"person": doubtful.pk, "census_person": other.pk})
    assert not ClericalDecision.objects.exists()
    assert (
        office.post(
            reverse("supervision:clerical-decide"), {"person": doubtful.pk, "census_person": census_zhao.pk}
        ).status_code
        == 302
    )
    assert ClericalDecision.objects.get().census_person_id == census_zhao.pk
    estimates = coverage_estimates(areas=RecheckArea.objects.filter(pk=area.pk))
    assert (estimates[""].matched, estimates[""].pending) == (1, 0)
    assert office.get(reverse("supervision:clerical")).context["cases"] == []
    # Another township's office sees no such person.
    assert (
        login(cast.township_office_b)
        .post(reverse("supervision:clerical-decide"), {"person": doubtful.pk, "census_person": census_zhao.pk})
        .status_code
        == 404
    )
    assert login(cast.enumerator_a1).get(reverse("supervision:clerical")).status_code == 403
