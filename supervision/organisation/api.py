"""REST API of the organisation part. Every queryset goes through visible_to; reads call the selectors."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from census.models import Role
from census.permissions import HasRole, staff_of
from supervision.organisation import selectors
from supervision.organisation.models import DirectoryUnit, RectificationTask, SubsidyDue, UnitReadiness
from supervision.organisation.views.common import (
    AWARENESS_ROLES,
    DISTRICT_AND_DEPARTMENTS,
    OFFICE_ROLES,
    READINESS_ROLES,
)


class AwarenessApi(APIView):
    """知晓率 per township, village or small area (``?within=`` a township or village code to drill down)."""

    permission_classes = [IsAuthenticated, HasRole.of(*AWARENESS_ROLES)]

    class OutputRow(serializers.Serializer[Any]):
        code = serializers.CharField()
        name = serializers.CharField()
        households = serializers.IntegerField(help_text="listed households with an answer")
        aware = serializers.IntegerField()
        unrecorded = serializers.IntegerField()
        rate = serializers.FloatField(allow_null=True)
        below_target = serializers.BooleanField()

    class Output(serializers.Serializer[Any]):
        level = serializers.CharField()
        within = serializers.CharField()
        target = serializers.FloatField()
        total = serializers.DictField()
        rows = serializers.ListField(child=serializers.DictField())

    @extend_schema(
        parameters=[
            OpenApiParameter("level", str, enum=list(selectors.LEVELS)),
            OpenApiParameter("within", str, description="a township (9 digits) or village (12 digits) code"),
        ],
        responses=Output,
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        within = request.query_params.get("within", "")
        default_level = {9: "village", 12: "small_area"}.get(len(within), "township")
        level = request.query_params.get("level", default_level)
        if level not in selectors.LEVELS:
            raise DRFValidationError({"level": f"one of {', '.join(selectors.LEVELS)}"})
        if within and (len(within) not in (9, 12) or not within.isdigit()):
            raise DRFValidationError({"within": "a 9-digit township or 12-digit village code"})
        report = selectors.awareness_rates(staff_of(request), level=level, within=within)
        rows = [self.OutputRow(row).data for row in report.rows]
        return Response(
            {
                "level": report.level,
                "within": report.within,
                "target": report.target,
                "total": self.OutputRow(report.total).data,
                "rows": rows,
            }
        )


class ReadinessOutput(serializers.ModelSerializer[UnitReadiness]):
    unit_name = serializers.CharField()
    deadline = serializers.DateField(allow_null=True, help_text="The earliest deadline among the items not yet done.")
    done_count = serializers.IntegerField()

    class Meta:
        model = UnitReadiness
        fields = (
            "id",
            "unit_kind",
            "unit_name",
            "township",
            "village",
            "department",
            "deadline",
            "ready_on",
            "done_count",
        )


class ReadinessListApi(generics.ListAPIView[UnitReadiness]):
    serializer_class = ReadinessOutput
    permission_classes = [IsAuthenticated, HasRole.of(*READINESS_ROLES)]
    filterset_fields = ("unit_kind", "township")

    def get_queryset(self) -> QuerySet[UnitReadiness]:
        return selectors.readiness_list(user=self.request.user).order_by("deadline", "pk")  # type: ignore[misc]


class ReadinessOverdueApi(generics.ListAPIView[UnitReadiness]):
    """Units whose 四落实 is not complete although their deadline has passed."""

    serializer_class = ReadinessOutput
    permission_classes = [IsAuthenticated, HasRole.of(*READINESS_ROLES)]

    def get_queryset(self) -> QuerySet[UnitReadiness]:
        return selectors.readiness_overdue(self.request.user)


class SubsidyDueOutput(serializers.ModelSerializer[SubsidyDue]):
    staff_username = serializers.CharField(source="staff.username")
    staff_name = serializers.CharField(source="staff.get_full_name")

    class Meta:
        model = SubsidyDue
        fields = (
            "id",
            "staff",
            "staff_username",
            "staff_name",
            "township",
            "phase",
            "households",
            "rate",
            "computed_amount",
            "reduction_amount",
            "reduction_reason",
            "amount_due",
            "amount_paid",
            "outstanding",
            "due_on",
            "overdue_flagged_at",
        )


class SubsidyDueListApi(generics.ListAPIView[SubsidyDue]):
    """What each person is owed and was paid. A field worker sees their own subsidies only."""

    serializer_class = SubsidyDueOutput
    permission_classes = [IsAuthenticated, HasRole.of(*OFFICE_ROLES, Role.ENUMERATOR, Role.SUPERVISOR)]
    filterset_fields = ("township", "phase")

    def get_queryset(self) -> QuerySet[SubsidyDue]:
        return selectors.subsidy_due_list(user=self.request.user).order_by("township_id", "staff_id", "phase")


class RectificationTaskOutput(serializers.ModelSerializer[RectificationTask]):
    item_number = serializers.CharField(source="item.number")
    item_title = serializers.CharField(source="item.title")
    evidence_count = serializers.IntegerField()

    class Meta:
        model = RectificationTask
        fields = (
            "id",
            "item",
            "item_number",
            "item_title",
            "measure",
            "department",
            "responsible_person",
            "deadline",
            "evidence_required",
            "status",
            "answer",
            "answered_on",
            "evidence_count",
        )


class RectificationTaskListApi(generics.ListAPIView[RectificationTask]):
    """Rectification tasks: a department sees its own, the district all."""

    serializer_class = RectificationTaskOutput
    permission_classes = [IsAuthenticated, HasRole.of(*DISTRICT_AND_DEPARTMENTS)]
    filterset_fields = ("status", "department")

    def get_queryset(self) -> QuerySet[RectificationTask]:
        return selectors.rectification_task_list(user=self.request.user).order_by("deadline", "pk")


class DirectoryUnitOutput(serializers.ModelSerializer[DirectoryUnit]):
    class Meta:
        model = DirectoryUnit
        fields = (
            "id",
            "credit_code",
            "name",
            "kind",
            "department",
            "township",
            "status",
            "last_reviewed_on",
            "removed_on",
            "removal_reason",
        )


class DirectoryUnitListApi(generics.ListAPIView[DirectoryUnit]):
    serializer_class = DirectoryUnitOutput
    permission_classes = [IsAuthenticated, HasRole.of(*DISTRICT_AND_DEPARTMENTS)]
    filterset_fields = ("kind", "status", "department", "credit_code")

    def get_queryset(self) -> QuerySet[DirectoryUnit]:
        return selectors.directory_unit_list(user=self.request.user).order_by("credit_code")


class DirectoryUnitDetailApi(generics.RetrieveAPIView[DirectoryUnit]):
    serializer_class = DirectoryUnitOutput
    permission_classes = [IsAuthenticated, HasRole.of(*DISTRICT_AND_DEPARTMENTS)]

    def get_queryset(self) -> QuerySet[DirectoryUnit]:
        return selectors.directory_unit_list(user=self.request.user)
