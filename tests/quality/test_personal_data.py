"""Names and ID numbers in findings: never in a key a person reads or searches, masked for everyone who may not
see them, and every response that shows them unmasked in the audit log — once per request."""

from __future__ import annotations

import csv
import importlib
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from census.models import AuditAction, AuditEvent, StaffMember
from supervision.quality.models import Finding, FindingState, RosterMatch
from supervision.quality.resources import roster_import_bulk
from supervision.quality.services import finding_explain
from tests.census.factories import PASSWORD, EnumeratorFactory, SmallAreaAssignmentFactory
from tests.conftest import Cast
from tests.quality.factories import roster_pseudonym, run, same_number, sign_family, tamper

pytestmark = pytest.mark.django_db

HEADINGS = ["公民身份号码", "姓名", "性别", "出生年", "出生月", "户籍地代码", "户编号", "户籍地址"]
MISSING = same_number(1950, 1, 1, 13)  # 511521195001120271-like: on the roster, registered nowhere
OTHER_MISSING = same_number(1961, 7, 2, 14)
NAME = "赵大明"
OTHER_NAME = "钱小红"


def import_roster(cast: Cast, path: Path, household_no: int, *, both: bool = False, head: str = "") -> None:
    rows = [[MISSING, NAME, "男", 1950, 1, cast.area_a1.code, household_no, ""]]
    if head:  # the household's head, registered
        rows.append([head, "王伟", "男", 1980, 5, cast.area_a1.code, household_no, ""])
    if both:
        rows.append([OTHER_MISSING, OTHER_NAME, "女", 1961, 7, cast.area_a1.code, household_no, ""])
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADINGS)
        writer.writerows(rows)
    roster_import_bulk(path=path, district_code="511504")


@pytest.fixture
def omission(cast: Cast, tmp_path: Path) -> Finding:
    """赵大明 is on the roster of enumerator A1's small area and registered nowhere."""
    household = sign_family(cast.area_a1, cast.enumerator_a1)
    head = household.persons.get(row_no=1).d3_id_number
    import_roster(cast, tmp_path / "roster.csv", household.household_no, head=head)
    run()
    return Finding.objects.get(rule="ROSTER_NOT_REGISTERED")


def api_as(user: StaffMember) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def views_of(user: StaffMember) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=AuditAction.VIEW_PERSONAL_DATA, actor_id=user.pk).order_by("id"))


def named_findings(event: AuditEvent) -> set[int]:
    """The findings an audit event says were shown: its object, or the ids of a list it names."""
    ids = set(event.detail.get("ids", []))
    if event.object_id:
        ids.add(int(event.object_id))
    return {int(pk) for pk in ids}


# --- item 2: keys ------------------------------------------------------------------------------------------


def test_a_roster_finding_is_known_by_a_pseudonym_not_by_the_number(cast: Cast, omission: Finding) -> None:
    assert omission.record_key == f"roster:{roster_pseudonym(MISSING)}"
    for stored in (omission.key, omission.record_key):
        # Not the number, nor any run of eight of its characters.
        assert not any(MISSING[i : i + 8] in stored for i in range(len(MISSING) - 7)), stored
    # The evidence keeps the number for those who may read it (the enumerator who must find the person).
    assert omission.evidence["id_number"] == MISSING and omission.evidence["name"] == NAME
    # The match keeps the pseudonym while the person is registered nowhere (the registered have none).
    head = cast.area_a1.households.get().persons.get(row_no=1).d3_id_number
    kept = dict(RosterMatch.objects.values_list("id_number", "pseudonym"))
    assert kept == {MISSING: roster_pseudonym(MISSING), head: None}


def test_the_finding_stays_the_same_one_across_runs_and_a_new_import_of_the_roster(
    cast: Cast, omission: Finding, tmp_path: Path
) -> None:
    finding_explain(
        finding=omission, actor=cast.enumerator_a1, explanation="已迁出，派出所未注销户口", password=PASSWORD
    )
    # Matches kept from before the pseudonyms were stored with them: the check computes the same one.
    tamper("UPDATE quality_rostermatch SET pseudonym = NULL", [])
    incremental = run(mode="incremental")
    assert incremental.parts.get(section="roster").stats["since"] is not None
    found = Finding.objects.get(rule="ROSTER_NOT_REGISTERED")
    assert (found.pk, found.state, found.record_key) == (omission.pk, FindingState.EXPLAINED, omission.record_key)
    household_no = cast.area_a1.households.get().household_no
    import_roster(cast, tmp_path / "again.csv", household_no)  # the roster entries get new ids
    run()
    run(mode="incremental")
    found = Finding.objects.get(rule="ROSTER_NOT_REGISTERED")
    assert (found.pk, found.state, found.record_key) == (omission.pk, FindingState.EXPLAINED, omission.record_key)


