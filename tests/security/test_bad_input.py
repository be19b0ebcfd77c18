"""Bad input: every form, every page that posts and every API field refuses unknown codes, malformed ID
numbers, out-of-range numbers, wrong types and oversized values with a message people can read — in Chinese,
and in English for an English reader — and a refused request leaves the database as it was.

How the cases are found (tests/security/bad_input.py):

* forms: every ``django.forms.Form`` subclass of the project's packages, each field by its type (a choice, a
  number with bounds, a date, a text with a maximum length, an ID number, a file);
* pages: every form the walk of the permission matrix is served (``<form method="post">`` on every readable
  page, as every role), posted with one field spoiled at a time from the values the page itself filled in;
* the API: every property of every request body in the OpenAPI schema, spoiled by its schema (an enum, a
  range, a length, a pattern, a type), starting from a valid body for the operation.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django import forms
from django.db import transaction
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import translation
from drf_spectacular.generators import SchemaGenerator

from census.limits import JSONParser as LimitedJSONParser
from census.limits import LimitedReader, PayloadTooLarge, too_large_message
from enumeration.models import Household
from enumeration.services import household_list, household_save, household_sign, respondent_confirm
from tests.census.factories import PASSWORD
from tests.conftest import Cast
from tests.enumeration.factories import family_form
from tests.security.bad_input import (
    ABSURD_INTEGER,
    ABSURD_PAGE,
    NUL,
    PageForm,
    api_query_parameters,
    error_messages_of,
    error_text,
    has_chinese,
    has_english,
    keyword_arguments,
    messages_at,
    nested,
    nul_places,
    plausible,
    png_data_url,
    post_forms,
    project_forms,
    query_names,
    resolve,
    spoiled_inputs,
    spoiled_properties,
    spoiled_values,
    with_nul,
    with_value,
)
from tests.security.bad_input import Path as FieldPath
from tests.security.conftest import World
from tests.security.matrix import changed_tables, fingerprint, schema_template, url_endpoints
from tests.security.test_schemathesis import real_arguments
from tests.security.xss import is_html, is_json, plant, text_of, walk

LIMIT = 4096


def enumerator_client(cast: Cast, language: str = "zh-hans") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(cast.enumerator_a1)
    return client


# --- oversized bodies: 413 --------------------------------------------------------------------------------


@pytest.mark.django_db
@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=LIMIT)
@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("kind", ["json", "form", "multipart"])
def test_the_api_refuses_a_body_above_the_limit_with_413(cast: Cast, kind: str, language: str) -> None:
    client = enumerator_client(cast, language)
    data = {"small_area": cast.area_a1.pk, "head_name": "王" * LIMIT}
    before = fingerprint()
    if kind == "json":
        response = client.post("/api/households/", json.dumps(data), content_type="application/json")
    elif kind == "form":
        body = f"small_area={cast.area_a1.pk}&head_name={'x' * LIMIT}"
        response = client.post("/api/households/", body, content_type="application/x-www-form-urlencoded")
    else:
        response = client.post("/api/households/", data)  # the test client sends multipart
    assert response.status_code == 413, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    detail = response.json()["detail"]
    assert response.json()["code"] == "payload_too_large"
    assert "4 KB" in detail
    assert has_chinese(detail) if language == "zh-hans" else (has_english(detail) and not has_chinese(detail))
    assert changed_tables(before, fingerprint()) == []


@pytest.mark.django_db
@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=LIMIT)
def test_a_retried_oversized_submission_is_refused_the_same_way_and_stores_nothing(cast: Cast) -> None:
    client = enumerator_client(cast)
    body = json.dumps({"small_area": cast.area_a1.pk, "head_name": "x" * LIMIT})
    before = fingerprint()
    for _attempt in range(2):
        response = client.post(
            "/api/households/", body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="same-key"
        )
        assert response.status_code == 413
    assert changed_tables(before, fingerprint()) == []


@pytest.mark.django_db
@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=LIMIT)
def test_a_body_just_under_the_limit_is_read(cast: Cast) -> None:
    client = enumerator_client(cast)
    body = json.dumps({"small_area": cast.area_a1.pk, "head_name": "王伟", "expected_persons": 2})
    body += " " * (LIMIT - len(body.encode()))
    assert len(body.encode()) == LIMIT
    response = client.post("/api/households/", body, content_type="application/json")
    assert response.status_code == 201, response.content


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=LIMIT)
def test_the_parser_counts_what_it_reads_when_the_length_was_not_declared() -> None:
    """A body whose length is not declared (chunked, or understated behind a proxy) is cut off at the limit
    while it is read, not after it was read into memory."""

    class Request:
        META: dict[str, str] = {}

    stream = io.BytesIO(b'{"a": "' + b"x" * (10 * LIMIT) + b'"}')
    with pytest.raises(PayloadTooLarge):
        LimitedJSONParser().parse(stream, "application/json", {"request": Request()})
    assert stream.tell() <= LIMIT + 1
    reader = LimitedReader(io.BytesIO(b"x" * 10), 10)
    assert reader.read() == b"x" * 10


@pytest.mark.django_db
@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=LIMIT)
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_pages_refuse_an_oversized_form_or_autosave_with_413(cast: Cast, language: str) -> None:
    client = enumerator_client(cast, language)
    household = Household.objects.create(
        small_area=cast.area_a1, village=cast.village_a, township=cast.township_a, household_no=1
    )
    before = fingerprint()
    autosave = client.post(
        reverse("enumeration:household-autosave", args=[household.pk]),
        json.dumps({"version": 1, "household": {"warning_notes": {"x": "y" * LIMIT}}}),
        content_type="application/json",
    )
    assert autosave.status_code == 413 and autosave["Content-Type"].startswith("application/json")
    page = client.post(
        reverse("enumeration:building-add", args=[cast.area_a1.pk]),
        f"number=1&address={'x' * LIMIT}",
        content_type="application/x-www-form-urlencoded",
    )
    assert page.status_code == 413 and page["Content-Type"].startswith("text/plain")
    for message in (autosave.json()["detail"], page.content.decode()):
        assert message == too_large_message(LIMIT) or not has_chinese(message)
        assert has_chinese(message) if language == "zh-hans" else has_english(message)
    assert changed_tables(before, fingerprint()) == []


@pytest.mark.django_db
def test_an_upload_larger_than_the_body_limit_still_reaches_its_page(cast: Cast, tmp_path: Path, settings) -> None:  # type: ignore[no-untyped-def]
    """Files are limited by the pages that take them (evidence: ORGANISATION_EVIDENCE_MAX_BYTES), not by the
    limit on form fields: the middleware lets multipart bodies through."""
    # One mechanism for all the overrides: override_settings and the settings fixture undo each other badly.
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = LIMIT
    settings.PRIVATE_MEDIA_ROOT = settings.MEDIA_ROOT = tmp_path
    client = Client()
    client.force_login(cast.district_office)
    upload = io.BytesIO(b"x" * (3 * LIMIT))
    upload.name = "frame.csv"
    response = client.post(reverse("frame:import"), {"file": upload})
    assert response.status_code != 413


# --- every form class, every field ----------------------------------------------------------------------

FORMS = project_forms()
# What the forms' constructors need, from the cast (a form that needs something new fails and says so).
FORM_ARGUMENTS: dict[str, Any] = {
    "small_area": lambda cast: cast.area_a1,
    "user": lambda cast: cast.district_office,
    "keys": lambda cast: ["h2_persons"],
    "items": lambda cast: [("D1", "D1 姓名"), ("D4", "D4 性别")],
    "kind": lambda cast: "industry",
    "actor": lambda cast: cast.district_office,
    "units": lambda cast: [(1, "001 王伟"), (2, "002 李娜")],
}


def test_the_sweep_finds_the_forms() -> None:
    names = {cls.__name__ for cls in FORMS}
    assert {"PersonForm", "HouseholdItemsForm", "RespondentForm", "ReturnForm", "TrainingForm"} <= names
    assert len(FORMS) >= 30


@pytest.mark.django_db
@pytest.mark.parametrize("form_class", FORMS, ids=lambda cls: cls.__name__)
def test_every_form_field_refuses_bad_values_in_chinese_and_english(form_class: type[forms.Form], cast: Cast) -> None:
    missing = [name for name in keyword_arguments(form_class) if name not in FORM_ARGUMENTS]
    assert not missing, f"{form_class.__name__} needs {missing}: add them to FORM_ARGUMENTS"
    kwargs = {name: FORM_ARGUMENTS[name](cast) for name in keyword_arguments(form_class)}
    problems: list[str] = []
    tried = 0
    for name, field in form_class(**kwargs).fields.items():
        for spoiled in spoiled_values(name, field, form_class(**kwargs)):
            for language in ("zh-hans", "en"):
                with translation.override(language):
                    is_file = isinstance(field, forms.FileField)
                    form = form_class(
                        data={} if is_file else {name: spoiled.value},
                        files={name: spoiled.value} if is_file else None,
                        **kwargs,
                    )
                    form.is_valid()
                    errors = error_text(form.errors.get(name, []))
                tried += 1
                where = f"{form_class.__name__}.{name} = {str(spoiled.value)[:40]!r} ({spoiled.kind}, {language})"
                if not errors:
                    problems.append(f"{where}: accepted")
                elif language == "zh-hans" and not has_chinese(errors):
                    problems.append(f"{where}: no Chinese in {errors!r}")
                elif language == "en" and (has_chinese(errors) or not has_english(errors)):
                    problems.append(f"{where}: not English: {errors!r}")
    assert not problems, "\n".join(problems)
    print(f"{form_class.__name__}: {tried} refusals checked")


# --- every API field ------------------------------------------------------------------------------------

SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
COMPONENTS = SCHEMA.get("components", {}).get("schemas", {})
BODY_OPERATIONS = sorted(
    (method.upper(), path)
    for path, operations in SCHEMA["paths"].items()
    for method, operation in operations.items()
    if "requestBody" in operation
)


@dataclass
class Baseline:
    """A request the operation accepts: the user, the path and a valid body, from which one field at a time is
    spoiled. ``valid`` is False for operations without a declared baseline (they still must refuse, and say
    so in both languages, but perhaps for another reason first)."""

    user: Any
    path: str
    body: dict[str, Any]
    valid: bool = True


def _draft(cast: Cast, *, deaths: bool = False) -> Household:
    household = household_list(small_area=cast.area_a1, actor=cast.enumerator_a1, head_name="王伟", expected_persons=3)
    data, persons = family_form()
    death_rows = []
    if deaths:
        data["h4_deaths_male"] = 1
        death_rows = [dict(DEATH_ROW)]
    return household_save(
        household=household,
        actor=cast.enumerator_a1,
        expected_version=household.version,
        data=data,
        persons=persons,
        deaths=death_rows,
    )


DEATH_ROW = {
    "row_no": 1,
    "name": "王老",
    "id_number": "511521194001011210",
    "sex": 1,
    "birth_year": 1940,
    "birth_month": 1,
    "death_year": 2020,
    "death_month": 3,
    "ethnicity": "01",
}


def _confirmed(cast: Cast) -> Household:
    household = _draft(cast)
    respondent_confirm(
        household=household, actor=cast.enumerator_a1, name="李芳", relationship=1, signature_image=png_data_url()
    )
    household.refresh_from_db()
    return household


def _form_body(household: Household, *, deaths: bool = False) -> dict[str, Any]:
    data, persons = family_form()
    if deaths:
        data["h4_deaths_male"] = 1
    return {"household": data, "persons": persons, "deaths": [dict(DEATH_ROW)] if deaths else []}


def _baseline(method: str, path: str, world: World) -> Baseline:
    cast = world.cast
    if (method, path) == ("POST", "/api/households/"):
        return Baseline(
            cast.enumerator_a1, path, {"small_area": cast.area_a1.pk, "head_name": "王伟", "expected_persons": 3}
        )
    if (method, path) == ("POST", "/api/households/submit/"):
        form = _form_body(Household())  # signed at once: the death register's rows would need every item
        return Baseline(
            cast.enumerator_a1,
            path,
            {
                "small_area": cast.area_a1.pk,
                "head_name": "王伟",
                "aware_of_census": True,
                **form,
                "respondent": {"name": "李芳", "relationship": 1, "signature_image": png_data_url()},
                "password": PASSWORD,
            },
        )
    if (method, path) == ("PUT", "/api/households/{id}/"):
        household = _draft(cast, deaths=True)
        body = {"version": household.version, **_form_body(household, deaths=True), "reason": ""}
        body["household"]["warning_notes"] = {"h2_persons": "核实过"}
        return Baseline(cast.enumerator_a1, path.format(id=household.pk), body)
    if (method, path) == ("POST", "/api/households/{id}/confirm/"):
        household = _draft(cast)
        body = {"name": "李芳", "relationship": 1, "signature_image": png_data_url(), "refused": False}
        return Baseline(cast.enumerator_a1, path.format(id=household.pk), {**body, "refusal_reason": ""})
    if (method, path) == ("POST", "/api/households/{id}/sign/"):
        household = _confirmed(cast)
        return Baseline(
            cast.enumerator_a1, path.format(id=household.pk), {"password": PASSWORD, "version": household.version}
        )
    if (method, path) == ("POST", "/api/households/{id}/transition/"):
        household = _confirmed(cast)
        household = household_sign(household=household, signer=cast.enumerator_a1, password=PASSWORD)
        body = {"action": "return", "comments": [{"item": "D1", "text": "姓名有误"}], "reason": "", "password": ""}
        return Baseline(cast.supervisor_a, path.format(id=household.pk), body)
    if (method, path) == ("POST", "/api/quality/runs/"):
        return Baseline(cast.district_office, path, {"mode": "incremental", "township": cast.township_a.code})
    # No declared baseline: a user the operation allows, an object inside their scope, a body from the schema.
    endpoint = next(e for e in url_endpoints() if e.template == schema_template(path))
    access = endpoint.access
    assert access is not None
    user = next(u for u in world.by_role().values() if access.allows(u))
    values = real_arguments(path, user) or dict.fromkeys(re.findall(r"\{([^}]+)\}", path), "987654")
    operation = SCHEMA["paths"][path][method.lower()]
    schema = resolve(operation["requestBody"]["content"]["application/json"]["schema"], COMPONENTS)
    body = {name: _example(resolve(node, COMPONENTS)) for name, node in (schema.get("properties") or {}).items()}
    return Baseline(user, path.format(**values), body, valid=False)


def _example(node: dict[str, Any]) -> Any:
    if "enum" in node:
        return next(v for v in node["enum"] if v not in (None, ""))
    return {"integer": 1, "number": 1, "boolean": False, "array": [], "object": {}}.get(node.get("type", ""), "示例")


class _Rollback(Exception):
    pass


def send(client: Client, method: str, path: str, body: Any, language: str) -> Any:
    return getattr(client, method.lower())(
        path, json.dumps(body), content_type="application/json", HTTP_ACCEPT_LANGUAGE=language
    )


def test_the_api_sweep_finds_the_operations_with_bodies() -> None:
    assert ("PUT", "/api/households/{id}/") in BODY_OPERATIONS and (
        "POST",
        "/api/households/submit/",
    ) in BODY_OPERATIONS


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), BODY_OPERATIONS, ids=[f"{m} {p}" for m, p in BODY_OPERATIONS])
def test_every_api_field_refuses_bad_values_and_saves_nothing(method: str, path: str, world: World) -> None:
    base = _baseline(method, path, world)
    client = Client()
    client.force_login(base.user)
    if (
        base.valid
    ):  # the body is accepted as it is (and rolled back): what the spoiled ones are refused for is the spoil
        with contextlib.suppress(_Rollback), transaction.atomic():
            accepted = send(client, method, base.path, base.body, "zh-hans")
            assert accepted.status_code < 300, f"the baseline of {method} {path} is refused: {accepted.content[:500]}"
            raise _Rollback
    operation = SCHEMA["paths"][path][method.lower()]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    before = fingerprint()
    problems: list[str] = []
    tried: set[FieldPath] = set()
    for where, spoiled in spoiled_properties(schema, COMPONENTS, base.body):
        value = spoiled.value
        if spoiled.kind == "too many":
            value = [messages_source(base.body, where)] * spoiled.value
        body = with_value(base.body, where, value)
        languages = ("zh-hans", "en") if where not in tried else ("zh-hans",)
        tried.add(where)
        for language in languages:
            response = send(client, method, base.path, body, language)
            label = f"{method} {path} {'.'.join(map(str, where))} = {str(value)[:30]!r} ({spoiled.kind}, {language})"
            if response.status_code >= 500:
                problems.append(f"{label}: {response.status_code}")
                continue
            if response.status_code < 400 or (base.valid and response.status_code != 400):
                problems.append(f"{label}: {response.status_code}, expected 400: {response.content[:200]!r}")
                continue
            data = response.json()
            text = " ".join(messages_at(data, where)) or (" ".join(messages_at(data, ())) if not base.valid else "")
            if not text:
                problems.append(f"{label}: refused, but the message does not name the field: {data}")
            elif language == "zh-hans" and not has_chinese(text):
                problems.append(f"{label}: no Chinese in {text!r}")
            elif language == "en" and (has_chinese(text) or not has_english(text)):
                problems.append(f"{label}: not English: {text!r}")
    assert tried, "no field was spoiled"
    print(f"{method} {path}: {len(tried)} fields spoiled")
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)
    assert changed_tables(before, fingerprint()) == [], "refused requests changed the database"


def messages_source(body: Any, where: FieldPath) -> Any:
    """The first item of the array at ``where`` in the baseline (copied to make too many)."""
    node = body
    for key in where:
        node = node[key]
    return node[0] if isinstance(node, list) and node else {}


# --- NUL characters and deep nesting in every JSON write --------------------------------------------------

AUTOSAVE = ("POST", "autosave")
JSON_WRITES = [*BODY_OPERATIONS, AUTOSAVE]


def _json_write(method: str, path: str, world: World) -> tuple[Baseline, dict[str, Any]]:
    """The baseline of a JSON write and the schema of its body (the autosave of the form page has none in the
    OpenAPI schema: its baseline body is walked instead)."""
    if (method, path) == AUTOSAVE:
        household = _draft(world.cast, deaths=True)
        body = {"version": household.version, **_form_body(household, deaths=True)}
        body["household"]["warning_notes"] = {"h2_persons": "核实过"}
        url = reverse("enumeration:household-autosave", args=[household.pk])
        return Baseline(world.cast.enumerator_a1, url, body), {}
    operation = SCHEMA["paths"][path][method.lower()]
    return _baseline(method, path, world), operation["requestBody"]["content"]["application/json"]["schema"]


def quiet_client(user: Any) -> Client:
    """A signed-in client that answers a server error as a server would (500), instead of raising it."""
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def refused_in_both_languages(response: Any, language: str, label: str) -> list[str]:
    """A 400 with a JSON body whose message is in the reader's language — or what is wrong with the answer."""
    if response.status_code != 400 or not response["Content-Type"].startswith("application/json"):
        return [f"{label}: {response.status_code} {response['Content-Type']}, expected 400 with JSON"]
    text = " ".join(messages_at(response.json(), ()))
    if language == "zh-hans" and not has_chinese(text):
        return [f"{label}: no Chinese in {text[:200]!r}"]
    if language == "en" and (has_chinese(text) or not has_english(text)):
        return [f"{label}: not English: {text[:200]!r}"]
    return []


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), JSON_WRITES, ids=[f"{m} {p}" for m, p in JSON_WRITES])
def test_every_json_write_refuses_a_nul_character_in_any_text_or_key(method: str, path: str, world: World) -> None:
    """PostgreSQL stores no NUL (``\\u0000``) in text or JSON: a NUL anywhere in a body — a name, a note, the key
    of a note (``warning_notes`` takes any key) — is refused with 400 and a message, not a server error, and
    nothing is saved."""
    base, schema = _json_write(method, path, world)
    client = quiet_client(base.user)
    places = list(nul_places(schema, COMPONENTS, base.body))
    assert places
    before = fingerprint()
    problems: list[str] = []
    for number, (where, kind) in enumerate(places):
        for language in ("zh-hans", "en") if number == 0 else ("zh-hans",):
            response = send(client, method, base.path, with_nul(base.body, where, kind), language)
            label = f"{method} {path} NUL in the {kind} at {'.'.join(map(str, where)) or '(body)'} ({language})"
            problems += refused_in_both_languages(response, language, label)
    assert not problems, f"{len(problems)} of {len(places)} places:\n" + "\n".join(problems)
    assert changed_tables(before, fingerprint()) == []


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), JSON_WRITES, ids=[f"{m} {p}" for m, p in JSON_WRITES])
@pytest.mark.parametrize("opening", ["[", '{"a":'])
def test_every_json_write_refuses_deeply_nested_json(method: str, path: str, opening: str, world: World) -> None:
    """A hundred thousand nested arrays or objects (100 KB, under every size limit) are refused with 400 and a
    message before anything recurses into them."""
    base, _schema = _json_write(method, path, world)
    client = quiet_client(base.user)
    body = opening * 100_000
    before = fingerprint()
    problems: list[str] = []
    for language in ("zh-hans", "en"):
        response = client.generic(
            method, base.path, body, content_type="application/json", HTTP_ACCEPT_LANGUAGE=language
        )
        problems += refused_in_both_languages(response, language, f"{method} {path} {opening}×100000")
    assert not problems, "\n".join(problems)
    assert changed_tables(before, fingerprint()) == []


