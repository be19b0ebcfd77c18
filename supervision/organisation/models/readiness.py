"""四落实 readiness: per township/street, village/community and district department, the four things that
must be in place before the census — organisation (机构), staff (人员), funds (经费) and conditions (条件) —
each with its date, its evidence and its status, against the deadline for that kind of unit."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Exists, F, OuterRef, Q, Subquery
from django.db.models.functions import Cast, Coalesce
from django.db.models.lookups import StartsWith
from django.utils.translation import gettext_lazy as _

from census.models import Department, District, Township, Village
from census.scoping import ScopedQuerySet
from supervision.organisation.models.evidence import EvidenceFile


class UnitKind(models.TextChoices):
    TOWNSHIP = "township", _("Township / street (乡镇/街道)")
    VILLAGE = "village", _("Village / community (村/社区)")
    DEPARTMENT = "department", _("District department (区级部门)")


class ReadinessComponent(models.TextChoices):
    ORGANISATION = "organisation", _("Organisation set up (机构落实)")
    STAFF = "staff", _("Staff selected (人员落实)")
    FUNDS = "funds", _("Funds in place (经费落实)")
    CONDITIONS = "conditions", _("Office conditions ready (条件落实)")


class ReadinessStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("Not started")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")


class MemberBody(models.TextChoices):
    LEADING_GROUP = "leading_group", _("Leading group (普查领导小组)")
    OFFICE = "office", _("Census office (普查办公室)")


def readiness_deadline(kind: str) -> datetime.date:
    """The organisation (机构) deadline for a kind of unit, from settings (townships end of March, villages 30
    June, departments 31 July of the census year)."""
    return settings.ORGANISATION_READINESS_DEADLINES[kind]  # type: ignore[no-any-return]


def default_item_deadline(kind: str, component: str) -> datetime.date:
    """The deadline a district starts with for one of the four of a kind of unit (settings; S2)."""
    if component == ReadinessComponent.ORGANISATION:
        return readiness_deadline(kind)
    return settings.ORGANISATION_READINESS_ITEM_DEADLINES[kind][component]  # type: ignore[no-any-return]


def item_due_on() -> models.Expression:
    """The deadline of a readiness item, as an expression over ``ReadinessItem``: the district's own
    (``ReadinessDeadline``), else the default of its kind of unit and component."""
    defaults = models.Case(
        *(
            models.When(
                readiness__unit_kind=kind,
                component=component,
                then=models.Value(default_item_deadline(kind, component)),
            )
            for kind in UnitKind.values
            for component in ReadinessComponent.values
        ),
        output_field=models.DateField(),
    )
    own = ReadinessDeadline.objects.filter(
        district_id=OuterRef("readiness__district_id"),
        unit_kind=OuterRef("readiness__unit_kind"),
        component=OuterRef("component"),
    ).values("due_on")[:1]
    return Coalesce(Subquery(own, output_field=models.DateField()), defaults)


class ReadinessDeadlineQuerySet(ScopedQuerySet["ReadinessDeadline"]):
    scope_fields = {"district": "district_id"}


class ReadinessDeadline(models.Model):
    """A district's deadline for one of the four of one kind of unit, when it differs from the default."""

    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+", verbose_name=_("district"))
    unit_kind = models.CharField(_("kind of unit"), max_length=12, choices=UnitKind.choices)
    component = models.CharField(_("item"), max_length=15, choices=ReadinessComponent.choices)
    due_on = models.DateField(_("deadline"))
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("updated by"),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ReadinessDeadlineQuerySet.as_manager()

    class Meta:
        verbose_name = _("readiness deadline")
        verbose_name_plural = _("readiness deadlines")
        constraints = [
            models.UniqueConstraint(fields=["district", "unit_kind", "component"], name="readiness_deadline_unique")
        ]

    def __str__(self) -> str:
        return f"{self.get_unit_kind_display()} · {self.get_component_display()}: {self.due_on}"


