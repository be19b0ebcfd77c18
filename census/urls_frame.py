from django.urls import path

from census import views_frame

app_name = "frame"

urlpatterns = [
    path("townships/", views_frame.township_list, name="townships"),
    path("townships/<str:code>/", views_frame.township_detail, name="township"),
    path("villages/<str:code>/", views_frame.village_detail, name="village"),
    path("small-areas/", views_frame.small_area_list, name="small-areas"),
    path("small-areas/<int:pk>/", views_frame.small_area_detail, name="small-area"),
    path("import/", views_frame.frame_import, name="import"),
    path("export/", views_frame.frame_export, name="export"),
    path("staff/", views_frame.staff_list, name="staff"),
    path("audit-log/", views_frame.audit_log, name="audit-log"),
]
