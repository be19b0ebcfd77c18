"""How a finding reads: its message in the reader's language, with its evidence made readable and masked.

Evidence is stored as raw values (codes, numbers, the ID number); the catalogue's message templates want labels.
``message_values`` turns codes into their labels (H5, D10, D11), names the kinds of ledger damage, and masks
names and ID numbers for readers who may not see them (``census.privacy``).
"""

from __future__ import annotations

from collections.abc import Mapping
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
