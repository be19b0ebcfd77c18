"""The client's address behind the reverse proxy.

gunicorn reports the proxy as every request's peer (REMOTE_ADDR), so the audit log and django-axes' lockout by
address would all see one address. The proxy (deploy/nginx/census.conf.template) sends the client's address as
X-Real-IP, replacing any the client sent; this middleware believes it only when the peer is one of
``CENSUS_TRUSTED_PROXIES`` — read from FORWARDED_ALLOW_IPS, the same variable gunicorn reads to decide whose
X-Forwarded-Proto it believes — so a client that reaches gunicorn any other way cannot choose its address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_networks(values: list[str]) -> list[Network]:
    """Addresses and networks as gunicorn's --forwarded-allow-ips takes them ("*": every address)."""
    networks: list[Network] = []
    for value in (v.strip() for v in values):
        if not value:
            continue
        if value == "*":
            networks += [ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0")]
            continue
        try:
            networks.append(ipaddress.ip_network(value, strict=False))
        except ValueError as exc:
            raise ImproperlyConfigured(f"FORWARDED_ALLOW_IPS: {value!r} is not an address or a network") from exc
    return networks


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


class ProxiedClientAddressMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.trusted = trusted_networks(list(getattr(settings, "CENSUS_TRUSTED_PROXIES", [])))

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self.trusted:
            peer = _address(request.META.get("REMOTE_ADDR", ""))
            client = _address(request.META.get("HTTP_X_REAL_IP", ""))
            if peer is not None and client is not None and any(peer in network for network in self.trusted):
                request.META["REMOTE_ADDR"] = str(client)
        return self.get_response(request)
