"""Forms of the registration pages, and the items they show with their official codes ("D5 出生年月").

The paper form is the model: every input is labelled with its item code and Chinese title, grouped as the
form groups them (D5 has a year and a month, H3 a male and a female count). The groups below drive the phone
form, the read-back, the reviewers' item picker and the labels of the version diff, so all of them speak
the same item language. Code lists come from ``enumeration.codes``; the skip logic stays with the rules
(``enumeration.rules.entry``), which decide on the server.

The form classes clean what the browser sends (JSON while autosaving, or an ordinary POST): every item is
optional, because a draft is saved as it is typed; what is missing is the rules' business at signing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from census.models import Building, SmallArea
from enumeration.codes import ETHNIC_GROUP_ALIASES, ETHNIC_GROUPS, bilingual, code_list
from enumeration.models import DeathRecord, DwellingUnit, FormKind, Household, Person
from enumeration.services.registration import (
    DEATH_FORM_FIELDS,
    HOUSEHOLD_FORM_FIELDS,
    PERSON_FORM_FIELDS,
    ROW_LIMITS,
    too_many_rows_message,
)

# --- the items of the forms ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Part:
    """One input of an item: a model field, its sub-label (年/月, 男/女 …) and the code list it answers from."""

    field: str
    zh: str = ""
    en: str = ""
    codes: str | None = None
    kind: str = "number"  # number | year | month | choice | text | id | ethnicity | county
    unit: bool = False  # the sub-label is a unit written after the value (平方米, 间)

    @property
    def label(self) -> Promise | str:
        return bilingual(self.zh, self.en) if self.zh else ""


@dataclass(frozen=True)
class Item:
    code: str
    zh: str
    en: str
    parts: tuple[Part, ...]

    @property
    def title(self) -> Promise:
        prefix = f"{self.code} " if self.code else ""
        return bilingual(f"{prefix}{self.zh}", f"{prefix}{self.en}")  # type: ignore[no-any-return]

    @property
    def title_zh(self) -> str:
        return f"{self.code} {self.zh}".strip()

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(part.field for part in self.parts)


def _choice(code: str, field: str, list_name: str, zh: str, en: str) -> Item:
    return Item(code, zh, en, (Part(field, codes=list_name, kind="choice"),))


HOUSEHOLD_ITEMS: tuple[Item, ...] = (
    _choice("H1", "h1_kind", "H1", "户别", "Household type"),
    Item(
        "H2",
        "本户应登记的人数",
        "Persons to be registered",
        (
            Part("h2_present", "2020年10月31日晚居住在本户的人数", "Living here on the night of 31 Oct 2020"),
            Part("h2_away", "户口在本户、10月31日晚未住本户的人数", "Hukou here but away that night"),
        ),
    ),
    Item(
        "H3",
        "2019.11.1–2020.10.31 出生人口",
        "Births 1 Nov 2019 – 31 Oct 2020",
        (Part("h3_births_male", "男", "Male"), Part("h3_births_female", "女", "Female")),
    ),
    Item(
        "H4",
        "2019.11.1–2020.10.31 死亡人口",
        "Deaths 1 Nov 2019 – 31 Oct 2020",
        (Part("h4_deaths_male", "男", "Male"), Part("h4_deaths_female", "女", "Female")),
    ),
    _choice("H5", "h5_residence_type", "H5", "住所类型", "Type of residence"),
    Item("H6", "本户现住房建筑面积", "Floor area", (Part("h6_floor_area", "平方米", "m²", unit=True),)),
    Item("H7", "本户现住房间数", "Rooms", (Part("h7_rooms", "间", "rooms", unit=True),)),
)

LONG_HOUSEHOLD_ITEMS: tuple[Item, ...] = tuple(
    _choice(code, field, code, code_list(code).title_zh, code_list(code).title_en)
    for code, field in (
        ("H8", "h8_storeys"),
        ("H9", "h9_structure"),
        ("H10", "h10_year_built"),
        ("H11", "h11_lift"),
        ("H12", "h12_cooking_fuel"),
        ("H13", "h13_piped_water"),
        ("H14", "h14_kitchen"),
        ("H15", "h15_toilet"),
        ("H16", "h16_bathing"),
        ("H17", "h17_tenure"),
        ("H18", "h18_rent"),
        ("H19", "h19_car_value"),
    )
)

PERSON_ITEMS: tuple[Item, ...] = (
    Item("D1", "姓名", "Name", (Part("d1_name", kind="text"),)),
    _choice("D2", "d2_relationship", "D2", "与户主关系", "Relationship to the head"),
    Item("D3", "公民身份号码", "Citizen ID number", (Part("d3_id_number", kind="id"),)),
    _choice("D4", "d4_sex", "D4", "性别", "Sex"),
    Item(
        "D5",
        "出生年月",
        "Year and month of birth",
        (Part("d5_birth_year", "年", "Year", kind="year"), Part("d5_birth_month", "月", "Month", kind="month")),
    ),
    Item("D6", "民族", "Ethnic group", (Part("d6_ethnicity", kind="ethnicity"),)),
    Item(
        "D7",
        "普查时点居住地",
        "Residence at the reference moment",
        (
            Part("d7_residence", codes="D7", kind="choice"),
            Part("d7_residence_county", "县(市、区)代码", "County code", kind="county"),
        ),
    ),
    Item(
        "D8",
        "户口登记地",
        "Place of hukou registration",
        (
            Part("d8_hukou_place", codes="D8", kind="choice"),
            Part("d8_hukou_county", "县(市、区)代码", "County code", kind="county"),
        ),
    ),
    _choice("D9", "d9_away_duration", "D9", "离开户口登记地时间", "Time away from the hukou place"),
    _choice("D10", "d10_away_reason", "D10", "离开户口登记地原因", "Reason for leaving the hukou place"),
    _choice("D11", "d11_education", "D11", "受教育程度", "Education"),
    _choice("D12", "d12_literate", "D12", "是否识字", "Literate"),
)

LONG_PERSON_ITEMS: tuple[Item, ...] = (
    _choice("C11", "c11_hukou_type", "C11", "户口登记地类型", "Type of hukou place"),
    _choice("C12", "c12_land_right", "C12", "是否有农村土地承包经营权", "Rural land contract right"),
    Item(
        "C13",
        "出生地",
        "Place of birth",
        (
            Part("c13_birthplace", codes="C13", kind="choice"),
            Part("c13_birth_province", "省份代码（2位）", "Province code (2 digits)", kind="province"),
        ),
    ),
    Item(
        "C14",
        "五年前常住地",
        "Usual residence five years ago",
        (
            Part("c14_residence_5y", codes="C14", kind="choice"),
            Part("c14_county", "县(市、区)代码", "County code", kind="county"),
        ),
    ),
    _choice("C16", "c16_school_status", "C16", "学业完成情况", "Schooling status"),
    Item(
        "C18",
        "工作情况",
        "Work in the reference week",
        (
            Part("c18_work", codes="C18", kind="choice"),
            Part("c18_hours", "工作小时数", "Hours worked"),
        ),
    ),
    _choice("C19", "c19_unit_type", "C19", "工作单位类型", "Type of work unit"),
    Item(
        "C20",
        "行业（单位详细名称及主要产品）",
        "Industry (unit and main product)",
        (Part("c20_industry", kind="text"),),
    ),
    Item("C21", "职业（本人从事的具体工作）", "Occupation", (Part("c21_occupation", kind="text"),)),
    _choice("C22", "c22_not_working_reason", "C22", "未工作原因", "Reason for not working"),
    _choice("C23", "c23_livelihood", "C23", "主要生活来源", "Main source of livelihood"),
    _choice("C24", "c24_marital", "C24", "婚姻状况", "Marital status"),
    Item(
        "C25",
        "初婚年月",
        "Year and month of first marriage",
        (
            Part("c25_first_marriage_year", "年", "Year", kind="year"),
            Part("c25_first_marriage_month", "月", "Month", kind="month"),
        ),
    ),
    Item(
        "C26",
        "生育子女数",
        "Children ever born and alive",
        (
            Part("c26_born_male", "生育 男", "Born, sons"),
            Part("c26_born_female", "生育 女", "Born, daughters"),
            Part("c26_alive_male", "现存活 男", "Alive, sons"),
            Part("c26_alive_female", "现存活 女", "Alive, daughters"),
        ),
    ),
    _choice("C27", "c27_birth_last_year", "C27", "过去一年的生育状况", "Births in the past year"),
    _choice("C28", "c28_living_arrangement", "C28", "居住状况", "Living arrangement"),
    _choice("C29", "c29_health", "C29", "身体健康状况", "Health"),
)

FOREIGN_PERSON_ITEMS: tuple[Item, ...] = (
    Item(
        "F1",
        "身份或国籍",
        "Status or nationality",
        (
            Part("f_identity", codes="F_IDENTITY", kind="choice"),
            Part("f_nationality", "国籍（ISO 3位字母代码）", "Nationality (ISO alpha-3)", kind="text"),
        ),
    ),
    _choice("F2", "f_stay", "F_STAY", "居住时间", "Length of stay"),
    _choice("F3", "f_purpose", "F_PURPOSE", "来内地(大陆)或来华目的", "Purpose of stay"),
    _choice("F4", "f_employed", "F_EMPLOYED", "就业情况", "Employment"),
)

DEATH_ITEMS: tuple[Item, ...] = (
    Item("S2", "姓名（未取名的填“未取名”）", "Name (未取名 if none)", (Part("name", kind="text"),)),
    Item("S3", "性别", "Sex", (Part("sex", codes="D4", kind="choice"),)),
    Item(
        "S4",
        "出生年月",
        "Year and month of birth",
        (Part("birth_year", "年", "Year", kind="year"), Part("birth_month", "月", "Month", kind="month")),
    ),
    Item(
        "S5",
        "死亡年月",
        "Year and month of death",
        (Part("death_year", "年", "Year", kind="year"), Part("death_month", "月", "Month", kind="month")),
    ),
    Item("S6", "民族", "Ethnic group", (Part("ethnicity", kind="ethnicity"),)),
    Item("", "公民身份号码", "Citizen ID number", (Part("id_number", kind="id"),)),
    Item("S7", "受教育程度（6周岁及以上）", "Education (aged 6+)", (Part("education", codes="D11", kind="choice"),)),
    Item("S8", "婚姻状况（15周岁及以上）", "Marital status (aged 15+)", (Part("marital", codes="C24", kind="choice"),)),
)

RESPONDENT_ITEMS: tuple[Item, ...] = (
    Item("", "申报人姓名", "Respondent's name", (Part("name", kind="text"),)),
    Item("", "申报人与户主关系", "Respondent's relationship to the head", (Part("relationship", codes="D2"),)),
    Item("", "申报人签名（SHA-256）", "Respondent's signature (SHA-256)", (Part("signature_sha256", kind="text"),)),
    Item("", "拒绝签字", "Refused to sign", (Part("refused", kind="bool"),)),
    Item("", "拒签原因", "Reason for refusal", (Part("refusal_reason", kind="text"),)),
)

FORM_KIND_ITEM = Item("", "表式", "Form", (Part("form_kind", kind="form_kind"),))
NOTES_ITEM = Item("", "警示说明", "Notes on warnings", (Part("warning_notes", kind="notes"),))


def _by_field(items: tuple[Item, ...]) -> dict[str, tuple[Item, Part]]:
    return {part.field: (item, part) for item in items for part in item.parts}


HOUSEHOLD_PARTS = _by_field((FORM_KIND_ITEM, *HOUSEHOLD_ITEMS, *LONG_HOUSEHOLD_ITEMS, NOTES_ITEM))
PERSON_PARTS = _by_field((*PERSON_ITEMS, *LONG_PERSON_ITEMS, *FOREIGN_PERSON_ITEMS))
DEATH_PARTS = _by_field(DEATH_ITEMS)
RESPONDENT_PARTS = _by_field(RESPONDENT_ITEMS)
PARTS_BY_SECTION = {
    "household": HOUSEHOLD_PARTS,
    "persons": PERSON_PARTS,
    "deaths": DEATH_PARTS,
    "respondent": RESPONDENT_PARTS,
}
ITEMS_BY_CODE: dict[str, Item] = {
    item.code: item
    for item in (
        *HOUSEHOLD_ITEMS,
        *LONG_HOUSEHOLD_ITEMS,
        *PERSON_ITEMS,
        *LONG_PERSON_ITEMS,
        *FOREIGN_PERSON_ITEMS,
        *DEATH_ITEMS,
    )
    if item.code
}


def field_label(section: str, field: str) -> str:
    """ "D5 出生年月 · 年" for ``d5_birth_year``: the item's code and title, and the part when there are several."""
    found = PARTS_BY_SECTION.get(section, {}).get(field)
    if found is None:
        return field
    item, part = found
    title = str(item.title)
    return f"{title} · {part.label}" if len(item.parts) > 1 and part.label else title


