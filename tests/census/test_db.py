"""census.db: database constraint violations as form errors."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from census.db import constraint_errors
from enumeration.models import DwellingUnit
from tests.census.factories import BuildingFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("savepoint", [True, False])
def test_a_refused_row_is_a_message_by_the_constraint_s_name_and_nothing_of_the_block_stays(savepoint: bool) -> None:
    building = BuildingFactory()

    def write_two() -> None:
        with transaction.atomic():
            DwellingUnit.objects.create(building=building, number="101")
            with constraint_errors(DwellingUnit, label="number", savepoint=savepoint):
                DwellingUnit.objects.create(building=building, number="no #")

    with pytest.raises(ValidationError) as refused:
        write_two()
    assert "dwelling_unit_number_format" in str(refused.value.message_dict["number"])
    # The connection goes on (the enclosing block rolled back to its savepoint) and the block left nothing.
    assert not DwellingUnit.objects.filter(building=building).exists()


def test_with_its_own_savepoint_the_caller_goes_on_after_a_refusal() -> None:
    building = BuildingFactory()
    with transaction.atomic():
        DwellingUnit.objects.create(building=building, number="101")
        with pytest.raises(ValidationError), constraint_errors(DwellingUnit):
            DwellingUnit.objects.create(building=building, number="no #")
        DwellingUnit.objects.create(building=building, number="102")
    assert sorted(DwellingUnit.objects.filter(building=building).values_list("number", flat=True)) == ["101", "102"]
