"""The near-duplicate key on the person table, built without locking the table against writes (a district's
enumerators keep submitting while an installation upgrades)."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("census", "0012_city_office"),
        ("enumeration", "0011_household_form_position"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="person",
            index=models.Index(
                condition=models.Q(("d1_name", ""), _negated=True),
                fields=["d1_name", "d4_sex", "d5_birth_year", "d5_birth_month"],
                name="person_near_key_idx",
            ),
        ),
    ]
