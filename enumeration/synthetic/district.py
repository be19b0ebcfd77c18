"""Build a whole synthetic district: frame, staff, listing, forms, signatures, samples.

``build_district(persons=N, seed=S)`` is deterministic: the same seed on an empty database gives the same
district, row for row. The frame (thousands of rows) goes in through the ORM, the departments, staff and their
assignments through the staffing services (census.staffing: their bulk paths, audited); households, persons,
death records, signatures, confirmations and the households' trails of state changes (up to millions of rows)
through COPY (see ``loader``). Everything the ledger vouches for verifies: each confirmation carries a drawn
signature (a small PNG of its own) whose SHA-256 is signed, and each household's state, signatures and
registrar follow from its sealed trail, as the services would have left them.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import hashlib
import math
import multiprocessing
import os
import queue
import random
import signal
import struct
import time
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.dispatch import Signal
from django.utils import timezone

from census.models import (
    AuditAction,
    Building,
    District,
    Role,
    SmallArea,
    SmallAreaAssignment,
    StaffMember,
    SupervisorAssignment,
    Township,
    TownshipKind,
    UrbanRuralCode,
    Village,
    VillageKind,
)
from census.models.staff import FIELD_ROLES
from census.services import audit_record
from census.staffing.services import (
    StaffSpec,
    department_create,
    small_areas_assign_bulk,
    staff_bulk_create,
    supervisors_assign_bulk,
)
from enumeration import ledger
from enumeration.models import (
    SIGNED_STATES,
    DeathRecord,
    DwellingUnit,
    Household,
    HouseholdState,
    HouseholdTransition,
    LongFormSample,
    Person,
    RespondentConfirmation,
    ReviewComment,
    Signature,
)
from enumeration.sampling import systematic_sample
from enumeration.synthetic import names
from enumeration.synthetic.loader import BulkLoader, ChunkWriter, RowSink, next_ids, reset_sequences
from enumeration.synthetic.planting import ErrorPlanter
from enumeration.synthetic.population import (
    COLLECTIVE_HOUSEHOLD_SHARE,
    ETHNIC_WEIGHTS,
    FAMILY_SIZE_WEIGHTS,
    IdAllocator,
    PersonMaker,
    collective_members,
    family_members,
    weighted,
)

PERSONS_PER_SMALL_AREA = 210  # ≈ 80 households × 2.62
SMALL_AREAS_PER_VILLAGE = 8
VILLAGES_PER_TOWNSHIP = 30
ENUMERATORS_PER_SUPERVISOR = 4.5
CST = datetime.timezone(datetime.timedelta(hours=8))
LISTING_START = datetime.datetime(2020, 10, 11, 9, 0, tzinfo=CST)

# Sent inside build_district's transaction once every row is written, for parts that derive data from the
# district (the quality part generates the hukou roster): keyword arguments district_code, seed, planter (the
# ErrorPlanter or None) and say (the progress callback).
district_seeded = Signal()

DEMO_USERNAMES = {
    Role.ENUMERATOR: "enumerator",
    Role.SUPERVISOR: "supervisor",
    Role.TOWNSHIP_OFFICE: "township",
    Role.DISTRICT_OFFICE: "district",
    Role.DEPARTMENT: "department",
    Role.AUDITOR: "auditor",
}


# --- the plan of the frame -------------------------------------------------------------------------------


@dataclass
class SmallAreaPlan:
    code: str
    name: str
    persons: int
    id: int = 0
    enumerator_id: int = 0


@dataclass
class VillagePlan:
    code: str
    name: str
    kind: str
    urban_rural_code: int
    small_areas: list[SmallAreaPlan] = field(default_factory=list)

    @property
    def is_urban(self) -> bool:
        return self.urban_rural_code < 200


@dataclass
class TownshipPlan:
    code: str
    name: str
    kind: str
    villages: list[VillagePlan] = field(default_factory=list)
    progress: float = 0.9  # share of listed households already registered


def plan_district(*, persons: int, district_code: str, rng: random.Random) -> list[TownshipPlan]:
    n_small = max(1, round(persons / PERSONS_PER_SMALL_AREA))
    n_villages = max(1, math.ceil(n_small / SMALL_AREAS_PER_VILLAGE))
    n_townships = min(len(names.TOWN_STEMS), max(min(3, n_villages), math.ceil(n_villages / VILLAGES_PER_TOWNSHIP)))
    n_streets = max(1, round(n_townships * 0.2))
    n_xiang = 1 if n_townships >= 8 else 0
    stems = list(names.TOWN_STEMS)
    townships: list[TownshipPlan] = []
    for index in range(n_townships):
        kind: str
        if index < n_streets:
            kind, local, suffix = TownshipKind.STREET, 1 + index, "街道"
            name = names.STREET_STEMS[index % len(names.STREET_STEMS)] + suffix
        elif index >= n_townships - n_xiang:
            kind, local, suffix = TownshipKind.XIANG, 200 + (index - (n_townships - n_xiang)), "乡"
            name = stems[index] + suffix
        else:
            kind, local, suffix = TownshipKind.TOWN, 100 + (index - n_streets), "镇"
            name = stems[index] + suffix
        townships.append(
            TownshipPlan(code=f"{district_code}{local:03d}", name=name, kind=kind, progress=rng.uniform(0.82, 0.99))
        )
    # Villages, spread evenly; in a street they are residents' committees, in a town mostly villages.
    for index in range(n_villages):
        township = townships[index % n_townships]
        number = len(township.villages)
        urban: int
        if township.kind == TownshipKind.STREET or number == 0:
            local = 1 + sum(1 for v in township.villages if v.kind == VillageKind.RESIDENTS)
            kind = VillageKind.RESIDENTS
            urban = UrbanRuralCode.MAIN_URBAN if township.kind == TownshipKind.STREET else UrbanRuralCode.TOWN_CENTRE
            if township.kind == TownshipKind.XIANG:
                urban = UrbanRuralCode.XIANG_CENTRE
            name = rng.choice(names.VILLAGE_STEMS) + "社区"
        else:
            local = 200 + sum(1 for v in township.villages if v.kind == VillageKind.VILLAGERS)
            kind = VillageKind.VILLAGERS
            urban = UrbanRuralCode.VILLAGE
            name = rng.choice(names.VILLAGE_STEMS) + "村"
        township.villages.append(
            VillagePlan(code=f"{township.code}{local:03d}", name=name, kind=kind, urban_rural_code=urban)
        )
    # Small areas, spread evenly over the villages, each with its share of the persons.
    villages = [v for t in townships for v in t.villages]
    base, extra = divmod(persons, n_small)
    for index in range(n_small):
        village = villages[index % len(villages)]
        local = len(village.small_areas) + 1
        village.small_areas.append(
            SmallAreaPlan(
                code=f"{village.code}{local:03d}", name=f"第{local}普查小区", persons=base + (1 if index < extra else 0)
            )
        )
    return townships


# --- the frame through the ORM, the staff through the staffing services -----------------------------------


def _create_frame_and_staff(
    district_code: str, plan: list[TownshipPlan], rng: random.Random, password_hash: str, seed: int
) -> dict[str, Any]:
    # The demo district takes the installation's default name and former codes; another district seeded beside it
    # (a city's second district) keeps what it is given, or its code as its name.
    default = district_code == settings.CENSUS_DISTRICT_CODE
    District.objects.get_or_create(
        code=district_code,
        defaults={
            "name": settings.CENSUS_DISTRICT_NAME if default else district_code,
            "previous_codes": list(settings.CENSUS_DISTRICT_PREVIOUS_CODES) if default else [],
        },
    )
    Township.objects.bulk_create(
        [Township(code=t.code, district_id=district_code, name=t.name, kind=t.kind) for t in plan]
    )
    Village.objects.bulk_create(
        [
            Village(code=v.code, township_id=t.code, name=v.name, kind=v.kind, urban_rural_code=v.urban_rural_code)
            for t in plan
            for v in t.villages
        ]
    )
    areas = SmallArea.objects.bulk_create(
        [
            SmallArea(code=a.code, village_id=v.code, township_id=t.code, name=a.name)
            for t in plan
            for v in t.villages
            for a in v.small_areas
        ]
    )
    by_code = {area.code: area.id for area in areas}
    for t in plan:
        for v in t.villages:
            for a in v.small_areas:
                a.id = by_code[a.code]

    # Departments, staff and assignments through the staffing services, as an office would make them (their bulk
    # paths: a few statements for thousands of accounts), each in the audit log.
    departments = [
        department_create(district_id=district_code, code=code, name=name, actor=None)
        for code, name in names.DEPARTMENTS
    ]
    maker = PersonMaker(rng, IdAllocator(), district_code, [])
    # The particulars the names do not decide (ID number, phone, unit, training) come from a stream of their own,
    # so that the district's households are the same as before they were added.
    particulars = random.Random(seed * 7919 + 20)
    staff_ids = IdAllocator(stride=1, offset=250)
    phones: set[str] = set()

    def staff(username: str, role: str, township: str | None = None, department: int | None = None) -> StaffSpec:
        sex = rng.choice((1, 2))
        full = maker.surname() + maker.given(sex)
        spec = StaffSpec(
            username=username,
            role=role,
            district_id=district_code,
            township_id=township,
            department_id=department,
            full_name=full,
        )
        if role in FIELD_ROLES:
            born = datetime.date(
                particulars.randint(1962, 1998), particulars.randint(1, 12), particulars.randint(1, 28)
            )
            spec.id_number = staff_ids.allocate(district_code, born, sex)
            phone = ""
            while not phone or phone in phones:
                phone = f"1{particulars.choice('3578')}{particulars.randint(0, 999_999_999):09d}"
            phones.add(phone)
            spec.phone = phone
            spec.unit = particulars.choice(names.STAFF_UNITS)
            spec.selected_on = datetime.date(2020, 8, particulars.randint(1, 31))
            spec.trained_on = datetime.date(2020, 9, particulars.randint(10, 30))
            spec.exam_score = particulars.randint(70, 100)
        return spec

    specs: list[StaffSpec] = [
        staff(DEMO_USERNAMES[Role.DISTRICT_OFFICE], Role.DISTRICT_OFFICE),
        staff("district2", Role.DISTRICT_OFFICE),
        staff(DEMO_USERNAMES[Role.AUDITOR], Role.AUDITOR),
    ]
    demo_department = next(d for d in departments if d.code == "jkj")
    specs.append(staff(DEMO_USERNAMES[Role.DEPARTMENT], Role.DEPARTMENT, department=demo_department.id))
    specs += [staff(f"dept-{d.code}", Role.DEPARTMENT, department=d.id) for d in departments if d.code != "jkj"]
    enumerator_specs: list[tuple[SmallAreaPlan, StaffSpec]] = []
    supervisor_specs: list[tuple[StaffSpec, list[StaffSpec]]] = []
    for t_index, t in enumerate(plan):
        office = DEMO_USERNAMES[Role.TOWNSHIP_OFFICE] if t_index == 0 else f"t{t.code}"
        specs.append(staff(office, Role.TOWNSHIP_OFFICE, township=t.code))
        township_enumerators = []
        for v in t.villages:
            for a in v.small_areas:
                first = t_index == 0 and not enumerator_specs
                spec = staff(
                    DEMO_USERNAMES[Role.ENUMERATOR] if first else f"e{a.code}", Role.ENUMERATOR, township=t.code
                )
                specs.append(spec)
                enumerator_specs.append((a, spec))
                township_enumerators.append(spec)
        groups = max(1, round(len(township_enumerators) / ENUMERATORS_PER_SUPERVISOR))
        for g in range(groups):
            group = township_enumerators[g::groups]
            first = t_index == 0 and g == 0
            supervisor = staff(
                DEMO_USERNAMES[Role.SUPERVISOR] if first else f"s{t.code}{g + 1:03d}", Role.SUPERVISOR, township=t.code
            )
            specs.append(supervisor)
            supervisor_specs.append((supervisor, group))
    created = staff_bulk_create(specs=specs, actor=None, password_hash=password_hash)
    member_of = {spec.username: member for spec, member in zip(specs, created, strict=True)}
    area_of = {area.id: area for area in areas}
    small_areas_assign_bulk(
        assignments=[(member_of[spec.username], area_of[a.id]) for a, spec in enumerator_specs], actor=None
    )
    enumerators = [(a, member_of[spec.username]) for a, spec in enumerator_specs]
    for area, member in enumerators:
        area.enumerator_id = member.pk
    supervisors = [("", member_of[s.username], [member_of[e.username] for e in group]) for s, group in supervisor_specs]
    supervisors_assign_bulk(pairs=[(s, e) for _, s, group in supervisors for e in group], actor=None)
    members = created
    supervisor_of = {e.pk: s.pk for _, s, group in supervisors for e in group}
    office_of = {m.township_id: m.pk for m in members if m.role == Role.TOWNSHIP_OFFICE}
    district_user = members[0]
    return {
        "supervisor_of": supervisor_of,
        "office_of": office_of,
        "district_user_id": district_user.pk,
        "staff_count": len(members),
    }


# --- households -----------------------------------------------------------------------------------------


@dataclass
class Ids:
    building: int
    unit: int
    household: int
    person: int
    death: int
    signature: int
    confirmation: int
    comment: int
    sample: int
    transition: int

    def take(self, name: str) -> int:
        value = getattr(self, name)
        setattr(self, name, value + 1)
        return int(value)


@dataclass
class GeneratedHousehold:
    row: dict[str, Any]
    persons: list[dict[str, Any]]
    deaths: list[dict[str, Any]]


class HouseholdFactory:
    """Makes the households of one small area: listing, short form, state and times."""

    def __init__(self, rng: random.Random, maker: PersonMaker, ids: Ids, district_code: str) -> None:
        self.rng = rng
        self.maker = maker
        self.ids = ids
        self.district_code = district_code

    def ethnicity(self) -> str:
        return str(weighted(self.rng, ETHNIC_WEIGHTS))

    def small_area(
        self, loader: RowSink, township: TownshipPlan, village: VillagePlan, area: SmallAreaPlan
    ) -> list[GeneratedHousehold]:
        rng = self.rng
        households: list[GeneratedHousehold] = []
        made = 0
        number = 0
        units: list[tuple[int, int]] = []  # (building id, unit id) free for households
        building_no = 0

        def new_unit() -> tuple[int, int]:
            nonlocal building_no
            if not units:
                building_no += 1
                building_id = self.ids.take("building")
                loader.add(
                    Building,
                    {
                        "id": building_id,
                        "small_area_id": area.id,
                        "number": f"{building_no:03d}",
                        "address": f"{village.name}{building_no}号",
                        "is_residential": True,
                    },
                )
                per_building = rng.randint(12, 36) if village.is_urban else rng.randint(1, 2)
                for unit_no in range(1, per_building + 1):
                    unit_id = self.ids.take("unit")
                    loader.add(DwellingUnit, {"id": unit_id, "building_id": building_id, "number": f"{unit_no:03d}"})
                    units.append((building_id, unit_id))
                units.reverse()
            return units.pop()

        all_dead_done = False
        while made < area.persons and number < 900:
            number += 1
            building_id, unit_id = new_unit()
            if not all_dead_done and rng.random() < 1 / 1500:
                all_dead_done = True
                households.append(self._all_dead(township, village, area, building_id, unit_id))
                number -= 1  # 999 does not use a running number
                continue
            generated = self._household(township, village, area, number, building_id, unit_id)
            households.append(generated)
            made += len(generated.persons)
        self._assign_states(township, area, households)
        return households

    def _base_row(
        self,
        village: VillagePlan,
        area: SmallAreaPlan,
        township: TownshipPlan,
        number: int,
        building_id: int,
        unit_id: int,
    ) -> dict[str, Any]:
        listed_at = LISTING_START + datetime.timedelta(days=self.rng.randint(0, 19), minutes=self.rng.randint(0, 600))
        return {
            "id": self.ids.take("household"),
            "small_area_id": area.id,
            "village_id": village.code,
            "township_id": township.code,
            "building_id": building_id,
            "dwelling_unit_id": unit_id,
            "household_no": number,
            "form_kind": "census",
            "listed_by_id": area.enumerator_id,
            "listed_at": listed_at,
            "aware_of_census": self.rng.random() < 0.97,
            "created_at": listed_at,
            "updated_at": listed_at,
            "state": HouseholdState.LISTED,
            "collection_mode": "self" if self.rng.random() < 0.12 else "in_person",
            "warning_notes": {},
            "version": 1,
            "in_long_form_sample": False,
        }

    def _all_dead(
        self, township: TownshipPlan, village: VillagePlan, area: SmallAreaPlan, building_id: int, unit_id: int
    ) -> GeneratedHousehold:
        row = self._base_row(village, area, township, 999, building_id, unit_id)
        deaths = [self._death(row, 1, age=self.rng.randint(70, 95))]
        row.update(
            {
                "head_name_listed": deaths[0]["name"],
                "expected_persons": 0,
                "h4_deaths_male": sum(1 for d in deaths if d["sex"] == 1),
                "h4_deaths_female": sum(1 for d in deaths if d["sex"] == 2),
            }
        )
        return GeneratedHousehold(row, [], deaths)

    def _household(
        self,
        township: TownshipPlan,
        village: VillagePlan,
        area: SmallAreaPlan,
        number: int,
        building_id: int,
        unit_id: int,
    ) -> GeneratedHousehold:
        rng = self.rng
        row = self._base_row(village, area, township, number, building_id, unit_id)
        collective = rng.random() < COLLECTIVE_HOUSEHOLD_SHARE
        foreign = not collective and village.is_urban and rng.random() < 0.001
        persons: list[dict[str, Any]] = []
        if foreign:
            row["form_kind"] = "foreign"
            identity = weighted(rng, {1: 26, 2: 4, 3: 11, 4: 59})
            surname = self.maker.surname()
            for index, (relationship, age, sex) in enumerate(family_members(rng, rng.choice((1, 1, 2)))):
                year, month = self.maker.birth(age)
                persons.append(
                    {
                        "d1_name": surname + self.maker.given(sex) if identity != 4 else f"JOHN{index}",
                        "d2_relationship": relationship,
                        "d4_sex": sex,
                        "d5_birth_year": year,
                        "d5_birth_month": month,
                        "d7_residence": 1,
                        "f_identity": identity,
                        "f_nationality": rng.choice(names.FOREIGN_NATIONALITIES) if identity == 4 else "",
                        "f_stay": weighted(rng, {1: 3, 2: 4, 3: 12, 4: 17, 5: 22, 6: 42}),
                        "f_purpose": weighted(rng, {1: 5, 2: 31, 3: 15, 4: 29, 5: 5, 6: 15}),
                        "f_employed": 1 if age >= 18 and rng.random() < 0.6 else 2,
                        "_age": age,
                    }
                )
            row["h1_kind"] = 1
            row["h5_residence_type"] = 1
        elif collective:
            for no_relationship, age, sex in collective_members(rng):
                persons.append(
                    self.maker.person(
                        relationship=no_relationship,
                        age=age,
                        sex=sex,
                        surname=self.maker.surname(),
                        ethnicity=self.ethnicity(),
                        present=True,
                        township_is_urban=village.is_urban,
                    )
                )
            row["h1_kind"] = 2
            row["h5_residence_type"] = 2 if rng.random() < 0.85 else 3
        else:
            size = int(weighted(rng, FAMILY_SIZE_WEIGHTS))
            members = family_members(rng, size)
            surname = self.maker.surname()
            ethnicity = self.ethnicity()
            head_hukou: dict[str, Any] | None = None
            for relationship, age, sex in members:
                own_surname = (
                    surname
                    if relationship in (0, 2, 7, 8) or (relationship == 3 and sex == 1)
                    else self.maker.surname()
                )
                own_ethnicity = ethnicity if relationship != 1 or rng.random() < 0.9 else self.ethnicity()
                person = self.maker.person(
                    relationship=relationship,
                    age=age,
                    sex=sex,
                    surname=own_surname,
                    ethnicity=own_ethnicity,
                    present=True,
                    township_is_urban=village.is_urban,
                    hukou_like=head_hukou if relationship in (1, 2, 7) else None,
                )
                if relationship == 0:
                    head_hukou = {k: v for k, v in person.items() if k.startswith(("d7_", "d8_", "d9_", "d10_"))}
                persons.append(person)
            # Some family members live elsewhere but have their hukou here (H2b).
            head_age = members[0][1]
            if head_age >= 42 and rng.random() < 0.10:
                for _ in range(rng.randint(1, 2)):
                    age = rng.randint(18, head_age - 22)
                    persons.append(
                        self.maker.person(
                            relationship=2,
                            age=age,
                            sex=rng.choice((1, 2)),
                            surname=surname,
                            ethnicity=ethnicity,
                            present=False,
                            township_is_urban=village.is_urban,
                        )
                    )
            row["h1_kind"] = 1
            row["h5_residence_type"] = weighted(rng, {1: 97, 4: 2.5, 5: 0.5})
        for index, person in enumerate(persons, start=1):
            person["row_no"] = index
        present = sum(1 for p in persons if p.get("d7_residence", 1) == 1)
        row["h2_present"] = present
        row["h2_away"] = len(persons) - present
        infants = [p for p in persons if p["_age"] == 0]
        row["h3_births_male"] = sum(1 for p in infants if p["d4_sex"] == 1)
        row["h3_births_female"] = sum(1 for p in infants if p["d4_sex"] == 2)
        deaths: list[dict[str, Any]] = []
        if rng.random() < 0.007 * len(persons):
            deaths.append(self._death(row, 1, age=int(min(99, max(0, rng.gauss(76, 12))))))
        row["h4_deaths_male"] = sum(1 for d in deaths if d["sex"] == 1)
        row["h4_deaths_female"] = sum(1 for d in deaths if d["sex"] == 2)
        if row["h5_residence_type"] == 1:
            per_person = rng.gauss(36, 9) if village.is_urban else rng.gauss(47, 12)
            area_m2 = int(max(12, min(180, per_person)) * max(1, present or 1))
            row["h6_floor_area"] = max(10, area_m2)
            row["h7_rooms"] = int(max(1, min(12, round(row["h6_floor_area"] / rng.uniform(18, 30)))))
        head = persons[0]
        row["head_name_listed"] = head["d1_name"]
        row["expected_persons"] = len(persons)
        return GeneratedHousehold(row, persons, deaths)

    def _death(self, household: dict[str, Any], row_no: int, *, age: int) -> dict[str, Any]:
        rng = self.rng
        sex = rng.choice((1, 2))
        death_year, death_month = rng.choice([(2019, 11), (2019, 12)] + [(2020, m) for m in range(1, 11)])
        birth_month = rng.randint(1, 12)
        birth_year = death_year - age - (1 if birth_month > death_month else 0)
        return {
            "id": self.ids.take("death"),
            "household_id": household["id"],
            "small_area_id": household["small_area_id"],
            "village_id": household["village_id"],
            "township_id": household["township_id"],
            "row_no": row_no,
            "name": self.maker.surname() + self.maker.given(sex),
            "sex": sex,
            "birth_year": birth_year,
            "birth_month": birth_month,
            "death_year": death_year,
            "death_month": death_month,
            "ethnicity": "01",
            "education": 3 if age >= 6 else None,
            "marital": 4 if age >= 15 else None,
        }

    def _assign_states(self, township: TownshipPlan, area: SmallAreaPlan, households: list[GeneratedHousehold]) -> None:
        """Registration progress and the enumerator's timeline: a few households an hour, in the daytime."""
        rng = self.rng
        moment = datetime.datetime(2020, 11, 1, 8, 30, tzinfo=CST) + datetime.timedelta(minutes=rng.randint(0, 90))
        progress = min(1.0, max(0.0, rng.gauss(township.progress, 0.05)))
        for generated in households:
            row = generated.row
            if rng.random() > progress:
                continue  # still only listed
            moment += datetime.timedelta(minutes=rng.randint(20, 75))
            if moment.hour >= 20:
                moment = (moment + datetime.timedelta(days=1)).replace(hour=8, minute=rng.randint(0, 59))
            started = moment - datetime.timedelta(minutes=rng.randint(12, 30))
            row["registrar_id"] = area.enumerator_id
            row["started_at"] = started
            row["updated_at"] = moment
            state = weighted(
                rng,
                {
                    HouseholdState.DRAFT: 4,
                    HouseholdState.SIGNED: 22,
                    HouseholdState.RETURNED: 2,
                    HouseholdState.APPROVED: 27,
                    HouseholdState.ACCEPTED: 45,
                },
            )
            row["state"] = state
            if state != HouseholdState.DRAFT:
                row["signed_at"] = moment


