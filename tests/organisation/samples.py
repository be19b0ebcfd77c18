"""Objects of the organisation part for the permission matrix (tests/security): a few rows of every model a
URL of this part looks up, in township A, township B, the cast's department, another department of the
district and the other district of the ``world`` fixture — so that every role has one inside its scope and
one outside."""

from __future__ import annotations

import datetime
from typing import Any

from census.models import Department
from supervision.organisation.models import (
    DepartmentTask,
    DepartmentTaskKind,
    MemberBody,
    ReadinessMember,
    UnitReadiness,
)
from supervision.organisation.services import readiness_ensure_units
from tests.census.factories import DepartmentFactory
from tests.organisation.factories import (
    DirectoryUnitFactory,
    EvidenceFileFactory,
    RectificationItemFactory,
    RectificationTaskFactory,
    SubsidyDueFactory,
)


def make_organisation(world: Any) -> None:
    cast = world.cast
    home = cast.district_office.district
    other = world.other_office.district
    own: Department = cast.department_user.department
    neighbour = DepartmentFactory(district=home, code="fgj", name="区发改局")
    far = DepartmentFactory(district=other, code="jkj", name="翠屏区经科局")
    for district in (home, other):
        readiness_ensure_units(district_id=district.code, actor=None)
    ReadinessMember.objects.bulk_create(
        [
            ReadinessMember(readiness=unit, body=MemberBody.LEADING_GROUP, name="张伟", post="组长")
            for unit in UnitReadiness.objects.all()
        ]
    )
    for enumerator in (cast.enumerator_a1, cast.enumerator_b1, world.other_enumerator):
        SubsidyDueFactory(staff=enumerator)
    for district, lead, task_department in ((home, own, own), (home, neighbour, neighbour), (other, far, far)):
        item = RectificationItemFactory(district=district, lead_department=lead, created_by=cast.district_office)
        RectificationTaskFactory(item=item, department=task_department, deadline=datetime.date(2021, 3, 31))
    for district, department in ((home, own), (home, neighbour), (other, far)):
        DirectoryUnitFactory(district=district, department=department)
        DepartmentTask.objects.create(
            district=district,
            department=department,
            kind=DepartmentTaskKind.BIRTHS,
            title="出生医学证明比对",
            deliverable="比对清单",
            deadline=datetime.date(2020, 12, 10),
            created_by=cast.district_office,
        )
    EvidenceFileFactory(district=home, township=cast.township_a, uploaded_by=cast.district_office)
    EvidenceFileFactory(district=home, township=cast.township_b, uploaded_by=cast.district_office)
    EvidenceFileFactory(district=home, department=own, uploaded_by=cast.district_office)
    EvidenceFileFactory(district=other, uploaded_by=world.other_office)
