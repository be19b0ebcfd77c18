"""The balance check that runs before every summary export: every figure that should agree, does.

Three kinds of check:

1. *within a row*: a column that is the sum of others (total = male + female, households = family +
   collective + not stated) equals that sum;
2. *within a block*: the rows add up to the block's total, which comes from its own aggregate — so a person
   whose age falls in no age group, or an education code outside the list, shows up here;
3. *across tables*: the population is the same in every person table, the households the same in every
   household table, H4 deaths equal the death-register rows, and each long-form item covers the same sample.

A failed check names the table, block, row and column and the two figures; ``BalanceError`` carries all of
them and stops the export.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _

from census.jobs import JobFailed
from supervision.progress.summaries.model import Number, Summary, SummaryTable


@dataclass(frozen=True)
class Check:
    name: str
    where: str
    expected: Number
    actual: Number

    @property
    def ok(self) -> bool:
        return (self.expected or 0) == (self.actual or 0)

    def describe(self) -> str:
        return _("%(where)s: %(name)s — expected %(expected)s, found %(actual)s") % {
            "where": self.where,
            "name": self.name,
            "expected": self.expected,
            "actual": self.actual,
        }


class BalanceError(JobFailed):
    """The tables do not add up; the export is refused."""

    def __init__(self, failures: list[Check]) -> None:
        self.failures = failures
        shown = "; ".join(check.describe() for check in failures[:8])
        more = len(failures) - 8
        if more > 0:
            shown += " " + _("(and %(n)d more)") % {"n": more}
        super().__init__(
            _("The summary tables do not balance, so nothing was exported: %(problems)s") % {"problems": shown}
        )


def _where(table: SummaryTable, block_title: str, row_label: str, column_label: str) -> str:
    parts = [f"{table.code} {table.title}"]
    if block_title:
        parts.append(block_title)
    parts.append(row_label)
    if column_label:
        parts.append(column_label)
    return " / ".join(parts)


def table_checks(table: SummaryTable) -> list[Check]:
    checks: list[Check] = []
    for block in table.blocks:
        rows = [*block.rows, *([block.total] if block.total is not None else [])]
        checks.extend(
            Check(
                name=_("row equals the sum of its parts"),
                where=_where(table, block.title, row.label, column.label),
                expected=sum(row.count(part) for part in column.parts),
                actual=row.get(column.key),
            )
            for row in rows
            for column in table.columns
            if column.parts and row.get(column.key) is not None
        )
        if block.total is None:
            continue
        total = block.total
        checks.extend(
            Check(
                name=_("rows add up to the total"),
                where=_where(table, block.title, total.label, column.label),
                expected=total.get(column.key),
                actual=sum(row.count(column.key) for row in block.rows),
            )
            for column in table.columns
            if column.additive and total.get(column.key) is not None
        )
    return checks


def cross_checks(summary: Summary) -> list[Check]:
    """Figures that must be the same in different tables (codes as built by ``compute``)."""
    t = summary.table
    population = t("T01").total("persons")
    registered = t("T08").total("total")
    households = t("T03").total("households")
    checks = [
        Check(_("resident population equals T01"), f"{code} {t(code).title}", population, t(code).total(column))
        for code, column in (
            ("T02", "total"),
            ("T04", "total"),
            ("T05", "total"),
            ("T06", "total"),
            ("T07", "total"),
            ("T08", "residents"),
            ("T12", "total"),
            ("T13", "total"),
        )
    ]
    t14 = t("T14").block("literacy")
    checks += [
        Check(
            _("illiterate persons aged 15 and over equal T05"),
            f"T14 {t('T14').title} / {t14.title}",
            t("T05").block("literacy").row("2").get("total"),
            t14.row("2").get("total"),
        ),
        Check(
            _("persons aged 15 and over equal T05"),
            f"T14 {t('T14').title} / {t14.title}",
            sum(t("T05").block("literacy").row(key).count("total") for key in ("1", "2", "not_stated")),
            t14.total.get("total") if t14.total else None,
        ),
        Check(
            _("persons living away from the hukou township equal T01"),
            f"T15 {t('T15').title}",
            t("T01").total("separated"),
            t("T15").total("total"),
        ),
    ]
    checks += [
        Check(
            _("each population concept is the same in T01 and T08"),
            f"T08 {t('T08').title} / {t('T08').column(column).label}",
            t("T01").total(column),
            t("T08").total(column),
        )
        for column in ("hukou", "separated", "within_city", "floating", "away_long")
    ]
    checks += [
        Check(
            _("persons registered equal T08"),
            f"T01 {t('T01').title}",
            registered,
            t("T01").total("registered"),
        ),
        Check(
            _("persons in households of each size equal the persons registered"),
            f"T03 {t('T03').title}",
            registered,
            t("T03").total("persons"),
        ),
        Check(
            _("accepted households per township equal T03"),
            f"T01 {t('T01').title}",
            households,
            t("T01").total("households"),
        ),
        Check(
            _("households by type of residence equal T03"),
            f"T10 {t('T10').title}",
            households,
            t("T10").total("households", "residence"),
        ),
        Check(
            _("persons by type of residence equal the persons registered"),
            f"T10 {t('T10').title}",
            registered,
            t("T10").total("persons", "residence"),
        ),
    ]
    dwellings = t("T10").block("residence").row("1").get("households")
    for block in ("area", "rooms"):
        checks.append(
            Check(
                _("ordinary dwellings equal H5 = 1"),
                f"T10 {t('T10').title} / {t('T10').block(block).title}",
                dwellings,
                t("T10").total("households", block),
            )
        )
    t11 = t("T11")
    sample = t11.total("households", t11.blocks[0].key)
    for item in t11.blocks[1:]:
        checks.append(
            Check(
                _("every long-form item covers the same households"),
                f"T11 {t11.title} / {item.title}",
                sample,
                t11.total("households", item.key),
            )
        )
    t09 = t("T09")
    named = f" ({', '.join(summary.death_mismatches)})" if summary.death_mismatches else ""
    for sex in ("male", "female"):
        checks.append(
            Check(
                _("H4 deaths equal the death-register rows"),
                f"T09 {t09.title} / {t09.column(sex).label}{named}",
                t09.block("events").row("deaths").get(sex),
                t09.block("events").row("register").get(sex),
            )
        )
    return checks


def check_summary(summary: Summary) -> list[Check]:
    """Run every check; raise ``BalanceError`` if any fails, else return them (they go into the workbook)."""
    checks = [check for table in summary.tables for check in table_checks(table)] + cross_checks(summary)
    failures = [check for check in checks if not check.ok]
    summary.checks = checks
    if failures:
        raise BalanceError(failures)
    return checks
