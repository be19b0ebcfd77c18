"""The near-duplicate rule's test of "a valid number" in SQL (check character, and a real date of birth before
the reference month — looked up in a list of days, or the long way outside its years) against Python's reading of
the same numbers (``enumeration.identity``)."""

from __future__ import annotations

import pytest
from django.db import connection

from enumeration.identity import check_character, read_id_number
from supervision.quality.checks.duplicates import _VALID, birth_dates

ADDRESS = "511504"


def _number(birth: str, sequence: str = "123") -> str:
    first17 = ADDRESS + birth + sequence
    return first17 + check_character(first17)


NUMBERS = [
    _number("19850615"),  # valid
    _number("19850615")[:17] + ("0" if _number("19850615")[17] != "0" else "1"),  # wrong check character
    _number("19990230"),  # 30 February
    _number("20000229"),  # a leap day
    _number("19000229"),  # not a leap day (1900)
    _number("20201031"),  # the eve of the reference month
    _number("20201101"),  # born in the reference month
    _number("18491231"),  # before the listed years: the long way, valid
    _number("18490230"),  # before the listed years: the long way, no such day
    _number("20210105"),  # after the reference: the long way
    _number("19851315"),  # month 13
]


def _valid_in_python(number: str) -> bool:
    facts = read_id_number(number)
    return (
        facts.checksum_ok
        and facts.birth_date is not None
        and (facts.birth_date.year, facts.birth_date.month) < (2020, 11)
    )


@pytest.mark.django_db
def test_the_sql_validity_of_a_number_agrees_with_python() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT p.d3_id_number, {_VALID} FROM unnest(%(numbers)s::text[]) AS p(d3_id_number)",
            {"numbers": NUMBERS, "birth_dates": list(birth_dates())},
        )
        in_sql = dict(cursor.fetchall())
    assert in_sql == {number: _valid_in_python(number) for number in NUMBERS}
    assert sorted(in_sql.values()) == [False] * 7 + [True] * 4


def test_the_days_listed_run_from_1850_to_the_eve_of_the_reference_month() -> None:
    days = birth_dates()
    assert days[0] == "18500101" and days[-1] == "20201031" and "20000229" in days and "19000229" not in days
