"""Pages of completeness; included under the ``supervision`` namespace."""

from django.urls import URLPattern, URLResolver, path

from supervision.completeness import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("completeness/", views.overview, name="completeness"),
    path("completeness/areas/<int:pk>/", views.area, name="completeness-area"),
    path("completeness/areas/<int:pk>/visits/", views.visit_add, name="visit-add"),
    path("completeness/callbacks/", views.my_callbacks, name="my-callbacks"),
    path("completeness/coverage/", views.coverage, name="coverage"),
    path("completeness/recheck/draw/", views.recheck_draw_view, name="recheck-draw"),
    path("completeness/coverage/clerical/", views.clerical, name="clerical"),
    path("completeness/coverage/clerical/decide/", views.clerical_decide_view, name="clerical-decide"),
    path("completeness/recheck/mine/", views.my_rechecks, name="my-rechecks"),
    path("completeness/recheck/<int:pk>/", views.recheck_area, name="recheck-area"),
    path("completeness/recheck/<int:pk>/override/", views.recheck_override_view, name="recheck-override"),
    path("completeness/recheck/<int:pk>/interview/", views.recheck_household, name="recheck-household"),
]
