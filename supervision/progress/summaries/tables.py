"""The eleven summary tables (T01–T11), built from the counts of ``queries``: rows from one grouping set,
totals from another, so that the balance check compares independent figures."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.utils.translation import gettext as _

from census.models import District, Township
from census.models.areas import UrbanRuralCode
from enumeration.codes import ETHNIC_GROUPS, code_list
from supervision.progress.summaries import population
from supervision.progress.summaries.model import Block, Column, Row, SummaryTable
from supervision.progress.summaries.queries import AREA_BANDS, LONG_FORM_ITEMS, ROOM_BANDS, SIZE_BANDS

AGE_GROUPS = 21  # 0–4 … 95–99, 100+
NOT_STATED = "not_stated"


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
    """A ratio: one decimal (percentages have two), as the bureau prints them."""
    return round(100 * male / female, 1) if female else None


def share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 2) if whole else None


def _status_sexes(persons: dict[str, Any], statuses: tuple[str, ...], township: str | None = None) -> dict[str, int]:
    """Persons of the given population statuses by sex, in one township or (``None``) the district."""
    return _sum_by_sex(persons["status"], lambda key: key[0] in statuses and (township is None or key[1] == township))


def _judged_sexes(
    persons: dict[str, Any], counts: Callable[[str, str], bool], township: str | None = None
) -> dict[str, int]:
    """Persons by sex whose status ``counts`` in a concept in the district they were registered in (市辖区内 and
    流动人口 depend on it), in one township or (``None``) everywhere."""
    return _sum_by_sex(
        persons["status"],
        lambda key: counts(key[0], key[1][:6]) and (township is None or key[1] == township),
    )


def _concepts(persons: dict[str, Any], township: str | None) -> dict[str, int]:
    """The population concepts beside 常住人口 (``population``): 户籍人口, 人户分离 (市辖区内 and 流动人口),
    外出半年以上 and every person registered on the forms."""
    return {
        "hukou": _status_sexes(persons, population.HUKOU, township)["total"],
        "separated": _status_sexes(persons, population.SEPARATED, township)["total"],
        "within_city": _judged_sexes(persons, population.within_city, township)["total"],
        "floating": _judged_sexes(persons, population.floating, township)["total"],
        "away_long": _status_sexes(persons, population.AWAY_LONG, township)["total"],
        "registered": _status_sexes(persons, population.STATUSES, township)["total"],
    }


def concept_columns() -> list[Column]:
    return [
        Column("hukou", _("Hukou population (户籍人口)")),
        Column("separated", _("Living away from the hukou township (人户分离)"), parts=("within_city", "floating")),
        Column("within_city", _("of which within the city's districts (市辖区内)")),
        Column("floating", _("of which floating population (流动人口)")),
        Column("away_long", _("Hukou here, away half a year or more (外出半年以上)")),
    ]


def t01(
    areas: Sequence[Township | District],
    persons: dict[str, Any],
    by_area: dict[str, dict[str, int]],
    households: int,
    *,
    by_district: bool = False,
) -> SummaryTable:
    """One row per township of the district — or, ``by_district`` (a city's tables), per district of the city;
    ``persons`` and ``by_area`` are keyed by the areas' codes."""
    columns = [
        Column("households", _("Accepted households")),
        Column("persons", _("Resident population (常住人口)"), parts=("male", "female")),
        Column("male", _("Male")),
        Column("female", _("Female")),
        Column("sex_ratio", _("Sex ratio (female = 100)"), additive=False, decimals=1),
        *concept_columns(),
        Column("registered", _("Persons registered on the forms")),
        Column("pending", _("Households not yet accepted")),
        Column("pending_share", _("Share not yet accepted (%)"), additive=False, decimals=2),
    ]
    rows = []
    for area in areas:
        sexes = _by_sex(persons["township"], area.code)
        counts = by_area.get(area.code, {"accepted": 0, "all": 0})
        pending = counts["all"] - counts["accepted"]
        rows.append(
            Row(
                area.code,
                f"{area.code} {area.name}",
                {
                    "households": counts["accepted"],
                    "persons": sexes["total"],
                    "male": sexes["male"],
                    "female": sexes["female"],
                    "sex_ratio": _ratio(sexes["male"], sexes["female"]),
                    **_concepts(persons, area.code),
                    "pending": pending,
                    "pending_share": share(pending, counts["all"]),
                },
            )
        )
    all_households = sum(counts["all"] for counts in by_area.values())
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
            **_concepts(persons, None),
            "pending": pending_total,
            "pending_share": share(pending_total, all_households),
        },
    )
    universe = (
        _(
            "Resident population (常住人口, 2020 definition) of each district of the city from accepted census forms; "
            "beside it the hukou population, persons living away from their hukou township, persons away half a "
            "year or more, and every person registered"
        )
        if by_district
        else _(
            "Resident population (常住人口, 2020 definition) of each township from accepted census forms; beside it "
            "the hukou population, persons living away from their hukou township, persons away half a year or "
            "more, and every person registered"
        )
    )
    return SummaryTable(
        "T01",
        title("T01", by_district=by_district),
        universe,
        columns,
        [Block("districts" if by_district else "townships", "", rows, total)],
        [
            _(
                "常住人口 = persons living in the township with hukou here, or with hukou elsewhere and away from it "
                "half a year or more, or with hukou pending; plus persons with hukou here away under half a year "
                "or abroad. A person away half a year or more is counted where they live (T08 shows every case)."
            )
        ],
    )