def test_json_as_deep_as_a_form_can_be_is_read_and_one_level_more_is_refused() -> None:
    """The limit sits well above the deepest body the system takes (the submission: object, list of persons,
    person — three levels) and refuses by counting, not by running out of stack."""
    from census.limits import JSON_MAX_DEPTH, JSONTooDeep, json_loads

    assert JSON_MAX_DEPTH >= 3
    assert json_loads(nested(JSON_MAX_DEPTH)) == json.loads(nested(JSON_MAX_DEPTH))
    # Brackets inside texts are text: they count for nothing.
    text = json.dumps({"note": "[" * 10_000, "list": [[["]]]"]]]})
    assert json_loads(text) == json.loads(text)
    with pytest.raises(JSONTooDeep):
        json_loads(nested(JSON_MAX_DEPTH + 1))
    with pytest.raises(JSONTooDeep):
        json_loads('{"a": ' * (JSON_MAX_DEPTH + 1) + "1" + "}" * (JSON_MAX_DEPTH + 1))


# --- NUL characters and absurd numbers in every query ------------------------------------------------------


@pytest.mark.slow
@pytest.mark.django_db
def test_every_page_and_api_operation_refuses_nul_and_absurd_numbers_in_its_query(
    world: World,
    role_clients: dict[str, Client],
    settings,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Every page and API operation the walk reads, again with a NUL in each query parameter it reads (its
    search, sort and page, the inputs of its GET forms, the API's documented parameters): 400 with a message —
    a page in the reader's language, JSON on the API. An absurd page number (beyond bigint) and an integer
    parameter of 2⁷⁰ are no server error either; an API list answers such a page with 404 and JSON."""
    settings.PRIVATE_MEDIA_ROOT = settings.MEDIA_ROOT = tmp_path
    clients = {who: quiet_client(user) for who, user in world.by_role().items()}
    anonymous = Client(raise_request_exception=False)
    problems: list[str] = []
    done: set[str] = set()
    tried = 0
    english = {"page": False, "api": False}
    for visit in walk(world.by_role(), role_clients, Client()):
        route = visit.path.split("?")[0]
        pattern = resolve_route(route)  # once per URL pattern: /jobs/<int:pk>/ is one, whatever the job
        if visit.response.status_code != 200 or pattern in done:
            continue
        done.add(pattern)
        client = anonymous if visit.who == "anonymous" else clients[visit.who]
        api = route.startswith("/api/")  # JSON under /api/, the Swagger page included
        if not is_json(visit.response) and not is_html(visit.response):
            continue
        parameters = api_query_parameters(SCHEMA, route) if api else {}
        names = list(dict.fromkeys(["q", "page", *parameters])) if api else query_names(text_of(visit.response))
        for name in names:
            kind = "api" if api else "page"
            languages = ("zh-hans",) if english[kind] else ("zh-hans", "en")
            english[kind] = True
            for language in languages:
                tried += 1
                response = client.get(route, {name: f"测试{NUL}"}, HTTP_ACCEPT_LANGUAGE=language)
                label = f"GET {route}?{name}=%00 as {visit.who} ({language})"
                if api:
                    problems += refused_in_both_languages(response, language, label)
                    continue
                text = error_messages_of(text_of(response)) if is_html(response) else ""
                if response.status_code != 400 or not is_html(response):
                    problems.append(f"{label}: {response.status_code}, expected a page with 400")
                elif language == "zh-hans" and not has_chinese(text):
                    problems.append(f"{label}: no Chinese message in {text[:200]!r}")
                elif language == "en" and not has_english(text):
                    problems.append(f"{label}: no English message in {text[:200]!r}")
        absurd = [("page", ABSURD_PAGE)]
        absurd += [(name, str(ABSURD_INTEGER)) for name, node in parameters.items() if node.get("type") == "integer"]
        for name, value in absurd:
            tried += 1
            response = client.get(route, {name: value})
            label = f"GET {route}?{name}={value} as {visit.who}"
            if response.status_code >= 500:
                problems.append(f"{label}: {response.status_code}")
            elif api and response.status_code >= 400 and not is_json(response):
                problems.append(f"{label}: {response.status_code} without JSON")
            elif api and name == "page" and "page" in parameters and response.status_code != 404:
                problems.append(f"{label}: {response.status_code}, expected 404 (no such page)")
    with capsys.disabled():
        print(f"\n[queries] {len(done)} routes, {tried} requests")
    assert len(done) > 50
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)


# --- what the schema cannot say ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("comment", "why"),
    [
        ({"item": "ZZ9", "text": "这一项不存在"}, "an item code no form has"),
        ({"item": "D1@x", "text": "行号不是数字"}, "a row that is not a number"),
        ({"item": "<i onclick=alert(1)>", "text": "代码是标记"}, "markup instead of a code"),
        ({"item": "D1", "text": "多余的键", "evil": "x"}, "a key the comment does not have"),
    ],
)
def test_a_review_comment_on_an_unknown_item_is_refused(world: World, comment: dict[str, str], why: str) -> None:
    cast = world.cast
    household = household_sign(household=_confirmed(cast), signer=cast.enumerator_a1, password=PASSWORD)
    client = Client()
    client.force_login(cast.supervisor_a)
    before = fingerprint()
    for language in ("zh-hans", "en"):
        response = send(
            client,
            "POST",
            f"/api/households/{household.pk}/transition/",
            {"action": "return", "comments": [comment]},
            language,
        )
        assert response.status_code == 400, f"{why}: {response.status_code} {response.content[:300]!r}"
        text = " ".join(messages_at(response.json(), ("comments",)))
        assert has_chinese(text) if language == "zh-hans" else has_english(text), text
    assert changed_tables(before, fingerprint()) == []
    ok = send(
        client,
        "POST",
        f"/api/households/{household.pk}/transition/",
        {"action": "return", "comments": [{"item": "D5@2", "text": "出生年月与身份证号不符"}]},
        "zh-hans",
    )
    assert ok.status_code == 200, ok.content


@pytest.mark.django_db
@pytest.mark.parametrize(
    "image",
    ["javascript:alert(1)", "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", "data:image/png;base64,@@@"],
)
def test_a_respondent_signature_that_is_not_a_png_is_refused(world: World, image: str) -> None:
    """The signature image is put into ``<img src>`` on the read-back: only a PNG drawn in the browser is kept."""
    cast = world.cast
    household = _draft(cast)
    client = Client()
    client.force_login(cast.enumerator_a1)
    before = fingerprint()
    response = send(
        client,
        "POST",
        f"/api/households/{household.pk}/confirm/",
        {"name": "李芳", "relationship": 1, "signature_image": image},
        "zh-hans",
    )
    assert response.status_code == 400
    assert has_chinese(" ".join(messages_at(response.json(), ("signature_image",))))
    assert changed_tables(before, fingerprint()) == []


@pytest.mark.django_db
def test_an_id_number_with_a_wrong_check_character_blocks_signing_with_the_persons_row(world: World) -> None:
    """Well-formed but wrong (a typo): saved with the draft, named at signing, in Chinese and English."""
    cast = world.cast
    household = _draft(cast)
    client = Client()
    client.force_login(cast.enumerator_a1)
    body = {"version": household.version, **_form_body(household)}
    number = body["persons"][1]["d3_id_number"]
    body["persons"][1]["d3_id_number"] = number[:-1] + ("0" if number[-1] != "0" else "1")
    saved = send(client, "PUT", f"/api/households/{household.pk}/", body, "zh-hans")
    assert saved.status_code == 200, saved.content
    issues = [i for i in saved.json()["issues"] if i.get("row") == 2 and "D3" in (i.get("item") or "")]
    assert issues and has_chinese(issues[0]["message_zh"]) and has_english(issues[0]["message_en"])


# --- every form on every page --------------------------------------------------------------------------

# Forms that store no data: the language switch (an unknown language is ignored, as Django's view does) and
# the sign-in forms (a failed attempt is recorded on purpose, for the lockout; test_authentication.py).
NOT_DATA_FORMS = {"set_language", "logout", "login", "admin:login"}


@pytest.mark.slow
@pytest.mark.django_db
def test_every_form_on_every_page_refuses_bad_values_and_saves_nothing(
    world: World,
    role_clients: dict[str, Client],
    settings,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Every ``<form method="post">`` the pages serve (found by the permission matrix's walk, as every role),
    posted with what the page filled in plus plausible values, and one input spoiled at a time — an unknown
    option, a number out of its bounds or not a number, an impossible date, text over its maxlength, a
    malformed ID number, a version that is not a number: no server error, nothing saved, and the page says
    what is wrong in Chinese (and in English for an English reader)."""
    settings.PRIVATE_MEDIA_ROOT = settings.MEDIA_ROOT = tmp_path
    plant(world, "王小明")
    found: dict[tuple[str, str, tuple[str, ...]], tuple[str, PageForm]] = {}
    for visit in walk(world.by_role(), role_clients, Client()):
        if visit.who == "anonymous" or visit.response.status_code != 200 or not is_html(visit.response):
            continue
        for form in post_forms(text_of(visit.response), visit.path):
            view = resolve_url_name(form.action)
            if view in NOT_DATA_FORMS:
                continue
            key = (visit.who, view, tuple(sorted(i.name for i in form.inputs)))
            found.setdefault(key, (visit.path, form))
    problems: list[str] = []
    tried = refused = 0
    for (who, view, _names), (page, form) in sorted(found.items()):
        client = role_clients[who]
        base = {i.name: v for i in form.inputs if (v := plausible(i, PASSWORD)) is not None}
        english_done = False
        for item in form.inputs:
            for spoiled in spoiled_inputs(item):
                languages = ("zh-hans",) if english_done else ("zh-hans", "en")
                english_done = True
                for language in languages:
                    label = (
                        f"{view} on {page} as {who}: {item.name}={spoiled.value[:20]!r} ({spoiled.kind}, {language})"
                    )
                    before = fingerprint()
                    response = client.post(
                        form.action, {**base, item.name: spoiled.value}, HTTP_ACCEPT_LANGUAGE=language
                    )
                    changed = changed_tables(before, fingerprint())
                    tried += 1
                    if response.status_code >= 500:
                        problems.append(f"{label}: {response.status_code}")
                        continue
                    if changed:
                        problems.append(f"{label}: saved ({response.status_code}), changed {changed}")
                        continue
                    shown = response
                    if response.status_code in (301, 302) and response["Location"].startswith("/"):
                        shown = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE=language)
                    text = error_messages_of(text_of(shown)) if is_html(shown) else text_of(shown)
                    if not text:
                        problems.append(f"{label}: refused ({response.status_code}) without a message")
                    elif language == "zh-hans" and not has_chinese(text):
                        problems.append(f"{label}: no Chinese in {text[:200]!r}")
                    elif language == "en" and not has_english(text):
                        problems.append(f"{label}: not English: {text[:200]!r}")
                    else:
                        refused += 1
    with capsys.disabled():
        print(f"\n[page forms] {len(found)} forms, {tried} spoiled posts, {refused} refused with a message")
        if os.environ.get("BAD_INPUT_VERBOSE"):
            for (who, view, names), (page, _form) in sorted(found.items()):
                print(f"  {view} ({page}, {who}): {', '.join(names)}")
    assert len(found) >= 20
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)


