from django.urls import path

from census import views_frame
from census.staffing import views as staffing

app_name = "frame"

urlpatterns = [
    path("townships/", views_frame.township_list, name="townships"),
    path("townships/<str:code>/", views_frame.township_detail, name="township"),
    path("villages/<str:code>/", views_frame.village_detail, name="village"),
    path("small-areas/", views_frame.small_area_list, name="small-areas"),
    path("small-areas/<int:pk>/", views_frame.small_area_detail, name="small-area"),
    path("import/", views_frame.frame_import, name="import"),
    path("export/", views_frame.frame_export, name="export"),
    path("staff/", staffing.staff_list, name="staff"),
    path("staff/new/", staffing.staff_new, name="staff-new"),
    path("staff/import/", staffing.staff_import, name="staff-import"),
    path("staff/import/template/", staffing.staff_import_template, name="staff-import-template"),
    path("staff/export/", staffing.staff_export, name="staff-export"),
    path("staff/<int:pk>/", staffing.staff_detail, name="staff-detail"),
    path("staff/<int:pk>/status/", staffing.staff_status, name="staff-status"),
    path("staff/<int:pk>/password/reset/", staffing.staff_password_reset, name="staff-password-reset"),
    path("staff/<int:pk>/tokens/revoke/", staffing.staff_tokens_revoke, name="staff-tokens-revoke"),
    path("staff/<int:pk>/credential/revoke/", staffing.staff_credential_revoke, name="staff-credential-revoke"),
    path("staff/credentials/", staffing.staff_credentials, name="staff-credentials"),
    path("credentials/check/<str:key>/", staffing.credential_check, name="credential-check"),
    path("assignments/", staffing.assignments, name="assignments"),
    path("departments/", staffing.department_list, name="departments"),
    path("departments/<int:pk>/", staffing.department_detail, name="department"),
    path("audit-log/", views_frame.audit_log, name="audit-log"),
]
