"""Factories for the census frame and staff. Codes follow the official structure."""

from __future__ import annotations

import factory
from django.contrib.auth.hashers import make_password

from census.models import (
    Building,
    Department,
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

PASSWORD = "correct-horse-battery-2020"
_PASSWORD_HASH = make_password(PASSWORD)


class DistrictFactory(factory.django.DjangoModelFactory[District]):
    class Meta:
        model = District
        django_get_or_create = ("code",)

    code = "511504"
    name = "叙州区"
    # 宜宾县's codes, which ID numbers issued before 2018 still carry.
    previous_codes = factory.LazyAttribute(lambda district: ["511521", "512527"] if district.code == "511504" else [])


class TownshipFactory(factory.django.DjangoModelFactory[Township]):
    class Meta:
        model = Township

    district = factory.SubFactory(DistrictFactory)
    kind = TownshipKind.TOWN
    code = factory.LazyAttributeSequence(lambda o, n: f"{o.district.code}{100 + n % 100:03d}")
    name = factory.Sequence(lambda n: f"第{n}镇")


class VillageFactory(factory.django.DjangoModelFactory[Village]):
    class Meta:
        model = Village

    township = factory.SubFactory(TownshipFactory)
    kind = VillageKind.VILLAGERS
    urban_rural_code = UrbanRuralCode.VILLAGE
    code = factory.LazyAttributeSequence(lambda o, n: f"{o.township.code}{200 + n % 200:03d}")
    name = factory.Sequence(lambda n: f"第{n}村")


class SmallAreaFactory(factory.django.DjangoModelFactory[SmallArea]):
    class Meta:
        model = SmallArea

    village = factory.SubFactory(VillageFactory)
    township = factory.LazyAttribute(lambda o: o.village.township)
    code = factory.LazyAttributeSequence(lambda o, n: f"{o.village.code}{1 + n % 899:03d}")
    name = factory.Sequence(lambda n: f"第{n}普查小区")


class BuildingFactory(factory.django.DjangoModelFactory[Building]):
    class Meta:
        model = Building

    small_area = factory.SubFactory(SmallAreaFactory)
    number = factory.Sequence(lambda n: f"{n + 1:03d}")


class DepartmentFactory(factory.django.DjangoModelFactory[Department]):
    class Meta:
        model = Department

    district = factory.SubFactory(DistrictFactory)
    code = factory.Sequence(lambda n: f"dept{n}")
    name = factory.Sequence(lambda n: f"第{n}局")


class StaffMemberFactory(factory.django.DjangoModelFactory[StaffMember]):
    class Meta:
        model = StaffMember
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = _PASSWORD_HASH
    last_name = "王"
    first_name = factory.Sequence(lambda n: f"{'伟芳敏静丽强磊军'[n % 8]}")
    role = Role.DISTRICT_OFFICE
    district = factory.SubFactory(DistrictFactory)
    township = None
    department = None


class EnumeratorFactory(StaffMemberFactory):
    role = Role.ENUMERATOR
    township = factory.SubFactory(TownshipFactory)
    district = factory.LazyAttribute(lambda o: o.township.district)


class SupervisorFactory(EnumeratorFactory):
    role = Role.SUPERVISOR


class TownshipOfficeFactory(EnumeratorFactory):
    role = Role.TOWNSHIP_OFFICE


class DepartmentUserFactory(StaffMemberFactory):
    role = Role.DEPARTMENT
    department = factory.SubFactory(DepartmentFactory)
    district = factory.LazyAttribute(lambda o: o.department.district)


class SmallAreaAssignmentFactory(factory.django.DjangoModelFactory[SmallAreaAssignment]):
    class Meta:
        model = SmallAreaAssignment

    staff = factory.SubFactory(EnumeratorFactory)
    small_area = factory.SubFactory(SmallAreaFactory)


class SupervisorAssignmentFactory(factory.django.DjangoModelFactory[SupervisorAssignment]):
    class Meta:
        model = SupervisorAssignment

    enumerator = factory.SubFactory(EnumeratorFactory)
    supervisor = factory.SubFactory(SupervisorFactory, township=factory.SelfAttribute("..enumerator.township"))


# GB 11643-1999 check character, written out here (ISO 7064 MOD 11-2: weights 2^(17-i) mod 11, then the table
# "10X98765432"), independent of the code under test and of the library it uses.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(first17: str) -> str:
    """A valid 18-character ID number from its first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, _ID_WEIGHTS, strict=True))
    return first17 + "10X98765432"[total % 11]


def staff_id_number(serial: int) -> str:
    """A valid ID number of an adult born in 宜宾县 (511521) in 1970–1989, a different one for every serial below
    6,720,000: the year, month, day and sequence are the serial's digits in mixed radix 20 × 12 × 28 × 1000."""
    year = 1970 + serial % 20
    month = 1 + serial // 20 % 12
    day = 1 + serial // 240 % 28
    sequence = serial // 6720 % 1000
    return id_number(f"511521{year}{month:02d}{day:02d}{sequence:03d}")
