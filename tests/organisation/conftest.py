"""Fixtures of the organisation tests: private storage in a temporary folder, and the departments of the
district (经科局 jkj, 发改局 fgj, 住建局 zjj) with a user each."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.test import Client
from django.utils import translation

from census.models import Department, District, Role, StaffMember
from tests.census.factories import DistrictFactory, StaffMemberFactory
from tests.conftest import Cast
from tests.organisation.factories import department, department_user


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    root = tmp_path / "private"
    root.mkdir()
    settings.PRIVATE_MEDIA_ROOT = root
    settings.MEDIA_ROOT = root
    return root


@dataclass
class Departments:
    jkj: Department
    fgj: Department
    zjj: Department
    jkj_user: StaffMember
    fgj_user: StaffMember
    zjj_user: StaffMember
    approver: StaffMember  # a second district-office member, to approve reductions


@pytest.fixture
def depts(cast: Cast) -> Departments:
    district: District = cast.district_office.district  # type: ignore[assignment]
    jkj, fgj, zjj = (department(code, district) for code in ("jkj", "fgj", "zjj"))
    return Departments(
        jkj=jkj,
        fgj=fgj,
        zjj=zjj,
        jkj_user=department_user(jkj, "dept_jkj"),
        fgj_user=department_user(fgj, "dept_fgj"),
        zjj_user=department_user(zjj, "dept_zjj"),
        approver=StaffMemberFactory(username="district2", role=Role.DISTRICT_OFFICE, district=district),
    )


@pytest.fixture
def other_district_office() -> StaffMember:
    district = DistrictFactory(code="511502", name="翠屏区")
    return StaffMemberFactory(username="district_c", role=Role.DISTRICT_OFFICE, district=district)


@pytest.fixture
def client_for(client: Client):  # type: ignore[no-untyped-def]
    def _login(user: StaffMember) -> Client:
        fresh = Client()
        fresh.force_login(user)
        return fresh

    return _login


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Service messages in English, so that the tests read like the code; the Chinese is checked on its own."""
    with translation.override("en"):
        yield
