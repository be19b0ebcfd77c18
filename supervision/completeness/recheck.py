"""The sample re-check (质量抽查) for acceptance: a reproducible draw, and the coverage estimate from its list.

The draw is made from a recorded seed, so that anyone can draw the same sample again: per township (in code
order), ``random.Random("<seed>:<township>")`` picks ``areas_per_township`` of its small areas (in code order) and,
in each, households (in 户编号 order) with probability ``household_rate`` — ``self_report_rate`` for self-reported
forms. Each drawn small area gets a checker from the township's field staff who neither is assigned to it nor
registered any household in it (谁普查、谁负责: nobody re-checks their own work).
"""

from __future__ import annotations

import random

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from census.api import ApplicationError
from census.models import Role, SmallArea, SmallAreaAssignment, StaffMember, Township
from enumeration.models import CollectionMode, Household, Person
from supervision.completeness.coverage import Estimate, PersonRecord, estimates_by_stratum
from supervision.completeness.models import RecheckArea, RecheckDraw, RecheckPerson

CHECKER_ROLES = (Role.ENUMERATOR, Role.SUPERVISOR)


def _eligible_checkers(area: SmallArea, pool: list[StaffMember]) -> list[StaffMember]:
    assigned = set(SmallAreaAssignment.objects.filter(small_area=area).values_list("staff_id", flat=True))
    registrars = set(
        Household.objects.filter(small_area=area, registrar__isnull=False).values_list("registrar_id", flat=True)
    )
    return [staff for staff in pool if staff.pk not in assigned | registrars]


@transaction.atomic
def recheck_draw(
    *,
    actor: StaffMember,
    seed: int,
    areas_per_township: int = 1,
    household_rate: float = 0.1,
    self_report_rate: float = 0.2,
) -> RecheckDraw:
    if actor.role == Role.DISTRICT_OFFICE and actor.district_id:
        townships = Township.objects.filter(district_id=actor.district_id)
    elif actor.role == Role.TOWNSHIP_OFFICE and actor.township_id:
        townships = Township.objects.filter(code=actor.township_id)
    else:
        raise ApplicationError(_("Only the township or district office draws a re-check."), code="not_office")
    if not (0 < household_rate <= 1 and 0 < self_report_rate <= 1) or areas_per_township < 1:
        raise ValidationError(_("The rates are shares between 0 and 1, and at least one small area is drawn."))
    draw = RecheckDraw.objects.create(
        district_id=(actor.district_id or (actor.township_id or "")[:6]),
        township_id=(actor.township_id or "") if actor.role == Role.TOWNSHIP_OFFICE else "",
        seed=seed,
        areas_per_township=areas_per_township,
        household_rate=household_rate,
        self_report_rate=self_report_rate,
        drawn_by=actor,
    )
    for township in townships.order_by("code"):
        rng = random.Random(f"{seed}:{township.code}")
        areas = list(SmallArea.objects.filter(township=township).order_by("code"))
        pool = list(
            StaffMember.objects.filter(township=township, role__in=CHECKER_ROLES, is_active=True).order_by("pk")
        )
        for area in sorted(rng.sample(areas, min(areas_per_township, len(areas))), key=lambda a: a.code):
            households = list(
                Household.objects.filter(small_area=area).order_by("household_no").values_list("pk", "collection_mode")
            )
            drawn = [
                pk
                for pk, mode in households
                if rng.random() < (self_report_rate if mode == CollectionMode.SELF else household_rate)
            ]
            eligible = _eligible_checkers(area, pool)
            RecheckArea.objects.create(
                draw=draw, small_area=area, checker=rng.choice(eligible) if eligible else None, household_ids=drawn
            )
    return draw


def recheck_person_add(
    *,
    area: RecheckArea,
    actor: StaffMember,
    name: str,
    sex: int,
    birth_year: int,
    birth_month: int,
    id_number: str = "",
    household: Household | None = None,
) -> RecheckPerson:
    """A person on the re-check's own list, entered by the area's checker."""
    if area.checker_id != actor.pk:
        raise ApplicationError(_("Only the checker of this small area enters its re-check."), code="not_checker")
    person = RecheckPerson(
        area=area,
        small_area=area.small_area,
        household=household,
        name=name.strip(),
        sex=sex,
        birth_year=birth_year,
        birth_month=birth_month,
        id_number=id_number.strip().upper(),
        entered_by=actor,
    )
    person.full_clean()
    person.save()
    return person


def coverage_estimates(*, areas: QuerySet[RecheckArea]) -> dict[str, Estimate]:
    """The dual-system estimate per township ("" for the whole) from the census persons of the re-checked small
    areas (every form past the listing) and the re-check's list of them."""
    area_rows = list(areas.values_list("small_area_id", "small_area__code", "small_area__township_id"))
    area_ids = {row[0] for row in area_rows}
    stratum = {code: township for _id, code, township in area_rows}
    census = [
        PersonRecord(pk, code, id_number, name, sex or 0, year or 0, month or 0)
        for pk, code, id_number, name, sex, year, month in Person.objects.filter(household__small_area_id__in=area_ids)
        .exclude(household__state__in=("listed", "draft"))
        .values_list(
            "pk", "household__small_area__code", "d3_id_number", "d1_name", "d4_sex", "d5_birth_year", "d5_birth_month"
        )
        .iterator(chunk_size=5000)
    ]
    recheck = [
        PersonRecord(f"r{pk}", code, id_number, name, sex, year, month)
        for pk, code, id_number, name, sex, year, month in RecheckPerson.objects.filter(area__in=areas).values_list(
            "pk", "small_area__code", "id_number", "name", "sex", "birth_year", "birth_month"
        )
    ]
    return estimates_by_stratum(census, recheck, stratum)
