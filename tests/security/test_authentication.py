"""Signing in: Argon2, password rules in Chinese, lockout after repeated failures (django-axes) with the
audit log, idle sessions ending, CSRF on every form and API call, secure cookies and HSTS outside DEBUG, and a
clean ``check --deploy``."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone, translation
from rest_framework.test import APIClient

from census.models import AuditAction, AuditEvent, Role, StaffMember
from census.sessions import TOUCHED_KEY
from tests.census.factories import PASSWORD, StaffMemberFactory
from tests.conftest import Cast
from tests.security.conftest import World
from tests.security.matrix import UNSAFE_METHODS, changed_tables, declared_params, fallback_values, fingerprint
from tests.security.matrix import url_endpoints as _url_endpoints

ROOT = Path(__file__).resolve().parents[2]
CJK = re.compile(r"[\u4e00-\u9fff]")


def production_env(**overrides: str) -> dict[str, str]:
    """The environment of a production server: production settings, no DEBUG, a real secret key."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SECURE_", "DJANGO_"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "census.settings",
            "DEBUG": "False",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "census.xuzhou.example.cn",
        }
    )
    env.pop("SECURE_COOKIES", None)
    env.update(overrides)
    return env


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)


# --- production settings ---------------------------------------------------------------------------------

SETTINGS_PROBE = """
import django, json
django.setup()
from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher, get_hasher, make_password
print(json.dumps({
    "hasher": settings.PASSWORD_HASHERS[0],
    "argon2": isinstance(get_hasher(), Argon2PasswordHasher),
    "hash": make_password("census-2020-password"),
    "session_secure": settings.SESSION_COOKIE_SECURE,
    "csrf_secure": settings.CSRF_COOKIE_SECURE,
    "session_httponly": settings.SESSION_COOKIE_HTTPONLY,
    "hsts": settings.SECURE_HSTS_SECONDS,
    "hsts_subdomains": settings.SECURE_HSTS_INCLUDE_SUBDOMAINS,
    "session_age": settings.SESSION_COOKIE_AGE,
    "touch_interval": settings.SESSION_TOUCH_INTERVAL,
    "touch_middleware": "census.sessions.SessionTouchMiddleware" in settings.MIDDLEWARE,
    "csp": settings.CONTENT_SECURITY_POLICY["DIRECTIVES"],
}))
"""


def test_production_settings_hash_with_argon2_and_send_secure_cookies_and_hsts() -> None:
    result = run_python(SETTINGS_PROBE, production_env())
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert probe["argon2"], f"the first password hasher is {probe['hasher']}, not Argon2"
    assert probe["hash"].startswith("argon2$argon2id$")
    assert probe["session_secure"] and probe["csrf_secure"] and probe["session_httponly"]
    assert probe["hsts"] >= 31536000 and probe["hsts_subdomains"]
    assert probe["session_age"] == 30 * 60 and probe["touch_middleware"] and 0 < probe["touch_interval"] <= 60


def test_a_development_machine_over_plain_http_gets_no_secure_only_cookies() -> None:
    result = run_python(SETTINGS_PROBE, production_env(DEBUG="True"))
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert not probe["session_secure"] and not probe["csrf_secure"] and probe["hsts"] == 0
    assert probe["argon2"] and probe["hash"].startswith("argon2$argon2id$")


@pytest.mark.slow
def test_check_deploy_is_clean_with_production_settings() -> None:
    env = production_env(SECURE_SSL_REDIRECT="True")
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)" in result.stdout


@pytest.mark.django_db
def test_https_responses_carry_hsts(client: Client) -> None:
    response = client.get(reverse("login"), secure=True)
    assert response["Strict-Transport-Security"].startswith(f"max-age={settings.SECURE_HSTS_SECONDS}")
    assert "includeSubDomains" in response["Strict-Transport-Security"]


# --- password rules --------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("12345678", ["密码太短", "密码只包含数字"]),
        ("password", ["密码太短", "太常见"]),
        ("13812345678", ["电话 太相似", "密码只包含数字"]),
        ("wangwei2020", ["用户名 太相似"]),
    ],
)
def test_weak_passwords_are_refused_with_messages_in_chinese(password: str, expected: list[str]) -> None:
    user = StaffMember(username="wangwei", phone="13812345678", credential_no="XZ2020-0001", last_name="王")
    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        validate_password(password, user)
    messages = refused.value.messages
    assert all(CJK.search(m) for m in messages), messages
    for fragment in expected:
        assert any(fragment in m for m in messages), (fragment, messages)


