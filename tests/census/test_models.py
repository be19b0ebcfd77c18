"""The area frame's code structure is enforced twice: by validation (with a clear message) and by the database."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from census.models import SmallArea, Township, TownshipKind, UrbanRuralCode, Village, VillageKind
from tests.census.factories import DistrictFactory, SmallAreaFactory, TownshipFactory, VillageFactory

pytestmark = pytest.mark.django_db


def _raw_save_fails(instance: object) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        instance.save()  # type: ignore[attr-defined]


class TestTownshipCodes:
    @pytest.mark.parametrize(
        ("code", "kind"),
        [("511504001", TownshipKind.STREET), ("511504150", TownshipKind.TOWN), ("511504201", TownshipKind.XIANG)],
    )
    def test_a_code_in_its_kinds_range_is_accepted(self, code: str, kind: str) -> None:
        township = Township(code=code, district=DistrictFactory(), name="x", kind=kind)
        township.full_clean()
        township.save()
        assert Township.objects.filter(code=code).exists()

    @pytest.mark.parametrize(
        ("code", "kind"),
        [("511504101", TownshipKind.STREET), ("511504050", TownshipKind.TOWN), ("511504150", TownshipKind.XIANG)],
    )
    def test_a_code_outside_its_kinds_range_is_refused_by_validation_and_database(self, code: str, kind: str) -> None:
        township = Township(code=code, district=DistrictFactory(), name="x", kind=kind)
        with pytest.raises(ValidationError) as excinfo:
            township.full_clean()
        assert "kind" in excinfo.value.message_dict or "__all__" in excinfo.value.message_dict
        _raw_save_fails(township)

    def test_street_000_is_refused(self) -> None:
        _raw_save_fails(Township(code="511504000", district=DistrictFactory(), name="x", kind=TownshipKind.STREET))

    def test_a_township_must_lie_in_its_district(self) -> None:
        township = Township(code="511503101", district=DistrictFactory(), name="x", kind=TownshipKind.TOWN)
        with pytest.raises(ValidationError) as excinfo:
            township.full_clean()
        assert "code" in excinfo.value.message_dict
        _raw_save_fails(township)


class TestVillageCodes:
    def test_twelve_digits_under_the_township(self) -> None:
        township = TownshipFactory(code="511504101")
        village = Village(
            code="511504101201",
            township=township,
            name="x",
            kind=VillageKind.VILLAGERS,
            urban_rural_code=UrbanRuralCode.VILLAGE,
        )
        village.full_clean()
        village.save()

    def test_a_village_outside_its_township_is_refused(self) -> None:
        township = TownshipFactory(code="511504101")
        village = Village(
            code="511504102201",
            township=township,
            name="x",
            kind=VillageKind.VILLAGERS,
            urban_rural_code=UrbanRuralCode.VILLAGE,
        )
        with pytest.raises(ValidationError):
            village.full_clean()
        _raw_save_fails(village)

    def test_an_unknown_urban_rural_code_is_refused(self) -> None:
        township = TownshipFactory(code="511504101")
        village = Village(
            code="511504101201", township=township, name="x", kind=VillageKind.VILLAGERS, urban_rural_code=130
        )
        with pytest.raises(ValidationError):
            village.full_clean()
        _raw_save_fails(village)

    def test_the_kind_must_fit_the_configured_range(self) -> None:
        township = TownshipFactory(code="511504101")
        village = Village(
            code="511504101005",
            township=township,
            name="x",
            kind=VillageKind.VILLAGERS,
            urban_rural_code=UrbanRuralCode.VILLAGE,
        )
        with pytest.raises(ValidationError) as excinfo:
            village.full_clean()
        assert "kind" in excinfo.value.message_dict

    def test_urban_is_derived_from_the_urban_rural_code(self) -> None:
        assert VillageFactory(urban_rural_code=UrbanRuralCode.MAIN_URBAN).is_urban
        assert not VillageFactory(urban_rural_code=UrbanRuralCode.VILLAGE).is_urban


class TestSmallAreaCodes:
    def test_fifteen_digits_under_the_village(self) -> None:
        area = SmallAreaFactory()
        assert len(area.code) == 15 and area.code.startswith(area.village_id)

    def test_a_small_area_outside_its_village_is_refused(self) -> None:
        village = VillageFactory()
        other_village_code = village.code[:9] + f"{int(village.code[9:]) + 1:03d}"
        area = SmallArea(code=f"{other_village_code}001", village=village, township=village.township)
        with pytest.raises(ValidationError):
            area.full_clean()
        _raw_save_fails(area)

    def test_the_township_must_be_the_villages(self) -> None:
        village = VillageFactory()
        other = TownshipFactory(district=village.township.district)
        _raw_save_fails(SmallArea(code=f"{village.code}001", village=village, township=other))

    def test_virtual_small_areas_start_at_900(self) -> None:
        village = VillageFactory()
        assert SmallAreaFactory(village=village, code=f"{village.code}900").is_virtual
        assert not SmallAreaFactory(village=village, code=f"{village.code}001").is_virtual
