"""The district bureau's summary tables, from accepted forms only (state accepted or locked).

Everything is read in one REPEATABLE READ snapshot, so the tables describe the same moment even while
registration goes on, in four queries whatever the size of the district:

- persons: one scan of the accepted persons with ``GROUPING SETS`` (township × sex, age × sex,
  education × sex, literacy × sex, ethnicity × sex, hukou place × sex, 人户分离 × sex, and sex alone for the
  totals);
- households: one scan of the accepted households, with their person counts, again with grouping sets;
- households per township and state (the share still pending acceptance);
- death-register rows by sex.

Persons are those of census forms (普查表); residents from Hong Kong, Macao and Taiwan and foreigners
(``form_kind = foreign``) are not part of the population and are only counted in a note, as in the
national communiqués.

人户分离 (living away from the township of hukou registration for half a year or more), as counted here:

- **resident here, hukou in another township**: D8 ∈ {3 本县其他乡镇, 4 其他县} and D9 ≥ 3 (away half a year
  or more). This is the census definition (persons counted where they live); T08's first two rows.
- **hukou here, living in another township**: D8 ∈ {1, 2} (hukou in this township), D7 ∈ {4, 5} (at the
  reference moment in another township or county) and D9 ≥ 3. These persons are also registered where they
  live, so they are shown separately and not added to 人户分离 (that would count them twice nationally).
- A person living in another village or small area *of the same township* (D7 ∈ {2, 3}) is not 人户分离 under
  the township definition.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, Count, ExpressionWrapper, F, IntegerField, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from census.models import StaffMember, Township
from enumeration.codes import ETHNIC_GROUPS, code_list
from enumeration.identity import REFERENCE_MONTH, REFERENCE_YEAR
from enumeration.models import DeathRecord, FormKind, Household, HouseholdState, Person
from supervision.progress.summaries.model import Block, Column, Markings, Row, Summary, SummaryTable

ACCEPTED = (HouseholdState.ACCEPTED, HouseholdState.LOCKED)
AGE_GROUPS = 21  # 0–4 … 95–99, 100+
SIZE_BANDS = 10  # 1 … 9, 10+
AREA_BANDS = ((0, 49), (50, 69), (70, 89), (90, 119), (120, 149), (150, 199), (200, None))
ROOM_BANDS = 6  # 1 … 5, 6+
LONG_FORM_ITEMS = ("H9", "H13", "H14", "H15", "H16", "H17")
NOT_STATED = "not_stated"


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


def markings() -> dict[str, Markings]:
    config = settings.CENSUS_TABLE_MARKINGS
    return {
        code: Markings(
            table_no=number,
            authority=config["authority"],
            document_no=config["document_no"],
            valid_until=config["valid_until"],
        )
        for code, number in config["table_numbers"].items()
    }


# --- queries ------------------------------------------------------------------------------------------------


def age_expression() -> Any:
    """Completed years at the reference moment, as ``enumeration.identity.age_at_reference``."""
    return ExpressionWrapper(
        Value(REFERENCE_YEAR)
        - F("d5_birth_year")
        - Case(When(d5_birth_month__gte=REFERENCE_MONTH, then=Value(1)), default=Value(0)),
        output_field=IntegerField(),
    )


PERSON_KEYS = ("township", "age", "edu", "lit", "eth", "d8", "sep")


def _person_counts(user: StaffMember) -> dict[str, dict[tuple[Any, ...], int]]:
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


def _household_counts(user: StaffMember) -> dict[str, dict[tuple[Any, ...], dict[str, int]]]:
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


def _households_by_township(user: StaffMember) -> dict[str, dict[str, int]]:
    rows = (
        Household.objects.visible_to(user)
        .filter(form_kind=FormKind.CENSUS)
        .values("township_id")
        .annotate(accepted=Count("pk", filter=Q(state__in=ACCEPTED)), all=Count("pk"))
    )
    return {row["township_id"]: {"accepted": row["accepted"], "all": row["all"]} for row in rows}


def _register_deaths(user: StaffMember) -> dict[Any, int]:
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


def _foreign_persons(user: StaffMember) -> int:
    return (
        Person.objects.visible_to(user)
        .filter(household__state__in=ACCEPTED, household__form_kind=FormKind.FOREIGN)
        .count()
    )


# --- tables -------------------------------------------------------------------------------------------------


def _sexes() -> list[Column]:
    return [
        Column("total", _("Total"), parts=("male", "female")),
        Column("male", _("Male")),
        Column("female", _("Female")),
    ]


def _by_sex(counts: dict[tuple[Any, ...], int], *prefix: Any) -> dict[str, int]:
    male = counts.get((*prefix, 1), 0)
    female = counts.get((*prefix, 2), 0)
    return {"total": male + female, "male": male, "female": female}


def _sum_by_sex(counts: dict[tuple[Any, ...], int], keep: Any) -> dict[str, int]:
    male = sum(n for key, n in counts.items() if key[-1] == 1 and keep(key[:-1]))
    female = sum(n for key, n in counts.items() if key[-1] == 2 and keep(key[:-1]))
    return {"total": male + female, "male": male, "female": female}


def _total_row(persons: dict[str, dict[tuple[Any, ...], int]]) -> Row:
    return Row("total", _("Total"), _by_sex(persons["sex"]))


def _ratio(male: int, female: int) -> float | None:
    return round(100 * male / female, 2) if female else None


def _share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 2) if whole else None


def _t01(
    townships: list[Township], persons: dict[str, Any], by_township: dict[str, dict[str, int]], households: int
) -> SummaryTable:
    columns = [
        Column("households", _("Accepted households")),
        Column("persons", _("Population"), parts=("male", "female")),
        Column("male", _("Male")),
        Column("female", _("Female")),
        Column("sex_ratio", _("Sex ratio (female = 100)"), additive=False),
        Column("pending", _("Households not yet accepted")),
        Column("pending_share", _("Share not yet accepted (%)"), additive=False),
    ]
    rows = []
    for township in townships:
        sexes = _by_sex(persons["township"], township.code)
        counts = by_township.get(township.code, {"accepted": 0, "all": 0})
        pending = counts["all"] - counts["accepted"]
        rows.append(
            Row(
                township.code,
                f"{township.code} {township.name}",
                {
                    "households": counts["accepted"],
                    "persons": sexes["total"],
                    "male": sexes["male"],
                    "female": sexes["female"],
                    "sex_ratio": _ratio(sexes["male"], sexes["female"]),
                    "pending": pending,
                    "pending_share": _share(pending, counts["all"]),
                },
            )
        )
    all_households = sum(counts["all"] for counts in by_township.values())
    sexes = _by_sex(persons["sex"])
    pending_total = all_households - households
    total = Row(
        "total",
        _("Total"),
        {
            "households": households,
            "persons": sexes["total"],
            "male": sexes["male"],
            "female": sexes["female"],
            "sex_ratio": _ratio(sexes["male"], sexes["female"]),
            "pending": pending_total,
            "pending_share": _share(pending_total, all_households),
        },
    )
    return SummaryTable(
        "T01",
        _title("T01"),
        _("Persons on accepted census forms, by the township of the form"),
        columns,
        [Block("townships", "", rows, total)],
    )


def _t02(persons: dict[str, Any]) -> SummaryTable:
    ages = persons["age"]
    rows = []
    for group in range(AGE_GROUPS):
        low = group * 5
        label = _("%(low)d–%(high)d") % {"low": low, "high": low + 4} if group < AGE_GROUPS - 1 else _("100 and over")
        high = low + 4 if group < AGE_GROUPS - 1 else None
        rows.append(
            Row(
                f"{low}",
                label,
                _sum_by_sex(ages, lambda key, low=low, high=high: key[0] >= low and (high is None or key[0] <= high)),
            )
        )
    return SummaryTable(
        "T02",
        _title("T02"),
        _("Persons on accepted census forms; age in completed years at 2020-11-01"),
        _sexes(),
        [Block("ages", "", rows, _total_row(persons))],
    )


def _t03(households: dict[str, Any]) -> SummaryTable:
    by_kind = households["h1"]
    columns = [
        Column("family", code_list("H1").label(1)),
        Column("collective", code_list("H1").label(2)),
        Column("kind_not_stated", _("Type not stated")),
        Column("households", _("Number of households"), parts=("family", "collective", "kind_not_stated")),
        Column("persons", _("Persons")),
    ]
    rows = []
    for size in range(0, SIZE_BANDS + 1):
        label = (
            _("0 persons (all members died, 999)")
            if size == 0
            else (_("%(n)d persons") % {"n": size} if size < SIZE_BANDS else _("%(n)d persons or more") % {"n": size})
        )
        cells = {
            kind: by_kind.get((code, size), {}).get("households", 0)
            for kind, code in (("family", 1), ("collective", 2), ("kind_not_stated", None))
        }
        persons = sum(by_kind.get((code, size), {}).get("persons", 0) for code in (1, 2, None))
        rows.append(Row(str(size), label, {**cells, "households": sum(cells.values()), "persons": persons}))
    everything = households["all"].get((), {"households": 0, "persons": 0})
    total = Row(
        "total",
        _("Total"),
        {
            "family": sum(by_kind.get(key, {}).get("households", 0) for key in by_kind if key[0] == 1),
            "collective": sum(by_kind.get(key, {}).get("households", 0) for key in by_kind if key[0] == 2),
            "kind_not_stated": sum(by_kind.get(key, {}).get("households", 0) for key in by_kind if key[0] is None),
            "households": everything["households"],
            "persons": everything["persons"],
        },
    )
    family = total.get("family") or 0
    family_persons = sum(value["persons"] for key, value in by_kind.items() if key[0] == 1)
    notes = []
    if family:
        notes.append(_("Average size of a family household: %(n).2f persons.") % {"n": family_persons / family})
    return SummaryTable(
        "T03",
        _title("T03"),
        _("Accepted census forms; size = persons registered on the form"),
        columns,
        [Block("sizes", "", rows, total)],
        notes,
    )


def _coded_rows(counts: dict[tuple[Any, ...], int], item: str, prefix: tuple[Any, ...]) -> list[Row]:
    rows = [
        Row(str(code), f"{code} {code_list(item).label(code)}", _by_sex(counts, *prefix, code))
        for code in sorted(code_list(item).codes)
    ]
    rows.append(Row(NOT_STATED, _("Not stated"), _by_sex(counts, *prefix, None)))
    return rows


def _t04(persons: dict[str, Any]) -> SummaryTable:
    counts = persons["edu"]
    rows = _coded_rows(counts, "D11", (True,))
    rows.append(Row("under_3", _("Under 3 (not asked)"), _sum_by_sex(counts, lambda key: key[0] is False)))
    return SummaryTable(
        "T04",
        _title("T04"),
        _("Persons on accepted census forms; D11 is asked of persons aged 3 and over"),
        _sexes(),
        [Block("education", "", rows, _total_row(persons))],
    )


def _t05(persons: dict[str, Any]) -> SummaryTable:
    counts = persons["lit"]
    rows = [
        Row("1", _("Literate"), _by_sex(counts, True, 1)),
        Row("2", _("Illiterate"), _by_sex(counts, True, 2)),
        Row(NOT_STATED, _("Not stated"), _by_sex(counts, True, None)),
        Row("under_15", _("Under 15 (not asked)"), _sum_by_sex(counts, lambda key: key[0] is False)),
    ]
    aged = sum(rows[index].count("total") for index in range(3))
    notes = []
    if aged:
        notes.append(
            _("Illiteracy rate of persons aged 15 and over: %(rate).2f%%.")
            % {"rate": 100 * rows[1].count("total") / aged}
        )
    return SummaryTable(
        "T05",
        _title("T05"),
        _("Persons on accepted census forms; D12 is asked of persons aged 15 and over"),
        _sexes(),
        [Block("literacy", "", rows, _total_row(persons))],
        notes,
    )


def _t06(persons: dict[str, Any]) -> SummaryTable:
    counts = persons["eth"]
    present = sorted({key[0] for key in counts if key[0]} | {"01"})
    rows = [Row(code, f"{code} {ETHNIC_GROUPS.get(code, code)}", _by_sex(counts, code)) for code in present]
    rows.append(Row(NOT_STATED, _("Not stated"), _sum_by_sex(counts, lambda key: not key[0])))
    minorities = sum(row.count("total") for row in rows if row.key not in ("01", NOT_STATED))
    return SummaryTable(
        "T06",
        _title("T06"),
        _("Persons on accepted census forms; ethnic groups with at least one person"),
        _sexes(),
        [Block("ethnicity", "", rows, _total_row(persons))],
        [_("Ethnic minorities together: %(n)d persons.") % {"n": minorities}],
    )


def _t07(persons: dict[str, Any]) -> SummaryTable:
    return SummaryTable(
        "T07",
        _title("T07"),
        _("Persons on accepted census forms (D8)"),
        _sexes(),
        [Block("hukou", "", _coded_rows(persons["d8"], "D8", ()), _total_row(persons))],
    )


def _t08(persons: dict[str, Any]) -> SummaryTable:
    counts = persons["sep"]
    rows = [
        Row(
            "within", _("Hukou in another township of this county, away half a year or more"), _by_sex(counts, "within")
        ),
        Row("outside", _("Hukou in another county, away half a year or more"), _by_sex(counts, "outside")),
        Row(
            "away",
            _("Hukou in this township, living in another township or county half a year or more"),
            _by_sex(counts, "away"),
        ),
        Row("other", _("Other persons"), _by_sex(counts, "other")),
    ]
    separated = rows[0].count("total") + rows[1].count("total")
    return SummaryTable(
        "T08",
        _title("T08"),
        _("Persons on accepted census forms; away = D9 half a year or more"),
        _sexes(),
        [Block("separation", "", rows, _total_row(persons))],
        [
            _("人户分离 (resident here, hukou in another township or county, away half a year or more): %(n)d persons.")
            % {"n": separated},
            _(
                "Persons with hukou here who live in another township are registered where they live too; they are "
                "shown for the hukou view and not added to 人户分离."
            ),
        ],
    )


def _t09(
    persons: dict[str, Any], households: dict[str, Any], register: dict[Any, int], mismatches: list[str]
) -> SummaryTable:
    everything = households["all"].get((), {"h3m": 0, "h3f": 0, "h4m": 0, "h4f": 0})
    population = sum(persons["sex"].values())
    infants = _sum_by_sex(persons["age"], lambda key: key[0] == 0)

    def row(key: str, label: str, male: int, female: int) -> Row:
        total = male + female
        rate = round(1000 * total / population, 2) if population else None
        return Row(key, label, {"total": total, "male": male, "female": female, "rate": rate})

    rows = [
        row("births", _("Births, H3 (2019-11-01 – 2020-10-31)"), everything["h3m"], everything["h3f"]),
        row("infants", _("Persons aged 0 registered"), infants["male"], infants["female"]),
        row("deaths", _("Deaths, H4 (2019-11-01 – 2020-10-31)"), everything["h4m"], everything["h4f"]),
        row("register", _("Rows of the death register (死亡人口调查表)"), register.get(1, 0), register.get(2, 0)),
    ]
    notes = [_("The rows are not added up: births and deaths are events, the aged-0 row a cross-check of H3.")]
    if mismatches:
        notes.append(_("H4 differs from the death register in: %(list)s") % {"list": ", ".join(mismatches)})
    return SummaryTable(
        "T09",
        _title("T09"),
        _("Accepted census forms; rates per 1,000 population"),
        [*_sexes(), Column("rate", _("Per 1,000 population (‰)"), additive=False)],
        [Block("events", "", rows, None)],
        notes,
    )


def _household_rows(
    counts: dict[tuple[Any, ...], dict[str, int]], keys: list[tuple[str, str, tuple[Any, ...]]]
) -> list[Row]:
    return [
        Row(
            key,
            label,
            {
                "households": counts.get(lookup, {}).get("households", 0),
                "persons": counts.get(lookup, {}).get("persons", 0),
            },
        )
        for key, label, lookup in keys
    ]


def _block_total(rows_counts: dict[tuple[Any, ...], dict[str, int]], keep: Any) -> Row:
    chosen = [value for key, value in rows_counts.items() if keep(key)]
    return Row(
        "total",
        _("Total"),
        {"households": sum(v["households"] for v in chosen), "persons": sum(v["persons"] for v in chosen)},
    )


def _t10(households: dict[str, Any]) -> SummaryTable:
    everything = households["all"].get((), {"households": 0, "persons": 0})
    h5 = households["h5"]
    residence = _household_rows(
        h5,
        [(str(code), f"{code} {code_list('H5').label(code)}", (code,)) for code in sorted(code_list("H5").codes)]
        + [(NOT_STATED, _("Not stated (全户死亡户 or missing)"), (None,))],
    )
    residence_total = Row(
        "total", _("Total"), {"households": everything["households"], "persons": everything["persons"]}
    )
    area_rows: list[tuple[str, str, tuple[Any, ...]]] = []
    for index, (low, high) in enumerate(AREA_BANDS, start=1):
        label = (
            _("%(low)d–%(high)d m²") % {"low": low, "high": high}
            if high is not None
            else _("%(low)d m² and over") % {"low": low}
        )
        area_rows.append((str(index), label, (True, index)))
    area_rows.append((NOT_STATED, _("Not stated"), (True, None)))
    rooms_rows: list[tuple[str, str, tuple[Any, ...]]] = [
        (str(n), _("%(n)d rooms") % {"n": n} if n < ROOM_BANDS else _("%(n)d rooms or more") % {"n": n}, (True, n))
        for n in range(1, ROOM_BANDS + 1)
    ]
    rooms_rows.append((NOT_STATED, _("Not stated"), (True, None)))
    blocks = [
        Block("residence", _("By type of residence (H5)"), residence, residence_total),
        Block(
            "area",
            _("Ordinary dwellings by floor area (H6)"),
            _household_rows(households["area"], area_rows),
            _block_total(households["h5"], lambda key: key == (1,)),
        ),
        Block(
            "rooms",
            _("Ordinary dwellings by rooms (H7)"),
            _household_rows(households["rooms"], rooms_rows),
            _block_total(households["h5"], lambda key: key == (1,)),
        ),
    ]
    return SummaryTable(
        "T10",
        _title("T10"),
        _("Accepted census forms; H6 and H7 are asked of ordinary dwellings (H5 = 1)"),
        [Column("households", _("Number of households")), Column("persons", _("Persons"))],
        blocks,
    )


def _t11(households: dict[str, Any]) -> SummaryTable:
    titles = {
        "h9": _("Load-bearing structure (H9)"),
        "h13": _("Piped water (H13)"),
        "h14": _("Kitchen (H14)"),
        "h15": _("Toilet (H15)"),
        "h16": _("Bathing facilities (H16)"),
        "h17": _("Tenure (H17)"),
    }
    blocks = []
    for item in LONG_FORM_ITEMS:
        key = item.lower()
        counts = households[key]
        rows = _household_rows(
            counts,
            [
                (str(code), f"{code} {code_list(item).label(code)}", (True, code))
                for code in sorted(code_list(item).codes)
            ]
            + [(NOT_STATED, _("Not stated"), (True, None))],
        )
        blocks.append(Block(key, titles[key], rows, _block_total(counts, lambda k: k[0] is True)))
    return SummaryTable(
        "T11",
        _title("T11"),
        _("Accepted long-form households in ordinary dwellings (10% sample, H5 = 1)"),
        [Column("households", _("Number of households")), Column("persons", _("Persons"))],
        blocks,
    )


def table_titles() -> list[tuple[str, str]]:
    """The tables of the summary, for the exports page (the same titles the tables carry)."""
    return [
        ("T01", _("Population by township and sex")),
        ("T02", _("Population by five-year age group and sex")),
        ("T03", _("Households by type and size")),
        ("T04", _("Persons aged 3 and over by education and sex")),
        ("T05", _("Persons aged 15 and over by literacy and sex")),
        ("T06", _("Population by ethnic group and sex")),
        ("T07", _("Population by place of hukou registration and sex")),
        ("T08", _("Persons living away from their hukou township (人户分离)")),
        ("T09", _("Births and deaths in the census year")),
        ("T10", _("Households by type of residence, floor area and rooms")),
        ("T11", _("Long form: housing structure, facilities and tenure")),
    ]


def _title(code: str) -> str:
    return dict(table_titles())[code]


def build_summary(*, user: StaffMember) -> Summary:
    """All summary tables as the user may see them (the district office: the whole district)."""
    with snapshot():
        townships = list(Township.objects.visible_to(user).order_by("code"))
        persons = _person_counts(user)
        households = _household_counts(user)
        by_township = _households_by_township(user)
        register = _register_deaths(user)
        foreign = _foreign_persons(user)
        h4 = households["all"].get((), {"h4m": 0, "h4f": 0})
        mismatches = (
            death_mismatches(user) if (h4["h4m"], h4["h4f"]) != (register.get(1, 0), register.get(2, 0)) else []
        )
    households_total = households["all"].get((), {"households": 0})["households"]
    all_households = sum(counts["all"] for counts in by_township.values())
    pending = all_households - households_total
    pending_note = _(
        "From accepted forms only: %(accepted)d of %(all)d households; %(pending)d households (%(share)s%%) are "
        "still pending acceptance."
    ) % {
        "accepted": households_total,
        "all": all_households,
        "pending": pending,
        "share": f"{_share(pending, all_households) or 0:.2f}",
    }
    tables = [
        _t01(townships, persons, by_township, households_total),
        _t02(persons),
        _t03(households),
        _t04(persons),
        _t05(persons),
        _t06(persons),
        _t07(persons),
        _t08(persons),
        _t09(persons, households, register, mismatches),
        _t10(households),
        _t11(households),
    ]
    if foreign:
        tables[0].notes.append(
            _("Not in the population: %(n)d residents from Hong Kong, Macao and Taiwan and foreigners.")
            % {"n": foreign}
        )
    return Summary(tables=tables, markings=markings(), pending_note=pending_note, death_mismatches=mismatches)