class UnitReadinessQuerySet(ScopedQuerySet["UnitReadiness"]):
    scope_fields = {"district": "district_id", "township": "township_id", "department": "department_id"}

    def with_deadline(self) -> UnitReadinessQuerySet:
        """``deadline``: the earliest deadline among the items not yet done (the next one the unit must meet);
        empty once all four are done."""
        pending = (
            ReadinessItem.objects.filter(readiness=OuterRef("pk"))
            .exclude(status=ReadinessStatus.DONE)
            .annotate(due_on=item_due_on())
            .order_by("due_on")
            .values("due_on")[:1]
        )
        return self.annotate(deadline=Subquery(pending, output_field=models.DateField()))

    def with_state(self, today: datetime.date) -> UnitReadinessQuerySet:
        """``has_overdue`` (an item not done past its own deadline) and ``has_late`` (an item done after it)."""
        return self.annotate(
            has_overdue=Exists(ReadinessItem.objects.overdue(today).filter(readiness=OuterRef("pk"))),
            has_late=Exists(ReadinessItem.objects.late().filter(readiness=OuterRef("pk"))),
        )

    def ready(self) -> UnitReadinessQuerySet:
        return self.filter(ready_on__isnull=False)

    def not_ready(self) -> UnitReadinessQuerySet:
        return self.filter(ready_on__isnull=True)

    def overdue(self, today: datetime.date) -> UnitReadinessQuerySet:
        """Units with at least one item not done although that item's deadline has passed."""
        return self.filter(Exists(ReadinessItem.objects.overdue(today).filter(readiness=OuterRef("pk"))))

    def late(self) -> UnitReadinessQuerySet:
        """Ready, but at least one item was done after its own deadline."""
        return self.filter(
            Exists(ReadinessItem.objects.late().filter(readiness=OuterRef("pk"))), ready_on__isnull=False
        )

    def with_done_count(self) -> UnitReadinessQuerySet:
        return self.annotate(
            done_count=models.Count("items", filter=Q(items__status=ReadinessStatus.DONE), distinct=True)
        )


class UnitReadiness(models.Model):
    """The 四落实 checklist of one unit."""

    district = models.ForeignKey(District, on_delete=models.PROTECT, related_name="+", verbose_name=_("district"))
    unit_kind = models.CharField(_("kind of unit"), max_length=12, choices=UnitKind.choices)
    township = models.ForeignKey(
        Township, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("township")
    )
    village = models.ForeignKey(
        Village, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("village")
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("department")
    )
    # The day the last of the four was done; empty while any is missing. Kept by the services, so that
    # "overdue" is one indexed comparison on a large district.
    ready_on = models.DateField(_("ready on"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = UnitReadinessQuerySet.as_manager()

    class Meta:
        verbose_name = _("unit readiness (四落实)")
        verbose_name_plural = _("unit readiness")
        ordering = ["unit_kind", "township_id", "village_id", "department_id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(unit_kind=UnitKind.TOWNSHIP, township__isnull=False, village__isnull=True)
                    & Q(department__isnull=True)
                )
                | (
                    Q(unit_kind=UnitKind.VILLAGE, township__isnull=False, village__isnull=False)
                    & Q(department__isnull=True)
                )
                | (
                    Q(unit_kind=UnitKind.DEPARTMENT, township__isnull=True, village__isnull=True)
                    & Q(department__isnull=False)
                ),
                name="readiness_unit_matches_kind",
            ),
            models.CheckConstraint(
                condition=Q(village__isnull=True)
                | Q(StartsWith(Cast("village_id", models.CharField()), F("township_id"))),
                name="readiness_village_in_township",
            ),
            models.UniqueConstraint(
                fields=["township"], condition=Q(unit_kind=UnitKind.TOWNSHIP), name="readiness_one_per_township"
            ),
            models.UniqueConstraint(fields=["village"], name="readiness_one_per_village"),
            models.UniqueConstraint(fields=["department"], name="readiness_one_per_department"),
        ]
        indexes = [models.Index(fields=["district", "unit_kind", "ready_on"])]

    def __str__(self) -> str:
        return self.unit_name

    @property
    def unit(self) -> Township | Village | Department:
        if self.unit_kind == UnitKind.VILLAGE:
            assert self.village is not None
            return self.village
        if self.unit_kind == UnitKind.TOWNSHIP:
            assert self.township is not None
            return self.township
        assert self.department is not None
        return self.department

    @property
    def unit_name(self) -> str:
        return self.unit.name

    def is_overdue(self, today: datetime.date) -> bool:
        return ReadinessItem.objects.overdue(today).filter(readiness=self).exists()

    @property
    def is_late(self) -> bool:
        return self.ready_on is not None and ReadinessItem.objects.late().filter(readiness=self).exists()


