"""The calendar on every office dashboard and start page (S19): ``{% census_countdown %}`` and
``{% census_todos %}`` read the signed-in user from the context."""

from __future__ import annotations

from typing import Any

from django import template

from supervision.organisation.selectors.calendar import PhaseRow, census_calendar, countdown, role_todos
from supervision.organisation.services.common import today

register = template.Library()


def _phases(context: dict[str, Any]) -> list[PhaseRow]:
    """The district's calendar, read once per request: a dashboard shows both the countdown and the to-dos."""
    request = context["request"]
    phases: list[PhaseRow] | None = getattr(request, "_census_calendar", None)
    if phases is None:
        phases = census_calendar(request.user.district_id)
        request._census_calendar = phases
    return phases


@register.inclusion_tag("organisation/_countdown.html", takes_context=True)
def census_countdown(context: dict[str, Any]) -> dict[str, Any]:
    user = context["request"].user
    return {"countdown": countdown(user.district_id, today(), _phases(context)), "request": context["request"]}


@register.inclusion_tag("organisation/_todos.html", takes_context=True)
def census_todos(context: dict[str, Any]) -> dict[str, Any]:
    user = context["request"].user
    if user.is_superuser:
        return {"todos": []}
    return {"todos": role_todos(user.role, today(), user.district_id, _phases(context))}
