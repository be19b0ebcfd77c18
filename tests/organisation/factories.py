"""Factories and uploads for the organisation tests."""

from __future__ import annotations

import datetime
import hashlib
import io
import zipfile
from decimal import Decimal
from typing import Any

import factory
from django.core.files.uploadedfile import SimpleUploadedFile
from stdnum.cn import uscc

from census.models import Department, Role, StaffMember
from enumeration.models import Household, HouseholdState, Signature
from supervision.organisation.demo import minimal_pdf
from supervision.organisation.models import (
    DirectoryKind,
    DirectoryUnit,
    EvidenceFile,
    EvidenceKind,
    RectificationItem,
    RectificationTask,
    SubsidyDue,
    SubsidyPhase,
)
from tests.census.factories import DepartmentFactory, DistrictFactory, StaffMemberFactory

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def ooxml(marker: str) -> bytes:
    """A minimal Office Open XML container: a ZIP with [Content_Types].xml and the part that names its type."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(marker, "<x/>")
    return buffer.getvalue()


def upload(name: str = "evidence.pdf", content: bytes | None = None) -> SimpleUploadedFile:
    if content is None:
        extension = name.rsplit(".", 1)[-1].lower()
        content = {
            "pdf": minimal_pdf("test evidence"),
            "png": PNG,
            "jpg": JPG,
            "jpeg": JPG,
            "docx": ooxml("word/document.xml"),
            "xlsx": ooxml("xl/workbook.xml"),
        }.get(extension, b"MZ\x90\x00not a document")
    return SimpleUploadedFile(name, content)


def valid_credit_code(seed: int, region: str = "511504") -> str:
    body = f"91{region}{seed:09d}"
    return body + uscc.calc_check_digit(body)


class EvidenceFileFactory(factory.django.DjangoModelFactory[EvidenceFile]):
    """A row without a file on disk: for listing and scoping, not for downloading."""

    class Meta:
        model = EvidenceFile

    district = factory.SubFactory(DistrictFactory)
    township = None
    department = None
    file = factory.Sequence(lambda n: f"organisation/evidence/test/{n}.pdf")
    original_name = factory.Sequence(lambda n: f"材料{n}.pdf")
    kind = EvidenceKind.PDF
    size = 100
    sha256 = factory.Sequence(lambda n: hashlib.sha256(str(n).encode()).hexdigest())
    uploaded_by = factory.SubFactory(StaffMemberFactory)


class DirectoryUnitFactory(factory.django.DjangoModelFactory[DirectoryUnit]):
    class Meta:
        model = DirectoryUnit

    district = factory.SubFactory(DistrictFactory)
    credit_code = factory.Sequence(lambda n: valid_credit_code(100000 + n))
    name = factory.Sequence(lambda n: f"宜宾测试{n}有限公司")
    kind = DirectoryKind.INDUSTRY
    department = factory.SubFactory(DepartmentFactory, district=factory.SelfAttribute("..district"))


class RectificationItemFactory(factory.django.DjangoModelFactory[RectificationItem]):
    class Meta:
        model = RectificationItem

    district = factory.SubFactory(DistrictFactory)
    number = factory.Sequence(lambda n: f"反馈{n}")
    title = "统计数据质量问题"
    feedback = "部分数据缺少佐证资料。"
    received_on = datetime.date(2020, 12, 18)
    created_by = factory.SubFactory(StaffMemberFactory)


class RectificationTaskFactory(factory.django.DjangoModelFactory[RectificationTask]):
    class Meta:
        model = RectificationTask

    item = factory.SubFactory(RectificationItemFactory)
    measure = "逐一核查在库单位资料"
    department = factory.SubFactory(DepartmentFactory)
    responsible_person = "李明"
    deadline = datetime.date(2021, 3, 31)
    evidence_required = "核查台账"


class SubsidyDueFactory(factory.django.DjangoModelFactory[SubsidyDue]):
    class Meta:
        model = SubsidyDue

    district = factory.LazyAttribute(lambda o: o.staff.district)
    township = factory.LazyAttribute(lambda o: o.staff.township)
    staff: Any = None
    phase = SubsidyPhase.LISTING
    households = 10
    rate = Decimal("8.00")
    computed_amount = factory.LazyAttribute(lambda o: o.households * o.rate)
    due_on = datetime.date(2020, 10, 31)
    settled_at = factory.LazyFunction(lambda: datetime.datetime(2020, 11, 1, tzinfo=datetime.UTC))


def department(code: str, district: Any) -> Department:
    return DepartmentFactory(district=district, code=code, name=f"区{code}局")


def department_user(dept: Department, username: str) -> StaffMember:
    return StaffMemberFactory(username=username, role=Role.DEPARTMENT, department=dept, district=dept.district)


def signed_household(
    *,
    small_area: Any,
    household_no: int,
    registrar: StaffMember,
    state: str = HouseholdState.ACCEPTED,
    long_form: bool = False,
    listed_by: StaffMember | None = None,
    aware: bool | None = True,
) -> Household:
    """A household registered and signed by ``registrar`` and then moved to ``state`` (accepted by default)."""
    household = Household.objects.create(
        small_area=small_area,
        village=small_area.village,
        township=small_area.township,
        household_no=household_no,
        listed_by=listed_by or registrar,
        aware_of_census=aware,
        in_long_form_sample=long_form,
    )
    signature = Signature.objects.create(
        household=household,
        small_area=small_area,
        seq=Signature.objects.filter(small_area=small_area).count() + 1,
        household_version=1,
        signer=registrar,
        signer_role=registrar.role,
        signed_at=datetime.datetime(2020, 11, 5, tzinfo=datetime.UTC),
        content_hash="a" * 64,
        prev_hash="0" * 64,
        hmac="b" * 64,
    )
    Household.objects.filter(pk=household.pk).update(state=state, registrar=registrar, current_signature=signature)
    household.refresh_from_db()
    return household


def listed_household(*, small_area: Any, household_no: int, listed_by: StaffMember, aware: bool | None) -> Household:
    return Household.objects.create(
        small_area=small_area,
        village=small_area.village,
        township=small_area.township,
        household_no=household_no,
        listed_by=listed_by,
        aware_of_census=aware,
    )
