"""Template context shared by every page: the district and the role's navigation."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from census.models import Role, default_district_code, district_name

ALL_ROLES = tuple(Role.values)
OFFICE_ROLES = (Role.TOWNSHIP_OFFICE, Role.DISTRICT_OFFICE)

# (label, url name, roles that see it). Entries whose URL does not exist yet are skipped, so each app adds
# its pages by adding its URL names here.
NAVIGATION: list[tuple[Any, str, tuple[str, ...]]] = [
    (_("My small areas"), "enumeration:my-areas", (Role.ENUMERATOR, Role.SUPERVISOR)),
    (_("My findings"), "supervision:my-findings", (Role.ENUMERATOR, Role.SUPERVISOR)),
    (_("Callbacks due today"), "supervision:my-callbacks", (Role.ENUMERATOR, Role.SUPERVISOR)),
    (_("My re-checks"), "supervision:my-rechecks", (Role.ENUMERATOR, Role.SUPERVISOR)),
    (_("Review queue"), "enumeration:review-queue", (Role.SUPERVISOR, *OFFICE_ROLES)),
    (_("Households"), "enumeration:household-list", (Role.SUPERVISOR, *OFFICE_ROLES, Role.AUDITOR)),
    (_("Progress"), "supervision:dashboard", OFFICE_ROLES),
    (_("City progress"), "supervision:city-dashboard", (Role.CITY_OFFICE,)),
    (_("Self-enumeration"), "self_enumeration:uptake", (Role.SUPERVISOR, *OFFICE_ROLES, Role.AUDITOR)),
    (_("Completeness"), "supervision:completeness", (Role.SUPERVISOR, *OFFICE_ROLES, Role.AUDITOR)),
    (_("Re-check and coverage"), "supervision:coverage", (*OFFICE_ROLES, Role.AUDITOR)),
    (_("Findings"), "supervision:finding-list", (Role.SUPERVISOR, *OFFICE_ROLES)),
    (_("Quality checks"), "supervision:check-runs", OFFICE_ROLES),
    (_("Summaries and exports"), "supervision:exports", (Role.DISTRICT_OFFICE,)),
    (_("Readiness"), "supervision:readiness", (*OFFICE_ROLES, Role.DEPARTMENT)),
    (_("Publicity awareness (知晓率)"), "supervision:awareness", (*OFFICE_ROLES, Role.AUDITOR, Role.SUPERVISOR)),
    (_("Subsidies"), "supervision:subsidies", OFFICE_ROLES),
    (_("Responsibility"), "supervision:responsibility", OFFICE_ROLES),
    (_("Department tasks"), "supervision:department-tasks", (Role.DISTRICT_OFFICE, Role.DEPARTMENT)),
    (_("Calendar"), "supervision:calendar", (*OFFICE_ROLES, Role.DEPARTMENT, Role.AUDITOR)),
    (_("Assessment"), "supervision:assessment", (*OFFICE_ROLES, Role.DEPARTMENT, Role.AUDITOR)),
    (_("Rectification"), "supervision:rectification", (Role.DISTRICT_OFFICE, Role.DEPARTMENT)),
    (_("Directory"), "supervision:directory", (Role.DISTRICT_OFFICE, Role.DEPARTMENT)),
    (_("Trainings"), "supervision:trainings", (Role.DISTRICT_OFFICE, Role.DEPARTMENT)),
    (_("Area frame"), "frame:townships", (*OFFICE_ROLES, Role.AUDITOR)),
    (_("Staff"), "frame:staff", OFFICE_ROLES),
    (_("Audit log"), "frame:audit-log", (Role.AUDITOR, Role.DISTRICT_OFFICE)),
    (_("Long-form sample"), "enumeration:long-form-samples", (Role.DISTRICT_OFFICE,)),
    (_("Import the listing"), "enumeration:listing-import", OFFICE_ROLES),
    # Exports, imports and check runs run as jobs; their files are fetched from their pages (the roles that start them).
    (_("Jobs and downloads"), "jobs:list", OFFICE_ROLES),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    items = []
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        for label, url_name, roles in NAVIGATION:
            if user.is_superuser or user.role in roles:
                try:
                    url = reverse(url_name)
                except NoReverseMatch:
                    continue
                items.append({"label": label, "url": url, "active": request.path.startswith(url)})
    # The signed-in person's district (an installation may run several); the default one before sign-in; for a
    # city office its city.
    code = getattr(user, "district_id", None) or default_district_code()
    name = district_name(code)
    if getattr(user, "city_id", None):
        code, name = user.city_id, user.city.name  # type: ignore[union-attr]
    return {
        "district_name": name,
        "district_code": code,
        "nav_items": items,
    }
