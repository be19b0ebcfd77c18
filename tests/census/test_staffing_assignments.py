"""Who works where (issue 20, part 3): the assignment page shows a township's small areas with their expected
households and each worker's load; areas are assigned, taken off and handed over; a hand-over gives the
successor the open work while signed forms keep their registrar and their findings stay with that person (谁普查、
谁负责) and are shown to the successor; areas nobody active covers, or too many cover, show on the township
dashboard."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils.translation import gettext as _

from census.api import ApplicationError
from census.models import AuditEvent, Role, SmallAreaAssignment, StaffStatus, SupervisorAssignment
from census.staffing import services
from census.staffing.services import StaffPermissionError
from enumeration.models import HouseholdState
from enumeration.services import household_list, household_save
from enumeration.verification import verify
from supervision.quality.models import Finding
from supervision.quality.selectors import my_findings
from tests.census.factories import SmallAreaFactory
from tests.conftest import Cast
from tests.enumeration.factories import family_form
from tests.quality.factories import run, sign_family, tamper

pytestmark = pytest.mark.django_db


def new_enumerator(cast: Cast, username: str = "successor") -> object:
    return services.staff_create(
        username=username,
        role=Role.ENUMERATOR,
        district_id="511504",
        township_id=cast.township_a.code,
        full_name="孙丽",
        password="another-long-password-1",
        actor=cast.township_office_a,
    )


def list_households(area: object, enumerator: object, n: int) -> None:
    for _number in range(n):
        household_list(small_area=area, actor=enumerator, head_name="张三", expected_persons=2)  # type: ignore[arg-type]


def cell(page: str, table: str, key: str, column: str) -> str:
    """The text of one cell of a page's table (rows carry data-key, cells data-col)."""
    row_start = page.index(f'data-key="{key}"', page.index(f'data-table="{table}"'))
    cell_start = page.index(f'data-col="{column}">', row_start) + len(f'data-col="{column}">')
    return page[cell_start : page.index("</td>", cell_start)].strip()


# --- the page -------------------------------------------------------------------------------------------------


