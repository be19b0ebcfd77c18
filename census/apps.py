from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CensusConfig(AppConfig):
    name = "census"
    verbose_name = _("Census frame and staff")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from census import database_roles, security
        from census.staffing import credentials, imports  # noqa: F401  (register the job handlers)

        security.connect_signals()
        # After every migrate, the application's database role gets the grants of the tables as they now are.
        post_migrate.connect(database_roles.grant_after_migrate, sender=self)
