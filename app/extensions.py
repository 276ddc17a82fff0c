"""Extension objects, created once and bound to each app in the factory.

Flask-AppBuilder is the exception: its AppBuilder keeps the views and the menu it was given, so
the factory makes one per app (reachable as `current_app.appbuilder`).
"""
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
