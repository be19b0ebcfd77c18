"""Review: the queue, one form with its history and the actions on it, bulk approval and acceptance, and the
long-form sample.

Supervisors approve or return the signed forms of the enumerators they oversee; the township office accepts
(验收) approved forms; the district office locks accepted ones, reopens them (reason and password) and draws
the long-form sample of each 普查区. Bulk actions take the current filter — every page of it, not only the one
on the screen — and show the count before anything happens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.db.models import QuerySet
from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from census.api import ApplicationError
from census.jobs import job_start
from census.listing import paginate_list
from census.models import Role, StaffMember, SupervisorAssignment, Village
from census.permissions import StaffRequest, role_required, url_objects
from enumeration import selectors
from enumeration.forms import OverrideForm, ReopenForm, ReturnForm, SampleDrawForm, field_label, value_label
from enumeration.jobs import BULK_LOCK
from enumeration.models import (
    AcceptanceOverride,
    DeathRecord,
    Household,
    HouseholdState,
    HouseholdVersion,
    Person,
    RespondentConfirmation,
)
from enumeration.models.households import household_key
from enumeration.rules.catalogue import CATALOGUE
from enumeration.rules.entry import validate_household
from enumeration.services import (
    BulkOutcome,
    form_values,
    household_accept,
    household_approve,
    household_lock,
    household_override,
    household_reopen,
    household_return,
    households_approve,
    long_form_sample_draw,
)
from enumeration.services.acceptance import Blocker, outstanding_blockers
from enumeration.services.review import households_accept, lockable
from enumeration.views.common import (
    FIELD_ROLES,
    OFFICE_ROLES,
    error_messages,
    list_personal_data_shown,
    may_edit_form,
    may_register,
    personal_data_shown,
)
from enumeration.views.readback import (
    MASKED_ID_FIELDS,
    MASKED_NAME_FIELDS,
    Block,
    comment_label,
    issue_location,
    item_choices,
    readback,
)

S = HouseholdState
REVIEWERS = (Role.SUPERVISOR, *OFFICE_ROLES)
FILTER_PARAMS = ("q", "township", "village", "small_area", "registrar", "state", "has_warnings", "long_form")


# --- who may do what on one form (the services decide; the page offers what they would allow) ----------


def _supervises(user: StaffMember, household: Household) -> bool:
    return SupervisorAssignment.objects.filter(supervisor=user, enumerator_id=household.registrar_id).exists()


def _has_supervisor(household: Household) -> bool:
    return SupervisorAssignment.objects.filter(enumerator_id=household.registrar_id).exists()


def _township_office(user: StaffMember, household: Household) -> bool:
    return user.role == Role.TOWNSHIP_OFFICE and user.township_id == household.township_id


def _district_office(user: StaffMember, household: Household) -> bool:
    return user.role == Role.DISTRICT_OFFICE and user.district_id == household.township_id[:6]


def _may_review(user: StaffMember, household: Household) -> bool:
    if household.registrar_id in (None, user.pk):
        return False
    if user.role == Role.SUPERVISOR:
        return _supervises(user, household)
    return _township_office(user, household) and not _has_supervisor(household)


@dataclass
class Actions:
    approve: bool = False
    give_back: bool = False
    accept: bool = False
    lock: bool = False
    reopen: bool = False
    long_form: bool = False
    edit: bool = False
    summary: bool = False
    # The checks block the approval, acceptance or lock this user would give; the district office may override.
    blocked: bool = False
    override: bool = False

    @property
    def any_review(self) -> bool:
        return self.approve or self.give_back or self.accept or self.lock or self.reopen or self.blocked


def actions_for(user: StaffMember, household: Household) -> Actions:
    state = household.state
    reviewer = state == S.SIGNED and _may_review(user, household)
    return Actions(
        approve=reviewer,
        give_back=reviewer or (state == S.APPROVED and _township_office(user, household)),
        accept=state == S.APPROVED and _township_office(user, household),
        lock=state == S.ACCEPTED and _district_office(user, household),
        reopen=(state in (S.ACCEPTED, S.LOCKED) and _district_office(user, household))
        or (state == S.ACCEPTED and _township_office(user, household)),
        long_form=household.in_long_form_sample
        and state in (S.SIGNED, S.APPROVED, S.ACCEPTED)
        and household.registrar_id == user.pk,
        edit=may_edit_form(user, household),
        summary=may_register(user, household) and state != S.LISTED,
    )


def blockers_for(user: StaffMember, household: Household, actions: Actions) -> list[Blocker]:
    """What blocks the next step of a form in review (signed, approved, accepted), for whoever reviews it or
    oversees the district; the buttons it blocks are taken away (the services refuse them anyway)."""
    if household.state not in (S.SIGNED, S.APPROVED, S.ACCEPTED):
        return []
    if not (actions.approve or actions.accept or actions.lock or _district_office(user, household)):
        return []
    blockers = outstanding_blockers([household.pk]).get(household.pk, [])
    if blockers:
        actions.blocked = True
        actions.approve = actions.accept = actions.lock = False
        actions.override = _district_office(user, household)
    return blockers


# --- one form --------------------------------------------------------------------------------------------


def _section_row_label(section: str, row: int | None) -> str:
    if section == "persons" and row is not None:
        return _("Person %(n)d") % {"n": row}
    if section == "deaths" and row is not None:
        return _("Death row %(n)d") % {"n": row}
    if section == "respondent":
        return _("Respondent")
    return ""


# The models whose fields a version's changes name, beyond the form's items (collection_mode, the respondent's
# name): a change reads with the field's own name and choice label, never "collection_mode: in_person".
SECTION_MODELS: dict[str, type[models.Model]] = {
    "household": Household,
    "persons": Person,
    "deaths": DeathRecord,
    "respondent": RespondentConfirmation,
}


def _model_field(section: str, field: str) -> models.Field[Any, Any] | None:
    model = SECTION_MODELS.get(section)
    try:
        found = model._meta.get_field(field) if model is not None else None
    except FieldDoesNotExist:
        return None
    return found if isinstance(found, models.Field) else None


def _field_label(section: str, field: str) -> str:
    label = field_label(section, field)
    if label != field:
        return label
    if field == "warning_notes":
        return str(_("Notes on warnings"))
    found = _model_field(section, field)
    return str(found.verbose_name) if found is not None else field


def _notes_text(notes: Any) -> str:
    """Notes on warnings, keyed "RULE" or "RULE@row", as "子女与户主年龄差过小（第3人）：已核实"."""
    if not isinstance(notes, dict) or not notes:
        return "—"
    lines = []
    for key, note in notes.items():
        code, _sep, row = str(key).partition("@")
        rule = CATALOGUE.get(code)
        name = str(rule.name) if rule is not None else code
        where = _("Person %(n)d") % {"n": int(row)} if row.isdigit() else ""
        lines.append(f"{name}（{where}）：{note}" if where else f"{name}：{note}")
    return "；".join(lines)


def _shown(section: str, field: str, value: Any, unmasked: bool) -> str:
    from census.privacy import mask_id_number, mask_name

    if not unmasked and field in MASKED_NAME_FIELDS | {"name"}:
        return mask_name(value or "") or "—"
    if not unmasked and field in MASKED_ID_FIELDS:
        return mask_id_number(value or "") or "—"
    if field == "warning_notes":
        return _notes_text(value)
    found = _model_field(section, field) if field_label(section, field) == field else None
    if found is not None and found.choices and value not in (None, ""):
        return str(dict(found.flatchoices).get(value, value))
    return value_label(section, field, value)


def readable_diff(version: HouseholdVersion, unmasked: bool) -> list[dict[str, str]]:
    """A version's field-level changes as a reviewer reads them: "Person 3 · D1 姓名: 王小明 → 王晓明"."""
    rows = []
    for change in version.diff or []:
        section, field, row = change.get("section", ""), change.get("field", ""), change.get("row")
        where = _section_row_label(section, row)
        label = _field_label(section, field)
        rows.append(
            {
                "where": where,
                "label": label,
                "before": _shown(section, field, change.get("before"), unmasked),
                "after": _shown(section, field, change.get("after"), unmasked),
            }
        )
    return rows


