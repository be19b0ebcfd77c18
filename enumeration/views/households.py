"""The household list of the offices (and supervisors, auditors): search, filters, sorting, pages."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from census.listing import paginate_list
from census.models import Role
from census.permissions import StaffRequest, role_required
from enumeration import selectors
from enumeration.models import HouseholdState
from enumeration.views.common import OFFICE_ROLES, list_personal_data_shown
from enumeration.views.review import read_filters

LIST_SORTABLE = (
    "small_area__code",
    "household_no",
    "state",
    "registrar__username",
    "person_count",
    "signed_at",
    "updated_at",
)


@require_GET
@role_required(Role.SUPERVISOR, *OFFICE_ROLES, Role.AUDITOR)
def household_list(request: StaffRequest) -> HttpResponse:
    user = request.user
    state = read_filters(request.GET, user)
    queryset = selectors.household_table(user=user, filters=state.filters, query=state.query)
    listing = paginate_list(request, queryset, sortable=LIST_SORTABLE, default_sort="small_area__code")
    rows = list(listing.page)
    unmasked = list_personal_data_shown(request, user, rows)
    return render(
        request,
        "enumeration/household_list.html",
        {"listing": listing, "rows": rows, "filter": state, "states": HouseholdState.choices, "unmasked": unmasked},
    )
