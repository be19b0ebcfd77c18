"""The machinery of the XSS sweep (test_xss.py): find every free-text field, write a payload into every row of
it, walk every page as every role, and say where a payload came out as markup instead of text.

Fields come from the app registry, pages from the permission matrix's URL discovery (``matrix.url_endpoints``)
and objects from the ``world`` fixture plus its ``SAMPLE_MAKERS``: a field or page added tomorrow is swept
tomorrow. A new free-text field fails ``test_every_free_text_field_is_planted_or_skipped`` until it is added
to ``FREE_TEXT`` (planted) or ``SKIPPED`` (with the reason it cannot carry a payload to a page).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode

from django.apps import apps
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.http import HttpResponse
from django.test import Client

from tests.security.matrix import (
    Endpoint,
    LiteralParam,
    ObjectParam,
    declared_params,
    scoped,
    url_endpoints,
    value_of,
)

# --- payloads --------------------------------------------------------------------------------------------

PAYLOADS = {
    "script": "<script>alert(1)</script>",
    "img": '"><img src=x onerror=alert(1)>',
    "javascript-url": "javascript:alert(1)",
}
# The shortest payload that still runs script through an event handler; for fields too short for the others.
SHORT_PAYLOAD = "<i onclick=alert(1)>"
# Fields shorter than this cannot hold markup that runs anything: they are skipped as too short.
MIN_LENGTH = len(SHORT_PAYLOAD)

APP_LABELS = ("census", "enumeration", "self_enumeration", "quality", "progress", "organisation", "completeness")


def marker(index: int) -> str:
    """Appended to a payload where it fits, so that a page showing it (escaped) says which field it came from."""
    return f"§{index}§"


def planted_value(payload: str, max_length: int | None, index: int) -> str:
    limit = max_length or 10_000
    for candidate in (payload + marker(index), payload, SHORT_PAYLOAD):
        if len(candidate) <= limit:
            return candidate
    raise AssertionError(f"no payload fits in {limit} characters")


# --- the fields ------------------------------------------------------------------------------------------

TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField)


def label(model: type[models.Model], name: str) -> str:
    return f"{model._meta.label}.{name}"


def text_fields() -> dict[str, models.Field[Any, Any]]:
    """Every concrete text or JSON field of the models of ``APP_LABELS``."""
    out: dict[str, models.Field[Any, Any]] = {}
    for app_label in APP_LABELS:
        for model in apps.get_app_config(app_label).get_models():
            if model._meta.proxy or not model._meta.managed:
                continue
            for f in model._meta.concrete_fields:
                if isinstance(f, TEXT_FIELDS):
                    out[label(model, f.name)] = f
    return out


def _regex_constrained(model: type[models.Model]) -> set[str]:
    """Fields whose values a database CHECK constraint holds to a regular expression."""
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, Q):
            for child in node.children:
                walk(child)
        elif isinstance(node, tuple) and isinstance(node[0], str) and node[0].endswith("__regex"):
            names.add(node[0].removesuffix("__regex"))

    for constraint in model._meta.constraints:
        condition = getattr(constraint, "condition", None)
        if condition is not None:
            walk(condition)
    return names


def constrained(f: models.Field[Any, Any]) -> str | None:
    """Why a field cannot carry a payload by its definition alone, or None when it can."""
    if f.choices:
        return "choices"
    if any(isinstance(v, RegexValidator) for v in f.validators):
        return "a regular-expression validator"
    if f.name in _regex_constrained(f.model):
        return "a database CHECK constraint (regular expression)"
    if isinstance(f, models.CharField) and f.max_length is not None and f.max_length < MIN_LENGTH:
        return f"at most {f.max_length} characters: too short for markup that runs script"
    return None


# Free text a person types (or a file they upload carries): planted in every row, shown on every page.
# The value says where it is typed.
FREE_TEXT: dict[str, str] = {
    # self-enumeration (issue 24): the 申报人's name, typed by the household, shown on the verification page
    "self_enumeration.Declaration.declarant_name": "the respondent's declaration page (the public, no login)",
    # the district's override of the checks (issue 23): the written reason, shown on the form and the summaries
    "enumeration.AcceptanceOverride.reason": "the override form on a household's page (district office)",
    # completeness and the re-check (issue 23): typed on the visit form, the re-check interview and the overrides
    "completeness.Visit.refusal_reason": "the visit form (a refusal's reason), shown on the small area's visits",
    "completeness.Visit.steps_taken": "the visit form (a refusal's steps), shown on the small area's visits",
    "completeness.Visit.note": "the visit form",
    "completeness.RecheckPerson.name": "the re-check interview, shown in the differences and the clerical review",
    "completeness.RecheckHousehold.note": "the re-check interview",
    "completeness.RecheckOverride.reason": "the re-check's override form (district office), shown on its pages",
    # the census frame (district import) and staff
    "census.District.name": "frame import",
    # a city office's name (issue 26): given to `manage.py city_office_create --city-name`, shown on its dashboard
    "census.City.name": "the city_office_create command, shown on the city office's dashboard and page header",
    "census.Township.name": "frame import",
    # a phone's browser (its User-Agent header, which whoever holds the phone controls): the phones page (issue 19)
    "enumeration.PhoneDevice.label": "a phone's User-Agent header, shown on the offices' phones page",
    "census.Village.name": "frame import",
    "census.SmallArea.name": "frame import",
    "census.Building.address": "listing page (building form)",
    "census.Department.name": "admin",
    "census.StaffMember.first_name": "admin / staff import",
    "census.StaffMember.last_name": "admin / staff import",
    "census.StaffMember.email": "admin (a quoted local part may hold <, > and quotes)",
    "census.StaffMember.phone": "admin / staff import",
    "census.StaffMember.credential_no": "admin / staff import",
    "census.StaffMember.unit": "staff pages / staff import",
    "census.Job.title": "composed from names the user chose (township, table)",
    "census.Job.message": "progress text, may quote a file's values",
    "census.Job.error": "a failed job's error, may quote a file's values",
    "census.Job.file_name": "output file name, may carry a township's name",
    "census.AuditEvent.detail": "reasons typed for changes and reopenings (planted through the services)",
    # registration
    "enumeration.DwellingUnit.note": "listing page (dwelling unit form)",
    "enumeration.Household.head_name_listed": "listing: head of household (户主姓名)",
    "enumeration.Household.warning_notes": "notes explaining warnings (summary page, autosave, API)",
    "enumeration.Person.d1_name": "D1 name",
    "enumeration.Person.c20_industry": "C20 industry (long form, free text)",
    "enumeration.Person.c21_occupation": "C21 occupation (long form, free text)",
    "enumeration.DeathRecord.name": "death register: name",
    "enumeration.RespondentConfirmation.name": "respondent's name",
    "enumeration.RespondentConfirmation.refusal_reason": "why the respondent refused to sign",
    "enumeration.HouseholdVersion.content": "a signed form's content: its names (planted through the services)",
    "enumeration.HouseholdVersion.diff": "before/after of a change after signing (planted through the services)",
    "enumeration.HouseholdVersion.reason": "why a signed form changed",
    "enumeration.HouseholdTransition.reason": "reasons of returns and reopenings",
    "enumeration.ReviewComment.item": "the item a comment is about (the API takes any text up to 20)",
    "enumeration.ReviewComment.text": "review comment",
    # quality
    "quality.Finding.explanation": "an enumerator's explanation of a finding",
    "quality.Finding.note": "a reviewer's note on a finding",
    "quality.FindingEvent.note": "a note on a finding's history",
    "quality.HukouRosterEntry.name": "hukou roster import",
    "quality.HukouRosterEntry.address": "hukou roster import",
    "quality.RosterMatch.name": "the roster entry's name, copied by the check runs (reaches pages in findings' evidence)",
    # organisation
    "organisation.EvidenceFile.original_name": "an uploaded file's own name (evidence title)",
    "organisation.EvidenceFile.description": "evidence description",
    "organisation.DirectoryUnit.name": "directory import / page",
    "organisation.DirectoryUnit.address": "directory import / page",
    "organisation.DirectoryUnit.removal_note": "why a unit leaves the directory",
    "organisation.DirectoryReview.note": "directory review note",
    "organisation.DirectoryFigure.note": "note on a monthly figure",
    "organisation.UnitReadiness.note": "readiness note",
    "organisation.ReadinessItem.note": "readiness item note",
    "organisation.ReadinessMember.name": "member of a leading group or office",
    "organisation.ReadinessMember.post": "their post",
    "organisation.ReadinessMember.job_title": "their job title",
    "organisation.ReadinessMember.phone": "their phone",
    "organisation.RectificationItem.number": "number of an inspection's feedback item",
    "organisation.RectificationItem.title": "title",
    "organisation.RectificationItem.feedback": "the inspection's feedback",
    "organisation.RectificationItem.source": "source",
    "organisation.RectificationTask.measure": "rectification measure",
    "organisation.RectificationTask.responsible_person": "responsible person",
    "organisation.RectificationTask.responsible_post": "their post",
    "organisation.RectificationTask.evidence_required": "evidence required",
    "organisation.RectificationTask.answer": "what the department did",
    "organisation.RectificationTask.returned_reason": "why an answer was returned",
    "organisation.RectificationRecheck.note": "what a re-check found",
    "organisation.DepartmentTask.title": "a department's census task",
    "organisation.DepartmentTask.deliverable": "what the task must deliver",
    "organisation.DepartmentTask.answer": "what the department delivered",
    "organisation.DepartmentTask.returned_reason": "why a task's answer was returned",
    "organisation.SubsidyDue.reduction_reason": "why a subsidy was reduced",
    "organisation.SubsidyPayment.reference": "payment voucher number",
    "organisation.Training.topic": "training topic",
    "organisation.Training.trainer": "trainer",
    "organisation.Training.audience": "who was trained",
    "organisation.StudySession.topic": "documents studied",
    "organisation.StudySession.chaired_by": "chaired by",
    "organisation.SelfInspection.findings": "self-inspection findings",
}

# Text fields that no person types, or that cannot reach a page; each with the reason.
SKIPPED: dict[str, str] = {
    "self_enumeration.Invitation.draft": (
        "the respondent's answers as the enumerator's entry forms clean them (PersonForm, HouseholdItemsForm); shown"
        " only on the respondent's own pages, which open by the household's code, not to any staff page"
    ),
    "self_enumeration.Declaration.content": (
        "a snapshot of the declared answers (canonical content written by the service), shown through value_label"
        " in the verification diff; its names are the respondent's, cleaned as Person.d1_name"
    ),
    "self_enumeration.Declaration.confirmation_no": "twelve digits written by the service",
    "enumeration.AcceptanceOverride.blockers": (
        "copied by the code from the blocking findings (rule codes and the findings' own text, classified on"
        " quality.Finding) when the override is made; nobody types it"
    ),
    "completeness.RecheckDraw.mode_rates": "collection mode → a share between 0 and 1, checked by recheck_draw",
    "completeness.RecheckArea.household_ids": "a list of household ids written by the draw",
    "completeness.RecheckOverride.key": "the re-check's result composed by the code from ids and counts",
    "completeness.RecheckOverride.text": (
        "composed by the code (recheck_blocker_text) from the small area's code and counts when the override is made"
    ),
    "completeness.CoverageFigures.estimate": "numbers written by coverage_refresh (an Estimate's fields)",
    "census.StaffMember.password": "a password hash, never shown",
    "census.StaffMember.credential_key": "a random key the system makes (secrets.token_urlsafe), never typed",
    "census.AuditEvent.actor_username": "copied from StaffMember.username (letters, digits and @.+-_ only)",
    "census.AuditEvent.actor_role": "copied from StaffMember.role (choices)",
    "census.AuditEvent.object_type": "a model label written by the code",
    "census.AuditEvent.object_id": "a primary key written by the code",
    "census.AuditLink.event_hash": "a SHA-256 written by the sealer, never shown",
    "census.AuditLink.prev_hash": "a SHA-256 written by the sealer, never shown",
    "census.AuditLink.hmac": "an HMAC written by the sealer, never shown",
    "census.AuditChainRun.problems": "problem codes, link and entry numbers, the anchor's path and time, written by the sealer",
    "census.Job.kind": "a handler name written by the code",
    "census.Job.params": "ids and codes the code passes to a handler; never shown",
    "census.Job.result": (
        "a handler's machine-readable result: counts, and for the staff import its report, whose messages may quote "
        "a cell of the uploaded file; the import page shows them through the template's escaping (a string "
        "planted here would not be a report at all)"
    ),
    "enumeration.PhoneDevice.key_sha256": "a SHA-256 written by the code, never shown",
    "enumeration.PhoneDevice.session_key": "a session key written by the code, never shown",
    "enumeration.IdempotencyRecord.key": "a client's Idempotency-Key header: stored to match retries, never shown",
    "enumeration.IdempotencyRecord.path": "the request path (a URL of this site), never shown",
    "enumeration.IdempotencyRecord.request_hash": "a SHA-256 written by the code",
    "enumeration.IdempotencyRecord.response_body": "a stored API response, replayed as JSON only",
    "enumeration.RespondentConfirmation.signature_image": (
        "a PNG data URL checked by respondent_confirm (prefix, base64, PNG header); test_bad_input shows that a "
        "javascript: URL is refused"
    ),
    "enumeration.RespondentConfirmation.signature_sha256": "a SHA-256 written by the service",
    "enumeration.Signature.signer_role": "copied from StaffMember.role (choices)",
    "enumeration.LongFormSample.household_ids": "a list of household ids",
    "quality.Finding.rule": "a rule id from the catalogue",
    "quality.Finding.acts": "who acts, from the catalogue",
    "quality.Finding.key": "an identity composed by the checks from codes and numbers",
    "quality.Finding.record_key": "composed by the checks from area codes, 户编号, usernames and pseudonyms of ID numbers",
    "quality.Finding.evidence": "composed by the checks from stored values (names among them are the planted ones)",
    "quality.HouseholdTally.fingerprint": "an MD5 written by the checks, never shown",
    "quality.CheckRun.stats": "counts written by the checks",
    "quality.CheckRun.error": "a traceback summary written by the worker",
    "quality.CheckRunPart.stats": "counts written by the checks",
    "quality.CheckRunPart.error": "a traceback summary written by the worker",
    "organisation.DirectoryReview.results": "criterion code → yes/no",
}

# JSON fields planted through the services (their structure belongs to the code), not by rewriting rows.
PLANTED_BY_SERVICES = {
    "census.AuditEvent.detail",  # append-only: the database refuses updates
    "enumeration.Household.warning_notes",
    "enumeration.HouseholdVersion.content",
    "enumeration.HouseholdVersion.diff",
}

# Snapshots of other fields (the names and notes planted above): they carry those fields' markers, not their own.
CARRY_OTHER_FIELDS = {"enumeration.HouseholdVersion.content", "enumeration.HouseholdVersion.diff"}

# The fields the issue names, which the sweep must see on at least one page (escaped): a test that plants
# them where no page looks would prove nothing.
MUST_BE_SHOWN = {
    "enumeration.Person.d1_name",
    "enumeration.Household.head_name_listed",
    "enumeration.DeathRecord.name",
    "enumeration.Household.warning_notes",
    "enumeration.ReviewComment.text",
    "enumeration.HouseholdTransition.reason",
    "organisation.EvidenceFile.original_name",
    "organisation.DirectoryUnit.name",
    "organisation.Training.topic",
    "organisation.RectificationItem.title",
    "census.Township.name",
}


def classify() -> tuple[dict[str, str], list[str], list[str]]:
    """(auto-skipped field → why, free-text fields, fields nobody classified)."""
    auto: dict[str, str] = {}
    free, unknown = [], []
    for name, f in sorted(text_fields().items()):
        reason = constrained(f)
        if reason is not None:
            auto[name] = reason
        elif name in FREE_TEXT:
            free.append(name)
        elif name not in SKIPPED:
            unknown.append(name)
    return auto, free, unknown


# --- planting --------------------------------------------------------------------------------------------


@dataclass
class Planted:
    payload: str
    markers: dict[str, str] = field(default_factory=dict)  # marker → field label
    households: list[Any] = field(default_factory=list)


def _fields_by_model(free: list[str]) -> dict[type[models.Model], list[tuple[int, models.Field[Any, Any]]]]:
    registry = text_fields()
    out: dict[type[models.Model], list[tuple[int, models.Field[Any, Any]]]] = {}
    for index, name in enumerate(free):
        if name in PLANTED_BY_SERVICES:
            continue
        f = registry[name]
        out.setdefault(f.model, []).append((index, f))
    return out


def plant(world: Any, payload: str) -> Planted:
    """Write ``payload`` into every free-text field: households through the registration services (so the
    versions, transitions, comments and audit events carry it as they would), then every row of every other
    free-text field directly, so that whatever the samples created shows it too."""
    _auto, free, unknown = classify()
    assert not unknown, f"classify these text fields first: {unknown}"
    planted = Planted(payload=payload)
    index_of = {name: index for index, name in enumerate(free)}
    for name, index in index_of.items():
        if name not in CARRY_OTHER_FIELDS:
            planted.markers[marker(index)] = name

    def value(name: str) -> str:
        return planted_value(payload, text_fields()[name].max_length, index_of[name])

    planted.households = _plant_households(world, value)
    _plant_organisation(world, value)
    for model, fields in _fields_by_model(free).items():
        rows = list(model._default_manager.order_by("pk").values_list("pk", flat=True))
        unique = _unique_fields(model)
        for number, pk in enumerate(rows):
            updates: dict[str, Any] = {}
            for index, f in fields:
                text = planted_value(payload, f.max_length, index)
                if f.name in unique:
                    text = _unique(text, number, f.max_length)
                updates[f.name] = {"note": text} if isinstance(f, models.JSONField) else text
            model._default_manager.filter(pk=pk).update(**updates)
    _show_failed_jobs()
    return planted


def _unique_fields(model: type[models.Model]) -> set[str]:
    names = {f.name for f in model._meta.concrete_fields if f.unique}
    for constraint in model._meta.constraints:
        names.update(getattr(constraint, "fields", ()) or ())
    for together in model._meta.unique_together:
        names.update(together)
    return names


def _unique(text: str, number: int, max_length: int | None) -> str:
    """A payload made unique among the rows of a unique field: a suffix where it fits, else another digit in
    ``alert(…)`` (still an event handler or a script)."""
    suffix = f"#{number}"
    if max_length is None or len(text) + len(suffix) <= max_length:
        return text + suffix
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    assert number < len(digits), "too many rows to make a short payload unique"
    return text.replace("alert(1)", f"alert({digits[number]})", 1)


def _show_failed_jobs() -> None:
    """Half of the jobs failed, so that the pages show their error text too."""
    from census.models import Job

    failed = list(Job.objects.order_by("pk").values_list("pk", flat=True)[::2])
    Job.objects.filter(pk__in=failed).update(status="failed")


def _plant_households(world: Any, value: Any) -> list[Any]:
    """Households of township A registered through the services with the payload in every name and note:
    a draft with persons, deaths and notes; one changed after signing, confirmed, signed and returned with
    comments; one accepted, reopened and so returned again with a reason; one waiting for review; one
    accepted."""
    from enumeration import services
    from enumeration.models import Household
    from enumeration.services.review import (
        household_accept,
        household_approve,
        household_reopen,
        household_return,
    )
    from tests.census.factories import PASSWORD
    from tests.enumeration.factories import family_form

    cast = world.cast
    enumerator, area, supervisor = cast.enumerator_a1, cast.area_a1, cast.supervisor_a
    name = value("enumeration.Person.d1_name")

    def registered(*, deaths: bool = False) -> Household:
        household = services.household_list(
            small_area=area, actor=enumerator, head_name=value("enumeration.Household.head_name_listed"),
            expected_persons=3,
        )  # fmt: skip
        data, persons = family_form()
        for person in persons:
            person["d1_name"] = name
        death_rows = []
        if deaths:
            data["h4_deaths_male"] = 1
            death_rows = [
                {
                    "row_no": 1,
                    "name": value("enumeration.DeathRecord.name"),
                    "sex": 1,
                    "birth_year": 1940,
                    "birth_month": 1,
                    "death_year": 2020,
                    "death_month": 3,
                }
            ]
        return services.household_save(
            household=household, actor=enumerator, expected_version=household.version, data=data,
            persons=persons, deaths=death_rows,
        )  # fmt: skip

    def confirm_and_sign(household: Household) -> Household:
        services.respondent_confirm(
            household=household, actor=enumerator, name=value("enumeration.RespondentConfirmation.name"),
            relationship=0, refused=True, refusal_reason=value("enumeration.RespondentConfirmation.refusal_reason"),
        )  # fmt: skip
        household.refresh_from_db()
        return services.household_sign(household=household, signer=enumerator, password=PASSWORD)

    # A dwelling unit with a note, in the area's building.
    building = area.buildings.order_by("pk").first()
    if building is not None:
        services.dwelling_unit_create(
            building=building, number="1-1", note=value("enumeration.DwellingUnit.note"), actor=enumerator
        )

    # A draft with deaths and notes on every warning there may be.
    draft = registered(deaths=True)
    issues = services.household_issues(draft)
    notes = {issue.key: value("enumeration.Household.warning_notes") for issue in issues} or {
        "note": value("enumeration.Household.warning_notes")
    }
    draft = services.household_save(
        household=draft, actor=enumerator, expected_version=draft.version, data={"warning_notes": notes},
        persons=_persons_of(draft), deaths=_deaths_of(draft),
    )  # fmt: skip

    # Signed, changed after signing (a version with a diff and a reason), signed again and returned.
    returned = confirm_and_sign(registered())
    persons = _persons_of(returned)
    persons[-1]["d1_name"] = name[: len(name) - 1] + "!"
    returned = services.household_save(
        household=returned, actor=enumerator, expected_version=returned.version, data={}, persons=persons,
        deaths=[], reason=value("enumeration.HouseholdVersion.reason"),
    )  # fmt: skip
    returned = confirm_and_sign(returned)
    returned = household_return(
        household=returned, actor=supervisor,
        comments=[(value("enumeration.ReviewComment.item"), value("enumeration.ReviewComment.text"))],
    )  # fmt: skip

    # Accepted, then reopened by the district office with a reason (an audit event and a comment).
    accepted = confirm_and_sign(registered())
    accepted = household_approve(household=accepted, actor=supervisor)
    accepted = household_accept(household=accepted, actor=cast.township_office_a)
    reopened = household_reopen(
        household=accepted, actor=cast.district_office, reason=value("enumeration.HouseholdTransition.reason"),
        password=PASSWORD,
    )  # fmt: skip
    # Waiting for review (the supervisor's approve and return forms) and accepted (the offices' reopen form).
    waiting = confirm_and_sign(registered())
    done = household_accept(
        household=household_approve(household=confirm_and_sign(registered()), actor=supervisor),
        actor=cast.township_office_a,
    )
    # The audit event of a change: its detail carries the reason as typed.
    from census.models import AuditAction
    from census.services import audit_record

    audit_record(
        actor=enumerator, action=AuditAction.RECORD_CHANGE, object_type="household", object_id=draft.pk,
        detail={"reason": value("census.AuditEvent.detail")},
    )  # fmt: skip
    return [draft, returned, reopened, waiting, done]


def _plant_organisation(world: Any, value: Any) -> None:
    """Trainings, study sessions, a self-inspection, readiness notes and members, directory reviews, figures
    and a removal, a rectification answered, closed and re-checked, a payment and a reduction — through the
    organisation services, each with an evidence file whose own name is a payload."""
    import datetime
    from decimal import Decimal

    from supervision.organisation import services as org
    from supervision.organisation.models import (
        DirectoryUnit,
        FigureIndicator,
        MemberBody,
        ReadinessItem,
        RemovalReason,
        StudyForm,
        SubsidyDue,
        TrainingSubject,
    )
    from tests.census.factories import StaffMemberFactory
    from tests.organisation.factories import RectificationItemFactory, RectificationTaskFactory, upload

    cast = world.cast
    office, user = cast.district_office, cast.department_user
    department = user.department
    day = datetime.date(2020, 10, 15)

    def evidence() -> Any:
        # The service keeps the part after the last "/", so the name is what a browser would send.
        return upload(f"{value('organisation.EvidenceFile.original_name').replace('/', '')}.pdf")

    org.training_record(
        department=department, held_on=day, subject=TrainingSubject.CENSUS, topic=value("organisation.Training.topic"),
        trainees=12, trainer=value("organisation.Training.trainer"), audience=value("organisation.Training.audience"),
        upload=evidence(), actor=user,
    )  # fmt: skip
    org.study_session_record(
        department=department, held_on=day, form=StudyForm.CENTRAL_GROUP,
        topic=value("organisation.StudySession.topic"), attendance=5, expected=6,
        chaired_by=value("organisation.StudySession.chaired_by"), upload=evidence(), actor=user,
    )  # fmt: skip
    org.self_inspection_record(
        department=department, carried_out_on=day, documents_reviewed=3, problems_found=1, problems_corrected=1,
        findings=value("organisation.SelfInspection.findings"), upload=evidence(), actor=user,
    )  # fmt: skip
    item = ReadinessItem.objects.filter(readiness__township=cast.township_a, readiness__village__isnull=True).first()
    if item is not None:
        org.readiness_item_update(
            item=item, status="in_progress", completed_on=None, note=value("organisation.ReadinessItem.note"),
            upload=evidence(), actor=office,
        )  # fmt: skip
        org.readiness_member_add(
            readiness=item.readiness, body=MemberBody.LEADING_GROUP, name=value("organisation.ReadinessMember.name"),
            post=value("organisation.ReadinessMember.post"), job_title=value("organisation.ReadinessMember.job_title"),
            phone=value("organisation.ReadinessMember.phone"), actor=office,
        )  # fmt: skip
    units = list(DirectoryUnit.objects.filter(department=department).order_by("pk"))
    if units:
        org.directory_review(
            unit=units[0], reviewed_on=day, results={}, note=value("organisation.DirectoryReview.note"), actor=user
        )
        org.directory_figure_report(
            unit=units[0], period=datetime.date(2020, 9, 1), indicator=FigureIndicator.OPERATING_REVENUE,
            value=Decimal("12.50"), upload=evidence(), note=value("organisation.DirectoryFigure.note"), actor=user,
        )  # fmt: skip
        second = DirectoryUnit.objects.create(
            district=units[0].district, department=department, credit_code=_credit_code(), name="x",
            kind=units[0].kind,
        )  # fmt: skip
        org.directory_remove(
            unit=second, reason=RemovalReason.CLOSED, note=value("organisation.DirectoryUnit.removal_note"),
            removed_on=day, upload=evidence(), actor=user,
        )  # fmt: skip
    rectification = RectificationItemFactory(
        district=office.district, lead_department=department, created_by=office,
        title=value("organisation.RectificationItem.title"),
    )  # fmt: skip
    task = RectificationTaskFactory(item=rectification, department=department, deadline=datetime.date(2021, 3, 31))
    org.rectification_task_answer(
        task=task, answer=value("organisation.RectificationTask.answer"), answered_on=day, upload=evidence(),
        actor=user,
    )  # fmt: skip
    org.rectification_item_close(item=rectification, closed_on=day, recheck_on=datetime.date(2020, 12, 1), actor=office)
    org.rectification_recheck_record(
        item=rectification, checked_on=datetime.date(2020, 12, 1), held=True,
        note=value("organisation.RectificationRecheck.note"), next_recheck_on=datetime.date(2021, 3, 1),
        actor=office,
    )  # fmt: skip
    due = SubsidyDue.objects.filter(staff=cast.enumerator_a1).first()
    if due is not None:
        approver = StaffMemberFactory(username="approver_x", role=office.role, district=office.district)
        org.subsidy_reduce(
            due=due, reduction_amount=Decimal("1.00"), reason=value("organisation.SubsidyDue.reduction_reason"),
            approver=approver, actor=office,
        )  # fmt: skip
        due.refresh_from_db()
        org.subsidy_payment_record(
            due=due, amount=Decimal("1.00"), paid_on=day, reference=value("organisation.SubsidyPayment.reference"),
            actor=office,
        )  # fmt: skip


def _credit_code() -> str:
    from tests.organisation.factories import valid_credit_code

    return valid_credit_code(987654)


def _persons_of(household: Any) -> list[dict[str, Any]]:
    from enumeration.services import form_values
    from enumeration.services.registration import PERSON_FORM_FIELDS

    return [{k: p[k] for k in PERSON_FORM_FIELDS} for p in form_values(household).persons]


def _deaths_of(household: Any) -> list[dict[str, Any]]:
    from enumeration.services import form_values
    from enumeration.services.registration import DEATH_FORM_FIELDS

    return [{k: d[k] for k in DEATH_FORM_FIELDS} for d in form_values(household).deaths]


# --- finding a payload that came out as markup -------------------------------------------------------------

_URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background"}
_CONTROL = re.compile(r"[\x00-\x20]")


class PayloadFinder(HTMLParser):
    """Markup that a payload produced: a script element running alert(1), an event-handler attribute, or a
    javascript: URL. Escaped payloads are text and produce none of these."""

    JSON_TYPES = {"application/json", "application/ld+json"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._script: dict[str, str | None] | None = None
        self._script_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}={value!r}>: an event-handler attribute")
            if name in _URL_ATTRIBUTES and _CONTROL.sub("", value or "").lower().startswith("javascript:"):
                self.problems.append(f"<{tag} {name}={value!r}>: a javascript: URL")
        if tag == "script":
            self._script = dict(attrs)
            self._script_text = []

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag == "script":
            self.handle_endtag(tag)

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script_text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag != "script" or self._script is None:
            return
        text = "".join(self._script_text).strip()
        kind = (self._script.get("type") or "").lower()
        if text == "alert(1)" or ("alert(1)" in text and kind not in self.JSON_TYPES):
            self.problems.append(f"<script>{text[:60]}</script>: a script element from a payload")
        if kind in self.JSON_TYPES:
            try:
                json.loads(text)
            except ValueError:
                self.problems.append(f"<script type={kind}> that is no longer JSON: {text[:80]!r}")
        self._script = None


def markup_problems(html: str) -> list[str]:
    finder = PayloadFinder()
    finder.feed(html)
    finder.close()
    return finder.problems


def is_html(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").startswith("text/html") and not getattr(response, "streaming", False)


def is_json(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").startswith("application/json")


def text_of(response: HttpResponse) -> str:
    if getattr(response, "streaming", False):
        return ""
    return response.content.decode(response.charset or "utf-8", errors="replace")


def json_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from json_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from json_strings(item)


# --- the walk --------------------------------------------------------------------------------------------

OBJECTS_PER_ARGUMENT = 5


@dataclass
class Visit:
    who: str
    path: str
    response: HttpResponse


def _candidates(param: ObjectParam | LiteralParam, user: Any) -> list[str]:
    if isinstance(param, LiteralParam):
        return list(param.values)
    rows = list(scoped(param.model, user).order_by("-pk")[:OBJECTS_PER_ARGUMENT])
    return [value_of(obj, param) for obj in rows]


def paths_for(endpoint: Endpoint, user: Any) -> list[str]:
    """The endpoint's paths with objects the user may see (newest first) and every literal value."""
    params, missing = declared_params(endpoint)
    if missing:
        return []
    if not params:
        return [endpoint.path({})]
    choices = {name: _candidates(param, user) for name, param in params.items()}
    if any(not values for values in choices.values()):
        return []
    count = max(len(values) for values in choices.values())
    paths = []
    for i in range(count):
        values = {name: options[min(i, len(options) - 1)] for name, options in choices.items()}
        paths.append(endpoint.path(values))
    return list(dict.fromkeys(paths))


