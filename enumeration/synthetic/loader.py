"""Bulk loading with COPY, for the synthetic district and other million-row loads.

Rows are given as dicts keyed by column (attname); columns a row leaves out take the model field's default.
Rows are written as PostgreSQL text-format COPY data, buffered per table and sent in chunks by a
background thread, so that generating the next township overlaps with PostgreSQL storing the last one.

Foreign keys are dropped for the load and re-created afterwards in the same transaction, which validates
each of them with one set-based query instead of one trigger call per row (the approach of PostgreSQL's
"Populating a Database" guide). Everything happens in one transaction: a failed load leaves nothing behind.
"""

from __future__ import annotations

import datetime
import io
import json
import queue
import threading
from collections.abc import Callable, Iterable
from typing import Any, Protocol

from django.db import connection, models
from django.utils import timezone

CHUNK_BYTES = 8 * 1024 * 1024


_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _text(value: Any) -> str:
    kind = type(value)
    if kind is int:
        return str(value)
    if kind is str:
        return (
            value.translate(_ESCAPES) if ("\\" in value or "\t" in value or "\n" in value or "\r" in value) else value
        )
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False)
    return str(value).translate(_ESCAPES)


class _Table:
    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        self.name = model._meta.db_table
        now = timezone.now()
        self.columns: list[tuple[str, Any]] = []
        for field in model._meta.concrete_fields:
            if field.has_default():
                default = field.get_default()
            elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                default = now
            elif field.null:
                default = None
            elif isinstance(field, models.CharField | models.TextField):
                default = ""
            else:
                default = None
            assert field.column is not None
            self.columns.append((field.column, default))
        self.column_sql = ", ".join(f'"{column}"' for column, _ in self.columns)
        # Most rows set a fraction of the columns: start from the defaults' text and fill in what is given.
        self.default_texts = [_text(default) for _, default in self.columns]
        self.index = {column: position for position, (column, _) in enumerate(self.columns)}
        self.buffer = io.StringIO()
        self.rows = 0

    def line(self, row: dict[str, Any]) -> str:
        parts = self.default_texts.copy()
        index = self.index
        for key, value in row.items():
            position = index.get(key)
            if position is None:
                continue
            # The two commonest cases inline (millions of values): a number, and text with nothing to escape
            # (isprintable() is False for tab, newline and carriage return; a backslash is checked apart).
            kind = type(value)
            if kind is int:
                parts[position] = str(value)
            elif kind is str and value.isprintable() and "\\" not in value:
                parts[position] = value
            else:
                parts[position] = _text(value)
        return "\t".join(parts) + "\n"


Chunk = tuple[str, str, str, int]  # table, column list, COPY text, rows


class RowSink(Protocol):
    """Where generated rows go: a :class:`BulkLoader` (COPY on this connection) or a :class:`ChunkWriter`."""

    def add(self, model: type[models.Model], row: dict[str, Any]) -> None: ...


class ChunkWriter:
    """Formats rows as :class:`BulkLoader` does and hands each full chunk to ``send``, for a process that makes
    rows but has no database connection (the parallel generation of a district): the process holding the
    connection passes the chunks to :meth:`BulkLoader.put_chunk`."""

    def __init__(self, models_in_order: Iterable[type[models.Model]], send: Callable[[Chunk], None]) -> None:
        self.tables = {model: _Table(model) for model in models_in_order}
        self.send = send

    def add(self, model: type[models.Model], row: dict[str, Any]) -> None:
        table = self.tables[model]
        table.buffer.write(table.line(row))
        table.rows += 1
        if table.buffer.tell() >= CHUNK_BYTES:
            self.flush(table)

    def flush(self, table: _Table) -> None:
        data = table.buffer.getvalue()
        if data:
            self.send((table.name, table.column_sql, data, table.rows))
        table.buffer = io.StringIO()
        table.rows = 0

    def flush_all(self) -> None:
        for table in self.tables.values():
            self.flush(table)


