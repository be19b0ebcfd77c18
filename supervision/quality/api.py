"""REST API of the quality part: findings (read, explain, verify, reject), check runs, the roster comparison.

Querysets come from ``visible_to``; writes go through ``supervision.quality.services`` (their
``ApplicationError``/``ConflictError`` become 400/409 in ``census.api.exception_handler``). Names and ID numbers
in the evidence are masked for readers who may not see them (``census.privacy``'s one rule, as on the pages), and
a response that shows them unmasked writes one audit event naming the findings.
"""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from census.models import Role, Township
from census.permissions import HasRole, staff_of
from census.privacy import client_address
from supervision.quality import selectors, services
from supervision.quality.models import CheckRun, Finding, RunMode
from supervision.quality.presentation import finding_message, message_values, personal_data_unmasked

READERS = (Role.ENUMERATOR, Role.SUPERVISOR, Role.TOWNSHIP_OFFICE, Role.DISTRICT_OFFICE, Role.AUDITOR)
FIELD_STAFF = (Role.ENUMERATOR, Role.SUPERVISOR)
VERIFIERS = (Role.SUPERVISOR, Role.TOWNSHIP_OFFICE, Role.DISTRICT_OFFICE)
OFFICES = (Role.TOWNSHIP_OFFICE, Role.DISTRICT_OFFICE)


class FindingSerializer(serializers.ModelSerializer[Finding]):
    message = serializers.SerializerMethodField()
    evidence = serializers.SerializerMethodField()
    responsible = serializers.SerializerMethodField()
    supervisor = serializers.SerializerMethodField()

    class Meta:
        model = Finding
        fields = (
            "id",
            "rule",
            "rule_group",
            "severity",
            "acts",
            "record_key",
            "state",
            "message",
            "evidence",
            "household",
            "row_no",
            "item",
            "township",
            "village",
            "small_area",
            "responsible",
            "supervisor",
            "explanation",
            "explained_at",
            "verified_at",
            "resolved_at",
            "escalated_at",
            "first_seen_at",
            "last_seen_at",
        )
        read_only_fields = fields

    def _unmasked(self) -> bool:
        """Decided once per response by the view (``finding_response``/``FindingListApi``): masked unless told."""
        return bool(self.context.get("unmasked", False))

    def get_responsible(self, finding: Finding) -> str:
        return str(finding.responsible) if finding.responsible_id else ""

    def get_supervisor(self, finding: Finding) -> str:
        return str(finding.supervisor) if finding.supervisor_id else ""

    def get_message(self, finding: Finding) -> str:
        return finding_message(finding.rule, finding.evidence, unmasked=self._unmasked())

    def get_evidence(self, finding: Finding) -> dict[str, Any]:
        return message_values(finding.evidence, unmasked=self._unmasked())


def _findings(request: Request) -> Any:
    return selectors.findings_visible(user=staff_of(request))


def finding_response(request: Request, finding: Finding) -> Response:
    """One finding as the API shows it, masked by the pages' rule; shown unmasked, with its audit event."""
    user = staff_of(request)
    unmasked = personal_data_unmasked(user, finding)
    if unmasked:
        services.finding_view_record(actor=user, finding=finding, ip_address=client_address(request))
    return Response(FindingSerializer(finding, context={"request": request, "unmasked": unmasked}).data)


class FindingListApi(generics.ListAPIView[Finding]):
    permission_classes = [IsAuthenticated, HasRole.of(*READERS)]
    serializer_class = FindingSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("state", str, description="open, explained, corrected, verified, closed or unresolved"),
            OpenApiParameter("rule", str),
            OpenApiParameter("mine", bool, description="only findings routed to me (responsible or supervisor)"),
        ]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """A page of findings; shown unmasked, the page's one audit event names those whose evidence holds a name
        or an ID number."""
        user = staff_of(request)
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        findings = list(page if page is not None else queryset)
        unmasked = personal_data_unmasked(user)
        if unmasked:
            services.findings_view_record(
                actor=user, findings=findings, message_only=False, ip_address=client_address(request)
            )
        data = FindingSerializer(findings, many=True, context={"request": request, "unmasked": unmasked}).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no user to scope by
            return Finding.objects.none()
        params = self.request.query_params
        user = staff_of(self.request)
        findings = selectors.finding_list(
            user=user, state=params.get("state", "unresolved"), rule=params.get("rule", "")
        )
        if params.get("mine") in ("1", "true"):
            findings = findings.filter(services.finding_scope_filter(user))
        return findings.order_by(selectors.STATE_ORDER, "-first_seen_at", "-id")


class FindingDetailApi(generics.RetrieveAPIView[Finding]):
    permission_classes = [IsAuthenticated, HasRole.of(*READERS)]
    serializer_class = FindingSerializer

    def get_queryset(self) -> Any:
        return _findings(self.request)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return finding_response(request, self.get_object())