def item_title(code: str) -> str:
    """The title of an item code ("H7" → "H7 本户现住房间数"); unknown codes are returned as they are."""
    item = ITEMS_BY_CODE.get(code)
    return str(item.title) if item is not None else code


def value_label(section: str, field: str, value: Any) -> str:
    """A stored value as a reviewer reads it: codes with their label ("2 女"), ethnic groups by name."""
    if value is None or value == "":
        return "—"
    found = PARTS_BY_SECTION.get(section, {}).get(field)
    part = found[1] if found else None
    if part is not None and part.codes and isinstance(value, int):
        label = code_list(part.codes).label(value)
        return f"{value} {label}" if label and label != str(value) else str(value)
    if part is not None and part.kind == "ethnicity":
        return ETHNIC_GROUPS.get(str(value), str(value))
    if part is not None and part.kind == "form_kind":
        return str(FormKind(value).label) if value in FormKind.values else str(value)
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    if isinstance(value, dict):
        return "; ".join(f"{key}: {text}" for key, text in value.items()) or "—"
    return str(value)


# --- cleaning what the browser sends --------------------------------------------------------------------

ID_RE = re.compile(r"^[0-9]{17}[0-9X]$")


def ethnicity_code(text: str) -> str:
    """The GB 3304 code of a typed ethnic group: "汉族", "汉", "01" or a former name all give "01"."""
    text = (text or "").strip()
    if not text:
        return ""
    if text in ETHNIC_GROUPS:
        return text
    if text.isdigit() and len(text) == 1 and f"0{text}" in ETHNIC_GROUPS:
        return f"0{text}"
    names = {name: code for code, name in ETHNIC_GROUPS.items()}
    names.update(ETHNIC_GROUP_ALIASES)
    for candidate in (text, f"{text}族"):
        if candidate in names:
            return names[candidate]
    raise ValidationError(_("Unknown ethnic group “%(name)s”: choose one from the list."), params={"name": text})


