"""The household form on a phone: the items, autosave, the read-back, the respondent's confirmation, signing.

The form page is one page with steps (household → persons → deaths); the browser keeps the whole form and
sends it to the autosave endpoint after every change, carrying the version it last saw, so that closing the
browser loses nothing and a stale copy is refused (409) instead of overwriting someone else's change. The
summary page reads the form back in words with the rules' verdict, takes the notes on warnings, the
respondent's confirmation (a signature drawn on the screen, or a recorded refusal) and the registrar's own
signature (the password again). The server decides everything; the browser only pre-checks.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from census.api import ApplicationError, ConflictError
from census.limits import JSONTooDeep, json_loads
from census.permissions import StaffRequest, role_required, url_objects
from enumeration import selectors
from enumeration.codes import ETHNIC_GROUPS, code_list
from enumeration.forms import (
    DEATH_ITEMS,
    FOREIGN_PERSON_ITEMS,
    HOUSEHOLD_ITEMS,
    LONG_HOUSEHOLD_ITEMS,
    LONG_PERSON_ITEMS,
    PERSON_ITEMS,
    DeathForm,
    FormKindForm,
    HouseholdItemsForm,
    Item,
    NotesForm,
    PersonForm,
    RespondentForm,
    SignForm,
    clean_form_payload,
)
from enumeration.idempotency import idempotent_json
from enumeration.models import EDITABLE_STATES, Household, HouseholdState
from enumeration.rules.catalogue import Severity
from enumeration.rules.entry import Issue, hard_issues, unexplained_warnings, validate_household
from enumeration.rules.thresholds import threshold
from enumeration.services import form_values, household_save, household_sign, respondent_confirm
from enumeration.services.registration import DEATH_FORM_FIELDS, HOUSEHOLD_FORM_FIELDS, PERSON_FORM_FIELDS
from enumeration.services.review import household_long_form_open
from enumeration.views.common import (
    FIELD_ROLES,
    error_messages,
    issue_messages,
    may_edit_form,
    may_register,
    personal_data_shown,
)
from enumeration.views.readback import comment_label, issue_location, readback

MAX_AUTOSAVE_BYTES = 1_000_000


def _household(request: StaffRequest, pk: int) -> Household:
    return get_object_or_404(selectors.household_for(user=request.user), pk=pk)


def _detail(household: Household) -> HttpResponse:
    return redirect("enumeration:household-detail", pk=household.pk)


def issue_dict(issue: Issue) -> dict[str, Any]:
    return {**issue.as_dict(), "location": issue_location(issue)}


# --- the form page ---------------------------------------------------------------------------------------


def widget_groups(form: Any, items: tuple[Item, ...]) -> list[dict[str, Any]]:
    """The inputs of each item, labelled as the paper form labels them, for the templates to lay out."""
    groups = []
    for item in items:
        parts = []
        for part in item.parts:
            if part.field not in form.fields:
                continue
            attrs = {"data-field": part.field, "data-kind": part.kind}
            parts.append(
                {
                    "field": part.field,
                    "label": part.label,
                    "kind": part.kind,
                    "html": form[part.field].as_widget(attrs=attrs),
                }
            )
        if parts:
            groups.append({"code": item.code, "title": item.title, "parts": parts})
    return groups


@lru_cache(maxsize=16)
def rendered_groups(language: str) -> dict[str, list[dict[str, Any]]]:
    """Every group of inputs, rendered once per language: the inputs are empty (the script fills them from the
    form's JSON), so they are the same for every household, and rendering some 80 widgets through Django's form
    templates on every page would dominate the page's time."""
    household_form = HouseholdItemsForm(auto_id=False)
    person_form = PersonForm(auto_id=False)
    groups = {
        "household": widget_groups(household_form, HOUSEHOLD_ITEMS),
        "long_household": widget_groups(household_form, LONG_HOUSEHOLD_ITEMS),
        "person": widget_groups(person_form, PERSON_ITEMS),
        "long_person": widget_groups(person_form, LONG_PERSON_ITEMS),
        "foreign_person": widget_groups(person_form, FOREIGN_PERSON_ITEMS),
        "death": widget_groups(DeathForm(auto_id=False), DEATH_ITEMS),
    }
    # Resolve the lazy labels now, in the language the cache entry is for.
    for entries in groups.values():
        for group in entries:
            group["title"] = str(group["title"])
            for part in group["parts"]:
                part["label"] = str(part["label"])
    return groups


def _row(values: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: values.get(name) for name in fields}


def form_data(household: Household) -> dict[str, Any]:
    """What the form page's script starts from (json_script): the form as saved, and the rules' numbers."""
    values = form_values(household)
    issues = validate_household(values.household, values.persons, values.deaths)
    household_fields = tuple(f for f in HOUSEHOLD_FORM_FIELDS if f != "warning_notes")
    return {
        "householdId": household.pk,
        "label": f"{household.key} · {household.head_name_listed}",
        "version": household.version,
        "state": household.state,
        "household": {
            **_row(values.household, household_fields),
            "household_no": household.household_no,
            "in_long_form_sample": household.in_long_form_sample,
        },
        "persons": [_row(p, PERSON_FORM_FIELDS) for p in values.persons],
        "deaths": [_row(d, DEATH_FORM_FIELDS) for d in values.deaths],
        "issues": [issue_dict(i) for i in issues],
        "comments": [{"item": c.item, "text": c.text} for c in selectors.open_comments(household)],
        "position": household.form_position,
        "needsReason": household.state == HouseholdState.SIGNED,
        "allDead": household.is_all_dead,
        "longForm": household.in_long_form_sample,
        "expectedPersons": household.expected_persons,
        "headNameListed": household.head_name_listed,
        "ethnic": ETHNIC_GROUPS,
        "states": {value: str(label) for value, label in HouseholdState.choices},
        "thresholds": {
            "education": threshold("education_universe_age"),
            "literacy": threshold("literacy_universe_age"),
            "longForm": {k: list(v) if isinstance(v, tuple) else v for k, v in threshold("long_form").items()},
        },
        "urls": {
            "autosave": reverse("enumeration:household-autosave", args=[household.pk]),
            "confirm": reverse("api-household-confirm", args=[household.pk]),
            "sign": reverse("api-household-sign", args=[household.pk]),
            "summary": reverse("enumeration:household-summary", args=[household.pk]),
        },
        "text": {
            "saving": _("Saving…"),
            "saved": _("Saved"),
            "unsaved": _("Not saved yet"),
            "offline": _("Not saved: no connection. Retrying…"),
            "invalid": _("Not saved: correct the items marked in red."),
            "conflict": _("Someone changed this household in the meantime. Reload it; your copy was not saved."),
            "conflictKept": _("Your copy is kept on this phone: reload to see both versions and choose."),
            "reasonFirst": _("Write why the signed form changes before changing it."),
            "person": _("Person %(n)s of %(total)s"),
            "head": _("Head of household"),
            "noPersons": _("No persons yet: add the head of household first."),
            "death": _("Death register, row %(n)s"),
            "idBirth": _("The ID number says born %(ym)s, but D5 says %(d5)s."),
            "idSex": _("The ID number says %(sex)s, but D4 says otherwise."),
            "idChecksum": _("The ID number's check character is wrong: check every digit."),
            "idFormat": _("An ID number has 17 digits and a final digit or X."),
            "idFilled": _("Filled from the ID number: born %(ym)s, %(sex)s."),
            "male": _("male"),
            "female": _("female"),
            "removeConfirm": _("Remove this person from the form?"),
            "issuesNone": _("No problems found so far."),
            "issuesCount": _("%(hard)s error(s), %(warn)s warning(s)"),
            "issuesLater": _("%(n)s item(s) not finished yet: shown when you leave that part or sign"),
            "errorWord": _("Error"),
            "warningWord": _("Warning"),
            "countFix": _(
                "H2 says %(declared)s persons live here, but the form now has %(rows)s. Correct H2, or add the "
                "missing person: the form cannot be signed while they differ."
            ),
            "countFixApply": _("Change H2 to %(rows)s persons"),
            "incomplete": _("Incomplete: finish typing it."),
            "ethnicUnknown": _("Choose an ethnic group from the list."),
            "doorstepName": _("Write the respondent's name."),
            "doorstepSignature": _("The respondent has not signed on the pad."),
            "doorstepConfirm": _("Confirm that you registered this household yourself."),
        },
    }


@never_cache
@require_GET
@role_required(*FIELD_ROLES)
@url_objects(pk=Household)
def household_form(request: StaffRequest, pk: int) -> HttpResponse:
    household = _household(request, pk)
    if not may_edit_form(request.user, household):
        return _detail(household)
    personal_data_shown(request, request.user, household)
    groups = rendered_groups(get_language() or settings.LANGUAGE_CODE)
    long_form = household.in_long_form_sample
    context = {
        "household": household,
        "data": form_data(household),
        "kind_form": FormKindForm(auto_id=False, initial={"form_kind": household.form_kind}),
        "household_groups": groups["household"],
        "long_household_groups": groups["long_household"] if long_form else [],
        "person_groups": groups["person"],
        "long_person_groups": groups["long_person"] if long_form else [],
        "foreign_person_groups": groups["foreign_person"],
        "death_groups": groups["death"],
        "comments": [(comment_label(c.item), c) for c in selectors.open_comments(household)],
        "ethnic_groups": ETHNIC_GROUPS.values(),
        "relationship_choices": code_list("D2").choices(),
    }
    return render(request, "enumeration/household_form.html", context)


# --- autosave --------------------------------------------------------------------------------------------


def _json_error(status: int, code: str, message: str, **extra: Any) -> JsonResponse:
    return JsonResponse({"ok": False, "code": code, "message": message, **extra}, status=status)


def _validation_errors(exc: ValidationError) -> list[dict[str, Any]]:
    from enumeration.forms import field_label

    out = []
    if not hasattr(exc, "error_dict"):
        return [{"key": "", "label": "", "messages": [str(m) for m in exc.messages]}]
    for key, messages_ in exc.message_dict.items():
        label = ""
        section, _sep, rest = key.partition("[")
        if rest and "." in rest:
            index, _dot, name = rest.partition("].")
            prefix = _("Person %(n)d") if section == "persons" else _("Death %(n)d")
            label = f"{prefix % {'n': int(index) + 1}} · {field_label(section, name)}" if index.isdigit() else key
        elif key not in ("__all__",):
            label = field_label("household", key)
        out.append({"key": key, "label": label, "messages": [str(m) for m in messages_]})
    return out


@require_POST
@role_required(*FIELD_ROLES)
@url_objects(pk=Household)
@idempotent_json
def household_autosave(request: StaffRequest, pk: int) -> JsonResponse:
    """Save the form as the browser holds it: ``{"version", "household", "persons"?, "deaths"?, "reason"?}``.

    200 with the new version and the rules' issues; 409 when the version is stale (nothing is saved); 400 with
    the items that could not be read (nothing is saved); 403 when the user is not the registrar.
    """
    household = _household(request, pk)
    if len(request.body) > MAX_AUTOSAVE_BYTES:
        return _json_error(400, "too_large", _("The form is too large to save."))
    try:
        payload = json_loads(request.body or b"{}")
    except JSONTooDeep as exc:
        return _json_error(400, "too_deep", str(exc))
    except (ValueError, UnicodeDecodeError):
        return _json_error(400, "bad_json", _("The form data are damaged."))
    if not isinstance(payload, dict):
        return _json_error(400, "bad_json", _("The form data are damaged."))
    version = payload.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        return _json_error(400, "no_version", _("The form's version is missing; reload the page."))
    cleaned = clean_form_payload(payload)
    if cleaned.errors:
        return _json_error(400, "invalid", _("Some items could not be read."), errors=cleaned.errors)
    persons, deaths = cleaned.persons, cleaned.deaths
    if persons is None or deaths is None:
        # Rows the request leaves out stay as they are (a phone's outbox sends them all: no read then).
        current = form_values(household)
        if persons is None:
            persons = [_row(p, PERSON_FORM_FIELDS) for p in current.persons]
        if deaths is None:
            deaths = [_row(d, DEATH_FORM_FIELDS) for d in current.deaths]
    reason = payload.get("reason") if isinstance(payload.get("reason"), str) else ""
    position = payload.get("position")
    if position is not None and not isinstance(position, str):
        return _json_error(400, "invalid", _("Some items could not be read."))
    try:
        saved = household_save(
            household=household,
            actor=request.user,
            expected_version=version,
            data=cleaned.household,
            persons=persons,
            deaths=deaths,
            reason=reason or "",
            position=position,
        )
    except ConflictError as exc:
        return _json_error(409, exc.code, str(exc.message), current_version=exc.extra.get("current_version"))
    except ApplicationError as exc:
        return _json_error(403 if exc.code == "not_registrar" else 400, exc.code, str(exc.message))
    except ValidationError as exc:
        return _json_error(400, "invalid", _("The form was not saved."), errors=_validation_errors(exc))
    values = form_values(saved)
    issues = validate_household(values.household, values.persons, values.deaths)
    return JsonResponse(
        {
            "ok": True,
            "version": saved.version,
            "state": saved.state,
            "issues": [issue_dict(i) for i in issues],
            "saved_at": timezone.localtime(saved.updated_at).strftime("%H:%M:%S"),
        }
    )


# --- summary: read-back, notes, the respondent, the signature ----------------------------------------------


def summary_context(
    request: StaffRequest,
    household: Household,
    *,
    notes_form: NotesForm | None = None,
    respondent_form: RespondentForm | None = None,
    sign_form: SignForm | None = None,
    sign_issues: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    values = form_values(household)
    issues = validate_household(values.household, values.persons, values.deaths)
    unmasked = personal_data_shown(request, request.user, household)
    warnings = [i for i in issues if i.severity is Severity.WARNING]
    notes = household.warning_notes or {}
    keys = [w.key for w in warnings]
    if notes_form is None:
        notes_form = NotesForm(
            keys=keys,
            initial={"version": household.version, **{f"note__{k}": notes.get(k, "") for k in keys}},
        )
    confirmation = selectors.current_confirmation(household)
    head = next((p for p in values.persons if p.get("row_no") == 1), None)
    if respondent_form is None:
        respondent_form = RespondentForm(
            initial={
                "version": household.version,
                "name": (head or {}).get("d1_name") or household.head_name_listed,
                "relationship": 0 if household.h1_kind == 1 else None,
            }
        )
    if sign_form is None:
        sign_form = SignForm(initial={"version": household.version})
    hard = hard_issues(issues)
    unexplained = unexplained_warnings(issues, notes)
    editable = household.state in EDITABLE_STATES and household.state != HouseholdState.LISTED
    return {
        "household": household,
        "blocks": readback(values.household, values.persons, values.deaths, issues, unmasked=unmasked),
        "hard": [(issue_location(i), i) for i in hard],
        "warnings": [(issue_location(w), w, notes_form[f"note__{w.key}"]) for w in warnings],
        "unexplained": unexplained,
        "notes_form": notes_form,
        "respondent_form": respondent_form,
        "sign_form": sign_form,
        "sign_issues": sign_issues or [],
        "confirmation": confirmation,
        "latest_confirmation": selectors.latest_confirmation(household),
        "editable": editable,
        "can_change_signed": household.state == HouseholdState.SIGNED and may_edit_form(request.user, household),
        "ready_to_sign": editable and not hard and not unexplained and confirmation is not None,
        "comments": [(comment_label(c.item), c) for c in selectors.open_comments(household)],
        "unmasked": unmasked,
    }


def _summary_page(request: StaffRequest, household: Household, status: int = 200, **forms: Any) -> HttpResponse:
    return render(
        request, "enumeration/household_summary.html", summary_context(request, household, **forms), status=status
    )


@never_cache
@require_GET
@role_required(*FIELD_ROLES)
@url_objects(pk=Household)
def household_summary(request: StaffRequest, pk: int) -> HttpResponse:
    household = _household(request, pk)
    if not may_register(request.user, household) or household.state == HouseholdState.LISTED:
        return _detail(household)
    return _summary_page(request, household)


def _summary_url(household: Household, anchor: str) -> str:
    return reverse("enumeration:household-summary", args=[household.pk]) + f"#{anchor}"


def _stale(form: Any, household: Household) -> bool:
    if form.cleaned_data.get("version") != household.version:
        form.add_error(
            None,
            _("The form changed since this page was opened (version %(v)d). Reload the page and read it back again.")
            % {"v": household.version},
        )
        return True
    return False


@require_POST
@role_required(*FIELD_ROLES)
@url_objects(pk=Household)
def household_notes(request: StaffRequest, pk: int) -> HttpResponse:
    household = _household(request, pk)
    values = form_values(household)
    issues = validate_household(values.household, values.persons, values.deaths)
    keys = [i.key for i in issues if i.severity is Severity.WARNING]
    form = NotesForm(request.POST, keys=keys)
    if form.is_valid() and not _stale(form, household):
        try:
            household_save(
                household=household,
                actor=request.user,
                expected_version=form.cleaned_data["version"],
                data={"warning_notes": form.notes()},
                persons=[_row(p, PERSON_FORM_FIELDS) for p in values.persons],
                deaths=[_row(d, DEATH_FORM_FIELDS) for d in values.deaths],
            )
        except (ApplicationError, ValidationError) as exc:
            for message in error_messages(exc):
                form.add_error(None, message)
        else:
            messages.success(request, _("The notes were saved."))
            return redirect(_summary_url(household, "warnings"))
    household.refresh_from_db()
    return _summary_page(request, household, status=400, notes_form=form)


@require_POST
@role_required(*FIELD_ROLES)
@url_objects(pk=Household)
def household_confirm(request: StaffRequest, pk: int) -> HttpResponse:
    household = _household(request, pk)
    form = RespondentForm(request.POST)
    if form.is_valid() and not _stale(form, household):
        data = form.cleaned_data
        try:
            respondent_confirm(
                household=household,
                actor=request.user,
                name=data["name"],
                relationship=data["relationship"],
                signature_image="" if data["refused"] else data["signature_image"],
                refused=data["refused"],
                refusal_reason=data["refusal_reason"] or "",
            )
        except (ApplicationError, ValidationError) as exc:
            for message in error_messages(exc):
                form.add_error(None, message)
        else:
            messages.success(request, _("The respondent's confirmation was recorded."))
            return redirect(_summary_url(household, "sign"))
    return _summary_page(request, household, status=400, respondent_form=form)


@require_POST
@role_required(*FIELD_ROLES)
@url_objects(pk=Household)
def household_sign_view(request: StaffRequest, pk: int) -> HttpResponse:
    household = _household(request, pk)
    form = SignForm(request.POST)
    issues: list[dict[str, Any]] = []
    if form.is_valid():
        try:
            signed = household_sign(
                household=household,
                signer=request.user,
                password=form.cleaned_data["password"],
                expected_version=form.cleaned_data["version"],
            )
        except ApplicationError as exc:
            form.add_error(None, str(exc.message))
            issues = [{**i, "location": issue_location(i)} for i in issue_messages(exc)]
        else:
            messages.success(
                request,
                _("Household %(key)s is signed and submitted for review.") % {"key": signed.key},
            )
            return redirect(
                reverse("enumeration:area-listing", args=[signed.small_area_id]) + f"#h{signed.household_no}"
            )
    household.refresh_from_db()
    return _summary_page(request, household, status=400, sign_form=form, sign_issues=issues)


@require_POST
@role_required(*FIELD_ROLES)
@url_objects(pk=Household)
def household_long_form(request: StaffRequest, pk: int) -> HttpResponse:
    household = _household(request, pk)
    try:
        household_long_form_open(household=household, actor=request.user)
    except (ApplicationError, ValidationError) as exc:
        for message in error_messages(exc):
            messages.error(request, message)
        return _detail(household)
    messages.success(request, _("The long form is open: fill in the long-form items, then sign again."))
    return redirect("enumeration:household-form", pk=household.pk)