class BulkLoader:
    """``with BulkLoader([Household, Person]) as load: load.add(Household, {...})``."""

    def __init__(self, models_in_order: Iterable[type[models.Model]]) -> None:
        self.tables = {model: _Table(model) for model in models_in_order}
        self.queue: queue.Queue[tuple[str, str, str] | None] = queue.Queue(maxsize=8)
        self.error: BaseException | None = None
        self.counts: dict[str, int] = {}
        self._dropped: list[tuple[str, str, str]] = []
        self._indexes: list[tuple[str, str]] = []

    # --- life cycle ---------------------------------------------------------------------------------
    def __enter__(self) -> BulkLoader:
        connection.ensure_connection()
        self._drop_foreign_keys()
        self._drop_indexes()
        # The worker thread uses the caller's psycopg2 connection, so the COPY is part of the caller's
        # transaction (Django's connection proxy is per thread, hence the explicit hand-over).
        self.raw = connection.connection
        self.thread = threading.Thread(target=self._worker, name="bulk-copy", daemon=True)
        self.thread.start()
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            for table in self.tables.values():
                self._flush(table)
        self.queue.put(None)
        self.thread.join()
        if exc_type is None and self.error is not None:
            raise self.error
        if exc_type is None:
            self._restore_indexes()
            self._restore_foreign_keys()

    def _worker(self) -> None:
        raw = self.raw
        while True:
            item = self.queue.get()
            if item is None:
                return
            if self.error is not None:
                continue
            name, columns, data = item
            try:
                with raw.cursor() as cursor:
                    cursor.copy_expert(f'COPY "{name}" ({columns}) FROM STDIN', io.StringIO(data))
            except BaseException as exc:
                self.error = exc

    # --- rows ---------------------------------------------------------------------------------------
    def add(self, model: type[models.Model], row: dict[str, Any]) -> None:
        table = self.tables[model]
        table.buffer.write(table.line(row))
        table.rows += 1
        if table.buffer.tell() >= CHUNK_BYTES:
            self._flush(table)

    def put_chunk(self, chunk: Chunk) -> None:
        """COPY rows formatted elsewhere (by a :class:`ChunkWriter`)."""
        if self.error is not None:
            raise self.error
        name, columns, data, rows = chunk
        self.queue.put((name, columns, data))
        self.counts[name] = self.counts.get(name, 0) + rows

    def _flush(self, table: _Table) -> None:
        data = table.buffer.getvalue()
        if data:
            if self.error is not None:
                raise self.error
            self.queue.put((table.name, table.column_sql, data))
            self.counts[table.name] = self.counts.get(table.name, 0) + table.rows
        table.buffer = io.StringIO()
        table.rows = 0

    # --- foreign keys -------------------------------------------------------------------------------
    def _drop_foreign_keys(self) -> None:
        names = [table.name for table in self.tables.values()]
        with connection.cursor() as cursor:
            # Deferred checks of earlier writes in this transaction must run before their tables can be altered.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            cursor.execute(
                """
                SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
                FROM pg_constraint c
                WHERE c.contype = 'f' AND c.conrelid::regclass::text = ANY(%s)
                """,
                [names],
            )
            self._dropped = [(table, name, definition) for table, name, definition in cursor.fetchall()]
            for table, name, _definition in self._dropped:
                cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')

    def _drop_indexes(self) -> None:
        """Drop the plain (non-unique) indexes of the loaded tables: building each once from the loaded rows
        costs far less than keeping it up to date row by row (PostgreSQL's "Populating a Database" again).
        Unique indexes stay: they are constraints, and the foreign keys need the referenced ones."""
        names = [table.name for table in self.tables.values()]
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
                FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
                WHERE c.relname = ANY(%s) AND NOT i.indisunique AND NOT i.indisprimary
                  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
                """,
                [names],
            )
            self._indexes = cursor.fetchall()
            for name, _definition in self._indexes:
                cursor.execute(f"DROP INDEX {name}")

    def _restore_indexes(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            for _name, definition in self._indexes:
                cursor.execute(definition)

    def _restore_foreign_keys(self) -> None:
        with connection.cursor() as cursor:
            for table, name, definition in self._dropped:
                cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            for loaded in self.tables.values():
                cursor.execute(f'ANALYZE "{loaded.name}"')


def next_ids(model: type[models.Model]) -> int:
    """The first free primary key of a table (the loader writes explicit ids)."""
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT COALESCE(MAX(id), 0) + 1 FROM "{model._meta.db_table}"')
        return int(cursor.fetchone()[0])


def reset_sequences(models_: Iterable[type[models.Model]]) -> None:
    with connection.cursor() as cursor:
        for model in models_:
            table = model._meta.db_table
            sequence = f"pg_get_serial_sequence('\"{table}\"', 'id')"
            cursor.execute(f'SELECT setval({sequence}, COALESCE((SELECT MAX(id) FROM "{table}"), 1))')
