from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from census.models import Township
from supervision.quality.models import RunMode


class ExplainForm(forms.Form):
    explanation = forms.CharField(
        label=_("Explanation"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
        help_text=_("What you checked with the household, and why the record is right as it is."),
    )
    password = forms.CharField(
        label=_("Your password (signs the explanation)"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        strip=False,
    )


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("Why the explanation is not accepted"), max_length=500)


class RunForm(forms.Form):
    mode = forms.ChoiceField(label=_("Which households"), choices=RunMode.choices, initial=RunMode.INCREMENTAL)
    township = forms.ModelChoiceField(
        label=_("Township"),
        queryset=Township.objects.none(),
        required=False,
        empty_label=_("The whole district"),
    )

    def __init__(self, *args: Any, townships: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if townships is None:
            del self.fields["township"]
        else:
            self.fields["township"].queryset = townships  # type: ignore[attr-defined]


class RosterUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Roster file (xlsx or csv)"),
        help_text=_(
            "Columns: 公民身份号码, 姓名, 性别, 出生年, 出生月, 户籍地代码 (village or small area code), 户编号, "
            "户籍地址. The file replaces the district's roster; a file with errors changes nothing."
        ),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        name = (upload.name or "").lower()
        if not name.endswith((".csv", ".xlsx")):
            raise forms.ValidationError(_("Upload an xlsx or a csv file."))
        return upload
