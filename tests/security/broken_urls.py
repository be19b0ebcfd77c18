"""A URL conf of deliberately wrong views, to show that the permission matrix catches each mistake."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path

from census.models import AuditAction, Role, SmallArea
from census.permissions import public, role_required, url_objects
from census.services import audit_record


def undeclared(request: HttpRequest) -> HttpResponse:
    return HttpResponse("hello")


@login_required
def lying(request: HttpRequest) -> HttpResponse:
    return HttpResponse("for everyone signed in")


lying.allowed_roles = (Role.DISTRICT_OFFICE,)  # type: ignore[attr-defined]


@role_required(Role.ENUMERATOR, Role.DISTRICT_OFFICE)
@url_objects(pk=SmallArea)
def leaking(request: HttpRequest, pk: int) -> HttpResponse:
    area = get_object_or_404(SmallArea, pk=pk)  # no visible_to: any area by id
    return HttpResponse(area.code)


@role_required(Role.DISTRICT_OFFICE)
def inline_script(request: HttpRequest) -> HttpResponse:
    return HttpResponse("<html><body><script>alert(1)</script></body></html>")


@role_required(Role.DISTRICT_OFFICE)
def unexplained_argument(request: HttpRequest, pk: int) -> HttpResponse:
    return HttpResponse("?")


@login_required
def writes_for_anyone(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        SmallArea.objects.update(name="changed")
    return HttpResponse("ok")


writes_for_anyone.allowed_roles = (Role.DISTRICT_OFFICE,)  # type: ignore[attr-defined]


@role_required(Role.AUDITOR)
@url_objects(pk=SmallArea)
def correct(request: HttpRequest, pk: int) -> HttpResponse:
    area = get_object_or_404(SmallArea.objects.visible_to(request.user), pk=pk)
    audit_record(actor=request.user, action=AuditAction.VIEW_PERSONAL_DATA, object_type="x")  # type: ignore[arg-type]
    return HttpResponse(f"<html><body><p>{area.code}</p></body></html>")


def layout_link(request: HttpRequest) -> HttpResponse:
    return HttpResponse("a page the layout links to")


urlpatterns = [
    path("login/", lambda request: HttpResponse("login"), name="login"),
    # The site's layout, in which the 403 and 404 pages are rendered, links to these.
    path("", public(layout_link), name="home"),
    path("language/", public(layout_link), name="set_language"),
    path("logout/", public(layout_link), name="logout"),
    path("password/", public(layout_link), name="password-change"),
    path("manifest.webmanifest", public(layout_link), name="web-app-manifest"),
    path("undeclared/", undeclared, name="undeclared"),
    path("lying/", lying, name="lying"),
    path("leaking/<int:pk>/", leaking, name="leaking"),
    path("inline-script/", inline_script, name="inline-script"),
    path("unexplained/<int:pk>/", unexplained_argument, name="unexplained-argument"),
    path("writes/", writes_for_anyone, name="writes-for-anyone"),
    path("correct/<int:pk>/", correct, name="correct"),
]
