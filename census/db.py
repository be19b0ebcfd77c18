"""Database invariants as user-facing errors.

Check and unique constraints are the last guard of every invariant. Validating each of them in Python
before a write costs a query per constraint (dozens per household form); instead, services write inside a
savepoint and turn a constraint violation into a ``ValidationError`` carrying the constraint's own message,
so that the client sees a clear reason and nothing is half-saved.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, models, transaction
from django.db.models.fields import NOT_PROVIDED
from django.db.models.signals import post_save
from django.utils.translation import gettext as _

# The largest bigint (every id, and every OFFSET): raw SQL with a larger number fails in PostgreSQL ("bigint out
# of range") where the ORM would have answered "no such row", so numbers bound for it are held to this first.
BIGINT_MAX = 2**63 - 1


def constraint_message(model: type[models.Model], name: str) -> str:
    for constraint in model._meta.constraints:
        if constraint.name == name:
            return str(constraint.get_violation_error_message())
    return name


@contextmanager
def constraint_errors(*models_: type[models.Model], label: str = "__all__", savepoint: bool = True) -> Iterator[None]:
    """``savepoint=False`` where the caller's own atomic block rolls back on the error anyway."""
    try:
        with transaction.atomic(savepoint=savepoint):
            yield
    except IntegrityError as exc:
        diag = getattr(exc.__cause__, "diag", None)
        name = getattr(diag, "constraint_name", None) or ""
        for model in models_:
            message = constraint_message(model, name)
            if message != name:
                raise ValidationError(
                    {label: [_("%(message)s (rule %(name)s)") % {"message": message, "name": name}]}
                ) from exc
        raise ValidationError(
            {label: [_("The data breaks the database rule %(name)s.") % {"name": name or "?"}]}
        ) from exc


# --- a lock held across commits --------------------------------------------------------------------------------


@contextmanager
def advisory_lock(key: int, *, wait: bool) -> Iterator[bool]:
    """PostgreSQL's advisory lock ``key`` for the duration of the block, across the commits made inside it; yields
    whether it was taken (``wait``: wait for it, so always).

    On a direct connection, a session lock of the connection itself. Through PgBouncer in transaction mode
    (``CENSUS_PGBOUNCER``) a session lock would stay on whichever server connection the statement ran on — the
    unlock may reach another one, and the lock then outlives the block until PgBouncer closes that connection.
    There, a connection of its own holds a transaction open for the block (PgBouncer keeps a server connection to
    a client while its transaction lasts) with the lock as a transaction lock: the same key space, so the two
    kinds exclude each other."""
    from django.conf import settings

    if not getattr(settings, "CENSUS_PGBOUNCER", False):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)" if wait else "SELECT pg_try_advisory_lock(%s)", [key])
            taken = True if wait else bool(cursor.fetchone()[0])
        try:
            yield taken
        finally:
            if taken:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
        return
    import psycopg2

    holder = psycopg2.connect(**connection.get_connection_params())
    try:
        with holder.cursor() as cursor:  # (psycopg2 opens the transaction with the first statement)
            if wait:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])
                taken = True
            else:
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [key])
                taken = bool(cursor.fetchone()[0])
        yield taken
    finally:
        holder.rollback()
        holder.close()


# --- statements planned once per connection -------------------------------------------------------------------


@functools.lru_cache(maxsize=512)
def _prepared_form(sql: str) -> tuple[str, str, int]:
    """The statement's name, its text with ``$n`` parameters, and how many it takes."""
    pieces = sql.split("%s")
    if "%" in "".join(pieces).replace("%%", ""):
        raise ValueError("execute_prepared takes %s parameters only")
    numbered = pieces[0] + "".join(f"${number}{piece}" for number, piece in enumerate(pieces[1:], start=1))
    name = "census_" + hashlib.sha256(sql.encode()).hexdigest()[:20]
    return name, numbered.replace("%%", "%"), len(pieces) - 1


