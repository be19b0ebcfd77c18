"""The permission matrix: every URL of the URL conf and every operation of the OpenAPI schema, as every role
and as an anonymous visitor, against what each view declares (census.permissions).

* anonymous → the login page (HTML) or 401/403 (API); a role the view does not name → 403;
* an allowed role reading → never 403 or a crash; an object outside its scope → 404, for every method;
* unsafe methods by anyone refused → 403/404/405, and the database does not change;
* every HTML page served carries the Content-Security-Policy header and no inline script or style.

A view that declares nothing fails here with a message saying what to add.
"""

from __future__ import annotations

import pytest
from django.test import Client, override_settings
from django.urls import clear_url_caches, reverse

from census.models import Role
from tests.security.conftest import World
from tests.security.matrix import (
    HOW_TO_DECLARE,
    HOW_TO_DECLARE_OBJECTS,
    Endpoint,
    Matrix,
    ObjectParam,
    api_operations,
    declared_params,
    object_inside,
    object_outside,
    schema_template,
    url_endpoints,
    value_of,
)

ENDPOINTS = url_endpoints()
OPERATIONS = api_operations()
SCHEMA_TEMPLATES = {schema_template(path): path for path in OPERATIONS}
# API views in the schema are walked per documented operation; everything else per URL pattern.
URL_TARGETS = [e for e in ENDPOINTS if not (e.is_api and e.template in SCHEMA_TEMPLATES)]


def _looks_up_objects(endpoint: Endpoint) -> bool:
    params, missing = declared_params(endpoint)
    return bool(missing) or any(isinstance(p, ObjectParam) for p in params.values())


DETAIL_ENDPOINTS = [
    e for e in ENDPOINTS if e.params and (e.access is None or e.access.kind == "roles") and _looks_up_objects(e)
]


def _id(endpoint: Endpoint) -> str:
    return endpoint.name or endpoint.route


def endpoint_for(path: str) -> Endpoint:
    matches = [e for e in ENDPOINTS if e.template == schema_template(path)]
    assert matches, f"the schema's {path} matches no URL pattern"
    return matches[0]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=_id)
def test_every_view_declares_who_may_use_it(endpoint: Endpoint) -> None:
    assert endpoint.access is not None, f"{endpoint.label} ({endpoint.view_path}) declares no access. {HOW_TO_DECLARE}"


@pytest.mark.parametrize("endpoint", DETAIL_ENDPOINTS, ids=_id)
def test_every_url_argument_says_what_it_looks_up(endpoint: Endpoint) -> None:
    _params, missing = declared_params(endpoint)
    assert not missing, f"{endpoint.label} ({endpoint.view_path}) takes {missing}. {HOW_TO_DECLARE_OBJECTS}"


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", URL_TARGETS, ids=_id)
def test_every_url_as_every_role(endpoint: Endpoint, world: World, role_clients: dict[str, Client]) -> None:
    outcome = Matrix(world.by_role(), role_clients, Client()).run(endpoint)
    assert not outcome.problems, "\n".join(outcome.problems)
    assert outcome.requests > 0


@pytest.mark.django_db
@pytest.mark.parametrize("path", sorted(OPERATIONS))
def test_every_api_operation_as_every_role(path: str, world: World, role_clients: dict[str, Client]) -> None:
    outcome = Matrix(world.by_role(), role_clients, Client()).run(endpoint_for(path), tuple(OPERATIONS[path]))
    assert not outcome.problems, "\n".join(outcome.problems)
    assert outcome.requests > 0


@pytest.mark.django_db
@pytest.mark.parametrize("endpoint", DETAIL_ENDPOINTS, ids=_id)
def test_an_object_outside_your_scope_is_404(endpoint: Endpoint, world: World, role_clients: dict[str, Client]) -> None:
    """Asking by id for an object outside one's scope gives 404, never the object and never 403."""
    params, missing = declared_params(endpoint)
    assert endpoint.access is not None and not missing, "declare access and URL objects first (see the tests above)"
    objects = {n: p for n, p in params.items() if isinstance(p, ObjectParam)}
    asked = 0
    for role, user in world.by_role().items():
        if not endpoint.access.allows(user):
            continue
        inside = {n: value_of(o, p) for n, p in objects.items() if (o := object_inside(p, user)) is not None}
        if len(inside) != len(objects):
            continue
        for name, param in objects.items():
            other = object_outside(param, user)
            if other is None:
                continue
            path = endpoint.path({**inside, name: value_of(other, param)})
            status = role_clients[role].get(path).status_code
            asked += 1
            if status == 405:  # a POST-only URL; the matrix test asks it with POST
                status = role_clients[role].post(path).status_code
            assert status == 404, f"{path} as {role}: {status}, but {param.model._meta.label} {other.pk} is outside"
    assert asked, f"{endpoint.label}: no role had an object outside its scope to ask for (tests/security/samples.py)"


@pytest.mark.django_db
def test_the_walk_sees_the_pages_and_the_api(world: World, role_clients: dict[str, Client]) -> None:
    names = {e.name for e in ENDPOINTS}
    assert {"home", "login", "frame:small-area", "jobs:retry", "api-small-area-detail", "admin:index"} <= names
    assert "/api/frame/small-areas/{id}/" in OPERATIONS
    # The schema walked is the one served at /api/schema/.
    response = role_clients[Role.DISTRICT_OFFICE].get(reverse("schema") + "?format=json")
    assert response.status_code == 200
    assert set(response.json()["paths"]) == set(OPERATIONS)


# --- the matrix can fail: a URL conf with the mistakes it must catch ----------------------------------


@pytest.mark.django_db
@override_settings(ROOT_URLCONF="tests.security.broken_urls")
def test_the_matrix_catches_undeclared_lying_and_leaking_views(world: World, role_clients: dict[str, Client]) -> None:
    clear_url_caches()
    try:
        endpoints = {e.name: e for e in url_endpoints()}
        problems = {
            name: Matrix(world.by_role(), role_clients, Client()).run(endpoint).problems
            for name, endpoint in endpoints.items()
        }
    finally:
        clear_url_caches()
    assert any("declares no access" in p for p in problems["undeclared"])
    assert any("as enumerator" in p and "expected 403" in p for p in problems["lying"])
    assert any("expected 404" in p for p in problems["leaking"])
    assert any("inline <script>" in p for p in problems["inline-script"])
    assert any("does not say what it is" in p for p in problems["unexplained-argument"])
    assert any("changed" in p for p in problems["writes-for-anyone"])
    assert problems["correct"] == []
