"""The outbox page: what this phone holds of the enumerator's work and has not sent yet (issue 19).

The list lives in the phone's IndexedDB (static/js/offline.js), not on the server, so the page is a frame the
script fills: the server knows nothing of records it has not received.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import LogoutView
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from census.api import ApplicationError
from census.listing import paginate_list
from census.models import Role
from census.permissions import StaffRequest, public, role_required, url_objects
from census.security import client_ip
from enumeration import selectors
from enumeration.forms import PhoneRevokeForm
from enumeration.middleware import CLEAR_SITE_DATA, DEVICE_COOKIE, SESSION_DEVICE, revoked_response, session_mark
from enumeration.models import PhoneDevice
from enumeration.services.devices import DeviceRevoked, phone_device_register, phone_device_revoke, phone_device_wiped
from enumeration.views.common import FIELD_ROLES

OFFICES = (Role.TOWNSHIP_OFFICE, Role.DISTRICT_OFFICE)
# The phone's key outlives any login: it names the phone until the phone is revoked or not seen for this long.
DEVICE_COOKIE_MAX_AGE = 180 * 24 * 60 * 60


@require_GET
@role_required(*FIELD_ROLES)
def outbox(request: StaffRequest) -> HttpResponse:
    text = {
        "local": _("Saved on the phone, not sent yet"),
        "sending": _("Sending…"),
        "waiting": _("Waiting for a signal"),
        "refused": _("Refused by the server"),
        "conflict": _("Changed on the server meanwhile: open it and choose a version"),
        "login": _("Waiting for you to log in again"),
        "savedAt": _("kept on the phone since %(time)s"),
        "open": _("Open"),
    }
    return render(
        request, "enumeration/outbox.html", {"outbox_text": text, "offline_days": settings.CENSUS_OFFLINE_DAYS}
    )


# A page kept for opening with no signal is at most a day old ("opened online that day"), and never older than
# the phone may keep personal data (CENSUS_OFFLINE_DAYS).
PAGE_MAX_AGE_SECONDS = 24 * 60 * 60


@public
@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker, from the site's root so that its scope covers the enumerator's pages. It holds no
    data (anyone may read it); it is always asked for again, so a new version reaches phones at once."""
    max_age = min(PAGE_MAX_AGE_SECONDS, settings.CENSUS_OFFLINE_DAYS * 24 * 60 * 60)
    response = render(
        request,
        "enumeration/sw.js",
        {"page_max_age": max_age, "static_url": settings.STATIC_URL},
        content_type="text/javascript",
    )
    response["Service-Worker-Allowed"] = "/"
    response["Cache-Control"] = "no-cache"
    return response


@public
@require_GET
def web_app_manifest(request: HttpRequest) -> JsonResponse:
    """The web app manifest: the enumerator's start page, added to the phone's home screen without an app store."""
    manifest = {
        "name": str(_("Census 2020 enumeration")),
        "short_name": str(_("Census")),
        "start_url": reverse("enumeration:my-areas"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#f4f6f9",
        "theme_color": "#b3261e",
        "lang": "zh-Hans",
        "icons": [{"src": static("favicon.svg"), "sizes": "any", "type": "image/svg+xml"}],
    }
    response = JsonResponse(manifest, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json"
    return response


def logout_clearing_the_phone(request: HttpRequest) -> HttpResponse:
    """Django's logout, and the browser told to delete what it holds of this site: the pages kept for no signal,
    the outbox and the service worker (``Clear-Site-Data``). The page warned first when records were unsent."""
    response = LogoutView.as_view()(request)
    response["Clear-Site-Data"] = '"cache", "storage"'
    return response


# --- the phones that keep the enumerators' work (item 7: a lost phone is revoked) -----------------------------


@require_POST
@role_required(*FIELD_ROLES)
def device_register(request: StaffRequest) -> HttpResponse:
    """The offline pages' script, online: this phone keeps the enumerator's work. It gets a key of its own (an
    HTTP-only cookie) the first time; a revoked phone is told to delete its copy (410, as the middleware)."""
    if request.session.session_key is None:
        request.session.save()
    try:
        registered = phone_device_register(
            staff=request.user,
            key=request.COOKIES.get(DEVICE_COOKIE),
            session_key=request.session.session_key or "",
            label=request.headers.get("User-Agent", ""),
            ip_address=client_ip(request),
        )
    except DeviceRevoked:
        return revoked_response(request)
    key = registered.new_key or request.COOKIES.get(DEVICE_COOKIE, "")
    mark = session_mark(key, request.session.session_key or "")
    if request.session.get(SESSION_DEVICE) != mark:
        request.session[SESSION_DEVICE] = mark
    response = JsonResponse({"ok": True, "device": registered.device.pk})
    if registered.new_key:
        response.set_cookie(
            DEVICE_COOKIE,
            registered.new_key,
            max_age=DEVICE_COOKIE_MAX_AGE,
            httponly=True,
            secure=settings.SESSION_COOKIE_SECURE,
            samesite="Lax",
        )
    return response


@public
@require_POST
def device_wiped(request: HttpRequest) -> HttpResponse:
    """A revoked phone reports that it deleted its copy: the office sees when, and the phone's key is forgotten
    (a later login on it is a new phone). Anyone may post; only a revoked phone's key changes anything."""
    key = request.COOKIES.get(DEVICE_COOKIE)
    device = selectors.phone_device_by_key(key) if key else None
    if device is None or device.revoked_at is None:
        return JsonResponse({"ok": False}, status=404)
    phone_device_wiped(device=device)
    response = JsonResponse({"ok": True})
    response.delete_cookie(DEVICE_COOKIE, samesite="Lax")
    response["Clear-Site-Data"] = CLEAR_SITE_DATA
    return response


@require_GET
@role_required(*OFFICES)
def phone_list(request: StaffRequest) -> HttpResponse:
    """The phones of the office's enumerators and supervisors: which keep work, when each was last seen, and
    revoking a lost one."""
    state = request.GET.get("state", "")
    role = request.GET.get("role", "")
    listing = paginate_list(
        request,
        selectors.phone_device_list(user=request.user, state=state, role=role),
        search_fields=("staff__username", "staff__first_name", "staff__last_name", "label"),
        sortable=("last_seen_at", "created_at", "staff__username"),
        default_sort="-last_seen_at",
    )
    return render(
        request,
        "enumeration/phone_list.html",
        {
            "listing": listing,
            "state": state,
            "states": [("active", _("In use")), ("revoked", _("Revoked"))],
            "role": role,
            "roles": [(value, label) for value, label in Role.choices if value in FIELD_ROLES],
        },
    )


@require_http_methods(["GET", "POST"])
@never_cache
@role_required(*OFFICES)
@url_objects(pk=PhoneDevice)
def phone_revoke(request: StaffRequest, pk: int) -> HttpResponse:
    """The confirm step: what revoking does, and the actor's password."""
    device = get_object_or_404(selectors.phone_device_list(user=request.user), pk=pk)
    form = PhoneRevokeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            phone_device_revoke(device=device, actor=request.user, password=form.cleaned_data["password"])
        except ApplicationError as refused:
            form.add_error("password" if refused.code == "bad_password" else None, refused.message)
        else:
            messages.success(
                request,
                _("The phone of %(name)s is revoked: it deletes what it kept at its next contact.")
                % {"name": device.staff.get_full_name() or device.staff.username},
            )
            return redirect("enumeration:phones")
    return render(
        request,
        "enumeration/phone_revoke.html",
        {"device": device, "form": form},
        status=400 if form.errors else 200,
    )
