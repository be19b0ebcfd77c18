"""Form helpers in templates: ``{% load census_forms %}``.

<select name="small_area">{% options filter.choices.small_areas filter.params.small_area %}</select>
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag
def options(choices: Iterable[tuple[Any, Any]], selected: Any = "") -> SafeString:
    """The ``<option>`` elements of ``(value, label)`` pairs, values and labels escaped, the one whose value (as
    text) is ``selected`` marked selected.

    Rendered here rather than by a loop in the template: a township's filters list hundreds of small areas and
    registrars, and the template loop spent more on them than on the rest of the household list page.
    """
    chosen = "" if selected is None else str(selected)
    parts = []
    for value, label in choices:
        text = str(value)
        mark = " selected" if text == chosen else ""
        parts.append(f'<option value="{escape(text)}"{mark}>{escape(str(label))}</option>')
    return mark_safe("".join(parts))  # noqa: S308 — every value and label escaped above
