"""The machinery of the permission matrix: discover every URL and API operation, fill their arguments with
real objects inside and outside each user's scope, and say what each user must get.

Which objects lie inside a user's scope is the policy's answer (tests/security/policy.py), stated from the
world's structure: asking the model's own ``visible_to`` would let a too-wide ``visible_to`` agree with itself.

Nothing here lists pages by hand. URLs come from ``get_resolver()``, API operations from drf-spectacular's
schema generator, expectations from the access declarations of ``census.permissions`` (``allowed_roles``,
``public``, ``HasRole``, ``url_objects``). A page added tomorrow is checked tomorrow — or fails, telling its
author what to declare.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import connection, models
from django.http import HttpResponse
from django.shortcuts import resolve_url
from django.test import Client
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import RegexPattern, RoutePattern

from census.permissions import Access, access_of
from tests.security.policy import must_see

UNSAFE_METHODS = ("post", "put", "patch", "delete")
HOW_TO_DECLARE = (
    "Declare who may use it (docs/DEVELOPING.md, 'Access declarations'): decorate the view with "
    "@role_required(Role.…), @any_role or @public from census.permissions; a DRF view sets "
    "permission_classes = [IsAuthenticated, HasRole.of(Role.…)] (or AnyRole, or [AllowAny] for a public one)."
)
HOW_TO_DECLARE_OBJECTS = (
    "Declare what its URL arguments look up with @url_objects(pk=Model) from census.permissions "
    "(or url_objects = {{...}} on a DRF view, or a list of literal values for arguments that are not objects)."
)
# Values tried for arguments of the Django admin's own URLs, which every non-staff user is refused anyway.
FALLBACK_VALUES = ("1", "census", "x")


# --- discovery -------------------------------------------------------------------------------------------


@dataclass
class Endpoint:
    route: str  # the pattern as written, e.g. "frame/small-areas/<int:pk>/"
    name: str | None  # "frame:small-area"
    namespaces: tuple[str, ...]
    callback: Callable[..., Any]
    chain: list[Any]  # the pattern objects from the root to this URL
    params: list[str]

    @property
    def label(self) -> str:
        return f"{self.name or '(unnamed)'} /{self.route}"

    @property
    def view_class(self) -> type | None:
        return getattr(self.callback, "cls", None)

    @property
    def is_api(self) -> bool:
        return self.view_class is not None

    @property
    def view_path(self) -> str:
        target = self.view_class or getattr(self.callback, "view_class", None) or self.callback
        return f"{getattr(target, '__module__', '?')}.{getattr(target, '__qualname__', repr(target))}"

    @property
    def access(self) -> Access | None:
        return access_of(self.callback, self.namespaces)

    @property
    def template(self) -> str:
        """The path with every argument as ``{}``: how an OpenAPI path is matched to its URL pattern."""
        return build_path(self.chain, dict.fromkeys(self.params, "{}"))

    def path(self, values: dict[str, str]) -> str:
        return build_path(self.chain, values)


def url_endpoints() -> list[Endpoint]:
    found: list[Endpoint] = []

    def walk(patterns: list[Any], chain: list[Any], namespaces: tuple[str, ...]) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                inner = (*namespaces, entry.namespace) if entry.namespace else namespaces
                walk(entry.url_patterns, [*chain, entry.pattern], inner)
            elif isinstance(entry, URLPattern):
                full = [*chain, entry.pattern]
                params: list[str] = []
                for pattern in full:
                    params.extend(_params_of(pattern))
                found.append(
                    Endpoint(
                        route="".join(str(p) for p in full),
                        name=":".join([*namespaces, entry.name]) if entry.name else None,
                        namespaces=namespaces,
                        callback=entry.callback,
                        chain=full,
                        params=params,
                    )
                )

    walk(get_resolver().url_patterns, [], ())
    return found


def _params_of(pattern: Any) -> list[str]:
    if isinstance(pattern, RoutePattern):
        return list(pattern.converters)
    if isinstance(pattern, RegexPattern):
        return list(pattern.regex.groupindex)
    return []


_ROUTE_PARAM = re.compile(r"<(?:[^>:]+:)?([^>]+)>")


def _fill_regex(regex: str, values: dict[str, str]) -> str:
    regex = regex.removeprefix("^").removesuffix("$").removesuffix("\\Z")
    out, i = [], 0
    while i < len(regex):
        if regex.startswith("(?P<", i):
            end = regex.index(">", i)
            name = regex[i + 4 : end]
            depth, j = 1, end + 1
            while depth:
                if regex[j] == "\\":
                    j += 2
                    continue
                depth += {"(": 1, ")": -1}.get(regex[j], 0)
                j += 1
            out.append(values[name])
            i = j
        elif regex[i] == "\\" and i + 1 < len(regex):
            out.append(regex[i + 1])
            i += 2
        else:
            out.append(regex[i])
            i += 1
    return "".join(out)


def build_path(chain: list[Any], values: dict[str, str]) -> str:
    parts = []
    for pattern in chain:
        if isinstance(pattern, RegexPattern):
            parts.append(_fill_regex(pattern._regex, values))
        else:
            parts.append(_ROUTE_PARAM.sub(lambda m: values[m.group(1)], str(pattern)))
    return "/" + "".join(parts)


def resolves_to(path: str, endpoint: Endpoint) -> bool:
    try:
        match = resolve(path)
    except Resolver404:
        return False
    return match.func == endpoint.callback


def api_operations() -> dict[str, list[str]]:
    """Every path of the OpenAPI schema (as served at /api/schema/) with its documented methods."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {
        path: sorted(m for m in operations if m in ("get", *UNSAFE_METHODS))
        for path, operations in schema.get("paths", {}).items()
    }


