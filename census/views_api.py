"""REST API of the census frame: areas and the current user. Every queryset goes through visible_to."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import URLPattern, URLResolver, include, path
from rest_framework import generics, serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from census.models import SmallArea, StaffMember, Township, Village
from census.permissions import AnyRole, staff_of
from census.staffing import api as staffing_api


class TownshipOutput(serializers.ModelSerializer[Township]):
    class Meta:
        model = Township
        fields = ("code", "name", "kind", "district")


class VillageOutput(serializers.ModelSerializer[Village]):
    class Meta:
        model = Village
        fields = ("code", "name", "kind", "urban_rural_code", "township")


class SmallAreaOutput(serializers.ModelSerializer[SmallArea]):
    class Meta:
        model = SmallArea
        fields = ("id", "code", "name", "village", "township")


class TownshipListApi(generics.ListAPIView[Township]):
    permission_classes = [IsAuthenticated, AnyRole]  # every role; visible_to decides what they get
    serializer_class = TownshipOutput
    filterset_fields = ("kind",)

    def get_queryset(self) -> QuerySet[Township]:
        return Township.objects.visible_to(self.request.user).order_by("code")


class TownshipDetailApi(generics.RetrieveAPIView[Township]):
    permission_classes = [IsAuthenticated, AnyRole]  # every role; visible_to decides what they get
    serializer_class = TownshipOutput
    lookup_field = "code"

    def get_queryset(self) -> QuerySet[Township]:
        return Township.objects.visible_to(self.request.user)


class VillageListApi(generics.ListAPIView[Village]):
    permission_classes = [IsAuthenticated, AnyRole]  # every role; visible_to decides what they get
    serializer_class = VillageOutput
    filterset_fields = ("township", "urban_rural_code")

    def get_queryset(self) -> QuerySet[Village]:
        return Village.objects.visible_to(self.request.user).order_by("code")


class VillageDetailApi(generics.RetrieveAPIView[Village]):
    permission_classes = [IsAuthenticated, AnyRole]  # every role; visible_to decides what they get
    serializer_class = VillageOutput
    lookup_field = "code"

    def get_queryset(self) -> QuerySet[Village]:
        return Village.objects.visible_to(self.request.user)


class SmallAreaListApi(generics.ListAPIView[SmallArea]):
    permission_classes = [IsAuthenticated, AnyRole]  # every role; visible_to decides what they get
    serializer_class = SmallAreaOutput
    filterset_fields = ("village", "township")

    def get_queryset(self) -> QuerySet[SmallArea]:
        return SmallArea.objects.visible_to(self.request.user).order_by("code")


class SmallAreaDetailApi(generics.RetrieveAPIView[SmallArea]):
    permission_classes = [IsAuthenticated, AnyRole]  # every role; visible_to decides what they get
    serializer_class = SmallAreaOutput

    def get_queryset(self) -> QuerySet[SmallArea]:
        return SmallArea.objects.visible_to(self.request.user)


class MeApi(APIView):
    permission_classes = [IsAuthenticated, AnyRole]  # every role; visible_to decides what they get

    class MeSerializer(serializers.ModelSerializer[StaffMember]):
        class Meta:
            model = StaffMember
            fields = ("id", "username", "first_name", "last_name", "role", "district", "township", "department")

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(self.MeSerializer(staff_of(request)).data)

    def get_serializer_class(self) -> type[serializers.Serializer[Any]]:  # for the schema
        return self.MeSerializer


frame_api_urlpatterns = [
    path("townships/", TownshipListApi.as_view(), name="api-township-list"),
    path("townships/<str:code>/", TownshipDetailApi.as_view(), name="api-township-detail"),
    path("villages/", VillageListApi.as_view(), name="api-village-list"),
    path("villages/<str:code>/", VillageDetailApi.as_view(), name="api-village-detail"),
    path("small-areas/", SmallAreaListApi.as_view(), name="api-small-area-list"),
    path("small-areas/<int:pk>/", SmallAreaDetailApi.as_view(), name="api-small-area-detail"),
    path("me/", MeApi.as_view(), name="api-me"),
    path("staff/", staffing_api.StaffListCreateApi.as_view(), name="api-staff-list"),
    path("staff/<int:pk>/", staffing_api.StaffDetailApi.as_view(), name="api-staff-detail"),
]

api_urlpatterns: list[URLPattern | URLResolver] = [
    path("auth/token/", staffing_api.TokenObtainApi.as_view(), name="api-token"),
    path("auth/token/revoke/", staffing_api.TokenRevokeApi.as_view(), name="api-token-revoke"),
    path("frame/", include(frame_api_urlpatterns)),
    path("", include("enumeration.api_urls")),
    path("", include("supervision.api_urls")),
]
