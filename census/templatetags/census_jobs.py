"""Job templates: ``{% load census_jobs %}`` and ``{% if job|may_retry:request.user %}`` around the retry button,
so that the button is offered only to whoever the retry view lets in (``census.jobs.job_retry_allowed``)."""

from __future__ import annotations

from typing import Any

from django import template

from census.jobs import job_retry_allowed
from census.models import Job, StaffMember

register = template.Library()


@register.filter
def may_retry(job: Job, user: Any) -> bool:
    return isinstance(user, StaffMember) and job_retry_allowed(user=user, job=job)
