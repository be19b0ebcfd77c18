"""The census calendar page (S19): the phases with their dates (the district moves them), the countdown, and the
planned-against-actual progress line of each phase."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from census.models import Role
from census.permissions import StaffRequest, role_required
from supervision.organisation.selectors.calendar import census_calendar, countdown, phase_lines
from supervision.organisation.services.calendar import calendar_phase_set
from supervision.organisation.services.common import today
from supervision.organisation.views.common import bar_chart, is_district


def _date(value: str) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        return None


@role_required(Role.DISTRICT_OFFICE, Role.TOWNSHIP_OFFICE, Role.DEPARTMENT, Role.AUDITOR)
def calendar(request: StaffRequest) -> HttpResponse:
    user = request.user
    district_id = user.district_id or ""
    phases = census_calendar(district_id)
    errors: dict[str, str] = {}
    if request.method == "POST":
        if not is_district(user):
            raise PermissionDenied
        for phase in phases:
            start = _date(request.POST.get(f"{phase.key}-start", ""))
            end = _date(request.POST.get(f"{phase.key}-end", ""))
            if start is None or end is None:
                errors[phase.key] = _("Enter both dates.")
                continue
            try:
                calendar_phase_set(district_id=district_id, phase=phase.key, start=start, end=end, actor=user)
            except ValidationError as exc:
                errors[phase.key] = " ".join(exc.messages)
        if not errors:
            messages.success(request, _("Calendar saved."))
            return redirect("supervision:calendar")
        phases = census_calendar(district_id)
    day = today()
    charts = []
    for phase in phases:
        lines = phase_lines(phase, user=user, today=day)
        series: list[tuple[str, list[float | None], str]] = [(_("Planned"), list(lines.planned), "muted")]
        if lines.actual is not None:
            series.append((_("Actual"), lines.actual, "accent"))
        chart = bar_chart([d.strftime("%m-%d") for d in lines.days], series, percent=True)
        chart["line"] = True
        chart["series"][0]["dashed"] = True
        charts.append({"phase": phase, "lines": lines, "chart": chart, "chart_id": f"phase-{phase.key}"})
    return render(
        request,
        "organisation/calendar.html",
        {
            "rows": [{"phase": p, "state": p.state(day), "error": errors.get(p.key, "")} for p in phases],
            "charts": charts,
            "countdown": countdown(district_id, day),
            "may_edit": is_district(user),
            "today": day,
        },
        status=400 if errors else 200,
    )
