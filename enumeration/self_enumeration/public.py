"""The respondent's pages (no login): the code is the only credential.

Every page goes through :func:`respondent_view`, which throttles requests per client address and per code
(django-ratelimit, in the Redis cache), counts the codes an address gets wrong and refuses the address once it has
used up ``SELF_ENUMERATION["MISSES_PER_ADDRESS"]``, and answers a mistyped, revoked or expired code with a page
that says so in Chinese. A code opens its own household and nothing else: the pages read only the invitation the
code's hash finds, and show the household's number and its masked listed head only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_ratelimit import ALL
from django_ratelimit.core import get_usage

from census import privacy
from census.api import ApplicationError
from census.cache import CacheUnavailable
from census.permissions import public, url_objects
from census.security import client_ip
from enumeration.codes import ETHNIC_GROUPS
from enumeration.forms import (
    HOUSEHOLD_ITEMS,
    PERSON_ITEMS,
    Item,
    _items_form,
    relationship_choices,
    value_label,
)
from enumeration.models import Household, Person
from enumeration.rules.entry import Severity
from enumeration.rules.thresholds import threshold
from enumeration.self_enumeration import selectors, services
from enumeration.self_enumeration.models import Invitation
from enumeration.services.registration import HOUSEHOLD_FORM_FIELDS, MAX_PERSONS, PERSON_FORM_FIELDS

RespondentHouseholdForm = _items_form("RespondentHouseholdForm", Household, HOUSEHOLD_ITEMS, HOUSEHOLD_FORM_FIELDS)
RespondentPersonForm = _items_form("RespondentPersonForm", Person, PERSON_ITEMS, PERSON_FORM_FIELDS)
HOUSEHOLD_FIELDS = tuple(RespondentHouseholdForm.base_fields)
PERSON_FIELDS = tuple(RespondentPersonForm.base_fields)
NOT_A_CODE = "2222222222222222222A"  # a well-formed code that opens nothing (the permission-matrix test)


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Your self-enumeration code (填报码)"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
    )


class DeclarationForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Your name (申报人)"), max_length=50)
    relationship = forms.TypedChoiceField(
        label=gettext_lazy("Your relationship to the head of household"),
        choices=relationship_choices,
        coerce=int,
        empty_value=None,
    )
    confirm = forms.BooleanField(
        label=gettext_lazy("I declare that these answers are true and complete (《统计法》第七条).")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "declare_%s")
        super().__init__(*args, **kwargs)


# --- throttling and the code ---------------------------------------------------------------------------------


def _config(name: str) -> str:
    return str(settings.SELF_ENUMERATION[name])


def _usage(request: HttpRequest, group: str, key: str, rate: str, *, increment: bool) -> tuple[int, int]:
    """(count, limit) of a fixed-window counter; (0, 1) when the cache is down or limits are off."""
    try:
        usage = get_usage(request, group=group, key=lambda _g, _r: key, rate=rate, method=ALL, increment=increment)
    except CacheUnavailable:
        # Redis is down: the households still get their pages. The limit is a second line: a code is 99 random
        # bits, which no one guesses at any rate.
        return 0, 1
    return (usage["count"], usage["limit"]) if usage else (0, 1)


def _over(request: HttpRequest, group: str, key: str, rate: str) -> bool:
    """Counts this request; true when it is one more than the rate allows."""
    count, limit = _usage(request, group, key, rate, increment=True)
    return count > limit


def _used_up(request: HttpRequest, group: str, key: str, rate: str) -> bool:
    """True when the counter has reached its limit already (this request is not counted)."""
    count, limit = _usage(request, group, key, rate, increment=False)
    return count >= limit


def refusal(request: HttpRequest, reason: str, status: int) -> HttpResponse:
    """limited | unknown | revoked | expired."""
    return render(request, "self_enumeration/public/refused.html", {"reason": reason}, status=status)


RespondentView = Callable[..., HttpResponse]


def respondent_view(
    *, after_declaration: bool = False, **arguments: list[Any]
) -> Callable[[RespondentView], RespondentView]:
    """Throttle, find the code's invitation, refuse closed ones; the view gets the open invitation. A declared
    form's code opens only the pages marked ``after_declaration`` (the confirmation); the others lead there."""

    def decorator(view: RespondentView) -> RespondentView:
        @wraps(view)
        def wrapped(request: HttpRequest, code: str, *args: Any, **kwargs: Any) -> HttpResponse:
            address = client_ip(request) or "unknown"
            misses = _config("MISSES_PER_ADDRESS")
            if _over(request, "self-enumeration-address", address, _config("REQUESTS_PER_ADDRESS")) or _used_up(
                request, "self-enumeration-misses", address, misses
            ):
                return refusal(request, "limited", 429)
            invitation = selectors.invitation_by_code(code) if services.code_well_formed(code) else None
            if invitation is None or not invitation.is_open:
                _usage(request, "self-enumeration-misses", address, misses, increment=True)
                if invitation is None:
                    return refusal(request, "unknown", 404)
                return refusal(request, "revoked" if invitation.revoked_at else "expired", 410)
            if _over(request, "self-enumeration-code", invitation.code_hash, _config("REQUESTS_PER_CODE")):
                return refusal(request, "limited", 429)
            if invitation.declared_at is not None and not after_declaration:
                return redirect("respondent:done", code=code)
            return view(request, invitation, code, *args, **kwargs)

        # Outside the request's transaction (ATOMIC_REQUESTS): a page reads one invitation, and a save is one
        # service call, atomic by itself. Under load every round trip to PostgreSQL counts: a page is one query
        # instead of BEGIN, the query and COMMIT, and a save takes no savepoint inside the request's transaction.
        return public(url_objects(code=[NOT_A_CODE], **arguments)(transaction.non_atomic_requests(wrapped)))

    return decorator


