"""Who sees names and ID numbers unmasked, and the template filters every page uses to mask them."""

from __future__ import annotations

import pytest
from django.template import Context, Template

from census.models import AuditAction, AuditEvent, District, Role
from census.privacy import can_see_personal_data, record_personal_data_view
from tests.census.factories import StaffMemberFactory
from tests.conftest import Cast

pytestmark = pytest.mark.django_db

ID = "51150419800101003X"


def render(source: str, **context: object) -> str:
    return Template("{% load census_privacy %}" + source).render(Context(context))


def test_the_filters_mask_unless_told_to_show() -> None:
    assert render("{{ n|mask_id }}", n=ID) == "5115**********003X"
    assert render("{{ n|mask_name }}", n="张三丰") == "张**"
    assert render("{{ n|mask_id:show }} {{ m|mask_name:show }}", n=ID, m="张三丰", show=True) == f"{ID} 张三丰"
    # Only a real True unmasks: a stray string keeps the mask.
    assert render("{{ n|mask_id:show }}", n=ID, show="yes") == "5115**********003X"
    assert render("{{ n|mask_id }}|{{ m|mask_name }}", n=None, m="") == "|"


def test_the_masks_are_escaped_like_any_value() -> None:
    assert render("{{ n|mask_name:show }}", n="<b>王</b>", show=True) == "&lt;b&gt;王&lt;/b&gt;"
    assert "<" not in render("{{ n|mask_name }}", n="<script>")


def test_the_enumerator_sees_their_own_areas_unmasked_and_nothing_else(cast: Cast) -> None:
    assert can_see_personal_data(cast.enumerator_a1)
    assert can_see_personal_data(cast.enumerator_a1, cast.area_a1)
    assert not can_see_personal_data(cast.enumerator_a1, cast.area_a2)  # a colleague's small area
    assert not can_see_personal_data(cast.enumerator_a1, cast.area_b1)


def test_the_supervisor_sees_the_areas_they_review(cast: Cast) -> None:
    assert can_see_personal_data(cast.supervisor_a, cast.area_a1)
    assert can_see_personal_data(cast.supervisor_a, cast.area_a2)
    assert not can_see_personal_data(cast.supervisor_a, cast.area_b1)


@pytest.mark.parametrize("who", ["township_office_a", "district_office", "auditor", "department_user"])
def test_offices_departments_and_auditors_see_masked_data_even_in_their_scope(cast: Cast, who: str) -> None:
    user = getattr(cast, who)
    assert not can_see_personal_data(user)
    assert not can_see_personal_data(user, cast.area_a1)


def test_administrators_anonymous_and_inactive_users_see_masked_data(cast: Cast) -> None:
    from django.contrib.auth.models import AnonymousUser

    root = StaffMemberFactory(username="root", is_superuser=True, role=Role.ENUMERATOR, township=cast.township_a)
    assert not can_see_personal_data(root, cast.area_a1)
    assert not can_see_personal_data(AnonymousUser())
    cast.enumerator_a1.is_active = False
    assert not can_see_personal_data(cast.enumerator_a1, cast.area_a1)


def test_an_object_without_scoping_is_never_shown_unmasked(cast: Cast) -> None:
    assert not can_see_personal_data(cast.enumerator_a1, District.objects.get())


def test_the_tag_and_the_filters_together(cast: Cast) -> None:
    source = "{% can_see_personal_data user area as unmasked %}{{ n|mask_id:unmasked }}"
    assert render(source, user=cast.enumerator_a1, area=cast.area_a1, n=ID) == ID
    assert render(source, user=cast.enumerator_a1, area=cast.area_b1, n=ID) == "5115**********003X"
    assert render(source, user=cast.district_office, area=cast.area_a1, n=ID) == "5115**********003X"


def test_a_view_of_unmasked_data_is_written_to_the_audit_log(cast: Cast) -> None:
    event = record_personal_data_view(actor=cast.enumerator_a1, obj=cast.area_a1, fields=["d3_id_number", "d1_name"])
    assert AuditEvent.objects.get() == event
    assert (event.action, event.object_type, event.object_id) == (
        AuditAction.VIEW_PERSONAL_DATA,
        "census.smallarea",
        str(cast.area_a1.pk),
    )
    assert event.detail == {"fields": ["d1_name", "d3_id_number"]} and event.actor_username == "enum_a1"
