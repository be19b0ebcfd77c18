"""The respondent's pages, under /self/: the only pages besides the login that need no account."""

from django.urls import path

from enumeration.self_enumeration import public

app_name = "respondent"

urlpatterns = [
    path("", public.start, name="start"),
    path("<str:code>/", public.respondent_home, name="home"),
    path("<str:code>/household/", public.respondent_household, name="household"),
    path("<str:code>/persons/<int:row>/", public.respondent_person, name="person"),
    path("<str:code>/persons/<int:row>/remove/", public.respondent_person_remove, name="person-remove"),
    path("<str:code>/review/", public.respondent_review, name="review"),
    path("<str:code>/done/", public.respondent_done, name="done"),
]
