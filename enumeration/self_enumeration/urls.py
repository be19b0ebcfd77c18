"""Staff pages of self-enumeration, under /enumeration/self/."""

from django.urls import path

from enumeration.self_enumeration import views

app_name = "self_enumeration"

urlpatterns = [
    path("uptake/", views.uptake_view, name="uptake"),
    path("areas/<int:pk>/", views.area_invitations, name="area"),
    path("areas/<int:pk>/issue/", views.area_issue_view, name="area-issue"),
    path("households/<int:pk>/issue/", views.invitation_issue_view, name="issue"),
    path("invitations/<int:pk>/revoke/", views.invitation_revoke_view, name="revoke"),
    path("slips.pdf", views.slips_pdf_view, name="slips-pdf"),
    path("households/<int:pk>/", views.verification, name="verification"),
    path("households/<int:pk>/take-up/", views.take_up_view, name="take-up"),
    path("households/<int:pk>/sign/", views.sign_view, name="sign"),
]
