"""Lists count long results once a minute (``RememberedCountPaginator``), short ones every time."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.test import RequestFactory

from census.listing import RememberedCountPaginator, paginate_list
from census.models import Township
from tests.census.factories import TownshipFactory
from tests.conftest import Cast

pytestmark = pytest.mark.django_db


def _page(search: str) -> Any:
    request = RequestFactory().get("/", {"q": search})
    return paginate_list(request, Township.objects.all(), search_fields=["name"], per_page=1).page


def test_a_long_list_is_counted_once_and_the_count_remembered(
    cast: Cast, monkeypatch: pytest.MonkeyPatch, django_assert_num_queries: Any
) -> None:
    monkeypatch.setattr(RememberedCountPaginator, "remember_from", 2)
    # A search of its own: the remembered count belongs to this query's SQL and no other test's.
    marker = uuid.uuid4().hex[:8]
    for n in range(3):
        TownshipFactory(district=cast.township_a.district, code=f"5115041{50 + n}", name=f"{marker}镇{n}")
    with django_assert_num_queries(1):  # the count (the page's rows are read when shown)
        assert _page(marker).paginator.count == 3
    TownshipFactory(district=cast.township_a.district, code="511504159", name=f"{marker}镇9")
    with django_assert_num_queries(0):  # the count is the remembered one
        page = _page(marker)
        assert page.paginator.count == 3 and page.paginator.num_pages == 3
    # Another search is another query, counted for itself.
    with django_assert_num_queries(1):
        assert _page(f"{marker}镇9").paginator.count == 1


def test_a_short_list_is_counted_every_time(cast: Cast, django_assert_num_queries: Any) -> None:
    marker = uuid.uuid4().hex[:8]
    TownshipFactory(district=cast.township_a.district, code="511504161", name=f"{marker}镇")
    assert _page(marker).paginator.count == 1
    TownshipFactory(district=cast.township_a.district, code="511504162", name=f"{marker}乡")
    with django_assert_num_queries(1):
        assert _page(marker).paginator.count == 2
