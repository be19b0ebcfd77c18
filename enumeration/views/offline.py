"""The outbox page: what this phone holds of the enumerator's work and has not sent yet (issue 19).

The list lives in the phone's IndexedDB (static/js/offline.js), not on the server, so the page is a frame the
script fills: the server knows nothing of records it has not received.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import LogoutView
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from census.permissions import StaffRequest, public, role_required
from enumeration.views.common import FIELD_ROLES


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
