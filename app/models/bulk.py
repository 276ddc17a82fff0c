"""Many rows into one table at once: COPY on PostgreSQL, an executemany elsewhere.

The benchmark organisation (issue 20) writes millions of rows; on PostgreSQL, INSERTs of a
thousand rows (SQLAlchemy's "insertmanyvalues") took most of its time: every value a bound
parameter, processed in Python and parsed by the server. COPY streams the rows as CSV, written
by the csv module (in C), one round trip per batch. The values are what an INSERT would have
stored: each column's own bind processing (JSON, JSONB…), and the Python-side defaults of the
columns the rows leave out; the server's defaults (serial ids) fill the others.
"""
from __future__ import annotations

import csv
import io
from operator import itemgetter

from sqlalchemy import ARRAY, LargeBinary


class _Null:
    """What the csv module writes unquoted and empty, COPY's NULL in CSV (a quoted "" is an empty
    string). The writer quotes every value but numbers (QUOTE_NONNUMERIC), None included: this
    one passes for a number."""

    def __index__(self):
        return 0

    def __str__(self):
        return ""


NULL = _Null()


def _default(column):
    """The value an INSERT gives a column the rows leave out: its Python-side default."""
    default = column.default
    if default.is_callable:
        return lambda: default.arg(None)  # (SQLAlchemy's wrapper of a function without arguments)
    return lambda: default.arg


def insert_rows(connection, table, rows: list[dict]) -> None:
    """Insert `rows` (dicts of column values, the same columns in each, as an executemany wants)
    in the caller's transaction."""
    if not rows:
        return
    # (bytes and arrays have no CSV spelling here: an INSERT)
    if connection.dialect.name != "postgresql" or any(isinstance(c.type, (LargeBinary, ARRAY)) for c in table.columns):
        connection.execute(table.insert(), rows)
        return
    given = [c for c in table.columns if c.name in rows[0]]
    defaulted = [c for c in table.columns if c.name not in rows[0] and c.default is not None]
    dialect = connection.dialect
    names = [c.name for c in given]
    pick = itemgetter(*names) if len(names) > 1 else (lambda row: (row[names[0]],))
    defaults = [_default(c) for c in defaulted]
    # (bind processing even of None: a JSON column stores it as JSON null, as an INSERT does)
    processed = [(i, process) for i, c in enumerate(given + defaulted)
                 if (process := c.type.dialect_impl(dialect).bind_processor(dialect)) is not None]
    buffer = io.StringIO()
    write = csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n").writerow
    for row in rows:
        values = [*pick(row), *[default() for default in defaults]]
        for i, process in processed:
            values[i] = process(values[i])
        write([NULL if value is None else value for value in values])
    buffer.seek(0)
    preparer = dialect.identifier_preparer
    columns = ", ".join(preparer.quote(c.name) for c in given + defaulted)
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        cursor.copy_expert(f"COPY {preparer.format_table(table)} ({columns}) FROM STDIN WITH (FORMAT csv)", buffer)
    finally:
        cursor.close()
