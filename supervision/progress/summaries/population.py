"""Which population a person on a form belongs to: 常住人口, 户籍人口, 人户分离, 流动人口, 外出半年以上.

The rule is written here once (domain reference §1.1) and used by the summary tables and the dashboard
figures. Registration covers more people than the population: a small area registers everyone who slept
there on 2020-10-31 (D7 = 1) *and* everyone whose hukou is there but who slept elsewhere (D7 ≠ 1). Someone
living away from the hukou place is therefore on two forms; the classification below counts each person in
one place only, so that the district's figures are the sum of its townships'.

The unit of the definitions is the township (乡镇/街道): a form belongs to the township of its small area.
Every person on a form falls into exactly one *status*:

======================  ===========================================================  =========================
status                   items                                                        counted in
======================  ===========================================================  =========================
``here``                 D7 = 1, D8 ∈ {1, 2} (hukou in this township)                 常住 (1), 户籍
``in_county``            D7 = 1, D8 = 3, D9 ≥ 3 (another township of this county)     常住 (2), 人户分离 [1]
``in_city``              D7 = 1, D8 = 4, D9 ≥ 3, hukou county another 市辖区 of this   常住 (2), 人户分离,
                         city (only when this district is itself a 市辖区)             市辖区内
``in_province``          D7 = 1, D8 = 4, D9 ≥ 3, hukou county in this province        常住 (2), 人户分离, 流动 (省内)
``in_other_province``    D7 = 1, D8 = 4, D9 ≥ 3, hukou county in another province     常住 (2), 人户分离, 流动 (跨省)
``in_unstated``          D7 = 1, D8 = 4, D9 ≥ 3, hukou county not written             常住 (2), 人户分离, 流动
``pending``              D7 = 1, D8 = 5 (户口待定)                                    常住 (3)
``out_short``            D7 ∈ {4, 5}, D8 ∈ {1, 2}, D9 < 3 (away under half a year)    常住 (4), 户籍
``abroad``               D7 ≥ 6 (an installation's 港澳台/国外 codes), D8 ∈ {1, 2}      常住 (4), 户籍
``visit_county``         D7 = 1, D8 = 3, D9 < 3                                       — (counted at the hukou
                                                                                       township, ``out_short``)
``visit_outside``        D7 = 1, D8 = 4, D9 < 3                                       — (outside the district)
``out_county``           D7 = 4, D8 ∈ {1, 2}, D9 ≥ 3                                  户籍, 外出半年以上 (counted
                                                                                       where they live)
``out_outside``          D7 = 5, D8 ∈ {1, 2}, D9 ≥ 3                                  户籍, 外出半年以上
``elsewhere_township``   D7 ∈ {2, 3} (lives in another small area/village of this     — (registered and counted
                         township)                                                     where they live)
``undetermined``         D7 or D8 missing, or D7 ∈ {4, 5} with hukou not here          —
======================  ===========================================================  =========================

[1] 市辖区内人户分离 when the district the person is registered in is a 市辖区 (county digits 01–18 of a
prefecture-level city), else 流动人口 (省内): between the townships of one county, the 2020 communiqué counts 流动人口.

Explicit choices where the items do not decide (reference §1.1 asks for them in one place):

- D9 missing or 1 (没有离开) together with a hukou elsewhere or a residence elsewhere contradicts the other
  items; it is read as "away under half a year" — the person is counted at the hukou place, never twice.
- The form offers no 港澳台/国外 residence code (``enumeration.codes`` D7). An installation that adds them
  (codes 6 and over) gets them counted at the hukou place whatever the reason abroad, since work or study
  abroad cannot be told from the items.
- 户籍人口 of a township counts the person where the hukou is: ``elsewhere_township`` persons are 户籍 of
  this township too, but they are already counted on the form where they live (as ``here``).
"""

from __future__ import annotations

from django.utils.translation import gettext as _

RESIDENT = (
    "here",
    "in_county",
    "in_city",
    "in_province",
    "in_other_province",
    "in_unstated",
    "pending",
    "out_short",
    "abroad",
)
NOT_RESIDENT = ("visit_county", "visit_outside", "out_county", "out_outside", "elsewhere_township", "undetermined")
STATUSES = RESIDENT + NOT_RESIDENT
HUKOU = ("here", "out_short", "abroad", "out_county", "out_outside")
SEPARATED = ("in_county", "in_city", "in_province", "in_other_province", "in_unstated")
AWAY_LONG = ("out_county", "out_outside")


def district_is_city_district(code: str) -> bool:
    """A 市辖区: prefecture digits 01–20 or 51–70 (a prefecture-level city; 直辖市 use 01) and county digits
    01–18 (reference §3.1)."""
    prefecture, county = int(code[2:4]), int(code[4:6])
    return (1 <= prefecture <= 20 or 51 <= prefecture <= 70) and 1 <= county <= 18


