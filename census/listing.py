"""Search, filters, sorting and pagination for every list page, in one place.

A list view declares which columns may be sorted and searched; :func:`paginate_list` applies the request's
``q``, ``sort`` and ``page`` parameters, so every list in the system behaves the same way.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property, reduce
from operator import or_
from typing import Any
from urllib.parse import urlencode

from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.core.paginator import Page, Paginator
from django.db import connections
from django.db.models import Q, QuerySet
from django.http import HttpRequest

PAGE_SIZE = 25


class RememberedCountPaginator(Paginator):  # type: ignore[type-arg]
    """A paginator that counts a long list once a minute.

    Counting a district's 358,000 households costs the database 60 ms on every page of an office's list, most of
    a page's cost; the number of pages of such a list may well be a minute old. A list under ``remember_from`` rows
    (every enumerator's and supervisor's, a township's filtered views) is counted exactly every time. The count is
    remembered under its query's SQL, so each scope, filter and search has its own.
    """

    remember_from = 10_000
    remember_seconds = 60

    @cached_property
    def count(self) -> int:
        rows: Any = self.object_list
        try:
            sql = str(rows.query)
        except (AttributeError, EmptyResultSet):  # a list, or a query that can match nothing
            return int(super().count)
        database = connections[rows.db].settings_dict["NAME"]
        key = f"census:list-count:{database}:" + hashlib.sha256(sql.encode()).hexdigest()
        remembered = cache.get(key)
        if isinstance(remembered, int):
            return remembered
        counted = int(super().count)
        if counted >= self.remember_from:
            cache.set(key, counted, timeout=self.remember_seconds)
        return counted


@dataclass
class ListPage:
    page: Page[Any]
    query: str
    sort: str
    sortable: Sequence[str]
    params: dict[str, str]

    def sort_url(self, column: str) -> str:
        direction = "-" if self.sort == column else ""
        params = {**self.params, "sort": f"{direction}{column}"}
        params.pop("page", None)
        return "?" + urlencode(params)

    def page_url(self, number: int) -> str:
        return "?" + urlencode({**self.params, "page": str(number)})

    @property
    def sort_urls(self) -> dict[str, str]:
        return {column: self.sort_url(column) for column in self.sortable}

    @property
    def previous_url(self) -> str | None:
        return self.page_url(self.page.previous_page_number()) if self.page.has_previous() else None

    @property
    def next_url(self) -> str | None:
        return self.page_url(self.page.next_page_number()) if self.page.has_next() else None

    @property
    def querystring(self) -> str:
        return urlencode({k: v for k, v in self.params.items() if k != "page"})


def paginate_list(
    request: HttpRequest,
    queryset: QuerySet[Any],
    *,
    search_fields: Sequence[str] = (),
    search: Callable[[QuerySet[Any], str], QuerySet[Any]] | None = None,
    sortable: Sequence[str] = (),
    default_sort: str = "",
    per_page: int = PAGE_SIZE,
) -> ListPage:
    """``search``, when given, replaces the search over ``search_fields`` (for a list whose search must not be a
    plain substring match)."""
    query = request.GET.get("q", "").strip()[:100]
    if query and search is not None:
        queryset = search(queryset, query)
    elif query and search_fields:
        queryset = queryset.filter(reduce(or_, (Q(**{f"{name}__icontains": query}) for name in search_fields)))
    sort = request.GET.get("sort", default_sort)
    if sort.lstrip("-") in sortable:
        queryset = queryset.order_by(sort, "pk")
    elif default_sort:
        sort = default_sort
        queryset = queryset.order_by(default_sort, "pk")
    paginator = RememberedCountPaginator(queryset, per_page)
    page = paginator.get_page(request.GET.get("page"))
    params = {key: str(value) for key, value in request.GET.items() if value}
    return ListPage(page=page, query=query, sort=sort, sortable=sortable, params=params)
