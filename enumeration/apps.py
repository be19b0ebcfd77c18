from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnumerationConfig(AppConfig):
    name = "enumeration"
    verbose_name = _("Household registration")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from census.staffing.signals import small_area_handed_over
        from enumeration import jobs  # noqa: F401  (registers the bulk-lock job)
        from enumeration.services.handover import on_small_area_handed_over

        small_area_handed_over.connect(on_small_area_handed_over, dispatch_uid="enumeration-households-hand-over")
