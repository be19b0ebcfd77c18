"""Credentials (issue 20, part 5): an office prints the credentials of its 两员 as a PDF — one page each, with the
QR code of the public check page and, for a new account, a one-time password; anyone scanning the code learns
only whether the credential is valid now, the name masked, the role and the township; the page is rate-limited."""

from __future__ import annotations

import base64
import re
import zlib

import pytest
from django.test import Client
from django.urls import reverse

from census.jobs import job_run
from census.models import AuditEvent, Job, Role, StaffMember, StaffStatus
from census.staffing import services
from census.staffing.credentials import CREDENTIALS_JOB, staff_credential_reissue, staff_credentials_issue
from census.staffing.services import StaffPermissionError
from tests.census.factories import PASSWORD, staff_id_number
from tests.conftest import Cast

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _forget_rate_limits() -> None:
    """django-ratelimit counts in Redis, outside the test transaction, per address and minute: every test starts
    with no requests counted."""
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.REDIS_URL)
    keys = list(client.scan_iter(match="*:rl:*", count=1000))
    if keys:
        client.delete(*keys)


def pdf_texts(pdf: bytes) -> list[str]:
    """The Latin strings a PDF shows (``(…) Tj`` in its page streams, ASCII85 then Flate encoded), read here
    with the standard library and a regular expression, not with the library that wrote it."""
    texts = []
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", pdf, re.S):
        encoded = stream.strip().removesuffix(b"~>")
        try:
            content = zlib.decompress(base64.a85decode(encoded, ignorechars=b" \t\r\n"))
        except (ValueError, zlib.error):
            continue
        texts += [t.decode("latin-1") for t in re.findall(rb"\(([^()]*)\) Tj", content)]
    return texts


def new_person(cast: Cast, serial: int, **extra: object) -> StaffMember:
    return services.staff_create(
        username=f"new{serial}",
        role=Role.ENUMERATOR,
        district_id="511504",
        township_id=cast.township_a.code,
        full_name="欧阳明",
        id_number=staff_id_number(serial),
        phone=f"1370000{serial:04d}",
        actor=cast.township_office_a,
        **extra,  # type: ignore[arg-type]
    )


def can_log_in(username: str, password: str) -> bool:
    response = Client().post(reverse("login"), {"username": username, "password": password})
    return response.status_code == 302


def print_credentials(client: Client, township: str, *people: StaffMember) -> Job:
    response = client.post(reverse("frame:staff-credentials"), {"township": township, "staff": [p.pk for p in people]})
    job = Job.objects.filter(kind=CREDENTIALS_JOB).latest("pk")
    assert response["Location"] == reverse("jobs:detail", args=[job.pk])
    job_run(job.pk)  # no worker in the test
    job.refresh_from_db()
    assert job.status == "done", job.error
    return job