def schema_template(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


# --- URL arguments -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ObjectParam:
    model: type[models.Model]
    field: str


@dataclass(frozen=True)
class LiteralParam:
    values: tuple[str, ...]


def declared_params(endpoint: Endpoint) -> tuple[dict[str, ObjectParam | LiteralParam], list[str]]:
    """What each URL argument is, and the arguments nobody declared."""
    declared: dict[str, Any] = dict(getattr(endpoint.callback, "url_objects", None) or {})
    view_class = endpoint.view_class
    if view_class is not None:
        declared = {**_drf_inferred(view_class, endpoint.params), **getattr(view_class, "url_objects", {}), **declared}
    out: dict[str, ObjectParam | LiteralParam] = {}
    for name, spec in declared.items():
        if isinstance(spec, list | tuple) and spec and isinstance(spec[0], type):
            out[name] = ObjectParam(spec[0], spec[1])
        elif isinstance(spec, list | tuple):
            out[name] = LiteralParam(tuple(str(v) for v in spec))
        else:
            out[name] = ObjectParam(spec, name)
    missing = [p for p in endpoint.params if p not in out]
    return out, missing


def _drf_inferred(view_class: type, params: list[str]) -> dict[str, Any]:
    """A DRF generic view says what it looks up: its queryset's (or serializer's) model and lookup field."""
    lookup_field = getattr(view_class, "lookup_field", None)
    kwarg = getattr(view_class, "lookup_url_kwarg", None) or lookup_field
    if not kwarg or kwarg not in params:
        return {}
    model = None
    queryset = getattr(view_class, "queryset", None)
    if queryset is not None:
        model = queryset.model
    else:
        serializer = getattr(view_class, "serializer_class", None)
        model = getattr(getattr(serializer, "Meta", None), "model", None)
    return {kwarg: (model, lookup_field)} if model is not None else {}


def fallback_values(endpoint: Endpoint) -> dict[str, str] | None:
    """Values for arguments that need no real object (the admin's): the first that resolve to the view."""
    for value in FALLBACK_VALUES:
        values = dict.fromkeys(endpoint.params, value)
        if resolves_to(endpoint.path(values), endpoint):
            return values
    return None


def scoped(model: type[models.Model], user: Any) -> models.QuerySet[Any]:
    manager = model._default_manager
    if not hasattr(manager, "visible_to"):
        raise AssertionError(f"{model._meta.label} has no visible_to(); a URL may only look up scoped models")
    return manager.visible_to(user)  # type: ignore[no-any-return]


def object_inside(param: ObjectParam, user: Any) -> models.Model | None:
    """An object the policy (tests/security/policy.py, not the model's own ``visible_to``) says the user sees."""
    return param.model._default_manager.filter(pk__in=must_see(param.model, user)).order_by("pk").first()


def object_outside(param: ObjectParam, user: Any) -> models.Model | None:
    """An object the policy says the user must not see: asked for by id, it must be 404."""
    return param.model._default_manager.exclude(pk__in=must_see(param.model, user)).order_by("pk").first()


def any_object(param: ObjectParam) -> models.Model | None:
    return param.model._default_manager.order_by("pk").first()


def value_of(obj: models.Model, param: ObjectParam) -> str:
    return str(getattr(obj, "pk" if param.field == "pk" else param.field))


# --- the database must not change ---------------------------------------------------------------------

# Any request may renew its session (idle timeout) and the audit log may record refusals; neither is data.
NOT_DATA = {"django_session", "census_auditevent"}


def fingerprint() -> dict[str, str]:
    models_tables = {
        m._meta.db_table
        for m in apps.get_models(include_auto_created=True)
        if m._meta.managed and not m._meta.proxy and not m._meta.swapped
    }
    # Only tables that exist: a model whose migration is still being written has none yet.
    tables = sorted((models_tables & set(connection.introspection.table_names())) - NOT_DATA)
    selects = [
        f"SELECT %s, md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM {connection.ops.quote_name(t)} t"
        for t in tables
    ]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(selects), tables)
        return dict(cursor.fetchall())


