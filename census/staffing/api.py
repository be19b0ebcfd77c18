"""Staff API for the offices: list, create, read and change the accounts they manage (``/api/frame/staff/``).

ID numbers leave the API masked: an office that needs one in the clear reads it on the staff page, where the
view is written to the audit log.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from census.api import CountedPagination
from census.models import Department, Role, StaffMember, StaffStatus, Township
from census.passwords import password_login
from census.permissions import AnyRole, HasRole, staff_of
from census.privacy import mask_id_number
from census.security import client_ip
from census.staffing import selectors, services

OFFICES = (Role.TOWNSHIP_OFFICE, Role.DISTRICT_OFFICE)


class StaffOutput(serializers.Serializer[StaffMember]):
    id = serializers.IntegerField()
    username = serializers.CharField()
    full_name = serializers.CharField(source="get_full_name")
    role = serializers.CharField()
    township = serializers.CharField(source="township_id", allow_null=True)
    department = serializers.IntegerField(source="department_id", allow_null=True)
    phone = serializers.CharField()
    id_number = serializers.SerializerMethodField(help_text="masked")
    unit = serializers.CharField()
    selected_on = serializers.DateField(allow_null=True)
    trained_on = serializers.DateField(allow_null=True)
    exam_score = serializers.IntegerField(allow_null=True)
    credential_no = serializers.CharField()
    status = serializers.CharField()
    must_change_password = serializers.BooleanField()

    def get_id_number(self, member: StaffMember) -> str:
        return mask_id_number(member.id_number)


class StaffInput(serializers.Serializer[Any]):
    username = serializers.CharField(max_length=150, required=False, allow_blank=True)
    full_name = serializers.CharField(max_length=60)
    role = serializers.ChoiceField(choices=Role.choices)
    township = serializers.CharField(max_length=9, required=False, allow_blank=True, allow_null=True)
    department = serializers.IntegerField(required=False, allow_null=True)
    phone = serializers.CharField(max_length=20, required=False, allow_blank=True)
    id_number = serializers.CharField(max_length=20, required=False, allow_blank=True)
    unit = serializers.CharField(max_length=100, required=False, allow_blank=True)
    selected_on = serializers.DateField(required=False, allow_null=True)
    trained_on = serializers.DateField(required=False, allow_null=True)
    exam_score = serializers.IntegerField(min_value=0, max_value=100, required=False, allow_null=True)
    credential_no = serializers.CharField(max_length=30, required=False, allow_blank=True)


class StaffChangeInput(StaffInput):
    full_name = serializers.CharField(max_length=60, required=False)
    role = serializers.ChoiceField(choices=Role.choices, required=False)
    status = serializers.ChoiceField(choices=StaffStatus.choices, required=False)
    reason = serializers.CharField(max_length=300, required=False, allow_blank=True)


def _place(user: StaffMember, data: dict[str, Any]) -> dict[str, Any]:
    """Township and department codes of the input as the ids the services take, looked up within the caller's
    scope (a township or department outside it is as unknown as one that does not exist)."""
    out: dict[str, Any] = {}
    if "township" in data:
        code = data.pop("township") or None
        if code is not None and not Township.objects.visible_to(user).filter(code=code).exists():
            raise serializers.ValidationError({"township": [_("Unknown township.")]})
        out["township_id"] = code
    if "department" in data:
        pk = data.pop("department")
        if pk is not None and not Department.objects.visible_to(user).filter(pk=pk).exists():
            raise serializers.ValidationError({"department": [_("Unknown department.")]})
        out["department_id"] = pk
    return out


class StaffListCreateApi(APIView):
    permission_classes = [IsAuthenticated, HasRole.of(*OFFICES)]
    pagination_class = CountedPagination

    def get_queryset(self) -> QuerySet[StaffMember]:
        return selectors.staff_list(user=staff_of(self.request))

    @extend_schema(responses=StaffOutput(many=True))
    def get(self, request: Request) -> Response:
        paginator = CountedPagination()
        rows = selectors.staff_list(
            user=staff_of(request),
            role=request.query_params.get("role", ""),
            status=request.query_params.get("status", ""),
            township=request.query_params.get("township", ""),
        )
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(StaffOutput(page or [], many=True).data)  # type: ignore[arg-type]

    @extend_schema(request=StaffInput, responses={201: StaffOutput})
    def post(self, request: Request) -> Response:
        """Create an account. A township office creates enumerators and supervisors of its own township; the
        township may be left out."""
        user = staff_of(request)
        data = StaffInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        if user.role == Role.TOWNSHIP_OFFICE and not values.get("township"):
            values["township"] = user.township_id
        place = _place(user, values)
        username = (values.pop("username", "") or "").strip() or values.get("phone", "")
        member = services.staff_create(
            username=username, district_id=user.district_id or "", actor=user, **values, **place
        )
        return Response(StaffOutput(member).data, status=status.HTTP_201_CREATED)


class StaffDetailApi(APIView):
    url_objects = {"pk": StaffMember}
    permission_classes = [IsAuthenticated, HasRole.of(*OFFICES)]

    @extend_schema(responses=StaffOutput)
    def get(self, request: Request, pk: int) -> Response:
        member = get_object_or_404(StaffMember.objects.visible_to(staff_of(request)), pk=pk)
        return Response(StaffOutput(member).data)

    @extend_schema(request=StaffChangeInput, responses=StaffOutput)
    def patch(self, request: Request, pk: int) -> Response:
        """Change particulars, role or place; ``status`` (with a ``reason``) suspends a person, records that they
        left (the account stops at once) or takes them back."""
        user = staff_of(request)
        member = get_object_or_404(StaffMember.objects.visible_to(user), pk=pk)
        data = StaffChangeInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        new_status = values.pop("status", None)
        reason = values.pop("reason", "")
        values.update(_place(user, values))
        if values:
            member = services.staff_update(member=member, actor=user, **values)
        if new_status is not None:
            member = services.staff_status_set(member=member, status=new_status, reason=reason, actor=user)
        return Response(StaffOutput(member).data)


# --- API tokens ---------------------------------------------------------------------------------------------------


class TokenInput(serializers.Serializer[Any]):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False, style={"input_type": "password"})


class TokenOutput(serializers.Serializer[Any]):
    token = serializers.CharField(help_text="Send it as the header 'Authorization: Token <token>'.")
    expires_at = serializers.DateTimeField()
    username = serializers.CharField()
    role = serializers.CharField()


class TokenObtainApi(APIView):
    """Sign a device in: a login name and password give an API token (the device's earlier token ends)."""

    permission_classes = [AllowAny]  # the way in: no account is signed in yet
    # A device sends no cookie and is not asked for a CSRF token; a browser that is signed in is (DRF checks CSRF
    # for session authentication only), as on every other URL.
    authentication_classes = [SessionAuthentication]

    @extend_schema(
        request=TokenInput,
        responses={201: TokenOutput},
        description=(
            "A new API token for the account, valid API_TOKEN_MAX_AGE_DAYS days. Wrong passwords count towards "
            "the login's lockout (429 while it lasts); an account that still has a one-time password gets 403 "
            "with code password_change_required until its owner has chosen a password on the website."
        ),
    )
    def post(self, request: Request) -> Response:
        data = TokenInput(data=request.data)
        data.is_valid(raise_exception=True)
        django_request = request._request
        member = password_login(
            request=django_request,
            username=data.validated_data["username"],
            password=data.validated_data["password"],
        )
        if member is None:
            if getattr(django_request, "axes_locked_out", False):
                minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
                return Response(
                    {
                        "detail": _("Too many failed logins: wait %(minutes)d minutes.") % {"minutes": minutes},
                        "code": "locked_out",
                    },
                    status=status.HTTP_429_TOO_MANY_REQUESTS,
                )
            return Response(
                {"detail": _("Wrong login name or password."), "code": "bad_credentials"},
                status=status.HTTP_401_UNAUTHORIZED,
            )
        token = services.api_token_issue(member=member, ip_address=client_ip(django_request))
        expires = token.created + datetime.timedelta(days=settings.API_TOKEN_MAX_AGE_DAYS)
        body = {"token": token.key, "expires_at": expires, "username": member.username, "role": member.role}
        return Response(TokenOutput(body).data, status=status.HTTP_201_CREATED)


class TokenRevokeApi(APIView):
    """End the token the request is made with (a device signing out)."""

    permission_classes = [IsAuthenticated, AnyRole]

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        services.api_tokens_revoke(member=staff_of(request), actor=staff_of(request))
        return Response(status=status.HTTP_204_NO_CONTENT)
