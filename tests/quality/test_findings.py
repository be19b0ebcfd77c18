"""The life of a finding: found on the signer's record, corrected by a new signature, explained and verified,
closed when its cause is gone, found again, never duplicated, escalated when overdue."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from census.api import ApplicationError, ConflictError
from supervision.quality import services
from supervision.quality.checks.duplicates import OTHERS_SHOWN
from supervision.quality.models import Finding, FindingEvent, FindingState
from supervision.quality.selectors import finding_last_checked_at
from supervision.quality.services import (
    finding_explain,
    finding_reject,
    finding_verify,
    findings_escalate_overdue,
)
from tests.census.factories import PASSWORD
from tests.conftest import Cast
from tests.quality.factories import findings, persons_of, resign, run, same_number, sign_family, tamper

pytestmark = pytest.mark.django_db


def break_child(household: object) -> None:
    """D5 of the son no longer matches his ID number (the kind of edit an import or a database fix makes)."""
    tamper(
        "UPDATE enumeration_person SET d5_birth_month = 8 WHERE household_id = %s AND row_no = 3",
        [household.pk],  # type: ignore[attr-defined]
    )


def test_a_clean_signed_household_raises_nothing(cast: Cast) -> None:
    sign_family(cast.area_a1, cast.enumerator_a1)
    done = run()
    # Two townships, the two district sections and (a full run) the five forms sections.
    assert done.status == "done" and done.parts_total == 9
    assert Finding.objects.count() == 0


def test_a_finding_names_the_rule_the_record_the_evidence_the_signer_and_the_supervisor(cast: Cast) -> None:
    household = sign_family(cast.area_a1, cast.enumerator_a1)
    break_child(household)
    run()
    sex = Finding.objects.get(rule="ID_BIRTH_MISMATCH")
    assert sex.record_key == f"{cast.area_a1.code}{household.household_no:03d}#3"
    assert (sex.household_id, sex.row_no, sex.item) == (household.pk, 3, "D5")
    assert sex.evidence == {"id_birth": "2010-09", "birth": "2010-08"}
    assert sex.responsible == cast.enumerator_a1 and sex.supervisor == cast.supervisor_a
    assert (sex.township_id, sex.small_area_id, sex.state) == (cast.township_a.code, cast.area_a1.pk, "open")
    # The edit behind the application's back is a finding of its own, for the supervisor to act on.
    changed = Finding.objects.get(rule="CONTENT_CHANGED_AFTER_SIGNING")
    assert changed.acts == "supervisor" and changed.evidence["signed"] != changed.evidence["now"]
    assert FindingEvent.objects.filter(kind="detected").count() == 2


def test_running_twice_never_duplicates(cast: Cast) -> None:
    household = sign_family(cast.area_a1, cast.enumerator_a1)
    break_child(household)
    run()
    first = findings()
    second = run()
    assert findings() == first
    assert second.stats["counts"].get("new", 0) == 0
    assert FindingEvent.objects.filter(kind="detected").count() == 2


def _row_versions() -> dict[str, tuple[str, int]]:
    """Each finding's row version (xmin) and last run, by rule: a rewritten row gets a new xmin."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT rule, xmin::text, last_run_id FROM quality_finding")
        return {rule: (xmin, last_run) for rule, xmin, last_run in cursor.fetchall()}


def test_a_finding_found_again_unchanged_is_not_rewritten_and_a_changed_one_is(cast: Cast) -> None:
    household = sign_family(cast.area_a1, cast.enumerator_a1)
    break_child(household)
    first = run()
    before = _row_versions()
    assert set(before) == {"ID_BIRTH_MISMATCH", "CONTENT_CHANGED_AFTER_SIGNING"}
    run()
    assert _row_versions() == before
    # The son's month changes again: the same finding (same rule, same record) with new evidence is rewritten.
    tamper("UPDATE enumeration_person SET d5_birth_month = 7 WHERE household_id = %s AND row_no = 3", [household.pk])
    third = run()
    after = _row_versions()
    mismatch = Finding.objects.get(rule="ID_BIRTH_MISMATCH")
    assert after["ID_BIRTH_MISMATCH"][0] != before["ID_BIRTH_MISMATCH"][0]
    assert mismatch.evidence == {"id_birth": "2010-09", "birth": "2010-07"} and mismatch.last_run_id == third.pk
    assert mismatch.first_run_id == first.pk and mismatch.state == "open"
    assert Finding.objects.count() == 2 and FindingEvent.objects.filter(kind="detected").count() == 2


def test_a_finding_still_found_was_last_checked_by_the_latest_run_over_its_area(cast: Cast) -> None:
    household = sign_family(cast.area_a1, cast.enumerator_a1)
    break_child(household)
    run()
    finding = Finding.objects.get(rule="ID_BIRTH_MISMATCH")
    later = run()
    assert finding_last_checked_at(finding=finding) == later.finished_at > finding.last_seen_at
    # A run over the other township did not look at it.
    run(township=cast.township_b)
    assert finding_last_checked_at(finding=finding) == later.finished_at
    # Gone findings were last found when the merge last wrote them.
    Finding.objects.filter(pk=finding.pk).update(state=FindingState.CLOSED)
    assert finding_last_checked_at(finding=Finding.objects.get(pk=finding.pk)) is None


