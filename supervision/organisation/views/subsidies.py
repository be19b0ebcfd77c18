"""两员 subsidy pages: what is due and paid per person, rates, settlement, payments, reductions, the sheet."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from census.listing import paginate_list
from census.models import Township
from census.permissions import StaffRequest, role_required, url_objects
from supervision.organisation import selectors, services
from supervision.organisation.forms import (
    SubsidyExportForm,
    SubsidyPaymentForm,
    SubsidyRatesForm,
    SubsidyReductionForm,
    SubsidySettleForm,
    add_service_errors,
)
from supervision.organisation.models import SubsidyDue, SubsidyPhase
from supervision.organisation.services.common import today
from supervision.organisation.views.common import OFFICE_ROLES, bar_chart, is_district

STATES = ("outstanding", "overdue", "flagged", "paid", "reduced")


@require_GET
@role_required(*OFFICE_ROLES)
def subsidy_list(request: StaffRequest) -> HttpResponse:
    user = request.user
    day = today()
    qs = selectors.subsidy_due_list(user=user)
    township = request.GET.get("township", "")
    if township:
        qs = qs.filter(township_id=township)
    phase = request.GET.get("phase", "")
    if phase in SubsidyPhase.values:
        qs = qs.filter(phase=phase)
    state = request.GET.get("state", "")
    if state == "outstanding":
        qs = qs.filter(outstanding__gt=0)
    elif state == "overdue":
        qs = qs.filter(pk__in=selectors.subsidy_overdue(user, today=day).values("pk"))
    elif state == "flagged":
        qs = qs.flagged()
    elif state == "paid":
        qs = qs.filter(outstanding=0)
    elif state == "reduced":
        qs = qs.filter(reduction_amount__gt=0)
    listing = paginate_list(
        request,
        qs,
        search_fields=("staff__username", "staff__last_name", "staff__first_name", "staff__credential_no"),
        sortable=("staff__username", "phase", "computed_amount", "amount_due", "amount_paid", "outstanding", "due_on"),
        default_sort="staff__username",
    )
    summary = selectors.subsidy_summary_by_township(user, today=day)
    chart = bar_chart(
        [row.name for row in summary],
        [
            (_("Paid"), [float(row.paid) for row in summary], "ok"),
            (_("Outstanding"), [float(row.outstanding) for row in summary], "bad"),
        ],
        stacked=True,
        horizontal=True,
    )
    overdue = selectors.subsidy_overdue(user, today=day)
    district = is_district(user)
    rates = services.subsidy_rates_for(district_id=user.district_id or "")
    return render(
        request,
        "organisation/subsidy_list.html",
        {
            "listing": listing,
            "summary": summary,
            "totals": {
                "due": sum((row.due for row in summary), Decimal("0")),
                "paid": sum((row.paid for row in summary), Decimal("0")),
                "outstanding": sum((row.outstanding for row in summary), Decimal("0")),
            },
            "chart": chart,
            "overdue": overdue[:10],
            "overdue_count": overdue.count(),
            "rates": rates,
            "phases": SubsidyPhase.choices,
            "phase": phase,
            "townships": Township.objects.visible_to(user).order_by("code"),
            "township": township,
            "state": state,
            "is_district": district,
            "settle_form": SubsidySettleForm(initial={"due_on": day}) if district else None,
            "export_form": SubsidyExportForm(user=user, initial={"township": user.township_id}),
            "unpaid_days": _unpaid_days(),
        },
    )


def _unpaid_days() -> int:
    return int(settings.ORGANISATION_SUBSIDY_UNPAID_DAYS)


@require_http_methods(["GET", "POST"])
@role_required(*OFFICE_ROLES)
def subsidy_rates(request: StaffRequest) -> HttpResponse:
    user = request.user
    rates = services.subsidy_rates_for(district_id=user.district_id or "")
    district = is_district(user)
    form = SubsidyRatesForm(
        request.POST or None,
        initial={phase: rates.rate_for(phase) for phase in SubsidyPhase.values},
    )
    if request.method == "POST":
        if not district:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.subsidy_rates_update(district_id=user.district_id or "", actor=user, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("The rates have been saved."))
                return redirect("supervision:subsidies")
    return render(request, "organisation/subsidy_rates.html", {"form": form, "rates": rates, "can_edit": district})


@require_POST
@role_required(*OFFICE_ROLES)
def subsidy_settle(request: StaffRequest) -> HttpResponse:
    if not is_district(request.user):
        raise PermissionDenied
    form = SubsidySettleForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(str(error) for error in errors))
        return redirect("supervision:subsidies")
    report = services.subsidy_settle(
        district_id=request.user.district_id or "",
        phase=form.cleaned_data["phase"],
        due_on=form.cleaned_data["due_on"],
        actor=request.user,
    )
    messages.success(
        request,
        _("Computed: %(created)d new, %(raised)d raised, %(unchanged)d unchanged.")
        % {"created": report.created, "raised": report.raised, "unchanged": report.unchanged},
    )
    if report.lower_kept:
        messages.warning(
            request,
            _(
                "For %(n)d people the accepted work now counts less than what was recorded; their amounts were "
                "kept. Lowering an amount needs a reduction with a reason and an approver."
            )
            % {"n": report.lower_kept},
        )
    return redirect("supervision:subsidies")


def _render_detail(
    request: StaffRequest,
    due: SubsidyDue,
    *,
    payment_form: SubsidyPaymentForm | None = None,
    reduction_form: SubsidyReductionForm | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "organisation/subsidy_detail.html",
        {
            "due": due,
            "payments": due.payments.select_related("township", "recorded_by").order_by("paid_on", "pk"),
            "payment_form": payment_form or SubsidyPaymentForm(initial={"paid_on": today(), "amount": due.outstanding}),
            "reduction_form": reduction_form
            or SubsidyReductionForm(user=request.user, initial={"reduction_amount": due.reduction_amount}),
            "overdue": due.outstanding > 0 and (today() - due.due_on).days > _unpaid_days(),
        },
        status=status,
    )


def _due(request: StaffRequest, pk: int) -> SubsidyDue:
    return get_object_or_404(
        selectors.subsidy_due_list(user=request.user).select_related("reduction_approved_by", "reduction_recorded_by"),
        pk=pk,
    )


@require_GET
@role_required(*OFFICE_ROLES)
@url_objects(pk=SubsidyDue)
def subsidy_detail(request: StaffRequest, pk: int) -> HttpResponse:
    return _render_detail(request, _due(request, pk))


@require_POST
@role_required(*OFFICE_ROLES)
@url_objects(pk=SubsidyDue)
def subsidy_pay(request: StaffRequest, pk: int) -> HttpResponse:
    due = _due(request, pk)
    form = SubsidyPaymentForm(request.POST)
    if form.is_valid():
        try:
            services.subsidy_payment_record(due=due, actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The payment has been recorded."))
            return redirect("supervision:subsidy-detail", pk=due.pk)
    return _render_detail(request, due, payment_form=form, status=400)


@require_POST
@role_required(*OFFICE_ROLES)
@url_objects(pk=SubsidyDue)
def subsidy_reduce(request: StaffRequest, pk: int) -> HttpResponse:
    due = _due(request, pk)
    form = SubsidyReductionForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            services.subsidy_reduce(
                due=due,
                reduction_amount=form.cleaned_data["reduction_amount"],
                reason=form.cleaned_data["reason"],
                approver=form.cleaned_data["approver"],
                actor=request.user,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The reduction has been recorded with its reason and approver."))
            return redirect("supervision:subsidy-detail", pk=due.pk)
    return _render_detail(request, due, reduction_form=form, status=400)


@require_POST
@role_required(*OFFICE_ROLES)
def subsidy_export(request: StaffRequest) -> HttpResponse:
    form = SubsidyExportForm(request.POST, user=request.user)
    if not form.is_valid():
        messages.error(request, _("Choose a township."))
        return redirect("supervision:subsidies")
    job = services.subsidy_sheet_export_start(township=form.cleaned_data["township"], actor=request.user)
    return redirect("jobs:detail", pk=job.pk)
