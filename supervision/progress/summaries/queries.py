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

from django.db import transaction
from django.db.models import Case, Count, Exists, ExpressionWrapper, F, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from census.db_router import read_connection
from census.models import StaffMember
from enumeration.identity import REFERENCE_MONTH, REFERENCE_YEAR
from enumeration.models import (
    AcceptanceOverride,
    DeathRecord,
    FormKind,
    Household,
    HouseholdState,
    LongFormSample,
    Person,
)
from enumeration.models.households import household_key
from supervision.progress.summaries import population
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
    # (On the replica when the caller reads from it: census.db_router.replica_reads.)
    connection = read_connection()
    if connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
        yield
        return
    with transaction.atomic(using=connection.alias):
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


# The grouping sets of the person scan: name → grouped columns (``sex`` is in every set). ``res`` (resident,
# 常住人口) is in every set but the first, so those count residents; a row is told to its set by which columns
# it is grouped by.
PERSON_SETS: dict[str, tuple[str, ...]] = {
    "status": ("status", "township"),
    "sex": ("res",),
    "age": ("res", "age"),
    "edu": ("res", "age3", "edu"),
    "edu6": ("res", "age6", "edu"),
    "edu15": ("res", "age15", "edu"),
    "lit": ("res", "age15", "lit"),
    "eth": ("res", "eth"),
    "d8": ("res", "d8"),
    "ur": ("res", "ur"),
    "mig": ("res", "status", "d10"),
}
PERSON_COLUMNS = ("res", "status", "township", "age", "age3", "age6", "age15", "edu", "lit", "eth", "d8", "ur", "d10")


def person_counts(user: StaffMember) -> dict[str, dict[tuple[Any, ...], int]]:
    """Counts per grouping set. ``"status"``: every person on an accepted census form by population status
    (``population``), township and sex, ``{(status, township, sex): n}``; ``"township"``: the resident
    population (常住人口) by township and sex; every other set counts the resident population only, keyed by
    its columns (without ``res``) and sex: ``"age"`` ``{(age, sex): n}``, ``"ur"`` ``{(urban-rural code,
    sex): n}``, ``"mig"`` ``{(status, D10, sex): n}`` …"""
    base = (
        Person.objects.counted_by(user)
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
            d10=F("d10_away_reason"),
            d8_county=F("d8_hukou_county"),
            ur=F("village__urban_rural_code"),
        )
    )
    sql, params = base.query.sql_with_params()
    grouping = ", ".join(f"GROUPING({column}) AS g_{column}" for column in PERSON_COLUMNS)
    # (Each person judged against the district of their township.)
    status = population.status_sql("b.d7", "b.d8", "b.d9", "b.d8_county", district="left(b.township_code, 6)")
    sets = ", ".join(f"({', '.join((*columns, 'sex'))})" for columns in PERSON_SETS.values())
    query = f"""
        SELECT {grouping}, {", ".join(PERSON_COLUMNS)}, sex, count(*)
        FROM (
            SELECT s.*, s.status IN {population.in_sql(population.RESIDENT)} AS res
            FROM (
                SELECT b.township_code AS township, b.sex, b.age, b.age >= 3 AS age3, b.age >= 6 AS age6,
                       b.age >= 15 AS age15, b.edu, b.lit, b.eth, b.d8, b.d10, b.ur,
                       {status} AS status
                FROM ({sql}) b
            ) s
        ) q
        GROUP BY GROUPING SETS ({sets})
    """
    which_set = {frozenset(columns): name for name, columns in PERSON_SETS.items()}
    result: dict[str, dict[tuple[Any, ...], int]] = defaultdict(dict)
    count = len(PERSON_COLUMNS)
    with read_connection().cursor() as cursor:
        cursor.execute(query, params)
        for row in cursor.fetchall():
            values = dict(zip(PERSON_COLUMNS, row[count : 2 * count], strict=True))
            grouped = frozenset(column for column, flag in zip(PERSON_COLUMNS, row[:count], strict=True) if flag == 0)
            which = which_set[grouped]
            sex, n = row[2 * count], row[2 * count + 1]
            if which == "status":
                result["status"][(values["status"], values["township"], sex)] = n
                if values["status"] in population.RESIDENT:
                    key_township = (values["township"], sex)
                    result["township"][key_township] = result["township"].get(key_township, 0) + n
                continue
            if not values["res"]:
                continue
            key = tuple(values[column] for column in PERSON_SETS[which] if column != "res")
            result[which][(*key, sex)] = n
    return result


