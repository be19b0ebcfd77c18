"""The public-use microdata file: persons of accepted census forms after statistical disclosure control.

The restricted file (``microdata``) keeps small areas, birth year and month and pseudonymous keys, and is for
the district office only. This one may be handed out. It follows the usual SDC recipe (Hundepool et al.,
*Statistical Disclosure Control*, 2012; sdcMicro's ``globalRecode``, ``topBotCoding`` and
``localSuppression``):

1. **Global recoding**: no geography below the township (no village, small area, county or province
   codes), urban/rural instead of the 城乡分类代码, five-year age groups with 85 and over top-coded, no birth
   month, household size top-coded at 7, ethnic group as Han/minority; no household key, no row number and
   no free text; the rows are shuffled within the township so their order does not rebuild households.
   Residents of Hong Kong, Macao and Taiwan and foreigners are left out (five persons with a nationality are
   identifiable whatever is done); the restricted file holds them.
2. **Local suppression** until every combination of the quasi-identifiers (``QUASI_IDENTIFIERS``) is shared
   by at least ``k`` records (``settings.CENSUS_PUBLIC_USE_K``, 5): the records of smaller classes lose one
   quasi-identifier at a time, in ``SUPPRESSION_ORDER`` (a suppressed value is written empty and counts as a
   category of its own, so the check is conservative); a record still in a class below ``k`` is left out.
3. **Report**: the k reached, the cells suppressed per variable and the records left out — the information
   loss — go with every export (the job's result and the last lines of its message).
"""

from __future__ import annotations

import io
import json
import random
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import F

from census.models import StaffMember
from census.spreadsheets import csv_writer
from enumeration.models import FormKind, HouseholdState, Person
from supervision.progress.summaries import population
from supervision.progress.summaries.queries import age_expression

ACCEPTED = (HouseholdState.ACCEPTED, HouseholdState.LOCKED)
QUASI_IDENTIFIERS = ("township", "urban", "sex", "age_group", "household_size", "ethnic_group")
# The least useful, most identifying first: a rare minority is what singles a person out in a small township.
SUPPRESSION_ORDER = ("ethnic_group", "household_size", "urban", "age_group", "township")
AGE_TOP = 85
SIZE_TOP = 7
OTHER_ITEMS = (
    "relationship",
    "resident",
    "status",
    "education",
    "literate",
    "away_reason",
    "long_form",
    "work",
    "unit_type",
    "livelihood",
    "marital",
)
HEADER = (*QUASI_IDENTIFIERS, *OTHER_ITEMS)


@dataclass
class Report:
    """What the disclosure control did: the figures stated with every export."""

    k_target: int
    rows_in: int = 0
    rows_out: int = 0
    k_reached: int = 0
    suppressed: dict[str, int] = field(default_factory=dict)

    @property
    def dropped(self) -> int:
        return self.rows_in - self.rows_out

    @property
    def cells_suppressed_share(self) -> float:
        cells = self.rows_in * len(QUASI_IDENTIFIERS)
        return round(100 * sum(self.suppressed.values()) / cells, 3) if cells else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "k_target": self.k_target,
            "k_reached": self.k_reached,
            "rows": self.rows_out,
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "rows_dropped": self.dropped,
            "cells_suppressed": self.suppressed,
            "cells_suppressed_percent": self.cells_suppressed_share,
            "quasi_identifiers": list(QUASI_IDENTIFIERS),
        }


def _rows(user: StaffMember) -> list[list[Any]]:
    """Every person of an accepted census form, recoded (step 1), as lists in ``HEADER`` order."""
    base = (
        Person.objects.visible_to(user)
        .filter(household__state__in=ACCEPTED, household__form_kind=FormKind.CENSUS)
        .order_by()
        .values(
            "household_id",
            township_code=F("township_id"),
            ur=F("village__urban_rural_code"),
            sex=F("d4_sex"),
            age=age_expression(),
            eth=F("d6_ethnicity"),
            rel=F("d2_relationship"),
            d7=F("d7_residence"),
            d8=F("d8_hukou_place"),
            d9=F("d9_away_duration"),
            d8_county=F("d8_hukou_county"),
            edu=F("d11_education"),
            lit=F("d12_literate"),
            d10=F("d10_away_reason"),
            lf=F("household__in_long_form_sample"),
            c18=F("c18_work"),
            c19=F("c19_unit_type"),
            c23=F("c23_livelihood"),
            c24=F("c24_marital"),
        )
    )
    sql, params = base.query.sql_with_params()
    status = population.status_sql("b.d7", "b.d8", "b.d9", "b.d8_county")
    query = f"""
        SELECT b.township_code,
               CASE WHEN b.ur IS NULL THEN NULL WHEN b.ur < 200 THEN 1 ELSE 2 END,
               b.sex,
               CASE WHEN b.age IS NULL OR b.age < 0 THEN NULL ELSE least(b.age, {AGE_TOP}) / 5 * 5 END,
               least(count(*) OVER (PARTITION BY b.household_id), {SIZE_TOP}),
               CASE WHEN b.eth = '' THEN NULL WHEN b.eth = '01' THEN 1 ELSE 2 END,
               b.rel, (({status}) IN {population.in_sql(population.RESIDENT)})::int, {status},
               b.edu, b.lit, b.d10, b.lf::int, b.c18, b.c19, b.c23, b.c24
        FROM ({sql}) b
    """
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off") if connection.in_atomic_block else None
        cursor.execute(query, params)
        return [list(row) for row in cursor.fetchall()]


