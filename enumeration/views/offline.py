"""The outbox page: what this phone holds of the enumerator's work and has not sent yet (issue 19).

The list lives in the phone's IndexedDB (static/js/offline.js), not on the server, so the page is a frame the
script fills: the server knows nothing of records it has not received.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from census.permissions import StaffRequest, role_required
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