def _blank_choice() -> list[tuple[Any, Any]]:
    return [("", "—")]


def _form_field(model: type[models.Model], item: Item, part: Part) -> forms.Field:
    model_field = model._meta.get_field(part.field)
    label = field_label(
        "household" if model is Household else "deaths" if model is DeathRecord else "persons", part.field
    )
    numeric = {"inputmode": "numeric", "autocomplete": "off"}
    if part.kind == "choice" or (part.codes and part.kind == "number"):
        assert part.codes is not None
        return forms.TypedChoiceField(
            label=label,
            choices=_blank_choice() + code_list(part.codes).choices(),
            coerce=int,
            empty_value=None,
            required=False,
        )
    if part.kind == "month":
        return forms.TypedChoiceField(
            label=label,
            choices=_blank_choice() + [(month, str(month)) for month in range(1, 13)],
            coerce=int,
            empty_value=None,
            required=False,
        )
    if part.kind == "year":
        return forms.IntegerField(
            label=label,
            min_value=1880,
            max_value=2020,
            required=False,
            widget=forms.TextInput(attrs={**numeric, "maxlength": 4, "pattern": "[0-9]*"}),
        )
    if part.kind in ("number",):
        upper = 100000 if part.field == "h6_floor_area" else 999
        return forms.IntegerField(
            label=label,
            min_value=0,
            max_value=upper,
            required=False,
            widget=forms.TextInput(attrs={**numeric, "pattern": "[0-9]*"}),
        )
    max_length = getattr(model_field, "max_length", None) or 100
    if part.kind == "id":
        return forms.CharField(
            label=label,
            required=False,
            max_length=18,
            # A numeric keypad: the letter X has its own button beside the field (partials/item_group.html).
            widget=forms.TextInput(
                attrs={"autocomplete": "off", "maxlength": 18, "autocapitalize": "characters", "inputmode": "numeric"}
            ),
        )
    if part.kind in ("county", "province"):
        length = 6 if part.kind == "county" else 2
        return forms.CharField(
            label=label,
            required=False,
            max_length=length,
            widget=forms.TextInput(attrs={**numeric, "maxlength": length, "pattern": "[0-9]*"}),
        )
    if part.kind == "ethnicity":
        return forms.CharField(
            label=label,
            required=False,
            max_length=20,
            widget=forms.TextInput(attrs={"list": "ethnic-groups", "autocomplete": "off"}),
        )
    return forms.CharField(
        label=label, required=False, max_length=max_length, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )


