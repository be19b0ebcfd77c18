from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from enumeration.codes import choices
from enumeration.identity import read_id_number
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


class RecheckPersonForm(forms.Form):
    """One person the checker finds living in the household, with the re-check's key items. A row left blank is
    not a person."""

    name = forms.CharField(label=_("Name"), max_length=50, required=False)
    id_number = forms.CharField(label=_("ID number"), max_length=18, required=False)
    sex = forms.TypedChoiceField(
        label=_("Sex"), coerce=int, required=False, empty_value=None, choices=[("", "—"), *choices("D4")]
    )
    birth_year = forms.IntegerField(label=_("Year of birth"), min_value=1890, max_value=2020, required=False)
    birth_month = forms.IntegerField(label=_("Month of birth"), min_value=1, max_value=12, required=False)
    relationship = forms.TypedChoiceField(
        label=_("Relationship to the head"),
        coerce=int,
        required=False,
        empty_value=None,
        choices=[("", "—"), *choices("D2")],
    )
    residence = forms.TypedChoiceField(
        label=_("Residence at the reference moment"),
        coerce=int,
        required=False,
        empty_value=None,
        choices=[("", "—"), *choices("D7")],
    )
    hukou_place = forms.TypedChoiceField(
        label=_("Place of hukou registration"),
        coerce=int,
        required=False,
        empty_value=None,
        choices=[("", "—"), *choices("D8")],
    )

    def clean_id_number(self) -> str:
        """Empty, or a well-formed 公民身份号码 with its check character (the re-check is typed at the door)."""
        value = self.cleaned_data.get("id_number") or ""
        if not value.strip():
            return ""
        facts = read_id_number(value)
        if not facts.well_formed:
            raise forms.ValidationError(_("An ID number has 17 digits and a final digit or X."))
        if facts.birth_date is None:
            raise forms.ValidationError(_("The date of birth in the ID number (digits 7–14) is not possible."))
        if not facts.checksum_ok:
            raise forms.ValidationError(_("The ID number's check character is wrong: check every digit."))
        return facts.number

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data is None:
            return {}
        filled = any(data.get(name) not in (None, "") for name in self.fields)
        if filled:
            for name in ("name", "sex", "birth_year", "birth_month"):
                if data.get(name) in (None, ""):
                    self.add_error(name, _("The re-check needs this item for every person listed."))
        return data

    @property
    def blank(self) -> bool:
        data = getattr(self, "cleaned_data", {}) or {}
        return not any(data.get(name) not in (None, "") for name in self.fields)


RecheckPersonFormSet = forms.formset_factory(RecheckPersonForm, extra=0, min_num=1, max_num=40, absolute_max=40)


class RecheckHouseholdForm(forms.Form):
    note = forms.CharField(label=_("Note"), required=False, max_length=300)


class RecheckOverrideForm(forms.Form):
    reason = forms.CharField(
        label=_("Why may this small area's forms be accepted all the same?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    password = forms.CharField(
        label=_("Your password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )


class ClericalDecisionForm(forms.Form):
    """The clerical review's decision on one doubtful pair: the candidate's id, or 0 for none of them."""

    person = forms.IntegerField(label=_("Re-checked person"), min_value=1, max_value=2**62, widget=forms.HiddenInput)
    census_person = forms.IntegerField(label=_("The same person as"), min_value=0, max_value=2**62)
