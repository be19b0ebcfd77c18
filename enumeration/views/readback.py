"""The read-back (读回): a form as the enumerator reads it to the respondent, item by item, in words.

Which items are shown follows the paper form's skip logic as the rules define it (``enumeration.rules.entry``):
an item that is asked is shown even when empty, one that is not asked only when something was filled in (so
that the reviewer sees what the rule ITEM_NOT_ASKED complains about). Issues are attached to the lines they
are about, and the same structure feeds the reviewers' item picker.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from census.privacy import mask_id_number, mask_name
from enumeration.codes import code_list
from enumeration.forms import (
    DEATH_ITEMS,
    FOREIGN_PERSON_ITEMS,
    HOUSEHOLD_ITEMS,
    LONG_HOUSEHOLD_ITEMS,
    LONG_PERSON_ITEMS,
    PERSON_ITEMS,
    Item,
    Part,
    value_label,
)
from enumeration.identity import age_at_reference
from enumeration.models import ALL_DEAD_HOUSEHOLD_NO
from enumeration.rules.entry import PERSON_ITEMS as RULE_PERSON_ITEMS
from enumeration.rules.entry import Context, Issue, blank

MASKED_NAME_FIELDS = {"d1_name", "name"}
MASKED_ID_FIELDS = {"d3_id_number", "id_number"}


@dataclass
class Line:
    code: str
    title: str
    text: str
    issues: list[Issue] = field(default_factory=list)
    asked: bool = True

    @property
    def has_hard(self) -> bool:
        return any(str(i.severity) == "hard" for i in self.issues)

    @property
    def has_warning(self) -> bool:
        return any(str(i.severity) == "warning" for i in self.issues)


@dataclass
class Block:
    kind: str  # household | person | death
    title: str
    row: int | None
    lines: list[Line]


def household_fields_asked(household: dict[str, Any]) -> set[str]:
    """The household items the form asks, from the answers given so far (H5 2–5 skips H6/H7 and the rest)."""
    if household.get("household_no") == ALL_DEAD_HOUSEHOLD_NO:
        return {"h4_deaths_male", "h4_deaths_female"}
    foreign = household.get("form_kind") == "foreign"
    asked = {"h1_kind", "h5_residence_type"}
    if not foreign:
        asked |= {"h2_present", "h2_away", "h3_births_male", "h3_births_female", "h4_deaths_male", "h4_deaths_female"}
    if household.get("h5_residence_type") == 1:
        asked |= {"h6_floor_area", "h7_rooms"}
        if household.get("in_long_form_sample") and not foreign:
            asked |= {part.field for item in LONG_HOUSEHOLD_ITEMS for part in item.parts if part.field != "h18_rent"}
            if household.get("h17_tenure") in (1, 2):
                asked.add("h18_rent")
    return asked


def person_fields_asked(household: dict[str, Any], person: dict[str, Any]) -> set[str]:
    """The person items the form asks of this person: the rules' own skip logic."""
    ctx = Context(
        household,
        family=household.get("h1_kind") == 1,
        long_form=bool(household.get("in_long_form_sample")),
        foreign=household.get("form_kind") == "foreign",
    )
    year, month = person.get("d5_birth_year"), person.get("d5_birth_month")
    if year is not None and month is not None and not blank(year) and not blank(month):
        ctx.age = age_at_reference(int(year), int(month))
    asked = {name for name, _item, _codes, is_asked in RULE_PERSON_ITEMS if is_asked(person, ctx)}
    asked.add("d3_id_number")
    if person.get("c14_residence_5y") == 2 and "c14_residence_5y" in asked:
        asked.add("c14_county")
    return asked


def death_fields_asked(death: dict[str, Any]) -> set[str]:
    asked = {"name", "sex", "birth_year", "birth_month", "death_year", "death_month", "ethnicity", "id_number"}
    try:
        age = int(death["death_year"]) - int(death["birth_year"])
        age -= 1 if int(death["birth_month"]) > int(death["death_month"]) else 0
    except (KeyError, TypeError, ValueError):
        return asked
    if age >= 6:
        asked.add("education")
    if age >= 15:
        asked.add("marital")
    return asked


def _text(section: str, item: Item, parts: list[Part], values: dict[str, Any], unmasked: bool) -> str:
    def one(part: Part) -> str:
        value = values.get(part.field)
        if not unmasked and part.field in MASKED_NAME_FIELDS:
            return mask_name(value or "") or "—"
        if not unmasked and part.field in MASKED_ID_FIELDS:
            return mask_id_number(value or "") or "—"
        return value_label(section, part.field, value)

    kinds = [part.kind for part in parts]
    if kinds == ["year", "month"]:
        year, month = (values.get(part.field) for part in parts)
        if blank(year) and blank(month):
            return "—"
        return _("%(year)s-%(month)s") % {
            "year": year if not blank(year) else "?",
            "month": f"{int(month):02d}" if month is not None and not blank(month) else "?",
        }
    if len(parts) == 1 and (not parts[0].zh or parts[0].unit):
        text = one(parts[0])
        return f"{text} {parts[0].label}" if parts[0].unit and text != "—" else text
    return "；".join(f"{part.label or ''} {one(part)}".strip() for part in parts)


