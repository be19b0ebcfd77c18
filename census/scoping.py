"""Who may see what: the one ``visible_to(user)`` mechanism.

Every queryset a view, API, export or task serves to a user goes through :meth:`ScopedQuerySet.visible_to`.
A user's :class:`Scope` comes from their role: the district and auditor roles see their district, a
township office its township, a supervisor the small areas of the enumerators they oversee (and any they
enumerate themselves), an enumerator only the small areas assigned to them, a department only records of
its own department.

A model says where its area keys are through ``scope_fields`` (a path per level). Because area codes nest
(district 6 digits ⊂ township 9 ⊂ village 12 ⊂ small area 15), a model that has no path at the user's level
is filtered at the nearest coarser level it has — a township office sees its own district row, an
enumerator the township rows of the small areas assigned to them.
"""

from __future__ import annotations

import contextlib
import enum
import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Generic, Self, TypeVar

from django.db import connection, models
from django.db.models.functions import Cast

from census.db import execute_prepared

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from census.models import StaffMember

_M = TypeVar("_M", bound=models.Model)


class ScopeKind(enum.Enum):
    NOTHING = "nothing"
    EVERYTHING = "everything"
    DISTRICT = "district"
    TOWNSHIP = "township"
    SMALL_AREAS = "small_areas"
    DEPARTMENT = "department"
    # A city office: the aggregates of its city's districts, nothing personal (only querysets with city_sees).
    CITY = "city"


@dataclass(frozen=True)
class Scope:
    kind: ScopeKind
    code: str = ""  # city, district or township code
    staff_id: int | None = None  # for SMALL_AREAS: whose assignments
    department_id: int | None = None

    def small_area_ids(self) -> list[int]:
        """The small areas a field worker covers: their own assignments, plus, for a supervisor, those of
        the enumerators they oversee.

        Read once per scope (a scope lives as long as its user object, i.e. one request) and passed on as a
        literal list: a handful of ids lets PostgreSQL use the area indexes of the big tables directly, where
        a correlated subquery with an OR over two joins did not.
        """
        assert self.kind is ScopeKind.SMALL_AREAS
        cached = self.__dict__.get("_small_area_ids")
        if cached is None:
            with connection.cursor() as cursor:
                execute_prepared(cursor, _small_area_ids_sql(), [self.staff_id, self.staff_id])
                cached = sorted(row[0] for row in cursor.fetchall())
            object.__setattr__(self, "_small_area_ids", cached)
        return list(cached)


@functools.cache
def _small_area_ids_sql() -> str:
    """Own assignments and those of the supervised enumerators in one statement, written once and prepared:
    every request of a field worker asks, and composing the same union through the ORM cost more than running
    it."""
    from census.models import SmallAreaAssignment, SupervisorAssignment

    areas, supervision = SmallAreaAssignment._meta.db_table, SupervisorAssignment._meta.db_table
    return (
        f"SELECT small_area_id FROM {areas} WHERE staff_id = %s"
        f" UNION SELECT a.small_area_id FROM {areas} a JOIN {supervision} s ON s.enumerator_id = a.staff_id"
        f" WHERE s.supervisor_id = %s"
    )


