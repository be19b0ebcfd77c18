"""The district bureau's summary tables, from accepted forms only (state accepted or locked).

Everything is read in one REPEATABLE READ snapshot, so the tables describe the same moment even while
registration goes on, in four queries whatever the size of the district (``queries``); ``tables`` turns the
counts into T01–T11, ``balance`` checks them, ``writers`` writes them.

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

from django.conf import settings
from django.utils.translation import gettext as _

from census.models import StaffMember, Township
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


def build_summary(*, user: StaffMember) -> Summary:
    """All summary tables as the user may see them (the district office: the whole district)."""
    with queries.snapshot():
        townships = list(Township.objects.visible_to(user).order_by("code"))
        persons = queries.person_counts(user)
        households = queries.household_counts(user)
        by_township = queries.households_by_township(user)
        register = queries.register_deaths(user)
        foreign = queries.foreign_persons(user)
        h4 = households["all"].get((), {"h4m": 0, "h4f": 0})
        deaths_agree = (h4["h4m"], h4["h4f"]) == (register.get(1, 0), register.get(2, 0))
        mismatches = [] if deaths_agree else queries.death_mismatches(user)
        overrides = queries.overrides(user)
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
        "share": f"{tables.share(pending, all_households) or 0:.2f}",
    }
    built = [
        tables.t01(townships, persons, by_township, households_total),
        tables.t02(persons),
        tables.t03(households),
        tables.t04(persons),
        tables.t05(persons),
        tables.t06(persons),
        tables.t07(persons),
        tables.t08(persons),
        tables.t09(persons, households, register, mismatches),
        tables.t10(households),
        tables.t11(households),
    ]
    if foreign:
        built[0].notes.append(
            _("Not in the population: %(n)d residents from Hong Kong, Macao and Taiwan and foreigners.")
            % {"n": foreign}
        )
    if overrides:
        # On every table: each counts these forms, and a reader of one sheet alone must learn it.
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
    )
