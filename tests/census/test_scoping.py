"""visible_to(user): each role sees its own part of the district and nothing else."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from census.models import SmallArea, StaffMember, Township, Village
from census.scoping import visible_to
from tests.conftest import Cast

pytestmark = pytest.mark.django_db


def codes(qs) -> set[str]:  # type: ignore[no-untyped-def]
    return set(qs.values_list("code", flat=True))


def test_an_enumerator_sees_only_their_own_small_area(cast: Cast) -> None:
    assert codes(SmallArea.objects.visible_to(cast.enumerator_a1)) == {cast.area_a1.code}
    assert codes(Village.objects.visible_to(cast.enumerator_a1)) == {cast.village_a.code}
    assert codes(Township.objects.visible_to(cast.enumerator_a1)) == {cast.township_a.code}


def test_a_supervisor_sees_the_areas_of_the_enumerators_they_oversee(cast: Cast) -> None:
    assert codes(SmallArea.objects.visible_to(cast.supervisor_a)) == {cast.area_a1.code, cast.area_a2.code}
    assert codes(SmallArea.objects.visible_to(cast.supervisor_b)) == {cast.area_b1.code}


def test_a_township_office_sees_its_township_only(cast: Cast) -> None:
    assert codes(SmallArea.objects.visible_to(cast.township_office_a)) == {cast.area_a1.code, cast.area_a2.code}
    assert codes(Township.objects.visible_to(cast.township_office_a)) == {cast.township_a.code}
    assert codes(Township.objects.visible_to(cast.township_office_b)) == {cast.township_b.code}


def test_the_district_office_and_auditor_see_the_whole_district(cast: Cast) -> None:
    every = {cast.area_a1.code, cast.area_a2.code, cast.area_b1.code}
    assert codes(SmallArea.objects.visible_to(cast.district_office)) == every
    assert codes(SmallArea.objects.visible_to(cast.auditor)) == every


def test_a_department_user_sees_no_census_area(cast: Cast) -> None:
    assert not SmallArea.objects.visible_to(cast.department_user).exists()


def test_anonymous_and_inactive_users_see_nothing(cast: Cast) -> None:
    assert not SmallArea.objects.visible_to(AnonymousUser()).exists()
    inactive = StaffMember.objects.get(pk=cast.district_office.pk)
    inactive.is_active = False
    assert not visible_to(SmallArea, inactive).exists()


def test_staff_lists_follow_the_scope(cast: Cast) -> None:
    assert set(StaffMember.objects.visible_to(cast.enumerator_a1)) == {cast.enumerator_a1}
    assert set(StaffMember.objects.visible_to(cast.supervisor_a)) == {
        cast.supervisor_a,
        cast.enumerator_a1,
        cast.enumerator_a2,
    }
    township_a_staff = set(StaffMember.objects.visible_to(cast.township_office_a))
    assert cast.enumerator_b1 not in township_a_staff and cast.enumerator_a2 in township_a_staff


def test_visible_to_refuses_an_unscoped_model() -> None:
    from django.contrib.auth.models import Group

    with pytest.raises(TypeError):
        visible_to(Group, AnonymousUser())
