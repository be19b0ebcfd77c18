"""知晓率 page: the publicity-awareness rate per township, village or small area, with a chart."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from census.listing import PAGE_SIZE, ListPage
from census.models import Role, Township, Village
from census.permissions import StaffRequest, role_required
from supervision.organisation import selectors
from supervision.organisation.views.common import AWARENESS_ROLES, bar_chart


def awareness_level(within: str) -> str:
    return {9: "village", 12: "small_area"}.get(len(within), "township")


@require_GET
@role_required(*AWARENESS_ROLES)
def awareness(request: StaffRequest) -> HttpResponse:
    user = request.user
    within = request.GET.get("within", "").strip()
    if not within and user.role == Role.TOWNSHIP_OFFICE and user.township_id:
        within = user.township_id
    if within and (len(within) not in (9, 12) or not within.isdigit()):
        within = ""
    level = awareness_level(within)
    report = selectors.awareness_rates(user, level=level, within=within)
    query = request.GET.get("q", "").strip()
    rows = [r for r in report.rows if not query or query in r.name or query in r.code]
    below = request.GET.get("below") == "1"
    if below:
        rows = [r for r in rows if r.below_target]
    params = {key: str(value) for key, value in request.GET.items() if value}
    listing = ListPage(
        page=Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")),
        query=query,
        sort="",
        sortable=(),
        params=params,
    )
    township = village = None
    if len(within) == 9:
        township = Township.objects.visible_to(user).filter(code=within).first()
    elif len(within) == 12:
        village = Village.objects.visible_to(user).select_related("township").filter(code=within).first()
    chart = bar_chart(
        [r.name or r.code for r in rows],
        [(_("Awareness rate"), [r.percent for r in rows], "accent")],
        percent=True,
        target=report.target * 100,
    )
    return render(
        request,
        "organisation/awareness.html",
        {
            "report": report,
            "listing": listing,
            "below": below,
            "query": query,
            "level": level,
            "township": township,
            "village": village,
            "chart": chart,
            "target_percent": report.target * 100,
        },
    )
