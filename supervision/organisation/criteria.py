"""The criteria a directory unit is reviewed against (统计调查单位入库标准), per kind of unit.

Thresholds follow the national standards for units above designated size and above quota (规模以上工业: main
business revenue ≥ 20 million yuan; 限额以上批发 ≥ 20 million, 零售 ≥ 5 million, 住宿餐饮 ≥ 2 million; 规模以上
服务业 ≥ 10 or 5 million by sector; projects ≥ 5 million yuan of planned investment). Every kind also needs
a legal, operating unit in the district with the documents behind its figures.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from supervision.organisation.models import DirectoryKind

# (code, label): the label is a lazy translation.
Criterion = tuple[str, Any]

COMMON: list[Criterion] = [
    ("legal_unit", _("A legal unit, registered and operating (依法设立、正常经营)")),
    ("in_district", _("Registered or operating in the district (在地统计)")),
    ("has_records", _("Has the original records and accounts behind its figures (有原始记录和统计台账)")),
]

CRITERIA: dict[str, list[Criterion]] = {
    DirectoryKind.INDUSTRY: [
        *COMMON,
        ("revenue_20m", _("Annual main-business revenue of 20 million yuan or more")),
    ],
    DirectoryKind.TRADE: [
        *COMMON,
        (
            "sales_quota",
            _("Sales above quota: wholesale 20 million, retail 5 million, hotels and catering 2 million yuan"),
        ),
    ],
    DirectoryKind.SERVICES: [
        *COMMON,
        ("revenue_services", _("Annual revenue of 10 million yuan or more (5 million for the sectors so defined)")),
    ],
    DirectoryKind.CONSTRUCTION: [
        *COMMON,
        ("qualification", _("Holds a general or specialist contracting qualification (资质等级)")),
    ],
    DirectoryKind.REAL_ESTATE: [
        *COMMON,
        ("development_activity", _("Has real-estate development activity in the period (有开发经营活动)")),
    ],
    DirectoryKind.INVESTMENT_PROJECT: [
        *COMMON,
        ("planned_5m", _("Planned total investment of 5 million yuan or more")),
        ("started", _("Construction has started and has not finished (已开工、未完工)")),
        ("approvals", _("Has approval, land, planning and construction permits (立项、用地、规划、施工许可)")),
    ],
}


def criteria_for(kind: str) -> list[Criterion]:
    return CRITERIA[kind]
