"""Findings of the nightly checks (谁普查、谁负责), the check runs that produce them, and the hukou roster.

A ``Finding`` is one rule broken by one record — a person row, a household, an area, an enumerator's work or a
roster entry — with the evidence (the values that broke the rule), the person responsible (the signer of the
record; for area and staff rules the enumerator or nobody, when an office acts) and that person's supervisor.
``(rule, key)`` is unique: ``key`` is the identity of the evidence (``h<household>:<row>:<item>``,
``s<staff>:<day>``, ``a<area code>``, ``r<pseudonym of the ID number>:<village>``), so re-running the checks
updates a finding instead of adding another. Neither key nor record key holds an ID number or a name: both are
shown or searched, and the evidence that holds them is masked for every reader who may not see them.

Its life: ``open`` → ``corrected`` (the record was changed and signed again; found by the next run) or
``explained`` (the registrar's explanation, signed with their password) → ``verified`` by the supervisor.
A finding whose cause is gone without a new signature closes itself (``closed``) with a note; one that comes
back is opened again. Overdue open findings are escalated to the township office (``escalated_at``).

A ``CheckRun`` is one run of the catalogue over a scope, fanned out as one ``CheckRunPart`` per township;
the part's findings are written in one transaction together with its ``done`` mark, so a worker killed in
the middle leaves nothing half-written. ``HukouRosterEntry`` is the public-security roster (户口整顿) that
the roster rules compare with the registrations; ``RosterAreaCount`` holds its classification per area.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from census.models import District, SmallArea, Township, Village
from census.scoping import Scope, ScopedQuerySet, ScopeKind, scope_of
from enumeration.models import Household, Signature

AREA_SCOPE_FIELDS = {
    "district": "township__district_id",
    "township": "township_id",
    "village": "village_id",
    "small_area": "small_area_id",
}


class FindingState(models.TextChoices):
    OPEN = "open", _("Open")
    EXPLAINED = "explained", _("Explained by the registrar")
    CORRECTED = "corrected", _("Corrected and signed again")
    VERIFIED = "verified", _("Verified by the supervisor")
    CLOSED = "closed", _("Closed: the cause is gone")


# Waiting for the supervisor.
AWAITING_VERIFICATION = (FindingState.EXPLAINED, FindingState.CORRECTED)
UNRESOLVED_STATES = (FindingState.OPEN, *AWAITING_VERIFICATION)
# The cause is gone: corrected, closed, or verified without an explanation (a verified correction). Found again,
# such a finding opens again (``runner.REOPEN`` is this test in SQL); any other finding is still found.
GONE_STATES = (FindingState.CORRECTED, FindingState.CLOSED)


class FindingQuerySet(ScopedQuerySet["Finding"]):
    scope_fields = AREA_SCOPE_FIELDS

    def visible_to(self, user):  # type: ignore[no-untyped-def,override]
        scope: Scope = scope_of(user)
        if scope.kind is ScopeKind.SMALL_AREAS:
            # A field worker sees the findings of their small areas and every finding routed to them, also
            # those about their own work (anomalies) that belong to no small area.
            in_areas = super().visible_to(user)
            routed = self.filter(Q(responsible_id=scope.staff_id) | Q(supervisor_id=scope.staff_id))
            return in_areas | routed
        return super().visible_to(user)

    def open(self) -> FindingQuerySet:
        """Findings the registrar still has to act on (what the dashboards count)."""
        return self.filter(state=FindingState.OPEN)

    def unresolved(self) -> FindingQuerySet:
        return self.filter(state__in=UNRESOLVED_STATES)

    def awaiting_verification(self) -> FindingQuerySet:
        return self.filter(state__in=AWAITING_VERIFICATION)

    def responsible_is(self, staff: Any) -> FindingQuerySet:
        return self.filter(responsible=staff)

    def supervised_by(self, staff: Any) -> FindingQuerySet:
        return self.filter(supervisor=staff)

    def escalated(self) -> FindingQuerySet:
        return self.filter(escalated_at__isnull=False)

    def of_rule(self, code: str) -> FindingQuerySet:
        return self.filter(rule=code)


class Finding(models.Model):
    rule = models.CharField(_("rule"), max_length=40)
    rule_group = models.CharField(_("group"), max_length=12)
    severity = models.CharField(_("severity"), max_length=8)
    acts = models.CharField(_("who acts"), max_length=20)
    # The identity of the evidence: unique with the rule, so that a re-run updates instead of duplicating.
    key = models.CharField(_("key"), max_length=120)
    # What a person reads: "<small area><户编号>#<row>", an area code, "staff:<username>", "roster:<pseudonym>" (the
    # HMAC of the roster person's ID number: census.privacy.id_number_pseudonym).
    record_key = models.CharField(_("record"), max_length=60, db_index=True)
    state = models.CharField(_("state"), max_length=10, choices=FindingState.choices, default=FindingState.OPEN)

    household = models.ForeignKey(
        Household, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("household")
    )
    row_no = models.PositiveSmallIntegerField(_("row"), null=True, blank=True)
    item = models.CharField(_("item"), max_length=8, blank=True)
    small_area = models.ForeignKey(
        SmallArea, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("small area")
    )
    village = models.ForeignKey(
        Village, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("village")
    )
    township = models.ForeignKey(Township, on_delete=models.CASCADE, related_name="+", verbose_name=_("township"))
    # The enumerator whose work an anomaly is about (staff rules).
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("enumerator concerned"),
    )
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="findings",
        verbose_name=_("responsible (谁普查、谁负责)"),
    )
    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="supervised_findings",
        verbose_name=_("supervisor"),
    )
    evidence = models.JSONField(_("evidence"), default=dict, blank=True)
    # The record's signature when the finding was last seen: a newer one means the record was signed again.
    signature = models.ForeignKey(
        Signature, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("signature")
    )

    explanation = models.TextField(_("explanation"), blank=True)
    explained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("explained by"),
    )
    explained_at = models.DateTimeField(_("explained at"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("verified by"),
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("corrected or closed at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=300, blank=True)
    escalated_at = models.DateTimeField(_("escalated to the township office"), null=True, blank=True)

    first_seen_at = models.DateTimeField(_("first found"))
    # Not rewritten when a run finds the finding again unchanged (see selectors.finding_last_checked_at).
    last_seen_at = models.DateTimeField(
        _("last found"), help_text=_("When a run last found it new, changed or back again.")
    )
    first_run = models.ForeignKey(
        "quality.CheckRun", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("run")
    )
    last_run = models.ForeignKey(
        "quality.CheckRun", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("run")
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = FindingQuerySet.as_manager()

    class Meta:
        verbose_name = _("finding")
        verbose_name_plural = _("findings")
        ordering = ["-first_seen_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "key"], name="finding_unique_rule_key"),
            models.CheckConstraint(condition=Q(state__in=FindingState.values), name="finding_state_valid"),
            models.CheckConstraint(
                condition=~Q(state=FindingState.EXPLAINED) | ~Q(explanation=""), name="finding_explained_has_text"
            ),
            models.CheckConstraint(
                condition=~Q(state=FindingState.VERIFIED) | Q(verified_by__isnull=False),
                name="finding_verified_has_verifier",
            ),
        ]
        indexes = [
            models.Index(fields=["responsible", "state"]),
            models.Index(fields=["supervisor", "state"]),
            models.Index(fields=["township", "state"]),
            models.Index(fields=["small_area", "state"]),
            models.Index(fields=["village", "state"]),
            models.Index(fields=["household"]),
            models.Index(fields=["state", "first_seen_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.rule} {self.record_key} ({self.state})"

    @property
    def is_gone(self) -> bool:
        return self.state in GONE_STATES or (self.state == FindingState.VERIFIED and not self.explanation)


class FindingEventKind(models.TextChoices):
    DETECTED = "detected", pgettext_lazy("a finding's event", "Found")
    REOPENED = "reopened", _("Found again")
    EXPLAINED = "explained", _("Explained")
    CORRECTED = "corrected", _("Corrected and signed again")
    VERIFIED = "verified", _("Verified")
    REJECTED = "rejected", _("Explanation not accepted")
    CLOSED = "closed", _("Closed: the cause is gone")
    ESCALATED = "escalated", _("Escalated to the township office")


class FindingEventQuerySet(ScopedQuerySet["FindingEvent"]):
    scope_fields = {
        "district": "finding__township__district_id",
        "township": "finding__township_id",
        "village": "finding__village_id",
        "small_area": "finding__small_area_id",
    }


class FindingEvent(models.Model):
    """The history of a finding: who did what, when (the checks themselves act with no actor)."""

    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="events", verbose_name=_("finding"))
    kind = models.CharField(_("what"), max_length=10, choices=FindingEventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    run = models.ForeignKey(
        "quality.CheckRun", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("run")
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    at = models.DateTimeField(_("time"))

    objects = FindingEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("finding event")
        verbose_name_plural = _("finding events")
        ordering = ["finding_id", "at", "id"]
        indexes = [models.Index(fields=["finding", "at"])]

    def __str__(self) -> str:
        return f"{self.finding_id} {self.kind}"


# --- runs ------------------------------------------------------------------------------------------------


class RunMode(models.TextChoices):
    INCREMENTAL = "incremental", _("Incremental (changed households and the cross-record rules)")
    FULL = "full", _("Full")


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class CheckRunQuerySet(ScopedQuerySet["CheckRun"]):
    scope_fields = {"district": "district_id", "township": "township_id"}

    def visible_to(self, user):  # type: ignore[no-untyped-def,override]
        scope: Scope = scope_of(user)
        if scope.kind is ScopeKind.TOWNSHIP:
            # A township office sees its own runs and the district-wide ones (the nightly run).
            return self.filter(Q(township_id=scope.code) | Q(township__isnull=True, district_id=scope.code[:6]))
        return super().visible_to(user)

    def done(self) -> CheckRunQuerySet:
        return self.filter(status=RunStatus.DONE)

    def active(self) -> CheckRunQuerySet:
        return self.filter(status__in=(RunStatus.QUEUED, RunStatus.RUNNING))


class CheckRun(models.Model):
    mode = models.CharField(_("mode"), max_length=12, choices=RunMode.choices)
    status = models.CharField(_("status"), max_length=8, choices=RunStatus.choices, default=RunStatus.QUEUED)
    district = models.ForeignKey(District, on_delete=models.CASCADE, related_name="+", verbose_name=_("district"))
    # Empty for a run over the whole district.
    township = models.ForeignKey(
        Township, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("township")
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("started by"),
    )
    job = models.ForeignKey(
        "census.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("job")
    )
    parts_total = models.PositiveIntegerField(_("townships"), default=0)
    parts_done = models.PositiveIntegerField(_("townships done"), default=0)
    # {"checks": {name: seconds summed over the townships}, "counts": {...}, "households": n}
    stats = models.JSONField(_("statistics"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    objects = CheckRunQuerySet.as_manager()

    class Meta:
        verbose_name = _("check run")
        verbose_name_plural = _("check runs")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(parts_done__lte=models.F("parts_total")), name="run_parts_within_total"),
        ]
        indexes = [models.Index(fields=["status", "-created_at"])]

    def __str__(self) -> str:
        return f"run {self.pk} {self.mode} {self.status}"

    @property
    def percent(self) -> int:
        if self.status == RunStatus.DONE:
            return 100
        return int(100 * self.parts_done / self.parts_total) if self.parts_total else 0

    @property
    def is_finished(self) -> bool:
        return self.status in (RunStatus.DONE, RunStatus.FAILED)


class PartStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class CheckRunPartQuerySet(ScopedQuerySet["CheckRunPart"]):
    scope_fields = {"district": "township__district_id", "township": "township_id"}


class PartSection(models.TextChoices):
    TOWNSHIP = "township", _("township")
    # The district parts: duplicates across households (重登), and the roster comparison (户籍 vs registered).
    DUPLICATES = "duplicates", _("duplicates across the district")
    ROSTER = "roster", _("roster comparison")
    # The forms sections of a full run: the household rules, each one statement over every form of the run.
    LEDGER = "ledger", _("signatures and content")
    ITEMS = "items", _("form items and codes")
    IDENTITY = "identity", _("identity")
    STRUCTURE = "structure", _("household structure")
    PERSONS = "persons", _("relationships and persons")


DISTRICT_PART_SECTIONS = [section for section in PartSection if section != PartSection.TOWNSHIP]


class CheckRunPart(models.Model):
    """One township of a run. Whoever holds its advisory lock runs it; a dead worker's lock dies with it."""

    run = models.ForeignKey(CheckRun, on_delete=models.CASCADE, related_name="parts", verbose_name=_("run"))
    # Empty for the district parts: the rules that look across townships, in two sections run side by side, and
    # in a full run the household rules over every form of the run, in five.
    township = models.ForeignKey(
        Township, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("township")
    )
    section = models.CharField(_("section"), max_length=12, choices=PartSection.choices, default=PartSection.TOWNSHIP)
    status = models.CharField(_("status"), max_length=8, choices=PartStatus.choices, default=PartStatus.QUEUED)
    # Incremental runs check the households changed after this moment (empty: every signed household).
    since = models.DateTimeField(_("households changed since"), null=True, blank=True)
    households = models.PositiveIntegerField(_("households checked"), default=0)
    stats = models.JSONField(_("statistics"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    objects = CheckRunPartQuerySet.as_manager()

    class Meta:
        verbose_name = _("check run part")
        verbose_name_plural = _("check run parts")
        ordering = ["run_id", "township_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "township", "section"], name="run_part_unique_section", nulls_distinct=False
            ),
            # A township part is a township's; a district part is one of the district or forms sections.
            models.CheckConstraint(
                condition=Q(township__isnull=False, section=PartSection.TOWNSHIP)
                | Q(township__isnull=True, section__in=DISTRICT_PART_SECTIONS),
                name="run_part_section_matches_township",
            ),
        ]
        indexes = [models.Index(fields=["township", "status", "-finished_at"])]

    def __str__(self) -> str:
        return f"run {self.run_id} {self.township_id or self.section} {self.status}"


# --- the hukou roster (户口整顿) -------------------------------------------------------------------------


class HukouRosterEntryQuerySet(ScopedQuerySet["HukouRosterEntry"]):
    scope_fields = AREA_SCOPE_FIELDS


class HukouRosterEntry(models.Model):
    """One person on the household-registration roster that public security hands to the census office."""

    id_number = models.CharField(_("citizen ID number"), max_length=18)
    name = models.CharField(_("name"), max_length=50)
    sex = models.PositiveSmallIntegerField(_("sex"))
    birth_year = models.PositiveSmallIntegerField(_("year of birth"))
    birth_month = models.PositiveSmallIntegerField(_("month of birth"))
    # Where the hukou is: down to the village (普查区), and to the small area where the roster says so.
    # Read by township (the checks) and by ID number; the other keys need no index of their own, which keeps a
    # million-row load fast. (The township's index holds the id too: a township's first and last entry, which
    # tell the roster part whether a new roster was imported, are then two look-ups, not a count.)
    township = models.ForeignKey(
        Township, on_delete=models.CASCADE, related_name="+", db_index=False, verbose_name=_("township")
    )
    village = models.ForeignKey(
        Village, on_delete=models.CASCADE, related_name="+", db_index=False, verbose_name=_("village")
    )
    small_area = models.ForeignKey(
        SmallArea,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        verbose_name=_("small area"),
    )
    household_no = models.PositiveSmallIntegerField(_("household number (户编号)"), null=True, blank=True)
    address = models.CharField(_("hukou address"), max_length=200, blank=True)
    imported_at = models.DateTimeField(_("imported"))

    objects = HukouRosterEntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("hukou roster entry (户籍)")
        verbose_name_plural = _("hukou roster")
        ordering = ["village_id", "small_area_id", "household_no", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(id_number__regex=r"^[0-9]{17}[0-9X]$"), name="roster_id_format"),
            models.CheckConstraint(condition=Q(sex__in=(1, 2)), name="roster_sex_code"),
            models.CheckConstraint(condition=Q(birth_month__gte=1, birth_month__lte=12), name="roster_birth_month"),
            models.CheckConstraint(
                condition=Q(household_no__isnull=True) | Q(household_no__gte=1, household_no__lte=999),
                name="roster_household_no_3_digits",
            ),
        ]
        indexes = [
            models.Index(fields=["id_number"]),
            models.Index(fields=["township", "id"], name="roster_township_entry"),
        ]

    def __str__(self) -> str:
        return f"{self.village_id} {self.name}"


