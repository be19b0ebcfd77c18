from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrganisationConfig(AppConfig):
    """四落实 readiness, 两员 subsidies, the 督察整改 register, the enterprise directory, trainings."""

    name = "supervision.organisation"
    label = "organisation"
    verbose_name = _("Organisation and rectification")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the job handlers (census.jobs) of this part.
        from supervision.organisation import jobs  # noqa: F401