def anonymise(rows: list[list[Any]], *, k: int) -> tuple[list[list[Any]], Report]:
    """Local suppression (step 2) on rows whose first columns are ``QUASI_IDENTIFIERS``; returns the rows kept
    and the report."""
    report = Report(k_target=k, rows_in=len(rows), suppressed=dict.fromkeys(QUASI_IDENTIFIERS, 0))
    width = len(QUASI_IDENTIFIERS)
    for name in SUPPRESSION_ORDER:
        classes = Counter(tuple(row[:width]) for row in rows)
        if min(classes.values(), default=k) >= k:
            break
        column = QUASI_IDENTIFIERS.index(name)
        for row in rows:
            if row[column] is not None and classes[tuple(row[:width])] < k:
                row[column] = None
                report.suppressed[name] += 1
    classes = Counter(tuple(row[:width]) for row in rows)
    kept = [row for row in rows if classes[tuple(row[:width])] >= k]
    report.rows_out = len(kept)
    report.k_reached = min((n for n in classes.values() if n >= k), default=0)
    return kept, report


def _csv_value(value: Any) -> Any:
    """Codes as they are, booleans as 0/1, missing or suppressed as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return int(value)
    return value


VARIABLES: dict[str, tuple[str, str, str | None]] = {
    # name: (label zh, label en, code list of enumeration.codes or a local list below)
    "township": ("乡镇(街道)代码", "Township code (9 digits)", None),
    "urban": ("城乡", "Urban or rural", "URBAN"),
    "sex": ("性别", "Sex", "D4"),
    "age_group": ("年龄组（五岁组下限，85 = 85岁及以上）", "Age group (5-year lower bound; 85 = 85+)", None),
    "household_size": ("户规模（7 = 7人及以上）", "Household size (7 = 7 or more)", None),
    "ethnic_group": ("民族", "Ethnic group", "ETHNIC"),
    "relationship": ("与户主关系", "Relationship to the head", "D2"),
    "resident": ("是否常住人口（1 是，0 否）", "Resident population (1 yes, 0 no)", None),
    "status": ("人口类别", "Population status", "STATUS"),
    "education": ("受教育程度", "Education", "D11"),
    "literate": ("是否识字", "Literate", "D12"),
    "away_reason": ("离开户口登记地原因", "Reason for leaving the hukou place", "D10"),
    "long_form": ("是否长表户（1 是，0 否）", "Long-form household (1 yes, 0 no)", None),
    "work": ("工作情况", "Work in the reference week", "C18"),
    "unit_type": ("工作单位类型", "Type of work unit", "C19"),
    "livelihood": ("主要生活来源", "Main source of livelihood", "C23"),
    "marital": ("婚姻状况", "Marital status", "C24"),
}
LOCAL_LISTS: dict[str, list[tuple[Any, str, str]]] = {
    "URBAN": [(1, "城镇", "Urban"), (2, "乡村", "Rural")],
    "ETHNIC": [(1, "汉族", "Han"), (2, "少数民族", "Ethnic minority")],
}


def codebook_rows() -> list[list[Any]]:
    """The codebook: every variable with its zh and en labels, then its values with theirs (from
    ``enumeration.codes``); an empty cell in the data is missing or suppressed."""
    from django.utils import translation

    from enumeration.codes import code_list

    with translation.override("zh-hans"):
        status_zh = population.labels()
    with translation.override("en"):
        status_en = population.labels()
    lists = {
        **LOCAL_LISTS,
        "STATUS": [(status, status_zh[status], status_en[status]) for status in population.STATUSES],
    }
    rows: list[list[Any]] = [["variable", "value", "label_zh", "label_en"]]
    for name, (zh, en, source) in VARIABLES.items():
        rows.append([name, "", zh, en])
        entries = lists.get(source or "") or (list(code_list(source).entries) if source else [])
        rows.extend([name, code, value_zh, value_en] for code, value_zh, value_en in entries)
        rows.append([name, "", "（空）缺失或已隐去", "(empty) missing or suppressed"])
    return rows


def _csv_bytes(rows: list[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv_writer(out, lineterminator="\n")
    for row in rows:
        writer.writerow([_csv_value(value) for value in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def export_public(*, user: StaffMember, path: Path, k: int | None = None) -> Report:
    """Write the public-use file to ``path`` — a zip of the data (``public-use.csv``), its codebook
    (``codebook.csv``, zh and en) and the disclosure-control report (``disclosure.json``) — and return the
    report."""
    k = k or settings.CENSUS_PUBLIC_USE_K
    rows = _rows(user)
    kept, report = anonymise(rows, k=k)
    # Shuffled within each township (the township stays the sort key, so the file reads in a stable order),
    # so that neighbouring rows are not a household.
    random.SystemRandom().shuffle(kept)
    kept.sort(key=lambda row: row[0] or "")  # stable: the shuffle stays within each township
    data = io.StringIO()
    # Booleans arrive from SQL as 0/1 and codes as numbers; csv writes a missing or suppressed value empty.
    # Through census.spreadsheets like every csv the system writes (no cell can start a formula).
    writer = csv_writer(data, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(kept)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("public-use.csv", ("\ufeff" + data.getvalue()).encode("utf-8"))
        archive.writestr("codebook.csv", _csv_bytes(codebook_rows()))
        archive.writestr("disclosure.json", json.dumps(report.as_dict(), ensure_ascii=False, indent=1))
    return report