@pytest.mark.django_db
def test_a_good_password_passes_and_the_rules_also_speak_english() -> None:
    user = StaffMember(username="wangwei", phone="13812345678")
    validate_password("叙州区人口普查-2020-秋", user)
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        validate_password("short1", user)
    assert "at least 10 characters" in " ".join(refused.value.messages)


# --- lockout ---------------------------------------------------------------------------------------------


def _login(client: Client, username: str, password: str, ip: str = "10.1.1.1"):  # type: ignore[no-untyped-def]
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip)


@pytest.mark.django_db
def test_five_wrong_passwords_lock_that_username_from_that_address_for_30_minutes(cast: Cast) -> None:
    client = Client()
    user = cast.enumerator_a1
    for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
        response = _login(client, user.username, "wrong-password")
        assert response.status_code == 200 and "_auth_user_id" not in client.session
    response = _login(client, user.username, "wrong-password")
    assert response.status_code == 429
    body = response.content.decode()
    assert "登录已锁定" in body and "密码连续输错 5 次" in body and "请 30 分钟后再试" in body
    assert 'id="locked-out"' in body

    # Now even the right password is refused, from that address …
    response = _login(client, user.username, PASSWORD)
    assert response.status_code == 429 and "_auth_user_id" not in client.session
    # … but not from another device, and another user at the same address is not affected.
    assert _login(Client(), user.username, PASSWORD, ip="10.2.2.2").status_code == 302
    assert _login(Client(), cast.enumerator_a2.username, PASSWORD).status_code == 302


@pytest.mark.django_db
def test_the_lockout_ends_after_the_cool_off(cast: Cast) -> None:
    from axes.models import AccessAttempt

    user = cast.enumerator_a1
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        _login(Client(), user.username, "wrong-password")
    assert _login(Client(), user.username, PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1))
    assert _login(Client(), user.username, PASSWORD).status_code == 302


@pytest.mark.django_db
@override_settings(AXES_FAILURE_LIMIT=2)
def test_the_failure_limit_is_configurable(cast: Cast) -> None:
    _login(Client(), cast.auditor.username, "wrong-password")
    assert _login(Client(), cast.auditor.username, "wrong-password").status_code == 429


@pytest.mark.django_db
def test_failed_and_successful_logins_are_in_the_audit_log(cast: Cast) -> None:
    user = cast.supervisor_a
    for _attempt in range(settings.AXES_FAILURE_LIMIT):
        _login(Client(), user.username, "wrong-password", ip="10.3.3.3")
    _login(Client(), "nobody-by-this-name", "guess", ip="10.3.3.3")
    assert _login(Client(), user.username, PASSWORD, ip="10.4.4.4").status_code == 302

    failed = list(AuditEvent.objects.filter(action=AuditAction.LOGIN_FAILED).order_by("id"))
    assert len(failed) == settings.AXES_FAILURE_LIMIT + 1
    assert all(e.ip_address == "10.3.3.3" and e.actor_id is None for e in failed)
    assert [e.detail["username"] for e in failed] == [user.username] * settings.AXES_FAILURE_LIMIT + [
        "nobody-by-this-name"
    ]
    assert failed[0].object_id == str(user.pk) and failed[-1].object_id == ""
    assert failed[settings.AXES_FAILURE_LIMIT - 1].detail["locked_out"] is True
    assert failed[0].detail["locked_out"] is False
    assert all("password" not in json.dumps(e.detail) for e in failed)

    success = AuditEvent.objects.get(action=AuditAction.LOGIN)
    assert (success.actor_id, success.actor_username, success.ip_address) == (user.pk, user.username, "10.4.4.4")
    # The auditor reads them on the audit-log page.
    auditor = Client()
    auditor.force_login(cast.auditor)
    page = auditor.get(reverse("frame:audit-log") + "?action=login_failed").content.decode()
    assert "nobody-by-this-name" in page and page.count(user.username) == settings.AXES_FAILURE_LIMIT