def t02(persons: dict[str, Any]) -> SummaryTable:
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
        title("T02"),
        _("Resident population (常住人口) on accepted census forms; age in completed years at 2020-11-01"),
        _sexes(),
        [Block("ages", "", rows, _total_row(persons))],
    )


def t03(households: dict[str, Any]) -> SummaryTable:
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
        title("T03"),
        _(
            "Accepted census forms; size and persons = every person registered on "
            "the form (T08 total), not the resident population"
        ),
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


def t04(persons: dict[str, Any]) -> SummaryTable:
    counts = persons["edu"]
    rows = _coded_rows(counts, "D11", (True,))
    rows.append(Row("under_3", _("Under 3 (not asked)"), _sum_by_sex(counts, lambda key: key[0] is False)))
    return SummaryTable(
        "T04",
        title("T04"),
        _("Resident population (常住人口) on accepted census forms; D11 is asked of persons aged 3 and over"),
        _sexes(),
        [Block("education", "", rows, _total_row(persons))],
    )


def t05(persons: dict[str, Any]) -> SummaryTable:
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
        title("T05"),
        _("Resident population (常住人口) on accepted census forms; D12 is asked of persons aged 15 and over"),
        _sexes(),
        [Block("literacy", "", rows, _total_row(persons))],
        notes,
    )


def t06(persons: dict[str, Any]) -> SummaryTable:
    counts = persons["eth"]
    present = sorted({key[0] for key in counts if key[0]} | {"01"})
    rows = [Row(code, f"{code} {ETHNIC_GROUPS.get(code, code)}", _by_sex(counts, code)) for code in present]
    rows.append(Row(NOT_STATED, _("Not stated"), _sum_by_sex(counts, lambda key: not key[0])))
    minorities = sum(row.count("total") for row in rows if row.key not in ("01", NOT_STATED))
    return SummaryTable(
        "T06",
        title("T06"),
        _("Resident population (常住人口) on accepted census forms; ethnic groups with at least one person"),
        _sexes(),
        [Block("ethnicity", "", rows, _total_row(persons))],
        [_("Ethnic minorities together: %(n)d persons.") % {"n": minorities}],
    )


def t07(persons: dict[str, Any]) -> SummaryTable:
    return SummaryTable(
        "T07",
        title("T07"),
        _("Resident population (常住人口) on accepted census forms, by hukou place (D8)"),
        _sexes(),
        [Block("hukou", "", _coded_rows(persons["d8"], "D8", ()), _total_row(persons))],
    )


