"""Households, persons and death records in any state, for the progress dashboards and summaries.

A household in a signed state needs a registrar and a signature (database constraints); the factory makes
both, with placeholder hashes — these tests count forms, they do not verify the ledger.
"""

from __future__ import annotations

import datetime
from typing import Any

import factory
from django.db.models import Max

from census.models import Role
from enumeration.models import SIGNED_STATES, DeathRecord, FormKind, Household, HouseholdState, Person, Signature
from tests.census.factories import EnumeratorFactory, SmallAreaFactory

CST = datetime.timezone(datetime.timedelta(hours=8))
HEX = "0" * 64


def cst(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, tzinfo=CST)


class HouseholdFactory(factory.django.DjangoModelFactory[Household]):
    """``HouseholdFactory(small_area=…, state=HouseholdState.ACCEPTED)``; signed states get a signature."""

    class Meta:
        model = Household

    small_area = factory.SubFactory(SmallAreaFactory)
    village = factory.LazyAttribute(lambda o: o.small_area.village)
    township = factory.LazyAttribute(lambda o: o.small_area.township)
    # The next free 户编号 of the small area, so that households made here never collide with given numbers.
    household_no = factory.LazyAttribute(
        lambda o: (Household.objects.filter(small_area=o.small_area).aggregate(m=Max("household_no"))["m"] or 0) + 1
    )
    form_kind = FormKind.CENSUS
    head_name_listed = "王伟"
    expected_persons = 3
    state = HouseholdState.LISTED
    h1_kind = 1
    h5_residence_type = 1
    h6_floor_area = 90
    h7_rooms = 3
    h3_births_male = 0
    h3_births_female = 0
    h4_deaths_male = 0
    h4_deaths_female = 0

    @classmethod
    def _create(cls, model_class: type[Household], *args: Any, **kwargs: Any) -> Household:
        state = kwargs.pop("state")
        signed_at = kwargs.pop("signed_at", None)
        if state != HouseholdState.LISTED:
            kwargs.setdefault("started_at", (signed_at or cst(2020, 11, 2)) - datetime.timedelta(minutes=20))
            if kwargs.get("registrar") is None:
                kwargs["registrar"] = EnumeratorFactory(township=kwargs["township"])
        household = model_class.objects.create(
            state=HouseholdState.DRAFT if state in SIGNED_STATES else state, **kwargs
        )
        if state in SIGNED_STATES:
            moment = signed_at or cst(2020, 11, 2)
            seq = (Signature.objects.filter(small_area=household.small_area).aggregate(m=Max("seq"))["m"] or 0) + 1
            signature = Signature.objects.create(
                household=household,
                small_area=household.small_area,
                seq=seq,
                household_version=1,
                signer=household.registrar,
                signer_role=Role.ENUMERATOR,
                signed_at=moment,
                content_hash=HEX,
                prev_hash=HEX,
                hmac=HEX,
            )
            Household.objects.filter(pk=household.pk).update(state=state, current_signature=signature, signed_at=moment)
            household.refresh_from_db()
        return household


class PersonFactory(factory.django.DjangoModelFactory[Person]):
    class Meta:
        model = Person

    household = factory.SubFactory(HouseholdFactory)
    small_area = factory.LazyAttribute(lambda o: o.household.small_area)
    village = factory.LazyAttribute(lambda o: o.household.village)
    township = factory.LazyAttribute(lambda o: o.household.township)
    row_no = factory.Sequence(lambda n: n + 1)
    d1_name = factory.Sequence(lambda n: f"张{'伟芳敏静丽强磊军'[n % 8]}{n}")
    d2_relationship = 0
    d3_id_number = ""
    d4_sex = 1
    d5_birth_year = 1980
    d5_birth_month = 5
    d6_ethnicity = "01"
    d7_residence = 1
    d8_hukou_place = 1
    d9_away_duration = 1
    d11_education = 4
    d12_literate = 1


class DeathRecordFactory(factory.django.DjangoModelFactory[DeathRecord]):
    class Meta:
        model = DeathRecord

    household = factory.SubFactory(HouseholdFactory)
    small_area = factory.LazyAttribute(lambda o: o.household.small_area)
    village = factory.LazyAttribute(lambda o: o.household.village)
    township = factory.LazyAttribute(lambda o: o.household.township)
    row_no = factory.Sequence(lambda n: n + 1)
    name = "未取名"
    sex = 1
    birth_year = 1940
    birth_month = 3
    death_year = 2020
    death_month = 5
    ethnicity = "01"