class ReadinessItemQuerySet(ScopedQuerySet["ReadinessItem"]):
    scope_fields = {
        "district": "readiness__district_id",
        "township": "readiness__township_id",
        "department": "readiness__department_id",
    }

    def with_due_on(self) -> ReadinessItemQuerySet:
        return self.annotate(due_on=item_due_on())

    def overdue(self, today: datetime.date) -> ReadinessItemQuerySet:
        """Not done although its own deadline has passed."""
        return self.with_due_on().exclude(status=ReadinessStatus.DONE).filter(due_on__lt=today)  # type: ignore[misc]

    def late(self) -> ReadinessItemQuerySet:
        """Done, after its own deadline."""
        return self.with_due_on().filter(status=ReadinessStatus.DONE, completed_on__gt=F("due_on"))


class ReadinessItem(models.Model):
    """One of the four: its status, the date it was done and the document that shows it."""

    readiness = models.ForeignKey(
        UnitReadiness, on_delete=models.CASCADE, related_name="items", verbose_name=_("unit readiness")
    )
    component = models.CharField(_("item"), max_length=15, choices=ReadinessComponent.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=ReadinessStatus.choices, default=ReadinessStatus.NOT_STARTED
    )
    completed_on = models.DateField(_("done on"), null=True, blank=True)
    evidence = models.ForeignKey(
        EvidenceFile, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("evidence")
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    # 落实到人头 (S3): the one account answerable for this item; its chain upward is shown with it and overdue
    # items climb that chain (services.work_escalate_overdue).
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("responsible person"),
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("updated by"),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ReadinessItemQuerySet.as_manager()

    class Meta:
        verbose_name = _("readiness item")
        verbose_name_plural = _("readiness items")
        ordering = ["readiness_id", "component"]
        constraints = [
            models.UniqueConstraint(fields=["readiness", "component"], name="readiness_item_unique"),
            # Done means: when, and the document that shows it.
            models.CheckConstraint(
                condition=~Q(status=ReadinessStatus.DONE) | Q(completed_on__isnull=False, evidence__isnull=False),
                name="readiness_item_done_has_date_and_evidence",
            ),
            models.CheckConstraint(
                condition=Q(status=ReadinessStatus.DONE) | Q(completed_on__isnull=True),
                name="readiness_item_date_only_when_done",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.readiness} · {self.get_component_display()}"


class ReadinessMemberQuerySet(ScopedQuerySet["ReadinessMember"]):
    scope_fields = ReadinessItemQuerySet.scope_fields


class ReadinessMember(models.Model):
    """A member of a unit's leading group or census office, with their post."""

    readiness = models.ForeignKey(
        UnitReadiness, on_delete=models.CASCADE, related_name="members", verbose_name=_("unit readiness")
    )
    body = models.CharField(_("body"), max_length=15, choices=MemberBody.choices)
    name = models.CharField(_("name"), max_length=50)
    post = models.CharField(_("post in the body (e.g. 组长, 副组长, 成员, 主任)"), max_length=50)
    job_title = models.CharField(_("job title (本职职务)"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)

    objects = ReadinessMemberQuerySet.as_manager()

    class Meta:
        verbose_name = _("organisation member")
        verbose_name_plural = _("organisation members")
        ordering = ["readiness_id", "body", "id"]
        constraints = [
            models.UniqueConstraint(fields=["readiness", "body", "name"], name="readiness_member_unique"),
            models.CheckConstraint(condition=~Q(name="") & ~Q(post=""), name="readiness_member_has_name_and_post"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.post})"
