"""Forms of the organisation pages. They check the shape of the input; the services check the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from census.models import Department, Role, StaffMember, Township
from supervision.organisation.criteria import criteria_for
from supervision.organisation.models import (
    DepartmentTaskKind,
    FigureIndicator,
    MemberBody,
    ReadinessComponent,
    ReadinessStatus,
    RemovalReason,
    StudyForm,
    SubsidyPhase,
    TrainingSubject,
    UnitKind,
)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class MonthInput(forms.DateInput):
    input_type = "month"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m", **kwargs)


def _evidence_help() -> str:
    mb = settings.ORGANISATION_EVIDENCE_MAX_BYTES // (1024 * 1024)
    types = ", ".join(t.upper() for t in settings.ORGANISATION_EVIDENCE_TYPES)
    return gettext("%(types)s, at most %(mb)d MB.") % {"types": types, "mb": mb}


def evidence_field(*, required: bool = False, label: Any = None) -> forms.FileField:
    return forms.FileField(
        label=label or _("Evidence file"),
        required=required,
        # Evaluated per request, in the reader's language.
        help_text=lazy(_evidence_help, str)(),
        widget=forms.ClearableFileInput(
            attrs={"accept": ",".join(f".{t}" for t in settings.ORGANISATION_EVIDENCE_TYPES)}
        ),
    )


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form: by field where the form has it, otherwise on top."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            for error in errors:
                form.add_error(name if name in form.fields else None, error)
    else:
        for message in exc.messages:
            form.add_error(None, message)


# --- readiness -----------------------------------------------------------------------------------------


class ReadinessItemForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=ReadinessStatus.choices)
    completed_on = forms.DateField(label=_("Done on"), required=False, widget=DateInput())
    note = forms.CharField(label=_("Note"), required=False, max_length=300)
    upload = evidence_field()


class ReadinessDeadlinesForm(forms.Form):
    """One date per kind of unit and item, named ``<kind>__<component>``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for kind, kind_label in UnitKind.choices:
            for component, component_label in ReadinessComponent.choices:
                self.fields[f"{kind}__{component}"] = forms.DateField(
                    label=f"{kind_label} · {component_label}", widget=DateInput()
                )


class ReadinessMemberForm(forms.Form):
    body = forms.ChoiceField(label=_("Body"), choices=MemberBody.choices)
    name = forms.CharField(label=_("Name"), max_length=50)
    post = forms.CharField(
        label=_("Post in the body"),
        max_length=50,
        widget=forms.TextInput(attrs={"list": "member-posts"}),
    )
    job_title = forms.CharField(label=_("Job title (本职职务)"), max_length=100, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False)


# --- subsidies -----------------------------------------------------------------------------------------

MONEY_FIELD = {"max_digits": 8, "decimal_places": 2, "min_value": 0}


class SubsidyRatesForm(forms.Form):
    listing = forms.DecimalField(label=_("Listing (摸底), 元 per household listed"), **MONEY_FIELD)  # type: ignore[arg-type]
    short_form = forms.DecimalField(label=_("Short form (短表), 元 per accepted household"), **MONEY_FIELD)  # type: ignore[arg-type]
    long_form = forms.DecimalField(label=_("Long form (长表), 元 per accepted sampled household"), **MONEY_FIELD)  # type: ignore[arg-type]
    supervision = forms.DecimalField(
        label=_("Supervision (指导), 元 per accepted household of the supervised enumerators"),
        **MONEY_FIELD,  # type: ignore[arg-type]
    )


class SubsidySettleForm(forms.Form):
    phase = forms.ChoiceField(label=_("Phase"), choices=SubsidyPhase.choices)
    due_on = forms.DateField(label=_("Falls due on"), widget=DateInput())


class SubsidyPaymentForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount, 元"), max_digits=12, decimal_places=2, min_value=0)
    paid_on = forms.DateField(label=_("Paid on"), widget=DateInput())
    reference = forms.CharField(label=_("Payment reference (voucher number)"), max_length=60)