def scope_of(user: StaffMember | AnonymousUser) -> Scope:
    """The scope of a user, computed once per user object."""
    cached = getattr(user, "_census_scope", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    scope = _compute_scope(user)
    with contextlib.suppress(AttributeError):
        user._census_scope = scope  # type: ignore[union-attr]
    return scope


def _compute_scope(user: StaffMember | AnonymousUser) -> Scope:
    from census.models import Role

    if not user.is_authenticated or not user.is_active:
        return Scope(ScopeKind.NOTHING)
    if user.is_superuser:
        return Scope(ScopeKind.EVERYTHING)
    role = user.role  # type: ignore[union-attr]
    if role in (Role.DISTRICT_OFFICE, Role.AUDITOR) and user.district_id:  # type: ignore[union-attr]
        return Scope(ScopeKind.DISTRICT, code=user.district_id)  # type: ignore[union-attr]
    if role == Role.TOWNSHIP_OFFICE and user.township_id:  # type: ignore[union-attr]
        return Scope(ScopeKind.TOWNSHIP, code=user.township_id)  # type: ignore[union-attr]
    if role in (Role.ENUMERATOR, Role.SUPERVISOR):
        return Scope(ScopeKind.SMALL_AREAS, staff_id=user.pk)
    if role == Role.DEPARTMENT and user.department_id:  # type: ignore[union-attr]
        return Scope(ScopeKind.DEPARTMENT, department_id=user.department_id)  # type: ignore[union-attr]
    if role == Role.CITY_OFFICE and user.city_id:  # type: ignore[union-attr]
        return Scope(ScopeKind.CITY, code=user.city_id)  # type: ignore[union-attr]
    return Scope(ScopeKind.NOTHING)


class ScopedQuerySet(models.QuerySet[_M], Generic[_M]):
    """A queryset that knows where its rows sit in the area tree (or which department owns them)."""

    # level → lookup path, e.g. {"township": "township_id", "small_area": "small_area_id"}.
    # Levels: district, township, village, small_area, department.
    scope_fields: ClassVar[dict[str, str]] = {}
    # Whether a city office sees the rows of its districts: only the frame's names and the aggregate tables say
    # so; every other model (households, persons, findings, staff …) shows a city office nothing.
    city_sees: ClassVar[bool] = False

    def visible_to(self, user: StaffMember | AnonymousUser) -> Self:
        scope = scope_of(user)
        fields = self.scope_fields
        if scope.kind is ScopeKind.EVERYTHING:
            return self.all()
        if scope.kind is ScopeKind.DISTRICT:
            return self._by_code(scope.code)
        if scope.kind is ScopeKind.TOWNSHIP:
            return self._by_code(scope.code)
        if scope.kind is ScopeKind.SMALL_AREAS:
            return self._by_small_areas(scope)
        if scope.kind is ScopeKind.DEPARTMENT and "department" in fields:
            return self.filter(**{fields["department"]: scope.department_id})
        if scope.kind is ScopeKind.CITY and self.city_sees and "district" in fields:
            # Area codes nest: a city's districts are those whose code starts with the city's 4 digits.
            district = Cast(fields["district"], models.CharField())
            return self.alias(scope_district=district).filter(scope_district__startswith=scope.code)
        return self.none()

    def counted_by(self, user: StaffMember | AnonymousUser) -> Self:
        """The rows a user's *counts* are made of, for set-based queries whose output is counts alone (the summary
        tables): what ``visible_to`` gives them, and for a city office every row of its districts — a city reads
        its districts' totals, never a row (``visible_to`` gives it none of a model with personal data)."""
        scope = scope_of(user)
        if scope.kind is ScopeKind.CITY and "township" in self.scope_fields:
            # Area codes nest: a township's 9 digits start with its city's 4.
            township = Cast(self.scope_fields["township"], models.CharField())
            return self.alias(counted_township=township).filter(counted_township__startswith=scope.code)
        return self.visible_to(user)

    def _by_code(self, code: str) -> Self:
        """Filter at the finest level the model has that is no finer than the code."""
        fields = self.scope_fields
        if len(code) == 9 and "township" in fields:
            return self.filter(**{fields["township"]: code})
        if "district" in fields:
            return self.filter(**{fields["district"]: code[:6]})
        return self.none()

    def _by_small_areas(self, scope: Scope) -> Self:
        from census.models import SmallArea

        fields = self.scope_fields
        areas = scope.small_area_ids()
        if "small_area" in fields:
            return self.filter(**{f"{fields['small_area']}__in": areas})
        covered = SmallArea.objects.filter(id__in=areas)
        if "village" in fields:
            return self.filter(**{f"{fields['village']}__in": covered.values("village_id")})
        if "township" in fields:
            return self.filter(**{f"{fields['township']}__in": covered.values("township_id")})
        if "district" in fields:
            return self.filter(**{f"{fields['district']}__in": covered.values("township__district_id")})
        return self.none()


def visible_to(queryset: models.QuerySet[_M] | type[_M], user: StaffMember | AnonymousUser) -> models.QuerySet[_M]:
    """``visible_to(Household, user)`` or ``visible_to(qs, user)``: the function form of the queryset method."""
    qs = queryset._default_manager.all() if isinstance(queryset, type) else queryset
    if not isinstance(qs, ScopedQuerySet):
        raise TypeError(f"{qs.model.__name__} has no ScopedQuerySet; every served queryset must be scoped.")
    return qs.visible_to(user)
