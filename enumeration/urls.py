from django.urls import path

from enumeration.views import areas, form, households, offline, review

app_name = "enumeration"

urlpatterns = [
    # the enumerator's start page and the listing (摸底)
    path("my-areas/", areas.my_areas, name="my-areas"),
    path("areas/<int:pk>/", areas.area_listing, name="area-listing"),
    path("areas/<int:pk>/buildings/", areas.building_add, name="building-add"),
    path("areas/<int:pk>/units/", areas.unit_add, name="unit-add"),
    path("areas/<int:pk>/households/", areas.household_add, name="household-add"),
    path("households/<int:pk>/listing/", areas.household_listing_edit, name="household-listing-edit"),
    path("listing/import/", areas.listing_import, name="listing-import"),
    # what the phone holds and has not sent (issue 19)
    path("outbox/", offline.outbox, name="outbox"),
    path("device/", offline.device_register, name="device-register"),
    path("device/wiped/", offline.device_wiped, name="device-wiped"),
    path("phones/", offline.phone_list, name="phones"),
    path("phones/<int:pk>/revoke/", offline.phone_revoke, name="phone-revoke"),
    # the household form
    path("households/<int:pk>/form/", form.household_form, name="household-form"),
    path("households/<int:pk>/autosave/", form.household_autosave, name="household-autosave"),
    path("households/<int:pk>/summary/", form.household_summary, name="household-summary"),
    path("households/<int:pk>/notes/", form.household_notes, name="household-notes"),
    path("households/<int:pk>/confirm/", form.household_confirm, name="household-confirm"),
    path("households/<int:pk>/sign/", form.household_sign_view, name="household-sign"),
    path("households/<int:pk>/long-form/", form.household_long_form, name="household-long-form"),
    # review
    path("households/", households.household_list, name="household-list"),
    path("households/<int:pk>/", review.household_detail, name="household-detail"),
    path("households/<int:pk>/approve/", review.household_approve_view, name="household-approve"),
    path("households/<int:pk>/return/", review.household_return_view, name="household-return"),
    path("households/<int:pk>/accept/", review.household_accept_view, name="household-accept"),
    path("households/<int:pk>/lock/", review.household_lock_view, name="household-lock"),
    path("households/<int:pk>/reopen/", review.household_reopen_view, name="household-reopen"),
    path("households/<int:pk>/override/", review.household_override_view, name="household-override"),
    path("review/", review.review_queue, name="review-queue"),
    path("review/approve-all/", review.review_approve_all, name="review-approve-all"),
    path("review/accept-all/", review.review_accept_all, name="review-accept-all"),
    path("review/lock-all/", review.review_lock_all, name="review-lock-all"),
    path("samples/", review.long_form_samples, name="long-form-samples"),
    path("samples/<str:code>/", review.long_form_sample_detail, name="long-form-sample"),
    path("samples/<str:code>/draw/", review.long_form_sample_draw_view, name="long-form-sample-draw"),
]
