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

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django import forms
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import translation

from census.limits import JSONParser as LimitedJSONParser
from census.limits import LimitedReader, PayloadTooLarge, too_large_message
from enumeration.models import Household
from tests.conftest import Cast
from tests.security.bad_input import (
    error_text,
    has_chinese,
    has_english,
    keyword_arguments,
    project_forms,
    spoiled_values,
)
from tests.security.matrix import changed_tables, fingerprint

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
@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=LIMIT)
def test_an_upload_larger_than_the_body_limit_still_reaches_its_page(cast: Cast, tmp_path: Path, settings) -> None:  # type: ignore[no-untyped-def]
    """Files are limited by the pages that take them (evidence: ORGANISATION_EVIDENCE_MAX_BYTES), not by the
    limit on form fields: the middleware lets multipart bodies through."""
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