def readable_endpoints() -> list[Endpoint]:
    """Every URL a role or an anonymous visitor may read (the Django admin has no role that signs in)."""
    return [e for e in url_endpoints() if e.access is not None and e.access.kind in ("roles", "public")]


def walk(users: dict[str, Any], clients: dict[str, Client], anonymous: Client) -> Iterator[Visit]:
    """GET every readable URL as every user allowed to read it, with objects inside their scope."""
    for endpoint in readable_endpoints():
        access = endpoint.access
        assert access is not None
        readers = [(who, user) for who, user in users.items() if access.allows(user)]
        if access.kind == "public":
            readers.append(("anonymous", None))
        for who, user in readers:
            client = anonymous if user is None else clients[who]
            for path in paths_for(endpoint, user if user is not None else next(iter(users.values()))):
                response = client.get(path)
                if response.status_code == 405:
                    break  # a POST-only URL
                yield Visit(who, path, response)


def get_form_fields(html: str) -> dict[str, str]:
    """The names of the inputs of a page's GET forms (search, filters): where a reflected payload goes."""

    class Finder(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.in_get_form = False
            self.names: dict[str, str] = {}

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            a = dict(attrs)
            if tag == "form":
                self.in_get_form = (a.get("method") or "get").lower() == "get"
            elif (
                self.in_get_form
                and tag in ("input", "select", "textarea")
                and a.get("name")
                and (a.get("type") or "").lower() not in ("submit", "button", "file")
            ):
                self.names[a["name"] or ""] = ""

        def handle_endtag(self, tag: str) -> None:
            if tag == "form":
                self.in_get_form = False

    finder = Finder()
    finder.feed(html)
    return finder.names


def reflected_path(path: str, html: str, payload: str) -> str:
    """The page's own path with the payload in its search, sort, page and every filter of its GET forms."""
    names = {"q": "", "sort": "", "page": "", **get_form_fields(html)}
    return f"{path.split('?')[0]}?{urlencode(dict.fromkeys(names, payload))}"
