"""How a finding reads: its message in the reader's language, with its evidence made readable and masked.

Evidence is stored as raw values (codes, numbers, the ID number); the catalogue's message templates want labels.
``message_values`` turns codes into their labels (H5, D10, D11), names the kinds of ledger damage, and masks
names and ID numbers for readers who may not see them (``census.privacy``).
"""

from __future__ import annotations

import string
from collections.abc import Mapping
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
    return str(rule.message).format_map(_Blank(message_values(evidence, unmasked=unmasked)))


def note_text(note: str) -> str:
    return str(NOTES.get(note, note))