def resolve_route(path: str) -> str:
    from django.urls import resolve

    return resolve(path).route


def resolve_url_name(action: str) -> str:
    from django.urls import Resolver404, resolve

    try:
        return resolve(urlsplit(action).path).view_name
    except Resolver404:
        return action


# --- the autosave JSON of the form page -------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("value", [["王伟"], {"name": "王伟"}, True], ids=["list", "object", "boolean"])
@pytest.mark.parametrize(
    "where",
    [
        ("household", "h2_present"),
        ("household", "h1_kind"),
        ("persons", "d1_name"),
        ("persons", "d3_id_number"),
        ("persons", "c20_industry"),
        ("deaths", "name"),
    ],
)
def test_the_autosave_refuses_values_of_the_wrong_type(world: World, where: tuple[str, str], value: Any) -> None:
    """The form page's script sends JSON; a value of the wrong JSON type is refused, not stored as its text
    (a list as the name "['王伟']")."""
    cast = world.cast
    household = _draft(cast, deaths=True)
    client = Client()
    client.force_login(cast.enumerator_a1)
    form = _form_body(household, deaths=True)
    section, name = where
    if section == "household":
        form["household"][name] = value
    else:
        form[section][0][name] = value
    before = fingerprint()
    for language in ("zh-hans", "en"):
        response = client.post(
            reverse("enumeration:household-autosave", args=[household.pk]),
            json.dumps({"version": household.version, **form}),
            content_type="application/json",
            HTTP_ACCEPT_LANGUAGE=language,
        )
        assert response.status_code == 400, f"{where} = {value!r}: {response.status_code} {response.content[:300]!r}"
        errors = response.json().get("errors", [])
        text = " ".join(m for e in errors if name in e["key"] for m in e["messages"])
        assert has_chinese(text) if language == "zh-hans" else has_english(text), errors
    assert changed_tables(before, fingerprint()) == []


