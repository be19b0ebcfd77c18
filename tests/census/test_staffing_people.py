"""People (issue 20, parts 1, 6 and 7): offices create, change and deactivate staff in their own scope, ID numbers
are checked as the forms check them, an ID number or phone belongs to one active person, a deactivated person's
session and token stop at once, the district office keeps the departments, and every change is in the audit log."""

from __future__ import annotations

import json
import re

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from census.api import ApplicationError
from census.identity import id_number_clean
from census.models import AuditAction, AuditEvent, Department, Role, StaffMember, StaffStatus, SupervisorAssignment
from census.staffing import services
from census.staffing.services import StaffPermissionError
from tests.census.factories import PASSWORD, id_number, staff_id_number
from tests.conftest import Cast

pytestmark = pytest.mark.django_db

# GB 11643-1999's own examples: valid numbers with a check character worked out by hand in the standard.
STANDARD_EXAMPLES = ("11010519491231002X", "440524188001010014")


def new_enumerator_post(**overrides: str) -> dict[str, str]:
    data = {
        "full_name": "李明",
        "role": Role.ENUMERATOR,
        "phone": "13800001111",
        "id_number": STANDARD_EXAMPLES[1],
        "unit": "甲镇中心小学",
        "selected_on": "2020-08-15",
        "trained_on": "2020-09-20",
        "exam_score": "92",
        "username": "",
        "credential_no": "",
    }
    data.update(overrides)
    return data


# --- ID numbers and phones --------------------------------------------------------------------------------


def test_the_standards_examples_are_valid_and_every_other_check_character_is_refused() -> None:
    for number in STANDARD_EXAMPLES:
        assert id_number_clean(number.lower()) == number
        for wrong in "0123456789X":
            if wrong != number[-1]:
                with pytest.raises(ValidationError) as refused:
                    id_number_clean(number[:17] + wrong)
                assert refused.value.code == "id_checksum"


def test_impossible_dates_and_malformed_numbers_are_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        id_number_clean(id_number("51152119800230001"))  # 30 February
    assert refused.value.code == "id_birth"
    for bad in ("51152119800101001", "5115211980A101001X", "51152119800101001Y"):
        with pytest.raises(ValidationError) as refused:
            id_number_clean(bad)
        assert refused.value.code == "id_format"


def test_the_staff_check_agrees_with_the_forms_check() -> None:
    """census.identity (census may not import enumeration) says valid exactly when enumeration.identity does."""
    from enumeration.identity import read_id_number

    numbers = [staff_id_number(n) for n in range(0, 200_000, 997)]
    numbers += [n[:17] + ("0" if n[-1] != "0" else "1") for n in numbers]
    for number in numbers:
        facts = read_id_number(number)
        forms_say = facts.well_formed and facts.checksum_ok and facts.birth_date is not None
        try:
            id_number_clean(number)
            staff_says = True
        except ValidationError:
            staff_says = False
        assert staff_says == forms_say, number


# --- creating, in one's own township only -------------------------------------------------------------------


