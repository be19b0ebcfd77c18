"""The sample re-check (质量抽查) for acceptance: a reproducible draw, the re-check interview (复查) and its error
rate, the acceptance gate's override, and the coverage estimate from its list.

The draw is made from a recorded seed, so that anyone can draw the same sample again: per township (in code
order), ``random.Random("<seed>:<township>")`` picks ``areas_per_township`` of its small areas (in code order) and,
in each, households (in 户编号 order) with the probability ``household_draw_rate`` gives for the form's collection
mode (``self_report_rate`` for self-reported forms, ``household_rate`` for the others, unless the draw's
``mode_rates`` names the mode). Each drawn small area gets a checker from the township's field staff who neither is
assigned to it nor registered any household in it (谁普查、谁负责: nobody re-checks their own work).

The checker re-interviews each drawn household on the key items without seeing the form (``recheck_household_save``
replaces that household's re-check list and marks it finished); ``supervision.completeness.comparison`` compares
and rates. The forms of a drawn small area are not accepted or locked until its re-check passes
(``enumeration.services.acceptance``), unless the district office overrides (``recheck_area_override``).
The coverage estimate and the stored scores are refreshed by Celery (``coverage_refresh``) on commit after each
change and every few minutes; the pages read them with the time they are as of.
"""

from __future__ import annotations

import dataclasses
import logging
import random
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from census.api import ApplicationError, ConflictError
from census.models import AuditAction, Role, SmallArea, SmallAreaAssignment, StaffMember, Township
from census.passwords import password_confirm
from census.services import audit_record
from enumeration.models import CollectionMode, Household, Person
from supervision.completeness import selectors
from supervision.completeness.coverage import Estimate, PersonRecord, estimates_by_stratum, match_persons
from supervision.completeness.models import (
    ClericalDecision,
    CoverageFigures,
    RecheckArea,
    RecheckDraw,
    RecheckHousehold,
    RecheckOverride,
    RecheckPerson,
)

logger = logging.getLogger(__name__)
MIN_OVERRIDE_REASON_LENGTH = 10


def household_draw_rate(draw: RecheckDraw, collection_mode: str) -> float:
    """The chance a household of this collection mode is drawn. The hook for self-enumeration: a draw may name a
    rate per mode in ``mode_rates``; otherwise self-reported forms (自主填报) get ``self_report_rate`` (the common
    practice re-checks more of them) and the others ``household_rate``."""
    named = (draw.mode_rates or {}).get(str(collection_mode))
    if named is not None:
        return float(named)
    return draw.self_report_rate if collection_mode == CollectionMode.SELF else draw.household_rate