class _ItemsForm(forms.Form):
    """A form over some parts of the items; ``clean_partial`` returns only the fields the data contained."""

    def clean_partial(self) -> dict[str, Any]:
        assert self.is_bound
        assert not self.errors
        present = set(self.data)
        return {name: value for name, value in self.cleaned_data.items() if name in present}

    def _clean_ethnicity(self, name: str) -> str:
        return ethnicity_code(self.cleaned_data.get(name) or "")

    def _clean_id(self, name: str) -> str:
        value = (self.cleaned_data.get(name) or "").strip().upper().replace(" ", "")
        if value and not ID_RE.match(value):
            raise ValidationError(_("A citizen ID number has 17 digits and a final digit or X."))
        return value

    def _clean_code(self, name: str, length: int) -> str:
        value = (self.cleaned_data.get(name) or "").strip()
        if value and not (len(value) == length and value.isdigit()):
            raise ValidationError(_("Write the %(n)d-digit code.") % {"n": length})
        return value


def _items_form(
    name: str, model: type[models.Model], items: tuple[Item, ...], allowed: tuple[str, ...]
) -> type[_ItemsForm]:
    fields: dict[str, Any] = {}
    for item in items:
        for part in item.parts:
            if part.field in allowed:
                fields[part.field] = _form_field(model, item, part)
    for part_field, (_item, part) in _by_field(items).items():
        if part_field not in fields:
            continue
        if part.kind == "ethnicity":
            fields[f"clean_{part_field}"] = lambda self, n=part_field: self._clean_ethnicity(n)
        elif part.kind == "id":
            fields[f"clean_{part_field}"] = lambda self, n=part_field: self._clean_id(n)
        elif part.kind in ("county", "province"):
            length = 6 if part.kind == "county" else 2
            fields[f"clean_{part_field}"] = lambda self, n=part_field, k=length: self._clean_code(n, k)
    return type(name, (_ItemsForm,), fields)


