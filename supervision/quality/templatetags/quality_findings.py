"""``{% load quality_findings %}{% my_findings_summary %}``: a field worker's open findings, for any page.

The enumerator's start page includes ``quality/partials/my_findings_summary.html``, which calls this tag, so
the page's own view needs to pass nothing (谁普查、谁负责: their findings come first).
"""

from __future__ import annotations

from typing import Any

from django import template

from census.models import Role
from census.privacy import client_address
from supervision.quality.presentation import (
    RecordLabel,
    finding_message,
    personal_data_unmasked,
    record_label,
    rule_name,
    run_counts,
    run_step_name,
)
from supervision.quality.selectors import my_findings_summary
from supervision.quality.services import findings_view_record

register = template.Library()


@register.inclusion_tag(
    "quality/partials/_my_findings_summary_body.html", takes_context=True, name="my_findings_summary"
)
def my_findings_summary_tag(context: Any, first: int = 5) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.role not in (Role.ENUMERATOR, Role.SUPERVISOR):
        return {"summary": None}
    summary = my_findings_summary(user=user, first=first)
    unmasked = personal_data_unmasked(user)
    items = [
        {"finding": finding, "message": finding_message(finding.rule, finding.evidence, unmasked=unmasked)}
        for finding in summary.first
    ]
    if unmasked:
        # The page that includes the summary shows these messages: its audit event for them.
        findings_view_record(actor=user, findings=summary.first, message_only=True, ip_address=client_address(request))
    return {"summary": summary, "items": items, "request": request}


@register.filter
def finding_state_badge(state: str) -> str:
    return {"open": "bad", "explained": "warn", "corrected": "warn", "verified": "ok", "closed": "ok"}.get(state, "")


@register.filter(name="record_label")
def record_label_filter(finding: Any) -> RecordLabel:
    """``{% with label=finding|record_label %}{{ label.text }} {{ label.where }}{% endwith %}``."""
    return record_label(finding)


@register.filter(name="rule_name")
def rule_name_filter(code: str) -> str:
    return rule_name(code)


@register.filter(name="run_counts")
def run_counts_filter(counts: Any) -> list[tuple[str, int]]:
    """A check run's counts (``{"new": 6, "reopened": 0}``) as (label, count) pairs."""
    return run_counts(counts or {})


@register.filter(name="run_step_name")
def run_step_name_filter(name: str) -> str:
    return run_step_name(name)