def t08(persons: dict[str, Any], registered: int) -> SummaryTable:
    """Every person on an accepted form by population status: which populations each status counts in."""
    labels = population.labels()
    concepts = {
        "residents": population.RESIDENT,
        "hukou": population.HUKOU,
        "separated": population.SEPARATED,
        "away_long": population.AWAY_LONG,
    }
    judged = {"within_city": population.within_city, "floating": population.floating}
    rows = []
    for status in population.STATUSES:
        sexes = _status_sexes(persons, (status,))
        values = {**sexes, **{key: sexes["total"] if status in chosen else 0 for key, chosen in concepts.items()}}
        # (市辖区内 or 流动: by the district each person was registered in.)
        for key, counts in judged.items():
            values[key] = _sum_by_sex(
                persons["status"],
                lambda row, counts=counts, status=status: row[0] == status and counts(status, row[1][:6]),
            )["total"]
        rows.append(Row(status, labels[status], values))
    residents = _by_sex(persons["sex"])
    everyone = _status_sexes(persons, population.STATUSES)
    total = Row(
        "total",
        _("Total"),
        {
            "total": registered,
            "male": everyone["male"],
            "female": everyone["female"],
            "residents": residents["total"],
            **{key: value for key, value in _concepts(persons, None).items() if key != "registered"},
        },
    )
    columns = [
        Column("total", _("Persons registered"), parts=("male", "female")),
        Column("male", _("Male")),
        Column("female", _("Female")),
        Column("residents", _("Resident population (常住人口)")),
        *concept_columns(),
    ]
    return SummaryTable(
        "T08",
        title("T08"),
        _(
            "Every person registered on accepted census forms (a person living away from the hukou place is on "
            "two forms) by population status; each status is counted in the populations marked"
        ),
        columns,
        [Block("status", "", rows, total)],
        [
            _(
                "Statuses are decided by D7 (residence), D8 (hukou place) and D9 (time away) of the township of the "
                "form; away = D9 half a year or more. 人户分离 and 流动人口 are counted where the persons live; "
                "市辖区内 are those whose hukou is in another township of the same city's districts."
            ),
            _(
                "Persons living in another village of the township, or visiting under half a year, are counted "
                "on the form of the place where they are resident, not here."
            ),
        ],
    )


def t09(
    persons: dict[str, Any], households: dict[str, Any], register: dict[Any, int], mismatches: list[str]
) -> SummaryTable:
    everything = households["all"].get((), {"h3m": 0, "h3f": 0, "h4m": 0, "h4f": 0})
    residents = sum(persons["sex"].values())
    infants = _sum_by_sex(persons["age"], lambda key: key[0] == 0)

    def row(key: str, label: str, male: int, female: int) -> Row:
        total = male + female
        rate = round(1000 * total / residents, 1) if residents else None
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
        title("T09"),
        _("Accepted census forms; rates per 1,000 resident population (常住人口); aged 0 = residents"),
        [*_sexes(), Column("rate", _("Per 1,000 population (‰)"), additive=False, decimals=1)],
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


def t10(households: dict[str, Any]) -> SummaryTable:
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
        title("T10"),
        _(
            "Accepted census forms; persons = every person registered on the form; "
            "H6 and H7 are asked of ordinary dwellings (H5 = 1)"
        ),
        [Column("households", _("Number of households")), Column("persons", _("Persons"))],
        blocks,
    )


def t11(households: dict[str, Any]) -> SummaryTable:
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
        title("T11"),
        _(
            "Accepted long-form households in ordinary dwellings (10% sample, H5 = 1, "
            "unweighted); persons = every person registered on the form"
        ),
        [Column("households", _("Number of households")), Column("persons", _("Persons"))],
        blocks,
    )


def table_titles(*, by_district: bool = False) -> list[tuple[str, str]]:
    """The tables of the summary, for the exports page (the same titles the tables carry); ``by_district``: a
    city's, whose T01 has a row per district."""
    return [
        (
            "T01",
            _("Resident population by district and sex, with the other population concepts")
            if by_district
            else _("Resident population by township and sex, with the other population concepts"),
        ),
        ("T02", _("Population by five-year age group and sex")),
        ("T03", _("Households by type and size")),
        ("T04", _("Persons aged 3 and over by education and sex")),
        ("T05", _("Persons aged 15 and over by literacy and sex")),
        ("T06", _("Population by ethnic group and sex")),
        ("T07", _("Population by place of hukou registration and sex")),
        ("T08", _("Persons registered by population status (常住, 户籍, 人户分离, 流动人口)")),
        ("T09", _("Births and deaths in the census year")),
        ("T10", _("Households by type of residence, floor area and rooms")),
        ("T11", _("Long form: housing structure, facilities and tenure")),
        ("T12", _("Resident population by urban and rural area, urbanisation rate")),
        ("T13", _("Resident population by single year of age and sex")),
        ("T14", _("Education of persons aged 6 and over and 15 and over, illiteracy")),
        ("T15", _("Persons living away from their hukou township by origin and reason")),
        ("T16", _("Long form: work and livelihood, weighted")),
        ("T17", _("Residents of Hong Kong, Macao and Taiwan and foreigners")),
    ]


def title(code: str, *, by_district: bool = False) -> str:
    return dict(table_titles(by_district=by_district))[code]


