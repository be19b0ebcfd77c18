"""Completeness and codes: ITEM_MISSING, ITEM_NOT_ASKED and CODE_INVALID over household, person and death rows.

The paper form's skip logic, as ``entry.PERSON_ITEMS`` and ``entry._household_items`` state it, written once more
as SQL conditions. Each person row is read once: every item's verdict is a CASE in one array, and only the rows
with something to report are unnested. ``PERSON_ITEM_SQL`` must list the same fields, items and code lists as
``entry.PERSON_ITEMS`` (a test compares them); the agreement test compares the verdicts.
"""

from __future__ import annotations

from enumeration.codes import ETHNIC_GROUPS
from enumeration.rules.entry import HOUSEHOLD_COUNT_ITEMS, HOUSEHOLD_LONG_ITEMS
from enumeration.rules.thresholds import threshold
from supervision.quality.checks.base import Check, address_known, codes
from supervision.quality.checks.structure import DEATH_ROWS

TEXT_FIELDS = {
    "d1_name",
    "d6_ethnicity",
    "d7_residence_county",
    "d8_hukou_county",
    "c13_birth_province",
    "c20_industry",
    "c21_occupation",
    "f_nationality",
}


def _aged(minimum: int) -> str:
    return f"p.age >= {int(minimum)}"


def _lf(key: str) -> int:
    return int(threshold("long_form")[key])


def _woman_aged(key: str) -> str:
    low, high = threshold("long_form")[key]
    return f"(p.d4_sex = 2 AND p.age BETWEEN {int(low)} AND {int(high)})"


CENSUS = "NOT p.is_foreign"
FOREIGN = "p.is_foreign"
LONG = "(p.long_form AND NOT p.is_foreign)"
AWAY = "(p.d8_hukou_place <> 5 AND p.d9_away_duration <> 1)"

# (field, item, code list or None, asked) — the SQL twin of entry.PERSON_ITEMS, in the same order.
PERSON_ITEM_SQL: tuple[tuple[str, str, str | None, str], ...] = (
    ("d1_name", "D1", None, "true"),
    ("d2_relationship", "D2", "D2", "p.family"),
    ("d4_sex", "D4", "D4", "true"),
    ("d5_birth_year", "D5", None, "true"),
    ("d5_birth_month", "D5", None, "true"),
    ("d6_ethnicity", "D6", None, CENSUS),
    ("d7_residence", "D7", "D7", "true"),
    ("d7_residence_county", "D7", None, f"{CENSUS} AND p.d7_residence = 5"),
    ("d8_hukou_place", "D8", "D8", CENSUS),
    ("d8_hukou_county", "D8", None, f"{CENSUS} AND p.d8_hukou_place = 4"),
    ("d9_away_duration", "D9", "D9", f"{CENSUS} AND p.d8_hukou_place <> 5"),
    ("d10_away_reason", "D10", "D10", f"{CENSUS} AND {AWAY}"),
    ("d11_education", "D11", "D11", f"{CENSUS} AND {_aged(threshold('education_universe_age'))}"),
    ("d12_literate", "D12", "D12", f"{CENSUS} AND {_aged(threshold('literacy_universe_age'))}"),
    ("c11_hukou_type", "C11", "C11", f"{LONG} AND {AWAY}"),
    ("c12_land_right", "C12", "C12", LONG),
    ("c13_birthplace", "C13", "C13", LONG),
    ("c13_birth_province", "C13", None, f"{LONG} AND p.c13_birthplace = 3"),
    ("c14_residence_5y", "C14", "C14", f"{LONG} AND {_aged(_lf('C14_min_age'))}"),
    ("c16_school_status", "C16", "C16", f"{LONG} AND coalesce(p.d11_education, 0) >= 3"),
    ("c18_work", "C18", "C18", f"{LONG} AND {_aged(_lf('C18_min_age'))}"),
    ("c18_hours", "C18", None, f"{LONG} AND p.c18_work = 1"),
    ("c19_unit_type", "C19", "C19", f"{LONG} AND p.c18_work IN (1, 2)"),
    ("c20_industry", "C20", None, f"{LONG} AND p.c18_work IN (1, 2)"),
    ("c21_occupation", "C21", None, f"{LONG} AND p.c18_work IN (1, 2)"),
    ("c22_not_working_reason", "C22", "C22", f"{LONG} AND p.c18_work = 3"),
    ("c23_livelihood", "C23", "C23", LONG),
    ("c24_marital", "C24", "C24", f"{LONG} AND {_aged(_lf('C24_min_age'))}"),
    ("c25_first_marriage_year", "C25", None, f"{LONG} AND p.c24_marital IN (2, 3, 4)"),
    ("c25_first_marriage_month", "C25", None, f"{LONG} AND p.c24_marital IN (2, 3, 4)"),
    ("c26_born_male", "C26", None, f"{LONG} AND {_woman_aged('C26_women_ages')}"),
    ("c26_born_female", "C26", None, f"{LONG} AND {_woman_aged('C26_women_ages')}"),
    ("c26_alive_male", "C26", None, f"{LONG} AND {_woman_aged('C26_women_ages')}"),
    ("c26_alive_female", "C26", None, f"{LONG} AND {_woman_aged('C26_women_ages')}"),
    ("c27_birth_last_year", "C27", "C27", f"{LONG} AND {_woman_aged('C27_women_ages')}"),
    ("c28_living_arrangement", "C28", "C28", f"{LONG} AND {_aged(_lf('C28_min_age'))}"),
    ("c29_health", "C29", "C29", f"{LONG} AND {_aged(_lf('C29_min_age'))}"),
    ("f_identity", "F1", "F_IDENTITY", FOREIGN),
    ("f_nationality", "F1", None, f"{FOREIGN} AND p.f_identity = 4"),
    ("f_stay", "F2", "F_STAY", FOREIGN),
    ("f_purpose", "F3", "F_PURPOSE", FOREIGN),
    ("f_employed", "F4", "F_EMPLOYED", FOREIGN),
)


