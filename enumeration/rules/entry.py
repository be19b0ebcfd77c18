"""Entry validation of one household form (rules A–F of the catalogue), decided on the server.

``validate_household(household, persons, deaths)`` takes plain dicts keyed like the model fields (so the
same code checks a form being typed, an API payload before it is saved, and a row in the database) and
returns every :class:`Issue`. Hard issues block signing; warnings need a written note, kept on the form
under ``Issue.key``. The skip logic of the paper form decides which items are asked: an item that is
asked and empty is ``ITEM_MISSING``, one that is not asked but filled is ``ITEM_NOT_ASKED``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from enumeration.codes import ETHNIC_GROUPS, code_list
from enumeration.identity import (
    REFERENCE_MONTH,
    REFERENCE_YEAR,
    address_code_known,
    age_at_reference,
    born_after_reference,
    read_id_number,
)
from enumeration.rules.catalogue import CATALOGUE, Severity
from enumeration.rules.thresholds import threshold

ALL_DEAD_HOUSEHOLD_NO = 999

# A household, person or death-register row as a plain dict keyed like the model fields. Typed as Any on
# purpose: values arrive from forms, the API and the database, and every rule checks for blanks itself.
Form: TypeAlias = Any


@dataclass(frozen=True)
class Issue:
    code: str
    item: str
    row: int | None = None  # person row (or death-register row for death items)
    values: Form = field(default_factory=dict)

    @property
    def rule(self):  # type: ignore[no-untyped-def]
        return CATALOGUE[self.code]

    @property
    def severity(self) -> Severity:
        return CATALOGUE[self.code].severity

    @property
    def key(self) -> str:
        """Where a note on this warning is kept: ``CODE`` or ``CODE@row``."""
        return f"{self.code}@{self.row}" if self.row is not None else self.code

    @property
    def message(self) -> str:
        return CATALOGUE[self.code].render(**self.values)

    @property
    def message_zh(self) -> str:
        return CATALOGUE[self.code].render_zh(**self.values)

    @property
    def message_en(self) -> str:
        return CATALOGUE[self.code].render_en(**self.values)

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": str(self.severity),
            "item": self.item,
            "row": self.row,
            "key": self.key,
            "message": self.message,
            "message_zh": self.message_zh,
            "message_en": self.message_en,
        }


def blank(value: Any) -> bool:
    return value is None or value == ""


# --- which items are asked (the paper form's skip logic) ------------------------------------------------

Asked = Callable[[Form, "Context"], bool]


@dataclass
class Context:
    household: Form
    family: bool
    long_form: bool
    foreign: bool
    age: int | None = None


def _always(person: Form, ctx: Context) -> bool:
    return True


def _aged(minimum: int) -> Asked:
    return lambda person, ctx: ctx.age is not None and ctx.age >= minimum


def _woman_aged(key: str) -> Asked:
    def asked(person: Form, ctx: Context) -> bool:
        low, high = threshold("long_form")[key]
        return person.get("d4_sex") == 2 and ctx.age is not None and low <= ctx.age <= high

    return asked


def _long_form(asked: Asked) -> Asked:
    return lambda person, ctx: ctx.long_form and not ctx.foreign and asked(person, ctx)


def _census(asked: Asked) -> Asked:
    return lambda person, ctx: not ctx.foreign and asked(person, ctx)


def _foreign(asked: Asked) -> Asked:
    return lambda person, ctx: ctx.foreign and asked(person, ctx)


def _away(person: Form, ctx: Context) -> bool:
    return person.get("d8_hukou_place") not in (None, 5) and person.get("d9_away_duration") not in (None, 1)


def _lf(key: str) -> int:
    return int(threshold("long_form")[key])


# (field, item code, code list or None, asked)
PERSON_ITEMS: tuple[tuple[str, str, str | None, Asked], ...] = (
    ("d1_name", "D1", None, _always),
    ("d2_relationship", "D2", "D2", lambda p, ctx: ctx.family),
    ("d4_sex", "D4", "D4", _always),
    ("d5_birth_year", "D5", None, _always),
    ("d5_birth_month", "D5", None, _always),
    ("d6_ethnicity", "D6", None, _census(_always)),
    ("d7_residence", "D7", "D7", _always),
    ("d7_residence_county", "D7", None, lambda p, ctx: not ctx.foreign and p.get("d7_residence") == 5),
    ("d8_hukou_place", "D8", "D8", _census(_always)),
    ("d8_hukou_county", "D8", None, lambda p, ctx: not ctx.foreign and p.get("d8_hukou_place") == 4),
    ("d9_away_duration", "D9", "D9", _census(lambda p, ctx: p.get("d8_hukou_place") not in (None, 5))),
    ("d10_away_reason", "D10", "D10", _census(_away)),
    (
        "d11_education",
        "D11",
        "D11",
        lambda p, ctx: not ctx.foreign and _aged(threshold("education_universe_age"))(p, ctx),
    ),
    (
        "d12_literate",
        "D12",
        "D12",
        lambda p, ctx: not ctx.foreign and _aged(threshold("literacy_universe_age"))(p, ctx),
    ),
    ("c11_hukou_type", "C11", "C11", _long_form(_away)),
    ("c12_land_right", "C12", "C12", _long_form(_always)),
    ("c13_birthplace", "C13", "C13", _long_form(_always)),
    ("c13_birth_province", "C13", None, _long_form(lambda p, ctx: p.get("c13_birthplace") == 3)),
    ("c14_residence_5y", "C14", "C14", _long_form(lambda p, ctx: _aged(_lf("C14_min_age"))(p, ctx))),
    ("c16_school_status", "C16", "C16", _long_form(lambda p, ctx: (p.get("d11_education") or 0) >= 3)),
    ("c18_work", "C18", "C18", _long_form(lambda p, ctx: _aged(_lf("C18_min_age"))(p, ctx))),
    ("c18_hours", "C18", None, _long_form(lambda p, ctx: p.get("c18_work") == 1)),
    ("c19_unit_type", "C19", "C19", _long_form(lambda p, ctx: p.get("c18_work") in (1, 2))),
    ("c20_industry", "C20", None, _long_form(lambda p, ctx: p.get("c18_work") in (1, 2))),
    ("c21_occupation", "C21", None, _long_form(lambda p, ctx: p.get("c18_work") in (1, 2))),
    ("c22_not_working_reason", "C22", "C22", _long_form(lambda p, ctx: p.get("c18_work") == 3)),
    ("c23_livelihood", "C23", "C23", _long_form(_always)),
    ("c24_marital", "C24", "C24", _long_form(lambda p, ctx: _aged(_lf("C24_min_age"))(p, ctx))),
    ("c25_first_marriage_year", "C25", None, _long_form(lambda p, ctx: p.get("c24_marital") in (2, 3, 4))),
    ("c25_first_marriage_month", "C25", None, _long_form(lambda p, ctx: p.get("c24_marital") in (2, 3, 4))),
    ("c26_born_male", "C26", None, _long_form(_woman_aged("C26_women_ages"))),
    ("c26_born_female", "C26", None, _long_form(_woman_aged("C26_women_ages"))),
    ("c26_alive_male", "C26", None, _long_form(_woman_aged("C26_women_ages"))),
    ("c26_alive_female", "C26", None, _long_form(_woman_aged("C26_women_ages"))),
    ("c27_birth_last_year", "C27", "C27", _long_form(_woman_aged("C27_women_ages"))),
    ("c28_living_arrangement", "C28", "C28", _long_form(lambda p, ctx: _aged(_lf("C28_min_age"))(p, ctx))),
    ("c29_health", "C29", "C29", _long_form(lambda p, ctx: _aged(_lf("C29_min_age"))(p, ctx))),
    ("f_identity", "F1", "F_IDENTITY", _foreign(_always)),
    ("f_nationality", "F1", None, _foreign(lambda p, ctx: p.get("f_identity") == 4)),
    ("f_stay", "F2", "F_STAY", _foreign(_always)),
    ("f_purpose", "F3", "F_PURPOSE", _foreign(_always)),
    ("f_employed", "F4", "F_EMPLOYED", _foreign(_always)),
)
# Items that may be filled but are never required.
OPTIONAL_PERSON_FIELDS = {"d3_id_number", "c14_county"}

HOUSEHOLD_LONG_ITEMS: tuple[tuple[str, str], ...] = (
    ("h8_storeys", "H8"),
    ("h9_structure", "H9"),
    ("h10_year_built", "H10"),
    ("h11_lift", "H11"),
    ("h12_cooking_fuel", "H12"),
    ("h13_piped_water", "H13"),
    ("h14_kitchen", "H14"),
    ("h15_toilet", "H15"),
    ("h16_bathing", "H16"),
    ("h17_tenure", "H17"),
    ("h19_car_value", "H19"),
)
HOUSEHOLD_COUNT_ITEMS: tuple[tuple[str, str], ...] = (
    ("h2_present", "H2"),
    ("h2_away", "H2"),
    ("h3_births_male", "H3"),
    ("h3_births_female", "H3"),
    ("h4_deaths_male", "H4"),
    ("h4_deaths_female", "H4"),
)


def validate_household(
    household: Form,
    persons: Iterable[Form],
    deaths: Iterable[Form] = (),
) -> list[Issue]:
    persons = sorted(persons, key=lambda p: p.get("row_no") or 0)
    deaths = sorted(deaths, key=lambda d: d.get("row_no") or 0)
    issues: list[Issue] = []
    if household.get("household_no") == ALL_DEAD_HOUSEHOLD_NO:
        _all_dead(household, persons, deaths, issues)
        return issues
    foreign = household.get("form_kind") == "foreign"
    family = household.get("h1_kind") == 1
    long_form = bool(household.get("in_long_form_sample"))
    _household_items(household, long_form=long_form, foreign=foreign, issues=issues)
    ages: dict[int, int] = {}
    for person in persons:
        row = int(person.get("row_no") or 0)
        ctx = Context(household, family=family, long_form=long_form, foreign=foreign)
        if not blank(person.get("d5_birth_year")) and not blank(person.get("d5_birth_month")):
            ctx.age = age_at_reference(int(person["d5_birth_year"]), int(person["d5_birth_month"]))
            ages[row] = ctx.age
        _person_items(person, row, ctx, issues)
        _identity(person, row, ctx, issues)
        if not foreign:
            _migration(person, row, ctx, issues)
            _education(person, row, ctx, issues)
            if long_form:
                _long_form_person(person, row, ctx, issues, household, persons)
    _identity_within_household(persons, issues)
    if family:
        _structure(persons, ages, issues)
    if not foreign:
        _counts(household, persons, ages, deaths, issues)
        _deaths(deaths, issues)
    return issues


def _all_dead(household: Form, persons: list[Form], deaths: list[Form], issues: list[Issue]) -> None:
    filled = [
        name
        for name in (
            "h1_kind",
            "h2_present",
            "h2_away",
            "h3_births_male",
            "h3_births_female",
            "h5_residence_type",
            "h6_floor_area",
            "h7_rooms",
        )
        if not blank(household.get(name)) and household.get(name) != 0
    ]
    total = (household.get("h4_deaths_male") or 0) + (household.get("h4_deaths_female") or 0)
    if persons or filled or total < 1:
        issues.append(Issue("ALL_DEAD_HOUSEHOLD", "H4"))
    _counts_deaths(household, deaths, issues)
    _deaths(deaths, issues)


def _household_items(household: Form, *, long_form: bool, foreign: bool, issues: list[Issue]) -> None:
    if blank(household.get("h1_kind")):
        issues.append(Issue("ITEM_MISSING", "H1", values={"item": "H1"}))
    elif household["h1_kind"] not in code_list("H1").codes:
        issues.append(Issue("CODE_INVALID", "H1", values={"item": "H1", "value": household["h1_kind"]}))
    if not foreign:
        for name, item in HOUSEHOLD_COUNT_ITEMS:
            if blank(household.get(name)):
                issues.append(Issue("ITEM_MISSING", item, values={"item": item}))
    h5 = household.get("h5_residence_type")
    if blank(h5):
        issues.append(Issue("ITEM_MISSING", "H5", values={"item": "H5"}))
        return
    if h5 not in code_list("H5").codes:
        issues.append(Issue("CODE_INVALID", "H5", values={"item": "H5", "value": h5}))
        return
    area, rooms = household.get("h6_floor_area"), household.get("h7_rooms")
    if h5 != 1:
        if not blank(area) or not blank(rooms):
            issues.append(Issue("HOUSING_NOT_ASKED", "H6", values={"h5": code_list("H5").label(h5)}))
        for name, item in (*HOUSEHOLD_LONG_ITEMS, ("h18_rent", "H18")):
            if not blank(household.get(name)):
                issues.append(Issue("ITEM_NOT_ASKED", item, values={"item": item}))
        return
    if blank(area) or blank(rooms) or area <= 0 or rooms < 1:
        issues.append(Issue("HOUSING_MISSING", "H6"))
    else:
        present = max(1, household.get("h2_present") or 0)
        if area / present > threshold("floor_area_per_person_max"):
            issues.append(Issue("FLOOR_AREA_PER_PERSON_HIGH", "H6", values={"per_person": round(area / present, 1)}))
        if area < threshold("floor_area_min"):
            issues.append(Issue("FLOOR_AREA_LOW", "H6", values={"area": area}))
        if rooms > threshold("rooms_max"):
            issues.append(Issue("ROOMS_HIGH", "H7", values={"rooms": rooms}))
    if long_form and not foreign:
        for name, item in HOUSEHOLD_LONG_ITEMS:
            value = household.get(name)
            if blank(value):
                issues.append(Issue("ITEM_MISSING", item, values={"item": item}))
            elif value not in code_list(item).codes:
                issues.append(Issue("CODE_INVALID", item, values={"item": item, "value": value}))
        rented = household.get("h17_tenure") in (1, 2)
        rent = household.get("h18_rent")
        if rented and blank(rent):
            issues.append(Issue("ITEM_MISSING", "H18", values={"item": "H18"}))
        elif not rented and not blank(rent):
            issues.append(Issue("RENT_NOT_ASKED", "H18"))
        elif rented and rent not in code_list("H18").codes:
            issues.append(Issue("CODE_INVALID", "H18", values={"item": "H18", "value": rent}))
    elif not long_form:
        for name, item in (*HOUSEHOLD_LONG_ITEMS, ("h18_rent", "H18")):
            if not blank(household.get(name)):
                issues.append(Issue("ITEM_NOT_ASKED", item, values={"item": item}))


def _person_items(person: Form, row: int, ctx: Context, issues: list[Issue]) -> None:
    reported: set[str] = set()
    for name, item, list_name, asked in PERSON_ITEMS:
        value = person.get(name)
        is_asked = asked(person, ctx)
        key = f"{item}:{'missing' if is_asked else 'not'}"
        if is_asked and blank(value):
            if key not in reported:
                issues.append(Issue("ITEM_MISSING", item, row, {"item": item}))
                reported.add(key)
        elif not is_asked and not blank(value):
            if key not in reported:
                issues.append(Issue("ITEM_NOT_ASKED", item, row, {"item": item}))
                reported.add(key)
        elif is_asked and list_name is not None and value not in code_list(list_name).codes:
            issues.append(Issue("CODE_INVALID", item, row, {"item": item, "value": value}))
    ethnicity = person.get("d6_ethnicity")
    if not ctx.foreign and not blank(ethnicity) and ethnicity not in ETHNIC_GROUPS:
        issues.append(Issue("CODE_INVALID", "D6", row, {"item": "D6", "value": ethnicity}))
    month = person.get("d5_birth_month")
    if not blank(month) and not 1 <= int(month) <= 12:
        issues.append(Issue("CODE_INVALID", "D5", row, {"item": "D5", "value": month}))
    for name, item in (("d7_residence_county", "D7"), ("d8_hukou_county", "D8"), ("c14_county", "C14")):
        county = person.get(name)
        if not blank(county) and not address_code_known(str(county)):
            issues.append(Issue("CODE_INVALID", item, row, {"item": item, "value": county}))
    province = person.get("c13_birth_province")
    if not blank(province) and not (len(str(province)) == 2 and address_code_known(f"{province}0000")):
        issues.append(Issue("CODE_INVALID", "C13", row, {"item": "C13", "value": province}))


def _identity(person: Form, row: int, ctx: Context, issues: list[Issue]) -> None:
    year, month = person.get("d5_birth_year"), person.get("d5_birth_month")
    if not blank(year) and not blank(month) and born_after_reference(int(year), int(month)):
        issues.append(Issue("BIRTH_AFTER_REFERENCE", "D5", row))
    number = person.get("d3_id_number") or ""
    if not number:
        # Newborns not yet registered and persons whose hukou is pending have no number.
        pending = person.get("d8_hukou_place") == 5
        if not ctx.foreign and not pending and ctx.age is not None and ctx.age >= 1:
            issues.append(Issue("ID_MISSING", "D3", row))
        return
    facts = read_id_number(number)
    if not facts.well_formed:
        issues.append(Issue("ID_FORMAT", "D3", row))
        return
    if not facts.checksum_ok:
        issues.append(Issue("ID_CHECKSUM", "D3", row))
    if facts.birth_date is None or (facts.birth_date.year, facts.birth_date.month) >= (REFERENCE_YEAR, REFERENCE_MONTH):
        issues.append(Issue("ID_BIRTH_DATE_INVALID", "D3", row))
    elif not blank(year) and not blank(month) and (facts.birth_year, facts.birth_month) != (int(year), int(month)):
        issues.append(
            Issue(
                "ID_BIRTH_MISMATCH",
                "D5",
                row,
                {"id_birth": f"{facts.birth_year}-{facts.birth_month:02d}", "birth": f"{year}-{int(month):02d}"},
            )
        )
    if not blank(person.get("d4_sex")) and facts.sex != person.get("d4_sex"):
        issues.append(Issue("ID_SEX_MISMATCH", "D4", row))
    if not facts.address_known:
        issues.append(Issue("ID_ADDRESS_UNKNOWN", "D3", row, {"code": facts.address_code}))


def _identity_within_household(persons: list[Form], issues: list[Issue]) -> None:
    first_row: dict[str, int] = {}
    for person in persons:
        number = (person.get("d3_id_number") or "").upper()
        if not number:
            continue
        row = int(person.get("row_no") or 0)
        if number in first_row:
            issues.append(Issue("ID_DUPLICATE_IN_HOUSEHOLD", "D3", row, {"other_row": first_row[number]}))
        else:
            first_row[number] = row


def _structure(persons: list[Form], ages: dict[int, int], issues: list[Issue]) -> None:
    if not persons:
        issues.append(Issue("HEAD_NOT_UNIQUE", "D2", None, {"count": 0}))
        return
    heads = [p for p in persons if p.get("d2_relationship") == 0]
    if persons[0].get("d2_relationship") != 0:
        issues.append(Issue("HEAD_NOT_FIRST", "D2", int(persons[0].get("row_no") or 1)))
    if len(heads) != 1:
        issues.append(Issue("HEAD_NOT_UNIQUE", "D2", None, {"count": len(heads)}))
    spouses = [p for p in persons if p.get("d2_relationship") == 1]
    if len(spouses) > 1:
        issues.append(Issue("SPOUSE_MULTIPLE", "D2", None, {"count": len(spouses)}))
    if len(heads) != 1:
        return
    head = heads[0]
    head_row = int(head.get("row_no") or 0)
    head_age = ages.get(head_row)
    marriage_age = threshold("legal_marriage_age")
    for spouse in spouses:
        row = int(spouse.get("row_no") or 0)
        age = ages.get(row)
        if age is not None and age < 15:
            issues.append(Issue("SPOUSE_UNDER_15", "D5", row, {"age": age}))
        elif age is not None and spouse.get("d4_sex") in marriage_age and age < marriage_age[spouse["d4_sex"]]:
            issues.append(Issue("SPOUSE_UNDER_MARRIAGE_AGE", "D5", row, {"age": age}))
        if spouse.get("d4_sex") is not None and spouse.get("d4_sex") == head.get("d4_sex"):
            issues.append(Issue("SPOUSE_SAME_SEX", "D4", row))
    if (
        spouses
        and head_age is not None
        and head.get("d4_sex") in marriage_age
        and head_age < marriage_age[head["d4_sex"]]
    ):
        issues.append(Issue("SPOUSE_UNDER_MARRIAGE_AGE", "D5", head_row, {"age": head_age}))
    if head_age is None:
        return
    gaps = {
        2: ("CHILD_AGE_GAP", "child_gap", -1),
        3: ("PARENT_AGE_GAP", "parent_gap", 1),
        5: ("GRANDPARENT_AGE_GAP", "grandparent_gap", 1),
        7: ("GRANDCHILD_AGE_GAP", "grandchild_gap", -1),
    }
    for person in persons:
        relationship = person.get("d2_relationship")
        row = int(person.get("row_no") or 0)
        age = ages.get(row)
        if relationship in gaps and age is not None:
            code, name, direction = gaps[relationship]
            gap = (age - head_age) * direction
            if gap < threshold(name):
                issues.append(Issue(code, "D5", row, {"gap": gap}))
    if any(p.get("d2_relationship") == 6 for p in persons) and not any(p.get("d2_relationship") == 2 for p in persons):
        row = next(int(p.get("row_no") or 0) for p in persons if p.get("d2_relationship") == 6)
        issues.append(Issue("CHILD_IN_LAW_WITHOUT_CHILD", "D2", row))


def _migration(person: Form, row: int, ctx: Context, issues: list[Issue]) -> None:
    away = person.get("d9_away_duration")
    if ctx.age is not None and away in threshold("away_min_years") and threshold("away_min_years")[away] > ctx.age:
        issues.append(Issue("AWAY_LONGER_THAN_AGE", "D9", row, {"age": ctx.age}))
    if person.get("d7_residence") == 1 and person.get("d8_hukou_place") == 1 and away not in (None, 1):
        issues.append(Issue("AWAY_BUT_LIVES_AT_HUKOU", "D9", row))
    reason = person.get("d10_away_reason")
    limits = threshold("away_reason_ages")
    if ctx.age is not None and reason in limits:
        low, high = limits[reason]
        if not low <= ctx.age <= high:
            issues.append(
                Issue("AWAY_REASON_AGE", "D10", row, {"reason": code_list("D10").label(reason), "age": ctx.age})
            )


def _education(person: Form, row: int, ctx: Context, issues: list[Issue]) -> None:
    education = person.get("d11_education")
    if ctx.age is None or blank(education):
        return
    minimum = threshold("education_min_age").get(education)
    too_young = minimum is not None and ctx.age < minimum
    too_old_for_preschool = education == 2 and ctx.age > threshold("preschool_max_age")
    if too_young or too_old_for_preschool:
        issues.append(
            Issue("EDUCATION_AGE", "D11", row, {"education": code_list("D11").label(education), "age": ctx.age})
        )
    if education >= 4 and person.get("d12_literate") == 2:
        issues.append(Issue("EDUCATED_ILLITERATE", "D12", row))


def _long_form_person(
    person: Form,
    row: int,
    ctx: Context,
    issues: list[Issue],
    household: Form,
    persons: list[Form],
) -> None:
    age = ctx.age
    marital = person.get("c24_marital")
    if age is not None and age < 15 and marital not in (None, 1):
        issues.append(Issue("MARRIED_UNDER_15", "C24", row, {"age": age}))
    year, month = person.get("c25_first_marriage_year"), person.get("c25_first_marriage_month")
    if not blank(year) and not blank(month) and not blank(person.get("d5_birth_year")):
        married = (int(year), int(month))
        earliest = (int(person["d5_birth_year"]) + 15, int(person.get("d5_birth_month") or 1))
        if married < earliest or married >= (REFERENCE_YEAR, REFERENCE_MONTH) or not 1 <= int(month) <= 12:
            issues.append(Issue("FIRST_MARRIAGE_DATE", "C25", row))
    fertility = [
        person.get(f)
        for f in ("c26_born_male", "c26_born_female", "c26_alive_male", "c26_alive_female", "c27_birth_last_year")
    ]
    if person.get("d4_sex") == 1 and any(not blank(v) for v in fertility):
        issues.append(Issue("FERTILITY_NOT_WOMAN", "C26", row))
    born_m, born_f = person.get("c26_born_male"), person.get("c26_born_female")
    alive_m, alive_f = person.get("c26_alive_male"), person.get("c26_alive_female")
    if not any(blank(v) for v in (born_m, born_f, alive_m, alive_f)) and (alive_m > born_m or alive_f > born_f):
        issues.append(Issue("CHILDREN_ALIVE_EXCEEDS_BORN", "C26", row))
    if person.get("c27_birth_last_year") == 2:
        infants = any(
            not blank(p.get("d5_birth_year"))
            and age_at_reference(int(p["d5_birth_year"]), int(p["d5_birth_month"] or 1)) == 0
            for p in persons
        )
        births = (household.get("h3_births_male") or 0) + (household.get("h3_births_female") or 0)
        if not infants and births == 0:
            issues.append(Issue("BIRTH_LAST_YEAR_NO_INFANT", "C27", row))
    reason = person.get("c22_not_working_reason")
    if age is not None and reason == 2 and age < threshold("retired_min_age"):
        issues.append(Issue("RETIRED_YOUNG", "C22", row, {"age": age}))
    if age is not None and reason == 1 and age > threshold("student_max_age"):
        issues.append(Issue("STUDENT_OLD", "C22", row, {"age": age}))
    hours = person.get("c18_hours")
    low, high = threshold("hours_range")
    if not blank(hours) and not low <= hours <= high:
        issues.append(Issue("HOURS_RANGE", "C18", row))


def _counts(
    household: Form,
    persons: list[Form],
    ages: dict[int, int],
    deaths: list[Form],
    issues: list[Issue],
) -> None:
    present, away = household.get("h2_present"), household.get("h2_away")
    if not blank(present) and not blank(away):
        if present + away != len(persons):
            issues.append(
                Issue("PERSON_COUNT_MISMATCH", "H2", None, {"declared": present + away, "rows": len(persons)})
            )
        here = sum(1 for p in persons if p.get("d7_residence") == 1)
        if present != here and present + away == len(persons):
            issues.append(Issue("PRESENT_COUNT_MISMATCH", "H2", None, {"declared": present, "rows": here}))
    infants = Counter(p.get("d4_sex") for p in persons if ages.get(int(p.get("row_no") or 0)) == 0)
    h3_male, h3_female = household.get("h3_births_male"), household.get("h3_births_female")
    if not blank(h3_male) and not blank(h3_female) and (h3_male, h3_female) != (infants[1], infants[2]):
        issues.append(
            Issue(
                "BIRTHS_MISMATCH",
                "H3",
                None,
                {"h3_male": h3_male, "h3_female": h3_female, "male": infants[1], "female": infants[2]},
            )
        )
    _counts_deaths(household, deaths, issues)


def _counts_deaths(household: Form, deaths: list[Form], issues: list[Issue]) -> None:
    h4_male, h4_female = household.get("h4_deaths_male"), household.get("h4_deaths_female")
    if blank(h4_male) or blank(h4_female):
        return
    recorded = Counter(d.get("sex") for d in deaths)
    if (h4_male, h4_female) != (recorded[1], recorded[2]):
        issues.append(
            Issue(
                "DEATHS_MISMATCH",
                "H4",
                None,
                {"h4_male": h4_male, "h4_female": h4_female, "male": recorded[1], "female": recorded[2]},
            )
        )


def _deaths(deaths: list[Form], issues: list[Issue]) -> None:
    for death in deaths:
        row = int(death.get("row_no") or 0)
        for name, item in (
            ("name", "S2"),
            ("sex", "S3"),
            ("birth_year", "S4"),
            ("birth_month", "S4"),
            ("death_year", "S5"),
            ("death_month", "S5"),
        ):
            if blank(death.get(name)):
                issues.append(Issue("ITEM_MISSING", item, row, {"item": f"{item}"}))
                return
        birth = (int(death["birth_year"]), int(death["birth_month"]))
        died = (int(death["death_year"]), int(death["death_month"]))
        if died < birth:
            issues.append(Issue("DEATH_BEFORE_BIRTH", "S5", row, {"row": row}))
            continue
        if not ((2019, 11) <= died <= (2020, 10)):
            issues.append(Issue("CODE_INVALID", "S5", row, {"item": "S5", "value": f"{died[0]}-{died[1]:02d}"}))
        age_at_death = died[0] - birth[0] - (1 if birth[1] > died[1] else 0)
        for name, item, minimum in (("education", "S7", 6), ("marital", "S8", 15)):
            asked = age_at_death >= minimum
            if asked and blank(death.get(name)):
                issues.append(Issue("ITEM_MISSING", item, row, {"item": item}))
            elif not asked and not blank(death.get(name)):
                issues.append(Issue("ITEM_NOT_ASKED", item, row, {"item": item}))


def hard_issues(issues: Iterable[Issue]) -> list[Issue]:
    return [issue for issue in issues if issue.severity is Severity.HARD]


def unexplained_warnings(issues: Iterable[Issue], notes: Mapping[str, str]) -> list[Issue]:
    """Warnings without a written note (a note must say something: at least two characters)."""
    return [
        issue
        for issue in issues
        if issue.severity is Severity.WARNING and len((notes.get(issue.key) or "").strip()) < 2
    ]
