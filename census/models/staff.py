"""Staff, roles, departments and assignments.

Every person who uses the system has a personal account (no shared logins: 谁登记、谁签字 needs to know
who registered what), a role, and a scope — a district, a township, or a department. Enumerators and
supervisors are scoped further by their assignments to small areas.

A person's ``status`` (active, suspended, left) decides whether the account works: ``is_active`` follows it
(a database constraint keeps the two together), so Django's session and token checks, which read
``is_active``, stop a suspended or departed person at their next request. An ID number or a phone number
belongs to one active person at a time; a credential number to one person ever, so that a credential once
issued can never come to vouch for somebody else.
"""

from __future__ import annotations

from typing import ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Cast
from django.db.models.lookups import StartsWith
from django.utils.translation import gettext_lazy as _

from census.models.areas import City, District, SmallArea, Township
from census.scoping import Scope, ScopedQuerySet, ScopeKind, scope_of


class Role(models.TextChoices):
    ENUMERATOR = "enumerator", _("Enumerator (普查员)")
    SUPERVISOR = "supervisor", _("Supervisor (普查指导员)")
    TOWNSHIP_OFFICE = "township_office", _("Township census office (乡镇/街道普查办)")
    DISTRICT_OFFICE = "district_office", _("District census office (区普查办)")
    DEPARTMENT = "department", _("District department (部门)")
    AUDITOR = "auditor", _("Auditor (审计)")
    CITY_OFFICE = "city_office", _("City census office (市普查办)")


FIELD_ROLES = (Role.ENUMERATOR, Role.SUPERVISOR)
TOWNSHIP_ROLES = (Role.ENUMERATOR, Role.SUPERVISOR, Role.TOWNSHIP_OFFICE)


class StaffStatus(models.TextChoices):
    ACTIVE = "active", _("Active (在岗)")
    SUSPENDED = "suspended", _("Suspended (暂停)")
    LEFT = "left", _("Left (离岗)")


class DepartmentQuerySet(ScopedQuerySet["Department"]):
    scope_fields = {"district": "district_id", "department": "id"}


class Department(models.Model):
    """A district department taking part in the census or the rectification (经科局, 发改局, 住建局 …)."""

    district = models.ForeignKey(
        District, on_delete=models.PROTECT, related_name="departments", verbose_name=_("district")
    )
    code = models.SlugField(_("code"), max_length=30)
    name = models.CharField(_("name"), max_length=100)

    objects = DepartmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("department (部门)")
        verbose_name_plural = _("departments")
        ordering = ["district_id", "code"]
        constraints = [models.UniqueConstraint(fields=["district", "code"], name="department_code_unique_in_district")]

    def __str__(self) -> str:
        return self.name


class StaffMemberQuerySet(ScopedQuerySet["StaffMember"]):
    scope_fields = {"district": "district_id", "township": "township_id", "department": "department_id"}

    def visible_to(self, user):  # type: ignore[no-untyped-def,override]
        scope: Scope = scope_of(user)
        if scope.kind is ScopeKind.SMALL_AREAS:
            # A field worker sees themselves and, for a supervisor, the enumerators they oversee.
            return self.filter(Q(pk=scope.staff_id) | Q(supervision__supervisor_id=scope.staff_id))
        return super().visible_to(user)

    def active(self) -> StaffMemberQuerySet:
        return self.filter(status=StaffStatus.ACTIVE)

    def enumerators(self) -> StaffMemberQuerySet:
        return self.filter(role=Role.ENUMERATOR)

    def supervisors(self) -> StaffMemberQuerySet:
        return self.filter(role=Role.SUPERVISOR)


class StaffMemberManager(UserManager.from_queryset(StaffMemberQuerySet)):  # type: ignore[misc]
    pass


