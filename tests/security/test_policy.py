"""The policy table (tests/security/policy.py) against the code: ``visible_to`` of every model a URL looks up
returns exactly the rows the policy names, for every user of the world; job files, job retries and the pages
that show a job kind's content agree with the policy; the auditor reads and never writes."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

from census.models import Job, JobStatus, Role, StaffMember
from tests.security.conftest import World
from tests.security.matrix import (
    UNSAFE_METHODS,
    Endpoint,
    ObjectParam,
    api_operations,
    changed_tables,
    declared_params,
    fingerprint,
    schema_template,
    url_endpoints,
    value_of,
)
from tests.security.policy import JOB_KINDS, RULES, Standing, may_retry_job, must_see, rule_for, sees_job

ENDPOINTS = url_endpoints()
OPERATIONS = api_operations()


def _looked_up_models() -> set[type[Any]]:
    models = set()
    for endpoint in ENDPOINTS:
        access = endpoint.access
        if access is None or access.kind != "roles":
            continue
        params, _missing = declared_params(endpoint)
        models |= {p.model for p in params.values() if isinstance(p, ObjectParam)}
    return models


LOOKED_UP = sorted(_looked_up_models(), key=lambda m: m._meta.label)


def _users() -> list[StaffMember]:
    return list(StaffMember.objects.filter(is_superuser=False).order_by("username"))


def test_every_model_a_url_looks_up_has_a_rule() -> None:
    for model in LOOKED_UP:
        rule_for(model)  # fails with what to add
    assert Job in RULES and len(LOOKED_UP) >= 10


@pytest.mark.django_db
@pytest.mark.parametrize("model", LOOKED_UP, ids=lambda m: m._meta.label)
def test_visible_to_is_exactly_what_the_policy_says(model: type[Any], world: World) -> None:
    """Neither wider (a leak) nor narrower (a page that refuses what it should show), for every user."""
    problems = []
    seen_by_someone = unseen_by_someone = False
    for user in _users():
        expected = must_see(model, user)
        actual = set(model._default_manager.visible_to(user).values_list("pk", flat=True))
        if actual - expected:
            problems.append(f"{user.username} ({user.role}) sees {sorted(actual - expected)} beyond the policy")
        if expected - actual:
            problems.append(f"{user.username} ({user.role}) misses {sorted(expected - actual)} the policy shows")
        seen_by_someone = seen_by_someone or bool(expected)
        unseen_by_someone = unseen_by_someone or len(expected) < model._default_manager.count()
    assert not problems, f"{model._meta.label} — {rule_for(model).says}:\n" + "\n".join(problems)
    # The world must make the rule bite: rows some user sees and rows some user does not.
    assert seen_by_someone and unseen_by_someone, f"add rows of {model._meta.label} in tests/security/samples.py"


# --- jobs ------------------------------------------------------------------------------------------------


def test_every_job_kind_has_a_decided_audience() -> None:
    from census.jobs import _HANDLERS, job_kinds

    # Kinds the tests register for themselves (tests/census/slow_job.py, the fault tests) are not the system's.
    declared = {kind: d for kind, d in job_kinds().items() if not _HANDLERS[kind].__module__.startswith("tests.")}
    assert set(declared) == set(JOB_KINDS), "decide who may see each job kind in tests/security/policy.py"
    for kind, policy in JOB_KINDS.items():
        assert declared[kind].audience == policy.audience, f"{kind}: audience {declared[kind].audience}"
        assert declared[kind].starters == policy.starters, f"{kind}: starters {declared[kind].starters}"


def _access(name: str) -> frozenset[str]:
    matches = [e for e in ENDPOINTS if e.name == name]
    assert matches, f"no URL named {name}"
    access = matches[0].access
    assert access is not None and access.kind == "roles", name
    return frozenset(access.roles)


@pytest.mark.parametrize("kind", sorted(JOB_KINDS))
def test_the_pages_of_a_job_kind_admit_the_same_roles_as_its_jobs(kind: str) -> None:
    """A file is not shown to a role the page of its content refuses, nor hidden from a role the page admits."""
    policy = JOB_KINDS[kind]
    for page in policy.pages:
        assert _access(page) == policy.audience, f"{page} admits {sorted(_access(page))}, {kind} is for {policy}"
    admitted: set[str] = set()
    for page in policy.start_pages:
        assert _access(page) <= policy.starters, f"{page} admits {sorted(_access(page))}, {kind} is started by {policy}"
        admitted |= _access(page)
    if policy.start_pages:
        assert admitted == policy.starters, f"{kind}: no page starts it for {sorted(policy.starters - admitted)}"
    assert Role.AUDITOR not in policy.starters


@pytest.fixture
def job_files(world: World, settings: Any, tmp_path: Any) -> list[Job]:
    """Every job of the world finished, with a file to download."""
    settings.PRIVATE_MEDIA_ROOT = settings.MEDIA_ROOT = tmp_path
    jobs = list(Job.objects.order_by("pk"))
    for job in jobs:
        job.file.save(f"{job.kind}-{job.pk}.xlsx", ContentFile(b"PK content of " + job.kind.encode()), save=False)
        job.file_name = f"{job.kind}-{job.pk}.xlsx"
        job.status = JobStatus.DONE
        job.save()
    return jobs


def _client(user: StaffMember) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_job_lists_pages_and_files_are_those_of_the_policy(job_files: list[Job]) -> None:
    """An enumerator does not download the township's 两员 payment sheet or the enumerator ranking; an auditor
    not the subsidy sheet the subsidy pages refuse them; every user exactly what the policy gives them."""
    kinds = {job.kind for job in job_files}
    assert set(JOB_KINDS) <= kinds, "the world lacks a job of some kind (tests/security/samples.py make_jobs)"
    problems = []
    for user in _users():
        who = Standing.of(user)
        client = _client(user)
        listed = {job.pk for job in client.get(reverse("jobs:list")).context["listing"].page.paginator.object_list}
        expected = {job.pk for job in job_files if sees_job(job, who)}
        if listed != expected:
            problems.append(f"{user.username} lists {sorted(listed)}, the policy says {sorted(expected)}")
        for job in job_files:
            want = 200 if sees_job(job, who) else 404
            for name in ("jobs:detail", "jobs:download"):
                status = client.get(reverse(name, args=[job.pk])).status_code
                if status != want:
                    problems.append(f"GET {name} {job.kind} #{job.pk} as {user.username} ({user.role}): {status}")
    assert not problems, "\n".join(problems)


@pytest.mark.django_db
def test_the_townships_payment_sheet_and_ranking_reach_only_its_offices(world: World, job_files: list[Job]) -> None:
    """The probe's case, worked by hand: township A's office exports its 两员 payment sheet and its enumerator
    ranking. Its office and the district office download them; its enumerator, its supervisor, township B's
    office and the auditor (whom the subsidy pages and dashboards refuse) get 404, for the file and the retry."""
    cast = world.cast
    office = cast.township_office_a
    sheet = Job.objects.get(kind="organisation_subsidy_sheet", created_by=office)
    ranking = Job.objects.get(kind="progress_table", created_by=office, params__table="enumerators")
    for job in (sheet, ranking):
        for user in (office, cast.district_office):
            assert _client(user).get(reverse("jobs:download", args=[job.pk])).status_code == 200, user
        for user in (cast.enumerator_a1, cast.supervisor_a, cast.township_office_b, cast.auditor):
            client = _client(user)
            assert client.get(reverse("jobs:download", args=[job.pk])).status_code == 404, (job.kind, user)
            assert client.post(reverse("jobs:retry", args=[job.pk])).status_code == 404, (job.kind, user)


@pytest.mark.django_db
def test_a_failed_job_is_started_again_only_by_those_the_policy_names(world: World) -> None:
    """Whoever started it, or a role that may start its kind and sees it; never the auditor. Anyone else who
    sees it is refused (403) and is not offered the button, anyone who does not gets 404, and neither changes
    the job."""
    Job.objects.update(status=JobStatus.FAILED, error="boom")
    jobs = list(Job.objects.order_by("pk"))
    problems = []
    retried_by_someone_else = False
    for user in _users():
        who = Standing.of(user)
        client = _client(user)
        for job in jobs:
            if sees_job(job, who):
                offered = reverse("jobs:retry", args=[job.pk]) in client.get(reverse("jobs:detail", args=[job.pk])).text
                if offered != may_retry_job(job, who):
                    problems.append(f"the page of {job.kind} #{job.pk} offers {user.username} a retry: {offered}")
            response = client.post(reverse("jobs:retry", args=[job.pk]))
            status = Job.objects.get(pk=job.pk).status
            if may_retry_job(job, who):
                ok = response.status_code == 302 and status == JobStatus.QUEUED
                retried_by_someone_else = retried_by_someone_else or job.created_by_id != user.pk
                Job.objects.filter(pk=job.pk).update(status=JobStatus.FAILED)
            else:
                want = 403 if sees_job(job, who) else 404
                ok = response.status_code == want and status == JobStatus.FAILED
            if not ok:
                problems.append(f"POST retry {job.kind} #{job.pk} as {user.username}: {response.status_code}, {status}")
    assert not problems, "\n".join(problems)
    assert retried_by_someone_else  # an office starts again the failed job of a colleague (or the nightly run)


# --- the auditor reads, never writes ---------------------------------------------------------------------


def _auditor_targets() -> list[tuple[Endpoint, tuple[str, ...]]]:
    """Every URL and API operation the auditor may use, with the unsafe methods to try on it."""
    by_template = {schema_template(path): methods for path, methods in OPERATIONS.items()}
    targets = []
    for endpoint in ENDPOINTS:
        access = endpoint.access
        if access is None or access.kind != "roles" or Role.AUDITOR not in access.roles:
            continue
        documented = by_template.get(endpoint.template) if endpoint.is_api else None
        methods = tuple(m for m in (documented or UNSAFE_METHODS) if m in UNSAFE_METHODS)
        targets.append((endpoint, methods or UNSAFE_METHODS))
    return targets


@pytest.mark.django_db
def test_the_auditor_never_writes(world: World) -> None:
    """Every unsafe request the auditor can make on every page and API open to them, with objects inside their
    scope (the policy's), changes nothing — not even a failed job of their own, which they may not start again."""
    auditor = world.cast.auditor
    Job.objects.update(status=JobStatus.FAILED, error="boom")
    client = _client(auditor)
    targets = _auditor_targets()
    assert any(endpoint.name == "jobs:retry" for endpoint, _methods in targets)
    problems = []
    before = fingerprint()
    for endpoint, methods in targets:
        params, missing = declared_params(endpoint)
        assert not missing, endpoint.label
        combos: list[dict[str, str]] = [{}]
        for name, param in params.items():
            if isinstance(param, ObjectParam):
                rows = param.model._default_manager.filter(pk__in=must_see(param.model, auditor)).order_by("pk")
                values = [value_of(row, param) for row in rows]
            else:
                values = list(param.values)
            combos = [{**combo, name: value} for combo in combos for value in values]
        for values in combos:
            path = endpoint.path(values)
            for method in methods:
                kwargs: dict[str, Any] = (
                    {"data": {}} if method == "post" else {"data": "{}", "content_type": "application/json"}
                )
                response = getattr(client, method)(path, **kwargs)
                if response.status_code == 500:
                    problems.append(f"{method.upper()} {path}: 500")
        after = fingerprint()
        if changed := changed_tables(before, after):
            problems.append(f"{endpoint.label} as the auditor changed {changed}")
            before = after
    assert not problems, "\n".join(problems)
