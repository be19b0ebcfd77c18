"""Each district seals its ledger under a key of its own (enumeration.ledger.district_key).

The districts already stored signed everything so far with the installation's SIGNATURE_LEDGER_KEY: they keep
it (version 0), so that their signatures, state changes and declarations still verify. Districts added from
now on get a key of their own derived from it (version 1, the default).
"""

from typing import Any

from django.db import migrations, models


def existing_districts_keep_the_installation_key(apps: Any, schema_editor: Any) -> None:
    apps.get_model("census", "District").objects.update(ledger_key_version=0)


class Migration(migrations.Migration):
    dependencies = [
        ("census", "0010_district_previous_codes"),
    ]

    operations = [
        migrations.AddField(
            model_name="district",
            name="ledger_key_version",
            field=models.PositiveSmallIntegerField(
                choices=[(0, "the installation's key"), (1, "a key of its own")],
                default=1,
                verbose_name="ledger key version",
            ),
        ),
        migrations.RunPython(existing_districts_keep_the_installation_key, migrations.RunPython.noop),
    ]
