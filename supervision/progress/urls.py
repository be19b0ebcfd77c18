"""Pages of this part of supervision; included under the ``supervision`` namespace."""

from django.urls import URLPattern, URLResolver, path

from supervision.progress import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("progress/", views.dashboard, name="dashboard"),
    path("progress/city/", views.city_dashboard, name="city-dashboard"),
    path("progress/city/summary/", views.city_summary_export, name="city-summary-export"),
    path("progress/townships/<str:code>/", views.township_dashboard, name="dashboard-township"),
    path("progress/tables/<str:name>/", views.progress_table, name="progress-table"),
    path("progress/tables/<str:name>/export/", views.progress_table_export, name="progress-table-export"),
    path("exports/", views.exports, name="exports"),
    path("exports/start/", views.export_start, name="export-start"),
]
