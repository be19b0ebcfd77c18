"""Check runs: fanned out per township, incremental by default, safe to run twice, and a worker killed in the
middle of a township leaves nothing behind — the next attempt completes and the findings are those of a clean
run. Also the nightly task, the coordinating job and ``run_checks``."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import transaction

from census.jobs import job_run
from census.models import Job, JobStatus
from census.staffing.services import small_area_unassign
from supervision.quality.checks import DISTRICT_SECTIONS, FORM_SECTIONS, runner
from supervision.quality.management.commands.run_checks import Command as RunChecks
from supervision.quality.models import CheckRun, Finding
from supervision.quality.services import check_run_create, check_run_start
from supervision.quality.tasks import nightly_run
from tests.conftest import Cast
from tests.enumeration.factories import family_form
from tests.quality.factories import persons_of, resign, run, same_number, sign_family, tamper

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def no_margin(settings: Any) -> None:
    """Incremental runs here look exactly at what changed since the last run (no safety margin)."""
    settings.QUALITY = {**settings.QUALITY, "INCREMENTAL_MARGIN_SECONDS": 0}


@pytest.mark.django_db
def test_an_incremental_run_checks_only_households_changed_since_the_last_run(cast: Cast) -> None:
    first = sign_family(cast.area_a1, cast.enumerator_a1)
    sign_family(cast.area_a2, cast.enumerator_a2, head="李强")
    full = run()
    assert full.stats["households"] == 2
    nothing = run(mode="incremental")
    assert nothing.stats["households"] == 0
    part = nothing.parts.get(township=cast.township_a)
    assert part.since is not None and part.since <= full.parts.get(township=cast.township_a).started_at
    resign(first, cast.enumerator_a1, persons=persons_of(first))
    changed = run(mode="incremental")
    assert changed.stats["households"] == 1
    # An incremental run of a township that never ran is a full one.
    assert run(mode="incremental", township=cast.township_b).parts.get(township=cast.township_b).since is not None


@pytest.mark.django_db
def test_after_a_full_run_the_townships_pick_up_from_its_start_if_it_finished(cast: Cast) -> None:
    # A full run checks the forms in its forms sections, which may begin before a township's part.
    sign_family(cast.area_a1, cast.enumerator_a1)
    full = run()
    after = run(mode="incremental").parts.get(township=cast.township_a)
    assert after.since == full.created_at and after.households == 0
    # A full run that did not finish (a forms section failed): its townships' forms count as unchecked.
    unfinished = run()
    CheckRun.objects.filter(pk=unfinished.pk).update(status="failed")
    again = run(mode="incremental").parts.get(township=cast.township_a)
    assert again.since is None and again.households == 1


@pytest.mark.django_db
def test_an_incremental_run_leaves_a_township_where_nothing_changed_as_its_last_run_left_it(cast: Cast) -> None:
    first = sign_family(cast.area_a1, cast.enumerator_a1)
    sign_family(cast.area_b1, cast.enumerator_b1, head="李强")
    run()
    resign(first, cast.enumerator_a1, persons=persons_of(first))
    incremental = run(mode="incremental")
    changed = incremental.parts.get(township=cast.township_a)
    unchanged = incremental.parts.get(township=cast.township_b)
    assert changed.households == 1 and "checks" in changed.stats and not changed.stats.get("unchanged")
    assert unchanged.households == 0 and unchanged.stats.get("unchanged") is True and "checks" not in unchanged.stats
    # The district parts (duplicates and the roster, across townships) run every time.
    assert all("checks" in part.stats for part in incremental.parts.filter(township=None))
    assert sorted(incremental.parts.filter(township=None).values_list("section", flat=True)) == ["duplicates", "roster"]
    # A changed assignment may change who answers for an area's findings: every township is looked at again.
    small_area_unassign(staff=cast.enumerator_b1, small_area=cast.area_b1, actor=cast.district_office)
    after_assignment = run(mode="incremental").parts.get(township=cast.township_b)
    assert "checks" in after_assignment.stats and not after_assignment.stats.get("unchanged")


@pytest.mark.django_db
def test_an_incremental_run_after_the_rules_changed_checks_every_form_again(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    sign_family(cast.area_a1, cast.enumerator_a1)
    sign_family(cast.area_a2, cast.enumerator_a2, head="李强")
    run()
    assert run(mode="incremental").parts.get(township=cast.township_a).stats.get("unchanged") is True
    monkeypatch.setattr(runner, "catalogue_fingerprint", lambda: "another catalogue")
    part = run(mode="incremental").parts.get(township=cast.township_a)
    assert part.since is None and part.households == 2 and part.stats["catalogue"] == "another catalogue"


@pytest.mark.django_db
def test_an_edit_behind_the_application_s_back_waits_for_a_full_run(cast: Cast) -> None:
    household = sign_family(cast.area_a1, cast.enumerator_a1)
    run()
    tamper("UPDATE enumeration_person SET d1_name = '改名' WHERE household_id = %s AND row_no = 2", [household.pk])
    run(mode="incremental")
    assert not Finding.objects.exists()
    run(mode="full")
    assert list(Finding.objects.values_list("rule", flat=True)) == ["CONTENT_CHANGED_AFTER_SIGNING"]


@pytest.mark.django_db
def test_a_township_office_runs_its_township_and_the_district_part(cast: Cast) -> None:
    done = check_run_create(user=cast.township_office_a, mode="full")
    assert set(done.parts.values_list("township_id", flat=True)) == {cast.township_a.code, None}
    assert CheckRun.objects.visible_to(cast.township_office_a).filter(pk=done.pk).exists()
    assert not CheckRun.objects.visible_to(cast.township_office_b).filter(pk=done.pk).exists()


@pytest.mark.django_db
def test_the_office_s_run_is_a_job_whose_progress_the_parts_move(
    cast: Cast, django_capture_on_commit_callbacks: Any
) -> None:
    sign_family(cast.area_a1, cast.enumerator_a1)
    with django_capture_on_commit_callbacks() as callbacks:
        started = check_run_start(user=cast.district_office, mode="full")
    assert started.job is not None and started.job.kind == "quality_check_run"
    assert len(callbacks) == 2  # the job, and the part tasks
    job_run(started.job.pk)  # the coordinator works the parts itself when no other worker does
    job = Job.objects.get(pk=started.job.pk)
    # Two townships, the two district sections and the five forms sections of a full run.
    assert job.status == JobStatus.DONE and job.progress == job.total == 9
    assert CheckRun.objects.get(pk=started.pk).status == "done"
    assert job.result["run_id"] == started.pk


@pytest.mark.django_db
def test_the_nightly_task_starts_a_run_over_the_district(cast: Cast) -> None:
    assert nightly_run("incremental") == 1
    nightly = CheckRun.objects.get()
    assert nightly.started_by is None and nightly.township is None and nightly.parts_total == 4
    assert "quality-nightly-incremental" in settings.CELERY_BEAT_SCHEDULE
    assert "quality-escalate-overdue" in settings.CELERY_BEAT_SCHEDULE


@pytest.mark.django_db
def test_run_checks_from_the_shell(cast: Cast) -> None:
    household = sign_family(cast.area_a1, cast.enumerator_a1)
    tamper("UPDATE enumeration_household SET h7_rooms = 16, h6_floor_area = 400 WHERE id = %s", [household.pk])
    out = io.StringIO()
    call_command("run_checks", full=True, township=cast.township_a.code, workers=1, verbosity=2, stdout=out)
    assert "done in" in out.getvalue() and "ROOMS_HIGH" in out.getvalue()
    assert Finding.objects.filter(rule="ROOMS_HIGH").exists()


@pytest.mark.django_db
def test_run_checks_does_not_run_djangos_system_checks_which_migrate_runs_at_deployment(cast: Cast) -> None:
    """A system check that fails (as a configuration problem would) does not stop the run: the nightly command
    need not check the whole project at every start (0.7 s of it); ``migrate`` checks it when it is deployed."""
    from django.core import checks
    from django.core.management.base import SystemCheckError

    def failing(**kwargs: Any) -> list[checks.CheckMessage]:
        return [checks.Error("a configuration problem", id="tests.E001")]

    checks.register(failing)
    try:
        with pytest.raises(SystemCheckError):  # (what a command that runs them would do)
            call_command("check", stdout=io.StringIO())
        out, err = io.StringIO(), io.StringIO()
        # As from the shell (call_command skips the checks of every command).
        RunChecks(stdout=out, stderr=err).run_from_argv(
            ["manage.py", "run_checks", "--township", cast.township_a.code, "--workers", "1"]
        )
    finally:
        checks.registry.registry.registered_checks.discard(failing)
    assert "done in" in out.getvalue(), err.getvalue()


# --- a worker killed in the middle ----------------------------------------------------------------------------


@pytest.mark.celery_worker
@pytest.mark.slow
def test_a_worker_killed_in_the_middle_leaves_no_trace_and_the_next_attempt_completes() -> None:
    """tests/quality/worker_kill_scenario.py, in a pytest process and a test database of its own."""
    env = {**os.environ, "CENSUS_DATABASE_NAME": f"census_kill_{os.getpid()}"}
    env.pop("PYTEST_XDIST_WORKER", None)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/quality/worker_kill_scenario.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-3000:]
    assert "1 passed" in result.stdout, result.stdout[-3000:]


def _number_for(person: dict[str, Any], sequence: int) -> str:
    return same_number(person["d5_birth_year"], person["d5_birth_month"], person["d4_sex"], sequence)


@pytest.mark.django_db
def test_an_incremental_run_settles_the_id_duplicates_of_changed_households_as_a_full_run_would(cast: Cast) -> None:
    household_a = sign_family(cast.area_a1, cast.enumerator_a1)
    persons_a = persons_of(household_a)
    # B registered A's head again; C is a household of its own.
    persons_b = [p if p["row_no"] == 1 else {**p, "d3_id_number": _number_for(p, 60 + p["row_no"])} for p in persons_a]
    household_b = sign_family(cast.area_b1, cast.enumerator_b1, persons=persons_b)
    persons_c = [{**p, "d3_id_number": _number_for(p, 80 + p["row_no"])} for p in persons_a]
    household_c = sign_family(cast.area_a2, cast.enumerator_a2, persons=persons_c, head="李强")
    run()
    duplicates = Finding.objects.filter(rule="ID_DUPLICATE_DISTRICT")
    assert {f.household_id for f in duplicates} == {household_a.pk, household_b.pk}
    # B gives its head a number of his own: A, unchanged, is settled too.
    resign(
        household_b,
        cast.enumerator_b1,
        persons=[{**persons_b[0], "d3_id_number": _number_for(persons_b[0], 71)}, *persons_b[1:]],
    )
    first = run(mode="incremental")
    assert first.parts.get(section="duplicates").stats["since"] is not None
    assert dict(duplicates.values_list("household_id", "state")) == {
        household_a.pk: "closed",
        household_b.pk: "corrected",
    }
    # C takes A's head's number by mistake: A, unchanged, has the finding again, and so has C.
    resign(
        household_c,
        cast.enumerator_a2,
        persons=[{**persons_c[0], "d3_id_number": persons_a[0]["d3_id_number"]}, *persons_c[1:]],
    )
    second = run(mode="incremental")
    assert second.parts.get(section="duplicates").stats["since"] is not None
    incremental = sorted(duplicates.values_list("household_id", "state", "evidence"), key=str)
    assert {(household, state) for household, state, _ in incremental} == {
        (household_a.pk, "open"),
        (household_b.pk, "corrected"),
        (household_c.pk, "open"),
    }
    full = run()
    assert full.parts.get(section="duplicates").stats["since"] is None
    assert sorted(duplicates.values_list("household_id", "state", "evidence"), key=str) == incremental


@pytest.mark.django_db
def test_an_incremental_run_settles_the_near_duplicates_of_changed_households_as_a_full_run_would(cast: Cast) -> None:
    household_a = sign_family(cast.area_a1, cast.enumerator_a1)
    # A's second person has lost her number: she is now compared by name, sex, birth month and address.
    tamper("UPDATE enumeration_person SET d3_id_number = '' WHERE household_id = %s AND row_no = 2", [household_a.pk])
    household_b = sign_family(cast.area_b1, cast.enumerator_b1, head="李强")
    persons_b = persons_of(household_b)
    run()
    near = Finding.objects.filter(rule="NEAR_DUPLICATE_PERSON", household=household_a)
    assert near.get().state == "open"
    # B's 李芳 turns out to be 李芳芳: A, unchanged, has no near match any more.
    renamed = [{**p, "d1_name": "李芳芳"} if p["row_no"] == 2 else p for p in persons_b]
    resign(household_b, cast.enumerator_b1, persons=renamed)
    first = run(mode="incremental")
    assert first.parts.get(section="duplicates").stats["since"] is not None
    assert (near.get().state, near.get().note) == ("closed", "cause_gone")
    # And back: the match, and A's finding, return.
    resign(household_b, cast.enumerator_b1, persons=persons_b)
    run(mode="incremental")
    assert (near.get().state, near.get().note) == ("open", "reappeared")
    incremental = sorted(
        Finding.objects.filter(rule="NEAR_DUPLICATE_PERSON").values_list("key", "state", "evidence"), key=str
    )
    full = run()
    assert full.parts.get(section="duplicates").stats["since"] is None
    assert (
        sorted(Finding.objects.filter(rule="NEAR_DUPLICATE_PERSON").values_list("key", "state", "evidence"), key=str)
        == incremental
    )


@pytest.mark.django_db
def test_an_incremental_run_finds_a_near_duplicate_in_a_household_that_shares_no_number(cast: Cast) -> None:
    household_a = sign_family(cast.area_a1, cast.enumerator_a1)
    # A's second person has lost her number; every number of B is its own: no ID duplicate anywhere.
    tamper("UPDATE enumeration_person SET d3_id_number = '' WHERE household_id = %s AND row_no = 2", [household_a.pk])
    own = [{**p, "d3_id_number": _number_for(p, 90 + p["row_no"])} for p in persons_of(household_a)]
    named = [{**p, "d1_name": "李芳芳"} if p["row_no"] == 2 else p for p in own]
    household_b = sign_family(cast.area_b1, cast.enumerator_b1, persons=named, head="李强")
    run()
    assert not Finding.objects.filter(rule__in=["NEAR_DUPLICATE_PERSON", "ID_DUPLICATE_DISTRICT"]).exists()
    # B's 李芳芳 turns out to be 李芳, A's second person: A, unchanged, has a near match now.
    resign(household_b, cast.enumerator_b1, persons=own)
    assert run(mode="incremental").parts.get(section="duplicates").stats["since"] is not None
    near = Finding.objects.get(rule="NEAR_DUPLICATE_PERSON")
    assert (near.household_id, near.row_no, near.state) == (household_a.pk, 2, "open")


@pytest.mark.django_db
def test_the_parts_go_to_the_workers_longest_first(cast: Cast, monkeypatch: pytest.MonkeyPatch) -> None:
    from supervision.quality import services

    sign_family(cast.area_a1, cast.enumerator_a1)
    sign_family(cast.area_b1, cast.enumerator_b1, head="李强")
    sign_family(cast.area_b1, cast.enumerator_b1, head="赵大")
    created = check_run_create(user=None, mode="full")
    sent: list[int] = []
    monkeypatch.setattr(
        services, "_enqueue_parts", lambda units, queue=None: sent.extend(pk for unit in units for pk in unit)
    )
    services.check_run_parts_enqueue(run=created)
    parts = {part.pk: part for part in created.parts.all()}
    order = [(parts[pk].section, parts[pk].township_id) for pk in sent]
    # The district and forms sections first, then the township with more households.
    sections = [*DISTRICT_SECTIONS, *FORM_SECTIONS]
    assert sorted(section for section, _ in order[: len(sections)]) == sorted(sections)
    assert [township for _, township in order[len(sections) :]] == [cast.township_b.code, cast.township_a.code]


@pytest.mark.django_db
def test_an_incremental_run_sends_the_township_with_more_changes_first(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    from supervision.quality import services

    first_a = sign_family(cast.area_a1, cast.enumerator_a1)
    second_a = sign_family(cast.area_a1, cast.enumerator_a1, head="王强")
    sign_family(cast.area_b1, cast.enumerator_b1, head="李强")
    sign_family(cast.area_b1, cast.enumerator_b1, head="赵大")
    sign_family(cast.area_b1, cast.enumerator_b1, head="钱二")
    run()
    # Township b has three households and a one; since the full run, two of a's changed and none of b's.
    resign(first_a, cast.enumerator_a1, persons=persons_of(first_a))
    resign(second_a, cast.enumerator_a1, persons=persons_of(second_a))
    sent: list[int] = []
    monkeypatch.setattr(
        services, "_enqueue_parts", lambda units, queue=None: sent.extend(pk for unit in units for pk in unit)
    )
    # (Every township with a change its own part: ``test_an_incremental_run_checks_townships_with_few_changes_together``
    # is about the groups.)
    monkeypatch.setattr(services, "GROUP_HOUSEHOLDS", 1)
    incremental = check_run_create(user=None, mode="incremental")
    services.check_run_parts_enqueue(run=incremental)
    parts = {part.pk: part.township_id or part.section for part in incremental.parts.all()}
    # A district section goes before the townships' changes are counted. All of the changes are a's: its part goes
    # next, beside that section, before the other (which reads them again over the whole district, at less cost
    # per household), and b's part, with nothing to read again, last.
    first, second = DISTRICT_SECTIONS
    assert [parts[pk] for pk in sent] == [first, cast.township_a.code, second, cast.township_b.code]
    # A full run goes by all the households: b first.
    sent.clear()
    services.check_run_parts_enqueue(run=(full := check_run_create(user=None, mode="full")))
    parts = {part.pk: part.township_id for part in full.parts.all()}
    assert [parts[pk] for pk in sent if parts[pk]] == [cast.township_b.code, cast.township_a.code]


@pytest.mark.django_db
def test_an_incremental_run_checks_townships_with_few_changes_together(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    from supervision.quality import services

    sign_family(cast.area_a1, cast.enumerator_a1)
    sign_family(cast.area_b1, cast.enumerator_b1, head="李强")
    run()
    for head in ("王强", "王刚"):
        sign_family(cast.area_a1, cast.enumerator_a1, head=head)
    sign_family(cast.area_b1, cast.enumerator_b1, head="赵大")
    sent: list[list[int]] = []
    monkeypatch.setattr(services, "_enqueue_parts", lambda units, queue=None: sent.extend(units))
    incremental = check_run_create(user=None, mode="incremental")
    services.check_run_parts_enqueue(run=incremental)
    parts = {part.pk: part.township_id or part.section for part in incremental.parts.all()}
    first, second = DISTRICT_SECTIONS
    # Three changed households in two townships, far below a group's 2,500: one task for both townships (the one
    # with fewer changes first), between the two sections (its 3 households weigh more than a section's 0.8 × 3).
    assert [[parts[pk] for pk in unit] for unit in sent] == [
        [first],
        [cast.township_b.code, cast.township_a.code],
        [second],
    ]
    # With groups of at most two households, a's two changes are a part of their own, weighing less than a
    # section (2.4): the sections, a, then b's one change alone.
    sent.clear()
    monkeypatch.setattr(services, "GROUP_HOUSEHOLDS", 2)
    services.check_run_parts_enqueue(run=incremental)
    assert [[parts[pk] for pk in unit] for unit in sent] == [
        [first],
        [second],
        [cast.township_a.code],
        [cast.township_b.code],
    ]


def _all_findings() -> list[tuple[Any, ...]]:
    return sorted(
        (rule, key, township, state, household, responsible, str(evidence))
        for rule, key, township, state, household, responsible, evidence in Finding.objects.values_list(
            "rule", "key", "township_id", "state", "household_id", "responsible_id", "evidence"
        )
    )


class _Undo(Exception):
    pass


@pytest.mark.django_db
def test_townships_checked_together_find_what_each_checked_alone_finds(cast: Cast) -> None:
    from supervision.quality.services import check_run_part_execute, check_run_parts_execute

    sign_family(cast.area_a1, cast.enumerator_a1)
    sign_family(cast.area_b1, cast.enumerator_b1, head="李强")
    run()
    # Since the full run: seven forms signed by a's enumerator within minutes (SPEED_IMPLAUSIBLE), each a copy of
    # the others (COPY_PASTE_HOUSEHOLDS); in b three copies, one of them with an ID number changed behind the
    # application's back (ID_CHECKSUM); the same people's numbers in both townships (the district's duplicates).
    for index in range(7):
        sign_family(cast.area_a1, cast.enumerator_a1, head=f"王{'一二三四五六七'[index]}")
    copies = [sign_family(cast.area_b1, cast.enumerator_b1, head=head) for head in ("赵大", "钱二", "孙三")]
    number = persons_of(copies[0])[2]["d3_id_number"]
    tamper(
        "UPDATE enumeration_person SET d3_id_number = %s WHERE household_id = %s AND row_no = 3",
        [number[:-1] + ("0" if number[-1] != "0" else "1"), copies[0].pk],
    )
    created = check_run_create(user=None, mode="incremental")
    parts = {part.township_id or part.section: part.pk for part in created.parts.all()}
    sections = [parts[section] for section in DISTRICT_SECTIONS]
    townships = [parts[cast.township_a.code], parts[cast.township_b.code]]

    try:
        with transaction.atomic():
            for part_id in [*sections, *townships]:
                assert check_run_part_execute(part_id=part_id)
            alone = _all_findings()
            raise _Undo
    except _Undo:
        pass
    for part_id in sections:
        check_run_part_execute(part_id=part_id)
    assert check_run_parts_execute(part_ids=townships) == 2
    together = _all_findings()

    assert together == alone
    found = {(rule, township) for rule, _, township, state, *_ in together if state == "open"}
    assert {
        ("SPEED_IMPLAUSIBLE", cast.township_a.code),
        ("COPY_PASTE_HOUSEHOLDS", cast.township_a.code),
        ("COPY_PASTE_HOUSEHOLDS", cast.township_b.code),
        ("ID_CHECKSUM", cast.township_b.code),
    } <= found, found
    # Each township's part is done with its own households; the group's work is counted once, on the first.
    done = {part.township_id: part for part in CheckRun.objects.get(pk=created.pk).parts.exclude(township=None)}
    assert (done[cast.township_a.code].households, done[cast.township_b.code].households) == (7, 3)
    assert done[cast.township_a.code].stats["group"] == [cast.township_a.code, cast.township_b.code]
    assert done[cast.township_b.code].stats["with"] == done[cast.township_a.code].pk
    assert CheckRun.objects.get(pk=created.pk).status == "done"


def _record_key(household: Any, row: int | None = None) -> str:
    """The record key people read, spelled out: the small area's code, the household number in three digits,
    and the person's row."""
    household.refresh_from_db()
    key = f"{household.small_area.code}{household.household_no:03d}"
    return key if row is None else f"{key}#{row}"


