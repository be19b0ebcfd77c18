"""G. Aggregates per small area, village (普查区) and township (reference §4.1 G), over signed forms.

Each rule is one grouped query with GROUPING SETS, so the three levels cost one pass. A township office acts on
them. The bounds and their reasons are in ``enumeration.rules.thresholds`` (binomial z-scores against chance,
the reference's ranges against harmless deviations, minimum sizes against small numbers).

* ``AREA_SEX_RATIO`` — persons of family households: ratio outside 85–125 and |z| > 5 against 105;
* ``AREA_HOUSEHOLD_SIZE`` — mean size of family households outside 1.5–4 (20 households at least);
* ``AREA_INFANTS_VS_BIRTHS`` — persons aged 0 against the H3 births, off by 5 and by 20%;
* ``AREA_MONTH_HEAPING`` — share born in January above 2/12 and z > 5 against 1/12;
* ``AREA_HUKOU_PENDING_SHARE`` — 户口待定 share above 2%, at least 10 persons, z > 5 against 0.3%.
"""

from __future__ import annotations

from enumeration.rules.thresholds import threshold
from supervision.quality.checks.base import Check
from supervision.quality.checks.tally import SUMS

_Z = float(threshold("z_max"))
# (By township: a part may check several townships at once; the township's own total is its last set.)
_LEVELS = (
    "GROUPING SETS ((s.township_id, s.small_area_id, s.village_id), (s.township_id, s.village_id), (s.township_id))"
)

# The rules read the township's kept sums per small area and registrar (``tally.SUMS``): of its counted
# households (999 and foreign forms aside) and, ``family_``, of those that are family households.


def _area_finding(code: str, grouped: str, condition: str, values: str) -> Check:
    sql = f"""
SELECT '{code}', 'a' || coalesce(sa.code, v.code, t.code), coalesce(sa.code, v.code, t.code),
       NULL::bigint, NULL::int, '', c.small_area_id, c.village_id, c.township_id, NULL::bigint, NULL::bigint,
       NULL::bigint,
       jsonb_build_object('area', coalesce(v.name || sa.name, v.name, t.name) || ' ' ||
                                  coalesce(sa.code, v.code, t.code), {values})
FROM ({grouped}) c
LEFT JOIN census_smallarea sa ON sa.id = c.small_area_id
LEFT JOIN census_village v ON v.code = c.village_id
JOIN census_township t ON t.code = c.township_id
WHERE {condition}
"""
    return Check(name=code, codes=(code,), kind="cross", group="G", sql=sql)


_P = float(threshold("male_share_expected"))
_SR_LOW, _SR_HIGH = threshold("area_sex_ratio_range")
SEX_RATIO = _area_finding(
    "AREA_SEX_RATIO",
    f"SELECT s.township_id, s.small_area_id, s.village_id, sum(s.family_male) AS male, sum(s.family_female) AS female "
    f"FROM {SUMS} s GROUP BY {_LEVELS} HAVING sum(s.family_male) + sum(s.family_female) > 0",
    f"male + female >= {int(threshold('area_sex_ratio_min_persons'))} "
    f"AND (female = 0 OR 100.0 * male / female NOT BETWEEN {float(_SR_LOW)} AND {float(_SR_HIGH)}) "
    f"AND abs(male - {_P} * (male + female)) / sqrt((male + female) * {_P} * (1 - {_P})) > {_Z}",
    "'ratio', CASE WHEN female = 0 THEN NULL ELSE round(100.0 * male / female, 1) END, 'male', male, 'female', female",
)

_SIZE_LOW, _SIZE_HIGH = threshold("area_household_size_range")
HOUSEHOLD_SIZE = _area_finding(
    "AREA_HOUSEHOLD_SIZE",
    "SELECT s.township_id, s.small_area_id, s.village_id, sum(s.family_households) AS households, "
    "sum(s.family_persons)::numeric / sum(s.family_households) AS size "
    f"FROM {SUMS} s GROUP BY {_LEVELS} HAVING sum(s.family_households) > 0",
    f"households >= {int(threshold('area_household_size_min_households'))} "
    f"AND size NOT BETWEEN {float(_SIZE_LOW)} AND {float(_SIZE_HIGH)}",
    "'size', round(size, 2), 'households', households",
)

_GAP = int(threshold("infants_births_min_gap"))
_SHARE = float(threshold("infants_births_max_share"))
INFANTS = _area_finding(
    "AREA_INFANTS_VS_BIRTHS",
    "SELECT s.township_id, s.small_area_id, s.village_id, sum(s.infants) AS infants, "
    "sum(s.births) AS births "
    f"FROM {SUMS} s GROUP BY {_LEVELS} HAVING sum(s.households) > 0",
    f"abs(infants - births) >= {_GAP} AND abs(infants - births) > {_SHARE} * births",
    "'infants', infants, 'births', births",
)

_MONTH_SHARE = float(threshold("month_heaping_min_share"))
MONTH_HEAPING = _area_finding(
    "AREA_MONTH_HEAPING",
    "SELECT s.township_id, s.small_area_id, s.village_id, sum(s.birth_month_known) AS n, sum(s.born_january) AS k "
    f"FROM {SUMS} s GROUP BY {_LEVELS} HAVING sum(s.birth_month_known) > 0",
    f"n >= {int(threshold('month_heaping_min_persons'))} AND 1.0 * k / n > {_MONTH_SHARE} "
    f"AND (k - n / 12.0) / sqrt(n * (1 / 12.0) * (11 / 12.0)) > {_Z}",
    "'share', to_char(100.0 * k / n, 'FM990.0') || '%%', 'january', k, 'persons', n",
)

_PENDING = float(threshold("hukou_pending_expected_share"))
PENDING = _area_finding(
    "AREA_HUKOU_PENDING_SHARE",
    "SELECT s.township_id, s.small_area_id, s.village_id, sum(s.persons) AS n, sum(s.hukou_pending) AS k "
    f"FROM {SUMS} s GROUP BY {_LEVELS} HAVING sum(s.persons) > 0",
    f"k >= {int(threshold('hukou_pending_min_count'))} AND 1.0 * k / n > {float(threshold('hukou_pending_min_share'))} "
    f"AND (k - {_PENDING} * n) / sqrt(n * {_PENDING} * (1 - {_PENDING})) > {_Z}",
    "'share', to_char(100.0 * k / n, 'FM990.0') || '%%', 'pending', k, 'persons', n",
)

CHECKS = [SEX_RATIO, HOUSEHOLD_SIZE, INFANTS, MONTH_HEAPING, PENDING]
