"""``{% offline_bar %}``: the phone's copy of the enumerator's work on a page (templates/enumeration/partials/
offline.html and static/js/offline.js) — the status that stays in view, the count of unsent records and the
dialog that logs in again in place."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

register = template.Library()


def offline_config(user: Any) -> dict[str, Any]:
    """What the script needs from the server: where to log in, whose copy it is, how long a copy may stay."""
    return {
        "loginUrl": reverse("login"),
        "outboxUrl": reverse("enumeration:outbox"),
        "serviceWorkerUrl": reverse("service-worker"),
        "deviceUrl": reverse("enumeration:device-register"),
        "user": user.username if user.is_authenticated else "",
        "maxDays": settings.CENSUS_OFFLINE_DAYS,
        "text": {
            "local": _("Saved on the phone"),
            "sending": _("Sending…"),
            "sent": _("Sent to the server"),
            "waiting": _("No signal: saved on the phone, waiting to send"),
            "refused": _("Refused by the server: see the outbox"),
            "conflict": _("Changed on the server meanwhile: choose a version"),
            "login": _("Login ended: log in again to send"),
            "unsent": _("%(n)s unsent"),
            "allSent": _("Nothing waits to be sent"),
            "badPassword": _("The password was not accepted. Try again."),
            "loginFailed": _("Logging in did not work (no signal?). Try again."),
            "refusedCard": _("Refused by the server: open the form, correct it and send it again"),
        },
    }


@register.inclusion_tag("enumeration/partials/offline.html", takes_context=True)
def offline_bar(context: template.Context) -> dict[str, Any]:
    request = context["request"]
    return {"user": request.user, "offline_config": offline_config(request.user), "request": request}
