"""Masking in templates: ``{% load census_privacy %}``.

    {% can_see_personal_data request.user household as unmasked %}
    {{ person.name|mask_name:unmasked }}  {{ person.id_number|mask_id:unmasked }}

Without the argument the filters always mask. See ``census.privacy`` for who sees what.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.db import models

from census import privacy

register = template.Library()


@register.filter
def mask_id(value: Any, show: bool = False) -> str:
    """An ID number masked as 5115**********003X, unless ``show`` is true."""
    text = "" if value is None else str(value)
    return text if show is True else privacy.mask_id_number(text)


@register.filter
def mask_name(value: Any, show: bool = False) -> str:
    """A name masked as 张**, unless ``show`` is true."""
    text = "" if value is None else str(value)
    return text if show is True else privacy.mask_name(text)


@register.simple_tag
def can_see_personal_data(user: Any, obj: models.Model | None = None) -> bool:
    return privacy.can_see_personal_data(user, obj)
