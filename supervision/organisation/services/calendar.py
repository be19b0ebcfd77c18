"""Writes of the census calendar (S19): the district moves a phase."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from census.models import Role, StaffMember
from supervision.organisation.models import DEFAULT_PHASES, CensusPhase, Phase
from supervision.organisation.services.common import audit_change


@transaction.atomic
def calendar_phase_set(
    *, district_id: str, phase: str, start: datetime.date, end: datetime.date, actor: StaffMember
) -> CensusPhase | None:
    """Set a phase's planned dates for the district. Dates equal to the default remove the district's row."""
    if not (actor.is_superuser or (actor.role == Role.DISTRICT_OFFICE and actor.district_id == district_id)):
        raise ValidationError(_("Only the district census office changes the census calendar."))
    if phase not in Phase.values:
        raise ValidationError(_("Unknown phase."))
    if end < start:
        raise ValidationError({phase: _("A phase cannot end before it starts.")})
    current = CensusPhase.objects.select_for_update().filter(district_id=district_id, phase=phase)
    row = current.first()
    before = (row.planned_start, row.planned_end) if row else DEFAULT_PHASES[phase]
    if before == (start, end):
        return row
    if (start, end) == DEFAULT_PHASES[phase]:
        current.delete()
        row = None
    else:
        row, _created = CensusPhase.objects.update_or_create(
            district_id=district_id,
            phase=phase,
            defaults={"planned_start": start, "planned_end": end, "updated_by": actor},
        )
    audit_change(
        actor=actor, object_type="census_phase", object_id=f"{district_id}:{phase}", before=before, after=(start, end)
    )
    return row