HOUSEHOLD_KEYS = ("h1", "h5", "area", "rooms", *(item.lower() for item in LONG_FORM_ITEMS))


def household_counts(user: StaffMember) -> dict[str, dict[tuple[Any, ...], dict[str, int]]]:
    """Per grouping set: {"h1": {(h1, size): {"households": n, "persons": p, …}}, "all": {(): {…}}, …}."""
    area_case = " ".join(
        f"WHEN h.h6 <= {high} THEN {index}" if high is not None else f"ELSE {index}"
        for index, (_low, high) in enumerate(AREA_BANDS, start=1)
    )
    base = (
        Household.objects.counted_by(user)
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
    with read_connection().cursor() as cursor:
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
        Household.objects.counted_by(user)
        .filter(form_kind=FormKind.CENSUS)
        .values("township_id")
        .annotate(accepted=Count("pk", filter=Q(state__in=ACCEPTED)), all=Count("pk"))
    )
    return {row["township_id"]: {"accepted": row["accepted"], "all": row["all"]} for row in rows}


def register_deaths(user: StaffMember) -> dict[Any, int]:
    rows = (
        DeathRecord.objects.counted_by(user)
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


def coverage(user: StaffMember) -> dict[str, dict[str, int]]:
    """Accepted and all households per kind of form, ``{"census": {"accepted": a, "all": n}, "foreign": …}`` —
    the figures the exports page shows (it counts every form), split by kind."""
    rows = (
        Household.objects.counted_by(user)
        .values("form_kind")
        .annotate(accepted=Count("pk", filter=Q(state__in=ACCEPTED)), all=Count("pk"))
    )
    found = {row["form_kind"]: {"accepted": row["accepted"], "all": row["all"]} for row in rows}
    return {kind: found.get(kind, {"accepted": 0, "all": 0}) for kind in (FormKind.CENSUS, FormKind.FOREIGN)}


FOREIGN_SETS = ("identity", "stay", "purpose")


def foreign_counts(user: StaffMember) -> dict[str, dict[tuple[Any, ...], int]]:
    """Persons on accepted 港澳台/外籍 forms: ``{"sex": {(sex,): n}, "identity": {(code, sex): n}, …}``."""
    rows = (
        Person.objects.counted_by(user)
        .filter(household__state__in=ACCEPTED, household__form_kind=FormKind.FOREIGN)
        .order_by()
        .values("d4_sex", "f_identity", "f_stay", "f_purpose")
        .annotate(n=Count("pk"))
    )
    result: dict[str, dict[tuple[Any, ...], int]] = defaultdict(dict)
    for found in rows:
        row: dict[str, Any] = dict(found)
        sex = row["d4_sex"]
        result["sex"][(sex,)] = result["sex"].get((sex,), 0) + row["n"]
        for name, field in zip(FOREIGN_SETS, ("f_identity", "f_stay", "f_purpose"), strict=True):
            key = (row[field], sex)
            result[name][key] = result[name].get(key, 0) + row["n"]
    return result


LONG_FORM_PERSON_ITEMS = ("c18", "c19", "c23")


def long_form_person_counts(user: StaffMember, *, min_age: int, default_weight: float) -> dict[str, Any]:
    """Residents aged ``min_age`` and over in accepted long-form households, by C18 work, C19 type of unit and
    C23 livelihood and sex: ``{item: {(code, sex): (persons, weighted)}}`` and ``"sex"``.

    The weight of a household is the inverse of its inclusion probability: the village's frame size over its
    sample size (``LongFormSample``); a sampled household of a village with no recorded draw gets
    ``default_weight`` (1 ÷ the sampling rate)."""
    base = (
        Person.objects.counted_by(user)
        .filter(
            household__state__in=ACCEPTED, household__form_kind=FormKind.CENSUS, household__in_long_form_sample=True
        )
        .order_by()
        .values(
            sex=F("d4_sex"),
            age=age_expression(),
            village_code=F("village_id"),
            d7=F("d7_residence"),
            d8=F("d8_hukou_place"),
            d9=F("d9_away_duration"),
            d8_county=F("d8_hukou_county"),
            c18=F("c18_work"),
            c19=F("c19_unit_type"),
            c23=F("c23_livelihood"),
        )
    )
    sql, params = base.query.sql_with_params()
    sets = ", ".join([*(f"({item}, sex)" for item in LONG_FORM_PERSON_ITEMS), "(sex)"])
    grouping = ", ".join(f"GROUPING({item})" for item in LONG_FORM_PERSON_ITEMS)
    status = population.status_sql("b.d7", "b.d8", "b.d9", "b.d8_county", district="left(b.village_code, 6)")
    resident = f"{status} IN {population.in_sql(population.RESIDENT)}"
    query = f"""
        SELECT {grouping}, {", ".join(LONG_FORM_PERSON_ITEMS)}, sex, count(*), sum(w)
        FROM (
            SELECT b.*, coalesce(s.frame_size::numeric / nullif(s.sample_size, 0), %s) AS w
            FROM ({sql}) b LEFT JOIN {LongFormSample._meta.db_table} s ON s.village_id = b.village_code
            WHERE b.age >= %s
              AND {resident}
        ) q
        GROUP BY GROUPING SETS ({sets})
    """
    result: dict[str, Any] = defaultdict(dict)
    count = len(LONG_FORM_PERSON_ITEMS)
    with read_connection().cursor() as cursor:
        cursor.execute(query, [default_weight, *params, min_age])
        for row in cursor.fetchall():
            flags, codes = row[:count], row[count : 2 * count]
            sex, n, weighted = row[2 * count], row[2 * count + 1], float(row[2 * count + 2] or 0)
            which = next((item for item, flag in zip(LONG_FORM_PERSON_ITEMS, flags, strict=True) if flag == 0), "sex")
            code = codes[LONG_FORM_PERSON_ITEMS.index(which)] if which != "sex" else None
            result[which][(sex,) if which == "sex" else (code, sex)] = (n, weighted)
    return result


def long_form_weights(user: StaffMember) -> list[tuple[str, int, int]]:
    """(village, frame size, sample size) of every drawn sample the user sees, for the table's statement."""
    return list(
        LongFormSample.objects.counted_by(user)
        .order_by("village_id")
        .values_list("village_id", "frame_size", "sample_size")
    )


def _overrides_counted(user: StaffMember, *, named: bool) -> tuple[QuerySet[Any], QuerySet[Any]]:
    """The overrides of the checks on forms the tables count (accepted or locked census forms): of single forms,
    and of the re-check of whole small areas. ``named``: those the user may read (``visible_to``); otherwise
    those of the forms their counts are made of (``counted_by``: a city office counts them, never reads them)."""
    from supervision.completeness.models import RecheckOverride

    if named:
        forms, areas = AcceptanceOverride.objects.visible_to(user), RecheckOverride.objects.visible_to(user)
    else:
        forms, areas = AcceptanceOverride.objects.counted_by(user), RecheckOverride.objects.counted_by(user)
    forms = forms.filter(household__state__in=ACCEPTED, household__form_kind=FormKind.CENSUS)
    areas = areas.filter(
        Exists(
            Household.objects.filter(
                small_area_id=OuterRef("area__small_area_id"), state__in=ACCEPTED, form_kind=FormKind.CENSUS
            )
        )
    )
    return forms, areas


def override_count(user: StaffMember) -> int:
    """How many overrides the counted forms passed (what a city's tables say of them: how many, not which)."""
    forms, areas = _overrides_counted(user, named=False)
    return forms.count() + areas.count()


def overrides(user: StaffMember) -> list[OverrideLine]:
    """Every override of the checks on a form the tables count (accepted or locked census forms), oldest first."""
    forms, areas = _overrides_counted(user, named=True)
    rows = forms.select_related("household__small_area", "actor").order_by("created_at", "id")
    lines = [
        OverrideLine(
            household=household_key(row.household.small_area.code, row.household.household_no),
            at=timezone.localtime(row.created_at).strftime("%Y-%m-%d %H:%M"),
            by=row.actor.get_username(),
            reason=row.reason,
            blockers="；".join(str(b.get("text", "")) for b in row.blockers if isinstance(b, dict)),
        )
        for row in rows
    ]
    # The re-check's override covers a whole small area (every form of it the tables count): one line, keyed by
    # the small area's code and "*" for its forms.
    area_rows = areas.select_related("area__small_area", "actor").order_by("created_at", "id")
    lines.extend(
        OverrideLine(
            household=f"{row.area.small_area.code}-*",
            at=timezone.localtime(row.created_at).strftime("%Y-%m-%d %H:%M"),
            by=row.actor.get_username(),
            reason=row.reason,
            blockers=row.text,
        )
        for row in area_rows
    )
    return lines