def _blank(field: str, alias: str = "p") -> str:
    if field in TEXT_FIELDS:
        return f"coalesce({alias}.{field}, '') = ''"
    return f"{alias}.{field} IS NULL"


def _asked(condition: str) -> str:
    # Every asked-condition is strictly true or false: a NULL (an unanswered filter item) means "not asked".
    return f"coalesce(({condition}), false)"


def _value(field: str) -> str:
    return f"to_jsonb(p.{field})"


PROVINCE_CODE = "p.c13_birth_province || '0000'"


def _person_arrays() -> tuple[str, str, str]:
    missing, not_asked, invalid = [], [], []
    for field, item, list_name, asked in PERSON_ITEM_SQL:
        blank = _blank(field)
        missing.append(f"CASE WHEN {_asked(asked)} AND {blank} THEN '{item}' END")
        not_asked.append(f"CASE WHEN NOT {_asked(asked)} AND NOT ({blank}) THEN '{item}' END")
        if list_name is not None:
            invalid.append(
                f"CASE WHEN {_asked(asked)} AND NOT ({blank}) AND p.{field} NOT IN {codes(list_name)} "
                f"THEN jsonb_build_object('item', '{item}', 'value', {_value(field)}) END"
            )
    ethnic = ", ".join(f"'{code}'" for code in sorted(ETHNIC_GROUPS))
    invalid.append(
        f"CASE WHEN NOT p.is_foreign AND p.d6_ethnicity <> '' AND p.d6_ethnicity NOT IN ({ethnic}) "
        "THEN jsonb_build_object('item', 'D6', 'value', to_jsonb(p.d6_ethnicity)) END"
    )
    invalid.append(
        "CASE WHEN NOT p.d5_birth_month BETWEEN 1 AND 12 "
        "THEN jsonb_build_object('item', 'D5', 'value', to_jsonb(p.d5_birth_month)) END"
    )
    for field, item in (("d7_residence_county", "D7"), ("d8_hukou_county", "D8"), ("c14_county", "C14")):
        invalid.append(
            f"CASE WHEN p.{field} <> '' AND NOT {address_known(f'p.{field}')} "
            f"THEN jsonb_build_object('item', '{item}', 'value', to_jsonb(p.{field})) END"
        )
    invalid.append(
        "CASE WHEN p.c13_birth_province <> '' AND NOT (length(p.c13_birth_province) = 2 "
        f"AND {address_known(PROVINCE_CODE)}) "
        "THEN jsonb_build_object('item', 'C13', 'value', to_jsonb(p.c13_birth_province)) END"
    )

    def array(cases: list[str], kind: str) -> str:
        return f"array_remove(ARRAY[{', '.join(cases)}]::{kind}[], NULL)"

    return array(missing, "text"), array(not_asked, "text"), array(invalid, "jsonb")


