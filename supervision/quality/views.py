"""Pages of the quality part: my findings (谁普查、谁负责), the findings of an office, a finding with its history
and its actions, check runs with live progress, and the hukou roster."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from census.api import ApplicationError, ConflictError
from census.listing import paginate_list
from census.models import Role
from census.permissions import StaffRequest, role_required, url_objects
from census.privacy import client_address
from enumeration.rules.catalogue import CATALOGUE, RULES
from supervision.quality import selectors, services
from supervision.quality.forms import ExplainForm, RejectForm, RosterUploadForm, RunForm
from supervision.quality.models import CheckRun, Finding, FindingState, RunStatus
from supervision.quality.presentation import (
    ACTOR_LABELS,
    SEVERITY_LABELS,
    evidence_rows,
    finding_message,
    note_text,
    personal_data_unmasked,
)

FIELD_ROLES = (Role.ENUMERATOR, Role.SUPERVISOR)
OFFICES = (Role.TOWNSHIP_OFFICE, Role.DISTRICT_OFFICE)
LIST_ROLES = (Role.SUPERVISOR, *OFFICES)


def _decorate(request: StaffRequest, findings: Any) -> list[Finding]:
    """Messages for a page of findings, masked for readers who may not see names and ID numbers — and when they
    are shown unmasked, the page's one audit event naming the findings whose messages showed them."""
    unmasked = personal_data_unmasked(request.user)
    rows = list(findings)
    for finding in rows:
        finding.message = finding_message(finding.rule, finding.evidence, unmasked=unmasked)  # type: ignore[attr-defined]
        finding.rule_info = CATALOGUE.get(finding.rule)  # type: ignore[attr-defined]
    if unmasked:
        services.findings_view_record(
            actor=request.user, findings=rows, message_only=True, ip_address=client_address(request)
        )
    return rows


def _search(fields: tuple[str, ...]) -> Any:
    """The lists' search: part of a record key or a rule, or a whole ID number (``selectors.findings_search``)."""
    return lambda findings, query: selectors.findings_search(findings, query, fields=fields)


@require_GET
@role_required(*FIELD_ROLES)
def my_findings(request: StaffRequest) -> HttpResponse:
    show = request.GET.get("show", "act")
    # Verifying is the supervisor's: an enumerator has no findings to verify, so no such list either.
    if show not in ("act", "verify", "areas", "all") or (show == "verify" and request.user.role != Role.SUPERVISOR):
        show = "act"
    listing = paginate_list(
        request,
        selectors.my_findings(user=request.user, show=show),
        search=_search(("record_key", "rule")),
        sortable=("first_seen_at", "rule", "record_key"),
    )
    listing.page.object_list = _decorate(request, listing.page.object_list)  # type: ignore[assignment]
    summary = selectors.my_findings_summary(user=request.user, first=0)
    return render(request, "quality/my_findings.html", {"listing": listing, "show": show, "summary": summary})


@require_GET
@role_required(*LIST_ROLES)
def finding_list(request: StaffRequest) -> HttpResponse:
    state = request.GET.get("state", "unresolved")
    rule = request.GET.get("rule", "")
    township = request.GET.get("township", "")
    escalated = request.GET.get("escalated") == "1"
    listing = paginate_list(
        request,
        selectors.finding_list(user=request.user, state=state, rule=rule, township=township, escalated=escalated),
        search=_search(("record_key",)),
        sortable=("first_seen_at", "rule", "record_key", "state_order", "township_id"),
        default_sort="state_order",
    )
    listing.page.object_list = _decorate(request, listing.page.object_list)  # type: ignore[assignment]
    return render(
        request,
        "quality/finding_list.html",
        {
            "listing": listing,
            "state": state,
            "rule": rule,
            "township": township,
            "escalated": escalated,
            "states": FindingState.choices,
            "rules": [(r.code, r.name) for r in RULES],
            "townships": selectors.townships_for_runs(user=request.user)
            if request.user.role != Role.SUPERVISOR
            else [],
            "counts": selectors.finding_counts(user=request.user),
        },
    )


def _household_url(finding: Finding, user: Any) -> str:
    """The registrar goes to the form (to correct it); anyone else to the household's page."""
    if finding.household_id is None:
        return ""
    names = ["enumeration:household-detail"]
    if finding.responsible_id == user.pk:
        names.insert(0, "enumeration:household-form")
    for name in names:
        try:
            return reverse(name, args=[finding.household_id])
        except NoReverseMatch:
            continue
    return ""


def _finding_page(request: StaffRequest, finding: Finding, **extra: Any) -> HttpResponse:
    user = request.user
    unmasked = personal_data_unmasked(user, finding)
    if unmasked:
        services.finding_view_record(actor=user, finding=finding, ip_address=client_address(request))
    may_verify = finding.state in (FindingState.EXPLAINED, FindingState.CORRECTED) and services.may_verify(
        actor=user, finding=finding
    )
    context = {
        "finding": finding,
        "rule": CATALOGUE.get(finding.rule),
        "severity_label": SEVERITY_LABELS.get(finding.severity, finding.severity),
        "acts_label": ACTOR_LABELS.get(finding.acts, finding.acts),
        "message": finding_message(finding.rule, finding.evidence, unmasked=unmasked),
        "evidence": evidence_rows(finding.evidence, unmasked=unmasked),
        "note": note_text(finding.note),
        "events": selectors.finding_events(finding=finding),
        "last_checked_at": selectors.finding_last_checked_at(finding=finding),
        "household_url": _household_url(finding, user),
        "may_explain": finding.state == FindingState.OPEN and finding.responsible_id == user.pk,
        "may_verify": may_verify,
        "explain_form": extra.pop("explain_form", None) or ExplainForm(),
        "reject_form": extra.pop("reject_form", None) or RejectForm(),
        **extra,
    }
    return render(request, "quality/finding_detail.html", context, status=extra.get("status", 200))


