"""Pages of this part of supervision; included under the ``supervision`` namespace."""

from django.urls import URLPattern, URLResolver, path

from supervision.quality import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("quality/mine/", views.my_findings, name="my-findings"),
    path("quality/findings/", views.finding_list, name="finding-list"),
    path("quality/findings/<int:pk>/", views.finding_detail, name="finding-detail"),
    path("quality/findings/<int:pk>/explain/", views.finding_explain, name="finding-explain"),
    path("quality/findings/<int:pk>/verify/", views.finding_verify, name="finding-verify"),
    path("quality/findings/<int:pk>/reject/", views.finding_reject, name="finding-reject"),
    path("quality/runs/", views.check_runs, name="check-runs"),
    path("quality/runs/<int:pk>/", views.check_run_detail, name="check-run"),
    path("quality/roster/", views.roster, name="roster"),
]
