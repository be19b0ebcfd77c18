"""Drawing the long-form sample of a 普查区: systematic 10%, reproducible, never swapped."""

from __future__ import annotations

import secrets

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from census.api import ApplicationError, ConflictError
from census.models import AuditAction, Role, StaffMember, Village
from census.services import audit_record
from enumeration.models import SIGNED_STATES, FormKind, Household, LongFormSample
from enumeration.models.households import ALL_DEAD_HOUSEHOLD_NO
from enumeration.sampling import DEFAULT_RATE, systematic_sample


def long_form_frame(village: Village) -> QuerySet[Household]:
    """Households whose short form is complete, minus the categories the national scheme excludes:
    港澳台/外籍 forms, 全户死亡 (999), and households nobody lived in on census night (全户寄挂户口,
    全户外出半年以上, moved away, empty dwellings) — ordered as the register lists them."""
    return (
        Household.objects.filter(village=village, state__in=SIGNED_STATES, form_kind=FormKind.CENSUS, h2_present__gt=0)
        .exclude(household_no=ALL_DEAD_HOUSEHOLD_NO)
        .order_by("small_area__code", "household_no")
    )


@transaction.atomic
def long_form_sample_draw(
    *, village: Village, actor: StaffMember, seed: int | None = None, rate: float = DEFAULT_RATE
) -> LongFormSample:
    """Draw the village's sample once. The seed is recorded so anyone can reproduce the draw; a second draw is
    refused, so a sampled household can never be exchanged for another."""
    if actor.role != Role.DISTRICT_OFFICE and not actor.is_superuser:
        raise ApplicationError(_("Only the district office draws the long-form sample."), code="not_district_office")
    if LongFormSample.objects.filter(village=village).exists():
        raise ConflictError(
            _("The long-form sample of this 普查区 has been drawn; it cannot be drawn again."), code="already_drawn"
        )
    frame = list(long_form_frame(village).select_for_update().values_list("pk", flat=True))
    if not frame:
        raise ApplicationError(_("No household of this 普查区 has a complete short form yet."), code="empty_frame")
    seed = seed if seed is not None else secrets.randbelow(2**47)
    drawn = systematic_sample(len(frame), seed=seed, rate=rate)
    chosen = [frame[position - 1] for position in drawn.positions]
    try:
        with transaction.atomic():
            sample = LongFormSample.objects.create(
                village=village,
                seed=seed,
                interval=drawn.interval,
                start=drawn.start,
                frame_size=len(frame),
                sample_size=len(chosen),
                drawn_by=actor,
                household_ids=chosen,
            )
    except IntegrityError as exc:
        raise ConflictError(
            _("The long-form sample of this 普查区 has been drawn; it cannot be drawn again."), code="already_drawn"
        ) from exc
    # A new updated_at: the long form's items are now asked, and the next incremental check run must see it.
    Household.objects.filter(pk__in=chosen).update(in_long_form_sample=True, updated_at=timezone.now())
    audit_record(
        actor=actor,
        action=AuditAction.RECORD_CHANGE,
        object_type="long_form_sample",
        object_id=sample.pk,
        detail={"village": village.code, "seed": seed, "frame": len(frame), "sampled": len(chosen)},
    )
    return sample
