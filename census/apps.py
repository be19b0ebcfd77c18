from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CensusConfig(AppConfig):
    name = "census"
    verbose_name = _("Census frame and staff")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from census import security
        from census.staffing import credentials, imports  # noqa: F401  (register the job handlers)

        security.connect_signals()
