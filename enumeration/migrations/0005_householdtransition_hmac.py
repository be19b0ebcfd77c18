"""Seal the review trail: an HMAC on every state change, linked to the household's change before it.

The rows already in the table are sealed here, as they stand at the upgrade, under the ledger key the
installation runs with (``SIGNATURE_LEDGER_KEY``): from then on an edit, insertion or removal of a state change
is visible to ``verify_signatures``. What was changed in the database *before* the upgrade cannot be told
apart from what the services wrote — the seal vouches for the trail as it was found. Run the upgrade with
the installation's own ledger key (the key of the signatures), or the trail will not verify afterwards.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations, models
from django.utils import timezone
from psycopg2.extras import execute_values

from enumeration import ledger

HOUSEHOLDS_PER_BATCH = 5000


def seal_trails(apps: Any, schema_editor: Any) -> None:
    """Each household's changes in (at, id) order — the order the trail is verified in — chained and sealed."""
    connection = schema_editor.connection
    table = apps.get_model("enumeration", "HouseholdTransition")._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT min(household_id), max(household_id) FROM {table}")
        low, high = cursor.fetchone()
        if low is None:
            return
        for start in range(low, high + 1, HOUSEHOLDS_PER_BATCH):
            cursor.execute(
                f"SELECT id, household_id, from_state, to_state, actor_id, at, reason FROM {table}"
                " WHERE household_id >= %s AND household_id < %s ORDER BY household_id, at, id",
                [start, start + HOUSEHOLDS_PER_BATCH],
            )
            sealed: list[tuple[int, str]] = []
            household, prev = None, ledger.TRAIL_START
            for pk, household_id, from_state, to_state, actor_id, at, reason in cursor.fetchall():
                if household_id != household:
                    household, prev = household_id, ledger.TRAIL_START
                prev = ledger.message_hmac(
                    ledger.transition_message(
                        household_id=household_id,
                        from_state=from_state,
                        to_state=to_state,
                        actor_id=actor_id,
                        at=at,
                        prev_hmac=prev,
                        reason=reason,
                    )
                )
                sealed.append((pk, prev))
            if sealed:
                execute_values(
                    cursor.cursor,
                    f"UPDATE {table} t SET hmac = v.hmac FROM (VALUES %s) AS v(id, hmac) WHERE t.id = v.id",
                    sealed,
                    page_size=2000,
                )


class Migration(migrations.Migration):
    dependencies = [
        ("enumeration", "0004_fewer_indexes"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="householdtransition",
            options={
                "ordering": ["household_id", "at", "id"],
                "verbose_name": "state change",
                "verbose_name_plural": "state changes",
            },
        ),
        migrations.AlterField(
            model_name="householdtransition",
            name="at",
            field=models.DateTimeField(default=timezone.now, verbose_name="time"),
        ),
        migrations.AddField(
            model_name="householdtransition",
            name="hmac",
            field=models.CharField(default="", max_length=64, verbose_name="HMAC under the ledger key"),
            preserve_default=False,
        ),
        migrations.RunPython(seal_trails, migrations.RunPython.noop, elidable=False),
    ]