_MISSING, _NOT_ASKED, _INVALID = _person_arrays()

LONG_ITEMS = (*HOUSEHOLD_LONG_ITEMS, ("h18_rent", "H18"))
# Regular households with a valid H5 (what _household_items goes on with) and whether they rent.
HOUSEHOLD_H5 = (
    "SELECT h.*, coalesce(h.h17_tenure IN (1, 2), false) AS rented FROM q_hh h "
    f"WHERE h.regular AND h.h5_residence_type IN {codes('H5')}"
)


def _household_missing() -> str:
    parts = [
        "SELECT h.id, NULL::int, 'H1', '{}'::jsonb FROM q_hh h WHERE h.regular AND h.h1_kind IS NULL",
        "SELECT h.id, NULL::int, 'H5', '{}'::jsonb FROM q_hh h WHERE h.regular AND h.h5_residence_type IS NULL",
    ]
    for field, item in HOUSEHOLD_COUNT_ITEMS:
        parts.append(
            f"SELECT h.id, NULL::int, '{item}', '{{}}'::jsonb FROM q_hh h "
            f"WHERE h.regular AND NOT h.is_foreign AND h.{field} IS NULL"
        )
    for field, item in HOUSEHOLD_LONG_ITEMS:
        parts.append(
            f"SELECT h.id, NULL::int, '{item}', '{{}}'::jsonb FROM ({HOUSEHOLD_H5}) h "
            f"WHERE h.h5_residence_type = 1 AND h.long_form AND NOT h.is_foreign AND h.{field} IS NULL"
        )
    parts.append(
        f"SELECT h.id, NULL::int, 'H18', '{{}}'::jsonb FROM ({HOUSEHOLD_H5}) h "
        "WHERE h.h5_residence_type = 1 AND h.long_form AND NOT h.is_foreign AND h.rented AND h.h18_rent IS NULL"
    )
    return " UNION ALL ".join(parts)


def _household_not_asked() -> str:
    filled = " OR ".join(f"h.{field} IS NOT NULL" for field, _ in LONG_ITEMS)
    selects = " UNION ALL ".join(
        f"SELECT h.id, NULL::int, '{item}', '{{}}'::jsonb FROM ({HOUSEHOLD_H5}) h "
        f"WHERE (h.h5_residence_type <> 1 OR NOT h.long_form) AND h.{field} IS NOT NULL"
        for field, item in LONG_ITEMS
    )
    assert filled  # every long-form item is listed
    return selects


def _household_invalid() -> str:
    parts = [
        f"SELECT h.id, NULL::int, 'H1', jsonb_build_object('item', 'H1', 'value', h.h1_kind) FROM q_hh h "
        f"WHERE h.regular AND h.h1_kind NOT IN {codes('H1')}",
        f"SELECT h.id, NULL::int, 'H5', jsonb_build_object('item', 'H5', 'value', h.h5_residence_type) FROM q_hh h "
        f"WHERE h.regular AND h.h5_residence_type NOT IN {codes('H5')}",
    ]
    for field, item in HOUSEHOLD_LONG_ITEMS:
        parts.append(
            f"SELECT h.id, NULL::int, '{item}', jsonb_build_object('item', '{item}', 'value', h.{field}) "
            f"FROM ({HOUSEHOLD_H5}) h WHERE h.h5_residence_type = 1 AND h.long_form AND NOT h.is_foreign "
            f"AND h.{field} NOT IN {codes(item)}"
        )
    parts.append(
        "SELECT h.id, NULL::int, 'H18', jsonb_build_object('item', 'H18', 'value', h.h18_rent) "
        f"FROM ({HOUSEHOLD_H5}) h WHERE h.h5_residence_type = 1 AND h.long_form AND NOT h.is_foreign "
        f"AND h.rented AND h.h18_rent NOT IN {codes('H18')}"
    )
    return " UNION ALL ".join(parts)


