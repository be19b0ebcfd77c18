"""The district is data: its former codes live on its row, an existing installation's row takes them over from
the settings, and what pages and files show comes from the person's district."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from census.models import District, default_district_code, district_name, district_of
from tests.census.factories import DistrictFactory, StaffMemberFactory

pytestmark = pytest.mark.django_db

MIGRATION = importlib.import_module("census.migrations.0010_district_previous_codes")


def test_the_migration_gives_the_installations_district_the_former_codes_of_the_settings(settings) -> None:  # type: ignore[no-untyped-def]
    settings.CENSUS_DISTRICT_CODE = "511504"
    settings.CENSUS_DISTRICT_PREVIOUS_CODES = ["511521", "512527"]
    # Rows as an installation made before the field existed would have them: no former codes anywhere.
    District.objects.create(code="511504", name="叙州区")
    District.objects.create(code="511502", name="翠屏区")
    MIGRATION.previous_codes_from_settings(apps, None)
    assert District.objects.get(code="511504").previous_codes == ["511521", "512527"]
    assert District.objects.get(code="511502").previous_codes == []


def test_the_migration_keeps_codes_a_district_has_already(settings) -> None:  # type: ignore[no-untyped-def]
    settings.CENSUS_DISTRICT_CODE = "511504"
    settings.CENSUS_DISTRICT_PREVIOUS_CODES = ["511521", "512527"]
    District.objects.create(code="511504", name="叙州区", previous_codes=["511521"])
    MIGRATION.previous_codes_from_settings(apps, None)
    assert District.objects.get(code="511504").previous_codes == ["511521"]


def test_address_codes_are_the_code_and_the_former_ones() -> None:
    district = District(code="511504", name="叙州区", previous_codes=["511521", "512527"])
    assert district.address_codes() == ["511504", "511521", "512527"]
    assert district.office_name == "叙州区第七次全国人口普查领导小组办公室"


def test_a_persons_district_is_their_own_and_the_default_for_a_superuser(settings) -> None:  # type: ignore[no-untyped-def]
    settings.CENSUS_DISTRICT_CODE = "511504"
    DistrictFactory(code="511504", name="叙州区")
    other = DistrictFactory(code="511502", name="翠屏区")
    member = StaffMemberFactory(username="cuiping", district=other)
    admin = StaffMemberFactory(username="root", district=None, is_superuser=True)
    assert district_of(member).code == "511502"
    assert district_of(admin).code == default_district_code() == "511504"


def test_the_district_name_follows_a_rename() -> None:
    district = DistrictFactory(code="511502", name="翠屏区")
    assert district_name("511502") == "翠屏区"
    district.name = "翠屏区（新）"
    district.save()
    assert district_name("511502") == "翠屏区（新）"


def test_pages_show_the_signed_in_persons_district(login) -> None:  # type: ignore[no-untyped-def]
    from django.urls import reverse

    DistrictFactory(code="511504", name="叙州区")
    other = DistrictFactory(code="511502", name="翠屏区")
    office = StaffMemberFactory(username="cuiping_office", role="district_office", district=other)
    body = login(office).get(reverse("frame:townships")).content.decode()
    assert "翠屏区" in body and "叙州区" not in body