def _context(invitation: Invitation, code: str, **extra: Any) -> dict[str, Any]:
    household = invitation.household
    return {
        "code": code,
        "household_key": household.key,
        "head": privacy.mask_name(household.head_name_listed) if household.head_name_listed else "",
        "invitation": invitation,
        **extra,
    }


def _groups(form: forms.Form, items: tuple[Item, ...]) -> list[dict[str, Any]]:
    """The form's bound fields grouped by item, as the paper form groups them. Each input carries the marks of the
    enumerator's form (``data-field``, ``data-kind``), which the skip logic both forms share reads
    (static/js/skip-logic.js)."""
    groups = []
    for item in items:
        parts = []
        for part in item.parts:
            if part.field in form.fields:
                form.fields[part.field].widget.attrs.update({"data-field": part.field, "data-kind": part.kind})
                parts.append((part, form[part.field]))
        if parts:
            groups.append({"code": item.code, "title": item.title, "parts": parts})
    return groups


def _skip_data(invitation: Invitation) -> dict[str, Any]:
    """What the shared skip logic needs besides the page's own answers: the household's answers a person's items
    depend on (H1: D2 is asked in a family household) and the age limits of D11/D12."""
    household = invitation.draft.get("household") or {}
    return {
        "household": {"h1_kind": household.get("h1_kind"), "form_kind": invitation.household.form_kind},
        "thresholds": {
            "education": threshold("education_universe_age"),
            "literacy": threshold("literacy_universe_age"),
        },
    }


def _initial(values: dict[str, Any]) -> dict[str, Any]:
    out = dict(values)
    for name, value in values.items():
        if name == "d6_ethnicity" and value:
            out[name] = ETHNIC_GROUPS.get(str(value), value)
    return out


def _cleaned(form: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: form.cleaned_data.get(name) for name in fields}


# --- the pages -----------------------------------------------------------------------------------------------------


@require_GET
@never_cache
@public
def start(request: HttpRequest) -> HttpResponse:
    """Type the code from the slip (for a phone that cannot scan it)."""
    form = CodeForm(request.GET or None)
    if form.is_bound and form.is_valid():
        code = services.normalise_code(form.cleaned_data["code"])
        if services.code_well_formed(code):
            return redirect("respondent:home", code=code)
        form.add_error("code", _("A code has 20 letters and digits, as printed on the slip."))
    return render(request, "self_enumeration/public/start.html", {"form": form}, status=400 if form.errors else 200)


@require_GET
@never_cache
@respondent_view()
def respondent_home(request: HttpRequest, invitation: Invitation, code: str) -> HttpResponse:
    persons = services.draft_persons(invitation)
    household_done = bool(invitation.draft.get("household"))
    return render(
        request,
        "self_enumeration/public/home.html",
        _context(
            invitation,
            code,
            persons=persons,
            household_done=household_done,
            next_row=len(persons) + 1,
            may_add=len(persons) < MAX_PERSONS,
        ),
    )


