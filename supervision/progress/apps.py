from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProgressConfig(AppConfig):
    """Progress dashboards, summary tables and exports."""

    name = "supervision.progress"
    label = "progress"
    verbose_name = _("Progress and summaries")
    default_auto_field = "django.db.models.BigAutoField"