# --- item 2: what offices read and search ------------------------------------------------------------------


@pytest.mark.parametrize("who", ["township_office_a", "district_office"])
def test_offices_read_no_full_number_or_name_on_pages_or_api(
    cast: Cast, omission: Finding, login: Any, who: str
) -> None:
    office = getattr(cast, who)
    client = login(office)
    masked_number = MISSING[:4] + "*" * 10 + MISSING[-4:]
    pages = [
        client.get("/supervision/quality/findings/?state=unresolved"),
        client.get(f"/supervision/quality/findings/{omission.pk}/"),
    ]
    listed = api_as(office).get("/api/quality/findings/?state=unresolved")
    detail = api_as(office).get(f"/api/quality/findings/{omission.pk}/")
    for response in [*pages, listed, detail]:
        assert response.status_code == 200
        body = response.content.decode()
        assert MISSING not in body and NAME not in body and MISSING[6:14] not in body
    assert f"/supervision/quality/findings/{omission.pk}/" in pages[0].content.decode()
    assert "赵**" in pages[1].content.decode() and masked_number in pages[1].content.decode()
    items = listed.json()["results"]
    assert [item["record_key"] for item in items if item["id"] == omission.pk] == [omission.record_key]
    assert detail.json()["evidence"]["id_number"] == masked_number and detail.json()["evidence"]["name"] == "赵**"
    assert not views_of(office)


def test_a_finding_cannot_be_searched_by_part_of_a_number_only_by_the_whole(
    cast: Cast, omission: Finding, login: Any
) -> None:
    client = login(cast.township_office_a)
    link = f"/supervision/quality/findings/{omission.pk}/"
    for prefix in (MISSING[:9], f"roster:{MISSING[:9]}", MISSING[:17], MISSING[-6:]):
        assert link not in client.get("/supervision/quality/findings/", {"q": prefix}).content.decode(), prefix
    for whole in (MISSING, f"roster:{MISSING}", f" {MISSING.lower()} "):
        assert link in client.get("/supervision/quality/findings/", {"q": whole}).content.decode(), whole
    mine = login(cast.enumerator_a1)
    assert link not in mine.get("/supervision/quality/mine/", {"q": MISSING[:9]}).content.decode()
    assert link in mine.get("/supervision/quality/mine/", {"q": MISSING}).content.decode()
    # A household finding is still found by its record (small area code and 户编号).
    household = cast.area_a1.households.get()
    tamper("UPDATE enumeration_person SET d5_birth_month = 8 WHERE household_id = %s AND row_no = 3", [household.pk])
    run()
    mismatch = Finding.objects.get(rule="ID_BIRTH_MISMATCH")
    client = login(cast.township_office_a)
    assert (
        f"/supervision/quality/findings/{mismatch.pk}/"
        in client.get("/supervision/quality/findings/", {"q": mismatch.record_key[:18]}).content.decode()
    )


def test_the_data_migration_gives_existing_findings_the_key_the_checks_now_find(cast: Cast, tmp_path: Path) -> None:
    household = sign_family(cast.area_a1, cast.enumerator_a1)
    import_roster(cast, tmp_path / "roster.csv", household.household_no)
    now = timezone.now()
    # A finding as the checks wrote it before: the number in its key and its record key, explained since.
    old = Finding.objects.create(
        rule="ROSTER_NOT_REGISTERED",
        rule_group="roster",
        severity="nightly",
        acts="registrar",
        key=f"r{MISSING}:{cast.village_a.code}",
        record_key=f"roster:{MISSING}",
        state=FindingState.EXPLAINED,
        explanation="已迁出",
        explained_by=cast.enumerator_a1,
        explained_at=now,
        small_area=cast.area_a1,
        village=cast.village_a,
        township=cast.township_a,
        responsible=cast.enumerator_a1,
        evidence={"name": NAME, "id_number": MISSING, "key": f"{cast.area_a1.code}{household.household_no:03d}"},
        first_seen_at=now,
        last_seen_at=now,
    )
    migration = importlib.import_module("supervision.quality.migrations.0007_roster_finding_pseudonymous_keys")
    migration.keys_forward(apps, SimpleNamespace(connection=connection))
    old.refresh_from_db()
    assert old.record_key == f"roster:{roster_pseudonym(MISSING)}" and MISSING not in old.key
    run()
    found = Finding.objects.get(rule="ROSTER_NOT_REGISTERED")
    assert (found.pk, found.state, found.key) == (old.pk, FindingState.EXPLAINED, old.key)
    migration.keys_backward(apps, SimpleNamespace(connection=connection))
    old.refresh_from_db()
    assert (old.key, old.record_key) == (f"r{MISSING}:{cast.village_a.code}", f"roster:{MISSING}")