@require_http_methods(["GET", "POST"])
@never_cache
@respondent_view()
def respondent_household(request: HttpRequest, invitation: Invitation, code: str) -> HttpResponse:
    initial = _initial(invitation.draft.get("household") or {})
    form = RespondentHouseholdForm(request.POST or None, initial=initial, auto_id="hh_%s")
    if request.method == "POST" and form.is_valid():
        try:
            services.respondent_household_save(invitation=invitation, data=_cleaned(form, HOUSEHOLD_FIELDS))
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return redirect("respondent:home", code=code)
    return render(
        request,
        "self_enumeration/public/household.html",
        _context(invitation, code, form=form, groups=_groups(form, HOUSEHOLD_ITEMS), skip=_skip_data(invitation)),
        status=400 if form.errors else 200,
    )


@require_http_methods(["GET", "POST"])
@never_cache
@respondent_view(row=[1])
def respondent_person(request: HttpRequest, invitation: Invitation, code: str, row: int) -> HttpResponse:
    persons = services.draft_persons(invitation)
    if not 1 <= row <= min(len(persons) + 1, MAX_PERSONS):
        return redirect("respondent:home", code=code)
    initial = _initial(persons[row - 1]) if row <= len(persons) else {}
    form = RespondentPersonForm(request.POST or None, initial=initial, auto_id="p_%s")
    if request.method == "POST" and form.is_valid():
        try:
            services.respondent_person_save(invitation=invitation, row_no=row, data=_cleaned(form, PERSON_FIELDS))
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            if "add_another" in request.POST and row < MAX_PERSONS:
                return redirect("respondent:person", code=code, row=row + 1)
            return redirect("respondent:home", code=code)
    return render(
        request,
        "self_enumeration/public/person.html",
        _context(
            invitation,
            code,
            form=form,
            row=row,
            is_new=row > len(persons),
            groups=_groups(form, PERSON_ITEMS),
            ethnic_groups=ETHNIC_GROUPS.values(),
            skip=_skip_data(invitation),
        ),
        status=400 if form.errors else 200,
    )


@require_POST
@never_cache
@respondent_view(row=[1])
def respondent_person_remove(request: HttpRequest, invitation: Invitation, code: str, row: int) -> HttpResponse:
    with contextlib.suppress(ApplicationError):
        services.respondent_person_remove(invitation=invitation, row_no=row)
    return redirect("respondent:home", code=code)


def _readback(invitation: Invitation) -> dict[str, Any]:
    household = invitation.draft.get("household") or {}
    rows = [
        {
            "label": str(item.title),
            "value": " / ".join(value_label("household", f, household.get(f)) for f in item.fields),
        }
        for item in HOUSEHOLD_ITEMS
    ]
    persons = [
        {
            "row": person.get("row_no"),
            "items": [
                {
                    "label": str(item.title),
                    "value": " / ".join(value_label("persons", f, person.get(f)) for f in item.fields),
                }
                for item in PERSON_ITEMS
                if any(person.get(f) not in (None, "") for f in item.fields)
            ],
        }
        for person in services.draft_persons(invitation)
    ]
    return {"household_rows": rows, "person_rows": persons}


@require_http_methods(["GET", "POST"])
@never_cache
@respondent_view()
def respondent_review(request: HttpRequest, invitation: Invitation, code: str) -> HttpResponse:
    """The read-back, the entry rules' findings and the declaration."""
    form = DeclarationForm(request.POST or None)
    issues = services.respondent_issues(invitation)
    hard = [i for i in issues if i.severity is Severity.HARD]
    if request.method == "POST" and form.is_valid():
        try:
            services.respondent_declare(
                invitation=invitation, name=form.cleaned_data["name"], relationship=form.cleaned_data["relationship"]
            )
        except ApplicationError as exc:
            form.add_error(None, exc.message)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return redirect("respondent:done", code=code)
    return render(
        request,
        "self_enumeration/public/review.html",
        _context(
            invitation,
            code,
            form=form,
            hard=hard,
            warnings=[i for i in issues if i.severity is not Severity.HARD],
            has_persons=bool(services.draft_persons(invitation)),
            **_readback(invitation),
        ),
        status=400 if form.errors else 200,
    )


@require_GET
@never_cache
@respondent_view(after_declaration=True)
def respondent_done(request: HttpRequest, invitation: Invitation, code: str) -> HttpResponse:
    declaration = selectors.declaration_of(invitation)
    if declaration is None:
        return redirect("respondent:review", code=code)
    return render(request, "self_enumeration/public/done.html", _context(invitation, code, declaration=declaration))