# --- the tables leaders ask for (T12–T17) --------------------------------------------------------------------


def _age_total(persons: dict[str, Any], low: int) -> Row:
    """Residents aged ``low`` and over by sex, from the age grouping set (not from the rows it totals)."""
    return Row("total", _("Total"), _sum_by_sex(persons["age"], lambda key: key[0] is not None and key[0] >= low))


def t12(persons: dict[str, Any]) -> SummaryTable:
    counts = persons["ur"]
    codes = list(UrbanRuralCode)
    by_code = [Row(str(code.value), str(code.label), _by_sex(counts, code.value)) for code in codes] + [
        Row(NOT_STATED, _("Not stated"), _by_sex(counts, None))
    ]
    urban = _sum_by_sex(counts, lambda key: key[0] is not None and key[0] < 200)
    rural = _sum_by_sex(counts, lambda key: key[0] is not None and key[0] >= 200)
    split = [
        Row("urban", _("Urban (城镇, codes 1xx)"), urban),
        Row("rural", _("Rural (乡村, codes 2xx)"), rural),
        Row(NOT_STATED, _("Not stated"), _by_sex(counts, None)),
    ]
    total = _total_row(persons)
    notes = []
    if total.count("total"):
        notes.append(
            _("Urbanisation rate (urban ÷ resident population): %(rate).2f%%.")
            % {"rate": 100 * urban["total"] / total.count("total")}
        )
    return SummaryTable(
        "T12",
        title("T12"),
        _(
            "Resident population (常住人口) on accepted census forms, by the 城乡分类代码 of the village or "
            "community of the form (held in the frame, importable with the villages)"
        ),
        _sexes(),
        [
            Block("split", _("Urban and rural"), split, total),
            Block("codes", _("By urban–rural code"), by_code, _total_row(persons)),
        ],
        notes,
    )


def t13(persons: dict[str, Any]) -> SummaryTable:
    ages = persons["age"]
    rows = [Row(str(age), str(age), _by_sex(ages, age)) for age in range(100)]
    rows.append(Row("100", _("100 and over"), _sum_by_sex(ages, lambda key: key[0] is not None and key[0] >= 100)))
    return SummaryTable(
        "T13",
        title("T13"),
        _("Resident population (常住人口) on accepted census forms; age in completed years at 2020-11-01"),
        _sexes(),
        [Block("ages", "", rows, _total_row(persons))],
    )


def t14(persons: dict[str, Any]) -> SummaryTable:
    blocks = []
    for low, name in ((6, "edu6"), (15, "edu15")):
        rows = _coded_rows(persons[name], "D11", (True,))
        blocks.append(
            Block(
                name,
                _("Persons aged %(n)d and over by education (D11)") % {"n": low},
                rows,
                _age_total(persons, low),
            )
        )
    literacy = persons["lit"]
    rows = [
        Row("1", _("Literate"), _by_sex(literacy, True, 1)),
        Row("2", _("Illiterate"), _by_sex(literacy, True, 2)),
        Row(NOT_STATED, _("Not stated"), _by_sex(literacy, True, None)),
    ]
    aged = _age_total(persons, 15)
    blocks.append(Block("literacy", _("Persons aged 15 and over by literacy (D12)"), rows, aged))
    notes = []
    if aged.count("total"):
        notes.append(
            _("Illiteracy rate of persons aged 15 and over: %(rate).2f%% (men %(men).2f%%, women %(women).2f%%).")
            % {
                "rate": 100 * rows[1].count("total") / aged.count("total"),
                "men": 100 * rows[1].count("male") / aged.count("male") if aged.count("male") else 0,
                "women": 100 * rows[1].count("female") / aged.count("female") if aged.count("female") else 0,
            }
        )
    return SummaryTable(
        "T14",
        title("T14"),
        _("Resident population (常住人口) aged 6 and over and aged 15 and over on accepted census forms"),
        _sexes(),
        blocks,
        notes,
    )