# --- item 3: reads of findings are audited, once per request -------------------------------------------------


@pytest.fixture
def two_omissions(cast: Cast, tmp_path: Path) -> list[Finding]:
    household = sign_family(cast.area_a1, cast.enumerator_a1)
    import_roster(cast, tmp_path / "roster.csv", household.household_no, both=True)
    run()
    # The first is MISSING's omission, the second OTHER_MISSING's: the order the checks write them in follows the
    # pseudonyms, which depend on the key.
    found = sorted(
        Finding.objects.filter(rule="ROSTER_NOT_REGISTERED"), key=lambda f: f.evidence["id_number"] != MISSING
    )
    assert len(found) == 2 and found[1].evidence["id_number"] == OTHER_MISSING
    return found


def test_the_enumerator_s_pages_of_findings_write_one_event_each(
    cast: Cast, two_omissions: list[Finding], login: Any
) -> None:
    client = login(cast.enumerator_a1)
    ids = {finding.pk for finding in two_omissions}
    mine = client.get("/supervision/quality/mine/")
    assert NAME in mine.content.decode() and OTHER_NAME in mine.content.decode()
    events = views_of(cast.enumerator_a1)
    assert len(events) == 1 and named_findings(events[0]) == ids
    assert events[0].object_type == "quality.finding"
    detail = client.get(f"/supervision/quality/findings/{two_omissions[0].pk}/")
    assert MISSING in detail.content.decode()
    events = views_of(cast.enumerator_a1)
    assert len(events) == 2 and named_findings(events[1]) == {two_omissions[0].pk}


def test_the_supervisor_s_list_of_findings_writes_one_event(
    cast: Cast, two_omissions: list[Finding], login: Any
) -> None:
    page = login(cast.supervisor_a).get("/supervision/quality/findings/?state=unresolved")
    assert NAME in page.content.decode()
    events = views_of(cast.supervisor_a)
    assert len(events) == 1 and named_findings(events[0]) == {finding.pk for finding in two_omissions}


def test_the_findings_api_writes_one_event_per_request(cast: Cast, two_omissions: list[Finding]) -> None:
    client = api_as(cast.enumerator_a1)
    listed = client.get("/api/quality/findings/?mine=1")
    assert listed.status_code == 200
    assert {item["evidence"]["id_number"] for item in listed.json()["results"]} == {MISSING, OTHER_MISSING}
    events = views_of(cast.enumerator_a1)
    assert len(events) == 1 and named_findings(events[0]) == {finding.pk for finding in two_omissions}
    assert events[0].actor_username == cast.enumerator_a1.username
    detail = client.get(f"/api/quality/findings/{two_omissions[1].pk}/")
    assert detail.json()["evidence"]["name"] == OTHER_NAME
    events = views_of(cast.enumerator_a1)
    assert len(events) == 2 and named_findings(events[1]) == {two_omissions[1].pk}


def test_findings_without_personal_values_write_no_event(cast: Cast, login: Any) -> None:
    household = sign_family(cast.area_a1, cast.enumerator_a1)
    tamper("UPDATE enumeration_person SET d5_birth_month = 8 WHERE household_id = %s AND row_no = 3", [household.pk])
    run()
    finding = Finding.objects.get(rule="ID_BIRTH_MISMATCH")
    login(cast.enumerator_a1).get("/supervision/quality/mine/")
    api_as(cast.enumerator_a1).get(f"/api/quality/findings/{finding.pk}/")
    assert not views_of(cast.enumerator_a1)


def test_a_superuser_holding_a_field_role_reads_findings_masked(cast: Cast, two_omissions: list[Finding]) -> None:
    root = EnumeratorFactory(username="root_enum", is_superuser=True, township=cast.township_a)
    SmallAreaAssignmentFactory(staff=root, small_area=cast.area_a1)
    client = api_as(root)
    for response in (
        client.get("/api/quality/findings/?state=unresolved"),
        client.get(f"/api/quality/findings/{two_omissions[0].pk}/"),
    ):
        assert response.status_code == 200
        body = response.content.decode()
        assert MISSING not in body and NAME not in body and OTHER_NAME not in body
    assert not views_of(root)


def test_the_start_page_s_summary_of_findings_is_audited_too(
    cast: Cast, two_omissions: list[Finding], login: Any
) -> None:
    page = login(cast.enumerator_a1).get("/enumeration/my-areas/")
    assert page.status_code == 200 and NAME in page.content.decode()
    findings = [event for event in views_of(cast.enumerator_a1) if event.object_type == "quality.finding"]
    assert len(findings) == 1 and named_findings(findings[0]) == {finding.pk for finding in two_omissions}
