"""The hukou roster (户籍) of a synthetic district, written by ``seed_district`` (signal ``district_seeded``).

The roster is what public security would hand over: everyone registered whose form says their hukou is in the
district (D8 = 1 this village, 2 another village of the township, 3 another township of the district — the H2b
persons away included) and who has a number. D8 = 1 puts them in their own household's small area; D8 = 2 and 3
in a village of the township, or of another township, picked by a hash of the number (deterministic, and never
their own village or township). About 2 per thousand registered persons are left off (roster gaps); the error
planter adds roster persons registered nowhere (漏登). Derived in one INSERT … SELECT from the rows already
written — nothing passes through Python per person.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.utils import timezone

ROSTER_FROM_REGISTRATIONS = """
WITH villages AS (
    SELECT v.code, v.township_id, dense_rank() OVER (ORDER BY v.township_id) - 1 AS tidx,
           row_number() OVER (PARTITION BY v.township_id ORDER BY v.code) - 1 AS vidx,
           count(*) OVER (PARTITION BY v.township_id) AS villages_in_township,
           (SELECT count(*) FROM census_smallarea sa WHERE sa.village_id = v.code) AS areas
    FROM census_village v JOIN census_township t ON t.code = v.township_id WHERE t.district_id = %(district)s
), townships AS (
    SELECT DISTINCT tidx, villages_in_township AS villages, (SELECT count(DISTINCT township_id) FROM villages) AS n
    FROM villages
), areas AS (
    SELECT sa.id, sa.village_id, row_number() OVER (PARTITION BY sa.village_id ORDER BY sa.code) - 1 AS aidx
    FROM census_smallarea sa JOIN villages v ON v.code = sa.village_id
), people AS (
    SELECT DISTINCT ON (p.d3_id_number) p.d3_id_number, p.d1_name, p.d4_sex, p.d5_birth_year, p.d5_birth_month,
           p.d8_hukou_place, p.village_id, p.small_area_id, h.household_no,
           abs(hashtext(p.d3_id_number || ':' || %(seed)s)::bigint) AS hash
    FROM enumeration_person p JOIN enumeration_household h ON h.id = p.household_id
    WHERE left(p.township_id, 6) = %(district)s AND p.d3_id_number <> '' AND p.d8_hukou_place IN (1, 2, 3)
      AND p.f_identity IS NULL AND p.d4_sex IS NOT NULL AND p.d5_birth_year IS NOT NULL
      AND p.d5_birth_month IS NOT NULL
    ORDER BY p.d3_id_number, p.id
), own AS (
    -- Where the hukou goes: this township for D8 = 2, another one for D8 = 3 (chosen by the hash).
    SELECT x.*, v.vidx, v.villages_in_township,
           CASE WHEN x.d8_hukou_place = 3 AND t.n > 1 THEN mod(v.tidx + 1 + mod(x.hash, t.n - 1), t.n)
                ELSE v.tidx END AS target_tidx
    FROM people x JOIN villages v ON v.code = x.village_id JOIN townships t ON t.tidx = v.tidx
    WHERE mod(x.hash / 101, 1000) >= %(left_off)s
), target AS (
    SELECT o.*,
           CASE WHEN o.d8_hukou_place = 1 THEN o.vidx
                WHEN o.d8_hukou_place = 2 AND o.villages_in_township > 1
                    THEN mod(o.vidx + 1 + mod(o.hash, o.villages_in_township - 1), o.villages_in_township)
                WHEN o.d8_hukou_place = 2 THEN o.vidx
                ELSE mod(o.hash / 7, t.villages) END AS target_vidx
    FROM own o JOIN townships t ON t.tidx = o.target_tidx
)
INSERT INTO quality_hukourosterentry (id_number, name, sex, birth_year, birth_month, township_id, village_id,
    small_area_id, household_no, address, imported_at)
SELECT x.d3_id_number, x.d1_name, x.d4_sex, x.d5_birth_year, x.d5_birth_month, v.township_id, v.code,
       CASE WHEN x.d8_hukou_place = 1 THEN x.small_area_id ELSE a.id END,
       CASE WHEN x.d8_hukou_place = 1 THEN x.household_no END, '', %(now)s