def _enqueue_coverage(draw_id: int) -> None:
    def send() -> None:
        from supervision.completeness.tasks import coverage_refresh as task

        try:
            task.delay(draw_id)
        except Exception:
            # Redis unreachable: the change is saved all the same, and the beat run picks it up.
            logger.warning("could not schedule a coverage refresh", exc_info=True)

    transaction.on_commit(send)


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
    mode_rates: dict[str, float] | None = None,
) -> RecheckDraw:
    if actor.role == Role.DISTRICT_OFFICE and actor.district_id:
        townships = Township.objects.filter(district_id=actor.district_id)
    elif actor.role == Role.TOWNSHIP_OFFICE and actor.township_id:
        townships = Township.objects.filter(code=actor.township_id)
    else:
        raise ApplicationError(_("Only the township or district office draws a re-check."), code="not_office")
    rates = [household_rate, self_report_rate, *(mode_rates or {}).values()]
    if not all(0 < rate <= 1 for rate in rates) or areas_per_township < 1:
        raise ValidationError(_("The rates are shares between 0 and 1, and at least one small area is drawn."))
    draw = RecheckDraw.objects.create(
        district_id=(actor.district_id or (actor.township_id or "")[:6]),
        township_id=(actor.township_id or "") if actor.role == Role.TOWNSHIP_OFFICE else "",
        seed=seed,
        areas_per_township=areas_per_township,
        household_rate=household_rate,
        self_report_rate=self_report_rate,
        mode_rates={str(mode): float(rate) for mode, rate in (mode_rates or {}).items()},
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
            drawn = [pk for pk, mode in households if rng.random() < household_draw_rate(draw, mode)]
            eligible = _eligible_checkers(area, pool)
            RecheckArea.objects.create(
                draw=draw, small_area=area, checker=rng.choice(eligible) if eligible else None, household_ids=drawn
            )
    _enqueue_coverage(draw.pk)
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
    _enqueue_coverage(area.draw_id)
    return person


RECHECK_FIELDS = ("name", "id_number", "sex", "birth_year", "birth_month", "relationship", "residence", "hukou_place")


@transaction.atomic
def recheck_household_save(
    *, area: RecheckArea, household: Household, actor: StaffMember, persons: list[dict[str, Any]], note: str = ""
) -> RecheckHousehold:
    """The re-check interview of one drawn household: the persons the checker found living there, with their key
    items (``RECHECK_FIELDS``). Replaces what was entered for that household before and marks it re-checked; the
    area's stored score follows."""
    area = RecheckArea.objects.select_for_update().select_related("small_area").get(pk=area.pk)
    if area.checker_id != actor.pk:
        raise ApplicationError(_("Only the checker of this small area enters its re-check."), code="not_checker")
    if household.pk not in area.household_ids:
        raise ApplicationError(_("This household was not drawn for the re-check."), code="not_drawn")
    if not persons:
        raise ValidationError(_("List the persons living in the household (at least one)."))
    rows = []
    for index, answers in enumerate(persons, start=1):
        person = RecheckPerson(
            area=area,
            small_area=area.small_area,
            household=household,
            entered_by=actor,
            **{name: answers.get(name) for name in RECHECK_FIELDS if answers.get(name) not in (None, "")},
        )
        person.name = person.name.strip()
        person.id_number = person.id_number.strip().upper()
        try:
            person.full_clean(exclude=["area", "small_area", "household", "entered_by"])
        except ValidationError as exc:
            raise ValidationError(
                _("Person %(n)d: %(errors)s") % {"n": index, "errors": "; ".join(exc.messages)}
            ) from exc
        rows.append(person)
    RecheckPerson.objects.filter(area=area, household=household).delete()
    RecheckPerson.objects.bulk_create(rows)
    done, _created = RecheckHousehold.objects.update_or_create(
        area=area, household=household, defaults={"checker": actor, "note": note.strip()[:300]}
    )
    recheck_area_score(area=area)
    _enqueue_coverage(area.draw_id)
    return done


def recheck_area_score(*, area: RecheckArea) -> selectors.RecheckResult:
    """Store the area's re-check result as of now (the lists and dashboards read it; the gate scores afresh)."""
    (result,) = selectors.recheck_results([area])
    c = result.comparison
    RecheckArea.objects.filter(pk=area.pk).update(
        households_checked=c.households,
        persons_checked=c.persons_checked,
        persons_in_error=c.persons_in_error,
        items_checked=c.items_checked,
        items_in_error=c.items_in_error,
        births_in_error=c.births_in_error,
        scored_at=timezone.now(),
    )
    return result


@transaction.atomic
def recheck_area_override(*, area: RecheckArea, actor: StaffMember, reason: str, password: str) -> RecheckOverride:
    """Let the forms of a re-checked small area be accepted although its re-check does not pass: the district
    office only, with a written reason signed with its password. Covers the result as it is now."""
    area = RecheckArea.objects.select_for_update().select_related("small_area").get(pk=area.pk)
    if not (actor.role == Role.DISTRICT_OFFICE and actor.district_id == area.small_area.township_id[:6]):
        raise ApplicationError(_("Only the district office may override the checks."), code="not_district_office")
    reason = reason.strip()
    if len(reason) < MIN_OVERRIDE_REASON_LENGTH:
        raise ValidationError(
            {"reason": _("Write the reason in at least %(n)d characters.") % {"n": MIN_OVERRIDE_REASON_LENGTH}}
        )
    (result,) = selectors.recheck_results([area])
    if result.passed or RecheckOverride.objects.filter(area=area, key=result.key).exists():
        raise ConflictError(
            _("Nothing blocks this small area's forms: there is nothing to override."), code="not_blocked"
        )
    password_confirm(
        user=actor,
        password=password,
        purpose="recheck_override",
        refusal=_("The password is wrong; the checks were not overridden."),
    )
    override = RecheckOverride.objects.create(
        area=area, key=result.key, text=recheck_blocker_text(result)[:500], reason=reason[:2000], actor=actor
    )
    audit_record(
        actor=actor,
        action=AuditAction.RECORD_CHANGE,
        object_type="recheck_area",
        object_id=area.pk,
        detail={"recheck_override": override.pk, "key": result.key, "reason": reason[:200]},
    )
    return override


def recheck_blocker_text(result: selectors.RecheckResult) -> str:
    """What the re-check says about a small area that does not pass, for people."""
    c = result.comparison
    if result.verdict == "pending":
        return _(
            "Small area %(area)s is drawn for the re-check, and %(done)d of its %(drawn)d households are re-checked."
        ) % {
            "area": result.area.small_area.code,
            "done": c.households,
            "drawn": result.drawn,
        }
    return _(
        "The re-check of small area %(area)s does not pass: %(persons)d of %(checked)d persons missed or counted in "
        "error (%(person_rate).1f‰), %(items)d of %(compared)d items in error (%(item_rate).1f‰), %(births)d births "
        "missed or counted in error."
    ) % {
        "area": result.area.small_area.code,
        "persons": c.persons_in_error,
        "checked": c.persons_checked,
        "person_rate": 1000 * c.person_rate,
        "items": c.items_in_error,
        "compared": c.items_checked,
        "item_rate": 1000 * c.item_rate,
        "births": c.births_in_error,
    }


def _coverage_lists(
    areas: QuerySet[RecheckArea],
) -> tuple[list[PersonRecord], list[PersonRecord], dict[str, str], dict[int | str, int | str | None]]:
    """The census persons of the re-checked small areas (every form past the listing), the re-check's list of
    them, each small area's township, and the clerical decisions made."""
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
    decisions: dict[int | str, int | str | None] = {
        f"r{pk}": census_id
        for pk, census_id in ClericalDecision.objects.filter(recheck_person__area__in=areas).values_list(
            "recheck_person_id", "census_person_id"
        )
    }
    return census, recheck, stratum, decisions


def coverage_estimates(*, areas: QuerySet[RecheckArea]) -> dict[str, Estimate]:
    """The dual-system estimate per township ("" for the whole) from the census persons of the re-checked small
    areas and the re-check's list of them, with the clerical decisions applied."""
    census, recheck, stratum, decisions = _coverage_lists(areas)
    return estimates_by_stratum(census, recheck, stratum, decisions)


@dataclass
class ClericalCase:
    """A re-check person whose match is doubtful, with the census persons it might be."""

    person: RecheckPerson
    candidates: list[Person]


def clerical_queue(*, areas: QuerySet[RecheckArea]) -> list[ClericalCase]:
    """The doubtful pairs of the coverage matching not yet decided, per small area and re-check person."""
    census, recheck, stratum, decisions = _coverage_lists(areas)
    by_township: dict[str, tuple[list[PersonRecord], list[PersonRecord]]] = {}
    for record in census:
        by_township.setdefault(stratum[record.small_area], ([], []))[0].append(record)
    for record in recheck:
        by_township.setdefault(stratum[record.small_area], ([], []))[1].append(record)
    pending: list[tuple[int, list[int]]] = []
    for census_part, recheck_part in by_township.values():
        for key, candidates in match_persons(census_part, recheck_part, decisions).clerical:
            pending.append((int(str(key)[1:]), [int(c) for c in candidates]))
    persons = RecheckPerson.objects.select_related("small_area").in_bulk([pk for pk, _c in pending])
    census_persons = Person.objects.select_related("household").in_bulk([c for _pk, cs in pending for c in cs])
    cases = [
        ClericalCase(persons[pk], [census_persons[c] for c in candidates if c in census_persons])
        for pk, candidates in pending
        if pk in persons
    ]
    return sorted(cases, key=lambda case: (case.person.small_area.code, case.person.pk))


@transaction.atomic
def clerical_decide(
    *, person: RecheckPerson, actor: StaffMember, census_person_id: int | None, areas: QuerySet[RecheckArea]
) -> ClericalDecision:
    """Decide a doubtful pair: the re-check's person is one of its candidates, or nobody on the census. Only for a
    person in the queue of the areas the actor sees (an office), and only one of its candidates."""
    if actor.role not in (Role.TOWNSHIP_OFFICE, Role.DISTRICT_OFFICE):
        raise ApplicationError(
            _("Only the township or district office decides the clerical review."), code="not_office"
        )
    case = next((c for c in clerical_queue(areas=areas) if c.person.pk == person.pk), None)
    if case is None:
        raise ConflictError(_("This person is not in the clerical review queue."), code="not_pending")
    if census_person_id is not None and census_person_id not in {c.pk for c in case.candidates}:
        raise ValidationError({"census_person": _("Choose one of the candidates, or none of them.")})
    decision, _created = ClericalDecision.objects.update_or_create(
        recheck_person=person, defaults={"census_person_id": census_person_id, "decided_by": actor}
    )
    _enqueue_coverage(person.area.draw_id)
    return decision


def coverage_refresh(*, draw_id: int) -> int:
    """Recompute and keep a draw's coverage estimate (per township and "" for the whole) and its areas' re-check
    scores; returns how many estimate rows were written. Idempotent."""
    draw = RecheckDraw.objects.filter(pk=draw_id).first()
    if draw is None:
        return 0
    computed_at = timezone.now()
    areas = RecheckArea.objects.filter(draw=draw)
    estimates = coverage_estimates(areas=areas)
    with transaction.atomic():
        CoverageFigures.objects.filter(draw=draw).exclude(township_id__in=list(estimates)).delete()
        for township_id, estimate in estimates.items():
            CoverageFigures.objects.update_or_create(
                draw=draw,
                township_id=township_id,
                defaults={"estimate": dataclasses.asdict(estimate), "computed_at": computed_at},
            )
        for area in areas.select_related("small_area"):
            recheck_area_score(area=area)
    return len(estimates)


def coverage_refresh_latest() -> int:
    """Refresh the latest draw of each district (and of each township that drew its own)."""
    latest = (
        RecheckDraw.objects.order_by("district_id", "township_id", "-drawn_at", "-id")
        .distinct("district_id", "township_id")
        .values_list("pk", flat=True)
    )
    return sum(coverage_refresh(draw_id=pk) for pk in latest)


def coverage_figures(draw: RecheckDraw) -> tuple[dict[str, Estimate], Any]:
    """The kept estimates of a draw per township ("" for the whole) and the time they are as of (None: none yet)."""
    rows = list(CoverageFigures.objects.filter(draw=draw))
    return (
        {row.township_id: Estimate(**row.estimate) for row in rows},
        min((row.computed_at for row in rows), default=None),
    )