def test_an_office_prints_a_credential_with_a_one_time_password_that_lets_its_owner_in(
    cast: Cast, login, settings, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    settings.PRIVATE_MEDIA_ROOT = settings.MEDIA_ROOT = tmp_path
    person = new_person(cast, 1)
    assert not person.has_usable_password()
    office = login(cast.township_office_a)
    job = print_credentials(office, cast.township_a.code, person)
    pdf = office.get(reverse("jobs:download", args=[job.pk])).getvalue()
    assert pdf.startswith(b"%PDF") and pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page\r") >= 1
    texts = pdf_texts(pdf)
    assert "new1" in texts  # the login name, on the slip
    passwords = [t for t in texts if re.fullmatch(r"[2-9a-hjkmnp-z]{10}", t)]
    assert len(passwords) == 1
    assert can_log_in("new1", passwords[0])
    person.refresh_from_db()
    assert person.must_change_password  # still: the first login asks for a new one
    event = AuditEvent.objects.get(object_type="staff", object_id=str(person.pk), detail__change="credential_printed")
    assert event.detail["one_time_password"] is True and passwords[0] not in str(event.detail)
    # The PDF is the printer's alone: the district office does not see the job.
    district = Client()
    district.force_login(cast.district_office)
    assert district.get(reverse("jobs:download", args=[job.pk])).status_code == 404


def test_printing_again_replaces_the_one_time_password_and_spares_a_chosen_one(cast: Cast) -> None:
    person = new_person(cast, 2)
    first = staff_credentials_issue(members=[person], actor=cast.township_office_a, base_url="http://census.test")
    person.refresh_from_db()
    again = staff_credentials_issue(members=[person], actor=cast.township_office_a, base_url="http://census.test")
    assert first[0].one_time_password != again[0].one_time_password
    assert not can_log_in("new2", first[0].one_time_password or "")
    assert can_log_in("new2", again[0].one_time_password or "")
    # enum_a1 chose their own password long ago: their sheet has none, and their password still works.
    chosen = staff_credentials_issue(
        members=[cast.enumerator_a1], actor=cast.township_office_a, base_url="http://census.test"
    )
    assert chosen[0].one_time_password is None and can_log_in("enum_a1", PASSWORD)


def test_an_office_prints_only_its_own_townships_credentials(cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(StaffPermissionError):
        staff_credentials_issue(members=[cast.enumerator_b1], actor=cast.township_office_a, base_url="http://x")
    office = login(cast.township_office_a)
    office.post(reverse("frame:staff-credentials"), {"staff": [cast.enumerator_b1.pk]})
    assert not Job.objects.filter(kind=CREDENTIALS_JOB).exists()
    assert office.post(reverse("frame:staff-credential-revoke", args=[cast.enumerator_b1.pk])).status_code == 404


# --- the public check page ----------------------------------------------------------------------------------


def check(key: str, address: str = "192.0.2.10") -> tuple[int, str]:
    response = Client(REMOTE_ADDR=address).get(reverse("frame:credential-check", args=[key]))
    return response.status_code, response.content.decode()


def test_the_qr_code_page_says_only_whether_the_credential_is_valid_now(cast: Cast) -> None:
    person = new_person(cast, 3)
    (credential,) = staff_credentials_issue(members=[person], actor=cast.township_office_a, base_url="http://x")
    path = credential.check_url.removeprefix("http://x")
    assert path == reverse("frame:credential-check", args=[person.credential_key])
    status, page = check(person.credential_key)
    assert status == 200 and 'data-valid="true"' in page
    assert "欧**" in page and "欧阳明" not in page  # the name masked: family name only
    assert cast.township_a.name in page
    for secret in (person.id_number, person.phone, person.username, person.credential_no):
        assert secret not in page
    # The person leaves: the same code now says "not valid".
    services.staff_status_set(member=person, status=StaffStatus.LEFT, reason="离职", actor=cast.township_office_a)
    status, page = check(person.credential_key)
    assert status == 200 and 'data-valid="false"' in page and "欧**" in page


def test_a_lost_credential_is_revoked_and_a_made_up_one_is_unknown(cast: Cast, login) -> None:  # type: ignore[no-untyped-def]
    person = new_person(cast, 4)
    old_key = person.credential_key
    response = login(cast.township_office_a).post(reverse("frame:staff-credential-revoke", args=[person.pk]))
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.credential_key != old_key
    status, page = check(old_key)
    assert status == 200 and 'data-valid="false"' in page and "欧**" not in page
    assert 'data-valid="true"' in check(person.credential_key)[1]
    assert 'data-valid="false"' in check("x" * 22)[1] and 'data-valid="false"' in check("short")[1]
    revoked = AuditEvent.objects.get(object_type="staff", object_id=str(person.pk), detail__change="credential_revoked")
    assert revoked.actor_username == "office_a"
    with pytest.raises(StaffPermissionError):
        staff_credential_reissue(member=person, actor=cast.township_office_b)


def test_the_check_page_is_rate_limited_per_address(cast: Cast, settings) -> None:  # type: ignore[no-untyped-def]
    settings.CENSUS_STAFFING = {**settings.CENSUS_STAFFING, "CREDENTIAL_CHECK_RATE": "3/m"}
    key = new_person(cast, 5).credential_key
    address = "198.51.100.77"
    assert [check(key, address)[0] for _ in range(3)] == [200, 200, 200]
    status, page = check(key, address)
    assert status == 429 and "data-valid" not in page
    assert check(key, "198.51.100.78")[0] == 200  # another address is not held up


def test_without_redis_the_check_page_still_answers(cast: Cast) -> None:
    """The rate limit counts in Redis; when Redis cannot be reached the household at the door still gets its
    answer (a key is 128 random bits: the limit is a second line only)."""
    from django.test import override_settings

    from tests.census.test_cache import unreachable_cache

    key = new_person(cast, 6).credential_key
    with override_settings(CACHES=unreachable_cache()):
        status, page = check(key, "203.0.113.5")
    assert status == 200 and 'data-valid="true"' in page