# --- long form ------------------------------------------------------------------------------------------


def fill_long_form(rng: random.Random, generated: GeneratedHousehold, *, urban: bool) -> None:
    row = generated.row
    row["in_long_form_sample"] = True
    housing = row.get("h5_residence_type") == 1
    if housing:
        storeys = weighted(rng, {1: 10, 2: 55, 3: 35}) if urban else weighted(rng, {1: 45, 2: 55})
        tenure = (
            weighted(rng, {1: 3, 2: 14, 3: 30, 4: 8, 5: 3, 6: 4, 7: 33, 8: 4, 9: 1})
            if urban
            else weighted(rng, {2: 4, 3: 8, 4: 3, 7: 80, 8: 5})
        )
        row.update(
            {
                "h8_storeys": storeys,
                "h9_structure": weighted(rng, {1: 50, 2: 30, 3: 15, 4: 3, 5: 2}),
                "h10_year_built": weighted(rng, {3: 2, 4: 5, 5: 12, 6: 18, 7: 28, 8: 18, 9: 17}),
                "h11_lift": 1 if storeys >= 3 else 2,
                "h12_cooking_fuel": weighted(rng, {1: 55, 2: 30, 4: 12, 5: 3}),
                "h13_piped_water": 1 if rng.random() < 0.93 else 2,
                "h14_kitchen": weighted(rng, {1: 94, 2: 3, 3: 3}),
                "h15_toilet": weighted(rng, {1: 75, 2: 5, 3: 10, 4: 8, 5: 2}),
                "h16_bathing": weighted(rng, {1: 5, 2: 80, 3: 8, 4: 7}),
                "h17_tenure": tenure,
                "h18_rent": weighted(rng, {1: 20, 2: 45, 3: 25, 4: 10}) if tenure in (1, 2) else None,
                "h19_car_value": weighted(rng, {1: 55, 2: 20, 3: 15, 4: 6, 5: 3, 6: 1}),
            }
        )
    persons = generated.persons
    infants = sum(1 for p in persons if p["_age"] == 0)
    child_count = {1: 0, 2: 0}
    for p in persons:
        if p.get("d2_relationship") == 2:
            child_count[p["d4_sex"]] += 1
    for p in persons:
        if p.get("f_identity"):
            continue
        age = p["_age"]
        sex = p["d4_sex"]
        away = p.get("d9_away_duration") not in (None, 1)
        if away and p.get("d8_hukou_place") != 5:
            p["c11_hukou_type"] = weighted(rng, {1: 20, 2: 45, 3: 15, 4: 20})
        p["c12_land_right"] = 2 if urban else (1 if rng.random() < 0.8 else 2)
        p["c13_birthplace"] = 1 if p.get("d8_hukou_place") in (1, 2, 3) else weighted(rng, {2: 60, 3: 40})
        if p["c13_birthplace"] == 3:
            p["c13_birth_province"] = rng.choice([c[:2] for c in names.OTHER_COUNTIES if not c.startswith("51")])
        if age >= 5:
            p["c14_residence_5y"] = 1 if rng.random() < 0.9 else 2
        education = p.get("d11_education")
        if education is not None and education >= 3:
            in_school = age <= 22 and (
                (education == 3 and age <= 12)
                or (education == 4 and age <= 15)
                or (education == 5 and age <= 18)
                or (education in (6, 7) and age <= 22)
            )
            p["c16_school_status"] = 1 if in_school else 2
        if age >= 16:
            works = rng.random() < (0.72 if age < 60 else 0.22 if age < 70 else 0.05)
            if p.get("c16_school_status") == 1:
                works = False
            if works:
                industry, occupation = rng.choice(names.INDUSTRIES)
                p.update(
                    {
                        "c18_work": 1,
                        "c18_hours": rng.randint(30, 60),
                        "c19_unit_type": weighted(rng, {1: 45, 2: 15, 3: 30, 4: 10}),
                        "c20_industry": industry,
                        "c21_occupation": occupation,
                        "c23_livelihood": 1,
                    }
                )
            else:
                if p.get("c16_school_status") == 1:
                    reason = 1
                elif age >= 55:
                    reason = 2
                else:
                    reason = weighted(rng, {3: 60, 4: 15, 5: 25})
                p.update({"c18_work": 3, "c22_not_working_reason": reason, "c23_livelihood": 2 if reason == 2 else 6})
        else:
            p["c23_livelihood"] = 6
        if age >= 15:
            relationship = p.get("d2_relationship")
            if relationship in (0, 1, 3, 4, 6) and age >= 20:
                marital = 2 if relationship in (1, 6) or rng.random() < 0.85 else 4 if age >= 60 else 3
            elif age >= 30:
                marital = weighted(rng, {1: 15, 2: 70, 3: 7, 4: 8})
            else:
                marital = 1 if rng.random() < 0.8 else 2
            if marital != 1 and age < 20:
                marital = 1
            p["c24_marital"] = marital
            if marital != 1:
                first_age = rng.randint(20, min(30, age))
                year = p["d5_birth_year"] + first_age
                p["c25_first_marriage_year"] = min(year, 2020)
                p["c25_first_marriage_month"] = rng.randint(1, 10 if year >= 2020 else 12)
        if sex == 2 and 15 <= age <= 64:
            is_mother = p.get("d2_relationship") in (0, 1) and (child_count[1] + child_count[2]) > 0
            born_m = (
                child_count[1]
                if is_mother
                else (rng.randint(0, 2) if age >= 25 and p.get("c24_marital", 1) != 1 else 0)
            )
            born_f = (
                child_count[2]
                if is_mother
                else (rng.randint(0, 1) if age >= 25 and p.get("c24_marital", 1) != 1 else 0)
            )
            p.update(
                {
                    "c26_born_male": born_m,
                    "c26_born_female": born_f,
                    "c26_alive_male": born_m,
                    "c26_alive_female": born_f,
                }
            )
            if age <= 50:
                p["c27_birth_last_year"] = 2 if (is_mother and infants) else 1
        if age >= 60:
            p["c28_living_arrangement"] = weighted(rng, {1: 30, 2: 35, 3: 15, 5: 15, 7: 5}) if len(persons) > 1 else 5
            p["c29_health"] = weighted(rng, {1: 55, 2: 30, 3: 12, 4: 3})


