"""What a request derives from access rules (permissions of a role set, categories, assignments,
emergency accesses, the menu, the signed-in user, the places offered in choice lists, the published
form definitions), kept per process until the security stamp moves.

Every flush that touches a watched class bumps `security_stamp.version` in the same
transaction, so a change made by any process or server is seen by all the others at their next
request: each request reads the version once, then serves the rest from memory. Without it
every page re-read seven tables that change a few times a month.
"""
from __future__ import annotations

import threading

from flask import g, has_request_context
from flask_appbuilder.security.sqla.models import (
    Group, Permission, PermissionView, Role, User, ViewMenu,
)
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from ..models import (
    CategoryAccess, EmergencyAccess, Etablissement, FormDefinition, SecurityStamp, Service, StaffAssignment,
)

# Établissements and services also name the places that choice lists offer; form definitions
# decide which answers each category withholds.
WATCHED = (User, Role, Group, Permission, PermissionView, ViewMenu, CategoryAccess, EmergencyAccess,
           StaffAssignment, Service, Etablissement, FormDefinition)
MAX_ENTRIES = 4096

_table = SecurityStamp.__table__
_read = select(_table.c.version).where(_table.c.id == 1)
_bump = update(_table).where(_table.c.id == 1).values(version=_table.c.version + 1)
_lock = threading.Lock()
# One cache per database: a process serving (or testing) two databases must never answer one's
# request with the other's rows because their stamps happen to have the same number.
_caches: dict = {}


@event.listens_for(Session, "before_flush")
def _bump_on_change(session, _flush_context, _instances):
    if session.info.get("sillage_stamp_bumped"):
        return
    if any(isinstance(obj, WATCHED) for obj in (*session.new, *session.dirty, *session.deleted)):
        session.execute(_bump)
        session.info["sillage_stamp_bumped"] = True


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _end_of_transaction(session):
    session.info.pop("sillage_stamp_bumped", None)
    if has_request_context():
        g.pop("sillage_stamp", None)  # the next read sees our own change


def version(session) -> int | None:
    """The stamp, read once per request (None outside a request: the CLI never caches)."""
    if not has_request_context():
        return None
    if "sillage_stamp" not in g:
        g.sillage_stamp = session.connection().execute(_read).scalar()
    return g.sillage_stamp


def cached(session, key, load):
    """`load()` once per process and stamp version; outside a request, always `load()`."""
    current = version(session)
    if current is None:
        return load()
    database = session.get_bind().url.render_as_string(hide_password=True)
    _cache = _caches.get(database)
    if _cache is None:
        with _lock:
            _cache = _caches.setdefault(database, {"version": None, "entries": {}})
    entries = _cache["entries"]
    if _cache["version"] != current:
        with _lock:
            if _cache["version"] != current:
                _cache["version"], _cache["entries"] = current, {}
                entries = _cache["entries"]
    if key in entries:
        return entries[key]
    value = load()
    if len(entries) < MAX_ENTRIES:
        entries[key] = value
    return value


def cached_instances(session, key, load, related=lambda obj: ()) -> list:
    """ORM objects from `load()`, kept like `cached`. The kept copies (and their `related`
    loaded objects) are detached and never handed out: each request merges its own into its
    session, without a query."""
    if not has_request_context():
        return list(load())

    def detached():
        rows = tuple(load())
        for row in rows:
            for obj in (row, *related(row)):
                session.expunge(obj)
        return rows

    return [session.merge(row, load=False) for row in cached(session, key, detached)]
