"""Core SELECT statements run on SQLite's own connection (sqlite3), with the SQL text and the
value processing SQLAlchemy gives them: the same rows, as mappings keyed like `Row._mapping`.

Why: the express lane (portal/core/express.py) reads who asks and the object on every hot
read. Through SQLAlchemy Core those two statements, with their connection's checkout, begin,
rollback and return, cost 240 µs of CPU a read; the same statements on the driver's
connection cost 51 µs (in-process, a write by another connection between reads, 2026-12-03).
The difference is SQLAlchemy's per-execution work (its compiled cache, parameter and result
objects, events), not SQLite's. Here that work is done once per statement: the SQL is
compiled by SQLAlchemy from the same Core statement, and each parameter and column keeps the
processor its type has on this dialect (dates as SQLite stores them, booleans, ...).
tests/core/test_prepared.py compares the rows with Core's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Column
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import Label

Processor = Callable[[Any], Any] | None
_REQUIRED = object()  # a parameter the caller gives (a bindparam without a value)


class Prepared:
    def __init__(self, statement: Select[Any], dialect: Dialect) -> None:
        if dialect.name != "sqlite" or dialect.paramstyle != "qmark":
            raise ValueError("prepared statements run on SQLite's driver only")
        compiled = statement.compile(dialect=dialect)
        assert compiled.positiontup is not None
        self.sql = compiled.string
        # Per "?" in the SQL: its parameter's name, its value when the statement holds one
        # (a literal such as the data version row's id), and its type's processor.
        self._parameters: list[tuple[str, Any, Processor]] = []
        for name in compiled.positiontup:
            bind = compiled.binds[name]
            if bind.expanding:
                raise ValueError(f"{name}: lists of values are not prepared")
            if bind.callable is not None:
                # (Core asks it again on every run; here it would be asked once, ever.)
                raise ValueError(f"{name}: values worked out at run time are not prepared")
            value = _REQUIRED if bind.required else bind.value
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            self._parameters.append((name, value, processor))
        columns = list(statement.selected_columns)
        self.keys = tuple(statement.selected_columns.keys())
        # Each row is keyed as Core keys it only where every column is a table's column or a
        # label, under its own name, once: Core names anything else (count_1, anon_1, ...)
        # by rules of its own.
        for key, column in zip(self.keys, columns, strict=True):
            if not isinstance(column, Column | Label) or key != column.name:
                raise ValueError(f"{key}: only named columns and labels are prepared")
        if len(set(self.keys)) != len(self.keys):
            raise ValueError(f"a name is selected twice: {self.keys}")
        self._results: list[tuple[int, str, Callable[[Any], Any]]] = []
        for index, (key, column) in enumerate(zip(self.keys, columns, strict=True)):
            processor = column.type.dialect_impl(dialect).result_processor(dialect, None)
            if processor is not None:
                self._results.append((index, key, processor))
        self._checked = False

    def parameters(self, values: Mapping[str, Any]) -> list[Any]:
        """The values in the SQL's order: the caller's, else the statement's own (as Core)."""
        out = []
        for name, value, processor in self._parameters:
            if name in values:
                value = values[name]
            elif value is _REQUIRED:
                raise KeyError(f"no value for {name}")
            out.append(value if processor is None else processor(value))
        return out

    def rows(self, driver: Any, values: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The statement's rows on the driver's connection `driver`, in its transaction."""
        cursor = driver.execute(self.sql, self.parameters(values))
        if not self._checked:  # the columns SQLite returns are the ones the keys name
            if len(cursor.description) != len(self.keys):
                raise RuntimeError(f"{len(cursor.description)} columns for keys {self.keys}")
            self._checked = True
        found = []
        for raw in cursor.fetchall():
            row = dict(zip(self.keys, raw, strict=True))
            for index, key, processor in self._results:
                row[key] = processor(raw[index])
            found.append(row)
        return found


_prepared: dict[tuple[int, int], tuple[Select[Any], Dialect, Prepared]] = {}


def prepared(statement: Select[Any], dialect: Dialect) -> Prepared:
    """The statement prepared for the dialect, once. For statements that are module constants:
    each one prepared is kept for good."""
    key = (id(statement), id(dialect))
    found = _prepared.get(key)
    if found is None:
        # (The statement and dialect are kept with it, so their ids are never another's.)
        found = _prepared.setdefault(key, (statement, dialect, Prepared(statement, dialect)))
    return found[2]
