# Apart from 0005: PostgreSQL alters a table only once the rows updated in the same transaction are settled.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("enumeration", "0005_householdtransition_hmac"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="householdtransition",
            constraint=models.CheckConstraint(
                condition=models.Q(("hmac__regex", "^[0-9a-f]{64}$")), name="transition_hmac_hex"
            ),
        ),
    ]
