"""The calendar on every office dashboard and start page (S19): ``{% census_countdown %}`` and
``{% census_todos %}`` read the signed-in user from the context."""

from __future__ import annotations

from typing import Any

from django import template

from supervision.organisation.selectors.calendar import countdown, role_todos
from supervision.organisation.services.common import today

register = template.Library()


@register.inclusion_tag("organisation/_countdown.html", takes_context=True)
def census_countdown(context: dict[str, Any]) -> dict[str, Any]:
    user = context["request"].user
    return {"countdown": countdown(user.district_id, today()), "request": context["request"]}


@register.inclusion_tag("organisation/_todos.html", takes_context=True)
def census_todos(context: dict[str, Any]) -> dict[str, Any]:
    user = context["request"].user
    return {"todos": role_todos(user.role, today(), user.district_id) if not user.is_superuser else []}
