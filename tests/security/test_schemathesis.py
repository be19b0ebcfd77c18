"""schemathesis against the OpenAPI schema the application serves: every operation, data that fits the
schema and data that does not, as an enumerator (API token) and as the district office (session cookie and
CSRF token), and no answer is a server error.

* the schema is fetched from ``/api/schema/`` through the Django application itself (WSGI, in process), so
  the operations fuzzed are the ones served; the list of test cases comes from drf-spectacular's generator
  at collection time (the same list the permission matrix walks);
* requests go through Django's test request handler wrapped as a WSGI application: same thread, same
  database connection, so every row the fuzzing writes is rolled back with the test's transaction (the
  signing-password counters in Redis are cleared before every test by tests/conftest.py);
* path arguments are real objects inside the callers' scope half of the time (a household with a form, a
  village), generated values otherwise;
* bounded: ``SCHEMATHESIS_EXAMPLES`` examples per operation and generation mode (default 12, each sent as both
  users), derandomised so that CI runs the same cases every time — set ``SCHEMATHESIS_EXAMPLES=200`` and
  ``SCHEMATHESIS_RANDOM=1`` to search further by hand.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import Any

import pytest
import schemathesis
import werkzeug
from django.middleware.csrf import _get_new_csrf_string  # type: ignore[attr-defined]
from django.test import Client
from django.test.client import ClientHandler
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from enumeration.models import Household
from enumeration.services import household_list, household_save
from tests.conftest import Cast
from tests.enumeration.factories import family_form
from tests.security.conftest import World
from tests.security.matrix import (
    ObjectParam,
    api_operations,
    declared_params,
    schema_template,
    scoped,
    url_endpoints,
    value_of,
)

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "12"))
RANDOM = os.environ.get("SCHEMATHESIS_RANDOM", "") == "1"
OPERATIONS = [(method.upper(), path) for path, methods in sorted(api_operations().items()) for method in methods]


class InProcessApp:
    """Django's test request handler as a WSGI application: requests run in this thread, on this test's database
    connection (so its transaction rolls everything back), with CSRF checks enforced as in production."""

    def __init__(self) -> None:
        self.handler = ClientHandler(enforce_csrf_checks=True)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        response = self.handler(environ)
        headers = list(response.items())
        headers += [("Set-Cookie", morsel.OutputString()) for morsel in response.cookies.values()]
        start_response(f"{response.status_code} {response.reason_phrase}", headers)
        if getattr(response, "streaming", False):
            return (bytes(chunk) for chunk in response.streaming_content)
        return [response.content]


def real_arguments(path: str, user: Any) -> dict[str, Any]:
    """Objects inside ``user``'s scope for the path's arguments, as the permission matrix finds them (the
    URL's declaration and tests/security/samples.py); empty when the user can see none."""
    endpoint = next(e for e in url_endpoints() if e.template == schema_template(path))
    params, _missing = declared_params(endpoint)
    names = re.findall(r"\{([^}]+)\}", path)
    values: dict[str, Any] = {}
    for name, param in zip(names, params.values(), strict=False):
        if isinstance(param, ObjectParam):
            obj = scoped(param.model, user).order_by("-pk").first()  # the newest: the household with a form
            if obj is None:
                return {}
            values[name] = value_of(obj, param)
        else:
            values[name] = param.values[0]
    return values


def _household_with_a_form(cast: Cast) -> Household:
    household = household_list(small_area=cast.area_a1, actor=cast.enumerator_a1, head_name="王伟", expected_persons=3)
    data, persons = family_form()
    return household_save(
        household=household,
        actor=cast.enumerator_a1,
        expected_version=household.version,
        data=data,
        persons=persons,
    )


@pytest.mark.slow
@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_no_operation_answers_with_a_server_error(method: str, path: str, world: World) -> None:
    cast = world.cast
    app = InProcessApp()
    token = Token.objects.create(user=cast.enumerator_a1)
    enumerator = {"headers": {"Authorization": f"Token {token.key}"}}
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(cast.district_office)
    csrf = _get_new_csrf_string()
    office = {
        "cookies": {"sessionid": browser.cookies["sessionid"].value, "csrftoken": csrf},
        "headers": {"X-CSRFToken": csrf},
    }
    # The office's session is a real one, CSRF and all: a write gets past the CSRF check (and a forged one not).
    household = _household_with_a_form(cast)  # a form with persons, for the household operations to read and change
    transition = f"/api/households/{household.pk}/transition/"
    web = werkzeug.Client(app)
    for name, value in office["cookies"].items():
        web.set_cookie(name, value)
    answer = web.post(transition, json={"action": "lock"}, headers=office["headers"])
    assert answer.status_code == 409, answer.get_data(as_text=True)
    forged = web.post(transition, json={"action": "lock"}, headers={"X-CSRFToken": _get_new_csrf_string()})
    assert forged.status_code == 403 and "CSRF" in forged.get_data(as_text=True)

    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", app, **enumerator)
    operation = schema[path][method]
    real = [inside for user in (cast.enumerator_a1, cast.district_office) if (inside := real_arguments(path, user))]
    strategies = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        strategies.append(operation.as_strategy(generation_mode=mode))
        strategies += [operation.as_strategy(generation_mode=mode, path_parameters=fixed) for fixed in real]
    statuses: dict[int, int] = {}

    @settings(
        max_examples=EXAMPLES * len(strategies),
        deadline=None,
        derandomize=not RANDOM,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=(Phase.explicit, Phase.generate, Phase.shrink),
    )
    @given(case=st.one_of(strategies))
    def run(case: Any) -> None:
        for who, auth in (("enumerator", enumerator), ("district office", office)):
            response = case.call(app=app, headers=auth.get("headers"), cookies=auth.get("cookies"))
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            assert response.status_code < 500, f"as {who}: {response.status_code}\n{response.text[:2000]}"
            case.validate_response(response, checks=[not_a_server_error], transport_kwargs={"app": app})

    run()
    assert sum(statuses.values()) >= 2, "no case was sent"
    # Not everything was refused at the door: some cases got past authentication and the role check.
    assert set(statuses) - {401, 403}, statuses
