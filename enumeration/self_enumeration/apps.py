from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SelfEnumerationConfig(AppConfig):
    """Self-enumeration (自主填报): invitations, the respondent's pages, declarations to verify."""

    name = "enumeration.self_enumeration"
    label = "self_enumeration"
    verbose_name = _("Self-enumeration")
    default_auto_field = "django.db.models.BigAutoField"
