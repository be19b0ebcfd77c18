"""The queries behind the summary tables: four set-based scans of one REPEATABLE READ snapshot.

- persons: one scan of the accepted persons with ``GROUPING SETS`` (township × sex, age × sex,
  education × sex, literacy × sex, ethnicity × sex, hukou place × sex, 人户分离 × sex, and sex alone for the
  totals);
- households: one scan of the accepted households, with their person counts, again with grouping sets;
- households per township and state (the share still pending acceptance);
- death-register rows by sex.

The rules that classify a person (age, 人户分离) are written here once; see ``compute`` for the definitions.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from django.db import connection, transaction
from django.db.models import Case, Count, ExpressionWrapper, F, IntegerField, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from census.models import StaffMember
from enumeration.identity import REFERENCE_MONTH, REFERENCE_YEAR
from enumeration.models import AcceptanceOverride, DeathRecord, FormKind, Household, HouseholdState, Person
from enumeration.models.households import household_key
from supervision.progress.summaries.model import OverrideLine

ACCEPTED = (HouseholdState.ACCEPTED, HouseholdState.LOCKED)
SIZE_BANDS = 10  # 1 … 9, 10+
AREA_BANDS = ((0, 49), (50, 69), (70, 89), (90, 119), (120, 149), (150, 199), (200, None))
ROOM_BANDS = 6  # 1 … 5, 6+
LONG_FORM_ITEMS = ("H9", "H13", "H14", "H15", "H16", "H17")


@contextlib.contextmanager
def snapshot() -> Iterator[None]:
    """One consistent snapshot for every query of the summary (nested in a caller's transaction, that
    transaction already is one). JIT is off: the big aggregates are estimated as expensive enough to compile,
    and compiling them takes longer than running them."""
    if connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
        yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            cursor.execute("SET LOCAL jit = off")
        yield


def age_expression() -> Any:
    """Completed years at the reference moment, as ``enumeration.identity.age_at_reference``."""
    return ExpressionWrapper(
        Value(REFERENCE_YEAR)
        - F("d5_birth_year")
        - Case(When(d5_birth_month__gte=REFERENCE_MONTH, then=Value(1)), default=Value(0)),
        output_field=IntegerField(),
    )


PERSON_KEYS = ("township", "age", "edu", "lit", "eth", "d8", "sep")


def person_counts(user: StaffMember) -> dict[str, dict[tuple[Any, ...], int]]:
    """Counts per grouping set: {"township": {(code, sex): n}, "age": {(age, sex): n}, …, "sex": {(sex,): n}}."""
    base = (
        Person.objects.visible_to(user)
        .filter(household__state__in=ACCEPTED, household__form_kind=FormKind.CENSUS)
        .order_by()
        .values(
            township_code=F("township_id"),
            sex=F("d4_sex"),
            age=age_expression(),
            edu=F("d11_education"),
            lit=F("d12_literate"),
            eth=F("d6_ethnicity"),
            d7=F("d7_residence"),
            d8=F("d8_hukou_place"),
            d9=F("d9_away_duration"),
        )
    )
    sql, params = base.query.sql_with_params()
    grouping = ", ".join(f"GROUPING({key}) AS g_{key}" for key in PERSON_KEYS)
    query = f"""
        SELECT {grouping}, township, age, age3, edu, age15, lit, eth, d8, sep, sex, count(*)
        FROM (
            SELECT b.township_code AS township, b.sex, b.age, b.age >= 3 AS age3, b.edu, b.age >= 15 AS age15,
                   b.lit, b.eth, b.d8,
                   CASE WHEN b.d8 = 3 AND b.d9 >= 3 THEN 'within'
                        WHEN b.d8 = 4 AND b.d9 >= 3 THEN 'outside'
                        WHEN b.d8 IN (1, 2) AND b.d7 IN (4, 5) AND b.d9 >= 3 THEN 'away'
                        ELSE 'other' END AS sep
            FROM ({sql}) b
        ) q
        GROUP BY GROUPING SETS (
            (sex), (township, sex), (age, sex), (age3, edu, sex), (age15, lit, sex), (eth, sex), (d8, sex), (sep, sex)
        )
    """
    result: dict[str, dict[tuple[Any, ...], int]] = defaultdict(dict)
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        for row in cursor.fetchall():
            flags = row[: len(PERSON_KEYS)]
            township, age, age3, edu, age15, lit, eth, d8, sep, sex, n = row[len(PERSON_KEYS) :]
            which = next((key for key, flag in zip(PERSON_KEYS, flags, strict=True) if flag == 0), "sex")
            key: tuple[Any, ...] = {
                "sex": (sex,),
                "township": (township, sex),
                "age": (age, sex),
                "edu": (age3, edu, sex),
                "lit": (age15, lit, sex),
                "eth": (eth, sex),
                "d8": (d8, sex),
                "sep": (sep, sex),
            }[which]
            result[which][key] = n
    return result


HOUSEHOLD_KEYS = ("h1", "h5", "area", "rooms", *(item.lower() for item in LONG_FORM_ITEMS))


def household_counts(user: StaffMember) -> dict[str, dict[tuple[Any, ...], dict[str, int]]]:
    """Per grouping set: {"h1": {(h1, size): {"households": n, "persons": p, …}}, "all": {(): {…}}, …}."""
    area_case = " ".join(
        f"WHEN h.h6 <= {high} THEN {index}" if high is not None else f"ELSE {index}"
        for index, (_low, high) in enumerate(AREA_BANDS, start=1)
    )
    base = (
        Household.objects.visible_to(user)
        .filter(state__in=ACCEPTED, form_kind=FormKind.CENSUS)
        .order_by()
        .values(
            "id",
            h1=F("h1_kind"),
            h5=F("h5_residence_type"),
            h6=F("h6_floor_area"),
            h7=F("h7_rooms"),
            sample=F("in_long_form_sample"),
            h9=F("h9_structure"),
            h13=F("h13_piped_water"),
            h14=F("h14_kitchen"),
            h15=F("h15_toilet"),
            h16=F("h16_bathing"),
            h17=F("h17_tenure"),
            h3m=Coalesce("h3_births_male", 0),
            h3f=Coalesce("h3_births_female", 0),
            h4m=Coalesce("h4_deaths_male", 0),
            h4f=Coalesce("h4_deaths_female", 0),
        )
    )
    sql, params = base.query.sql_with_params()
    long_items = [item.lower() for item in LONG_FORM_ITEMS]
    grouping = ", ".join(f"GROUPING({key}) AS g_{key}" for key in HOUSEHOLD_KEYS)
    sets = ", ".join(
        ["()", "(h1, size)", "(h5)", "(own, area)", "(own, rooms)", *(f"(lf, {item})" for item in long_items)]
    )
    query = f"""
        WITH h AS ({sql}),
        ps AS (
            SELECT p.household_id, count(*) AS n
            FROM {Person._meta.db_table} p JOIN h ON h.id = p.household_id
            GROUP BY p.household_id
        )
        SELECT {grouping}, h1, size, h5, own, area, rooms, lf, {", ".join(long_items)},
               count(*), sum(n), sum(h3m), sum(h3f), sum(h4m), sum(h4f)
        FROM (
            SELECT h.*, coalesce(ps.n, 0) AS n, least(coalesce(ps.n, 0), {SIZE_BANDS}) AS size,
                   h.h5 IS NOT DISTINCT FROM 1 AS own,
                   CASE WHEN h.h6 IS NULL THEN NULL {area_case} END AS area,
                   least(h.h7, {ROOM_BANDS}) AS rooms,
                   h.sample AND h.h5 IS NOT DISTINCT FROM 1 AS lf
            FROM h LEFT JOIN ps ON ps.household_id = h.id
        ) q
        GROUP BY GROUPING SETS ({sets})
    """
    result: dict[str, dict[tuple[Any, ...], dict[str, int]]] = defaultdict(dict)
    keys_count = len(HOUSEHOLD_KEYS)
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        for row in cursor.fetchall():
            flags = row[:keys_count]
            h1, size, h5, own, area, rooms, lf = row[keys_count : keys_count + 7]
            items = dict(zip(long_items, row[keys_count + 7 : keys_count + 7 + len(long_items)], strict=True))
            households, persons, h3m, h3f, h4m, h4f = (int(v or 0) for v in row[keys_count + 7 + len(long_items) :])
            which = next((key for key, flag in zip(HOUSEHOLD_KEYS, flags, strict=True) if flag == 0), "all")
            key: tuple[Any, ...]
            if which == "all":
                key = ()
            elif which == "h1":
                key = (h1, size)
            elif which == "h5":
                key = (h5,)
            elif which == "area":
                key = (own, area)
            elif which == "rooms":
                key = (own, rooms)
            else:
                key = (lf, items[which])
            result[which][key] = {
                "households": households,
                "persons": persons,
                "h3m": h3m,
                "h3f": h3f,
                "h4m": h4m,
                "h4f": h4f,
            }
    return result


def households_by_township(user: StaffMember) -> dict[str, dict[str, int]]:
    rows = (
        Household.objects.visible_to(user)
        .filter(form_kind=FormKind.CENSUS)
        .values("township_id")
        .annotate(accepted=Count("pk", filter=Q(state__in=ACCEPTED)), all=Count("pk"))
    )
    return {row["township_id"]: {"accepted": row["accepted"], "all": row["all"]} for row in rows}


def register_deaths(user: StaffMember) -> dict[Any, int]:
    rows = (
        DeathRecord.objects.visible_to(user)
        .filter(household__state__in=ACCEPTED, household__form_kind=FormKind.CENSUS)
        .values("sex")
        .annotate(n=Count("pk"))
    )
    return {row["sex"]: row["n"] for row in rows}


def death_mismatches(user: StaffMember, limit: int = 10) -> list[str]:
    """Accepted households whose H4 disagrees with their death-register rows ("small area-household no")."""
    rows = (
        Household.objects.visible_to(user)
        .filter(state__in=ACCEPTED, form_kind=FormKind.CENSUS)
        .annotate(
            register_m=Count("deaths", filter=Q(deaths__sex=1)),
            register_f=Count("deaths", filter=Q(deaths__sex=2)),
            h4m=Coalesce("h4_deaths_male", 0),
            h4f=Coalesce("h4_deaths_female", 0),
        )
        .exclude(Q(h4m=F("register_m")) & Q(h4f=F("register_f")))
        .values_list("small_area__code", "household_no")
        .order_by("small_area__code", "household_no")[:limit]
    )
    return [f"{code}-{number:03d}" for code, number in rows]


def foreign_persons(user: StaffMember) -> int:
    return (
        Person.objects.visible_to(user)
        .filter(household__state__in=ACCEPTED, household__form_kind=FormKind.FOREIGN)
        .count()
    )


def overrides(user: StaffMember) -> list[OverrideLine]:
    """Every override of the checks on a form the tables count (accepted or locked census forms), oldest first."""
    rows = (
        AcceptanceOverride.objects.visible_to(user)
        .filter(household__state__in=ACCEPTED, household__form_kind=FormKind.CENSUS)
        .select_related("household__small_area", "actor")
        .order_by("created_at", "id")
    )
    return [
        OverrideLine(
            household=household_key(row.household.small_area.code, row.household.household_no),
            at=timezone.localtime(row.created_at).strftime("%Y-%m-%d %H:%M"),
            by=row.actor.get_username(),
            reason=row.reason,
            blockers="；".join(str(b.get("text", "")) for b in row.blockers if isinstance(b, dict)),
        )
        for row in rows
    ]
