"""Keep the aggregates close behind the forms: a saved household schedules a refresh of its small area.

Enumeration cannot call this part (dependencies point the other way), so the progress part listens. Bulk
updates and COPY loads send no signal; the per-minute ``progress.refresh_changed`` beat task catches those.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from enumeration.models import Household


@receiver(post_save, sender=Household, dispatch_uid="progress-household-saved")
@receiver(post_delete, sender=Household, dispatch_uid="progress-household-deleted")
def household_changed(sender: type[Household], instance: Household, **kwargs: Any) -> None:
    from supervision.progress.tasks import schedule_refresh

    small_area_id = instance.small_area_id
    transaction.on_commit(lambda: schedule_refresh(small_area_id))
