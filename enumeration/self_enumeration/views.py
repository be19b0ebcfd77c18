"""Staff pages of self-enumeration: a small area's invitations and slips, verifying a declared form, uptake."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from census.api import ApplicationError
from census.models import Role, SmallArea, district_of
from census.permissions import StaffRequest, role_required, url_objects
from enumeration.forms import SignForm
from enumeration.models import CollectionMode, Household
from enumeration.rules.entry import hard_issues
from enumeration.self_enumeration import selectors, services
from enumeration.self_enumeration.models import Invitation
from enumeration.self_enumeration.slips import Slip, qr_svg, slips_pdf
from enumeration.services.registration import household_issues
from enumeration.views.common import list_personal_data_shown, personal_data_shown

ISSUERS = (Role.ENUMERATOR, Role.SUPERVISOR, Role.TOWNSHIP_OFFICE, Role.DISTRICT_OFFICE)
FIELD = (Role.ENUMERATOR, Role.SUPERVISOR)
READERS = (Role.ENUMERATOR, Role.SUPERVISOR, Role.TOWNSHIP_OFFICE, Role.DISTRICT_OFFICE, Role.AUDITOR)
MAX_SLIPS_PER_PDF = 500


def _area(request: StaffRequest, pk: int) -> SmallArea:
    return get_object_or_404(SmallArea.objects.visible_to(request.user).select_related("village", "township"), pk=pk)


def _household(request: StaffRequest, pk: int) -> Household:
    return get_object_or_404(Household.objects.visible_to(request.user).select_related("small_area"), pk=pk)


@require_GET
@role_required(*ISSUERS)
@url_objects(pk=SmallArea)
def area_invitations(request: StaffRequest, pk: int) -> HttpResponse:
    area = _area(request, pk)
    entries = selectors.area_entries(user=request.user, small_area=area)
    return render(
        request,
        "self_enumeration/area.html",
        {
            "area": area,
            "entries": entries,
            "unmasked": list_personal_data_shown(request, request.user, [e.household for e in entries]),
            "to_verify": list(selectors.to_verify(user=request.user).filter(household__small_area=area)),
        },
    )


def _slips_page(request: StaffRequest, issued: list[services.Issued], area: SmallArea) -> HttpResponse:
    start = request.build_absolute_uri(reverse("respondent:start"))
    slips = [
        Slip(
            household=i.invitation.household,
            code=i.code,
            url=request.build_absolute_uri(reverse("respondent:home", args=[i.code])),
            start_url=start,
            enumerator=request.user.get_full_name(),
        )
        for i in issued
    ]
    response = render(
        request,
        "self_enumeration/slips.html",
        {
            "area": area,
            "slips": [(slip, qr_svg(slip.url)) for slip in slips],
            "expires_at": issued[0].invitation.expires_at if issued else None,
        },
    )
    # The codes are on this page and nowhere else: no cache may keep it.
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@never_cache
@role_required(*ISSUERS)
@url_objects(pk=Household)
def invitation_issue_view(request: StaffRequest, pk: int) -> HttpResponse:
    household = _household(request, pk)
    try:
        issued = services.invitation_issue(household=household, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("self_enumeration:area", pk=household.small_area_id)
    return _slips_page(request, [issued], household.small_area)


@require_POST
@never_cache
@role_required(*ISSUERS)
@url_objects(pk=SmallArea)
def area_issue_view(request: StaffRequest, pk: int) -> HttpResponse:
    area = _area(request, pk)
    try:
        issued = services.invitations_issue_for_area(small_area=area, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect("self_enumeration:area", pk=area.pk)
    if not issued:
        messages.info(request, _("Every listed household of this small area has an invitation already."))
        return redirect("self_enumeration:area", pk=area.pk)
    return _slips_page(request, issued, area)


@require_POST
@role_required(*ISSUERS)
@url_objects(pk=Invitation)
def invitation_revoke_view(request: StaffRequest, pk: int) -> HttpResponse:
    invitation = get_object_or_404(Invitation.objects.visible_to(request.user).select_related("household"), pk=pk)
    try:
        services.invitation_revoke(invitation=invitation, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The code no longer opens the household's form."))
    return redirect("self_enumeration:area", pk=invitation.household.small_area_id)


@require_POST
@never_cache
@role_required(*ISSUERS)
def slips_pdf_view(request: StaffRequest) -> HttpResponse:
    """The slips of the codes just issued, as a PDF. The codes come back from the slip page (the database keeps
    only their hashes); each must open an invitation the user sees."""
    codes = request.POST.getlist("code")[:MAX_SLIPS_PER_PDF]
    start = request.build_absolute_uri(reverse("respondent:start"))
    slips = []
    expires = None
    for code in codes:
        invitation = (
            Invitation.objects.visible_to(request.user)
            .active()
            .select_related("household__small_area")
            .filter(code_hash=services.code_hash(code))
            .first()
            if services.code_well_formed(code)
            else None
        )
        if invitation is None:
            raise Http404
        expires = invitation.expires_at
        slips.append(
            Slip(
                household=invitation.household,
                code=services.normalise_code(code),
                url=request.build_absolute_uri(reverse("respondent:home", args=[services.normalise_code(code)])),
                start_url=start,
                enumerator=request.user.get_full_name(),
            )
        )
    if not slips:
        raise Http404
    body = slips_pdf(
        slips,
        issuer=district_of(request.user).office_name,
        expires_at=f"{timezone.localtime(expires):%Y-%m-%d %H:%M}" if expires else "",
    )
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = 'inline; filename="self-enumeration-slips.pdf"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@never_cache
@role_required(*READERS)
@url_objects(pk=Household)
def verification(request: StaffRequest, pk: int) -> HttpResponse:
    """A declared form: the declaration, what changed since (item by item), and taking it up, correcting it and
    signing it for its enumerator."""
    household = _household(request, pk)
    declaration = selectors.declaration_for(household)
    if declaration is None:
        raise Http404
    unmasked = personal_data_shown(request, request.user, household)
    issues = household_issues(household) if declaration.taken_up_at else []
    blocking = hard_issues(issues)
    return render(
        request,
        "self_enumeration/verification.html",
        {
            "household": household,
            "declaration": declaration,
            "changes": (
                selectors.declared_changes(declaration, household, unmasked=unmasked) if declaration.taken_up_at else []
            ),
            "issues": [{"code": i.code, "message": i.message, "hard": i in blocking} for i in issues],
            "hard": len(blocking),
            "is_registrar": household.registrar_id == request.user.pk,
            "may_take_up": declaration.taken_up_at is None and request.user.role in FIELD,
            "self_mode": household.collection_mode == CollectionMode.SELF,
            "sign_form": SignForm(initial={"version": household.version}),
            "unmasked": unmasked,
        },
    )


@require_POST
@role_required(*FIELD)
@url_objects(pk=Household)
def take_up_view(request: StaffRequest, pk: int) -> HttpResponse:
    household = _household(request, pk)
    declaration = selectors.declaration_for(household)
    if declaration is None:
        raise Http404
    try:
        services.declaration_take_up(declaration=declaration, actor=request.user)
    except (ApplicationError, ValidationError) as exc:
        messages.error(request, getattr(exc, "message", None) or "; ".join(getattr(exc, "messages", [])))
    else:
        messages.success(request, _("The declared form is now your draft: check it with the household, then sign."))
    return redirect("self_enumeration:verification", pk=household.pk)


@require_POST
@role_required(*FIELD)
@url_objects(pk=Household)
def sign_view(request: StaffRequest, pk: int) -> HttpResponse:
    household = _household(request, pk)
    form = SignForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter your password to sign."))
        return redirect("self_enumeration:verification", pk=household.pk)
    try:
        services.self_report_sign(
            household=household,
            signer=request.user,
            password=form.cleaned_data["password"],
            expected_version=form.cleaned_data["version"],
        )
    except (ApplicationError, ValidationError) as exc:
        messages.error(request, getattr(exc, "message", None) or "; ".join(getattr(exc, "messages", [])))
        return redirect("self_enumeration:verification", pk=household.pk)
    messages.success(request, _("Signed: the self-reported form goes to review."))
    return redirect("enumeration:household-detail", pk=household.pk)


@require_GET
@role_required(*READERS)
def uptake_view(request: HttpRequest) -> HttpResponse:
    user = request.user
    rows = list(selectors.uptake(user=user))  # type: ignore[arg-type]
    totals = {
        key: sum(row[key] for row in rows)
        for key in ("listed", "invited", "started", "declared", "verified", "duplicates")
    }
    return render(request, "self_enumeration/uptake.html", {"rows": rows, "totals": totals})