# --- idle sessions ---------------------------------------------------------------------------------------


def _session_of(client: Client) -> Session:
    return Session.objects.get(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value)


def _idle(client: Client, *, minutes: float) -> None:
    """As if the client had made no request for ``minutes``: its session's expiry and last renewal move back."""
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    store = SessionStore(session_key=key)
    store[TOUCHED_KEY] = int(time.time() - minutes * 60)
    store.save()
    expiry = timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE) - timedelta(minutes=minutes)
    Session.objects.filter(pk=key).update(expire_date=expiry)


@pytest.mark.django_db
def test_every_request_extends_the_session_and_an_idle_one_expires(cast: Cast) -> None:
    client = Client()
    client.force_login(cast.district_office)
    response = client.get(reverse("jobs:list"))
    assert response.status_code == 200
    assert int(response.cookies[settings.SESSION_COOKIE_NAME]["max-age"]) == settings.SESSION_COOKIE_AGE == 1800
    remaining = _session_of(client).expire_date - timezone.now()
    assert timedelta(minutes=29) < remaining <= timedelta(minutes=30)

    # 29 minutes idle: still signed in, and the request starts the 30 minutes again.
    _idle(client, minutes=29)
    response = client.get(reverse("jobs:list"))
    assert response.status_code == 200
    assert _session_of(client).expire_date - timezone.now() > timedelta(minutes=29)
    assert int(response.cookies[settings.SESSION_COOKIE_NAME]["max-age"]) == 1800

    # 30 minutes idle: the session is over and the next request goes to the login page.
    _idle(client, minutes=30)
    Session.objects.filter(pk=_session_of(client).pk).update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get(reverse("jobs:list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_requests_within_a_minute_renew_the_session_once(cast: Cast) -> None:
    client = Client()
    client.force_login(cast.district_office)
    client.get(reverse("jobs:list"))  # the first request after login renews it
    expiry = _session_of(client).expire_date
    for _ in range(3):
        response = client.get(reverse("jobs:list"))
        assert response.status_code == 200 and settings.SESSION_COOKIE_NAME not in response.cookies
    assert _session_of(client).expire_date == expiry  # not written again
    # A minute on, the next request renews it (the idle window starts again).
    _idle(client, minutes=1)
    response = client.get(reverse("jobs:list"))
    assert int(response.cookies[settings.SESSION_COOKIE_NAME]["max-age"]) == 1800
    assert _session_of(client).expire_date - timezone.now() > timedelta(minutes=29, seconds=50)


# --- CSRF ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_html_form_posted_without_its_token_is_refused_with_a_chinese_page(cast: Cast) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.district_office)
    before = fingerprint()
    response = client.post(reverse("frame:import"), {"level": "township"})
    assert response.status_code == 403
    body = response.content.decode()
    assert 'id="csrf-failure"' in body and "表单已过期" in body
    assert changed_tables(before, fingerprint()) == []

    # With the token from the page, the same form gets through to validation.
    client.get(reverse("frame:import"))
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post(reverse("frame:import"), {"level": "township", "csrfmiddlewaretoken": token})
    assert response.status_code == 200 and 'id="csrf-failure"' not in response.content.decode()


@pytest.mark.django_db
def test_the_login_form_needs_its_token_too(cast: Cast) -> None:
    response = Client(enforce_csrf_checks=True).post(
        reverse("login"), {"username": cast.auditor.username, "password": PASSWORD}
    )
    assert response.status_code == 403


@pytest.mark.django_db
def test_a_session_authenticated_api_call_without_the_token_is_refused(cast: Cast) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.district_office)
    url = reverse("api-township-list")
    response = client.post(url, data="{}", content_type="application/json")
    assert response.status_code == 403 and "CSRF" in response.json()["detail"]
    client.get(reverse("frame:import"))  # any page sets the CSRF cookie
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post(url, data="{}", content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 405  # past the CSRF check; the list does not take POST


@pytest.mark.django_db
def test_every_url_refuses_unsafe_methods_without_the_csrf_token(world: World) -> None:
    """CSRF everywhere: no view of the URL conf is exempt, whether a page, an API or the admin."""
    client = Client(enforce_csrf_checks=True)
    superuser = StaffMemberFactory(username="root", is_superuser=True, is_staff=True, role=Role.DISTRICT_OFFICE)
    client.force_login(superuser)
    before = fingerprint()
    refused = 0
    for endpoint in _url_endpoints():
        params, missing = declared_params(endpoint)
        values = fallback_values(endpoint) if missing or not params else None
        if values is None:
            values = {}
            for name, param in params.items():
                obj = getattr(param, "model", None) and param.model._default_manager.order_by("pk").first()  # type: ignore[union-attr]
                values[name] = str(obj.pk if obj is not None else "1") if hasattr(param, "model") else param.values[0]  # type: ignore[union-attr]
        path = endpoint.path(values)
        for method in UNSAFE_METHODS:
            response = getattr(client, method)(path)
            assert response.status_code == 403, f"{method.upper()} {path} without a CSRF token: {response.status_code}"
            refused += 1
    assert refused >= 4 * 20
    assert changed_tables(before, fingerprint()) == []


# --- API tokens end with the password -------------------------------------------------------------------------


def _token_client(user: StaffMember) -> tuple[APIClient, str]:
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert client.get(reverse("api-small-area-list")).status_code == 200
    return client, token.key


def _refused_with_401_json(client: APIClient) -> dict[str, str]:
    response = client.get(reverse("api-small-area-list"))
    assert response.status_code == 401, response.status_code
    assert response["Content-Type"] == "application/json" and response["WWW-Authenticate"] == "Token"
    return response.json()  # type: ignore[no-any-return]


@pytest.mark.django_db
def test_a_token_ends_when_its_user_sets_a_new_password(cast: Cast) -> None:
    client, _key = _token_client(cast.enumerator_a1)
    cast.enumerator_a1.set_password("a-new-password-for-2020")
    cast.enumerator_a1.save()
    assert _refused_with_401_json(client)["detail"] == "认证令牌无效。"


@pytest.mark.django_db
def test_a_token_ends_when_the_password_is_changed_with_the_changepassword_command(
    cast: Cast, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.core.management import call_command

    client, _key = _token_client(cast.enumerator_a1)
    # The command asks twice on the terminal; these are the two answers.
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "a-new-password-for-2020")
    call_command("changepassword", cast.enumerator_a1.username, stdout=open(os.devnull, "w"))  # noqa: SIM115
    cast.enumerator_a1.refresh_from_db()
    assert cast.enumerator_a1.check_password("a-new-password-for-2020")
    _refused_with_401_json(client)


@pytest.mark.django_db
def test_a_token_ends_when_the_password_hash_is_changed_in_the_database(cast: Cast) -> None:
    from django.contrib.auth.hashers import make_password
    from django.db import connection

    client, _key = _token_client(cast.enumerator_a1)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE census_staffmember SET password = %s WHERE id = %s",
            [make_password("set-by-an-administrator-2020"), cast.enumerator_a1.pk],
        )
    _refused_with_401_json(client)


@pytest.mark.django_db
def test_a_token_survives_changes_that_leave_the_password_alone(cast: Cast, client: Client) -> None:
    api, _key = _token_client(cast.enumerator_a1)
    cast.enumerator_a1.phone = "13800000000"
    cast.enumerator_a1.save()  # every column written again, the password with its old value
    assert _login(client, cast.enumerator_a1.username, PASSWORD).status_code == 302  # last_login changes
    assert api.get(reverse("api-small-area-list")).status_code == 200
    # Another person's password change leaves this token alone.
    cast.enumerator_a2.set_password("a-new-password-for-2020")
    cast.enumerator_a2.save()
    assert api.get(reverse("api-small-area-list")).status_code == 200


@pytest.mark.django_db
def test_a_deactivated_accounts_token_is_refused_with_401(cast: Cast) -> None:
    client, _key = _token_client(cast.enumerator_a1)
    # Switched off behind the services' back (a status other than active is what keeps is_active off).
    StaffMember.objects.filter(pk=cast.enumerator_a1.pk).update(is_active=False, status="suspended")
    assert _refused_with_401_json(client)["detail"] == "用户未激活或已删除。"
