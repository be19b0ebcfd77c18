"""How a finding reads: its message in the reader's language, with its evidence made readable and masked.

Evidence is stored as raw values (codes, numbers, the ID number); the catalogue's message templates want labels.
``message_values`` turns codes into their labels (H5, D10, D11), names the kinds of ledger damage, and masks
names and ID numbers for readers who may not see them (``census.privacy``).
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.utils.translation import gettext_lazy as _

from census import privacy
from enumeration.codes import code_list
from enumeration.rules.catalogue import CATALOGUE

# Evidence values that are codes of a list; the message shows the label.
CODED_VALUES = {"h5": "H5", "reason": "D10", "education": "D11"}
PERSONAL_VALUES = {"name": privacy.mask_name, "id_number": privacy.mask_id_number}
LEDGER_DAMAGE = {
    "sequence": _("positions are not contiguous"),
    "chain": _("the link to the previous signature is broken"),
    "hmac": _("the ledger key's seal does not match"),
}
SEVERITY_LABELS = {
    "hard": _("hard error (强制性)"),
    "warning": _("warning (核实性)"),
    "nightly": _("nightly check"),
}
ACTOR_LABELS = {
    "registrar": _("the registrar"),
    "supervisor": _("the supervisor"),
    "township_office": _("the township office"),
    "district_office": _("the district office"),
}
NOTES = {
    "cause_gone": _("The checks no longer find this: closed by itself."),
    "corrected": _("The record was changed and signed again."),
    "note_on_form": _("The registrar signed the form again with a note on this warning."),
    "reappeared": _("Found again after it had been resolved."),
}


def message_values(evidence: Mapping[str, Any], *, unmasked: bool = True) -> dict[str, Any]:
    values = dict(evidence)
    for key, item in CODED_VALUES.items():
        if isinstance(values.get(key), int):
            values[key] = code_list(item).label(values[key])
    if isinstance(values.get("detail"), list):
        values["detail"] = "; ".join(str(LEDGER_DAMAGE.get(kind, kind)) for kind in values["detail"])
    if not unmasked:
        for key, mask in PERSONAL_VALUES.items():
            if isinstance(values.get(key), str):
                values[key] = mask(values[key])
    return values


def personal_data_unmasked(user: Any, finding: Any = None) -> bool:
    """May ``user`` read this finding's names and ID numbers unmasked — ``census.privacy``'s one rule. A finding
    about a household asks about the household (it must be in the user's scope); a list, whose findings all come
    from ``visible_to(user)``, and a finding about no household ask about the user only."""
    if finding is not None and finding.household_id:
        return privacy.can_see_personal_data(user, finding.household)
    return privacy.can_see_personal_data(user)


@cache
def _message_fields(message: str) -> frozenset[str]:
    """The evidence values a message template names (``{name}``, ``{other}`` …), in the reader's language."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(message) if name)


def personal_values_shown(rule_code: str, evidence: Mapping[str, Any], *, message_only: bool) -> set[str]:
    """Which personal values (a name, an ID number) of a finding its reader sees: those its message names (a list
    shows the message only), or every one its evidence holds (the detail page and the API show the evidence)."""
    present = {key for key in PERSONAL_VALUES if evidence.get(key)}
    if not present or not message_only:
        return present
    rule = CATALOGUE.get(rule_code)
    if rule is None:
        return set()
    return present & _message_fields(str(rule.message))


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


def finding_message(rule_code: str, evidence: Mapping[str, Any], *, unmasked: bool = True) -> str:
    rule = CATALOGUE.get(rule_code)
    if rule is None:
        return rule_code
    message, values = rule.message_for(message_values(evidence, unmasked=unmasked))
    return str(message).format_map(_Blank(values))


def rule_name(rule_code: str) -> str:
    """What a person calls the rule (the catalogue's name); the code itself is for the API."""
    rule = CATALOGUE.get(rule_code)
    return str(rule.name) if rule is not None else rule_code


# The evidence's keys as the detail page names them.
EVIDENCE_LABELS = {
    "age": _("age"),
    "area": _("area"),
    "birth": _("D5 birth month"),
    "births": _("H3 births"),
    "code": _("address code"),
    "count": _("how many"),
    "date": _("date"),
    "declared": _("number on the form"),
    "detail": _("what is wrong"),
    "education": _("D11 education"),
    "female": _("female"),
    "gap": _("age difference (years)"),
    "group": _("age group"),
    "h3_female": _("H3 births, female"),
    "h3_male": _("H3 births, male"),
    "h4_female": _("H4 deaths, female"),
    "h4_male": _("H4 deaths, male"),
    "h5": _("H5 type of dwelling"),
    "households": _("number of households"),
    "id_birth": _("birth month in the ID number"),
    "id_number": _("ID number"),
    "index": _("Whipple index"),
    "infants": _("persons aged 0"),
    "item": _("item"),
    "january": _("born in January"),
    "key": _("roster household"),
    "listed": _("listed"),
    "male": _("male"),
    "missing": _("not registered"),
    "name": _("person's name"),
    "now": _("content now (SHA-256)"),
    "open": _("still open"),
    "other": _("the other record"),
    "other_row": _("the other row"),
    "pending": _("hukou pending"),
    "per_person": _("floor area per person (m²)"),
    "persons": _("number of persons"),
    "rate": _("difference (‰)"),
    "ratio": _("sex ratio"),
    "reason": _("D10 reason for leaving"),
    "registered": _("registered"),
    "registrar": _("registrar"),
    "rooms": _("rooms"),
    "roster": _("on the hukou roster"),
    "row": _("row"),
    "rows": _("persons registered"),
    "seq": _("signature number"),
    "share": _("share"),
    "signed": _("content signed (SHA-256)"),
    "signer": _("signed by"),
    "size": _("average household size"),
    "value": _("value given"),
}


def evidence_rows(evidence: Mapping[str, Any], *, unmasked: bool = True) -> list[tuple[str, Any]]:
    """The evidence as (label, value) rows, in the order of the labels above; a key without a label keeps its
    name (a rule added later), at the end."""
    values = message_values(evidence, unmasked=unmasked)
    known = [(str(EVIDENCE_LABELS[key]), values[key]) for key in EVIDENCE_LABELS if key in values]
    return known + [(key, value) for key, value in sorted(values.items()) if key not in EVIDENCE_LABELS]


@dataclass(frozen=True)
class RecordLabel:
    """Which record a finding is about, as a person reads it: "户编号 029 · 第 3 人", and where ("普查小区 …")."""

    text: str
    where: str = ""

    def __str__(self) -> str:
        return self.text


SMALL_AREA_CODE_LENGTH = 15
VILLAGE_CODE_LENGTH = 12
TOWNSHIP_CODE_LENGTH = 9


def record_label(finding: Any) -> RecordLabel:
    """A finding's ``record_key`` ("<small area><户编号>#<row>", an area code, "staff:<account>", "roster:<key>")
    made readable, from the key and the finding's row alone (no query per finding of a list)."""
    key: str = finding.record_key or ""
    kind, separator, rest = key.partition(":")
    if separator and kind == "staff":
        return RecordLabel(_("enumerator %(account)s") % {"account": rest})
    if separator and kind == "roster":
        return RecordLabel(_("person on the hukou roster %(key)s") % {"key": rest})
    code, _hash, row = key.partition("#")
    if code.isdigit() and len(code) == SMALL_AREA_CODE_LENGTH + 3:
        area, number = code[:SMALL_AREA_CODE_LENGTH], code[SMALL_AREA_CODE_LENGTH:]
        text = _("household %(number)s") % {"number": number}
        row_no = int(row) if row.isdigit() else finding.row_no
        if row_no:
            if finding.rule.startswith("DEATH"):
                text = f"{text} · " + _("death register row %(row)d") % {"row": row_no}
            else:
                text = f"{text} · " + _("person %(row)d") % {"row": row_no}
        return RecordLabel(text, _("small area %(code)s") % {"code": area})
    areas = {
        SMALL_AREA_CODE_LENGTH: _("small area %(code)s"),
        VILLAGE_CODE_LENGTH: _("village %(code)s"),
        TOWNSHIP_CODE_LENGTH: _("township %(code)s"),
    }
    if code.isdigit() and len(code) in areas:
        return RecordLabel(areas[len(code)] % {"code": code})
    return RecordLabel(key)


def note_text(note: str) -> str:
    return str(NOTES.get(note, note))


# What a check run counts (``CheckRun.stats["counts"]``): findings new to this run, found again after they had
# been resolved, and those the run resolved, by the state it left them in.
RUN_COUNT_LABELS = {
    "new": _("new findings"),
    "reopened": _("found again"),
    "corrected": _("corrected and signed again"),
    "explained": _("explained on the form"),
    "closed": _("closed: the cause is gone"),
}


def run_counts(counts: Mapping[str, int]) -> list[tuple[str, int]]:
    """A run's counts as a person reads them, in a fixed order (new first)."""
    order = {kind: position for position, kind in enumerate(RUN_COUNT_LABELS)}
    ranked = sorted(counts.items(), key=lambda item: (order.get(item[0], len(order)), item[0]))
    return [(str(RUN_COUNT_LABELS.get(kind, kind)), count) for kind, count in ranked]


def run_counts_text(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{label} {count}" for label, count in run_counts(counts))


# A run's timings name its checks by rule code, and a few steps of their own.
RUN_STEP_LABELS = {
    "setup": _("preparing the forms to check"),
    "merge": _("recording the findings"),
    "roster_match": _("matching the hukou roster"),
    "roster_counts": _("counting the roster by area"),
    "roster_household_counts": _("counting the roster by household"),
}


def run_step_name(name: str) -> str:
    """A timing's name as a person reads it: the rule's name, or the step's."""
    if name in CATALOGUE:
        return rule_name(name)
    return str(RUN_STEP_LABELS.get(name, name))