def test_a_run_that_writes_many_findings_refreshes_the_table_s_statistics(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    household = sign_family(cast.area_a1, cast.enumerator_a1)
    break_child(household)
    with CaptureQueriesContext(connection) as few:
        run()
    assert not [q for q in few.captured_queries if q["sql"] == "ANALYZE quality_finding"]
    # Another household's two findings: at a threshold of two, the run ends by analyzing the findings table.
    monkeypatch.setattr(services, "ANALYZE_AFTER_WRITES", 2)
    break_child(sign_family(cast.area_a2, cast.enumerator_a2))
    with CaptureQueriesContext(connection) as many:
        done = run()
    assert sum(done.stats["counts"].values()) >= 2
    assert [q for q in many.captured_queries if q["sql"] == "ANALYZE quality_finding"]


def test_correcting_and_signing_again_is_found_by_the_next_run(cast: Cast) -> None:
    household = sign_family(cast.area_a1, cast.enumerator_a1)
    persons = persons_of(household)
    break_child(household)
    run()
    assert {rule for rule, _, state in findings() if state == "open"} == {
        "ID_BIRTH_MISMATCH",
        "CONTENT_CHANGED_AFTER_SIGNING",
    }
    resign(household, cast.enumerator_a1, persons=persons)
    done = run(mode="incremental")
    assert {state for _, _, state in findings()} == {"corrected"}
    assert done.stats["counts"]["corrected"] == 2
    assert Finding.objects.get(rule="ID_BIRTH_MISMATCH").note == "corrected"
    # The supervisor confirms the correction.
    finding = Finding.objects.get(rule="ID_BIRTH_MISMATCH")
    finding_verify(finding=finding, actor=cast.supervisor_a)
    assert Finding.objects.get(pk=finding.pk).state == "verified"


def test_a_duplicate_corrected_on_one_side_closes_on_the_other(cast: Cast) -> None:
    household_a = sign_family(cast.area_a1, cast.enumerator_a1)
    persons_a = persons_of(household_a)
    # B registered A's head again (the same ID number); the rest of B's household is its own.
    persons_b = [
        p
        if p["row_no"] == 1
        else {**p, "d3_id_number": same_number(p["d5_birth_year"], p["d5_birth_month"], p["d4_sex"], 61 + p["row_no"])}
        for p in persons_a
    ]
    household_b = sign_family(cast.area_b1, cast.enumerator_b1, persons=persons_b)
    run()
    duplicates = Finding.objects.filter(rule="ID_DUPLICATE_DISTRICT")
    assert {f.household_id for f in duplicates} == {household_a.pk, household_b.pk}
    assert {f.responsible_id for f in duplicates} == {cast.enumerator_a1.pk, cast.enumerator_b1.pk}
    assert (
        duplicates.get(household=household_a).evidence["other"]
        == f"{cast.area_b1.code}{household_b.household_no:03d}#1"
    )
    # B finds that its head has a number of his own, and signs again.
    corrected = [
        {**p, "d3_id_number": same_number(p["d5_birth_year"], p["d5_birth_month"], p["d4_sex"], 71)}
        if p["row_no"] == 1
        else p
        for p in persons_b
    ]
    resign(household_b, cast.enumerator_b1, persons=corrected)
    run(mode="incremental")
    assert duplicates.get(household=household_b).state == "corrected"
    closed = duplicates.get(household=household_a)
    assert closed.state == "closed" and closed.note == "cause_gone"


def test_a_number_in_many_households_names_the_first_others_and_says_there_are_more(cast: Cast) -> None:
    first = sign_family(cast.area_a1, cast.enumerator_a1)
    persons = persons_of(first)
    # OTHERS_SHOWN + 1 more households register the same head (each with children of its own).
    households = [first]
    for n in range(OTHERS_SHOWN + 1):
        rows = [
            p
            if p["row_no"] == 1
            else {
                **p,
                "d3_id_number": same_number(
                    p["d5_birth_year"], p["d5_birth_month"], p["d4_sex"], 100 + 3 * n + p["row_no"]
                ),
            }
            for p in persons
        ]
        households.append(
            sign_family(
                cast.area_a2 if n % 2 else cast.area_b1,
                cast.enumerator_a2 if n % 2 else cast.enumerator_b1,
                persons=rows,
            )
        )
    run()
    duplicates = Finding.objects.filter(rule="ID_DUPLICATE_DISTRICT")
    assert duplicates.count() == len(households)
    keys = sorted(f"{h.small_area.code}{h.household_no:03d}#1" for h in households)
    for finding in duplicates:
        own = f"{finding.household.small_area.code}{finding.household.household_no:03d}#1"
        others = [key for key in keys if key != own]
        assert finding.evidence["other"] == ", ".join(others[:OTHERS_SHOWN]) + ", …"


def test_the_registrar_explains_with_a_password_and_the_supervisor_verifies_or_sends_back(cast: Cast) -> None:
    household = sign_family(cast.area_a1, cast.enumerator_a1)
    break_child(household)
    run()
    finding = Finding.objects.get(rule="ID_BIRTH_MISMATCH")
    with pytest.raises(ApplicationError):
        finding_explain(finding=finding, actor=cast.enumerator_a2, explanation="不是我的户", password=PASSWORD)
    with pytest.raises(ApplicationError):
        finding_explain(finding=finding, actor=cast.enumerator_a1, explanation="已入户核实无误", password="wrong")
    with pytest.raises(ValidationError):
        finding_explain(finding=finding, actor=cast.enumerator_a1, explanation="ok", password=PASSWORD)
    explained = finding_explain(
        finding=finding, actor=cast.enumerator_a1, explanation="已入户核实，身份证登记有误", password=PASSWORD
    )
    assert explained.state == "explained" and explained.explained_by == cast.enumerator_a1
    with pytest.raises(ApplicationError):
        finding_verify(finding=explained, actor=cast.supervisor_b)
    sent_back = finding_reject(finding=explained, actor=cast.supervisor_a, reason="请带身份证原件核对")
    assert sent_back.state == "open"
    explained = finding_explain(
        finding=sent_back, actor=cast.enumerator_a1, explanation="已核对身份证原件，号码无误", password=PASSWORD
    )
    verified = finding_verify(finding=explained, actor=cast.supervisor_a)
    assert verified.state == "verified" and verified.verified_by == cast.supervisor_a
    with pytest.raises(ConflictError):
        finding_verify(finding=verified, actor=cast.supervisor_a)
    # An accepted explanation stays accepted while the rule still finds the record.
    run()
    assert Finding.objects.get(pk=finding.pk).state == "verified"
    kinds = list(FindingEvent.objects.filter(finding=finding).values_list("kind", flat=True))
    assert kinds == ["detected", "explained", "rejected", "explained", "verified"]


def test_a_resolved_finding_found_again_opens_again(cast: Cast) -> None:
    household = sign_family(cast.area_a1, cast.enumerator_a1)
    persons = persons_of(household)
    break_child(household)
    run()
    resign(household, cast.enumerator_a1, persons=persons)
    run(mode="incremental")
    assert Finding.objects.get(rule="ID_BIRTH_MISMATCH").state == "corrected"
    break_child(household)
    run()
    again = Finding.objects.get(rule="ID_BIRTH_MISMATCH")
    assert again.state == "open" and again.note == "reappeared"
    assert FindingEvent.objects.filter(finding=again, kind="reopened").count() == 1


def test_a_warning_signed_again_with_a_note_counts_as_explained(cast: Cast) -> None:
    household = sign_family(cast.area_a1, cast.enumerator_a1)
    tamper("UPDATE enumeration_household SET h7_rooms = 16, h6_floor_area = 400 WHERE id = %s", [household.pk])
    run()
    assert Finding.objects.filter(rule="ROOMS_HIGH", state="open").exists()
    resign(
        household,
        cast.enumerator_a1,
        persons=persons_of(household),
        data={"h7_rooms": 16, "h6_floor_area": 400, "warning_notes": {"ROOMS_HIGH": "老宅，确有16间"}},
    )
    run(mode="incremental")
    rooms = Finding.objects.get(rule="ROOMS_HIGH")
    assert (rooms.state, rooms.explanation, rooms.explained_by) == ("explained", "老宅，确有16间", cast.enumerator_a1)
    assert rooms.note == "note_on_form"


def test_overdue_open_findings_escalate_to_the_township_office_once(cast: Cast) -> None:
    household = sign_family(cast.area_a1, cast.enumerator_a1)
    break_child(household)
    run()
    Finding.objects.update(first_seen_at=timezone.now() - datetime.timedelta(days=8))
    assert findings_escalate_overdue() == 2
    assert findings_escalate_overdue() == 0
    assert Finding.objects.filter(escalated_at__isnull=False).count() == 2
    office = Finding.objects.visible_to(cast.township_office_a).escalated()
    assert office.count() == 2 and not Finding.objects.visible_to(cast.township_office_b).exists()


def test_who_sees_which_findings(cast: Cast) -> None:
    household = sign_family(cast.area_a1, cast.enumerator_a1)
    break_child(household)
    run()
    assert Finding.objects.visible_to(cast.enumerator_a1).count() == 2
    assert Finding.objects.visible_to(cast.supervisor_a).count() == 2
    assert Finding.objects.visible_to(cast.township_office_a).count() == 2
    assert Finding.objects.visible_to(cast.district_office).count() == 2
    for outsider in (cast.enumerator_a2, cast.enumerator_b1, cast.supervisor_b, cast.township_office_b):
        assert not Finding.objects.visible_to(outsider).exists()
    assert Finding.objects.visible_to(cast.enumerator_a1).open().count() == 2
    assert {f.state for f in Finding.objects.all()} == {FindingState.OPEN}