def return_item_choices(blocks: list[Block]) -> list[tuple[Any, Any]]:
    """The items a reviewer may return a form with comments on — ``readback.item_choices``, the values the return
    accepts — grouped as the read-back groups them: the whole form, then the household's items, then each person's
    and each death's, so that a seven-person form is a list of short groups (<optgroup>), not seventy lines."""
    flat = dict(item_choices(blocks))
    grouped: list[tuple[Any, Any]] = [("*", flat.pop("*"))]
    for block in blocks:
        options = []
        for line in block.lines:
            value = line.code if block.row is None else f"{line.code}@{block.row}"
            if line.code and value in flat:
                options.append((value, line.title))
        if options:
            grouped.append((block.title, options))
    return grouped


def detail_context(
    request: StaffRequest,
    household: Household,
    *,
    return_form: ReturnForm | None = None,
    reopen_form: ReopenForm | None = None,
    override_form: OverrideForm | None = None,
) -> dict[str, Any]:
    user = request.user
    unmasked = personal_data_shown(request, user, household)
    actions = actions_for(user, household)
    blockers = blockers_for(user, household, actions)
    values = form_values(household)
    issues = validate_household(values.household, values.persons, values.deaths)
    blocks = readback(values.household, values.persons, values.deaths, issues, unmasked=unmasked)
    history = selectors.household_history(household)
    notes = household.warning_notes or {}
    if return_form is None and actions.give_back:
        return_form = ReturnForm(items=return_item_choices(blocks))
    return {
        "household": household,
        "blocks": blocks,
        "issues": [(issue_location(i), i, notes.get(i.key, "")) for i in issues],
        "notes": notes,
        "versions": [(v, readable_diff(v, unmasked)) for v in history.versions],
        "transitions": history.transitions,
        "comments": [(comment_label(c.item), c) for c in history.comments],
        "confirmation": selectors.latest_confirmation(household),
        "actions": actions,
        "return_form": return_form,
        "reopen_form": reopen_form or (ReopenForm() if actions.reopen else None),
        "override_form": override_form or (OverrideForm() if actions.override else None),
        "blockers": blockers,
        "overrides": list(AcceptanceOverride.objects.filter(household=household).select_related("actor")),
        "unmasked": unmasked,
    }