def test_a_township_office_adds_an_enumerator_of_its_township(cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
    client = login(cast.township_office_a)
    response = client.post(reverse("frame:staff-new"), new_enumerator_post())
    member = StaffMember.objects.get(phone="13800001111")
    assert response.status_code == 302 and response["Location"] == reverse("frame:staff-detail", args=[member.pk])
    assert (member.username, member.last_name, member.first_name) == ("13800001111", "李", "明")
    assert member.role == Role.ENUMERATOR and member.township_id == cast.township_a.code
    assert member.district_id == cast.township_a.district_id and member.exam_score == 92
    # Nobody knows a password yet: the credential sheet brings a one-time one, to be changed at first login.
    assert not member.has_usable_password() and member.must_change_password
    assert member.credential_no == f"{cast.township_a.code}-{member.pk:06d}" and len(member.credential_key) >= 20
    event = AuditEvent.objects.get(object_type="staff", object_id=str(member.pk))
    assert event.action == AuditAction.PERMISSION_CHANGE and event.actor_username == "office_a"
    assert event.detail["change"] == "created" and event.detail["role"] == Role.ENUMERATOR


def test_a_township_office_is_offered_only_the_two_field_roles(cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
    client = login(cast.township_office_a)
    page = client.get(reverse("frame:staff-new")).content.decode()
    assert 'value="enumerator"' in page and 'value="supervisor"' in page
    assert 'value="district_office"' not in page and 'value="township_office"' not in page
    response = client.post(reverse("frame:staff-new"), new_enumerator_post(role=Role.DISTRICT_OFFICE))
    assert response.status_code == 400
    assert not StaffMember.objects.filter(phone="13800001111").exists()


def test_the_service_refuses_a_township_office_working_outside_its_township(cast: Cast) -> None:
    with pytest.raises(StaffPermissionError):
        services.staff_create(
            username="x1", role=Role.ENUMERATOR, district_id="511504", township_id=cast.township_b.code,
            actor=cast.township_office_a,
        )  # fmt: skip
    with pytest.raises(StaffPermissionError):
        services.staff_create(
            username="x2", role=Role.DISTRICT_OFFICE, district_id="511504", actor=cast.township_office_a
        )
    with pytest.raises(StaffPermissionError):
        services.staff_update(member=cast.enumerator_b1, actor=cast.township_office_a, phone="13900000000")
    with pytest.raises(StaffPermissionError):
        services.staff_status_set(member=cast.enumerator_b1, status=StaffStatus.LEFT, actor=cast.township_office_a)
    # Nor may it move its own enumerator to another township.
    with pytest.raises(StaffPermissionError):
        services.staff_update(member=cast.enumerator_a2, actor=cast.township_office_a, township_id=cast.township_b.code)
    assert not StaffMember.objects.filter(username__in=("x1", "x2")).exists()


def test_a_township_office_cannot_see_or_change_another_townships_staff_on_the_pages(cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
    client = login(cast.township_office_a)
    listing = client.get(reverse("frame:staff")).content.decode()
    assert "enum_a1" in listing and "enum_b1" not in listing and "office_b" not in listing
    other = cast.enumerator_b1
    assert client.get(reverse("frame:staff-detail", args=[other.pk])).status_code == 404
    changed = new_enumerator_post(full_name="王改", phone="13900002222")
    assert client.post(reverse("frame:staff-detail", args=[other.pk]), changed).status_code == 404
    left = {"status": StaffStatus.LEFT, "reason": "离职"}
    assert client.post(reverse("frame:staff-status", args=[other.pk]), left).status_code == 404
    other.refresh_from_db()
    assert other.get_full_name() != "王改" and other.status == StaffStatus.ACTIVE and other.is_active


def test_a_township_office_cannot_see_or_change_another_townships_staff_through_the_api(cast: Cast) -> None:
    client = Client()
    client.force_login(cast.township_office_a)
    listed = client.get("/api/frame/staff/").json()
    usernames = {row["username"] for row in listed["results"]}
    assert {"enum_a1", "enum_a2", "sup_a"} <= usernames and not usernames & {"enum_b1", "sup_b", "office_b"}
    other = cast.enumerator_b1
    assert client.get(f"/api/frame/staff/{other.pk}/").status_code == 404
    patch = client.patch(
        f"/api/frame/staff/{other.pk}/", json.dumps({"status": "left", "reason": "x"}), content_type="application/json"
    )
    assert patch.status_code == 404
    created = client.post(
        "/api/frame/staff/",
        json.dumps(
            {"full_name": "赵六", "role": "enumerator", "township": cast.township_b.code, "phone": "13700001234"}
        ),
        content_type="application/json",
    )
    assert created.status_code == 400 and "township" in created.json()
    other.refresh_from_db()
    assert other.is_active and not StaffMember.objects.filter(phone="13700001234").exists()


def test_the_api_creates_and_changes_staff_of_the_offices_township(cast: Cast) -> None:
    client = Client()
    client.force_login(cast.township_office_a)
    body = {"full_name": "赵六", "role": "supervisor", "phone": "13700001234", "id_number": STANDARD_EXAMPLES[0]}
    created = client.post("/api/frame/staff/", json.dumps(body), content_type="application/json")
    assert created.status_code == 201, created.content
    row = created.json()
    assert row["township"] == cast.township_a.code and row["username"] == "13700001234"
    assert row["id_number"] == "1101**********002X"  # masked: the API never gives it out in the clear
    changed = client.patch(
        f"/api/frame/staff/{row['id']}/", json.dumps({"exam_score": 88}), content_type="application/json"
    )
    assert changed.status_code == 200 and changed.json()["exam_score"] == 88


# --- one active person per ID number and phone ----------------------------------------------------------------


def test_an_id_number_or_phone_belongs_to_one_active_person(cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
    client = login(cast.township_office_a)
    assert client.post(reverse("frame:staff-new"), new_enumerator_post()).status_code == 302
    first = StaffMember.objects.get(phone="13800001111")
    same_id = client.post(reverse("frame:staff-new"), new_enumerator_post(phone="13800002222", username="other"))
    assert same_id.status_code == 400
    with translation.override("zh-hans"):
        assert _("Another active staff member has this ID number.") in same_id.content.decode()
    same_phone = client.post(
        reverse("frame:staff-new"), new_enumerator_post(id_number=STANDARD_EXAMPLES[0], username="other")
    )
    assert same_phone.status_code == 400
    with translation.override("zh-hans"):
        assert _("Another active staff member has this phone number.") in same_phone.content.decode()
    assert StaffMember.objects.filter(role=Role.ENUMERATOR, township=cast.township_a).count() == 3  # a1, a2, first
    # Once the first has left, the number may be someone else's (a person hired again gets a new account) …
    services.staff_status_set(member=first, status=StaffStatus.LEFT, reason="离职", actor=cast.township_office_a)
    successor = services.staff_create(
        username="successor",
        role=Role.ENUMERATOR,
        district_id="511504",
        township_id=cast.township_a.code,
        id_number=STANDARD_EXAMPLES[1],
        phone="13800001111",
        actor=cast.township_office_a,
    )
    assert successor.is_active
    # … and the first cannot be taken back while the successor holds it.
    with pytest.raises(ValidationError):
        services.staff_status_set(member=first, status=StaffStatus.ACTIVE, actor=cast.township_office_a)
    first.refresh_from_db()
    assert first.status == StaffStatus.LEFT and not first.is_active


def test_the_database_keeps_is_active_with_the_status(cast: Cast) -> None:
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        StaffMember.objects.filter(pk=cast.enumerator_a1.pk).update(is_active=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        StaffMember.objects.filter(pk=cast.enumerator_a1.pk).update(status=StaffStatus.SUSPENDED)


# --- switching a person off ------------------------------------------------------------------------------------


def test_a_deactivated_persons_session_and_token_stop_working_at_once(cast: Cast) -> None:
    enumerator = cast.enumerator_a1
    session = Client()
    signed_in = session.post(reverse("login"), {"username": enumerator.username, "password": PASSWORD})
    assert signed_in.status_code == 302
    assert session.get(reverse("enumeration:my-areas")).status_code == 200
    token = Token.objects.create(user=enumerator)
    api = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.get("/api/frame/me/").status_code == 200

    office = Client()
    office.force_login(cast.township_office_a)
    response = office.post(
        reverse("frame:staff-status", args=[enumerator.pk]), {"status": StaffStatus.SUSPENDED, "reason": "手机丢失"}
    )
    assert response.status_code == 302

    after = session.get(reverse("enumeration:my-areas"))
    assert after.status_code == 302 and after["Location"].startswith(reverse("login"))
    refused = api.get("/api/frame/me/")
    assert refused.status_code == 401 and refused.json()["detail"] == "认证令牌无效。"  # "Invalid token."
    assert not Token.objects.filter(user=enumerator).exists()
    enumerator.refresh_from_db()
    assert enumerator.status == StaffStatus.SUSPENDED and not enumerator.is_active
    event = AuditEvent.objects.filter(object_type="staff", object_id=str(enumerator.pk)).latest("at")
    assert event.detail["change"] == "status" and event.detail["to"] == "suspended"
    assert event.detail["reason"] == "手机丢失" and event.detail["tokens_revoked"] == 1


def test_leaving_needs_a_reason_and_nobody_switches_off_themselves(cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
    client = login(cast.township_office_a)
    no_reason = client.post(reverse("frame:staff-status", args=[cast.enumerator_a2.pk]), {"status": "left"})
    assert no_reason.status_code == 400
    cast.enumerator_a2.refresh_from_db()
    assert cast.enumerator_a2.is_active
    with pytest.raises(ApplicationError) as refused:
        services.staff_status_set(
            member=cast.district_office, status=StaffStatus.LEFT, reason="x", actor=cast.district_office
        )
    assert refused.value.code == "own_status"


# --- roles and places -------------------------------------------------------------------------------------


def test_a_role_change_does_not_strand_work(cast: Cast) -> None:
    office = cast.township_office_a
    # A supervisor who still oversees enumerators keeps the role.
    oversees = _("%(name)s still oversees %(n)d enumerator(s): give them another supervisor first.") % {
        "name": cast.supervisor_a.get_full_name(),
        "n": 2,
    }
    with pytest.raises(ValidationError, match=re.escape(oversees)):
        services.staff_update(member=cast.supervisor_a, actor=office, role=Role.ENUMERATOR)
    # Anyone who still covers small areas keeps their township.
    with pytest.raises((ValidationError, StaffPermissionError)):
        services.staff_update(member=cast.enumerator_a1, actor=cast.district_office, township_id=cast.township_b.code)
    # An enumerator who becomes a supervisor leaves their supervisor's group (audited), keeping their areas.
    services.staff_update(member=cast.enumerator_a2, actor=office, role=Role.SUPERVISOR)
    assert not SupervisorAssignment.objects.filter(enumerator=cast.enumerator_a2).exists()
    assert cast.enumerator_a2.area_assignments.count() == 1
    ended = AuditEvent.objects.get(object_type="supervisor_assignment", detail__change="ended")
    assert ended.detail["enumerator"] == "enum_a2" and ended.action == AuditAction.ASSIGNMENT_CHANGE
    changed = AuditEvent.objects.get(object_type="staff", object_id=str(cast.enumerator_a2.pk))
    assert changed.action == AuditAction.PERMISSION_CHANGE
    assert changed.detail["fields"] == {"role": [Role.ENUMERATOR, Role.SUPERVISOR]}


def test_a_changed_id_number_is_masked_in_the_audit_log(cast: Cast) -> None:
    services.staff_update(member=cast.enumerator_a1, actor=cast.township_office_a, id_number=STANDARD_EXAMPLES[1])
    event = AuditEvent.objects.get(object_type="staff", object_id=str(cast.enumerator_a1.pk))
    assert event.detail["fields"] == {"id_number": ["", "4405**********0014"]}
    assert STANDARD_EXAMPLES[1] not in json.dumps(event.detail)


def test_an_unchanged_save_writes_nothing(cast: Cast) -> None:
    member = cast.enumerator_a1
    services.staff_update(member=member, actor=cast.township_office_a, full_name=member.get_full_name(), unit="")
    assert not AuditEvent.objects.filter(object_type="staff").exists()


def test_the_staff_page_shows_the_id_number_and_logs_the_view(cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
    services.staff_update(member=cast.enumerator_a1, actor=cast.township_office_a, id_number=STANDARD_EXAMPLES[1])
    page = login(cast.township_office_a).get(reverse("frame:staff-detail", args=[cast.enumerator_a1.pk]))
    assert STANDARD_EXAMPLES[1] in page.content.decode()
    viewed = AuditEvent.objects.get(action=AuditAction.VIEW_PERSONAL_DATA)
    assert viewed.actor_username == "office_a" and viewed.detail == {"fields": ["id_number"]}


# --- departments (the district office) ---------------------------------------------------------------------


def test_the_district_office_adds_and_renames_a_department_and_gives_it_a_user(cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
    client = login(cast.district_office)
    response = client.post(reverse("frame:departments"), {"code": "tjj", "name": "区统计局"})
    department = Department.objects.get(district_id="511504", code="tjj")
    assert response["Location"] == reverse("frame:department", args=[department.pk])
    assert client.post(reverse("frame:department", args=[department.pk]), {"name": "叙州区统计局"}).status_code == 302
    department.refresh_from_db()
    assert department.name == "叙州区统计局"
    user_post = {"full_name": "周洁", "role": Role.DEPARTMENT, "department": str(department.pk), "username": "tjj1"}
    assert client.post(reverse("frame:staff-new"), new_enumerator_post(**user_post)).status_code == 302
    user = StaffMember.objects.get(username="tjj1")
    assert user.department == department and user.township_id is None and user.credential_no == ""
    changes = AuditEvent.objects.filter(object_type="department").order_by("id")
    assert [e.detail["change"] for e in changes] == ["created", "renamed"]


def test_departments_are_the_district_offices(cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
    client = login(cast.township_office_a)
    assert client.get(reverse("frame:departments")).status_code == 403
    with pytest.raises(StaffPermissionError):
        services.department_create(district_id="511504", code="x", name="x", actor=cast.township_office_a)
    assert client.post(reverse("frame:staff-new"), new_enumerator_post(role=Role.DEPARTMENT)).status_code == 400


# --- the audit log ---------------------------------------------------------------------------------------


def test_the_auditor_reads_every_staff_change_in_the_audit_log(cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
    office = cast.township_office_a
    member = services.staff_create(
        username="new1", role=Role.ENUMERATOR, district_id="511504", township_id=cast.township_a.code, actor=office
    )
    services.staff_update(member=member, actor=office, full_name="钱七")
    services.staff_status_set(member=member, status=StaffStatus.LEFT, reason="调走", actor=office)
    page = login(cast.auditor).get(reverse("frame:audit-log"), {"actor": "office_a"}).content.decode()
    # The audit log names the kind of object in words (工作人员 #12), not by its internal type.
    assert page.count(f"<td>工作人员 #{member.pk}</td>") == 3
    events = AuditEvent.objects.visible_to(cast.auditor).filter(object_type="staff", object_id=str(member.pk))
    assert sorted(e.detail["change"] for e in events) == ["created", "status", "updated"]