class SubsidyReductionForm(forms.Form):
    reduction_amount = forms.DecimalField(label=_("Reduction, 元"), max_digits=12, decimal_places=2, min_value=0)
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}))
    approver = forms.ModelChoiceField(label=_("Approved by (district office)"), queryset=StaffMember.objects.none())

    def __init__(self, *args: Any, user: StaffMember, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["approver"].queryset = (  # type: ignore[attr-defined]
            StaffMember.objects.filter(role=Role.DISTRICT_OFFICE, district_id=user.district_id, is_active=True)
            .exclude(pk=user.pk)
            .order_by("username")
        )


class SubsidyExportForm(forms.Form):
    township = forms.ModelChoiceField(label=_("Township"), queryset=Township.objects.none())

    def __init__(self, *args: Any, user: StaffMember, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["township"].queryset = Township.objects.visible_to(user).order_by("code")  # type: ignore[attr-defined]


# --- rectification -------------------------------------------------------------------------------------


def _departments(user: StaffMember) -> Any:
    return Department.objects.visible_to(user).order_by("code")


class RectificationItemForm(forms.Form):
    number = forms.CharField(label=_("Number"), max_length=20)
    title = forms.CharField(label=_("Title"), max_length=200)
    feedback = forms.CharField(label=_("The inspection's feedback"), widget=forms.Textarea(attrs={"rows": 4}))
    source = forms.CharField(label=_("Source"), max_length=200, required=False)
    lead_department = forms.ModelChoiceField(
        label=_("Lead department"), queryset=Department.objects.none(), required=False
    )
    received_on = forms.DateField(label=_("Received on"), widget=DateInput())

    def __init__(self, *args: Any, user: StaffMember, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lead_department"].queryset = _departments(user)  # type: ignore[attr-defined]


class RectificationTaskForm(forms.Form):
    measure = forms.CharField(label=_("Rectification measure"), widget=forms.Textarea(attrs={"rows": 3}))
    department = forms.ModelChoiceField(label=_("Responsible department"), queryset=Department.objects.none())
    responsible_person = forms.CharField(label=_("Responsible person"), max_length=50)
    responsible_post = forms.CharField(label=_("Their post"), max_length=100, required=False)
    deadline = forms.DateField(label=_("Deadline"), widget=DateInput())
    evidence_required = forms.CharField(label=_("Evidence required"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, user: StaffMember, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = _departments(user)  # type: ignore[attr-defined]


class TaskAnswerForm(forms.Form):
    answer = forms.CharField(label=_("What was done"), widget=forms.Textarea(attrs={"rows": 4}))
    answered_on = forms.DateField(label=_("Answered on"), widget=DateInput())
    upload = evidence_field(label=_("Evidence file (required unless already uploaded)"))


class DepartmentTaskForm(forms.Form):
    department = forms.ModelChoiceField(label=_("Department"), queryset=Department.objects.none())
    kind = forms.ChoiceField(label=_("Kind of task"), choices=DepartmentTaskKind.choices)
    title = forms.CharField(label=_("Task"), max_length=200)
    deliverable = forms.CharField(
        label=_("Deliverable (what shows it is done)"), widget=forms.Textarea(attrs={"rows": 2})
    )
    deadline = forms.DateField(label=_("Deadline"), widget=DateInput())

    def __init__(self, *args: Any, user: StaffMember, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = _departments(user)  # type: ignore[attr-defined]


class DepartmentTaskAnswerForm(forms.Form):
    answer = forms.CharField(label=_("What was delivered"), widget=forms.Textarea(attrs={"rows": 4}))
    answered_on = forms.DateField(label=_("Answered on"), widget=DateInput())
    upload = evidence_field(label=_("Evidence file (required unless already uploaded)"))


class TaskEvidenceForm(forms.Form):
    upload = evidence_field(required=True)


class TaskReturnForm(forms.Form):
    reason = forms.CharField(label=_("Why the answer is returned"), max_length=300)


class ItemCloseForm(forms.Form):
    closed_on = forms.DateField(label=_("Closed on"), widget=DateInput())
    recheck_on = forms.DateField(label=_("Re-check on"), widget=DateInput())


class RecheckForm(forms.Form):
    checked_on = forms.DateField(label=_("Checked on"), widget=DateInput())
    held = forms.TypedChoiceField(
        label=_("Result"),
        choices=[("1", _("The rectification held")), ("0", _("The problem has come back: reopen the item"))],
        coerce=lambda value: value == "1",
    )
    note = forms.CharField(label=_("What was checked and found"), widget=forms.Textarea(attrs={"rows": 3}))
    next_recheck_on = forms.DateField(label=_("Next re-check"), required=False, widget=DateInput())


# --- directory -----------------------------------------------------------------------------------------


class DirectoryImportForm(forms.Form):
    file = forms.FileField(label=_("Directory file (xlsx)"))

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".xlsx"):
            raise ValidationError(_("Choose an .xlsx file."))
        return upload


class DirectoryReviewForm(forms.Form):
    reviewed_on = forms.DateField(label=_("Reviewed on"), widget=DateInput())
    note = forms.CharField(
        label=_("Note (required when a criterion is not met)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.criteria = criteria_for(kind)
        for code, label in self.criteria:
            self.fields[f"c_{code}"] = forms.BooleanField(label=label, required=False)

    def results(self) -> dict[str, bool]:
        return {code: bool(self.cleaned_data.get(f"c_{code}")) for code, _label in self.criteria}

    def criterion_fields(self) -> list[forms.BoundField]:
        return [self[f"c_{code}"] for code, _label in self.criteria]


class DirectoryRemoveForm(forms.Form):
    reason = forms.ChoiceField(label=_("Reason"), choices=RemovalReason.choices)
    note = forms.CharField(label=_("Details"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    removed_on = forms.DateField(label=_("Removed on"), widget=DateInput())
    upload = evidence_field(label=_("Supporting document"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Ids of its own: the unit's page also holds the figure form, with a "note" and an "upload" too.
        kwargs.setdefault("auto_id", "id_remove_%s")
        super().__init__(*args, **kwargs)


class DirectoryFigureForm(forms.Form):
    period = forms.DateField(label=_("Month"), widget=MonthInput(), input_formats=["%Y-%m", "%Y-%m-%d"])
    indicator = forms.ChoiceField(label=_("Indicator"), choices=FigureIndicator.choices)
    value = forms.DecimalField(label=_("Value"), max_digits=16, decimal_places=2, min_value=0)
    note = forms.CharField(label=_("Note"), required=False, max_length=300)
    upload = evidence_field(label=_("Source document"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "id_figure_%s")  # see DirectoryRemoveForm
        super().__init__(*args, **kwargs)


# --- trainings -----------------------------------------------------------------------------------------


class _DepartmentRecordForm(forms.Form):
    department = forms.ModelChoiceField(label=_("Department"), queryset=Department.objects.none())

    def __init__(self, *args: Any, user: StaffMember, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        departments = _departments(user)
        self.fields["department"].queryset = departments  # type: ignore[attr-defined]
        if user.role == Role.DEPARTMENT and user.department_id:
            self.fields["department"].initial = user.department_id


class TrainingForm(_DepartmentRecordForm):
    held_on = forms.DateField(label=_("Held on"), widget=DateInput())
    subject = forms.ChoiceField(label=_("Subject"), choices=TrainingSubject.choices)
    topic = forms.CharField(label=_("Topic"), max_length=200)
    trainer = forms.CharField(label=_("Trainer"), max_length=100, required=False)
    trainees = forms.IntegerField(label=_("Trainees"), min_value=1)
    audience = forms.CharField(label=_("Who was trained"), max_length=200, required=False)
    upload = evidence_field(label=_("Attendance sheet or notice"))

    def __init__(self, *args: Any, user: StaffMember, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        if user.role == Role.DEPARTMENT and user.department is not None:
            subject = settings.ORGANISATION_TRAINING_DEPARTMENTS.get(user.department.code)
            if subject:
                self.fields["subject"].initial = subject


class StudySessionForm(_DepartmentRecordForm):
    held_on = forms.DateField(label=_("Held on"), widget=DateInput())
    form = forms.ChoiceField(label=_("Form"), choices=StudyForm.choices)
    topic = forms.CharField(label=_("Documents studied / topic"), max_length=300)
    chaired_by = forms.CharField(label=_("Chaired by"), max_length=100, required=False)
    attendance = forms.IntegerField(label=_("Attended"), min_value=1)
    expected = forms.IntegerField(label=_("Expected"), min_value=1)
    upload = evidence_field(label=_("Minutes or sign-in sheet"))


class SelfInspectionForm(_DepartmentRecordForm):
    carried_out_on = forms.DateField(label=_("Carried out on"), widget=DateInput())
    documents_reviewed = forms.IntegerField(label=_("Documents reviewed"), min_value=0)
    problems_found = forms.IntegerField(label=_("Problems found"), min_value=0)
    problems_corrected = forms.IntegerField(label=_("Problems corrected"), min_value=0)
    findings = forms.CharField(
        label=_("What was found and how it was corrected"), widget=forms.Textarea(attrs={"rows": 3})
    )
    upload = evidence_field(label=_("Report"))
