from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EnumerationConfig(AppConfig):
    name = "enumeration"
    verbose_name = _("Household registration")
    default_auto_field = "django.db.models.BigAutoField"
