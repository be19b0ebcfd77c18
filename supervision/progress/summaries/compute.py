"""The district bureau's summary tables, from accepted forms only (state accepted or locked).

Everything is read in one REPEATABLE READ snapshot, so the tables describe the same moment even while
registration goes on, in four queries whatever the size of the district (``queries``); ``tables`` turns the
counts into T01–T11, ``balance`` checks them, ``writers`` writes them.

Persons are those of census forms (普查表); residents from Hong Kong, Macao and Taiwan and foreigners
(``form_kind = foreign``) are not part of the population: they have their own table (T17), and the coverage
line of every table counts their forms with the census forms, as the exports page does.

Which persons each person table counts (常住人口, 户籍人口, 人户分离, 流动人口, 外出半年以上) is decided in
``population`` (reference §1.1): T01, T02, T04–T07 and T09's rates count the resident population (常住人口);
T08 shows every registered person by status; T03, T10 and T11 count households and every person on their
forms.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from census.models import District, StaffMember, Township, district_of
from census.scoping import ScopeKind, scope_of
from enumeration.models import FormKind
from enumeration.rules.thresholds import threshold
from enumeration.sampling import DEFAULT_RATE
from supervision.progress.summaries import queries, tables
from supervision.progress.summaries.model import Markings, Summary


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


def coverage_note(covered: dict[str, dict[str, int]]) -> str:
    """The coverage line of every table: the same households as the exports page (every form), then split
    into census forms and 港澳台/外籍 forms, so that the two never disagree."""
    census, foreign = covered[FormKind.CENSUS], covered[FormKind.FOREIGN]
    accepted = census["accepted"] + foreign["accepted"]
    everything = census["all"] + foreign["all"]
    pending = everything - accepted
    return _(
        "Coverage: accepted forms only, %(accepted)d of %(all)d households; %(pending)d households (%(share)s%%) "
        "are still pending acceptance. Census forms: %(census)d of %(census_all)d accepted; forms of residents "
        "from Hong Kong, Macao and Taiwan and foreigners: %(foreign)d of %(foreign_all)d accepted."
    ) % {
        "accepted": accepted,
        "all": everything,
        "pending": pending,
        "share": f"{tables.share(pending, everything) or 0:.2f}",
        "census": census["accepted"],
        "census_all": census["all"],
        "foreign": foreign["accepted"],
        "foreign_all": foreign["all"],
    }


def _by_district(counts: dict[tuple[Any, ...], int], position: int) -> dict[tuple[Any, ...], int]:
    """Counts keyed by township (at ``position`` of the key) added up by district: a township's 9-digit code
    starts with its district's 6."""
    summed: dict[tuple[Any, ...], int] = defaultdict(int)
    for key, n in counts.items():
        summed[(*key[:position], key[position][:6], *key[position + 1 :])] += n
    return dict(summed)


def build_summary(*, user: StaffMember) -> Summary:
    """All summary tables as the user may see them: the district office's of the whole district; a city office's
    of its districts together (``ScopeKind.CITY``) — T01 by district, and of the forms counted over the checks'
    objections or with deaths that disagree, how many, never which (a city reads no form)."""
    city = scope_of(user).kind is ScopeKind.CITY
    lf_min_age = threshold("long_form")["C18_min_age"]
    lf_weight = 1 / DEFAULT_RATE
    with queries.snapshot():
        areas: list[District] | list[Township]
        if city:
            areas = list(District.objects.filter(code__startswith=user.city_id or "").order_by("code"))
        else:
            areas = list(Township.objects.visible_to(user).order_by("code"))
        persons = queries.person_counts(user)
        households = queries.household_counts(user)
        by_township = queries.households_by_township(user)
        register = queries.register_deaths(user)
        foreign = queries.foreign_counts(user)
        covered = queries.coverage(user)
        long_form = queries.long_form_person_counts(user, min_age=lf_min_age, default_weight=lf_weight)
        weights = queries.long_form_weights(user)
        h4 = households["all"].get((), {"h4m": 0, "h4f": 0})
        deaths_agree = (h4["h4m"], h4["h4f"]) == (register.get(1, 0), register.get(2, 0))
        mismatches = [] if deaths_agree or city else queries.death_mismatches(user)
        overrides = [] if city else queries.overrides(user)
        overridden = queries.override_count(user) if city else len(overrides)
    if city:
        persons["status"] = _by_district(persons["status"], 1)
        persons["township"] = _by_district(persons["township"], 0)
        by_district: dict[str, dict[str, int]] = defaultdict(lambda: {"accepted": 0, "all": 0})
        for township, counts in by_township.items():
            for name, n in counts.items():
                by_district[township[:6]][name] += n
        by_township = dict(by_district)
    households_total = households["all"].get((), {"households": 0})["households"]
    pending_note = coverage_note(covered)
    registered = households["all"].get((), {"persons": 0})["persons"]
    built = [
        tables.t01(areas, persons, by_township, households_total, by_district=city),
        tables.t02(persons),
        tables.t03(households),
        tables.t04(persons),
        tables.t05(persons),
        tables.t06(persons),
        tables.t07(persons),
        tables.t08(persons, registered),
        tables.t09(persons, households, register, mismatches),
        tables.t10(households),
        tables.t11(households),
        tables.t12(persons),
        tables.t13(persons),
        tables.t14(persons),
        tables.t15(persons),
        tables.t16(long_form, weights, min_age=lf_min_age, default_weight=lf_weight),
        tables.t17(foreign),
    ]
    foreigners = sum(foreign.get("sex", {}).values())
    if foreigners:
        built[0].notes.append(
            _(
                "Not in the resident population: %(n)d residents from Hong Kong, Macao and Taiwan and foreigners "
                "(table T17)."
            )
            % {"n": foreigners}
        )
    if overridden:
        # On every table: each counts these forms, and a reader of one sheet alone must learn it.
        if city:
            note = _(
                "%(n)d override(s) of the checks by the districts' offices let forms counted here pass review over "
                "checks that blocked them; each district's own tables name them."
            ) % {"n": overridden}
        else:
            note = _(
                "%(n)d form(s) counted here passed review over checks that blocked them, by the district office's "
                'override: see "Overrides of the checks" (%(keys)s).'
            ) % {"n": len(overrides), "keys": "、".join(line.household for line in overrides[:10])}
        for table in built:
            table.notes.append(note)
    return Summary(
        tables=built,
        markings=markings(),
        pending_note=pending_note,
        death_mismatches=mismatches,
        overrides=overrides,
        office_name=user.city.name if city and user.city is not None else district_of(user).name,
    )
