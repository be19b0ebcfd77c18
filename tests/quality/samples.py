"""Findings and check runs in township A, township B and the other district, for the permission matrix."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from census.models import District, SmallArea, SupervisorAssignment
from supervision.quality.models import CheckRun, Finding


def make_quality(world: Any) -> None:
    now = timezone.now()
    for area in SmallArea.objects.select_related("village").all():
        staff = area.assignments.select_related("staff").first()
        responsible = staff.staff if staff is not None else None
        supervisor = (
            SupervisorAssignment.objects.filter(enumerator=responsible).values_list("supervisor", flat=True).first()
            if responsible is not None
            else None
        )
        Finding.objects.create(
            rule="ID_CHECKSUM",
            rule_group="A",
            severity="hard",
            acts="registrar",
            key=f"sample:{area.code}",
            record_key=f"{area.code}001#1",
            small_area=area,
            village=area.village,
            township_id=area.township_id,
            responsible=responsible,
            supervisor_id=supervisor,
            evidence={},
            first_seen_at=now,
            last_seen_at=now,
        )
    for district in District.objects.all():
        for township in district.townships.all():
            CheckRun.objects.create(mode="full", district=district, township=township, parts_total=1)
