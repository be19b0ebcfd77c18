"""The calendar on every office dashboard and start page (S19): ``{% census_countdown %}`` and
``{% census_todos %}`` read the signed-in user from the context."""

from __future__ import annotations

from typing import Any

from django import template

from supervision.organisation.selectors.calendar import (
    PhaseRow,
    countdown,
    phases_under_way_progress,
    request_calendar,
    role_todos,
)
from supervision.organisation.selectors.responsibility import escalations_to
from supervision.organisation.services.common import today

register = template.Library()


def _phases(context: dict[str, Any]) -> list[PhaseRow]:
    return request_calendar(context["request"])


@register.inclusion_tag("organisation/_countdown.html", takes_context=True)
def census_countdown(context: dict[str, Any]) -> dict[str, Any]:
    user = context["request"].user
    day, phases = today(), _phases(context)
    totals = context.get("totals")  # a dashboard's: the share of its households signed
    registration_done = (
        round(100.0 * totals.signed_total / totals.households, 1) if totals is not None and totals.households else None
    )
    return {
        "countdown": countdown(user.district_id, day, phases),
        "progress": phases_under_way_progress(phases, user=user, today=day, registration_done=registration_done),
        "request": context["request"],
    }


@register.inclusion_tag("organisation/_todos.html", takes_context=True)
def census_todos(context: dict[str, Any]) -> dict[str, Any]:
    user = context["request"].user
    if user.is_superuser:
        return {"todos": []}
    day = today()
    escalated, escalated_count = escalations_to(user, today=day)
    return {
        "todos": role_todos(user.role, day, user.district_id, _phases(context)),
        "escalated": escalated,
        "escalated_count": escalated_count,
    }
