"""Keep the completeness figures close behind the forms: a saved household (signed, say) schedules a refresh of
its small area's figures. Bulk updates send no signal; the beat's ``completeness.refresh_all`` catches those."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from enumeration.models import Household


@receiver(post_save, sender=Household, dispatch_uid="completeness-household-saved")
def household_saved(sender: type[Household], instance: Household, **kwargs: Any) -> None:
    from supervision.completeness.services import schedule_refresh

    small_area_id = instance.small_area_id
    transaction.on_commit(lambda: schedule_refresh(small_area_id))