def changed_tables(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(t for t in before if before[t] != after.get(t))


# --- what a served page may contain -------------------------------------------------------------------


class _InlineFinder(HTMLParser):
    DATA_TYPES = {"application/json", "application/ld+json", "text/template"}

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self._in_inline_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        inline = tag == "script" and not attributes.get("src")
        if inline and (attributes.get("type") or "").lower() not in self.DATA_TYPES:
            self.problems.append("an inline <script> without src")
        if tag == "style":
            self.problems.append("an inline <style> element")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"an inline event handler {name}= on <{tag}>")
            if name == "style":
                self.problems.append(f'a style="{value}" attribute on <{tag}>')
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith("javascript:"):
                self.problems.append(f"a javascript: URL on <{tag}>")


def html_problems(response: HttpResponse) -> list[str]:
    """CSP problems of an HTML response: a missing header, or inline code the policy would block."""
    if not response.get("Content-Type", "").startswith("text/html") or getattr(response, "streaming", False):
        return []
    problems = []
    if "Content-Security-Policy" not in response:
        problems.append("no Content-Security-Policy header")
    finder = _InlineFinder()
    finder.feed(response.content.decode(response.charset or "utf-8", errors="replace"))
    problems.extend(sorted(set(finder.problems)))
    return problems


# --- the checks --------------------------------------------------------------------------------------


@dataclass
class Outcome:
    problems: list[str] = field(default_factory=list)
    requests: int = 0
    html_pages: int = 0

    def expect(self, ok: bool, message: str) -> None:
        if not ok:
            self.problems.append(message)


def login_url() -> str:
    return resolve_url(settings.LOGIN_URL)


def is_login_redirect(response: HttpResponse) -> bool:
    return response.status_code == 302 and response["Location"].startswith(login_url())


