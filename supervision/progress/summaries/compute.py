"""The district bureau's summary tables, from accepted forms only (state accepted or locked).

Everything is read in one REPEATABLE READ snapshot, so the tables describe the same moment even while
registration goes on, in four queries whatever the size of the district (``queries``); ``tables`` turns the
counts into T01–T11, ``balance`` checks them, ``writers`` writes them.

Persons are those of census forms (普查表); residents from Hong Kong, Macao and Taiwan and foreigners
(``form_kind = foreign``) are not part of the population and are only counted in a note, as in the
national communiqués.

Which persons each person table counts (常住人口, 户籍人口, 人户分离, 流动人口, 外出半年以上) is decided in
``population`` (reference §1.1): T01, T02, T04–T07 and T09's rates count the resident population (常住人口);
T08 shows every registered person by status; T03, T10 and T11 count households and every person on their
forms.
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
        tables.t08(persons, households["all"].get((), {"persons": 0})["persons"]),
        tables.t09(persons, households, register, mismatches),
        tables.t10(households),
        tables.t11(households),
    ]
    if foreign:
        built[0].notes.append(
            _("Not in the population: %(n)d residents from Hong Kong, Macao and Taiwan and foreigners.")
            % {"n": foreign}
        )
    return Summary(tables=built, markings=markings(), pending_note=pending_note, death_mismatches=mismatches)
