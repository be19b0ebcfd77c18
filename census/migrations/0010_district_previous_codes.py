"""The district's former codes move from the settings into the district's row.

An installation made before several districts could share one kept the district's former GB/T 2260 codes in
``CENSUS_DISTRICT_PREVIOUS_CODES``; its district row (the one whose code is ``CENSUS_DISTRICT_CODE``) takes them
over here, so that nothing the ID-number rules relied on is lost.
"""

from typing import Any

import django.contrib.postgres.fields
from django.conf import settings
from django.db import migrations, models


def previous_codes_from_settings(apps: Any, schema_editor: Any) -> None:
    """Give the installation's district the former codes the settings held (unless it has some already)."""
    district_model = apps.get_model("census", "District")
    codes = [str(code) for code in getattr(settings, "CENSUS_DISTRICT_PREVIOUS_CODES", [])]
    code = getattr(settings, "CENSUS_DISTRICT_CODE", "")
    if codes and code:
        district_model.objects.filter(code=code, previous_codes=[]).update(previous_codes=codes)


class Migration(migrations.Migration):
    dependencies = [
        ("census", "0009_audit_event_object_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="district",
            name="previous_codes",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.CharField(max_length=6),
                blank=True,
                default=list,
                help_text="Codes the district had before a boundary change, still found in older ID numbers.",
                size=None,
                verbose_name="former codes",
            ),
        ),
        migrations.RunPython(previous_codes_from_settings, migrations.RunPython.noop),
    ]