@require_GET
@role_required(*FIELD_ROLES, *OFFICES, Role.AUDITOR)
@url_objects(pk=Finding)
def finding_detail(request: StaffRequest, pk: int) -> HttpResponse:
    finding = get_object_or_404(selectors.findings_visible(user=request.user), pk=pk)
    return _finding_page(request, finding)


@require_POST
@role_required(*FIELD_ROLES)
@url_objects(pk=Finding)
def finding_explain(request: StaffRequest, pk: int) -> HttpResponse:
    finding = get_object_or_404(selectors.findings_visible(user=request.user), pk=pk)
    form = ExplainForm(request.POST)
    if form.is_valid():
        try:
            services.finding_explain(
                finding=finding,
                actor=request.user,
                explanation=form.cleaned_data["explanation"],
                password=form.cleaned_data["password"],
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error("explanation", message)
        except ApplicationError as exc:
            form.add_error("password" if exc.code == "bad_password" else None, str(exc))
        else:
            messages.success(request, _("Your explanation is signed and waits for your supervisor."))
            return redirect("supervision:my-findings")
    return _finding_page(request, finding, explain_form=form)


@require_POST
@role_required(Role.SUPERVISOR, *OFFICES)
@url_objects(pk=Finding)
def finding_verify(request: StaffRequest, pk: int) -> HttpResponse:
    finding = get_object_or_404(selectors.findings_visible(user=request.user), pk=pk)
    try:
        services.finding_verify(finding=finding, actor=request.user)
    except (ApplicationError, ConflictError) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The finding is verified."))
    return redirect("supervision:finding-detail", pk=finding.pk)


@require_POST
@role_required(Role.SUPERVISOR, *OFFICES)
@url_objects(pk=Finding)
def finding_reject(request: StaffRequest, pk: int) -> HttpResponse:
    finding = get_object_or_404(selectors.findings_visible(user=request.user), pk=pk)
    form = RejectForm(request.POST)
    if form.is_valid():
        try:
            services.finding_reject(finding=finding, actor=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error("reason", message)
        except (ApplicationError, ConflictError) as exc:
            messages.error(request, str(exc))
            return redirect("supervision:finding-detail", pk=finding.pk)
        else:
            messages.success(request, _("The finding is open again for the registrar."))
            return redirect("supervision:finding-detail", pk=finding.pk)
    return _finding_page(request, finding, reject_form=form)


@require_http_methods(["GET", "POST"])
@role_required(*OFFICES)
def check_runs(request: StaffRequest) -> HttpResponse:
    user = request.user
    townships = (
        selectors.townships_for_runs(user=user) if user.role == Role.DISTRICT_OFFICE or user.is_superuser else None
    )
    form = RunForm(request.POST or None, townships=townships)
    if request.method == "POST" and form.is_valid():
        try:
            run = services.check_run_start(
                user=user, mode=form.cleaned_data["mode"], township=form.cleaned_data.get("township")
            )
        except (ApplicationError, ValidationError) as exc:
            messages.error(request, "; ".join(getattr(exc, "messages", [str(exc)])))
        else:
            messages.success(request, _("The checks are running."))
            return redirect("supervision:check-run", pk=run.pk)
    listing = paginate_list(
        request, selectors.check_runs(user=user), sortable=("created_at", "status"), default_sort="-created_at"
    )
    return render(request, "quality/check_runs.html", {"listing": listing, "form": form})


@require_GET
@role_required(*OFFICES)
@url_objects(pk=CheckRun)
def check_run_detail(request: StaffRequest, pk: int) -> HttpResponse:
    run = get_object_or_404(selectors.check_runs(user=request.user), pk=pk)
    parts = run.parts.select_related("township").order_by("township_id")
    timings = sorted(run.stats.get("checks", {}).items(), key=lambda item: -item[1])
    context = {"run": run, "parts": parts, "timings": timings, "RunStatus": RunStatus}
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "quality/_run_status.html", context)
    return render(request, "quality/check_run_detail.html", context)


@require_http_methods(["GET", "POST"])
@role_required(*OFFICES)
def roster(request: StaffRequest) -> HttpResponse:
    user = request.user
    form = RosterUploadForm(request.POST or None, request.FILES or None)
    may_import = user.is_superuser or user.role == Role.DISTRICT_OFFICE
    if request.method == "POST":
        if not may_import:
            raise Http404
        if form.is_valid():
            upload = form.cleaned_data["file"]
            job = services.roster_import_start(actor=user, file_name=upload.name, chunks=upload.chunks())
            messages.success(request, _("The roster is being imported."))
            return redirect("jobs:detail", pk=job.pk)
    level = request.GET.get("level", "township")
    if level not in selectors.ROSTER_LEVELS:
        level = "township"
    rows = selectors.roster_classification(user, level=level)
    totals = {name: sum(row[name] for row in rows) for name in selectors.ROSTER_MEASURES}
    return render(
        request,
        "quality/roster.html",
        {"rows": rows, "totals": totals, "level": level, "form": form, "may_import": may_import},
    )