class Matrix:
    """Runs the requests of one endpoint as every user and collects what went wrong."""

    def __init__(self, users: dict[str, Any], clients: dict[str, Client], anonymous: Client) -> None:
        self.users = users
        self.clients = clients
        self.anonymous = anonymous
        self.outcome = Outcome()

    def request(self, who: str, method: str, path: str) -> HttpResponse:
        client = self.anonymous if who == "anonymous" else self.clients[who]
        kwargs: dict[str, Any] = {}
        if method in UNSAFE_METHODS:
            kwargs = {"data": "{}", "content_type": "application/json"} if method != "post" else {"data": {}}
        response = getattr(client, method)(path, **kwargs)
        self.outcome.requests += 1
        problems = html_problems(response)
        if response.get("Content-Type", "").startswith("text/html"):
            self.outcome.html_pages += 1
        for problem in problems:
            self.outcome.problems.append(f"{method.upper()} {path} as {who} ({response.status_code}): {problem}")
        return response

    def run(self, endpoint: Endpoint, methods: tuple[str, ...] = ("get", *UNSAFE_METHODS)) -> Outcome:
        access = endpoint.access
        if access is None:
            self.outcome.problems.append(
                f"{endpoint.label} ({endpoint.view_path}) declares no access. {HOW_TO_DECLARE}"
            )
            return self.outcome
        if access.kind == "admin":
            self._admin(endpoint, methods)
            return self.outcome
        params, missing = declared_params(endpoint)
        if missing:
            self.outcome.problems.append(
                f"{endpoint.label} ({endpoint.view_path}) takes {', '.join(f'<{m}>' for m in missing)} but does "
                f"not say what it is. {HOW_TO_DECLARE_OBJECTS}"
            )
            return self.outcome
        if access.kind == "public":
            self._public(endpoint, params, methods)
        else:
            self._roles(endpoint, access, params, methods)
        return self.outcome

    # Values for one user: objects they can see, or when they can see none (a refused role), any object.
    def _values(self, params: dict[str, ObjectParam | LiteralParam], user: Any | None) -> dict[str, str] | None:
        values = {}
        for name, param in params.items():
            if isinstance(param, LiteralParam):
                values[name] = param.values[0]
                continue
            obj = (object_inside(param, user) if user is not None else None) or any_object(param)
            if obj is None:
                return None
            values[name] = value_of(obj, param)
        return values

    def _public(self, endpoint: Endpoint, params: dict[str, Any], methods: tuple[str, ...]) -> None:
        values = self._values(params, None)
        if values is None:
            self.outcome.problems.append(
                f"{endpoint.label}: no objects to fill its arguments (tests/security/samples.py)"
            )
            return
        path = endpoint.path(values)
        # Pages are read; a public API operation that reads nothing (the token endpoint: POST only) is sent what
        # it documents, empty.
        for method in ["get"] if "get" in methods else list(methods):
            for who in ("anonymous", *self.users):
                response = self.request(who, method, path)
                self.outcome.expect(
                    response.status_code not in (403, 500),
                    f"{method.upper()} {path} (public) as {who}: {response.status_code}, expected no 403/500",
                )

    def _admin(self, endpoint: Endpoint, methods: tuple[str, ...]) -> None:
        values = fallback_values(endpoint) if endpoint.params else {}
        if values is None:
            self.outcome.problems.append(f"{endpoint.label}: found no argument values that resolve to the view")
            return
        path = endpoint.path(values)
        before = fingerprint()
        for who in ("anonymous", *self.users):
            for method in [m for m in methods if m in ("get", "post")]:
                response = self.request(who, method, path)
                self.outcome.expect(
                    response.status_code in (301, 302),
                    f"{method.upper()} {path} (Django admin, staff only) as {who}: {response.status_code}, "
                    "expected a redirect to the admin login",
                )
        changed = changed_tables(before, fingerprint())
        self.outcome.expect(not changed, f"requests refused by the admin changed {changed}")

    def _roles(self, endpoint: Endpoint, access: Access, params: dict[str, Any], methods: tuple[str, ...]) -> None:
        allowed = {who: u for who, u in self.users.items() if access.allows(u)}
        refused = {who: u for who, u in self.users.items() if not access.allows(u)}
        object_params = {n: p for n, p in params.items() if isinstance(p, ObjectParam)}
        label = f"allowed: {', '.join(sorted(access.roles))}"

        # Allowed roles read: never 403, never a crash.
        get_not_allowed = False
        saw_inside = not object_params or any(
            all(object_inside(p, user) is not None for p in object_params.values()) for user in allowed.values()
        )
        if "get" in methods:
            for who, user in allowed.items():
                values = self._values(params, user)
                if values is None:
                    continue
                path = endpoint.path(values)
                response = self.request(who, "get", path)
                get_not_allowed = get_not_allowed or response.status_code == 405
                self.outcome.expect(
                    response.status_code not in (403, 500),
                    f"GET {path} as {who} ({label}): {response.status_code}, expected no 403/500",
                )
        self.outcome.expect(
            saw_inside or not allowed,
            f"{endpoint.label}: no allowed role can see any "
            f"{', '.join(p.model._meta.label for p in object_params.values())}; add objects inside their scope "
            "in tests/security/samples.py so the page is really opened",
        )

        before = fingerprint()
        # Refused roles and anonymous visitors: 403 / the login page, whatever the method.
        for who, user in [*refused.items(), ("anonymous", None)]:
            values = self._values(params, user)
            if values is None:
                self.outcome.problems.append(f"{endpoint.label}: no objects to fill its arguments")
                return
            path = endpoint.path(values)
            for method in methods:
                response = self.request(who, method, path)
                status = response.status_code
                if who == "anonymous":
                    if endpoint.is_api:
                        ok = status in (401, 403)
                        expected = "401/403"
                    else:
                        ok = is_login_redirect(response) or (status == 405 and (method != "get" or get_not_allowed))
                        expected = "a redirect to the login page"
                elif method == "get":
                    ok = status == 403 or (status == 405 and get_not_allowed and not endpoint.is_api)
                    expected = "403"
                else:
                    ok = status in (403, 404, 405)
                    expected = "403/404/405"
                self.outcome.expect(ok, f"{method.upper()} {path} as {who} ({label}): {status}, expected {expected}")

        # Allowed roles, objects outside their scope: 404 for every method.
        outside_tested = not object_params
        for who, user in allowed.items():
            inside = self._values(params, user)
            if inside is None:
                continue
            for name, param in object_params.items():
                obj = object_outside(param, user)
                if obj is None:
                    continue
                outside_tested = True
                path = endpoint.path({**inside, name: value_of(obj, param)})
                for method in methods:
                    response = self.request(who, method, path)
                    ok = response.status_code == 404 or (
                        response.status_code == 405 and (method != "get" or get_not_allowed)
                    )
                    self.outcome.expect(
                        ok,
                        f"{method.upper()} {path} as {who}: {response.status_code}, expected 404 — "
                        f"{param.model._meta.label} {value_of(obj, param)} lies outside their scope",
                    )
        self.outcome.expect(
            outside_tested,
            f"{endpoint.label}: no allowed role has a "
            f"{', '.join(p.model._meta.label for p in object_params.values())} outside its scope to ask for; "
            "add one in tests/security/samples.py",
        )
        changed = changed_tables(before, fingerprint())
        self.outcome.expect(not changed, f"refused or out-of-scope requests to {endpoint.label} changed {changed}")