HouseholdItemsForm = _items_form(
    "HouseholdItemsForm", Household, (*HOUSEHOLD_ITEMS, *LONG_HOUSEHOLD_ITEMS), HOUSEHOLD_FORM_FIELDS
)
PersonForm = _items_form(
    "PersonForm", Person, (*PERSON_ITEMS, *LONG_PERSON_ITEMS, *FOREIGN_PERSON_ITEMS), PERSON_FORM_FIELDS
)
DeathForm = _items_form("DeathForm", DeathRecord, DEATH_ITEMS, DEATH_FORM_FIELDS)


class FormKindForm(forms.Form):
    form_kind = forms.ChoiceField(label=_("Form"), choices=FormKind.choices, required=False)


@dataclass
class CleanedForm:
    household: dict[str, Any]
    persons: list[dict[str, Any]] | None
    deaths: list[dict[str, Any]] | None
    errors: list[dict[str, Any]]


def _row_label(section: str, index: int) -> str:
    if section == "persons":
        return str(_("Person %(n)d") % {"n": index + 1})
    return str(_("Death %(n)d") % {"n": index + 1})


# A JSON list, object or true/false where an item takes one number or text: Django's fields would store its
# text ("['王伟']" as a name) instead of refusing it.
NOT_SCALAR = _("A single value is expected here: a number or a text.")