def _household(request: StaffRequest, pk: int) -> Household:
    return get_object_or_404(selectors.household_for(user=request.user), pk=pk)


@require_GET
@role_required(*FIELD_ROLES, *OFFICE_ROLES, Role.AUDITOR)
@url_objects(pk=Household)
def household_detail(request: StaffRequest, pk: int) -> HttpResponse:
    household = _household(request, pk)
    return render(request, "enumeration/household_detail.html", detail_context(request, household))


def _after_action(request: StaffRequest, household: Household) -> HttpResponse:
    back = request.POST.get("next", "")
    if back.startswith("/enumeration/") and "//" not in back:
        return redirect(back)
    return redirect("enumeration:household-detail", pk=household.pk)


def _act(request: StaffRequest, household: Household, action: Any, done: str, **kwargs: Any) -> HttpResponse:
    try:
        action(household=household, actor=request.user, **kwargs)
    except (ApplicationError, ValidationError) as exc:
        for message in error_messages(exc):
            messages.error(request, message)
        return redirect("enumeration:household-detail", pk=household.pk)
    messages.success(request, done % {"key": household.key})
    return _after_action(request, household)


@require_POST
@role_required(Role.SUPERVISOR, Role.TOWNSHIP_OFFICE)
@url_objects(pk=Household)
def household_approve_view(request: StaffRequest, pk: int) -> HttpResponse:
    household = _household(request, pk)
    return _act(request, household, household_approve, _("Household %(key)s approved."))


