"""seed_district: a realistic, internally consistent, reproducible district with a valid signature ledger."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, Q

from census.models import Role, SmallArea, SmallAreaAssignment, StaffMember, SupervisorAssignment
from enumeration.identity import age_at_reference, read_id_number
from enumeration.ledger import content_hash
from enumeration.models import SIGNED_STATES, DeathRecord, Household, LongFormSample, Person
from enumeration.sampling import systematic_sample
from enumeration.verification import contents_by_household, verify

pytestmark = pytest.mark.django_db

PERSONS = 4000


@pytest.fixture
def district() -> None:
    call_command("seed_district", persons=PERSONS, seed=11, stdout=io.StringIO())


def test_it_has_about_the_asked_number_of_persons_in_small_areas_of_about_80_households(district: None) -> None:
    persons = Person.objects.count()
    assert PERSONS <= persons <= PERSONS * 1.02
    per_area = Household.objects.values("small_area").annotate(n=Count("id")).values_list("n", flat=True)
    assert 50 <= sum(per_area) / len(per_area) <= 110


def test_every_role_has_its_demo_login_and_the_staff_is_assigned(district: None) -> None:
    for username, role in [
        ("enumerator", Role.ENUMERATOR),
        ("supervisor", Role.SUPERVISOR),
        ("township", Role.TOWNSHIP_OFFICE),
        ("district", Role.DISTRICT_OFFICE),
        ("department", Role.DEPARTMENT),
        ("auditor", Role.AUDITOR),
    ]:
        user = StaffMember.objects.get(username=username)
        assert user.role == role and user.check_password("census-demo-2020")
    assert SmallAreaAssignment.objects.count() == SmallArea.objects.count()
    enumerators = StaffMember.objects.enumerators().count()
    supervisors = StaffMember.objects.supervisors().count()
    assert SupervisorAssignment.objects.count() == enumerators
    assert 3.5 <= enumerators / supervisors <= 5.5


def test_distributions_follow_the_2020_census(district: None) -> None:
    persons = list(
        Person.objects.exclude(f_identity__isnull=False).values_list(
            "d4_sex", "d5_birth_year", "d5_birth_month", "d6_ethnicity"
        )
    )
    males = sum(1 for p in persons if p[0] == 1)
    assert 95 <= 100 * males / (len(persons) - males) <= 115
    ages = [age_at_reference(p[1], p[2]) for p in persons]
    assert 0.12 <= sum(1 for a in ages if a < 15) / len(ages) <= 0.24
    assert 0.13 <= sum(1 for a in ages if a >= 60) / len(ages) <= 0.25
    assert 0.85 <= sum(1 for p in persons if p[3] == "01") / len(persons) <= 0.97
    family = Household.objects.filter(h1_kind=1).annotate(n=Count("persons")).values_list("n", flat=True)
    assert 2.3 <= sum(family) / len(family) <= 3.0


def test_id_numbers_are_valid_and_agree_with_sex_and_birth_month(district: None) -> None:
    rows = Person.objects.exclude(d3_id_number="").values_list(
        "d3_id_number", "d4_sex", "d5_birth_year", "d5_birth_month"
    )
    numbers = [r[0] for r in rows]
    assert len(numbers) == len(set(numbers)), "ID numbers are unique in a clean district"
    address_codes = set()
    for number, sex, year, month in rows:
        facts = read_id_number(number)
        assert facts.checksum_ok and facts.address_known, number
        assert (facts.sex, facts.birth_year, facts.birth_month) == (sex, year, month), number
        address_codes.add(number[:6])
    # 叙州区 and the codes its people carry from before 2018.
    assert {"511504", "511521", "512527"} <= address_codes


def test_household_items_agree_with_the_persons(district: None) -> None:
    bad_h2 = Household.objects.exclude(household_no=999).annotate(n=Count("persons")).exclude(n=models_sum_h2()).count()
    assert bad_h2 == 0
    for household in Household.objects.filter(h4_deaths_male__gt=0) | Household.objects.filter(h4_deaths_female__gt=0):
        deaths = DeathRecord.objects.filter(household=household)
        assert deaths.filter(sex=1).count() == household.h4_deaths_male
        assert deaths.filter(sex=2).count() == household.h4_deaths_female
    heads = Household.objects.filter(h1_kind=1).annotate(heads=Count("persons", filter=Q(persons__d2_relationship=0)))
    assert not heads.exclude(heads=1).exists()
    assert not Person.objects.filter(d2_relationship=0).exclude(row_no=1).exists()


def models_sum_h2():  # type: ignore[no-untyped-def]
    from django.db.models import F

    return F("h2_present") + F("h2_away")


def test_the_long_form_sample_is_a_reproducible_ten_percent_per_village(district: None) -> None:
    samples = list(LongFormSample.objects.all())
    assert samples
    for sample in samples:
        drawn = systematic_sample(sample.frame_size, seed=sample.seed)
        assert (drawn.interval, drawn.start, len(drawn.positions)) == (
            sample.interval,
            sample.start,
            sample.sample_size,
        )
        sampled = set(
            Household.objects.filter(village=sample.village, in_long_form_sample=True).values_list("id", flat=True)
        )
        assert sampled == set(sample.household_ids)
    long_items = Household.objects.filter(in_long_form_sample=True, h5_residence_type=1)
    assert long_items.exists() and not long_items.filter(h9_structure__isnull=True).exists()


def test_every_signature_verifies(district: None) -> None:
    assert all(not mismatches for _, mismatches in verify())


def test_a_direct_database_edit_of_a_signed_household_is_caught(district: None) -> None:
    household = Household.objects.filter(state__in=SIGNED_STATES).first()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE enumeration_person SET d1_name = '篡改' WHERE household_id = %s AND row_no = 1", [household.pk]
        )
    problems = [m for _, mismatches in verify(SmallArea.objects.filter(pk=household.small_area_id)) for m in mismatches]
    assert [(m.kind, m.household_id) for m in problems] == [("content", household.pk)]


def test_verify_signatures_exits_non_zero_on_a_mismatch(district: None) -> None:
    household = Household.objects.filter(state__in=SIGNED_STATES).first()
    Household.objects.filter(pk=household.pk).update(h7_rooms=99)
    out = io.StringIO()
    with pytest.raises(SystemExit) as excinfo:
        call_command("verify_signatures", area=household.small_area.code, stdout=out, stderr=io.StringIO())
    assert excinfo.value.code == 1
    assert f"household {household.pk}" in out.getvalue()


def test_the_same_seed_gives_the_same_district(district: None) -> None:
    def fingerprint() -> list[str]:
        area_codes = dict(SmallArea.objects.values_list("id", "code"))
        rows = list(Household.objects.order_by("small_area__code", "household_no").values())
        out = []
        for area_id in sorted({r["small_area_id"] for r in rows}):
            in_area = [r for r in rows if r["small_area_id"] == area_id]
            contents = contents_by_household(in_area, area_codes[area_id])
            out += [content_hash(contents[r["id"]]) for r in in_area]
        return out

    def identities() -> list[tuple[int, str, str]]:
        return list(Person.objects.order_by("id").values_list("id", "d1_name", "d3_id_number"))

    first, people = fingerprint(), identities()
    call_command("seed_district", persons=PERSONS, seed=11, reset=True, stdout=io.StringIO())
    assert fingerprint() == first and identities() == people
    # Generated by two processes (as a large district is), townships in parallel: row for row the same.
    out = io.StringIO()
    call_command("seed_district", persons=PERSONS, seed=11, reset=True, workers=2, stdout=out)
    assert "generating in 2 processes" in out.getvalue()
    assert fingerprint() == first and identities() == people
    assert all(not mismatches for _, mismatches in verify())


def test_id_numbers_are_unique_across_townships_generated_apart(district: None) -> None:
    duplicated = Person.objects.exclude(d3_id_number="").values("d3_id_number").annotate(n=Count("id")).filter(n__gt=1)
    assert not duplicated.exists()


def test_seeding_twice_does_not_duplicate(district: None) -> None:
    households = Household.objects.count()
    call_command("seed_district", persons=PERSONS, if_empty=True, stdout=io.StringIO())
    assert Household.objects.count() == households


def test_the_staff_is_made_by_the_staffing_services(district: None) -> None:
    """make demo's accounts, departments and assignments come through census.staffing's services, as an office's
    would: each is in the audit log, and the 两员 have what the credential and the import need."""
    from census.identity import id_number_clean
    from census.models import AuditAction, AuditEvent, Department

    created = set(
        AuditEvent.objects.filter(
            action=AuditAction.PERMISSION_CHANGE, object_type="staff", detail__change="created"
        ).values_list("object_id", flat=True)
    )
    assert created == {str(pk) for pk in StaffMember.objects.values_list("pk", flat=True)}
    assert AuditEvent.objects.filter(object_type="department", detail__change="created").count() == (
        Department.objects.count()
    )
    assigned = AuditEvent.objects.filter(object_type="small_area_assignment", detail__change="assigned")
    assert assigned.count() == SmallAreaAssignment.objects.count()
    supervised = AuditEvent.objects.filter(object_type="supervisor_assignment", detail__change="assigned")
    assert supervised.count() == SupervisorAssignment.objects.count()
    field = StaffMember.objects.filter(role__in=(Role.ENUMERATOR, Role.SUPERVISOR))
    for member in field:
        assert id_number_clean(member.id_number) == member.id_number
        assert member.credential_no == f"{member.township_id}-{member.pk:06d}" and member.credential_key
        assert not member.must_change_password  # the demo's logins have the demo password
    assert field.values("phone").distinct().count() == field.count()
    assert (
        not StaffMember.objects.exclude(role__in=(Role.ENUMERATOR, Role.SUPERVISOR)).exclude(credential_no="").exists()
    )
