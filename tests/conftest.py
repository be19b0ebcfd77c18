"""Shared fixtures: a small cast of users in a two-township district.

``cast`` builds, in township A and township B, one village with two small areas each, an enumerator per
small area, one supervisor per township overseeing that township's enumerators, a township office per
township, and district-wide users: the district office, an auditor and a department user.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client

from census.models import Role, SmallArea, StaffMember, Township, Village
from tests.census.factories import (
    PASSWORD,
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

# One session Chromium for every test that needs one (see tests/browser/fixtures.py).
pytest_plugins = ["tests.browser.fixtures"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Long tests first (Chromium, the marked slow ones), so that two processes end together: collected last, a
    browser test of a minute or two kept one process busy while the other had nothing left to take."""
    items.sort(key=lambda item: 0 if item.get_closest_marker("browser") or item.get_closest_marker("slow") else 1)


@dataclass
class Cast:
    township_a: Township
    township_b: Township
    village_a: Village
    village_b: Village
    area_a1: SmallArea
    area_a2: SmallArea
    area_b1: SmallArea
    enumerator_a1: StaffMember
    enumerator_a2: StaffMember
    enumerator_b1: StaffMember
    supervisor_a: StaffMember
    supervisor_b: StaffMember
    township_office_a: StaffMember
    township_office_b: StaffMember
    district_office: StaffMember
    auditor: StaffMember
    department_user: StaffMember

    def by_role(self) -> dict[str, StaffMember]:
        return {
            Role.ENUMERATOR: self.enumerator_a1,
            Role.SUPERVISOR: self.supervisor_a,
            Role.TOWNSHIP_OFFICE: self.township_office_a,
            Role.DISTRICT_OFFICE: self.district_office,
            Role.DEPARTMENT: self.department_user,
            Role.AUDITOR: self.auditor,
        }


@pytest.fixture
def cast(db: None) -> Cast:
    district = DistrictFactory()
    township_a = TownshipFactory(district=district, code="511504101", name="甲镇")
    township_b = TownshipFactory(district=district, code="511504102", name="乙镇")
    village_a = VillageFactory(township=township_a, code="511504101201", name="甲村")
    village_b = VillageFactory(township=township_b, code="511504102201", name="乙村")
    area_a1 = SmallAreaFactory(village=village_a, code="511504101201001")
    area_a2 = SmallAreaFactory(village=village_a, code="511504101201002")
    area_b1 = SmallAreaFactory(village=village_b, code="511504102201001")
    enumerator_a1 = EnumeratorFactory(username="enum_a1", township=township_a)
    enumerator_a2 = EnumeratorFactory(username="enum_a2", township=township_a)
    enumerator_b1 = EnumeratorFactory(username="enum_b1", township=township_b)
    for staff, area in ((enumerator_a1, area_a1), (enumerator_a2, area_a2), (enumerator_b1, area_b1)):
        SmallAreaAssignmentFactory(staff=staff, small_area=area)
    supervisor_a = SupervisorFactory(username="sup_a", township=township_a)
    supervisor_b = SupervisorFactory(username="sup_b", township=township_b)
    SupervisorAssignmentFactory(supervisor=supervisor_a, enumerator=enumerator_a1)
    SupervisorAssignmentFactory(supervisor=supervisor_a, enumerator=enumerator_a2)
    SupervisorAssignmentFactory(supervisor=supervisor_b, enumerator=enumerator_b1)
    return Cast(
        township_a=township_a,
        township_b=township_b,
        village_a=village_a,
        village_b=village_b,
        area_a1=area_a1,
        area_a2=area_a2,
        area_b1=area_b1,
        enumerator_a1=enumerator_a1,
        enumerator_a2=enumerator_a2,
        enumerator_b1=enumerator_b1,
        supervisor_a=supervisor_a,
        supervisor_b=supervisor_b,
        township_office_a=TownshipOfficeFactory(username="office_a", township=township_a),
        township_office_b=TownshipOfficeFactory(username="office_b", township=township_b),
        district_office=StaffMemberFactory(username="district", role=Role.DISTRICT_OFFICE, district=district),
        auditor=StaffMemberFactory(username="auditor", role=Role.AUDITOR, district=district),
        department_user=DepartmentUserFactory(username="dept", department__district=district),
    )


@pytest.fixture(autouse=True)
def _forget_signing_passwords() -> None:
    """Signing-password state lives in Redis, outside the test transaction, keyed by user id; ids repeat across
    runs, so every test starts without remembered passwords or counted mistakes."""
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.REDIS_URL)
    keys = list(client.scan_iter(match="*census:signing-*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture
def login(client: Client):  # type: ignore[no-untyped-def]
    """``login(user)`` signs the test client in as that user and returns the client."""

    def _login(user: StaffMember) -> Client:
        client.force_login(user)
        return client

    return _login


@pytest.fixture
def password() -> str:
    return PASSWORD