def _lines(
    section: str,
    items: tuple[Item, ...],
    values: dict[str, Any],
    asked: set[str],
    issues: list[Issue],
    row: int | None,
    unmasked: bool,
) -> list[Line]:
    lines = []
    for item in items:
        parts = [p for p in item.parts if p.field in asked or not blank(values.get(p.field))]
        if not parts:
            continue
        own = [i for i in issues if i.item == item.code and i.row == row] if item.code else []
        lines.append(
            Line(
                code=item.code,
                title=str(item.title),
                text=_text(section, item, parts, values, unmasked),
                issues=own,
                asked=any(p.field in asked for p in parts),
            )
        )
    return lines


def readback(
    household: dict[str, Any],
    persons: list[dict[str, Any]],
    deaths: list[dict[str, Any]],
    issues: list[Issue],
    *,
    unmasked: bool,
) -> list[Block]:
    household_issues = [i for i in issues if i.row is None or i.item.startswith("H")]
    person_issues = [i for i in issues if i.row is not None and not i.item.startswith(("H", "S"))]
    death_issues = [i for i in issues if i.row is not None and i.item.startswith("S")]
    blocks = [
        Block(
            "household",
            _("Household items"),
            None,
            _lines(
                "household",
                (*HOUSEHOLD_ITEMS, *LONG_HOUSEHOLD_ITEMS),
                household,
                household_fields_asked(household),
                household_issues,
                None,
                unmasked,
            ),
        )
    ]
    foreign = household.get("form_kind") == "foreign"
    person_items = (*PERSON_ITEMS, *(FOREIGN_PERSON_ITEMS if foreign else LONG_PERSON_ITEMS))
    for person in persons:
        row = int(person.get("row_no") or 0)
        name = person.get("d1_name") or ""
        shown = name if unmasked else mask_name(name)
        relationship = code_list("D2").label(person.get("d2_relationship"))
        title = _("Person %(row)d: %(name)s") % {"row": row, "name": shown or "—"}
        if person.get("d2_relationship") is not None:
            title = f"{title}（{relationship}）"
        blocks.append(
            Block(
                "person",
                title,
                row,
                _lines(
                    "persons",
                    person_items,
                    person,
                    person_fields_asked(household, person),
                    person_issues,
                    row,
                    unmasked,
                ),
            )
        )
    for death in deaths:
        row = int(death.get("row_no") or 0)
        blocks.append(
            Block(
                "death",
                _("Death register, row %(row)d") % {"row": row},
                row,
                _lines("deaths", DEATH_ITEMS, death, death_fields_asked(death), death_issues, row, unmasked),
            )
        )
    return blocks


def item_choices(blocks: list[Block]) -> list[tuple[str, str]]:
    """What a reviewer may comment on: every item shown in the read-back, per row, and the whole form."""
    choices: list[tuple[str, str]] = [("*", _("The whole form"))]
    for block in blocks:
        for line in block.lines:
            if not line.code:
                continue
            if block.row is None:
                choices.append((line.code, line.title))
            else:
                prefix = _("Person %(row)d") if block.kind == "person" else _("Death row %(row)d")
                choices.append((f"{line.code}@{block.row}", f"{prefix % {'row': block.row}} · {line.title}"))
    return choices


def comment_label(item: str) -> str:
    """A review comment's item ("D5@2") as a person reads it."""
    from enumeration.forms import item_title

    if item == "*":
        return _("The whole form")
    code, _sep, row = item.partition("@")
    title = item_title(code)
    if row.isdigit():
        prefix = _("Death row %(row)d") if code.startswith("S") else _("Person %(row)d")
        return f"{prefix % {'row': int(row)}} · {title}"
    return title


def issue_location(issue: Issue | dict[str, Any]) -> str:
    """Where an issue is: "Person 2 · D5 出生年月" or "H6 本户现住房建筑面积"."""
    from enumeration.forms import item_title

    item = issue.item if isinstance(issue, Issue) else str(issue.get("item") or "")
    row = issue.row if isinstance(issue, Issue) else issue.get("row")
    title = item_title(item)
    if row is None:
        return title
    prefix = _("Death row %(row)d") if item.startswith("S") else _("Person %(row)d")
    return f"{prefix % {'row': int(row)}} · {title}"
