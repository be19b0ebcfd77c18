"""知晓率: the share of listed households reached by census publicity, per area.

Whether a household was reached is recorded at listing (``Household.aware_of_census``). The rate is aware
households over households with an answer; households without an answer are counted separately, so a
low coverage of answers is visible rather than hidden in the rate. This page counts the households live; the
progress dashboards show the same rate from their per-small-area aggregates (``SmallAreaProgress.aware`` over
``aware_answered``), as of their last refresh.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Q

from census.models import SmallArea, StaffMember, Township, Village
from enumeration.models import Household

LEVELS = ("township", "village", "small_area")


@dataclass(frozen=True)
class AwarenessRow:
    code: str
    name: str
    households: int  # listed households with an answer
    aware: int
    unrecorded: int  # listed households without an answer
    key: str = ""  # what to pass as ``within`` to drill down ("" at the finest level)

    @property
    def rate(self) -> float | None:
        return self.aware / self.households if self.households else None

    @property
    def percent(self) -> float | None:
        rate = self.rate
        return None if rate is None else round(rate * 100, 1)

    @property
    def below_target(self) -> bool:
        rate = self.rate
        return rate is not None and rate < settings.ORGANISATION_AWARENESS_TARGET


@dataclass(frozen=True)
class AwarenessReport:
    level: str
    within: str
    rows: list[AwarenessRow]
    total: AwarenessRow
    target: float


def awareness_rates(user: StaffMember | AnonymousUser, *, level: str = "township", within: str = "") -> AwarenessReport:
    """The 知晓率 of every area at ``level`` the user may see, optionally only inside the township or
    village coded ``within``. Two queries: the counts and the area names."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}")
    households = Household.objects.visible_to(user)
    if len(within) == 9:
        households = households.filter(township_id=within)
    elif len(within) == 12:
        households = households.filter(village_id=within)
    column = {"township": "township_id", "village": "village_id", "small_area": "small_area_id"}[level]
    counts = {
        row[column]: row
        for row in households.values(column)
        .annotate(
            answered=Count("pk", filter=Q(aware_of_census__isnull=False)),
            aware=Count("pk", filter=Q(aware_of_census=True)),
            unrecorded=Count("pk", filter=Q(aware_of_census__isnull=True)),
        )
        .order_by(column)
    }
    names: dict[object, tuple[str, str]]
    if level == "township":
        names = {
            code: (code, name) for code, name in Township.objects.filter(code__in=counts).values_list("code", "name")
        }
    elif level == "village":
        names = {
            code: (code, name) for code, name in Village.objects.filter(code__in=counts).values_list("code", "name")
        }
    else:
        names = {
            pk: (code, name)
            for pk, code, name in SmallArea.objects.filter(pk__in=counts).values_list("pk", "code", "name")
        }
    rows = []
    for key, row in counts.items():
        code, name = names.get(key, (str(key), str(key)))
        rows.append(
            AwarenessRow(
                code=code,
                name=name,
                households=row["answered"],
                aware=row["aware"],
                unrecorded=row["unrecorded"],
                key=code if level != "small_area" else "",
            )
        )
    rows.sort(key=lambda r: r.code)
    total = AwarenessRow(
        code=within,
        name="",
        households=sum(r.households for r in rows),
        aware=sum(r.aware for r in rows),
        unrecorded=sum(r.unrecorded for r in rows),
    )
    return AwarenessReport(
        level=level, within=within, rows=rows, total=total, target=settings.ORGANISATION_AWARENESS_TARGET
    )
