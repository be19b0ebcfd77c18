from django.urls import path

from enumeration import api

urlpatterns = [
    path("households/", api.HouseholdListCreateApi.as_view(), name="api-household-list"),
    path("households/submit/", api.HouseholdSubmitApi.as_view(), name="api-household-submit"),
    path("households/<int:pk>/", api.HouseholdDetailApi.as_view(), name="api-household-detail"),
    path("households/<int:pk>/confirm/", api.HouseholdConfirmApi.as_view(), name="api-household-confirm"),
    path("households/<int:pk>/sign/", api.HouseholdSignApi.as_view(), name="api-household-sign"),
    path("households/<int:pk>/transition/", api.HouseholdTransitionApi.as_view(), name="api-household-transition"),
    path("households/<int:pk>/versions/", api.HouseholdVersionsApi.as_view(), name="api-household-versions"),
    path("villages/<str:code>/long-form-sample/", api.LongFormSampleApi.as_view(), name="api-long-form-sample"),
]