def test_the_page_shows_expected_households_and_each_workers_load(cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
    list_households(cast.area_a1, cast.enumerator_a1, 5)
    list_households(cast.area_a2, cast.enumerator_a2, 3)
    # enum_a1 also covers a2: 5 + 3 households expected from the two listings.
    services.small_area_assign(staff=cast.enumerator_a1, small_area=cast.area_a2, actor=cast.township_office_a)
    page = login(cast.township_office_a).get(reverse("frame:assignments")).content.decode()
    assert cell(page, "areas", cast.area_a1.code, "expected") == "5"
    assert cell(page, "areas", cast.area_a2.code, "expected") == "3"
    assert cell(page, "workers", "enum_a1", "areas") == "2" and cell(page, "workers", "enum_a1", "households") == "8"
    assert cell(page, "workers", "enum_a2", "areas") == "1" and cell(page, "workers", "enum_a2", "households") == "3"
    assert cast.area_b1.code not in page and "enum_b1" not in page  # township B's are not the office's


def test_an_office_assigns_areas_and_puts_enumerators_under_a_supervisor(cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
    area = SmallAreaFactory(village=cast.village_a, code="511504101201003")
    client = login(cast.township_office_a)
    response = client.post(
        reverse("frame:assignments"), {"action": "assign", "areas": [area.pk], "staff": cast.enumerator_a2.pk}
    )
    assert response.status_code == 302
    assert SmallAreaAssignment.objects.filter(small_area=area, staff=cast.enumerator_a2).exists()
    successor = new_enumerator(cast)
    client.post(
        reverse("frame:assignments"),
        {"action": "supervise", "enumerators": [successor.pk], "supervisor": cast.supervisor_a.pk},  # type: ignore[attr-defined]
    )
    assert SupervisorAssignment.objects.get(enumerator=successor).supervisor == cast.supervisor_a
    client.post(reverse("frame:assignments"), {"action": "unassign", "pair": f"{area.pk}-{cast.enumerator_a2.pk}"})
    assert not SmallAreaAssignment.objects.filter(small_area=area).exists()
    changes = AuditEvent.objects.filter(object_type__in=("small_area_assignment", "supervisor_assignment"))
    assert sorted(e.detail["change"] for e in changes) == ["assigned", "assigned", "unassigned"]


def test_an_office_cannot_assign_in_another_township(cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
    client = login(cast.township_office_a)
    # Township B's area is not on township A's page: nothing ticked, nothing done.
    client.post(
        reverse("frame:assignments"), {"action": "assign", "areas": [cast.area_b1.pk], "staff": cast.enumerator_a2.pk}
    )
    refused = client.post(
        reverse("frame:assignments"), {"action": "assign", "areas": [cast.area_a1.pk], "staff": cast.enumerator_b1.pk}
    )
    assert refused.status_code == 404
    assert not SmallAreaAssignment.objects.filter(small_area=cast.area_b1, staff=cast.enumerator_a2).exists()
    with pytest.raises(StaffPermissionError):
        services.small_area_assign(staff=cast.enumerator_b1, small_area=cast.area_b1, actor=cast.township_office_a)
    with pytest.raises(StaffPermissionError):
        services.supervisor_assign(
            supervisor=cast.supervisor_b, enumerator=cast.enumerator_b1, actor=cast.township_office_a
        )


def test_nobody_inactive_takes_on_work(cast: Cast) -> None:
    services.staff_status_set(
        member=cast.enumerator_a2, status=StaffStatus.SUSPENDED, reason="病假", actor=cast.township_office_a
    )
    cast.enumerator_a2.refresh_from_db()
    not_active = _("%(name)s is not active and cannot take on work.") % {"name": cast.enumerator_a2.get_full_name()}
    with pytest.raises(ValidationError, match=re.escape(not_active)):
        services.small_area_assign(staff=cast.enumerator_a2, small_area=cast.area_a1, actor=cast.township_office_a)


def test_a_failed_action_changes_nothing(cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
    """Two areas ticked, the second refused (the supervisor of an area is fine; an inactive person is not): neither
    is assigned."""
    services.staff_status_set(
        member=cast.enumerator_a2, status=StaffStatus.LEFT, reason="离职", actor=cast.township_office_a
    )
    before = SmallAreaAssignment.objects.count()
    client = login(cast.township_office_a)
    client.post(
        reverse("frame:assignments"),
        {"action": "assign", "areas": [cast.area_a1.pk, cast.area_a2.pk], "staff": cast.enumerator_a2.pk},
    )
    assert SmallAreaAssignment.objects.count() == before


# --- handing an area over --------------------------------------------------------------------------------------


def test_a_hand_over_keeps_registrars_and_routes_findings_to_them(cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
    predecessor, area = cast.enumerator_a1, cast.area_a1
    signed = sign_family(area, predecessor)
    draft = household_list(small_area=area, actor=predecessor, head_name="李四", expected_persons=3)
    form, rows = family_form()
    draft = household_save(household=draft, actor=predecessor, expected_version=draft.version, data=form, persons=rows)
    untouched = household_list(small_area=area, actor=predecessor, head_name="赵五", expected_persons=2)
    successor = new_enumerator(cast)
    services.supervisor_assign(supervisor=cast.supervisor_a, enumerator=successor, actor=cast.township_office_a)  # type: ignore[arg-type]

    response = login(cast.township_office_a).post(
        reverse("frame:assignments"),
        {"action": "handover", "areas": [area.pk], "staff": successor.pk},  # type: ignore[attr-defined]
    )
    assert response.status_code == 302
    assert list(SmallAreaAssignment.objects.filter(small_area=area).values_list("staff__username", flat=True)) == [
        "successor"
    ]
    signed.refresh_from_db()
    draft.refresh_from_db()
    untouched.refresh_from_db()
    # The signed form keeps its registrar and signer (谁登记、谁签字) …
    assert signed.registrar == predecessor and signed.current_signature.signer == predecessor  # type: ignore[union-attr]
    assert signed.state == HouseholdState.SIGNED
    # … the draft nobody signed is the successor's now, its version moved on (a stale phone copy is refused) …
    assert draft.registrar == successor and draft.version == 3 and draft.state == HouseholdState.DRAFT
    household_save(household=draft, actor=successor, expected_version=draft.version, data=form, persons=rows)  # type: ignore[arg-type]
    draft.refresh_from_db()
    with pytest.raises(ApplicationError):
        household_save(household=draft, actor=predecessor, expected_version=draft.version, data=form, persons=rows)
    # … and the listed household was nobody's yet: whoever covers the area registers it.
    assert untouched.registrar is None
    handed = AuditEvent.objects.get(detail__change="handed_over")
    assert (handed.detail["from"], handed.detail["to"], handed.detail["open_records_moved"]) == (
        "enum_a1",
        "successor",
        1,
    )

    # The hand-over is sealed in the draft's trail: the ledger vouches for the new registrar.
    trail = list(draft.transitions.order_by("at", "id").values_list("from_state", "to_state", "actor_id"))
    assert trail[-1] == (HouseholdState.DRAFT, HouseholdState.DRAFT, successor.pk)  # type: ignore[attr-defined]
    assert all(not mismatches for _area, mismatches in verify())

    # A problem found after the hand-over in the signed form goes to the person who registered and signed it.
    tamper("UPDATE enumeration_person SET d5_birth_month = 8 WHERE household_id = %s AND row_no = 3", [signed.pk])
    run()
    assert not Finding.objects.filter(rule="REGISTRAR_CHANGED").exists()  # the sealed hand-over is no tampering
    finding = Finding.objects.get(rule="ID_BIRTH_MISMATCH")
    assert finding.responsible == predecessor and finding.supervisor == cast.supervisor_a
    # The successor sees it — in the area's findings, and under "in my areas, registered by others" —
    # but it is not theirs to act on.
    assert Finding.objects.visible_to(successor).filter(pk=finding.pk).exists()  # type: ignore[arg-type]
    assert finding in my_findings(user=successor, show="areas")  # type: ignore[arg-type]
    assert finding not in my_findings(user=successor, show="act")  # type: ignore[arg-type]
    assert finding in my_findings(user=predecessor, show="act")
    successor_client = Client()
    successor_client.force_login(successor)  # type: ignore[arg-type]
    page = successor_client.get(reverse("supervision:my-findings"), {"show": "areas"}).content.decode()
    assert reverse("supervision:finding-detail", args=[finding.pk]) in page and predecessor.get_full_name() in page


def test_a_hand_over_of_an_area_its_successor_does_not_cover_is_refused(cast: Cast) -> None:
    not_covered = _("%(name)s does not cover %(area)s.") % {
        "name": cast.enumerator_a2.get_full_name(),
        "area": cast.area_a1.code,
    }
    with pytest.raises(ValidationError, match=re.escape(not_covered)):
        services.small_area_reassign(
            small_area=cast.area_a1,
            predecessor=cast.enumerator_a2,
            successor=cast.enumerator_a1,
            actor=cast.township_office_a,
        )


# --- the township dashboard --------------------------------------------------------------------------------------


def test_areas_nobody_active_covers_or_too_many_cover_show_on_the_township_dashboard(cast: Cast, settings) -> None:  # type: ignore[no-untyped-def]
    settings.CENSUS_STAFFING = {**settings.CENSUS_STAFFING, "MAX_ENUMERATORS_PER_AREA": 1}
    office_a, office_b = Client(), Client()
    office_a.force_login(cast.township_office_a)
    office_b.force_login(cast.township_office_b)
    assert 'id="staffing-gaps"' not in office_a.get(reverse("supervision:dashboard")).content.decode()

    # Township B's only enumerator leaves: area b1 has nobody active.
    services.staff_status_set(
        member=cast.enumerator_b1, status=StaffStatus.LEFT, reason="离职", actor=cast.township_office_b
    )
    # Township A's area a1 gets a second enumerator, over the limit of one.
    services.small_area_assign(staff=cast.enumerator_a2, small_area=cast.area_a1, actor=cast.township_office_a)

    page_b = office_b.get(reverse("supervision:dashboard")).content.decode()
    gaps_b = page_b[page_b.index('id="staffing-gaps"') :]
    assert f'data-key="{cast.area_b1.code}"' in gaps_b and cast.area_a1.code not in gaps_b
    page_a = office_a.get(reverse("supervision:dashboard")).content.decode()
    gaps_a = page_a[page_a.index('id="staffing-gaps"') :]
    assert f'data-key="{cast.area_a1.code}"' in gaps_a and f'data-key="{cast.area_a2.code}"' not in gaps_a
    assert cast.area_b1.code not in gaps_a


def test_a_registrar_changed_behind_the_applications_back_is_still_caught(cast: Cast) -> None:
    """Only a sealed hand-over makes someone else a form's registrar: an UPDATE by hand is reported."""
    draft = household_list(small_area=cast.area_a1, actor=cast.enumerator_a1, head_name="李四", expected_persons=3)
    form, rows = family_form()
    household_save(household=draft, actor=cast.enumerator_a1, expected_version=draft.version, data=form, persons=rows)
    tamper("UPDATE enumeration_household SET registrar_id = %s WHERE id = %s", [cast.enumerator_a2.pk, draft.pk])
    assert [m.kind for _area, found in verify() for m in found] == ["registrar"]
    run()
    assert Finding.objects.filter(rule="REGISTRAR_CHANGED", household=draft).exists()