# --- ledger ---------------------------------------------------------------------------------------------


def content_of(
    small_area_code: str, generated: GeneratedHousehold, respondent: dict[str, Any] | None
) -> dict[str, Any]:
    return ledger.canonical_content(
        small_area_code=small_area_code,
        household=generated.row,
        persons=generated.persons,
        deaths=generated.deaths,
        respondent=respondent,
    )


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


# A 40×20 grey PNG with one stroke, as signature_pad draws it; each household's copy carries its id in a text
# chunk, so that no two respondents' signatures have the same bytes (a swapped image must be a different one).
_SIGNATURE_WIDTH, _SIGNATURE_HEIGHT = 40, 20
_SIGNATURE_HEAD = b"\x89PNG\r\n\x1a\n" + _png_chunk(
    b"IHDR", struct.pack(">IIBBBBB", _SIGNATURE_WIDTH, _SIGNATURE_HEIGHT, 8, 0, 0, 0, 0)
)
_SIGNATURE_TAIL = _png_chunk(
    b"IDAT",
    zlib.compress(
        b"".join(
            b"\x00" + bytes(255 if abs(2 * y - x // 2 - 8) < 2 else 0 for x in range(_SIGNATURE_WIDTH))
            for y in range(_SIGNATURE_HEIGHT)
        )
    ),
) + _png_chunk(b"IEND", b"")


def synthetic_signature(household_id: int) -> tuple[str, str]:
    """The respondent's drawn signature of a generated household: its data URL and the SHA-256 of its bytes."""
    png = _SIGNATURE_HEAD + _png_chunk(b"tEXt", b"Comment\x00synthetic %d" % household_id) + _SIGNATURE_TAIL
    return ledger.SIGNATURE_IMAGE_PREFIX + base64.b64encode(png).decode(), hashlib.sha256(png).hexdigest()


RETURN_REASON = ("H6", "请核实住房建筑面积。")


Step = tuple[str, str, int, datetime.datetime, str]


def trail_of(row: dict[str, Any], *, signer_id: int | None, reviewer_id: int, office_id: int) -> list[Step]:
    """The state changes the services would have recorded for a generated household, as (from, to, actor,
    time, reason): started by its registrar, signed, then returned or approved by the registrar's supervisor and
    accepted by the township office. Times come from the household (the approval a few hours after signing, the
    acceptance a day later), not from the random stream, which stays what it was."""
    state = row["state"]
    if state == HouseholdState.LISTED:
        return []
    steps: list[Step] = [(HouseholdState.LISTED, HouseholdState.DRAFT, row["registrar_id"], row["started_at"], "")]
    if state == HouseholdState.DRAFT:
        return steps
    signed_at = row["signed_at"]
    steps.append((HouseholdState.DRAFT, HouseholdState.SIGNED, signer_id or row["registrar_id"], signed_at, ""))
    if state == HouseholdState.RETURNED:
        item, text = RETURN_REASON
        steps.append(
            (
                HouseholdState.SIGNED,
                HouseholdState.RETURNED,
                reviewer_id,
                signed_at + datetime.timedelta(hours=3),
                f"{item}: {text}",
            )
        )
    if state in (HouseholdState.APPROVED, HouseholdState.ACCEPTED):
        approved_at = signed_at + datetime.timedelta(hours=2 + row["id"] % 20)
        steps.append((HouseholdState.SIGNED, HouseholdState.APPROVED, reviewer_id, approved_at, ""))
        if state == HouseholdState.ACCEPTED:
            accepted_at = approved_at + datetime.timedelta(days=1, hours=row["id"] % 8)
            steps.append((HouseholdState.APPROVED, HouseholdState.ACCEPTED, office_id, accepted_at, ""))
    return steps


def _emit_trail(loader: RowSink, ids: Ids, household_id: int, steps: list[Step], key: bytes) -> None:
    prev = ledger.TRAIL_START
    for from_state, to_state, actor_id, at, reason in steps:
        prev = ledger.message_hmac(
            ledger.transition_message(
                household_id=household_id,
                from_state=from_state,
                to_state=to_state,
                actor_id=actor_id,
                at=at,
                prev_hmac=prev,
                reason=reason,
            ),
            key,
        )
        loader.add(
            HouseholdTransition,
            {
                "id": ids.take("transition"),
                "household_id": household_id,
                "from_state": str(from_state),
                "to_state": str(to_state),
                "actor_id": actor_id,
                "reason": reason,
                "at": at,
                "hmac": prev,
            },
        )


# --- entry point ----------------------------------------------------------------------------------------


@dataclass
class BuildReport:
    persons: int
    households: int
    small_areas: int
    villages: int
    townships: int
    staff: int
    signatures: int
    seconds: float
    manifest: dict[str, list[str]] = field(default_factory=dict)
    unplanted: list[str] = field(default_factory=list)


Planter = Callable[[random.Random, GeneratedHousehold, str], list[str]]


# Townships are generated apart — each from a random stream of its own and in ranges of ids of its own — so
# that they can be generated in parallel processes and still give the same district, row for row, whatever
# the number of processes.
ID_BLOCK = 10_000_000  # ids per township and table (a township has tens of thousands of persons)
PARALLEL_FROM_PERSONS = 100_000  # below this, starting processes costs more than it saves


@dataclass
class _Generation:
    """What every township's generation reads (a child process gets a copy when it is forked)."""

    plan: list[TownshipPlan]
    district_code: str
    seed: int
    staff: dict[str, Any]
    first_ids: Ids
    previous_codes: list[str]
    # The district's ledger key, read by the parent (a forked child never touches the database).
    ledger_key: bytes = b""


def _generate_township(
    generation: _Generation, index: int, loader: RowSink, planter: ErrorPlanter | None
) -> dict[str, int]:
    township = generation.plan[index]
    rng = random.Random(f"{generation.seed}:{township.code}")
    ids = Ids(**{name: value + index * ID_BLOCK for name, value in asdict(generation.first_ids).items()})
    allocator = IdAllocator(stride=len(generation.plan), offset=index)
    maker = PersonMaker(rng, allocator, generation.district_code, generation.previous_codes)
    factory = HouseholdFactory(rng, maker, ids, generation.district_code)
    totals = {"persons": 0, "households": 0, "signatures": 0}
    staff = generation.staff
    for village in township.villages:
        by_area = [(area, factory.small_area(loader, township, village, area)) for area in village.small_areas]
        _sample_village(rng, loader, ids, village, by_area, staff["district_user_id"], generation.seed)
        if planter is not None:
            planter.plant_village(village, by_area)
        for area, households in by_area:
            totals["signatures"] += _emit_small_area(
                rng,
                loader,
                ids,
                area,
                households,
                staff["supervisor_of"],
                staff["office_of"][township.code],
                planter,
                key=generation.ledger_key,
            )
            totals["households"] += len(households)
            totals["persons"] += sum(len(h.persons) for h in households)
    for name, value in asdict(ids).items():
        if value > getattr(generation.first_ids, name) + (index + 1) * ID_BLOCK:
            raise RuntimeError(f"township {township.code} used more than {ID_BLOCK} {name} ids")
    return totals


def _generate_in_child(generation: _Generation, indices: list[int], models_: list[type[Any]], out: Any) -> None:
    """A forked process: make the townships ``indices`` and send their rows as COPY chunks. It never touches
    the connections it inherited (the parent's transaction is on the database one)."""
    try:
        writer = ChunkWriter(models_, lambda chunk: out.put(("chunk", chunk)))
        for index in indices:
            totals = _generate_township(generation, index, writer, None)
            writer.flush_all()
            out.put(("township", index, totals))
        out.put(("done",))
    except BaseException:
        import traceback

        out.put(("error", traceback.format_exc()))


def _fork_generator(generation: _Generation, indices: list[int], models_: list[type[Any]], out: Any) -> int:
    """Start a child with a bare ``os.fork()`` and return its pid.

    Not ``multiprocessing.Process``: its children run the after-fork hooks libraries register (Celery closes
    its broker connections there), which would talk over sockets the parent still uses. The child leaves with
    ``os._exit`` once its queue is flushed, so no exit handler or finaliser of the parent runs in it either."""
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:  # pragma: no cover - the forked child
        _generate_in_child(generation, indices, models_, out)
        out.close()
        out.join_thread()
        code = 0
    finally:
        os._exit(code)


def _generate_in_processes(
    generation: _Generation,
    loader: BulkLoader,
    models_: list[type[Any]],
    workers: int,
    totals: dict[str, int],
    say: Callable[[str], None],
) -> None:
    out = multiprocessing.get_context("fork").Queue(maxsize=4 * workers)
    count = len(generation.plan)
    pids = [_fork_generator(generation, list(range(worker, count, workers)), models_, out) for worker in range(workers)]
    try:
        running, finished = workers, 0
        while running:
            try:
                message = out.get(timeout=600)
            except queue.Empty:
                raise RuntimeError("a process generating the district stopped answering") from None
            if message[0] == "chunk":
                loader.put_chunk(message[1])
            elif message[0] == "township":
                index, made = message[1], message[2]
                for key in totals:
                    totals[key] += made[key]
                finished += 1
                say(f"township {finished}/{count} {generation.plan[index].name}: {totals['persons']} persons so far")
            elif message[0] == "done":
                running -= 1
            else:
                raise RuntimeError(f"generating the district failed:\n{message[1]}")
    finally:
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)  # gone already when it finished
            os.waitpid(pid, 0)


def build_district(
    *,
    persons: int,
    seed: int = 2020,
    district_code: str | None = None,
    password: str | None = None,
    plant_errors: bool = False,
    progress: Callable[[str], None] | None = None,
    workers: int | None = None,
) -> BuildReport:
    """Create the whole district in one transaction (nothing stays if anything fails).

    Without error planting, a district of ``PARALLEL_FROM_PERSONS`` or more is generated by ``workers``
    processes (default: one per CPU, at most 4) while this one copies their rows into PostgreSQL; the district
    is the same either way. Planting needs every household in one process, so it generates here."""
    started = time.monotonic()
    district_code = district_code or settings.CENSUS_DISTRICT_CODE
    rng = random.Random(seed)
    say = progress or (lambda message: None)
    plan = plan_district(persons=persons, district_code=district_code, rng=rng)
    password_hash = make_password(password or settings.CENSUS_DEMO_PASSWORD, salt=f"census-demo-{seed:08d}")
    totals = {"persons": 0, "households": 0, "signatures": 0}
    planter = ErrorPlanter(random.Random(seed + 7)) if plant_errors else None
    if workers is None:
        workers = min(4, os.cpu_count() or 1) if persons >= PARALLEL_FROM_PERSONS else 1
    if planter is not None:
        workers = 1
    with transaction.atomic():
        staff = _create_frame_and_staff(district_code, plan, rng, password_hash, seed)
        say(
            f"frame: {len(plan)} townships, {sum(len(t.villages) for t in plan)} villages, {staff['staff_count']} staff"
        )
        generation = _Generation(
            plan=plan,
            district_code=district_code,
            seed=seed,
            staff=staff,
            first_ids=Ids(
                building=next_ids(Building),
                unit=next_ids(DwellingUnit),
                household=next_ids(Household),
                person=next_ids(Person),
                death=next_ids(DeathRecord),
                signature=next_ids(Signature),
                confirmation=next_ids(RespondentConfirmation),
                comment=next_ids(ReviewComment),
                sample=next_ids(LongFormSample),
                transition=next_ids(HouseholdTransition),
            ),
            previous_codes=list(District.objects.get(code=district_code).previous_codes),
            ledger_key=ledger.district_key(district_code),
        )
        loaded: list[type[Any]] = [
            Building,
            DwellingUnit,
            Household,
            Person,
            DeathRecord,
            Signature,
            RespondentConfirmation,
            ReviewComment,
            LongFormSample,
            HouseholdTransition,
        ]
        with BulkLoader(loaded) as loader:
            if workers > 1:
                say(f"generating in {workers} processes")
                _generate_in_processes(generation, loader, loaded, workers, totals, say)
            else:
                for t_index, township in enumerate(plan):
                    made = _generate_township(generation, t_index, loader, planter)
                    for key in totals:
                        totals[key] += made[key]
                    say(f"township {t_index + 1}/{len(plan)} {township.name}: {totals['persons']} persons so far")
            if planter is not None:
                planter.plant_cross_records(plan)
            say("rows written; re-creating foreign keys")
        reset_sequences(loaded)
        district_seeded.send(sender=build_district, district_code=district_code, seed=seed, planter=planter, say=say)
        audit_record(
            actor=None,
            action=AuditAction.IMPORT,
            object_type="synthetic_district",
            detail={"persons": totals["persons"], "seed": seed, "plant_errors": plant_errors},
        )
    say("committed; analysing")
    # The bulk-loaded tables were analysed by their loaders; the frame, staff and assignments are left.
    frame = [
        model._meta.db_table
        for model in (District, Township, Village, SmallArea, StaffMember, SmallAreaAssignment, SupervisorAssignment)
    ]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE " + ", ".join(f'"{table}"' for table in frame))
    return BuildReport(
        persons=totals["persons"],
        households=totals["households"],
        small_areas=sum(len(v.small_areas) for t in plan for v in t.villages),
        villages=sum(len(t.villages) for t in plan),
        townships=len(plan),
        staff=staff["staff_count"],
        signatures=totals["signatures"],
        seconds=time.monotonic() - started,
        manifest=planter.manifest if planter is not None else {},
        unplanted=planter.missing() if planter is not None else [],
    )


def village_sample_seed(seed: int, village_code: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}:{village_code}".encode()).digest()[:6], "big")


def _sample_village(
    rng: random.Random,
    loader: RowSink,
    ids: Ids,
    village: VillagePlan,
    by_area: list[tuple[SmallAreaPlan, list[GeneratedHousehold]]],
    district_user_id: int,
    seed: int,
) -> None:
    frame = [
        generated
        for _, households in by_area
        for generated in households
        if generated.row["state"] in SIGNED_STATES and sampling_eligible(generated.row)
    ]
    if not frame:
        return
    sample_seed = village_sample_seed(seed, village.code)
    sample = systematic_sample(len(frame), seed=sample_seed)
    chosen = [frame[position - 1] for position in sample.positions]
    for generated in chosen:
        fill_long_form(rng, generated, urban=village.is_urban)
    loader.add(
        LongFormSample,
        {
            "id": ids.take("sample"),
            "village_id": village.code,
            "seed": sample_seed,
            "interval": sample.interval,
            "start": sample.start,
            "frame_size": len(frame),
            "sample_size": len(chosen),
            "drawn_by_id": district_user_id,
            "drawn_at": timezone.now(),
            "household_ids": [g.row["id"] for g in chosen],
        },
    )


def sampling_eligible(row: dict[str, Any]) -> bool:
    """The long-form frame excludes foreign-form households, 全户死亡 (999) and households nobody lived in."""
    return row["form_kind"] == "census" and row["household_no"] != 999 and (row.get("h2_present") or 0) > 0


def _emit_small_area(
    rng: random.Random,
    loader: RowSink,
    ids: Ids,
    area: SmallAreaPlan,
    households: list[GeneratedHousehold],
    supervisor_of: dict[int, int],
    office_id: int,
    planter: ErrorPlanter | None = None,
    *,
    key: bytes,
) -> int:
    signed = sorted(
        (g for g in households if g.row.get("signed_at") is not None), key=lambda g: (g.row["signed_at"], g.row["id"])
    )
    prev = ledger.genesis_hash(area.code)
    signature_ids: dict[int, int] = {}
    signers: dict[int, int] = {}
    for seq, generated in enumerate(signed, start=1):
        row = generated.row
        head = generated.persons[0] if generated.persons else None
        image, image_sha256 = synthetic_signature(row["id"])
        respondent = {
            "name": head["d1_name"] if head else row.get("head_name_listed", ""),
            # A collective household has no head; its respondent is recorded as 其他 (9).
            "relationship": 9 if row.get("h1_kind") == 2 else 0,
            "signature_sha256": image_sha256,
            "refused": False,
            "refusal_reason": "",
        }
        confirmation = {
            "id": ids.take("confirmation"),
            "household_id": row["id"],
            "household_version": 1,
            "confirmed_at": row["signed_at"] - datetime.timedelta(minutes=2),
            "recorded_by_id": row["registrar_id"],
            "signature_image": image,
            **respondent,
        }
        digest = ledger.content_hash(content_of(area.code, generated, respondent))
        signature_id = ids.take("signature")
        signer_id, signer_role = row["registrar_id"], str(Role.ENUMERATOR)
        if planter is not None:
            other = planter.choose_signer(area.code, generated, supervisor_of.get(row["registrar_id"]))
            if other is not None:
                signer_id, signer_role = other, str(Role.SUPERVISOR)
        message = ledger.signature_message(
            household_id=row["id"],
            household_version=1,
            signer_id=signer_id,
            signer_role=signer_role,
            signed_at=row["signed_at"],
            content_hash=digest,
            prev_hash=prev,
            seq=seq,
        )
        signature = {
            "id": signature_id,
            "household_id": row["id"],
            "small_area_id": area.id,
            "seq": seq,
            "household_version": 1,
            "signer_id": signer_id,
            "signer_role": signer_role,
            "signed_at": row["signed_at"],
            "content_hash": digest,
            "prev_hash": prev,
            "hmac": ledger.message_hmac(message, key),
        }
        if planter is not None:
            planter.after_signing(area.code, generated, signature, confirmation, is_last=seq == len(signed))
        loader.add(RespondentConfirmation, confirmation)
        loader.add(Signature, signature)
        prev = ledger.link_hash(message)
        signature_ids[row["id"]] = signature_id
        signers[row["id"]] = signer_id
        if row["state"] == HouseholdState.RETURNED:
            loader.add(
                ReviewComment,
                {
                    "id": ids.take("comment"),
                    "household_id": row["id"],
                    "item": RETURN_REASON[0],
                    "text": RETURN_REASON[1],
                    "author_id": supervisor_of.get(row["registrar_id"], row["registrar_id"]),
                    "created_at": row["signed_at"] + datetime.timedelta(hours=3),
                },
            )
    for generated in households:
        row = generated.row
        row["current_signature_id"] = signature_ids.get(row["id"])
        reviewer_id = supervisor_of.get(row.get("registrar_id") or 0, office_id)
        steps = trail_of(row, signer_id=signers.get(row["id"]), reviewer_id=reviewer_id, office_id=office_id)
        _emit_trail(loader, ids, row["id"], steps, key)
        if planter is not None and steps:
            planter.after_trail(area.code, generated, other_staff_id=reviewer_id)
        loader.add(Household, row)
        for person in generated.persons:
            loader.add(
                Person,
                {
                    **person,
                    "id": ids.take("person"),
                    "household_id": row["id"],
                    "small_area_id": row["small_area_id"],
                    "village_id": row["village_id"],
                    "township_id": row["township_id"],
                },
            )
        for death in generated.deaths:
            loader.add(DeathRecord, death)
    return len(signed)
