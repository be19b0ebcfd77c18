"""Shared by the organisation pages: who may open what, and the chart data handed to the page's script."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from census.models import Role, StaffMember

READINESS_ROLES = (Role.TOWNSHIP_OFFICE, Role.DISTRICT_OFFICE, Role.DEPARTMENT)
OFFICE_ROLES = (Role.TOWNSHIP_OFFICE, Role.DISTRICT_OFFICE)
AWARENESS_ROLES = (Role.TOWNSHIP_OFFICE, Role.DISTRICT_OFFICE, Role.AUDITOR, Role.SUPERVISOR)
DISTRICT_AND_DEPARTMENTS = (Role.DISTRICT_OFFICE, Role.DEPARTMENT)

COLORS = {"ok": "#1e7b34", "warn": "#a35a00", "bad": "#b3261e", "accent": "#1a5fb4", "muted": "#9aa3b0"}


def bar_chart(
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | int | None], str]],
    *,
    stacked: bool = False,
    horizontal: bool = False,
    percent: bool = False,
    target: float | None = None,
    title: str = "",
) -> dict[str, Any]:
    """The data of a bar chart, for ``json_script``; static/js/organisation-charts.js draws it with ECharts."""
    return {
        "title": title,
        "categories": [str(c) for c in categories],
        "series": [
            {"name": str(name), "data": list(data), "color": COLORS.get(color, color)} for name, data, color in series
        ],
        "stacked": stacked,
        "horizontal": horizontal,
        "percent": percent,
        "target": target,
    }


def is_district(user: Any) -> bool:
    return bool(user.is_superuser or user.role == Role.DISTRICT_OFFICE)


def posted_person(data: Any, name: str) -> StaffMember | None:
    """The account a form names by its id in ``data[name]``; None when it names none, or not by a number (a
    tampered form is told to choose a person, not answered with a server error)."""
    value = str(data.get(name) or "").strip()
    if not value.isdigit() or len(value) > 18:
        return None
    return StaffMember.objects.filter(pk=int(value)).first()