@pytest.mark.django_db
def test_an_incremental_run_finds_an_id_duplicate_whose_older_twin_is_unchanged_and_settles_it(cast: Cast) -> None:
    household_a = sign_family(cast.area_a1, cast.enumerator_a1)
    persons_a = persons_of(household_a)
    persons_b = [{**p, "d3_id_number": _number_for(p, 60 + p["row_no"])} for p in persons_a]
    household_b = sign_family(cast.area_b1, cast.enumerator_b1, persons=persons_b, head="李强")
    run()
    duplicates = Finding.objects.filter(rule="ID_DUPLICATE_DISTRICT")
    assert not duplicates.exists()
    # B, in another township, writes A's head's number on its own head: only B changed.
    resign(
        household_b,
        cast.enumerator_b1,
        persons=[{**persons_b[0], "d3_id_number": persons_a[0]["d3_id_number"]}, *persons_b[1:]],
    )
    found = run(mode="incremental")
    assert found.parts.get(township=cast.township_a).households == 0
    assert found.parts.get(section="duplicates").stats["since"] is not None
    number = persons_a[0]["d3_id_number"]
    expected = {
        (household_a.pk, f"h{household_a.pk}:1:D3", _record_key(household_a, 1), "open", _record_key(household_b, 1)),
        (household_b.pk, f"h{household_b.pk}:1:D3", _record_key(household_b, 1), "open", _record_key(household_a, 1)),
    }
    assert {(f.household_id, f.key, f.record_key, f.state, f.evidence["other"]) for f in duplicates.all()} == expected
    assert {f.evidence["id_number"] for f in duplicates.all()} == {number}
    # A full run finds the same two findings.
    run()
    assert {(f.household_id, f.key, f.record_key, f.state, f.evidence["other"]) for f in duplicates.all()} == expected
    # B's head gets a number of his own again: both findings are settled — A's closed (its cause went away
    # without a change of A), B's corrected (B signed again).
    resign(household_b, cast.enumerator_b1, persons=persons_b)
    run(mode="incremental")
    assert dict(duplicates.values_list("household_id", "state")) == {
        household_a.pk: "closed",
        household_b.pk: "corrected",
    }
    assert dict(duplicates.values_list("household_id", "note")) == {
        household_a.pk: "cause_gone",
        household_b.pk: "corrected",
    }
    settled = sorted(duplicates.values_list("key", "state", "evidence"), key=str)
    run()
    assert sorted(duplicates.values_list("key", "state", "evidence"), key=str) == settled