class StaffMember(AbstractUser):
    """A user of the system: a field worker, an office member, a department user or an auditor."""

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.DISTRICT_OFFICE)
    district = models.ForeignKey(
        District, on_delete=models.PROTECT, null=True, blank=True, related_name="staff", verbose_name=_("district")
    )
    township = models.ForeignKey(
        Township, on_delete=models.PROTECT, null=True, blank=True, related_name="staff", verbose_name=_("township")
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, null=True, blank=True, related_name="staff", verbose_name=_("department")
    )
    # Only for the city office (市普查办): the city whose districts' aggregates it sees.
    city = models.ForeignKey(
        City, on_delete=models.PROTECT, null=True, blank=True, related_name="staff", verbose_name=_("city")
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    # 普查员证 / 普查指导员证: the nationally uniform credential shown at the door (条例 §21).
    credential_no = models.CharField(_("credential number (证件编号)"), max_length=30, blank=True)
    # What anyone scanning the credential's QR code sends to the public check page: random, so that the page
    # cannot be walked through by counting, and replaced when a credential is issued again (the old one stops).
    credential_key = models.CharField(_("credential check key"), max_length=32, blank=True, editable=False)
    id_number = models.CharField(_("ID number (公民身份号码)"), max_length=18, blank=True)
    unit = models.CharField(_("unit they come from (来源单位)"), max_length=100, blank=True)
    selected_on = models.DateField(_("selected on (选聘日期)"), null=True, blank=True)
    trained_on = models.DateField(_("training completed on (培训日期)"), null=True, blank=True)
    exam_score = models.PositiveSmallIntegerField(_("exam score (考试成绩)"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=StaffStatus.choices, default=StaffStatus.ACTIVE)
    # Set for an account whose password someone else chose (a one-time password on the credential sheet, or an
    # office's reset): the person must choose their own before doing anything else.
    must_change_password = models.BooleanField(_("must change the password"), default=False)
    # Wrong passwords re-entered to confirm an action (signing, explaining…) since the last right one, and when the
    # last was typed: census.passwords. Kept on the person's own row, which every request reads anyway, so that
    # the limit holds without Redis and costs no query.
    password_failures = models.PositiveSmallIntegerField(_("wrong confirmation passwords"), default=0)
    password_failed_at = models.DateTimeField(_("last wrong confirmation password"), null=True, blank=True)

    objects: ClassVar[StaffMemberManager] = StaffMemberManager()  # type: ignore[assignment]

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff members")
        ordering = ["username"]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_superuser=True) | Q(district__isnull=False) | Q(role="city_office"),
                name="staff_has_district",
            ),
            # A city office belongs to a city and to no district or township of it; nobody else has a city.
            models.CheckConstraint(
                condition=Q(role="city_office", city__isnull=False, district__isnull=True, township__isnull=True)
                | (~Q(role="city_office") & Q(city__isnull=True)),
                name="staff_city_office_has_city_only",
            ),
            models.CheckConstraint(
                condition=~Q(role__in=TOWNSHIP_ROLES) | Q(township__isnull=False),
                name="staff_township_role_has_township",
            ),
            models.CheckConstraint(
                condition=~Q(role__in=(Role.DISTRICT_OFFICE, Role.AUDITOR, Role.DEPARTMENT)) | Q(township__isnull=True),
                name="staff_district_role_has_no_township",
            ),
            models.CheckConstraint(
                condition=~Q(role=Role.DEPARTMENT) | Q(department__isnull=False),
                name="staff_department_role_has_department",
            ),
            models.CheckConstraint(
                condition=Q(role=Role.DEPARTMENT) | Q(department__isnull=True),
                name="staff_only_department_role_has_department",
            ),
            models.CheckConstraint(
                condition=Q(township__isnull=True)
                | Q(StartsWith(Cast("township_id", models.CharField()), F("district_id"))),
                name="staff_township_in_district",
            ),
            models.CheckConstraint(condition=Q(status__in=StaffStatus.values), name="staff_status_valid"),
            # Django's session and token checks read is_active; the status is what offices set.
            models.CheckConstraint(
                condition=Q(status=StaffStatus.ACTIVE, is_active=True)
                | (~Q(status=StaffStatus.ACTIVE) & Q(is_active=False)),
                name="staff_active_follows_status",
            ),
            models.CheckConstraint(
                condition=Q(exam_score__isnull=True) | Q(exam_score__lte=100), name="staff_exam_score_range"
            ),
            models.UniqueConstraint(
                fields=["id_number"],
                condition=Q(status=StaffStatus.ACTIVE) & ~Q(id_number=""),
                name="staff_id_number_unique_active",
                violation_error_message=_("Another active staff member has this ID number."),
            ),
            models.UniqueConstraint(
                fields=["phone"],
                condition=Q(status=StaffStatus.ACTIVE) & ~Q(phone=""),
                name="staff_phone_unique_active",
                violation_error_message=_("Another active staff member has this phone number."),
            ),
            models.UniqueConstraint(
                fields=["credential_no"],
                condition=~Q(credential_no=""),
                name="staff_credential_no_unique",
                violation_error_message=_("This credential number has been issued to someone else."),
            ),
            models.UniqueConstraint(
                fields=["credential_key"], condition=~Q(credential_key=""), name="staff_credential_key_unique"
            ),
        ]

    def __str__(self) -> str:
        full = self.get_full_name()
        return f"{full} ({self.username})" if full else self.username

    def get_full_name(self) -> str:
        # Chinese names are written family name first, without a space.
        return f"{self.last_name}{self.first_name}".strip()

    @property
    def is_field_worker(self) -> bool:
        return self.role in FIELD_ROLES

    @property
    def is_office(self) -> bool:
        return self.role in (Role.TOWNSHIP_OFFICE, Role.DISTRICT_OFFICE) or self.is_superuser


