"""``{% load census_links %}`` … ``{% if user|may_open:"supervision:readiness" %}<a …>{% endif %}``: show a link or
a button only to a role its view admits (issue 21: a link that answers 403 is a dead end).

The answer comes from the view's own access declaration (``census.permissions.role_required`` writes
``allowed_roles`` on the view), so a template cannot disagree with the view it links to."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import NoReverseMatch, resolve, reverse

from census.permissions import has_role

register = template.Library()


@register.filter
def may_open(user: Any, url_name: str) -> bool:
    """Whether ``user`` may use the view named ``url_name`` (a URL without arguments)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    try:
        view = resolve(reverse(url_name)).func
    except NoReverseMatch:
        return False
    roles = getattr(view, "allowed_roles", None)
    return True if roles is None else has_role(user, tuple(roles))
