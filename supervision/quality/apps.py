from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class QualityConfig(AppConfig):
    """Nightly data-quality checks and their findings (谁普查、谁负责), the hukou roster comparison."""

    name = "supervision.quality"
    label = "quality"
    verbose_name = _("Data quality")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from enumeration.synthetic.district import district_seeded
        from supervision.quality import jobs  # noqa: F401  (registers the job handlers)
        from supervision.quality.synthetic import on_district_seeded

        district_seeded.connect(on_district_seeded, dispatch_uid="quality-hukou-roster")
