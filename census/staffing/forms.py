"""Forms of the staff pages. They read and check what a person typed; the services write it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from census.identity import id_number_clean, phone_clean
from census.models import Department, Role, StaffMember, StaffStatus, Township
from census.models.staff import TOWNSHIP_ROLES
from census.services import MAX_IMPORT_BYTES
from census.staffing.services import roles_managed_by


class DateInput(forms.DateInput):
    input_type = "date"


class StaffForm(forms.Form):
    """A person's particulars. ``actor`` limits the roles, townships and departments offered to what they
    manage: a township office sees only the 两员 roles and its own township."""

    full_name = forms.CharField(label=gettext_lazy("Name"), max_length=60)
    role = forms.ChoiceField(label=gettext_lazy("Role"))
    township = forms.ModelChoiceField(
        label=gettext_lazy("Township"), queryset=Township.objects.none(), to_field_name="code", required=False
    )
    department = forms.ModelChoiceField(
        label=gettext_lazy("Department"), queryset=Department.objects.none(), required=False
    )
    username = forms.CharField(
        label=gettext_lazy("Login name"),
        max_length=150,
        required=False,
        help_text=gettext_lazy("Left empty, the phone number is the login name."),
    )
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=20, required=False)
    id_number = forms.CharField(label=gettext_lazy("ID number (公民身份号码)"), max_length=20, required=False)
    unit = forms.CharField(label=gettext_lazy("Unit they come from (来源单位)"), max_length=100, required=False)
    selected_on = forms.DateField(label=gettext_lazy("Selected on (选聘日期)"), required=False, widget=DateInput)
    trained_on = forms.DateField(
        label=gettext_lazy("Training completed on (培训日期)"), required=False, widget=DateInput
    )
    exam_score = forms.IntegerField(
        label=gettext_lazy("Exam score (考试成绩)"), min_value=0, max_value=100, required=False
    )
    credential_no = forms.CharField(
        label=gettext_lazy("Credential number (证件编号)"),
        max_length=30,
        required=False,
        help_text=gettext_lazy("Left empty, the system numbers the credential of an enumerator or supervisor."),
    )

    def __init__(self, *args: Any, actor: StaffMember, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor
        managed = roles_managed_by(actor)
        role_field = self.fields["role"]
        assert isinstance(role_field, forms.ChoiceField)
        role_field.choices = [(value, label) for value, label in Role.choices if value in managed]
        township_field = self.fields["township"]
        assert isinstance(township_field, forms.ModelChoiceField)
        township_field.queryset = Township.objects.visible_to(actor).order_by("code")
        department_field = self.fields["department"]
        assert isinstance(department_field, forms.ModelChoiceField)
        department_field.queryset = Department.objects.visible_to(actor).order_by("code")
        if actor.role == Role.TOWNSHIP_OFFICE:
            # Their own township, always: nothing to choose.
            del self.fields["township"]
            del self.fields["department"]

    def clean_id_number(self) -> str:
        value = self.cleaned_data.get("id_number") or ""
        return id_number_clean(value) if value.strip() else ""

    def clean_phone(self) -> str:
        return phone_clean(self.cleaned_data.get("phone") or "")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        role = data.get("role")
        if self.actor.role == Role.TOWNSHIP_OFFICE:
            data["township"] = self.actor.township
            data["department"] = None
        township, department = data.get("township"), data.get("department")
        if role in TOWNSHIP_ROLES and township is None:
            self.add_error("township", _("Choose the township this person works in."))
        if role not in TOWNSHIP_ROLES and township is not None:
            data["township"] = None
        if role == Role.DEPARTMENT and department is None:
            self.add_error("department", _("Choose the department of this account."))
        if role != Role.DEPARTMENT:
            data["department"] = None
        if role in (Role.ENUMERATOR, Role.SUPERVISOR) and not data.get("id_number") and "id_number" not in self.errors:
            self.add_error("id_number", _("Enumerators and supervisors need their ID number on the credential."))
        if not (data.get("username") or "").strip() and not data.get("phone") and "phone" not in self.errors:
            self.add_error("username", _("Give a login name or a phone number."))
        return data

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        township = data.get("township")
        department = data.get("department")
        return {
            "full_name": data["full_name"],
            "role": data["role"],
            "township_id": township.code if township is not None else None,
            "department_id": department.pk if department is not None else None,
            "username": (data.get("username") or "").strip() or data["phone"],
            "phone": data.get("phone") or "",
            "id_number": data.get("id_number") or "",
            "unit": data.get("unit") or "",
            "selected_on": data.get("selected_on"),
            "trained_on": data.get("trained_on"),
            "exam_score": data.get("exam_score"),
            "credential_no": data.get("credential_no") or "",
        }

    @classmethod
    def initial_for(cls, member: StaffMember) -> dict[str, Any]:
        return {
            "full_name": member.get_full_name(),
            "role": member.role,
            "township": member.township_id,
            "department": member.department_id,
            "username": member.username,
            "phone": member.phone,
            "id_number": member.id_number,
            "unit": member.unit,
            "selected_on": member.selected_on,
            "trained_on": member.trained_on,
            "exam_score": member.exam_score,
            "credential_no": member.credential_no,
        }


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=gettext_lazy("Status"), choices=StaffStatus.choices)
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=300, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("status") in (StaffStatus.SUSPENDED, StaffStatus.LEFT) and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Say why."))
        return data


class DepartmentForm(forms.Form):
    code = forms.SlugField(
        label=gettext_lazy("Code"),
        max_length=30,
        help_text=gettext_lazy("Letters, digits and hyphens, e.g. jkj; it cannot be changed later."),
    )
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)


class DepartmentRenameForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """A service's ValidationError on the form: by field where the form has the field, otherwise on top."""
    if hasattr(exc, "error_dict"):
        aliases = {"last_name": "full_name", "first_name": "full_name"}
        for name, errors in exc.error_dict.items():
            target = aliases.get(name, name)
            for error in errors:
                form.add_error(target if target in form.fields else None, error)
    else:
        for message in exc.messages:
            form.add_error(None, message)


class StaffImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Staff list (xlsx or csv)"))
    import_good_rows = forms.BooleanField(
        label=gettext_lazy("Import the good rows even if some are wrong (the wrong ones are listed to fix)"),
        required=False,
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        name = upload.name.lower()
        if not (name.endswith(".xlsx") or name.endswith(".csv")):
            raise ValidationError(_("Choose an .xlsx or .csv file."))
        if upload.size > MAX_IMPORT_BYTES:
            raise ValidationError(_("The file is too large."))
        return upload


class PasswordChangeForm(forms.Form):
    """The current password (at the first login: the one-time password of the sheet) and the new one twice; the
    service confirms the current one and applies the site's password rules."""

    current_password = forms.CharField(
        label=gettext_lazy("Current password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    new_password1 = forms.CharField(
        label=gettext_lazy("New password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=gettext_lazy("At least 10 characters, not only digits, not like your name or phone."),
    )
    new_password2 = forms.CharField(
        label=gettext_lazy("New password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("new_password1") and data.get("new_password2") and data["new_password1"] != data["new_password2"]:
            self.add_error("new_password2", _("The two new passwords differ."))
        return data
