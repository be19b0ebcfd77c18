"""django-import-export resources for the area frame, keyed by the official codes.

Every resource cleans each row with the model's own validation (``full_clean``, which also checks the
database constraints), skips rows that would change nothing — so re-importing the same file is a no-op —
and is driven by :func:`census.services.area_frame_import`, which loads a file all-or-nothing.
"""

from __future__ import annotations

from typing import Any

from import_export import fields, widgets

from census.models import Building, District, SmallArea, Township, Village
from census.spreadsheets import SpreadsheetResource


class _FrameResource(SpreadsheetResource):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)

    class Meta:
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True
        use_transactions = True


class TownshipResource(_FrameResource):
    district = fields.Field(
        attribute="district", column_name="district", widget=widgets.ForeignKeyWidget(District, field="code")
    )

    class Meta(_FrameResource.Meta):
        model = Township
        import_id_fields = ("code",)
        fields = ("code", "name", "kind", "district")
        export_order = ("code", "name", "kind", "district")


class VillageResource(_FrameResource):
    township = fields.Field(
        attribute="township", column_name="township", widget=widgets.ForeignKeyWidget(Township, field="code")
    )

    class Meta(_FrameResource.Meta):
        model = Village
        import_id_fields = ("code",)
        fields = ("code", "name", "kind", "urban_rural_code", "township")
        export_order = ("code", "name", "kind", "urban_rural_code", "township")


class SmallAreaResource(_FrameResource):
    village = fields.Field(
        attribute="village", column_name="village", widget=widgets.ForeignKeyWidget(Village, field="code")
    )

    class Meta(_FrameResource.Meta):
        model = SmallArea
        import_id_fields = ("code",)
        fields = ("code", "name", "village")
        export_order = ("code", "name", "village")

    def before_save_instance(self, instance: SmallArea, row: Any, **kwargs: Any) -> None:
        instance.township_id = instance.village.township_id

    def import_instance(self, instance: SmallArea, row: Any, **kwargs: Any) -> None:
        super().import_instance(instance, row, **kwargs)
        # The township is derived, but full_clean needs it before the save hook runs.
        if instance.village_id:
            instance.township_id = instance.village_id[:9]


class BuildingResource(_FrameResource):
    small_area = fields.Field(
        attribute="small_area", column_name="small_area", widget=widgets.ForeignKeyWidget(SmallArea, field="code")
    )
    is_residential = fields.Field(
        attribute="is_residential", column_name="is_residential", widget=widgets.BooleanWidget()
    )

    class Meta(_FrameResource.Meta):
        model = Building
        import_id_fields = ("small_area", "number")
        fields = ("small_area", "number", "address", "is_residential")
        export_order = ("small_area", "number", "address", "is_residential")


FRAME_RESOURCES: dict[str, type[_FrameResource]] = {
    "township": TownshipResource,
    "village": VillageResource,
    "small_area": SmallAreaResource,
    "building": BuildingResource,
}
# Order in which a workbook's sheets load, parents first.
FRAME_LEVELS: tuple[str, ...] = ("township", "village", "small_area", "building")