def t15(persons: dict[str, Any]) -> SummaryTable:
    labels = population.labels()
    origins = population.SEPARATED
    counts = persons["mig"]
    columns = [
        Column("total", _("Total"), parts=origins),
        *(Column(status, labels[status]) for status in origins),
    ]

    def cells(reason: Any) -> dict[str, int]:
        values = {
            status: sum(n for key, n in counts.items() if key[0] == status and key[1] == reason) for status in origins
        }
        return {"total": sum(values.values()), **values}

    rows = [
        Row(str(code), f"{code} {code_list('D10').label(code)}", cells(code)) for code in sorted(code_list("D10").codes)
    ]
    rows.append(Row(NOT_STATED, _("Not stated"), cells(None)))
    by_status = {status: _status_sexes(persons, (status,))["total"] for status in origins}
    total = Row("total", _("Total"), {"total": sum(by_status.values()), **by_status})
    return SummaryTable(
        "T15",
        title("T15"),
        _(
            "Residents living away from their hukou township (人户分离, T01) on accepted census forms, by where the "
            "hukou is (origin) and the reason for leaving it (D10)"
        ),
        columns,
        [Block("reasons", "", rows, total)],
        [_("The reason codes of D10 are marked unverified in the reference (their order is verified).")],
    )


def t16(
    counts: dict[str, Any], weights: list[tuple[str, int, int]], *, min_age: int, default_weight: float
) -> SummaryTable:
    columns = [
        Column("sample", _("Persons in the sample")),
        Column("weighted", _("Weighted estimate"), additive=False, decimals=1),
        Column("weighted_male", _("Weighted estimate, male"), additive=False, decimals=1),
        Column("weighted_female", _("Weighted estimate, female"), additive=False, decimals=1),
    ]

    def cells(found: dict[tuple[Any, ...], tuple[int, float]], prefix: tuple[Any, ...]) -> dict[str, Any]:
        male = found.get((*prefix, 1), (0, 0.0))
        female = found.get((*prefix, 2), (0, 0.0))
        other = found.get((*prefix, None), (0, 0.0))
        return {
            "sample": male[0] + female[0] + other[0],
            "weighted": round(male[1] + female[1] + other[1], 1),
            "weighted_male": round(male[1], 1),
            "weighted_female": round(female[1], 1),
        }

    everyone = counts.get("sex", {})
    total = Row("total", _("Total"), cells(everyone, ()))
    titles = {
        "c18": _("Work in the reference week (C18)"),
        "c19": _("Type of work unit (C19; asked of persons who work)"),
        "c23": _("Main source of livelihood (C23)"),
    }
    blocks = []
    for item in ("c18", "c19", "c23"):
        found = counts.get(item, {})
        item_codes = code_list(item.upper())
        rows = [
            Row(str(code), f"{code} {item_codes.label(code)}", cells(found, (code,)))
            for code in sorted(item_codes.codes)
        ]
        rows.append(Row(NOT_STATED, _("Not stated or not asked"), cells(found, (None,))))
        blocks.append(Block(item, titles[item], rows, total))
    if weights:
        low = min(frame / sample for _village, frame, sample in weights if sample)
        high = max(frame / sample for _village, frame, sample in weights if sample)
        stated = _(
            "Weights: the inverse of each household's inclusion probability, households in the 普查区's frame ÷ "
            "households sampled there; %(n)d 普查区 drawn, weights %(low).2f to %(high).2f."
        ) % {"n": len(weights), "low": low, "high": high}
    else:
        stated = _("Weights: no long-form draw is recorded.")
    return SummaryTable(
        "T16",
        title("T16"),
        _(
            "Residents (常住人口) aged %(n)d and over in accepted long-form households (10%% sample), weighted to the "
            "district"
        )
        % {"n": min_age},
        columns,
        blocks,
        [
            stated,
            _(
                "A sampled household of a 普查区 with no recorded draw is weighted %(w).1f (1 ÷ the sampling rate). "
                "Weighted estimates are rounded to one decimal and add up to their total within rounding."
            )
            % {"w": default_weight},
        ],
    )


def t17(foreign: dict[str, Any]) -> SummaryTable:
    total = Row("total", _("Total"), _by_sex(foreign.get("sex", {})))
    titles = {
        "identity": (_("Status or nationality"), "F_IDENTITY"),
        "stay": (_("Length of stay"), "F_STAY"),
        "purpose": (_("Purpose of stay"), "F_PURPOSE"),
    }
    blocks = [
        Block(name, heading, _coded_rows(foreign.get(name, {}), item, ()), total)
        for name, (heading, item) in titles.items()
    ]
    return SummaryTable(
        "T17",
        title("T17"),
        _(
            "Residents of Hong Kong, Macao and Taiwan and foreigners on accepted 港澳台居民和外籍人员普查表 (not part "
            "of the resident population of T01)"
        ),
        _sexes(),
        blocks,
    )
