"""Property tests (hypothesis) for the entry rules' robustness: ``validate_household`` reads every form the
database can hold — every value each column's type allows, not only the codes the forms offer — and answers
with issues, never with an exception (the form page, the autosave, the API and the signature all call it)."""

from __future__ import annotations

from typing import Any

from django.db import models
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from enumeration.models import DeathRecord, FormKind, Household, Person
from enumeration.rules.entry import Issue, validate_household
from enumeration.services.registration import DEATH_FORM_FIELDS, HOUSEHOLD_FORM_FIELDS, PERSON_FORM_FIELDS

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ID_CHARACTERS = "0123456789X"


def column(model: type[models.Model], name: str) -> st.SearchStrategy[Any]:
    """Any value the column can hold (its type's range, null where it is nullable), with the interesting
    values — the codes and the bounds of the real world — drawn more often."""
    field = model._meta.get_field(name)
    if isinstance(field, models.JSONField):
        return st.dictionaries(st.text(max_size=20), st.text(max_size=50), max_size=3)
    if isinstance(field, models.CharField):
        if field.choices:
            return st.sampled_from([value for value, _label in field.choices])
        size = field.max_length or 50
        if "id_number" in name:
            return st.one_of(st.text(alphabet=ID_CHARACTERS, min_size=size, max_size=size), st.text(max_size=size))
        return st.one_of(st.just(""), st.text(alphabet="0123456789", max_size=size), st.text(max_size=size))
    if isinstance(field, models.IntegerField):
        top = 32767 if isinstance(field, models.SmallIntegerField | models.PositiveSmallIntegerField) else 2**31 - 1
        values = st.one_of(st.integers(0, 12), st.integers(1880, 2021), st.integers(0, top))
        return st.one_of(st.none(), values) if field.null else values
    if isinstance(field, models.BooleanField):
        return st.booleans()
    raise AssertionError(f"no strategy for {model.__name__}.{name} ({type(field).__name__})")


def row(model: type[models.Model], fields: tuple[str, ...]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({name: column(model, name) for name in fields if name != "row_no"})


households = st.fixed_dictionaries(
    {
        **{name: column(Household, name) for name in HOUSEHOLD_FORM_FIELDS},
        "form_kind": st.sampled_from(FormKind.values),
        "household_no": st.one_of(st.integers(1, 998), st.just(999)),
        "in_long_form_sample": st.booleans(),
    }
)


def numbered(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**r, "row_no": index + 1} for index, r in enumerate(rows)]


@SETTINGS
@given(
    household=households,
    persons=st.lists(row(Person, PERSON_FORM_FIELDS), max_size=6).map(numbered),
    deaths=st.lists(row(DeathRecord, DEATH_FORM_FIELDS), max_size=3).map(numbered),
)
def test_validate_household_answers_every_storable_form_with_issues(
    household: dict[str, Any], persons: list[dict[str, Any]], deaths: list[dict[str, Any]]
) -> None:
    issues = validate_household(household, persons, deaths)
    assert all(isinstance(issue, Issue) for issue in issues)
    for issue in issues:
        data = issue.as_dict()
        assert data["message_zh"] and data["message_en"]


@SETTINGS
@given(
    household=households,
    persons=st.lists(row(Person, PERSON_FORM_FIELDS), min_size=1, max_size=4).map(numbered),
)
def test_validate_household_is_the_same_whatever_the_order_of_the_rows(
    household: dict[str, Any], persons: list[dict[str, Any]]
) -> None:
    """The rows are read by their number, not by where they stand in the list."""
    forwards = validate_household(household, persons, [])
    backwards = validate_household(household, list(reversed(persons)), [])
    assert sorted(i.key for i in forwards) == sorted(i.key for i in backwards)
