"""Fixtures of the security tests: a ``world`` (the cast plus a second district and objects in every scope)
and signed-in clients for every role."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.test import Client

from census.models import AuditAction, Job, Role, SmallArea, StaffMember
from census.services import audit_record
from tests.census.factories import (
    BuildingFactory,
    DistrictFactory,
    EnumeratorFactory,
    SmallAreaAssignmentFactory,
    SmallAreaFactory,
    StaffMemberFactory,
    TownshipFactory,
    VillageFactory,
)
from tests.conftest import Cast
from tests.security.samples import SAMPLE_MAKERS


@dataclass
class World:
    cast: Cast
    other_area: SmallArea  # in another district: outside the scope of everyone in the cast
    other_enumerator: StaffMember
    other_office: StaffMember

    def by_role(self) -> dict[str, StaffMember]:
        return self.cast.by_role()


@pytest.fixture
def world(cast: Cast) -> World:
    district = DistrictFactory(code="511502", name="翠屏区")
    township = TownshipFactory(district=district, code="511502101", name="丙镇")
    village = VillageFactory(township=township, code="511502101201", name="丙村")
    other_area = SmallAreaFactory(village=village, code="511502101201001")
    other_enumerator = EnumeratorFactory(username="enum_c1", township=township)
    SmallAreaAssignmentFactory(staff=other_enumerator, small_area=other_area)
    other_office = StaffMemberFactory(username="district_c", role=Role.DISTRICT_OFFICE, district=district)
    for area in SmallArea.objects.all():
        BuildingFactory(small_area=area)
    staff = [*cast.by_role().values(), cast.enumerator_b1, cast.township_office_b, other_enumerator, other_office]
    for member in staff:
        Job.objects.create(
            kind="test",
            title=f"job of {member.username}",
            created_by=member,
            district_id=member.district_id or "",
            township_id=member.township_id or "",
        )
        audit_record(actor=member, action=AuditAction.EXPORT, object_type="test", object_id=member.pk)
    world = World(cast=cast, other_area=other_area, other_enumerator=other_enumerator, other_office=other_office)
    for make in SAMPLE_MAKERS:
        make(world)
    return world


@pytest.fixture
def role_clients(world: World) -> dict[str, Client]:
    """One signed-in client per role (signed in once, before any request is counted)."""
    clients = {}
    for role, user in world.by_role().items():
        client = Client()
        client.force_login(user)
        clients[role] = client
    return clients
