from django.urls import path

from census import views_jobs

app_name = "jobs"

urlpatterns = [
    path("", views_jobs.job_list, name="list"),
    path("<int:pk>/", views_jobs.job_detail, name="detail"),
    path("<int:pk>/download/", views_jobs.job_download, name="download"),
    path("<int:pk>/retry/", views_jobs.job_retry_view, name="retry"),
]