def city_district_sql(district: str) -> str:
    """``district_is_city_district`` in SQL, over ``district``: an expression giving a six-digit district code."""
    prefecture, county = f"substr({district}, 3, 2)", f"substr({district}, 5, 2)"
    return (
        f"(({prefecture} BETWEEN '01' AND '20' OR {prefecture} BETWEEN '51' AND '70') "
        f"AND {county} BETWEEN '01' AND '18')"
    )


# 人户分离 that counts as 市辖区内 where the person lives in a 市辖区 (elsewhere, as 流动人口): each person is judged
# by the district they were registered in — an installation may hold districts of both kinds (a city office).
CITY_STATUSES = ("in_county", "in_city")


def within_city(status: str, district: str) -> bool:
    """A person of ``status`` registered in ``district`` counts as 市辖区内人户分离."""
    return status in CITY_STATUSES and district_is_city_district(district)


def floating(status: str, district: str) -> bool:
    """A person of ``status`` registered in ``district`` counts as 流动人口 (人户分离 outside 市辖区内)."""
    return status in SEPARATED and not within_city(status, district)


def within_city_sql(status: str, district: str) -> str:
    """``within_city`` in SQL, over the expressions ``status`` and ``district``."""
    return f"({status} IN {in_sql(CITY_STATUSES)} AND {city_district_sql(district)})"


def floating_sql(status: str, district: str) -> str:
    """``floating`` in SQL, over the expressions ``status`` and ``district``."""
    return f"({status} IN {in_sql(SEPARATED)} AND NOT {within_city_sql(status, district)})"


def labels() -> dict[str, str]:
    return {
        "here": _("Living in the township, hukou in the township"),
        "in_county": _("Hukou in another township of this county, here half a year or more"),
        "in_city": _("Hukou in another district of this city, here half a year or more"),
        "in_province": _("Hukou in another county of this province, here half a year or more"),
        "in_other_province": _("Hukou in another province, here half a year or more"),
        "in_unstated": _("Hukou in another county (not written), here half a year or more"),
        "pending": _("Hukou pending (户口待定)"),
        "out_short": _("Hukou here, away under half a year"),
        "abroad": _("Hukou here, abroad"),
        "visit_county": _("Hukou in another township of this county, here under half a year"),
        "visit_outside": _("Hukou in another county, here under half a year"),
        "out_county": _("Hukou here, living in another township of this county half a year or more"),
        "out_outside": _("Hukou here, living in another county half a year or more"),
        "elsewhere_township": _("Living in another village or small area of this township (counted there)"),
        "undetermined": _("Residence or hukou items missing or contradictory"),
    }


def status_sql(d7: str, d8: str, d9: str, county: str, *, district: str) -> str:
    """The status as a SQL expression over the named columns (the only place the rule is written for SQL);
    ``district`` gives the six-digit code of the district the person was registered in (from their township:
    ``left(township_id, 6)``), which the hukou county is compared with."""
    same_city = (
        f"({city_district_sql(district)} AND left({county}, 4) = left({district}, 4) "
        f"AND substr({county}, 5, 2) BETWEEN '01' AND '18')"
    )
    province = f"left({district}, 2)"
    long = f"coalesce({d9}, 0) >= 3"
    return f"""CASE
        WHEN {d7} IS NULL OR {d8} IS NULL THEN 'undetermined'
        WHEN {d7} IN (2, 3) THEN 'elsewhere_township'
        WHEN {d7} = 1 AND {d8} IN (1, 2) THEN 'here'
        WHEN {d7} = 1 AND {d8} = 5 THEN 'pending'
        WHEN {d7} = 1 AND {d8} = 3 AND {long} THEN 'in_county'
        WHEN {d7} = 1 AND {d8} = 3 THEN 'visit_county'
        WHEN {d7} = 1 AND {d8} = 4 AND NOT {long} THEN 'visit_outside'
        WHEN {d7} = 1 AND {d8} = 4 AND coalesce({county}, '') !~ '^[0-9]{{6}}$' THEN 'in_unstated'
        WHEN {d7} = 1 AND {d8} = 4 AND {same_city} THEN 'in_city'
        WHEN {d7} = 1 AND {d8} = 4 AND left({county}, 2) = {province} THEN 'in_province'
        WHEN {d7} = 1 AND {d8} = 4 THEN 'in_other_province'
        WHEN {d8} NOT IN (1, 2) THEN 'undetermined'
        WHEN {d7} >= 6 THEN 'abroad'
        WHEN {d7} = 4 AND {long} THEN 'out_county'
        WHEN {d7} = 5 AND {long} THEN 'out_outside'
        ELSE 'out_short'
    END"""


def in_sql(statuses: tuple[str, ...]) -> str:
    """``(...)`` list of statuses for ``status IN …`` (``('')`` when empty, which matches nothing)."""
    return "(" + ", ".join(f"'{status}'" for status in statuses or ("",)) + ")"
