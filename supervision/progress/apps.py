from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProgressConfig(AppConfig):
    """Progress dashboards, summary tables and exports."""

    name = "supervision.progress"
    label = "progress"
    verbose_name = _("Progress and summaries")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers the export job handlers and the household signal receivers.
        from supervision.progress import jobs, receivers  # noqa: F401