@pytest.mark.django_db
@pytest.mark.parametrize(("section", "limit"), [("persons", 200), ("deaths", 99)])
def test_the_autosave_refuses_more_rows_than_a_form_holds_before_reading_them(
    world: World, section: str, limit: int, capsys: pytest.CaptureFixture[str]
) -> None:
    """A form holds at most 200 persons (and a death register 99 rows: the API's limits). Ten thousand rows are
    refused by their number, before any row is read: each row here is also wrong, and reading them would say so
    ten thousand times (and take seconds of CPU: 13.5 s for the probe's request)."""
    import time

    cast = world.cast
    household = _draft(cast)
    client = quiet_client(cast.enumerator_a1)
    wrong = {"persons": {"d1_name": "王伟", "d5_birth_year": "abc"}, "deaths": {"name": "王老", "birth_year": "abc"}}
    body = json.dumps({"version": household.version, "household": {}, section: [wrong[section]] * 10_000})
    before = fingerprint()
    for language in ("zh-hans", "en"):
        started = time.process_time()
        response = client.post(
            reverse("enumeration:household-autosave", args=[household.pk]),
            body,
            content_type="application/json",
            HTTP_ACCEPT_LANGUAGE=language,
        )
        cpu = time.process_time() - started
        with capsys.disabled():
            print(f"\n[autosave] {section} × 10,000 ({language}): {response.status_code} in {cpu:.3f} s of CPU")
        assert response.status_code == 400, response.content[:300]
        errors = response.json()["errors"]
        assert [e["key"] for e in errors] == [section], [e["key"] for e in errors][:5]
        text = " ".join(errors[0]["messages"])
        assert str(limit) in text
        assert has_chinese(text) if language == "zh-hans" else has_english(text) and not has_chinese(text)
        assert cpu < 1.0
    assert changed_tables(before, fingerprint()) == []
