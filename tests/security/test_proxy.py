"""The shipped reverse proxy, for real: Debian's nginx with deploy/nginx/census.conf.template, a certificate made
with openssl as the README makes one, in front of gunicorn running the project as docker compose runs it.

It shows what a county office relies on: plain HTTP only redirects to HTTPS; TLS works with the generated
certificate; the static files come from the proxy with their caching; whatever a client says in X-Forwarded-Proto,
X-Forwarded-For or X-Real-IP is replaced before it reaches gunicorn; through the proxy a login over HTTPS works
(secure cookies, CSRF, HSTS) and the audit log has the client's own address; and gunicorn believes those headers
from the proxy alone — a client that reaches it directly can claim neither HTTPS nor another address.

nginx comes from Debian (`make nginx` unpacks the package under .data/nginx without starting a service; an
installed /usr/sbin/nginx or $CENSUS_NGINX does as well). Clients connect from 127.0.0.3 (and 127.0.0.4), the
proxy from 127.0.0.1, so each side's address is visible.
"""

from __future__ import annotations

import gzip
import http.client
import http.server
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.db import connection

from census.models import AuditAction, AuditEvent, Role
from tests.census.factories import PASSWORD, DistrictFactory, StaffMemberFactory

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "deploy" / "nginx" / "census.conf.template"
CLIENT = "127.0.0.3"
INTRUDER = "127.0.0.4"

pytestmark = pytest.mark.slow