@require_POST
@role_required(Role.SUPERVISOR, Role.TOWNSHIP_OFFICE)
@url_objects(pk=Household)
def household_return_view(request: StaffRequest, pk: int) -> HttpResponse:
    household = _household(request, pk)
    values = form_values(household)
    issues = validate_household(values.household, values.persons, values.deaths)
    blocks = readback(values.household, values.persons, values.deaths, issues, unmasked=False)
    form = ReturnForm(request.POST, items=return_item_choices(blocks))
    if form.is_valid():
        try:
            household_return(household=household, actor=request.user, comments=form.comments())
        except (ApplicationError, ValidationError) as exc:
            for message in error_messages(exc):
                form.add_error(None, message)
        else:
            messages.success(request, _("Household %(key)s returned to its registrar.") % {"key": household.key})
            return redirect("enumeration:household-detail", pk=household.pk)
    household.refresh_from_db()
    return render(
        request,
        "enumeration/household_detail.html",
        detail_context(request, household, return_form=form),
        status=400,
    )


@require_POST
@role_required(Role.TOWNSHIP_OFFICE)
@url_objects(pk=Household)
def household_accept_view(request: StaffRequest, pk: int) -> HttpResponse:
    household = _household(request, pk)
    return _act(request, household, household_accept, _("Household %(key)s accepted (验收)."))


@require_POST
@role_required(Role.DISTRICT_OFFICE)
@url_objects(pk=Household)
def household_lock_view(request: StaffRequest, pk: int) -> HttpResponse:
    household = _household(request, pk)
    return _act(request, household, household_lock, _("Household %(key)s locked."))


def _signed_with_reason(
    request: StaffRequest,
    household: Household,
    form: OverrideForm | ReopenForm,
    action: Callable[..., Any],
    success: str,
    form_name: str,
) -> HttpResponse:
    """An office's action that takes a written reason and the actor's password (override, reopen): done and back
    to the household, or the household's page again with the form and its errors."""
    if form.is_valid():
        try:
            action(
                household=household,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                password=form.cleaned_data["password"],
            )
        except (ApplicationError, ValidationError) as exc:
            for message in error_messages(exc):
                form.add_error(None, message)
        else:
            messages.success(request, success % {"key": household.key})
            return redirect("enumeration:household-detail", pk=household.pk)
    household.refresh_from_db()
    with_form: dict[str, Any] = {form_name: form}
    return render(
        request, "enumeration/household_detail.html", detail_context(request, household, **with_form), status=400
    )


@require_POST
@role_required(Role.DISTRICT_OFFICE)
@url_objects(pk=Household)
def household_override_view(request: StaffRequest, pk: int) -> HttpResponse:
    return _signed_with_reason(
        request,
        _household(request, pk),
        OverrideForm(request.POST),
        household_override,
        _("The checks blocking household %(key)s are overridden; the reason is kept with the form."),
        "override_form",
    )


@require_POST
@role_required(*OFFICE_ROLES)
@url_objects(pk=Household)
def household_reopen_view(request: StaffRequest, pk: int) -> HttpResponse:
    return _signed_with_reason(
        request,
        _household(request, pk),
        ReopenForm(request.POST),
        household_reopen,
        _("Household %(key)s reopened and returned to its registrar."),
        "reopen_form",
    )


# --- the review queue and bulk actions -------------------------------------------------------------------


@dataclass
class FilterState:
    filters: selectors.HouseholdFilter
    query: str
    choices: dict[str, Any]
    params: dict[str, str]
    state_param: str

    def querystring(self) -> str:
        return urlencode({k: v for k, v in self.params.items() if v})


def read_filters(params: QueryDict, user: StaffMember, *, default_state: str = "") -> FilterState:
    """The filter of a list from its parameters, each value checked against what the user may choose."""
    choices = selectors.filter_choices(
        user=user,
        township=params.get("township", ""),
        village=params.get("village", ""),
        small_area=params.get("small_area", ""),
        registrar=params.get("registrar", ""),
    )
    state_param = params.get("state", default_state)
    state = state_param if state_param in S.values else ""
    filters = selectors.HouseholdFilter(
        township=choices["township"],
        village=choices["village"],
        small_area=choices["small_area"],
        registrar=choices["registrar"],
        state=state,
        has_warnings=params.get("has_warnings", "") if params.get("has_warnings") in ("yes", "no") else "",
        long_form=params.get("long_form", "") if params.get("long_form") in ("yes", "no") else "",
    )
    query = params.get("q", "").strip()[:100]
    out = {
        "q": query,
        "township": filters.township,
        "village": filters.village,
        "small_area": str(filters.small_area or ""),
        "registrar": str(filters.registrar or ""),
        "state": state_param if state_param in (*S.values, "all") else "",
        "has_warnings": filters.has_warnings,
        "long_form": filters.long_form,
    }
    return FilterState(filters, query, choices, out, state_param)


