from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from supervision.completeness.models import EscalatedTo, Outcome, VacancyEvidence, VisitMode
from supervision.organisation.forms import evidence_field


class VisitForm(forms.Form):
    unit = forms.TypedChoiceField(label=_("Dwelling unit"), coerce=int)
    outcome = forms.ChoiceField(label=_("Outcome"), choices=Outcome.choices, widget=forms.RadioSelect)
    mode = forms.ChoiceField(label=_("How"), choices=VisitMode.choices, initial=VisitMode.IN_PERSON)
    refusal_reason = forms.CharField(label=_("Reason for refusing"), required=False, max_length=300)
    steps_taken = forms.CharField(
        label=_("Steps taken"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    escalated_to = forms.ChoiceField(
        label=_("Escalated to"),
        required=False,
        choices=[
            ("", "—"),
            (EscalatedTo.VILLAGE, EscalatedTo.VILLAGE.label),
            (EscalatedTo.TOWNSHIP, EscalatedTo.TOWNSHIP.label),
        ],
    )
    evidence_kind = forms.ChoiceField(
        label=_("Evidence of vacancy"), required=False, choices=[("", "—"), *VacancyEvidence.choices]
    )
    evidence_upload = evidence_field(label=_("Evidence file"))
    note = forms.CharField(label=_("Note"), required=False, max_length=300)

    def __init__(self, *args: Any, units: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = units  # type: ignore[attr-defined]


class RecheckDrawForm(forms.Form):
    seed = forms.IntegerField(label=_("Random seed"), min_value=0, max_value=2**62)
    areas_per_township = forms.IntegerField(label=_("Small areas per township"), min_value=1, max_value=50, initial=1)
    household_rate = forms.FloatField(label=_("Share of households"), min_value=0.01, max_value=1, initial=0.1)
    self_report_rate = forms.FloatField(
        label=_("Share of self-reported households"), min_value=0.01, max_value=1, initial=0.2
    )