def nginx_binary() -> str:
    for candidate in (
        os.environ.get("CENSUS_NGINX", ""),
        str(ROOT / ".data" / "nginx" / "usr" / "sbin" / "nginx"),
        shutil.which("nginx") or "",
        "/usr/sbin/nginx",
    ):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    pytest.fail("nginx is not available: `make nginx` unpacks Debian's package under .data/nginx")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[Any], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{what} stopped: {process.communicate()[0]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{what} did not listen on {port}")


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    # Not pytest's tmp_path: nginx's workers must be able to read the static files when the tests run as root.
    path = Path(tempfile.mkdtemp(prefix="census-proxy-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def certificate(workdir: Path) -> Path:
    """A self-signed certificate for an intranet address, made as the README's set-up makes one."""
    tls = workdir / "tls"
    tls.mkdir()
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(tls / "census.key"),
            "-out",
            str(tls / "census.crt"),
        ],
        check=True,
        capture_output=True,
    )
    return tls


@pytest.fixture(scope="module")
def static_root(workdir: Path) -> Path:
    """Static files laid out as collectstatic leaves them: a plain name, a hashed name and its .gz."""
    www = workdir / "www"
    css = www / "static" / "css"
    css.mkdir(parents=True)
    stylesheet = (ROOT / "static" / "css" / "app.css").read_bytes()
    (css / "app.css").write_bytes(stylesheet)
    (css / "app.0123456789ab.css").write_bytes(stylesheet)
    (css / "app.0123456789ab.css.gz").write_bytes(gzip.compress(stylesheet))
    for path in www.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return www


@dataclass
class Proxy:
    http_port: int
    https_port: int
    tls: Path


def render(values: dict[str, str]) -> str:
    """Fill in the template as the official nginx image's entrypoint does (envsubst of the defined variables)."""
    text = TEMPLATE.read_text()
    for name, value in values.items():
        text = text.replace("${" + name + "}", value)
    left = re.findall(r"\$\{[A-Z_]+\}", text)
    assert not left, f"the template uses variables the proxy image does not set: {left}"
    return text


def start_nginx(workdir: Path, name: str, upstream: str, tls: Path, static_root: Path) -> tuple[Proxy, Any]:
    here = workdir / name
    for sub in ("logs", "temp"):
        (here / sub).mkdir(parents=True)
    proxy = Proxy(http_port=free_port(), https_port=free_port(), tls=tls)
    (here / "census.conf").write_text(
        render(
            {
                "CENSUS_UPSTREAM": upstream,
                "CENSUS_PROXY_HTTP_PORT": f"127.0.0.1:{proxy.http_port}",
                "CENSUS_PROXY_HTTPS_PORT": f"127.0.0.1:{proxy.https_port}",
                "CENSUS_PUBLIC_HTTPS_PORT": str(proxy.https_port),
                "CENSUS_TLS_DIR": str(tls),
                "CENSUS_STATIC_ROOT": str(static_root),
            }
        )
    )
    temp = here / "temp"
    # What the official image's /etc/nginx/nginx.conf provides around conf.d/*.conf.
    (here / "nginx.conf").write_text(
        f"""
{"user root;" if os.geteuid() == 0 else ""}
worker_processes 1;
pid {here}/nginx.pid;
events {{ worker_connections 64; }}
http {{
    types {{ text/html html; text/css css; application/javascript js; image/png png; }}
    default_type application/octet-stream;
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    include {here}/census.conf;
}}
"""
    )
    binary = nginx_binary()
    conf = str(here / "nginx.conf")
    checked = subprocess.run(
        [binary, "-t", "-e", "stderr", "-p", str(here), "-c", conf], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen(
        [binary, "-e", "stderr", "-p", str(here), "-c", conf, "-g", "daemon off;"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    wait_for_port(proxy.https_port, process, "nginx")
    return proxy, process


def stop(process: subprocess.Popen[Any]) -> None:
    process.terminate()
    try:
        process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()


@pytest.fixture(scope="module")
def gunicorn(django_db_setup: None, workdir: Path) -> Iterator[int]:
    """The project under gunicorn, configured as docker compose's web service: it trusts the proxy's address."""
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "census.test_settings",
        "CENSUS_DATABASE_NAME": connection.settings_dict["NAME"],
        "SECURE_COOKIES": "True",
        "FORWARDED_ALLOW_IPS": "127.0.0.1",
        "PRIVATE_MEDIA_ROOT": str(workdir / "private"),
    }
    env.pop("USE_X_FORWARDED_PROTO", None)
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "census.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--forwarded-allow-ips",
            "127.0.0.1",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for_port(port, process, "gunicorn")
        yield port
    finally:
        stop(process)


@pytest.fixture(scope="module")
def proxy(gunicorn: int, workdir: Path, certificate: Path, static_root: Path) -> Iterator[Proxy]:
    started, process = start_nginx(workdir, "nginx-web", f"127.0.0.1:{gunicorn}", certificate, static_root)
    try:
        yield started
    finally:
        stop(process)


class Recorder(http.server.BaseHTTPRequestHandler):
    """An upstream that answers with the headers it received."""

    def do_GET(self) -> None:
        body = json.dumps({name.lower(): value for name, value in self.headers.items()}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def recording_proxy(workdir: Path, certificate: Path, static_root: Path) -> Iterator[Proxy]:
    upstream = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=upstream.serve_forever, daemon=True)
    thread.start()
    started, process = start_nginx(
        workdir, "nginx-recorder", f"127.0.0.1:{upstream.server_address[1]}", certificate, static_root
    )
    try:
        yield started
    finally:
        stop(process)
        upstream.shutdown()


def https(proxy: Proxy, source: str = CLIENT) -> http.client.HTTPSConnection:
    context = ssl.create_default_context(cafile=str(proxy.tls / "census.crt"))
    return http.client.HTTPSConnection("127.0.0.1", proxy.https_port, context=context, source_address=(source, 0))


def request(
    conn: http.client.HTTPConnection, method: str, path: str, body: str | None = None, **headers: str
) -> tuple[http.client.HTTPResponse, bytes]:
    conn.request(method, path, body=body, headers={k.replace("_", "-"): v for k, v in headers.items()})
    response = conn.getresponse()
    return response, response.read()


def test_plain_http_only_redirects_to_https(proxy: Proxy) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", proxy.http_port, source_address=(CLIENT, 0))
    for method in ("GET", "POST"):
        response, _ = request(conn, method, "/accounts/login/?next=/households/", body="" if method == "POST" else None)
        assert response.status == 301
        assert response.headers["Location"] == f"https://127.0.0.1:{proxy.https_port}/accounts/login/?next=/households/"
    conn.close()


def test_tls_with_the_generated_certificate_and_the_static_files_from_the_proxy(proxy: Proxy) -> None:
    conn = https(proxy)  # verifies the chain and the name against the generated certificate
    response, body = request(conn, "GET", "/static/css/app.css")
    assert conn.sock is not None and conn.sock.version() in ("TLSv1.2", "TLSv1.3")  # type: ignore[attr-defined]
    assert response.status == 200
    assert body == (ROOT / "static" / "css" / "app.css").read_bytes()
    assert response.headers["Content-Type"] == "text/css"
    assert response.headers.get_all("Cache-Control") == ["max-age=3600"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "nginx/" not in response.headers.get("Server", "")  # server_tokens off
    response, body = request(conn, "GET", "/static/css/app.0123456789ab.css", Accept_Encoding="gzip")
    assert response.status == 200
    assert response.headers["Content-Encoding"] == "gzip"  # the .gz collectstatic wrote, not compressed again
    assert gzip.decompress(body) == (ROOT / "static" / "css" / "app.css").read_bytes()
    assert response.headers.get_all("Cache-Control") == ["public, max-age=31536000, immutable"]
    response, _ = request(conn, "GET", "/static/css/missing.css")
    assert response.status == 404
    conn.close()


def test_what_a_client_claims_about_scheme_and_address_is_replaced_before_it_reaches_gunicorn(
    recording_proxy: Proxy,
) -> None:
    conn = https(recording_proxy)
    response, body = request(
        conn,
        "GET",
        "/anything",
        X_Forwarded_Proto="http",
        X_Forwarded_For="203.0.113.9",
        X_Real_IP="203.0.113.9",
        X_Forwarded_Host="evil.example",
        X_Forwarded_Port="80",
        X_Forwarded_Ssl="off",
        X_Forwarded_Protocol="http",
        Forwarded="for=203.0.113.9;proto=http",
    )
    conn.close()
    assert response.status == 200
    received = json.loads(body)
    assert received["x-forwarded-proto"] == "https"
    assert received["x-real-ip"] == CLIENT
    assert received["x-forwarded-for"] == CLIENT
    assert received["host"] == f"127.0.0.1:{recording_proxy.https_port}"
    for dropped in ("x-forwarded-host", "x-forwarded-port", "x-forwarded-ssl", "x-forwarded-protocol", "forwarded"):
        assert dropped not in received, dropped


def _login(
    conn: http.client.HTTPConnection, origin: str, password: str, **headers: str
) -> tuple[http.client.HTTPResponse, SimpleCookie]:
    page, _ = request(conn, "GET", "/accounts/login/", **headers)
    assert page.status == 200
    cookies = SimpleCookie()
    for header in page.headers.get_all("Set-Cookie") or []:
        cookies.load(header)
    token = cookies["csrftoken"].value
    response, _ = request(
        conn,
        "POST",
        "/accounts/login/",
        body=urlencode({"username": "proxied", "password": password, "csrfmiddlewaretoken": token}),
        Content_Type="application/x-www-form-urlencoded",
        Cookie=f"csrftoken={token}",
        Origin=origin,
        Referer=f"{origin}/accounts/login/",
        **headers,
    )
    for header in response.headers.get_all("Set-Cookie") or []:
        cookies.load(header)
    return response, cookies


@pytest.mark.django_db(transaction=True)
def test_through_the_proxy_a_login_over_https_works_and_django_sees_https_and_the_clients_address(
    proxy: Proxy,
) -> None:
    StaffMemberFactory(username="proxied", role=Role.AUDITOR, district=DistrictFactory())
    conn = https(proxy)
    response, cookies = _login(conn, f"https://127.0.0.1:{proxy.https_port}", PASSWORD)
    conn.close()
    assert response.status == 302, response.headers
    # Django took the request as HTTPS (gunicorn's wsgi.url_scheme from the trusted proxy): HSTS is sent.
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert cookies["sessionid"]["secure"] and cookies["csrftoken"]["secure"]
    login = AuditEvent.objects.get(action=AuditAction.LOGIN, actor_username="proxied")
    assert login.ip_address == CLIENT


@pytest.mark.django_db(transaction=True)
def test_gunicorn_believes_scheme_and_address_headers_from_the_proxy_only(gunicorn: int) -> None:
    StaffMemberFactory(username="proxied", role=Role.AUDITOR, district=DistrictFactory())
    direct = http.client.HTTPConnection("127.0.0.1", gunicorn, source_address=(INTRUDER, 0))
    response, _ = request(direct, "GET", "/accounts/login/", X_Forwarded_Proto="https", X_Real_IP="203.0.113.9")
    assert response.status == 200
    assert "Strict-Transport-Security" not in response.headers, "a client's X-Forwarded-Proto was believed"
    response, _ = _login(
        direct, f"http://127.0.0.1:{gunicorn}", "not-the-password", X_Forwarded_Proto="https", X_Real_IP="203.0.113.9"
    )
    direct.close()
    assert response.status == 200  # the form again, with its error
    failed = AuditEvent.objects.get(action=AuditAction.LOGIN_FAILED)
    assert failed.ip_address == INTRUDER
