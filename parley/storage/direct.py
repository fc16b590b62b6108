"""Core statements run on SQLite's own driver: compiled once, executed without SQLAlchemy.

Why: on the hot path a statement is a few microseconds of SQLite's work and ~100 µs of
SQLAlchemy's (the cache-key lookup, an execution context, a cursor result and its
Rows), measured on this project's 2-core bench machine: a visitor message's unit
(five statements, BEGIN/COMMIT) took 540 µs of CPU through `Connection.execute` and
120 µs as the same SQL on the sqlite3 cursor. The statements stay SQLAlchemy Core,
written once for both databases: `execute` compiles each one for SQLite the first time
it sees it (SQL text, parameter order, SQLAlchemy's own bind and result processors for
its types: DATETIME as text, JSON) and then runs it on the `sqlite3` connection under
the same transaction. On PostgreSQL it is `connection.execute`, unchanged.

Statements that need what only an execution context gives (Python-side column
defaults, callable binds) are refused when first compiled: the caller passes every
value, as the hot path does anyway.
"""

from __future__ import annotations

import collections
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.dialects import sqlite
from sqlalchemy.sql import ClauseElement

_DIALECT = sqlite.dialect(paramstyle="qmark")


class _Plan:
    """One statement compiled for SQLite: what `execute` needs to run it on the driver."""

    __slots__ = ("binds", "processors", "row_type", "sql", "statement")

    def __init__(self, statement: ClauseElement, keys: tuple[str, ...]) -> None:
        compiled = statement.compile(dialect=_DIALECT, column_keys=list(keys) if keys else None)
        if getattr(compiled, "insert_prefetch", None) or getattr(compiled, "update_prefetch", None):
            raise ValueError(f"direct.execute needs every value given: {compiled.string!r}")
        processors = compiled._bind_processors
        self.binds: list[tuple[str, Any, Callable | None]] = []
        for name in compiled.positiontup or ():
            bind = compiled.binds[name]
            if bind.callable is not None:
                raise ValueError(f"direct.execute can't run callable binds: {compiled.string!r}")
            self.binds.append((name, bind.value, processors.get(name)))
        self.sql = compiled.string
        self.statement = statement  # keeps id(statement), the cache key, from being reused
        columns = compiled._result_columns
        if columns:
            self.row_type = _row_type(tuple(column.keyname for column in columns))
            self.processors = [column.type._cached_result_processor(_DIALECT, None) for column in columns]
        else:
            self.row_type = None
            self.processors = []


class Result:
    """What the hot path reads of a CursorResult: first(), scalar(), scalar_one(), all(),
    inserted_primary_key, rowcount."""

    __slots__ = ("_rows", "inserted_primary_key", "rowcount")

    def __init__(self, rows: list, rowcount: int, lastrowid: int | None) -> None:
        self._rows = rows
        self.rowcount = rowcount
        self.inserted_primary_key = (lastrowid,)

    def __iter__(self):
        return iter(self._rows)

    def first(self):
        return self._rows[0] if self._rows else None

    def all(self) -> list:
        return self._rows

    def scalar(self):
        return self._rows[0][0] if self._rows else None

    def scalar_one(self):
        if len(self._rows) != 1:
            raise LookupError(f"expected one row, got {len(self._rows)}")
        return self._rows[0][0]


# Plans by statement (and an INSERT's keys). The hot path's statements are module
# constants; a statement built per call would only miss the cache, so the cache is
# bounded rather than growing with them.
_plans: dict[tuple[int, tuple[str, ...]], _Plan] = {}
MAX_PLANS = 512


def execute(connection: Connection, statement: ClauseElement, params: dict[str, Any]):
    """`connection.execute(statement, params)`; on SQLite run on the driver (see above).

    For an INSERT the given keys decide the columns, as with SQLAlchemy."""
    if connection.dialect.name != "sqlite":
        return connection.execute(statement, params)
    keys = tuple(params) if statement.is_insert else ()
    plan = _plans.get((id(statement), keys))
    if plan is None:
        if len(_plans) >= MAX_PLANS:
            _plans.clear()
        plan = _plans[(id(statement), keys)] = _Plan(statement, keys)
    values = []
    for name, default, process in plan.binds:
        value = params.get(name, default)
        values.append(process(value) if process is not None else value)
    cursor = connection.connection.driver_connection.cursor()
    try:
        cursor.execute(plan.sql, values)
        rows = []
        if plan.row_type is not None:
            processors = plan.processors
            make = plan.row_type._make
            for raw in cursor.fetchall():
                rows.append(make([value if process is None or value is None else process(value)
                                  for process, value in zip(processors, raw, strict=True)]))
        return Result(rows, cursor.rowcount, cursor.lastrowid)
    finally:
        cursor.close()


def _row_type(names: Sequence[str]) -> type:
    """A namedtuple with SQLAlchemy Row's `_mapping` (attribute and name access alike)."""
    base = collections.namedtuple("Row", names)
    return type("Row", (base,), {"__slots__": (), "_mapping": property(lambda row: row._asdict())})
