"""Two districts of one city in one installation: 叙州区 (511504, the shared ``cast``) and 翠屏区 (511502) with a
cast of its own, and a way to register and sign a household in either through the services."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import pytest

from census.models import City, District, Role, SmallArea, StaffMember, Township, Village
from enumeration.identity import make_id_number
from enumeration.models import Household
from enumeration.services import household_list, household_save, household_sign, respondent_confirm
from supervision.progress.services import progress_refresh
from tests.census.factories import (
    DepartmentUserFactory,
    DistrictFactory,
    EnumeratorFactory,
    SmallAreaAssignmentFactory,
    SmallAreaFactory,
    StaffMemberFactory,
    SupervisorAssignmentFactory,
    SupervisorFactory,
    TownshipFactory,
    TownshipOfficeFactory,
    VillageFactory,
)
from tests.conftest import Cast
from tests.enumeration.factories import person
from tests.enumeration.test_services_registration import png_data_url


@dataclass
class OtherDistrict:
    district: District
    township: Township
    village: Village
    area: SmallArea
    enumerator: StaffMember
    supervisor: StaffMember
    township_office: StaffMember
    district_office: StaffMember
    auditor: StaffMember
    department_user: StaffMember


@dataclass
class TwoDistricts:
    a: Cast  # 叙州区 511504
    b: OtherDistrict  # 翠屏区 511502


@pytest.fixture
def two_districts(cast: Cast) -> TwoDistricts:
    district = DistrictFactory(code="511502", name="翠屏区")
    township = TownshipFactory(district=district, code="511502001", name="东城街道", kind="street")
    village = VillageFactory(township=township, code="511502001001", name="东城社区", kind="residents")
    area = SmallAreaFactory(village=village, code="511502001001001")
    enumerator = EnumeratorFactory(username="cp_enum", township=township)
    SmallAreaAssignmentFactory(staff=enumerator, small_area=area)
    supervisor = SupervisorFactory(username="cp_sup", township=township)
    SupervisorAssignmentFactory(supervisor=supervisor, enumerator=enumerator)
    other = OtherDistrict(
        district=district,
        township=township,
        village=village,
        area=area,
        enumerator=enumerator,
        supervisor=supervisor,
        township_office=TownshipOfficeFactory(username="cp_office", township=township),
        district_office=StaffMemberFactory(username="cp_district", role=Role.DISTRICT_OFFICE, district=district),
        auditor=StaffMemberFactory(username="cp_auditor", role=Role.AUDITOR, district=district),
        department_user=DepartmentUserFactory(username="cp_dept", department__district=district),
    )
    return TwoDistricts(a=cast, b=other)


def family(address: str, names: tuple[str, str, str], sequences: tuple[int, int, int]) -> tuple[dict[str, Any], list]:
    """A clean 3-person family (head, wife, son) whose ID numbers carry ``address`` and ``sequences``."""
    household = {
        "h1_kind": 1,
        "h2_present": 3,
        "h2_away": 0,
        "h3_births_male": 0,
        "h3_births_female": 0,
        "h4_deaths_male": 0,
        "h4_deaths_female": 0,
        "h5_residence_type": 1,
        "h6_floor_area": 96,
        "h7_rooms": 4,
    }
    persons = [
        person(1, names[0], 0, 1, 1980, 5, education=4, literate=1, id_address=address, sequence=sequences[0]),
        person(2, names[1], 1, 2, 1982, 3, education=5, literate=1, id_address=address, sequence=sequences[1]),
        person(3, names[2], 2, 1, 2010, 9, education=3, literate=None, id_address=address, sequence=sequences[2]),
    ]
    return household, persons


def id_number(address: str, year: int, month: int, sequence: int) -> str:
    return make_id_number(address, datetime.date(year, month, 12), sequence)


def register(
    area: SmallArea,
    enumerator: StaffMember,
    password: str,
    form: tuple[dict[str, Any], list[dict[str, Any]]],
) -> Household:
    """List, fill, confirm and sign a household in ``area`` as ``enumerator``."""
    data, persons = form
    household = household_list(small_area=area, actor=enumerator, head_name=persons[0]["d1_name"], expected_persons=3)
    household = household_save(
        household=household, actor=enumerator, expected_version=household.version, data=data, persons=persons
    )
    respondent_confirm(
        household=household,
        actor=enumerator,
        name=persons[0]["d1_name"],
        relationship=0,
        signature_image=png_data_url(),
    )
    return household_sign(household=household, signer=enumerator, password=password)


@pytest.fixture
def city(two_districts: TwoDistricts, password: str) -> dict:
    """宜宾市 (5115) over both districts: 叙州区 with two signed families of three, 翠屏区 with one; a district of
    another city (成都市锦江区 510104) that the city office must not count; and the city office."""
    a, b = two_districts.a, two_districts.b
    households = [
        register(
            a.area_a1, a.enumerator_a1, password, family("511521", ("欧阳修远", "司马青衫", "欧阳小明"), (11, 22, 33))
        ),
        register(
            a.area_a2, a.enumerator_a2, password, family("511521", ("东方既白", "司马青衫", "东方小白"), (45, 56, 67))
        ),
        register(b.area, b.enumerator, password, family("511502", ("诸葛云起", "上官晴", "诸葛小亮"), (41, 52, 63))),
    ]
    elsewhere = DistrictFactory(code="510104", name="锦江区")
    TownshipFactory(district=elsewhere, code="510104001", name="督院街街道", kind="street")
    progress_refresh()
    office = StaffMemberFactory(
        username="yibin_city",
        role=Role.CITY_OFFICE,
        district=None,
        city=City.objects.create(code="5115", name="宜宾市"),
    )
    return {"office": office, "households": households}
