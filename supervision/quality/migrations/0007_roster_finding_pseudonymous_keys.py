"""Findings about roster persons are known by the pseudonym of the ID number, no longer by the number.

Before, ``ROSTER_NOT_REGISTERED`` wrote ``key = 'r<ID number>:<village>'`` and ``record_key = 'roster:<ID
number>'``, and the record key is shown (lists, the detail's title, the API) and searched to everyone who may
read the finding. Existing findings get the keys the checks now write (``checks.roster.NOT_REGISTERED``), so the
next run finds the same findings again — with their explanations and history — instead of closing them and
opening new ones. One statement; the pseudonym is computed by PostgreSQL as the checks compute it.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

from census import privacy

OLD_KEY = r"^r([0-9]{17}[0-9X]):(.*)$"
NEW_KEY = r"^r[0-9a-f]{20}:(.*)$"


def keys_forward(apps: Any, schema_editor: Any) -> None:
    pseudonym = privacy.pseudonym_sql("id_number", "x.number")
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE quality_finding f SET key = 'r' || x.pseudonym || ':' || x.village,
                                         record_key = 'roster:' || x.pseudonym
            FROM (
                SELECT x.id, x.village, {pseudonym} AS pseudonym
                FROM (SELECT id, substring(key FROM '{OLD_KEY}') AS number,
                             substring(key FROM '^r[0-9]{{17}}[0-9X]:(.*)$') AS village
                      FROM quality_finding WHERE rule = 'ROSTER_NOT_REGISTERED' AND key ~ '{OLD_KEY}') x
            ) x
            WHERE f.id = x.id
            """,
            privacy.pseudonym_params(),
        )


def keys_backward(apps: Any, schema_editor: Any) -> None:
    """Back to the numbers, from the evidence that still holds them."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE quality_finding SET key = 'r' || (evidence ->> 'id_number') || ':' || substring(key FROM '{NEW_KEY}'),
                                       record_key = 'roster:' || (evidence ->> 'id_number')
            WHERE rule = 'ROSTER_NOT_REGISTERED' AND key ~ '{NEW_KEY}' AND evidence ->> 'id_number' IS NOT NULL
            """
        )


class Migration(migrations.Migration):
    dependencies = [("quality", "0006_finding_village_state_index")]

    operations = [migrations.RunPython(keys_forward, keys_backward, elidable=False)]