@pytest.mark.django_db
def test_an_incremental_run_finds_a_copied_household_whose_original_is_unchanged_and_settles_it(
    cast: Cast,
) -> None:
    """The copy rule compares the households of one enumerator: a changed household that becomes a copy of an
    unchanged one gives both a finding, read from the township's tally without reading the unchanged one's
    persons; and both are settled when the copy is corrected."""
    form, _rows = family_form()
    household_a = sign_family(cast.area_a1, cast.enumerator_a1)
    persons_a = persons_of(household_a)
    # B: the same family's shape, other names and numbers, and one room less — not a copy.
    persons_b = [
        {**p, "d1_name": name, "d3_id_number": _number_for(p, 60 + p["row_no"])}
        for p, name in zip(persons_a, ["李强", "张丽", "李小军"], strict=True)
    ]
    household_b = sign_family(
        cast.area_a1, cast.enumerator_a1, persons=persons_b, head="李强", data={**form, "h7_rooms": 3}
    )
    run()
    copies = Finding.objects.filter(rule="COPY_PASTE_HOUSEHOLDS")
    assert not copies.exists()
    # B is signed again with four rooms: now every item the rule compares is A's (names and numbers aside).
    resign(household_b, cast.enumerator_a1, persons=persons_b, data={**form, "h7_rooms": 4})
    found = run(mode="incremental")
    part = found.parts.get(township=cast.township_a)
    assert part.since is not None and part.households == 1
    key_a, key_b = _record_key(household_a), _record_key(household_b)
    expected = {
        (f"h{household_a.pk}:copy", key_a, "open", key_b, cast.enumerator_a1.pk),
        (f"h{household_b.pk}:copy", key_b, "open", key_a, cast.enumerator_a1.pk),
    }
    assert {(f.key, f.record_key, f.state, f.evidence["other"], f.responsible_id) for f in copies.all()} == expected
    run()
    assert {(f.key, f.record_key, f.state, f.evidence["other"], f.responsible_id) for f in copies.all()} == expected
    # Three rooms again: A's finding closes although A did not change, B's is corrected.
    resign(household_b, cast.enumerator_a1, persons=persons_b, data={**form, "h7_rooms": 3})
    settled = run(mode="incremental")
    assert settled.parts.get(township=cast.township_a).households == 1
    assert {(f.key, f.state, f.note) for f in copies.all()} == {
        (f"h{household_a.pk}:copy", "closed", "cause_gone"),
        (f"h{household_b.pk}:copy", "corrected", "corrected"),
    }
    after = sorted(copies.values_list("key", "state", "evidence"), key=str)
    run()
    assert sorted(copies.values_list("key", "state", "evidence"), key=str) == after