_AGE_AT_DEATH = "(d.death_year - d.birth_year - CASE WHEN d.birth_month > d.death_month THEN 1 ELSE 0 END)"
_DEATHS_READ = (
    f"SELECT d.*, {_AGE_AT_DEATH} AS age_at_death FROM ({DEATH_ROWS}) d WHERE d.blank_item IS NULL "
    "AND (d.death_year, d.death_month) >= (d.birth_year, d.birth_month)"
)


def _death_missing() -> str:
    return (
        f"SELECT d.household_id, d.row_no, d.blank_item, '{{}}'::jsonb FROM ({DEATH_ROWS}) d "
        "WHERE d.row_no = d.first_blank_row "
        "UNION ALL "
        f"SELECT d.household_id, d.row_no, 'S7', '{{}}'::jsonb FROM ({_DEATHS_READ}) d "
        "WHERE d.age_at_death >= 6 AND d.education IS NULL "
        "UNION ALL "
        f"SELECT d.household_id, d.row_no, 'S8', '{{}}'::jsonb FROM ({_DEATHS_READ}) d "
        "WHERE d.age_at_death >= 15 AND d.marital IS NULL"
    )


def _death_not_asked() -> str:
    return (
        f"SELECT d.household_id, d.row_no, 'S7', '{{}}'::jsonb FROM ({_DEATHS_READ}) d "
        "WHERE d.age_at_death < 6 AND d.education IS NOT NULL "
        "UNION ALL "
        f"SELECT d.household_id, d.row_no, 'S8', '{{}}'::jsonb FROM ({_DEATHS_READ}) d "
        "WHERE d.age_at_death < 15 AND d.marital IS NOT NULL"
    )


def _death_invalid() -> str:
    return (
        "SELECT d.household_id, d.row_no, 'S5', jsonb_build_object('item', 'S5', 'value', "
        "d.death_year || '-' || lpad(d.death_month::text, 2, '0')) "
        f"FROM ({_DEATHS_READ}) d WHERE NOT (d.death_year, d.death_month) BETWEEN (2019, 11) AND (2020, 10)"
    )


def _item_evidence(code: str) -> str:
    return "jsonb_build_object('item', x.item)" if code != "CODE_INVALID" else "x.evidence"


def _form_check(code: str, persons: str, households: str, deaths: str, doc: str) -> Check:
    sql = (
        f"SELECT DISTINCT '{code}', x.household_id, x.row_no, x.item, {_item_evidence(code)} FROM ("
        f"{persons} UNION ALL {households} UNION ALL {deaths}) x(household_id, row_no, item, evidence)"
    )
    return Check(
        name=code,
        codes=(code,),
        kind="household",
        sql=sql,
        group="form",
        doc=doc,
    )


CHECKS = [
    _form_check(
        "ITEM_MISSING",
        f"SELECT household_id, row_no, unnest(items), '{{}}'::jsonb FROM (SELECT p.household_id, p.row_no, "
        f"{_MISSING} AS items FROM q_p p WHERE p.regular) m WHERE cardinality(items) > 0",
        _household_missing(),
        _death_missing(),
        "Every item the form asks is answered.",
    ),
    _form_check(
        "ITEM_NOT_ASKED",
        f"SELECT household_id, row_no, unnest(items), '{{}}'::jsonb FROM (SELECT p.household_id, p.row_no, "
        f"{_NOT_ASKED} AS items FROM q_p p WHERE p.regular) m WHERE cardinality(items) > 0",
        _household_not_asked(),
        _death_not_asked(),
        "No item the skip logic leaves out is answered.",
    ),
    _form_check(
        "CODE_INVALID",
        "SELECT household_id, row_no, verdict ->> 'item', verdict FROM (SELECT household_id, row_no, "
        f"unnest(verdicts) AS verdict FROM (SELECT p.household_id, p.row_no, {_INVALID} AS verdicts "
        "FROM q_p p WHERE p.regular) v WHERE cardinality(verdicts) > 0) u",
        _household_invalid(),
        _death_invalid(),
        "Every answer is a code of its list.",
    ),
]
