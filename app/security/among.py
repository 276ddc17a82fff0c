"""`column IN <list>` with the whole list in ONE bound parameter, for the scope's rules.

An expanding IN (`x IN (?, ?, ?)`) is rewritten by SQLAlchemy at every execution: each of its
parameters is renamed and the statement's text edited (a sixth of a scoped statement's cost, on
every statement of every page). One parameter leaves the SQL constant: `x = ANY(%(p)s)` on
PostgreSQL (the form PostgreSQL itself gives to an IN list), `x IN (SELECT value FROM json_each(?))`
on SQLite, which looks each value up in the column's index as an IN list does.
"""
from __future__ import annotations

import functools
import json

from sqlalchemy import Boolean, String
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeDecorator


class ListParameter(TypeDecorator):
    """A list bound as one value: an array on PostgreSQL, a JSON text elsewhere."""

    impl = String
    cache_ok = True

    def __init__(self, item_type):
        super().__init__()
        self.item_type = item_type

    def load_dialect_impl(self, dialect):
        if dialect.name == "postgresql":
            return dialect.type_descriptor(ARRAY(self.item_type))
        return dialect.type_descriptor(String())

    def process_bind_param(self, value, dialect):
        return list(value) if dialect.name == "postgresql" else _json(tuple(value))


@functools.lru_cache(maxsize=1024)
def _json(values: tuple) -> str:
    """(The same few lists — a user's établissements, categories — at every statement.)"""
    return json.dumps(values)


class Among(ColumnElement):
    """`column` is one of the values of the list parameter `values`."""

    __visit_name__ = "sillage_among"
    inherit_cache = True
    type = Boolean()
    _is_implicitly_boolean = True  # a predicate: no "= 1" added where a boolean is not native
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement),
                           ("values", InternalTraversal.dp_clauseelement)]

    def __init__(self, column, values):
        self.column, self.values = column, values


@compiles(Among)
def _among(element, compiler, **kw):
    return (f"{compiler.process(element.column, **kw)} IN "
            f"(SELECT value FROM json_each({compiler.process(element.values, **kw)}))")


@compiles(Among, "postgresql")
def _among_postgresql(element, compiler, **kw):
    return f"{compiler.process(element.column, **kw)} = ANY({compiler.process(element.values, **kw)})"
