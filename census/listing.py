"""Search, filters, sorting and pagination for every list page, in one place.

A list view declares which columns may be sorted and searched; :func:`paginate_list` applies the request's
``q``, ``sort`` and ``page`` parameters, so every list in the system behaves the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import Any
from urllib.parse import urlencode

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest

PAGE_SIZE = 25


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
    sortable: Sequence[str] = (),
    default_sort: str = "",
    per_page: int = PAGE_SIZE,
) -> ListPage:
    query = request.GET.get("q", "").strip()[:100]
    if query and search_fields:
        queryset = queryset.filter(reduce(or_, (Q(**{f"{name}__icontains": query}) for name in search_fields)))
    sort = request.GET.get("sort", default_sort)
    if sort.lstrip("-") in sortable:
        queryset = queryset.order_by(sort, "pk")
    elif default_sort:
        sort = default_sort
        queryset = queryset.order_by(default_sort, "pk")
    paginator = Paginator(queryset, per_page)
    page = paginator.get_page(request.GET.get("page"))
    params = {key: str(value) for key, value in request.GET.items() if value}
    return ListPage(page=page, query=query, sort=sort, sortable=sortable, params=params)
