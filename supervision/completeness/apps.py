from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CompletenessConfig(AppConfig):
    """Visits and non-response per listed dwelling unit: every dwelling accounted for (见户就登)."""

    name = "supervision.completeness"
    label = "completeness"
    verbose_name = _("Completeness")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from supervision.completeness import receivers  # noqa: F401
