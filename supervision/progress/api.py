"""REST API of the progress part: the aggregates per small area and the scored townships, for office roles.
Every queryset goes through ``visible_to``; a township office gets its own township."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from census.models import Role
from census.permissions import HasRole, staff_of
from supervision.progress import selectors
from supervision.progress.models import SmallAreaProgress

OFFICE_ROLES = (Role.TOWNSHIP_OFFICE, Role.DISTRICT_OFFICE)


class SmallAreaProgressOutput(serializers.ModelSerializer[SmallAreaProgress]):
    code = serializers.CharField(source="small_area.code")

    class Meta:
        model = SmallAreaProgress
        fields = (
            "small_area",
            "code",
            "township",
            "village",
            "households",
            *selectors.STATE_FIELDS,
            "persons_expected",
            "persons_registered",
            "persons_accepted",
            "aware_answered",
            "aware",
            "refreshed_at",
        )


class SmallAreaProgressListApi(generics.ListAPIView[SmallAreaProgress]):
    """Registration progress per small area (households by state, persons), as of ``refreshed_at``."""

    permission_classes = [IsAuthenticated, HasRole.of(*OFFICE_ROLES)]
    serializer_class = SmallAreaProgressOutput
    filterset_fields = ("township", "village")

    def get_queryset(self) -> QuerySet[SmallAreaProgress]:
        return SmallAreaProgress.objects.visible_to(self.request.user).select_related("small_area").order_by("pk")


class TownshipScoreOutput(serializers.Serializer[dict[str, Any]]):
    code = serializers.CharField()
    name = serializers.CharField()
    households = serializers.IntegerField()
    registered = serializers.IntegerField()
    signed_total = serializers.IntegerField()
    accepted_total = serializers.IntegerField()
    persons_expected = serializers.IntegerField()
    persons_registered = serializers.IntegerField()
    findings = serializers.IntegerField()
    completion = serializers.DecimalField(max_digits=5, decimal_places=1)
    awareness = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
    score = serializers.DecimalField(max_digits=5, decimal_places=1)
    points = serializers.DecimalField(max_digits=6, decimal_places=1)
    rank = serializers.IntegerField()


class TownshipScoreListApi(APIView):
    """Townships with their counts, score and rank (the district dashboard's table, by code)."""

    permission_classes = [IsAuthenticated, HasRole.of(*OFFICE_ROLES)]

    @extend_schema(responses=TownshipScoreOutput(many=True))
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        rows = selectors.scored_rows(selectors.township_rows(user=staff_of(request)), "code")
        return Response([TownshipScoreOutput(row).data for row in rows])

    def get_serializer_class(self) -> type[serializers.Serializer[Any]]:  # for the schema
        return TownshipScoreOutput