def approvable(user: StaffMember, queryset: QuerySet[Household]) -> QuerySet[Household]:
    """The forms of a filter that ``households_approve`` would approve for this user (to show the count)."""
    if user.role == Role.SUPERVISOR:
        return queryset.filter(state=S.SIGNED, registrar__supervision__supervisor=user).exclude(registrar=user)
    if user.role == Role.TOWNSHIP_OFFICE:
        return queryset.filter(state=S.SIGNED, township_id=user.township_id, registrar__supervision__isnull=True)
    return queryset.none()


def acceptable(user: StaffMember, queryset: QuerySet[Household]) -> QuerySet[Household]:
    if user.role == Role.TOWNSHIP_OFFICE:
        return queryset.filter(state=S.APPROVED, township_id=user.township_id)
    return queryset.none()


QUEUE_SORTABLE = ("small_area__code", "household_no", "registrar__username", "signed_at", "state", "updated_at")


@require_GET
@role_required(*REVIEWERS)
def review_queue(request: StaffRequest) -> HttpResponse:
    user = request.user
    state = read_filters(request.GET, user, default_state=selectors.default_review_state(user))
    queue = selectors.review_queue(user=user, filters=state.filters, query=state.query)
    listing = paginate_list(request, queue, sortable=QUEUE_SORTABLE, default_sort="signed_at")
    rows = list(listing.page)
    unmasked = list_personal_data_shown(request, user, rows)
    return render(
        request,
        "enumeration/review_queue.html",
        {
            "listing": listing,
            "rows": rows,
            "filter": state,
            "states": S.choices,
            "unmasked": unmasked,
            "approvable_count": approvable(user, queue).count()
            if user.role in (Role.SUPERVISOR, Role.TOWNSHIP_OFFICE)
            else 0,
            "acceptable_count": acceptable(user, queue).count() if user.role == Role.TOWNSHIP_OFFICE else 0,
            "lockable_count": lockable(households=queue, actor=user).count()
            if user.role == Role.DISTRICT_OFFICE
            else 0,
        },
    )


def _bulk(request: StaffRequest, *, kind: str) -> HttpResponse:
    user = request.user
    params = request.POST if request.method == "POST" else request.GET
    state = read_filters(params, user, default_state=selectors.default_review_state(user))
    queue = selectors.review_queue(user=user, filters=state.filters, query=state.query)
    candidates = approvable(user, queue) if kind == "approve" else acceptable(user, queue)
    back = reverse("enumeration:review-queue") + (f"?{state.querystring()}" if state.querystring() else "")
    if request.method == "POST":
        try:
            if kind == "approve":
                outcome = households_approve(households=queue, actor=user)
                messages.success(request, _("%(n)d form(s) approved.") % {"n": outcome.done})
            else:
                outcome = households_accept(households=queue, actor=user)
                messages.success(request, _("%(n)d form(s) accepted (验收).") % {"n": outcome.done})
        except ApplicationError as exc:
            messages.error(request, str(exc.message))
        else:
            _blocked_message(request, outcome)
        return redirect(back)
    return render(
        request,
        "enumeration/review_bulk.html",
        {"kind": kind, "count": candidates.count(), "filter": state, "back": back},
    )


