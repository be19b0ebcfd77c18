"""The microdata export: one row per person, no names or ID numbers, stable pseudonymous keys, district
office only, streamed, audited."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io

import pytest
from django.urls import reverse

from census.api import ApplicationError
from census.jobs import job_run
from census.models import AuditAction, AuditEvent, Job, JobStatus
from enumeration.identity import make_id_number
from enumeration.models import SIGNED_STATES, HouseholdState, Person
from supervision.progress import microdata
from supervision.progress.services import export_start
from tests.census.factories import StaffMemberFactory
from tests.progress.conftest import Registration

pytestmark = pytest.mark.django_db

ACCEPTED = (HouseholdState.ACCEPTED, HouseholdState.LOCKED)


@pytest.fixture
def media(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.PRIVATE_MEDIA_ROOT = settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def identified(registration: Registration) -> Registration:
    """Give every person a real-looking ID number, so the test can look for it in the file."""
    import datetime

    for number, person in enumerate(Person.objects.all(), start=1):
        person.d3_id_number = make_id_number(
            "511521", datetime.date(person.d5_birth_year, person.d5_birth_month, 3), number
        )
        person.save(update_fields=["d3_id_number"])
    return registration


def run(user, forms: str = "accepted") -> Job:  # type: ignore[no-untyped-def]
    job = export_start(user=user, kind="progress_microdata", params={"forms": forms})
    job_run(job.pk)
    job.refresh_from_db()
    return job


def rows_of(job: Job) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(job.file.read().decode("utf-8-sig"))))


def key(kind: str, pk: int, secret: str) -> str:
    return hmac.new(secret.encode(), f"{kind}:{pk}".encode(), hashlib.sha256).hexdigest()[:20]


def test_one_row_per_person_of_the_accepted_forms_with_keys_instead_of_identities(
    identified: Registration, media, settings
) -> None:  # type: ignore[no-untyped-def]
    job = run(identified.cast.district_office)
    assert job.status == JobStatus.DONE, job.error
    persons = Person.objects.filter(household__state__in=ACCEPTED)
    rows = rows_of(job)
    assert len(rows) == persons.count() == job.result["rows"]
    assert {row["person_key"] for row in rows} == {key("person", p.pk, settings.CENSUS_PSEUDONYM_KEY) for p in persons}
    by_key = {row["person_key"]: row for row in rows}
    person = persons.select_related("household").first()
    row = by_key[key("person", person.pk, settings.CENSUS_PSEUDONYM_KEY)]
    assert row["household_key"] == key("household", person.household_id, settings.CENSUS_PSEUDONYM_KEY)
    assert (row["d4"], row["d5_year"], row["township"], row["state"]) == (
        str(person.d4_sex),
        str(person.d5_birth_year),
        person.township_id,
        person.household.state,
    )
    # Nothing that identifies a person: no name, no ID number, no household number.
    text = job.file.open("rb").read().decode("utf-8-sig")
    for p in persons:
        assert p.d1_name not in text and p.d3_id_number not in text
    assert not set(rows[0]) & {"d1_name", "d3_id_number", "d1", "d3", "name", "household_no"}
    assert not set(microdata.IDENTIFYING_FIELDS) & set(microdata.HEADER)


def test_the_keys_are_stable_across_exports_and_change_with_the_secret(
    identified: Registration, media, settings
) -> None:  # type: ignore[no-untyped-def]
    first = {row["person_key"] for row in rows_of(run(identified.cast.district_office))}
    second = {row["person_key"] for row in rows_of(run(identified.cast.district_office))}
    assert first == second
    settings.CENSUS_PSEUDONYM_KEY = "another-secret-key-for-another-installation-1234567890"
    assert not first & {row["person_key"] for row in rows_of(run(identified.cast.district_office))}


def test_all_signed_forms_when_asked(identified: Registration, media) -> None:  # type: ignore[no-untyped-def]
    rows = rows_of(run(identified.cast.district_office, forms="signed"))
    assert len(rows) == Person.objects.filter(household__state__in=SIGNED_STATES).count()
    assert {row["state"] for row in rows} == {"signed", "approved", "accepted", "locked"}


def test_every_microdata_export_is_in_the_audit_log(identified: Registration, media, login) -> None:  # type: ignore[no-untyped-def]
    user = identified.cast.district_office
    job = run(user)
    requested = AuditEvent.objects.get(action=AuditAction.EXPORT, object_type="progress_microdata")
    written = AuditEvent.objects.get(action=AuditAction.EXPORT, object_type="microdata")
    assert requested.object_id == written.object_id == str(job.pk)
    assert written.detail["rows"] == job.result["rows"] and written.actor_username == user.username
    response = login(user).get(reverse("jobs:download", args=[job.pk]))
    assert response.status_code == 200
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT, object_type="job", object_id=str(job.pk)).exists()


def test_only_the_district_office_may_export_microdata(identified: Registration, login) -> None:  # type: ignore[no-untyped-def]
    cast = identified.cast
    for user in (cast.township_office_a, cast.auditor, cast.supervisor_a):
        with pytest.raises(ApplicationError):
            export_start(user=user, kind="progress_microdata", params={"forms": "accepted"})
        response = login(user).post(
            reverse("supervision:export-start"), {"kind": "progress_microdata", "forms": "accepted"}
        )
        assert response.status_code == 403
    assert not Job.objects.exists()


def test_the_file_stays_with_whoever_asked_for_it(identified: Registration, media, login) -> None:  # type: ignore[no-untyped-def]
    """An auditor's district scope sees the district's jobs; a microdata job is not one of them."""
    cast = identified.cast
    job = run(cast.district_office)
    colleague = StaffMemberFactory(username="district2", role="district_office", district=cast.district_office.district)
    assert not Job.objects.visible_to(cast.auditor).filter(pk=job.pk).exists()
    assert not Job.objects.visible_to(colleague).filter(pk=job.pk).exists()
    assert login(cast.auditor).get(reverse("jobs:download", args=[job.pk])).status_code == 404
    assert Job.objects.visible_to(cast.district_office).filter(pk=job.pk).exists()


def test_a_failed_export_says_why_and_can_be_retried(identified: Registration, media, login) -> None:  # type: ignore[no-untyped-def]
    from census.jobs import job_retry

    user = identified.cast.district_office
    job = export_start(user=user, kind="progress_microdata", params={"forms": "accepted"})
    Job.objects.filter(pk=job.pk).update(params={"forms": "nonsense"})
    job_run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "nonsense" in job.error
    Job.objects.filter(pk=job.pk).update(params={"forms": "accepted"})
    job_retry(job=job)
    job_run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.result["rows"] > 0


def test_the_fast_keys_are_hmac_sha256() -> None:
    """The precomputed-pad HMAC of the export gives what the hmac module gives, for short and long keys."""
    for secret in ("short", "a-long-secret-key-" * 10):
        fast = microdata.Pseudonymizer(secret.encode())
        for message in (b"person:1", b"household:123456789", b"person:"):
            assert fast.key(message).decode() == hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:20]


def test_a_formula_in_a_text_column_arrives_as_text_and_numbers_stay_numbers(registration: Registration, media) -> None:  # type: ignore[no-untyped-def]
    # The county columns are text of six characters; nothing in the database stops a formula there (an import,
    # a repair by hand), and the export must not carry it to a spreadsheet as one.
    person = Person.objects.filter(household__state__in=ACCEPTED).order_by("pk").first()
    assert person is not None
    Person.objects.filter(pk=person.pk).update(
        d7_residence_county="=1+2", d8_hukou_county="@A1", c14_county="-2+3", f_nationality=" -1"
    )
    rows = rows_of(run(registration.cast.district_office))
    row = next(row for row in rows if row["row"] == str(person.row_no) and row["d7_county"])
    assert (row["d7_county"], row["d8_county"], row["c14_county"], row["f_nationality"]) == (
        "'=1+2",
        "'@A1",
        "'-2+3",
        "' -1",
    )
    # Numbers are written as they were: a birth year, an age, a row number — no apostrophe anywhere else.
    assert row["d5_year"] == str(person.d5_birth_year) and row["row"] == str(person.row_no)
    others = [value for other in rows for value in other.values() if other is not row]
    assert not [value for value in others if value.startswith("'")]