def _not_scalar(values: dict[str, Any]) -> list[str]:
    return [name for name, value in values.items() if isinstance(value, dict | list | bool)]


def clean_form_payload(payload: dict[str, Any]) -> CleanedForm:
    """Clean an autosave payload ``{"household": {…}, "persons": [...], "deaths": [...]}``.

    Returns typed values and a list of errors ``{"key": "persons[0].d5_birth_year", "label": …, "messages": […]}``;
    ``persons``/``deaths`` are ``None`` when the payload left them out (they are then kept as they are).
    """
    errors: list[dict[str, Any]] = []
    household_data = payload.get("household") or {}
    if not isinstance(household_data, dict):
        household_data = {}
        errors.append({"key": "household", "label": "", "messages": [str(_("The form data are damaged."))]})
    household: dict[str, Any] = {}
    notes = household_data.get("warning_notes")
    kind = household_data.get("form_kind")
    items = {k: v for k, v in household_data.items() if k not in ("warning_notes", "form_kind")}
    unknown = set(items) - set(HouseholdItemsForm.base_fields)
    if unknown:
        errors.append(
            {
                "key": "household",
                "label": "",
                "messages": [str(_("Unknown fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))})],
            }
        )
    for name in _not_scalar(items):
        errors.append(
            {"key": f"household.{name}", "label": field_label("household", name), "messages": [str(NOT_SCALAR)]}
        )
        items.pop(name)
    form = HouseholdItemsForm(data=items)
    if form.is_valid():
        household.update(form.clean_partial())
    else:
        for name, messages in form.errors.items():
            errors.append({"key": f"household.{name}", "label": field_label("household", name), "messages": messages})
    if kind is not None:
        if kind in FormKind.values:
            household["form_kind"] = kind
        else:
            errors.append(
                {"key": "household.form_kind", "label": str(_("Form")), "messages": [str(_("Unknown form."))]}
            )
    if notes is not None:
        if isinstance(notes, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in notes.items()):
            household["warning_notes"] = {k: v.strip()[:500] for k, v in notes.items() if v.strip()}
        else:
            errors.append(
                {"key": "household.warning_notes", "label": "", "messages": [str(_("The notes are damaged."))]}
            )

    def rows(section: str, form_class: type[_ItemsForm]) -> list[dict[str, Any]] | None:
        raw = payload.get(section)
        if raw is None:
            return None
        if not isinstance(raw, list):
            errors.append({"key": section, "label": "", "messages": [str(_("The form data are damaged."))]})
            return []
        if len(raw) > ROW_LIMITS[section]:
            # Refused by their number before any row is read: ten thousand rows took 13.5 s of CPU to read
            # (each a Django form), only for the service to refuse them by their number afterwards.
            errors.append({"key": section, "label": "", "messages": [too_many_rows_message(section)]})
            return []
        out = []
        for index, row in enumerate(raw):
            if not isinstance(row, dict):
                errors.append(
                    {"key": f"{section}[{index}]", "label": "", "messages": [str(_("The form data are damaged."))]}
                )
                continue
            values = {k: v for k, v in row.items() if k != "row_no"}
            unknown_fields = set(values) - set(form_class.base_fields)
            wrong_type = _not_scalar(values)
            errors.extend(
                {
                    "key": f"{section}[{index}].{name}",
                    "label": f"{_row_label(section, index)} · {field_label(section, name)}",
                    "messages": [str(NOT_SCALAR)],
                }
                for name in wrong_type
            )
            row_form = form_class(
                data={k: v for k, v in values.items() if k not in unknown_fields and k not in wrong_type}
            )
            if unknown_fields:
                errors.append(
                    {
                        "key": f"{section}[{index}]",
                        "label": _row_label(section, index),
                        "messages": [
                            str(_("Unknown fields: %(fields)s") % {"fields": ", ".join(sorted(unknown_fields))})
                        ],
                    }
                )
            if row_form.is_valid():
                out.append({"row_no": index + 1, **row_form.clean_partial()})
            else:
                for name, messages in row_form.errors.items():
                    errors.append(
                        {
                            "key": f"{section}[{index}].{name}",
                            "label": f"{_row_label(section, index)} · {field_label(section, name)}",
                            "messages": messages,
                        }
                    )
        return out

    persons = rows("persons", PersonForm)
    deaths = rows("deaths", DeathForm)
    return CleanedForm(household=household, persons=persons, deaths=deaths, errors=errors)


# --- listing (摸底) --------------------------------------------------------------------------------------

AWARE_CHOICES = [("", _("Not asked yet")), ("yes", _("Yes, aware (知晓)")), ("no", _("Not aware"))]


def aware_value(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


def aware_initial(value: bool | None) -> str:
    return "" if value is None else "yes" if value else "no"


class BuildingForm(forms.Form):
    number = forms.CharField(
        label=_("Building number (建筑物编号)"),
        max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    is_residential = forms.BooleanField(label=_("Residential building"), required=False, initial=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Ids of their own: the listing page holds this form and the dwelling unit's, which both have a "number".
        kwargs.setdefault("auto_id", "id_building_%s")
        super().__init__(*args, **kwargs)


class DwellingUnitForm(forms.Form):
    building = forms.ModelChoiceField(label=_("Building"), queryset=Building.objects.none())
    number = forms.CharField(
        label=_("Dwelling unit number (住房单元编号)"),
        max_length=10,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args: Any, small_area: SmallArea, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "id_unit_%s")  # see BuildingForm
        super().__init__(*args, **kwargs)
        self.fields["building"].queryset = Building.objects.filter(small_area=small_area).order_by("number")  # type: ignore[attr-defined]


class HouseholdListingForm(forms.Form):
    """One entry of the household-head register (户主姓名底册)."""

    head_name = forms.CharField(label=_("Head of household (户主姓名)"), max_length=50, required=False)
    expected_persons = forms.IntegerField(
        label=_("Persons expected"),
        min_value=0,
        max_value=200,
        initial=0,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "pattern": "[0-9]*", "autocomplete": "off"}),
    )
    aware = forms.ChoiceField(label=_("Reached by census publicity (知晓)"), choices=AWARE_CHOICES, required=False)
    dwelling_unit = forms.ModelChoiceField(
        label=_("Dwelling unit"), queryset=DwellingUnit.objects.none(), required=False
    )

    def __init__(self, *args: Any, small_area: SmallArea, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        units = (
            DwellingUnit.objects.filter(building__small_area=small_area)
            .select_related("building")
            .order_by("building__number", "number")
        )
        self.fields["dwelling_unit"].queryset = units  # type: ignore[attr-defined]
        self.fields["dwelling_unit"].label_from_instance = lambda unit: f"{unit.building.number}-{unit.number}"  # type: ignore[attr-defined]


class HouseholdAddForm(HouseholdListingForm):
    all_members_died = forms.BooleanField(label=_("Every member has died (全户死亡户, number 999)"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("all_members_died") and not (data.get("head_name") or "").strip():
            self.add_error("head_name", _("Write the name of the head of household."))
        return data


class ListingImportForm(forms.Form):
    file = forms.FileField(label=_("File (xlsx or csv)"))

    def clean_file(self):  # type: ignore[no-untyped-def]
        from census.services import MAX_IMPORT_BYTES

        upload = self.cleaned_data["file"]
        name = upload.name.lower()
        if not (name.endswith(".xlsx") or name.endswith(".csv")):
            raise ValidationError(_("Choose an .xlsx or .csv file."))
        if upload.size > MAX_IMPORT_BYTES:
            raise ValidationError(_("The file is too large."))
        return upload


# --- signing and review ------------------------------------------------------------------------------


def relationship_choices() -> list[tuple[Any, Any]]:
    return _blank_choice() + code_list("D2").choices()


class VersionedForm(forms.Form):
    """Carries the form version the page showed, so that nobody confirms or signs something else."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)


class NotesForm(VersionedForm):
    """Notes on warnings: the fields (``note__<key>``) are added for the warnings of the form."""

    def __init__(self, *args: Any, keys: list[str], **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "notes_%s")
        super().__init__(*args, **kwargs)
        for key in keys:
            self.fields[f"note__{key}"] = forms.CharField(
                label=_("Note"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2})
            )

    def notes(self) -> dict[str, str]:
        return {
            name.removeprefix("note__"): (value or "").strip()
            for name, value in self.cleaned_data.items()
            if name.startswith("note__") and (value or "").strip()
        }


class RespondentForm(VersionedForm):
    name = forms.CharField(label=_("Respondent's name (申报人)"), max_length=50)
    relationship = forms.TypedChoiceField(
        label=_("Relationship to the head"), choices=relationship_choices, coerce=int, empty_value=None
    )
    signature_image = forms.CharField(widget=forms.HiddenInput, required=False, max_length=400_000)
    refused = forms.BooleanField(label=_("The respondent refuses to sign"), required=False)
    refusal_reason = forms.CharField(
        label=_("Reason for refusing"), max_length=200, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "respondent_%s")
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("refused"):
            if len((data.get("refusal_reason") or "").strip()) < 2:
                self.add_error("refusal_reason", _("Record why the respondent refused to sign."))
        elif not data.get("signature_image"):
            self.add_error("signature_image", _("The respondent has not signed on the pad."))
        return data


class SignForm(VersionedForm):
    password = forms.CharField(
        label=_("Your password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "sign_%s")
        super().__init__(*args, **kwargs)


class ReturnForm(forms.Form):
    """Return a form to its registrar with comments on items: ``item_1``/``text_1`` … ``item_n``/``text_n``."""

    ROWS = 3

    def __init__(self, *args: Any, items: list[tuple[str, str]], rows: int = ROWS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", "—"), *items]
        count = rows
        if self.is_bound:
            numbers = [int(k.split("_", 1)[1]) for k in self.data if k.startswith("item_") and k[5:].isdigit()]
            count = max([rows, *[n for n in numbers if n <= 30]])
        for n in range(1, count + 1):
            self.fields[f"item_{n}"] = forms.ChoiceField(label=_("Item"), choices=choices, required=False)
            self.fields[f"text_{n}"] = forms.CharField(label=_("Comment"), max_length=500, required=False)
        self.rows = count

    def row_fields(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"item_{n}"], self[f"text_{n}"]) for n in range(1, self.rows + 1)]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for n in range(1, self.rows + 1):
            item, text = data.get(f"item_{n}"), (data.get(f"text_{n}") or "").strip()
            if item and not text:
                self.add_error(f"text_{n}", _("Say what to correct."))
            if text and not item:
                self.add_error(f"item_{n}", _("Choose the item the comment is about."))
        if not self.errors and not self.comments():
            raise ValidationError(_("Say which items to correct and why."))
        return data

    def comments(self) -> list[tuple[str, str]]:
        data = self.cleaned_data
        return [
            (data[f"item_{n}"], data[f"text_{n}"].strip())
            for n in range(1, self.rows + 1)
            if data.get(f"item_{n}") and (data.get(f"text_{n}") or "").strip()
        ]


class ReopenForm(forms.Form):
    reason = forms.CharField(
        label=_("Why is the form reopened?"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )
    password = forms.CharField(
        label=_("Your password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class OverrideForm(forms.Form):
    reason = forms.CharField(
        label=_("Why may this form pass the checks that block it?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    password = forms.CharField(
        label=_("Your password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class SampleDrawForm(forms.Form):
    seed = forms.IntegerField(
        label=_("Random seed (leave empty for a new one)"),
        required=False,
        min_value=0,
        max_value=2**62,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )


class PhoneRevokeForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
