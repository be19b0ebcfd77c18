"""Recording visits to dwelling units, and keeping the offices' completeness figures (writes)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from census.api import ApplicationError
from census.models import Role, StaffMember
from enumeration.models import DwellingUnit, Household
from supervision.completeness import selectors
from supervision.completeness.models import EscalatedTo, Outcome, Visit, VisitMode
from supervision.organisation.services.common import evidence_store

VISITORS = (Role.ENUMERATOR, Role.SUPERVISOR)


def callbacks_before_escalation() -> int:
    return int(settings.COMPLETENESS_CALLBACKS_BEFORE_ESCALATION)


def may_visit(actor: StaffMember, unit: DwellingUnit) -> bool:
    """The enumerator (or supervisor) assigned to the unit's small area records its visits."""
    return actor.role in VISITORS and unit.building.small_area.assignments.filter(staff=actor).exists()


@transaction.atomic
def visit_record(
    *,
    dwelling_unit: DwellingUnit,
    actor: StaffMember,
    outcome: str,
    mode: str = VisitMode.IN_PERSON,
    at: datetime.datetime | None = None,
    household: Household | None = None,
    refusal_reason: str = "",
    escalated_to: str = "",
    steps_taken: str = "",
    evidence_kind: str = "",
    evidence_upload: UploadedFile | None = None,
    note: str = "",
) -> Visit:
    """Record one visit and what came of it.

    Nobody at home sets the callback (``COMPLETENESS_CALLBACK_HOURS`` later) and, at the
    ``COMPLETENESS_CALLBACKS_BEFORE_ESCALATION``-th such visit, escalates the unit to the supervisor. A refusal
    needs its reason, the steps taken and where it was escalated (the village committee or the township office).
    A vacant dwelling needs its evidence, kept as a file."""
    unit = DwellingUnit.objects.select_for_update().select_related("building__small_area").get(pk=dwelling_unit.pk)
    area = unit.building.small_area
    if not may_visit(actor, unit):
        raise ApplicationError(_("Only the enumerator of this small area records its visits."), code="not_assigned")
    if outcome not in Outcome.values:
        raise ValidationError({"outcome": _("Choose what came of the visit.")})
    if mode not in VisitMode.values:
        raise ValidationError({"mode": _("Choose how the visit was made.")})
    if household is not None and household.dwelling_unit_id != unit.pk:
        raise ValidationError({"household": _("That household is not listed in this dwelling unit.")})
    at = at or timezone.now()
    errors: dict[str, str] = {}
    visit = Visit(
        dwelling_unit=unit,
        small_area=area,
        household=household,
        visitor=actor,
        at=at,
        mode=mode,
        outcome=outcome,
        note=note.strip()[:300],
    )
    if outcome == Outcome.NOBODY_HOME:
        visit.callback_due = at + datetime.timedelta(hours=int(settings.COMPLETENESS_CALLBACK_HOURS))
        before = Visit.objects.filter(dwelling_unit=unit, outcome=Outcome.NOBODY_HOME).count()
        if before + 1 >= callbacks_before_escalation():
            visit.escalated_to = EscalatedTo.SUPERVISOR
    elif outcome == Outcome.REFUSED:
        if not refusal_reason.strip():
            errors["refusal_reason"] = _("Say why the household refused.")
        if not steps_taken.strip():
            errors["steps_taken"] = _("Say what was done to persuade the household.")
        if escalated_to not in (EscalatedTo.VILLAGE, EscalatedTo.TOWNSHIP):
            errors["escalated_to"] = _("A refusal is escalated to the village committee or the township office.")
        visit.refusal_reason = refusal_reason.strip()[:300]
        visit.steps_taken = steps_taken.strip()[:2000]
        visit.escalated_to = escalated_to
    elif outcome == Outcome.VACANT:
        if not evidence_kind:
            errors["evidence_kind"] = _("Say what shows the dwelling is vacant.")
        if evidence_upload is None:
            errors["evidence_upload"] = _("Attach the evidence (a neighbour's statement, the utility's record).")
        visit.evidence_kind = evidence_kind
    if errors:
        raise ValidationError(errors)
    if outcome == Outcome.VACANT and evidence_upload is not None:
        visit.evidence = evidence_store(
            upload=evidence_upload,
            actor=actor,
            district_id=area.township_id[:6],
            township_id=area.township_id,
            description=f"空置房 {area.code} {unit}",
        )
    visit.full_clean(exclude=["evidence"])
    visit.save()
    area_id = area.pk
    transaction.on_commit(lambda: schedule_refresh(area_id))
    return visit


_REFRESH_SQL = (
    selectors.UNITS_SQL
    + """, area AS ("""
    + selectors.AREA_SELECT
    + """)
INSERT INTO completeness_areafigures (small_area_id, township_id, units, final, no_outcome, callbacks, refusals,
                                      escalated, oldest_open, refreshed_at)
SELECT sa.id, sa.township_id, coalesce(area.units, 0), coalesce(area.final, 0), coalesce(area.no_outcome, 0),
       coalesce(area.callbacks, 0), coalesce(area.refusals, 0), coalesce(area.escalated, 0), area.oldest_open,
       %(now)s
FROM census_smallarea sa LEFT JOIN area ON area.small_area_id = sa.id
WHERE sa.id = ANY(%(areas)s)
ON CONFLICT (small_area_id) DO UPDATE SET
    township_id = excluded.township_id, units = excluded.units, final = excluded.final,
    no_outcome = excluded.no_outcome, callbacks = excluded.callbacks, refusals = excluded.refusals,
    escalated = excluded.escalated, oldest_open = excluded.oldest_open, refreshed_at = excluded.refreshed_at
"""
)


def completeness_refresh(*, small_area_ids: list[int] | None = None) -> int:
    """Recompute the completeness figures of the given small areas (``None``: all of them) from the dwelling
    units, their visits and the signed forms; returns how many were written. Idempotent. The moment stamped on
    the rows is taken before reading, so a change made while this runs is never claimed as counted."""
    from census.models import SmallArea

    now = timezone.now()
    ids = (
        sorted({int(pk) for pk in small_area_ids})
        if small_area_ids is not None
        else list(SmallArea.objects.values_list("pk", flat=True))
    )
    if not ids:
        return 0
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(_REFRESH_SQL, {**selectors.sql_params(ids), "now": now})
        return cursor.rowcount


# A burst of visits or saved forms in one small area gives one refresh.
DEBOUNCE_SECONDS = 5


def schedule_refresh(small_area_id: int) -> None:
    """Refresh one small area's figures a few seconds from now, unless that is already scheduled."""
    import logging

    from django.core.cache import cache

    from supervision.completeness.tasks import refresh_small_areas

    try:
        if cache.add(f"completeness:refresh:{small_area_id}", 1, timeout=DEBOUNCE_SECONDS):
            refresh_small_areas.apply_async(args=([small_area_id],), countdown=DEBOUNCE_SECONDS)
    except Exception:
        # Redis unreachable: the visit is saved all the same, and the beat run picks the change up.
        logging.getLogger(__name__).warning("could not schedule a completeness refresh", exc_info=True)