class SmallAreaAssignmentQuerySet(ScopedQuerySet["SmallAreaAssignment"]):
    scope_fields = {
        "district": "small_area__township__district_id",
        "township": "small_area__township_id",
        "village": "small_area__village_id",
        "small_area": "small_area_id",
    }


class SmallAreaAssignment(models.Model):
    """An enumerator (or a supervisor who enumerates, 条例 §17) covers a small area."""

    staff = models.ForeignKey(
        StaffMember, on_delete=models.PROTECT, related_name="area_assignments", verbose_name=_("enumerator")
    )
    small_area = models.ForeignKey(
        SmallArea, on_delete=models.PROTECT, related_name="assignments", verbose_name=_("small area")
    )
    assigned_at = models.DateTimeField(_("assigned at"), auto_now_add=True)

    objects = SmallAreaAssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("small-area assignment")
        verbose_name_plural = _("small-area assignments")
        constraints = [models.UniqueConstraint(fields=["staff", "small_area"], name="assignment_unique")]
        indexes = [models.Index(fields=["small_area", "staff"])]

    def __str__(self) -> str:
        return f"{self.staff} → {self.small_area.code}"


class SupervisorAssignmentQuerySet(ScopedQuerySet["SupervisorAssignment"]):
    scope_fields = {"district": "enumerator__district_id", "township": "enumerator__township_id"}

    def visible_to(self, user):  # type: ignore[no-untyped-def,override]
        scope: Scope = scope_of(user)
        if scope.kind is ScopeKind.SMALL_AREAS:
            return self.filter(Q(supervisor_id=scope.staff_id) | Q(enumerator_id=scope.staff_id))
        return super().visible_to(user)


class SupervisorAssignment(models.Model):
    """A supervisor oversees an enumerator (about one supervisor per 4–5 enumerators)."""

    supervisor = models.ForeignKey(
        StaffMember, on_delete=models.PROTECT, related_name="supervised", verbose_name=_("supervisor")
    )
    enumerator = models.OneToOneField(
        StaffMember, on_delete=models.PROTECT, related_name="supervision", verbose_name=_("enumerator")
    )
    assigned_at = models.DateTimeField(_("assigned at"), auto_now_add=True)

    objects = SupervisorAssignmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("supervisor assignment")
        verbose_name_plural = _("supervisor assignments")
        constraints = [
            models.CheckConstraint(condition=~Q(supervisor=F("enumerator")), name="supervisor_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.supervisor} ⟶ {self.enumerator}"