class ExplainInput(serializers.Serializer[Any]):
    explanation = serializers.CharField(max_length=2000)
    password = serializers.CharField(trim_whitespace=False)


class ReasonInput(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=500)


class FindingExplainApi(APIView):
    url_objects = {"pk": Finding}
    permission_classes = [IsAuthenticated, HasRole.of(*FIELD_STAFF)]
    serializer_class = ExplainInput

    @extend_schema(request=ExplainInput, responses=FindingSerializer)
    def post(self, request: Request, pk: int) -> Response:
        """The person responsible explains an open finding, signed with their password."""
        finding = get_object_or_404(_findings(request), pk=pk)
        data = ExplainInput(data=request.data)
        data.is_valid(raise_exception=True)
        finding = services.finding_explain(
            finding=finding,
            actor=staff_of(request),
            explanation=data.validated_data["explanation"],
            password=data.validated_data["password"],
        )
        return finding_response(request, finding)


class FindingVerifyApi(APIView):
    url_objects = {"pk": Finding}
    permission_classes = [IsAuthenticated, HasRole.of(*VERIFIERS)]

    @extend_schema(request=None, responses=FindingSerializer)
    def post(self, request: Request, pk: int) -> Response:
        """The supervisor confirms a correction or accepts an explanation."""
        finding = get_object_or_404(_findings(request), pk=pk)
        finding = services.finding_verify(finding=finding, actor=staff_of(request))
        return finding_response(request, finding)


class FindingRejectApi(APIView):
    url_objects = {"pk": Finding}
    permission_classes = [IsAuthenticated, HasRole.of(*VERIFIERS)]
    serializer_class = ReasonInput

    @extend_schema(request=ReasonInput, responses=FindingSerializer)
    def post(self, request: Request, pk: int) -> Response:
        """The supervisor sends an explanation back: the finding is open again."""
        finding = get_object_or_404(_findings(request), pk=pk)
        data = ReasonInput(data=request.data)
        data.is_valid(raise_exception=True)
        finding = services.finding_reject(
            finding=finding, actor=staff_of(request), reason=data.validated_data["reason"]
        )
        return finding_response(request, finding)


class CheckRunSerializer(serializers.ModelSerializer[CheckRun]):
    class Meta:
        model = CheckRun
        fields = (
            "id",
            "mode",
            "status",
            "township",
            "parts_total",
            "parts_done",
            "percent",
            "stats",
            "error",
            "job",
            "created_at",
            "started_at",
            "finished_at",
        )
        read_only_fields = fields


class RunInput(serializers.Serializer[Any]):
    mode = serializers.ChoiceField(choices=RunMode.choices, default=RunMode.INCREMENTAL)
    township = serializers.CharField(required=False, allow_blank=True, max_length=9)


class CheckRunListCreateApi(generics.ListAPIView[CheckRun]):
    permission_classes = [IsAuthenticated, HasRole.of(*OFFICES)]
    serializer_class = CheckRunSerializer

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no user to scope by
            return CheckRun.objects.none()
        return selectors.check_runs(user=staff_of(self.request)).order_by("-created_at", "-id")

    @extend_schema(request=RunInput, responses={201: CheckRunSerializer})
    def post(self, request: Request) -> Response:
        """Start a run for the caller's scope (a township office: its township; the district office: the district,
        or one township)."""
        user = staff_of(request)
        data = RunInput(data=request.data)
        data.is_valid(raise_exception=True)
        township = None
        code = data.validated_data.get("township") or ""
        if code:
            township = get_object_or_404(Township.objects.visible_to(user), code=code)
        run = services.check_run_start(user=user, mode=data.validated_data["mode"], township=township)
        return Response(CheckRunSerializer(run).data, status=status.HTTP_201_CREATED)


class CheckRunDetailApi(generics.RetrieveAPIView[CheckRun]):
    permission_classes = [IsAuthenticated, HasRole.of(*OFFICES)]
    serializer_class = CheckRunSerializer

    def get_queryset(self) -> Any:
        return selectors.check_runs(user=staff_of(self.request))


class RosterRowSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    name = serializers.CharField()
    roster = serializers.IntegerField()
    living_here = serializers.IntegerField()
    living_elsewhere = serializers.IntegerField()
    not_registered = serializers.IntegerField()
    registered = serializers.IntegerField()
    not_on_roster_local = serializers.IntegerField()
    not_on_roster_other = serializers.IntegerField()


class RosterClassificationApi(APIView):
    permission_classes = [IsAuthenticated, HasRole.of(*OFFICES, Role.AUDITOR)]

    @extend_schema(
        parameters=[OpenApiParameter("level", str, enum=list(selectors.ROSTER_LEVELS))],
        responses=RosterRowSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        """The roster comparison per township, village or small area."""
        level = request.query_params.get("level", "township")
        if level not in selectors.ROSTER_LEVELS:
            level = "township"
        return Response(
            RosterRowSerializer(selectors.roster_classification(staff_of(request), level=level), many=True).data
        )
