"""The household API and personal data: masked by the one rule of ``census.privacy`` (superusers and offices see
masks), and every response that shows names or ID numbers unmasked writes one audit event naming the households
— one per request, not one per row."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from census.models import AuditAction, AuditEvent, StaffMember
from enumeration.models import Household
from enumeration.services import household_list, household_save
from tests.census.factories import EnumeratorFactory, SmallAreaAssignmentFactory
from tests.conftest import Cast
from tests.enumeration.factories import family_form

pytestmark = pytest.mark.django_db

HEADS = ("王伟", "李建国", "张秀英")


def api_as(user: StaffMember) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def views_of(user: StaffMember) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=AuditAction.VIEW_PERSONAL_DATA, actor_id=user.pk).order_by("id"))


def shown(event: AuditEvent) -> set[int]:
    """The households an event says were shown: its object, or the ids of the list it names."""
    ids = {int(pk) for pk in event.detail.get("ids", [])}
    if event.object_id:
        ids.add(int(event.object_id))
    return ids


@pytest.fixture
def households(cast: Cast) -> list[Household]:
    """Three households of enumerator A1's small area, the first with its persons saved (a family of three)."""
    rows = [
        household_list(small_area=cast.area_a1, actor=cast.enumerator_a1, head_name=head, expected_persons=3)
        for head in HEADS
    ]
    data, persons = family_form()
    household_save(
        household=rows[0], actor=cast.enumerator_a1, expected_version=rows[0].version, data=data, persons=persons
    )
    return rows


def person_values(households: list[Household]) -> tuple[list[str], list[str]]:
    persons = list(households[0].persons.order_by("row_no"))
    return [p.d1_name for p in persons], [p.d3_id_number for p in persons]


def test_the_enumerator_s_list_writes_one_event_naming_the_households_shown(
    cast: Cast, households: list[Household]
) -> None:
    response = api_as(cast.enumerator_a1).get(reverse("api-household-list"))
    assert [row["head_name_listed"] for row in response.json()["results"]] == list(HEADS)
    events = views_of(cast.enumerator_a1)
    assert len(events) == 1
    event = events[0]
    assert (event.actor_username, event.object_type) == (cast.enumerator_a1.username, "enumeration.household")
    assert shown(event) == {h.pk for h in households} and event.detail["count"] == 3


def test_the_enumerator_s_detail_writes_one_event_for_the_household(cast: Cast, households: list[Household]) -> None:
    names, numbers = person_values(households)
    detail = api_as(cast.enumerator_a1).get(reverse("api-household-detail", args=[households[0].pk])).json()
    assert [p["d1_name"] for p in detail["persons"]] == names and [p["d3_id_number"] for p in detail["persons"]] == (
        numbers
    )
    events = views_of(cast.enumerator_a1)
    assert len(events) == 1 and shown(events[0]) == {households[0].pk}
    assert events[0].object_type == "enumeration.household"


def test_an_empty_page_shows_nobody_and_writes_nothing(cast: Cast, households: list[Household]) -> None:
    response = api_as(cast.enumerator_a1).get(reverse("api-household-list"), {"state": "locked"})
    assert response.json()["results"] == []
    assert not views_of(cast.enumerator_a1)


def _superuser_enumerator(cast: Cast) -> StaffMember:
    root = EnumeratorFactory(username="root_enum", is_superuser=True, township=cast.township_a)
    SmallAreaAssignmentFactory(staff=root, small_area=cast.area_a1)
    return root


@pytest.mark.parametrize("who", ["superuser_enumerator", "township_office_a", "district_office", "auditor"])
def test_superusers_and_offices_read_masked_values_and_no_event_is_written(
    cast: Cast, households: list[Household], who: str
) -> None:
    user = _superuser_enumerator(cast) if who == "superuser_enumerator" else getattr(cast, who)
    names, numbers = person_values(households)
    client = api_as(user)
    listed = client.get(reverse("api-household-list"), {"small_area": cast.area_a1.pk})
    assert listed.status_code == 200
    assert [row["head_name_listed"] for row in listed.json()["results"]] == ["王*", "李**", "张**"]
    detail = client.get(reverse("api-household-detail", args=[households[0].pk]))
    assert detail.status_code == 200
    persons = detail.json()["persons"]
    assert [p["d1_name"] for p in persons] == [name[0] + "*" * (len(name) - 1) for name in names]
    assert [p["d3_id_number"] for p in persons] == [n[:4] + "*" * 10 + n[-4:] for n in numbers]
    versions = client.get(reverse("api-household-versions", args=[households[0].pk]))
    assert versions.status_code == 200
    for response in (listed, detail, versions):
        body = response.content.decode()
        assert not any(value in body for value in (*HEADS, *names, *numbers))
    assert not views_of(user)


def test_the_versions_of_a_signed_form_changed_show_names_to_the_supervisor_once_audited(
    cast: Cast, households: list[Household]
) -> None:
    from tests.quality.factories import persons_of, resign, sign_family

    household = sign_family(cast.area_a1, cast.enumerator_a1, head="周文")
    persons = persons_of(household)
    persons[2]["d1_name"] = "周晓明"
    resign(household, cast.enumerator_a1, persons=persons)
    response = api_as(cast.supervisor_a).get(reverse("api-household-versions", args=[household.pk]))
    assert "周晓明" in response.content.decode()
    events = views_of(cast.supervisor_a)
    assert len(events) == 1 and shown(events[0]) == {household.pk}


def test_a_list_read_outside_a_transaction_writes_its_event_in_one_statement(
    cast: Cast, households: list[Household], django_assert_num_queries: Any
) -> None:
    """The audit entry of a list read is one INSERT beside the page's query (census.api.ReadsOutsideTransaction):
    the savepoint pair of the test's transaction, the small areas, the page with its count, the event."""
    with django_assert_num_queries(5):
        api_as(cast.enumerator_a1).get(reverse("api-household-list"))
    assert len(views_of(cast.enumerator_a1)) == 1
