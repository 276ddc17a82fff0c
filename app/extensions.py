"""Extension objects, created once and bound to each app in the factory.

Flask-AppBuilder is the exception: its AppBuilder keeps the views and the menu it was given, so
the factory makes one per app (reachable as `current_app.appbuilder`).
"""
import itertools
import re
import sqlite3

from flask_appbuilder import Model
from flask_appbuilder.models.sqla.base import SQLA
from flask_migrate import Migrate
from sqlalchemy import event
from sqlalchemy.engine import Engine

# FAB's Model base so FAB's own tables (ab_user, ab_role...) share our metadata and migrations.
db = SQLA(model_class=Model)
migrate = Migrate()


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    """SQLite behind several gunicorn workers: WAL lets readers and one writer work together, and
    a busy timeout makes a writer wait for the lock instead of failing at once. synchronous=NORMAL
    is SQLite's advice for WAL: no corruption on a crash, no fsync at every commit (a power cut
    may lose the last commits, never the database)."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


_PARAMETER = re.compile(r"%\((\w+)\)s")
_names = itertools.count(1)
PREPARED_PER_CONNECTION = 256


@event.listens_for(Engine, "before_cursor_execute", retval=True)
def _prepared_on_postgresql(conn, cursor, statement, parameters, context, executemany):
    """PostgreSQL plans each statement it receives. A dossier panel's statement, long with its
    scope rules, took ten times longer to plan than to run (1 ms against 0.1): the statements built
    once (`scope.constant`) are prepared on each connection at their first use, then executed by
    name, and after five runs PostgreSQL keeps a generic plan instead of planning them again."""
    if (executemany or context is None or conn.dialect.name != "postgresql" or not isinstance(parameters, dict)
            or not context.execution_options.get("sillage_constant")):
        return statement, parameters
    prepared = conn.info.setdefault("sillage_prepared", {})  # (the DBAPI connection's: its session's)
    if statement not in prepared:
        if len(prepared) >= PREPARED_PER_CONNECTION:
            return statement, parameters
        prepared[statement] = _prepare(cursor, statement)
    found = prepared[statement]
    if found is None:  # PostgreSQL refused to prepare it: sent as it is, as before
        return statement, parameters
    name, order = found
    return f"EXECUTE {name}({', '.join(f'%({p})s' for p in order)})", parameters


def _prepare(cursor, statement):
    """(name, parameter names in order), or None; in a transaction, within a savepoint, so that a
    refusal leaves it as it was (a connection in autocommit has no transaction to spoil)."""
    order: list[str] = []

    def positional(match):
        if match.group(1) not in order:
            order.append(match.group(1))
        return f"${order.index(match.group(1)) + 1}"

    name = f"sillage_{next(_names)}"
    sql = f"PREPARE {name} AS " + _PARAMETER.sub(positional, statement).replace("%%", "%")
    in_transaction = not cursor.connection.autocommit
    if in_transaction:
        cursor.execute("SAVEPOINT sillage_prepare")
    try:
        cursor.execute(sql)
    except Exception:  # noqa: BLE001 (any refusal: the statement runs unprepared)
        if in_transaction:
            cursor.execute("ROLLBACK TO SAVEPOINT sillage_prepare")
        return None
    finally:
        if in_transaction:
            cursor.execute("RELEASE SAVEPOINT sillage_prepare")
    return name, order