def execute_prepared(cursor: Any, sql: str, params: Sequence[Any]) -> None:
    """Execute ``sql`` (with ``%s`` parameters) as a statement PostgreSQL prepared once on this connection.

    psycopg2 sends every statement as text, so PostgreSQL parses and plans each one anew: for the statements
    every request runs — the token and its user, the small area's lock, a submission's rows — planning took
    longer than running them. Prepared (``PREPARE``, on the raw cursor, so that query logs and counts show each
    execution once), a statement is planned at most a few times per connection. A prepared statement outlives
    a rolled-back transaction; a new connection starts without any (``census.postgresql``). On a connection of
    another backend, or through PgBouncer in transaction mode (``CENSUS_PGBOUNCER``), the statement is executed as
    it is.
    """
    prepared: set[str] | None = getattr(cursor.db, "prepared", None)
    if prepared is None or not cursor.db.prepares:
        cursor.execute(sql, params)
        return
    name, numbered, count = _prepared_form(sql)
    if len(params) != count:
        raise ValueError(f"the statement takes {count} parameters, not {len(params)}")
    if name not in prepared:
        cursor.cursor.execute(f"PREPARE {name} AS {numbered}")
        prepared.add(name)
    cursor.execute(f"EXECUTE {name} ({', '.join(['%s'] * count)})" if count else f"EXECUTE {name}", params)


# --- new rows of several models in one statement ------------------------------------------------------------


@functools.cache
def _insert_shape(model: type[models.Model], with_pk: bool) -> tuple[tuple[models.Field, ...], str, str]:
    """The fields written, the ``INSERT … (columns)`` head and the quoted primary key column of ``model``."""
    quote = connection.ops.quote_name
    fields = []
    for field in model._meta.concrete_fields:
        if field.db_default is not NOT_PROVIDED or getattr(field, "generated", False):
            raise TypeError(f"rows_insert cannot write {model.__name__}.{field.name}: the database sets its value")
        if field.primary_key and not with_pk:
            continue
        fields.append(field)
    columns = ", ".join(quote(field.column or field.attname) for field in fields)
    pk_column = quote(model._meta.pk.column or "id")
    return tuple(fields), f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES ", pk_column


def rows_insert(*groups: Sequence[models.Model]) -> None:
    """Insert new rows — each group a list of unsaved instances of one model — in one statement.

    What ``save(force_insert=True)`` and ``bulk_create`` do for a new row (``pre_save`` of every field, so
    ``auto_now_add`` is set on the instance; the database value of every field; the related objects' ids), but
    the SQL of each model is composed once per process and all groups travel in one round trip, as the
    data-modifying parts of one ``WITH``: a submission writes up to eight kinds of rows, and composing and sending
    them one by one was a third of its cost. Ids the database assigns are read back onto the instances, which
    are then saved instances like any other. The parts run against one snapshot, so a row may not depend on
    another row of the same call except through a deferred foreign key (Django's foreign keys are deferred to
    the commit). No signals are sent; ``post_save_send`` sends the ones a caller needs.
    """
    database = connections[DEFAULT_DB_ALIAS]  # the proxy `connection` costs a lookup on every use
    parts: list[str] = []
    selects: list[str] = []
    params: list[Any] = []
    pending: list[list[models.Model]] = []
    for number, objs in enumerate(group for group in groups if group):
        model = type(objs[0])
        with_pk = objs[0].pk is not None
        if any(type(obj) is not model or (obj.pk is not None) != with_pk for obj in objs):
            raise TypeError("rows_insert: a group is instances of one model, all with an id or all without")
        fields, head, pk_column = _insert_shape(model, with_pk)
        row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        for obj in objs:
            obj._prepare_related_fields_for_save(operation_name="rows_insert")  # type: ignore[attr-defined]
            params.extend(field.get_db_prep_save(field.pre_save(obj, True), database) for field in fields)
        parts.append(f"i{number} AS ({head}{', '.join([row] * len(objs))} RETURNING {pk_column})")
        selects.append(f"SELECT {number}, {pk_column} FROM i{number}")
        pending.append(list(objs))
    if not parts:
        return
    with database.cursor() as cursor:
        execute_prepared(cursor, f"WITH {', '.join(parts)} {' UNION ALL '.join(selects)}", params)
        returned = cursor.fetchall()
    # Each part returns its rows in the order of its VALUES (what bulk_create relies on, too).
    ids: dict[int, list[int]] = {}
    for number, pk in returned:
        ids.setdefault(number, []).append(pk)
    for number, objs in enumerate(pending):
        for obj, pk in zip(objs, ids.get(number, []), strict=True):
            obj.pk = pk
            obj._state.adding = False
            obj._state.db = database.alias


def post_save_send(instance: models.Model, *, created: bool) -> None:
    """The ``post_save`` signal ``save()`` would have sent, for a row written by ``rows_insert``."""
    post_save.send(
        sender=type(instance), instance=instance, created=created, update_fields=None, raw=False, using=connection.alias
    )
