from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from census import views
from census.permissions import public
from census.staffing import views as staffing_views
from census.views_api import api_urlpatterns
from enumeration.views import offline as offline_views

# (SimpleAdminConfig, settings.INSTALLED_APPS: the admin modules are registered here, where the admin is served.)
admin.autodiscover()

urlpatterns = [
    path("", views.home, name="home"),
    path("favicon.ico", views.favicon),
    path("healthz", views.healthz, name="healthz"),
    # The service worker's scope is its own path's folder: served from the root it covers /enumeration/ (issue 19).
    path("sw.js", offline_views.service_worker, name="service-worker"),
    path("manifest.webmanifest", offline_views.web_app_manifest, name="web-app-manifest"),
    path(
        "accounts/login/",
        public(auth_views.LoginView.as_view(template_name="registration/login.html", redirect_authenticated_user=True)),
        name="login",
    ),
    # Logging out also deletes the enumerator's copies on the phone (Clear-Site-Data, issue 19).
    path("accounts/logout/", public(offline_views.logout_clearing_the_phone), name="logout"),
    path("accounts/password/", staffing_views.password_change, name="password-change"),
    path("i18n/setlang/", views.set_language, name="set_language"),
    path("frame/", include("census.urls_frame")),
    path("jobs/", include("census.urls_jobs")),
    path("enumeration/self/", include("enumeration.self_enumeration.urls")),
    path("enumeration/", include("enumeration.urls")),
    # Self-enumeration (自主填报): the respondent's pages, opened by a household's code alone.
    path("self/", include("enumeration.self_enumeration.urls_public")),
    path("supervision/", include("supervision.urls")),
    path("api/", include(api_urlpatterns)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file of its own, so the Content-Security-Policy
    # needs no inline script; the template drops the package's inline <style> for the same reason.
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="api/swagger_ui.html"),
        name="api-docs",
    ),
    path("admin/", admin.site.urls),
]

# A page (JSON on the API) for what no view answered: the database unreachable is a 503, not a bare 500.
handler500 = "census.errors.server_error"
