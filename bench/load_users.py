"""The users of the load scenarios (``bench/locustfile.py``, ``bench/locustfile_self.py``): API tokens and small
areas of enumerators, signed-in sessions of office users and self-enumeration codes of listed households, read
from (and, for the codes, issued into) the database the server under load uses."""

from __future__ import annotations

import contextlib
from typing import Any

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.urls import NoReverseMatch, reverse
from rest_framework.authtoken.models import Token

from census.models import Role, SmallAreaAssignment, StaffMember
from enumeration.models import ALL_DEAD_HOUSEHOLD_NO, Household, HouseholdState
from enumeration.self_enumeration.models import Declaration
from enumeration.self_enumeration.services import invitation_issue

OFFICE_PAGES = ("supervision:dashboard", "enumeration:household-list", "frame:townships")


def _pages(names: tuple[str, ...]) -> list[str]:
    out = []
    for name in names:
        with contextlib.suppress(NoReverseMatch):
            out.append(reverse(name))
    return out


def prepare_users(*, enumerators: int, offices: int) -> dict[str, Any]:
    """A token per enumerator (one small area each) and a session per township or district office user. The
    enumerators sign with the synthetic district's password."""
    password = settings.CENSUS_DEMO_PASSWORD
    field = []
    assignments = (
        SmallAreaAssignment.objects.select_related("staff")
        .filter(staff__role=Role.ENUMERATOR)
        .order_by("small_area_id")[:enumerators]
    )
    for assignment in assignments:
        token, _created = Token.objects.get_or_create(user=assignment.staff)
        field.append({"token": token.key, "small_area": assignment.small_area_id, "password": password})
    pages = _pages(OFFICE_PAGES) or ["/"]
    desk = []
    members = StaffMember.objects.filter(role__in=[Role.TOWNSHIP_OFFICE, Role.DISTRICT_OFFICE]).order_by("username")
    for member in members[:offices]:
        session = SessionStore()
        session[SESSION_KEY] = str(member.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = member.get_session_auth_hash()
        session.create()
        desk.append({"session": session.session_key, "pages": pages})
    return {"enumerators": field, "offices": desk}


def prepare_invitations(*, households: int) -> list[str]:
    """Codes for ``households`` listed households that have not declared, issued through the service as the
    district office would (a household with an open code from an earlier run gets a new one: a re-issue). Taken
    from the small areas with the highest ids, away from the first ones the enumerators of the load scenario
    submit into."""
    office = StaffMember.objects.filter(role=Role.DISTRICT_OFFICE, is_active=True).order_by("pk").first()
    if office is None:
        raise RuntimeError("the bench district has no district office account")
    chosen = (
        Household.objects.filter(state=HouseholdState.LISTED)
        .exclude(household_no=ALL_DEAD_HOUSEHOLD_NO)  # nobody left to fill in a form (the rules refuse persons)
        .exclude(pk__in=Declaration.objects.values("household_id"))
        .order_by("-small_area_id", "household_no")[:households]
    )
    return [invitation_issue(household=household, actor=office).code for household in chosen]