def _blocked_message(request: StaffRequest, outcome: BulkOutcome) -> None:
    """Name the forms a bulk action skipped because the checks block them, each with what blocks it."""
    if not outcome.blocked:
        return
    keys = {
        pk: household_key(code, number)
        for pk, code, number in Household.objects.filter(pk__in=list(outcome.blocked)).values_list(
            "pk", "small_area__code", "household_no"
        )
    }
    lines = [
        f"{keys[pk]}：" + "；".join(blocker.text for blocker in blockers)
        for pk, blockers in sorted(outcome.blocked.items(), key=lambda item: keys[item[0]])
    ]
    messages.warning(
        request,
        _("%(n)d form(s) skipped: the checks block them. %(list)s")
        % {"n": len(outcome.blocked), "list": " · ".join(lines[:20]) + (" …" if len(lines) > 20 else "")},
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.DISTRICT_OFFICE)
def review_lock_all(request: StaffRequest) -> HttpResponse:
    """The district's bulk lock: every accepted form of the filter that the checks do not block, as a job with its
    progress; the blocked ones stay accepted and are listed when it is done."""
    user = request.user
    params = request.POST if request.method == "POST" else request.GET
    state = read_filters(params, user, default_state=S.ACCEPTED)
    queue = selectors.review_queue(user=user, filters=state.filters, query=state.query)
    back = reverse("enumeration:review-queue") + (f"?{state.querystring()}" if state.querystring() else "")
    if request.method == "POST":
        filters = state.filters
        job = job_start(
            kind=BULK_LOCK,
            title=str(_("Bulk lock")),
            user=user,
            params={
                "filters": {
                    "township": filters.township,
                    "village": filters.village,
                    "small_area": filters.small_area,
                    "registrar": filters.registrar,
                    "state": filters.state,
                    "has_warnings": filters.has_warnings,
                    "long_form": filters.long_form,
                },
                "q": state.query,
            },
        )
        return redirect("jobs:detail", pk=job.pk)
    return render(
        request,
        "enumeration/review_bulk.html",
        {"kind": "lock", "count": lockable(households=queue, actor=user).count(), "filter": state, "back": back},
    )


@require_http_methods(["GET", "POST"])
@role_required(Role.SUPERVISOR, Role.TOWNSHIP_OFFICE)
def review_approve_all(request: StaffRequest) -> HttpResponse:
    return _bulk(request, kind="approve")


@require_http_methods(["GET", "POST"])
@role_required(Role.TOWNSHIP_OFFICE)
def review_accept_all(request: StaffRequest) -> HttpResponse:
    return _bulk(request, kind="accept")


# --- the long-form sample ------------------------------------------------------------------------------


@require_GET
@role_required(Role.DISTRICT_OFFICE)
def long_form_samples(request: StaffRequest) -> HttpResponse:
    rows = selectors.long_form_samples(user=request.user)
    return render(
        request,
        "enumeration/long_form_samples.html",
        {"rows": rows, "form": SampleDrawForm()},
    )


@require_POST
@role_required(Role.DISTRICT_OFFICE)
@url_objects(code=Village)
def long_form_sample_draw_view(request: StaffRequest, code: str) -> HttpResponse:
    village = get_object_or_404(Village.objects.visible_to(request.user), code=code)
    form = SampleDrawForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, str(message))
        return redirect("enumeration:long-form-samples")
    try:
        sample = long_form_sample_draw(village=village, actor=request.user, seed=form.cleaned_data["seed"])
    except (ApplicationError, ValidationError) as exc:
        for message in error_messages(exc):
            messages.error(request, message)
    else:
        messages.success(
            request,
            _(
                "普查区 %(village)s: %(sampled)d of %(frame)d households drawn (seed %(seed)d, interval %(interval)d, "
                "start %(start)d)."
            )
            % {
                "village": village.name,
                "sampled": sample.sample_size,
                "frame": sample.frame_size,
                "seed": sample.seed,
                "interval": sample.interval,
                "start": sample.start,
            },
        )
    return redirect(reverse("enumeration:long-form-samples") + f"#v{village.code}")


@require_GET
@role_required(Role.DISTRICT_OFFICE)
@url_objects(code=Village)
def long_form_sample_detail(request: StaffRequest, code: str) -> HttpResponse:
    village = get_object_or_404(Village.objects.visible_to(request.user).select_related("township"), code=code)
    sample = getattr(village, "long_form_sample", None)
    households = list(selectors.sampled_households(sample)) if sample is not None else []
    return render(
        request,
        "enumeration/long_form_sample_detail.html",
        {"village": village, "sample": sample, "households": households},
    )
