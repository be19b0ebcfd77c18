"""A small registration in the cast's district: households in every state, with persons, in three small
areas of two townships; and a real Celery worker for the tests that need one."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from celery.contrib.testing.worker import start_worker

from census.celery import app
from enumeration.models import Household, HouseholdState
from supervision.progress.services import progress_refresh
from tests.conftest import Cast
from tests.progress.factories import HouseholdFactory, PersonFactory, cst

S = HouseholdState
# (small area attribute, registrar attribute, states): the households each small area holds.
PLAN = [
    (
        "area_a1",
        "enumerator_a1",
        [
            S.LISTED,
            S.LISTED,
            S.DRAFT,
            S.SIGNED,
            S.RETURNED,
            S.APPROVED,
            S.APPROVED,
            S.ACCEPTED,
            S.ACCEPTED,
            S.ACCEPTED,
            S.LOCKED,
        ],
    ),
    ("area_a2", "enumerator_a2", [S.LISTED, S.ACCEPTED, S.ACCEPTED, S.SIGNED]),
    ("area_b1", "enumerator_b1", [S.LISTED, S.SIGNED, S.ACCEPTED, S.ACCEPTED]),
]


@dataclass
class Registration:
    cast: Cast
    households: list[Household]


@pytest.fixture
def registration(cast: Cast) -> Registration:
    """Two persons per household (a man born 1980 and a woman born 1985), three on every third; forms signed
    on successive days of November."""
    households = []
    for index, (area_name, registrar_name, states) in enumerate(PLAN):
        area = getattr(cast, area_name)
        registrar = getattr(cast, registrar_name)
        for number, state in enumerate(states, start=1):
            household = HouseholdFactory(
                small_area=area,
                household_no=number,
                state=state,
                registrar=None if state == S.LISTED else registrar,
                signed_at=cst(2020, 11, 1 + (number + index) % 5, 9 + number % 8),
                expected_persons=2 + number % 2,
                aware_of_census=(True, False, None)[number % 3],  # 知晓率: reached, not reached, not asked
            )
            PersonFactory(household=household, row_no=1, d4_sex=1, d5_birth_year=1980)
            PersonFactory(household=household, row_no=2, d2_relationship=1, d4_sex=2, d5_birth_year=1985)
            if number % 3 == 0:
                PersonFactory(
                    household=household, row_no=3, d2_relationship=2, d4_sex=2, d5_birth_year=2012, d12_literate=None
                )
            households.append(household)
    progress_refresh()
    return Registration(cast=cast, households=households)


@pytest.fixture
def celery_worker() -> Iterator[None]:
    """A worker thread on the tests' own Redis database."""
    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=10):
        yield
