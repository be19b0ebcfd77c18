"""Optional sources owned by other parts: open quality findings and organisation readiness.

The dashboards are useful before those parts exist, so each source is looked up at run time and is simply
absent until it is installed — never imported at module level, never a hard dependency.

**Open findings** (谁普查、谁负责) come from one function, :func:`open_findings`, configured by
``settings.PROGRESS_FINDINGS_SOURCE`` (default: model ``quality.Finding``, found with
``django.apps.apps.get_model("quality", "Finding")``). The contract the model must meet:

- its default manager returns a ``ScopedQuerySet`` (``visible_to(user)`` and ``scope_fields`` naming its
  ``township``/``village``/``small_area`` paths);
- the queryset has an ``open()`` method (the name is ``open_method``) returning the findings still open;
- it has a foreign key to the staff member responsible for the record (``responsible_field``).

While the model is not installed, :func:`open_findings` returns ``None`` and every findings count on the
dashboards is 0 (the quality points of the score are then earned in full); the pages say so. If the model is
installed but does not meet the contract, the dashboards fail loudly (``ImproperlyConfigured``) rather than
show silent zeros.

**Organisation readiness** (四落实) per township comes from the callable named by
``settings.PROGRESS_READINESS_SOURCE`` (default ``supervision.organisation.selectors.readiness_by_township``),
called as ``readiness_by_township(user=user)`` and returning ``{township code: share 0–1}``. While it cannot
be imported, the district dashboard leaves the readiness column out. The units whose readiness is overdue come
from ``settings.PROGRESS_READINESS_OVERDUE_SOURCE`` (default
``supervision.organisation.selectors.readiness_overdue``, a queryset, earliest deadline first); the district
dashboard lists the first of them while it can be imported.
"""

from __future__ import annotations

import datetime
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db.models import F, Func, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.expressions import BaseExpression

from census.models import StaffMember


@dataclass(frozen=True)
class FindingsSource:
    """Open findings visible to one user, and how to count them per area or per responsible person."""

    queryset: QuerySet[Any]
    responsible_path: str
    scope_fields: Mapping[str, str]

    def count_by(self, level: str, outer: str) -> BaseExpression:
        """A correlated subquery: open findings whose ``level`` (township/village/small_area/responsible)
        equals the outer row's ``outer`` column."""
        path = self.responsible_path if level == "responsible" else self.scope_fields.get(level)
        if path is None:
            raise ImproperlyConfigured(f"The findings model names no {level!r} path in its scope_fields.")
        # COUNT without GROUP BY always returns one row (0 when nothing matches), so no COALESCE is needed; a
        # bare subquery is grouped by the outer column it references, never evaluated once per joined row.
        counts = (
            self.queryset.filter(**{path: OuterRef(outer)})
            .order_by()
            .annotate(n=Func(F("pk"), function="COUNT", output_field=IntegerField()))
            .values("n")
        )
        return Subquery(counts, output_field=IntegerField())


def _finding_model() -> Any | None:
    label = settings.PROGRESS_FINDINGS_SOURCE["model"]
    app_label, model_name = label.split(".")
    try:
        return apps.get_model(app_label, model_name)
    except LookupError:
        return None


def open_findings(*, user: StaffMember) -> FindingsSource | None:
    """Open findings the user may see, or ``None`` while no findings model is installed."""
    model = _finding_model()
    if model is None:
        return None
    config = settings.PROGRESS_FINDINGS_SOURCE
    queryset = model._default_manager.all()
    open_method = getattr(queryset, config["open_method"], None)
    if not hasattr(queryset, "visible_to") or open_method is None:
        raise ImproperlyConfigured(
            f"{model.__name__} must have a ScopedQuerySet with visible_to() and {config['open_method']}()."
        )
    try:
        field = model._meta.get_field(config["responsible_field"])
    except FieldDoesNotExist as exc:
        raise ImproperlyConfigured(f"{model.__name__} has no field {config['responsible_field']!r}.") from exc
    return FindingsSource(
        queryset=getattr(queryset.visible_to(user), config["open_method"])(),
        responsible_path=field.attname,
        scope_fields=dict(queryset.scope_fields),
    )


def findings_count(source: FindingsSource | None, level: str, outer: str) -> BaseExpression:
    """Open findings per row of a dashboard table; 0 while there is no findings model."""
    if source is None:
        return Value(0, output_field=IntegerField())
    return source.count_by(level, outer)


def findings_total(source: FindingsSource | None, **filters: Any) -> int:
    if source is None:
        return 0
    lookups = {source.scope_fields[level]: value for level, value in filters.items()}
    return int(source.queryset.filter(**lookups).count())


def _optional_callable(dotted: str) -> Callable[..., Any] | None:
    if not dotted:
        return None
    module_name, _, attribute = dotted.rpartition(".")
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return None
    function = getattr(module, attribute, None)
    return function if callable(function) else None


def readiness_source() -> Callable[..., Mapping[str, float]] | None:
    """The readiness selector of the organisation part, or ``None`` while it does not exist."""
    return _optional_callable(settings.PROGRESS_READINESS_SOURCE)


@dataclass(frozen=True)
class OverdueReadiness:
    """The first units whose 四落实 are overdue, and how many there are in all."""

    units: list[Any]
    count: int


def readiness_overdue(*, user: StaffMember, first: int = 10) -> OverdueReadiness | None:
    """The units overdue for the user, or ``None`` while the organisation part does not provide them."""
    source = _optional_callable(settings.PROGRESS_READINESS_OVERDUE_SOURCE)
    if source is None:
        return None
    queryset = source(user)
    return OverdueReadiness(units=list(queryset[:first]), count=queryset.count())


def readiness_by_township(*, user: StaffMember) -> Mapping[str, float] | None:
    source = readiness_source()
    if source is None:
        return None
    return {str(code): float(share) for code, share in source(user=user).items()}


__all__ = [
    "FindingsSource",
    "OverdueReadiness",
    "findings_count",
    "findings_total",
    "open_findings",
    "readiness_by_township",
    "readiness_overdue",
]


def registration_phase(request: Any) -> tuple[datetime.date, datetime.date] | None:
    """The registration phase's dates in the user's district calendar (S19), or ``None`` while the
    organisation part is not installed: the daily chart then has no planned line."""
    try:
        from supervision.organisation.models import Phase
        from supervision.organisation.selectors.calendar import request_calendar
    except ImportError:
        return None
    phase = next(p for p in request_calendar(request) if p.key == Phase.REGISTRATION)
    return phase.start, phase.end