FROM target x JOIN villages v ON v.tidx = x.target_tidx AND v.vidx = x.target_vidx
LEFT JOIN areas a ON a.village_id = v.code AND a.aidx = mod(x.hash / 13, greatest(v.areas, 1))
"""

# Registered persons left off the roster: this many per thousand (by a hash of their number).
LEFT_OFF_PER_THOUSAND = 2


def generate_roster(*, district_code: str, seed: int, planter: Any = None, say: Any = None, **kwargs: Any) -> int:
    """Write the roster of the district just generated; returns the number of entries."""
    from enumeration.synthetic.loader import BulkLoader
    from supervision.quality.models import HukouRosterEntry

    now = timezone.now()
    # The loader drops the roster's foreign keys for the load and validates each once afterwards (one query
    # per key instead of three trigger calls per row); the rows themselves come from one INSERT … SELECT.
    with BulkLoader([HukouRosterEntry]), connection.cursor() as cursor:
        cursor.execute("SET LOCAL work_mem = '128MB'")
        cursor.execute(
            ROSTER_FROM_REGISTRATIONS,
            {"district": district_code, "seed": str(seed), "left_off": LEFT_OFF_PER_THOUSAND, "now": now},
        )
        written = cursor.rowcount
        extras = list(getattr(planter, "roster_extras", None) or [])
        if extras:
            cursor.executemany(
                "INSERT INTO quality_hukourosterentry (id_number, name, sex, birth_year, birth_month, township_id, "
                "village_id, small_area_id, household_no, address, imported_at) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, '', %s)",
                [
                    [
                        e["id_number"],
                        e["name"],
                        e["sex"],
                        e["birth_year"],
                        e["birth_month"],
                        e["village_id"][:9],
                        e["village_id"],
                        e["small_area_id"],
                        e["household_no"],
                        now,
                    ]
                    for e in extras
                ],
            )
    if say is not None:
        say(f"hukou roster: {written + len(extras)} entries")
    return written + len(extras)


def on_district_seeded(sender: Any, **kwargs: Any) -> None:
    generate_roster(**kwargs)


def write_roster_csv(*, path: str, rows: int, district_code: str) -> int:
    """The district's roster as a file the import reads (benchmarks, demonstrations): the entries there are,
    padded to ``rows`` with roster persons nobody registered (valid numbers of people born 1900–1905 in the
    district, so they collide with no one). COPY writes it; returns the number of rows."""
    from supervision.quality.checks.base import id_check_character

    padded = f"""
        SELECT n || {id_check_character("n")}, '补录' || g, CASE WHEN mod(g, 2) = 0 THEN '女' ELSE '男' END,
               extract(year FROM d)::int, extract(month FROM d)::int, %(village)s, '', ''
        FROM (SELECT g, d, %(district)s || to_char(d, 'YYYYMMDD')
                             || lpad((2 * mod(g, 450) + 1 + mod(g, 2))::text, 3, '0') AS n
              FROM (SELECT g, date '1900-01-01' + (g / 450) AS d
                    FROM generate_series(1, greatest(0, %(rows)s - %(have)s)) g) s) x
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM quality_hukourosterentry WHERE left(township_id, 6) = %s", [district_code])
        have = min(rows, int(cursor.fetchone()[0]))
        cursor.execute(
            "SELECT v.code FROM census_village v JOIN census_township t ON t.code = v.township_id "
            "WHERE t.district_id = %s ORDER BY v.code LIMIT 1",
            [district_code],
        )
        village = cursor.fetchone()[0]
        query = cursor.mogrify(
            f"""
            SELECT r.id_number, r.name, CASE r.sex WHEN 1 THEN '男' ELSE '女' END, r.birth_year, r.birth_month,
                   coalesce(sa.code, r.village_id), coalesce(r.household_no::text, ''), r.address
            FROM (SELECT * FROM quality_hukourosterentry WHERE left(township_id, 6) = %(district)s
                  ORDER BY id LIMIT %(have)s) r
            LEFT JOIN census_smallarea sa ON sa.id = r.small_area_id
            UNION ALL {padded}
            """,
            {"district": district_code, "have": have, "rows": rows, "village": village},
        ).decode()
        with open(path, "w", encoding="utf-8", newline="") as handle:
            handle.write("公民身份号码,姓名,性别,出生年,出生月,户籍地代码,户编号,户籍地址\n")
            cursor.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT csv)", handle)
    return rows