class RosterMatch(models.Model):
    """What the last check runs found for one roster person (one row per ID number and village: duplicate roster
    lines count once): whether they are registered anywhere in the district, and in their hukou village.

    A derived table, kept by the roster part of the check runs: a full run rebuilds the rows of its townships; an
    incremental run over the district re-matches only the persons whose number is, or was, on a household
    changed since (``household_id`` and ``here_household_id`` remember which households the match rests on).
    No foreign keys: it is rewritten a million rows at a time, and a new roster import makes the next run
    rebuild it.
    """

    entry_id = models.BigIntegerField(_("roster entry"), primary_key=True)
    id_number = models.CharField(_("citizen ID number"), max_length=18)
    name = models.CharField(_("name"), max_length=50)
    township_id = models.CharField(_("township"), max_length=9)
    village_id = models.CharField(_("village"), max_length=12)
    small_area_id = models.BigIntegerField(_("small area"), null=True, blank=True)
    household_no = models.PositiveSmallIntegerField(_("household number (户编号)"), null=True, blank=True)
    registered = models.BooleanField(_("registered somewhere in the district"))
    here = models.BooleanField(_("registered as living in the hukou village"))
    # One household holding the number, and one where the person lives in the hukou village: a change of any
    # other household cannot change ``registered`` or ``here``.
    household_id = models.BigIntegerField(_("a household with this number"), null=True, blank=True)
    here_household_id = models.BigIntegerField(_("a household where they live at their hukou"), null=True, blank=True)
    # What the person's finding is known by (``census.privacy.id_number_pseudonym``), written with the match while
    # they are registered nowhere: an HMAC per unregistered person when the matches are rebuilt or change, instead
    # of one for each of them on every run.
    pseudonym = models.CharField(_("pseudonym of the ID number"), max_length=20, null=True, blank=True)

    class Meta:
        verbose_name = _("roster match")
        verbose_name_plural = _("roster matches")
        # The households a match rests on, for an incremental run's look-up of the matches that the households
        # changed since may have changed (a few probes instead of a scan of the district's roster). A full run
        # keeps them up to date as it rewrites the table (the application's database role may not drop them).
        indexes = [
            models.Index(
                fields=["household_id"], name="roster_match_household", condition=Q(household_id__isnull=False)
            ),
            models.Index(
                fields=["here_household_id"],
                name="roster_match_here_household",
                condition=Q(here_household_id__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(registered=True, household_id__isnull=False)
                | Q(registered=False, household_id__isnull=True),
                name="roster_match_registered",
            ),
            models.CheckConstraint(
                condition=Q(here=True, here_household_id__isnull=False) | Q(here=False, here_household_id__isnull=True),
                name="roster_match_here",
            ),
            models.CheckConstraint(
                condition=Q(pseudonym__isnull=True) | Q(pseudonym__regex=r"^[0-9a-f]{20}$"),
                name="roster_match_pseudonym_hex",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id_number} {self.village_id}: {self.registered}/{self.here}"


class RosterHouseholdCount(models.Model):
    """One household's persons as the roster comparison counts them: registered, and not on the roster with the
    hukou in the district (D8 = 1–3) or elsewhere. Kept by the roster part like :class:`RosterMatch`, so that an
    incremental run recounts only the households changed since."""

    household_id = models.BigIntegerField(_("household"), primary_key=True)
    township_id = models.CharField(_("township"), max_length=9)
    village_id = models.CharField(_("village"), max_length=12)
    small_area_id = models.BigIntegerField(_("small area"))
    registered = models.PositiveIntegerField(_("registered"))
    not_on_roster_local = models.PositiveIntegerField(_("with hukou in the district, not on the roster"))
    not_on_roster_other = models.PositiveIntegerField(_("with hukou elsewhere, not on the roster"))

    class Meta:
        verbose_name = _("roster count of a household")
        verbose_name_plural = _("roster counts of households")

    def __str__(self) -> str:
        return f"{self.household_id}: {self.registered}"


class RosterAreaCountQuerySet(ScopedQuerySet["RosterAreaCount"]):
    scope_fields = AREA_SCOPE_FIELDS


class RosterAreaCount(models.Model):
    """The roster comparison of one area, refreshed by every check run (dashboards read these rows).

    Roster persons are counted where their hukou is; registered persons not on the roster where they were
    registered. ``small_area`` is empty for roster persons whose hukou the roster gives only to the village.
    """

    township = models.ForeignKey(Township, on_delete=models.CASCADE, related_name="+", verbose_name=_("township"))
    village = models.ForeignKey(Village, on_delete=models.CASCADE, related_name="+", verbose_name=_("village"))
    small_area = models.ForeignKey(
        SmallArea, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("small area")
    )
    roster = models.PositiveIntegerField(_("on the roster"), default=0)
    living_here = models.PositiveIntegerField(_("hukou here, living here"), default=0)
    living_elsewhere = models.PositiveIntegerField(_("hukou here, living elsewhere (人户分离)"), default=0)
    not_registered = models.PositiveIntegerField(_("on the roster, registered nowhere"), default=0)
    registered = models.PositiveIntegerField(_("registered"), default=0)
    not_on_roster_local = models.PositiveIntegerField(
        _("registered with hukou in the district, not on the roster"), default=0
    )
    not_on_roster_other = models.PositiveIntegerField(
        _("registered with hukou elsewhere, not on the roster"), default=0
    )
    refreshed_at = models.DateTimeField(_("refreshed"))

    objects = RosterAreaCountQuerySet.as_manager()

    class Meta:
        verbose_name = _("roster comparison of an area")
        verbose_name_plural = _("roster comparison")
        ordering = ["village_id", "small_area_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["village", "small_area"], name="roster_count_unique_area", nulls_distinct=False
            ),
        ]

    def __str__(self) -> str:
        return f"{self.small_area_id or self.village_id}: {self.roster}"


class HouseholdTally(models.Model):
    """One signed household as the township's cross-record rules see it: its place, registrar and signature, and
    its persons counted the ways those rules count them (by sex, age, birth month, hukou; the fingerprint the
    copy rule compares). The rules sum these rows per area and per enumerator instead of reading every person of
    the township. Kept by the township parts like :class:`RosterHouseholdCount`: rebuilt for the township when a
    part checks every form, rewritten for the changed households otherwise (``checks.tally``)."""

    household_id = models.BigIntegerField(_("household"), primary_key=True)
    township_id = models.CharField(_("township"), max_length=9, db_index=True)
    village_id = models.CharField(_("village"), max_length=12)
    small_area_id = models.BigIntegerField(_("small area"))
    area_code = models.CharField(_("small area code"), max_length=15)
    household_no = models.PositiveSmallIntegerField(_("household number (户编号)"))
    registrar_id = models.BigIntegerField(_("registrar"), null=True)
    signer_id = models.BigIntegerField(_("signer"), null=True)
    signed_at = models.DateTimeField(_("signed at"), null=True)
    signature_id = models.BigIntegerField(_("signature"), null=True)
    family = models.BooleanField(_("family household"))
    is_foreign = models.BooleanField(_("foreign form"))
    listed = models.BooleanField(_("listed"))
    expected_persons = models.PositiveIntegerField(_("persons expected at listing"))
    births = models.PositiveIntegerField(_("births (H3)"))
    persons = models.PositiveIntegerField(_("persons"))
    infants = models.PositiveIntegerField(_("persons aged 0"))
    male = models.PositiveIntegerField(_("men"))
    female = models.PositiveIntegerField(_("women"))
    birth_month_known = models.PositiveIntegerField(_("persons with a birth month"))
    born_january = models.PositiveIntegerField(_("persons born in January"))
    hukou_pending = models.PositiveIntegerField(_("persons with hukou pending"))
    whipple_persons = models.PositiveIntegerField(_("persons of the ages of Whipple's index"))
    whipple_heaped = models.PositiveIntegerField(_("of them, aged a multiple of 5"))
    age_group_male = ArrayField(models.PositiveIntegerField(), verbose_name=_("men by age group"))
    age_group_female = ArrayField(models.PositiveIntegerField(), verbose_name=_("women by age group"))
    fingerprint = models.CharField(_("fingerprint"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("tally of a household")
        verbose_name_plural = _("tallies of households")
        indexes = [
            # An incremental part's speed rule reads a signer's day, its copy rule a registrar's fingerprint.
            models.Index(fields=["signer_id", "signed_at"], name="tally_signer_signed_at"),
            models.Index(fields=["registrar_id", "fingerprint"], name="tally_registrar_fingerprint"),
        ]

    def __str__(self) -> str:
        return f"{self.household_id}: {self.persons}"


class AreaRegistrarTally(models.Model):
    """The tally's sums per small area and registrar — what the area rules (G), the coverage of persons and the
    enumerator anomalies add up — kept between runs so that a township's part sums a few hundred of these rows
    instead of every household's tally (issue 26: an incremental part must cost what its changes cost). Rebuilt
    with the township's tally; an incremental part moves them by the difference its rewritten tally rows make
    (``checks.tally``). "Counted" households are the census's own (not 999, not a foreign form); "family" ones are
    counted family households (家庭户); "listed" ones were on the listing (999 aside, foreign forms included)."""

    township_id = models.CharField(_("township"), max_length=9, db_index=True)
    village_id = models.CharField(_("village"), max_length=12)
    small_area_id = models.BigIntegerField(_("small area"))
    registrar_id = models.BigIntegerField(_("registrar"), null=True)
    households = models.IntegerField(_("counted households"))
    persons = models.IntegerField(_("persons of counted households"))
    infants = models.IntegerField(_("persons aged 0"))
    births = models.IntegerField(_("births (H3)"))
    birth_month_known = models.IntegerField(_("persons with a birth month"))
    born_january = models.IntegerField(_("persons born in January"))
    hukou_pending = models.IntegerField(_("persons with hukou pending"))
    family_households = models.IntegerField(_("family households"))
    family_persons = models.IntegerField(_("persons of family households"))
    family_male = models.IntegerField(_("men of family households"))
    family_female = models.IntegerField(_("women of family households"))
    family_whipple_persons = models.IntegerField(_("persons of the ages of Whipple's index"))
    family_whipple_heaped = models.IntegerField(_("of them, aged a multiple of 5"))
    family_age_group_male = ArrayField(models.IntegerField(), verbose_name=_("men by age group"))
    family_age_group_female = ArrayField(models.IntegerField(), verbose_name=_("women by age group"))
    listed_households = models.IntegerField(_("listed households"))
    listed_persons = models.IntegerField(_("persons of listed households"))
    listed_expected = models.IntegerField(_("persons expected at listing"))

    class Meta:
        verbose_name = _("sums of a small area's tally by registrar")
        verbose_name_plural = _("sums of small areas' tallies by registrar")
        constraints = [
            models.UniqueConstraint(
                fields=["small_area_id", "registrar_id"], name="area_registrar_tally_unique", nulls_distinct=False
            )
        ]

    def __str__(self) -> str:
        return f"{self.small_area_id}/{self.registrar_id}: {self.households}"
