"""What a request derives from access rules (permissions of a role set, categories, assignments,
emergency accesses, the menu, the signed-in user, the places offered in choice lists, the published
form definitions) and from the référentiels it reads on every page (document types and the
établissement categories they are mandatory for), kept per process until the security stamp moves.

Every flush that touches a watched class bumps `security_stamp.version` in the same
transaction, so a change made by any process or server is seen by all the others at their next
request: each request reads the version once, then serves the rest from memory. Without it
every page re-read seven tables that change a few times a month.

A second row (`DATA`) moves, the same way, with any change of the organisation's data (usagers,
admissions, dossiers…; not sessions, drafts or the audit trail): the total count of an API list,
which otherwise re-reads every visible row on every page (issue 20), is kept per scope until one
of the two versions moves (`cached_by_data`).
"""
from __future__ import annotations

import threading
import time

from flask import g, has_request_context
from flask_appbuilder.security.sqla.models import (
    Group, Permission, PermissionView, Role, User, ViewMenu,
)
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from ..models import (
    CategorieEtablissement, CategoryAccess, EmergencyAccess, Etablissement, FormDefinition, SecurityStamp, Service,
    StaffAssignment, TypeDocument, ValeurListe,
)

# Établissements and services also name the places that choice lists offer; form definitions
# decide which answers each category withholds; document types (and the categories of
# établissement they are mandatory for: a change of the list marks the type changed) give every
# dossier its checklist, lists of values its choices. Référentiels change a few times a year: the
# caches they empty refill at the next request.
WATCHED = (User, Role, Group, Permission, PermissionView, ViewMenu, CategoryAccess, EmergencyAccess,
           StaffAssignment, Service, Etablissement, FormDefinition, TypeDocument, CategorieEtablissement,
           ValeurListe)
MAX_ENTRIES = 4096

_table = SecurityStamp.__table__
DATA = 2  # the row of the data version
_read = select(_table.c.id, _table.c.version).where(_table.c.id.in_((1, DATA)))
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


# What does not move the data version: what the security stamp already covers, and bookkeeping
# (sessions, throttling, drafts autosaved every few seconds, the audit trail, tokens' last use).
BOOKKEEPING = frozenset({"SecurityStamp", "AuditEvent", "AuditHead", "AuditCheckpoint", "WebSession", "LoginThrottle",
                         "FormDraft", "ApiToken", "UserSecurity", "RecoveryCode"})
BOOKKEEPING_TABLES = frozenset({"security_stamp", "audit_event", "audit_head", "audit_checkpoint", "audit_usager",
                                "web_session", "login_throttle", "form_draft", "api_token", "user_security",
                                "recovery_code"})


def _moves_data(obj) -> bool:
    return not isinstance(obj, WATCHED) and type(obj).__name__ not in BOOKKEEPING


def _data_changed(session) -> None:
    """Note that this transaction changes data; the version moves once it has committed."""
    session.info["sillage_data_changed"] = True


def move_data_version(session) -> None:
    """Move the data version in a transaction of its own, just after the one that changed data
    committed: the row is locked for one statement, never for a writer's whole transaction (in
    it, every writer of every server would wait on this one row). A list read meanwhile keeps
    at most the count it computed under the old number, which moves next; a process killed
    between the two commits leaves counts one change behind for at most `DATA_CACHE_SECONDS`."""
    dialect = session.get_bind().dialect.name
    with session.get_bind().connect() as conn:
        if dialect in ("postgresql", "sqlite"):
            if dialect == "postgresql":
                from sqlalchemy.dialects.postgresql import insert
            else:
                from sqlalchemy.dialects.sqlite import insert
            conn.execute(insert(_table).values(id=DATA, version=1).on_conflict_do_update(
                index_elements=[_table.c.id], set_={"version": _table.c.version + 1}))
        elif not conn.execute(update(_table).where(_table.c.id == DATA).values(version=_table.c.version + 1)).rowcount:
            from sqlalchemy import insert

            conn.execute(insert(_table).values(id=DATA, version=1))
        conn.commit()


@event.listens_for(Session, "before_flush")
def _mark_data_change(session, _flush_context, _instances):
    if not session.info.get("sillage_data_changed") and any(
            _moves_data(obj) for obj in (*session.new, *session.dirty, *session.deleted)):
        _data_changed(session)


@event.listens_for(Session, "do_orm_execute")
def _mark_bulk_write(state):
    """`session.execute(update(...))` / `delete(...)` change rows without a flush."""
    if (state.is_update or state.is_delete) and not state.session.info.get("sillage_data_changed"):
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) not in BOOKKEEPING_TABLES:
            _data_changed(state.session)


@event.listens_for(Session, "after_commit")
def _committed(session):
    session.info.pop("sillage_stamp_bumped", None)
    if session.info.pop("sillage_data_changed", None):
        move_data_version(session)
    _forget_versions()


@event.listens_for(Session, "after_rollback")
def _rolled_back(session):
    session.info.pop("sillage_stamp_bumped", None)
    session.info.pop("sillage_data_changed", None)
    _forget_versions()


@event.listens_for(Session, "after_transaction_end")
def _forget_merged(session, _transaction):
    session.info.pop("sillage_merged", None)  # a commit expires them; a rollback or a close drops them


def _forget_versions():
    if has_request_context():
        g.pop("sillage_stamp", None)  # the next read sees our own change
        g.pop("sillage_data_version", None)


def read_versions(session) -> None:
    """Both versions, in one statement (security/sessions.py reads them with the browser session)."""
    found = dict(session.connection().execute(_read).all())
    g.sillage_stamp, g.sillage_data_version = found.get(1), found.get(DATA, 0)


def version(session) -> int | None:
    """The stamp, read once per request (None outside a request: the CLI never caches)."""
    if not has_request_context():
        return None
    if "sillage_stamp" not in g:
        read_versions(session)
    return g.sillage_stamp


def data_version(session) -> int | None:
    """The data version, read once per request with the stamp (None outside a request)."""
    if not has_request_context():
        return None
    if "sillage_data_version" not in g or "sillage_stamp" not in g:
        read_versions(session)
    return g.sillage_data_version


def cached(session, key, load):
    """`load()` once per process and stamp version; outside a request, always `load()`."""
    current = version(session)
    if current is None:
        return load()
    return _kept(_caches, session, current, key, load)


def _kept(caches, session, current, key, load):
    """`caches`' entry `key` for this database while its version is `current`, else `load()`."""
    database = session.info.get("sillage_database")
    if database is None:  # (named once per session: finding the bind is not free)
        database = session.info["sillage_database"] = session.get_bind().url.render_as_string(hide_password=True)
    with _lock:
        cache = caches.get(database)
        if cache is None or cache["version"] != current:
            cache = caches[database] = {"version": current, "entries": {}}
    entries = cache["entries"]
    if key in entries:
        return entries[key]
    value = load()
    if len(entries) < MAX_ENTRIES:
        entries[key] = value
    return value


def cached_instances(session, key, load, related=lambda obj: ()) -> list:
    """ORM objects from `load()`, kept like `cached`. The kept copies (and their `related`
    loaded objects) are detached and never handed out: each request merges its own into its
    session, without a query, once per transaction (a dossier page asks for the published
    definitions three times)."""
    if not has_request_context():
        return list(load())

    def detached():
        rows = tuple(load())
        for row in rows:
            for obj in (row, *related(row)):
                session.expunge(obj)
        return rows

    kept = cached(session, key, detached)
    merged = session.info.setdefault("sillage_merged", {})
    if merged.get(key, (None,))[0] is not kept:
        merged[key] = (kept, [session.merge(row, load=False) for row in kept])
    return list(merged[key][1])


_data_caches: dict = {}
DATA_CACHE_SECONDS = 60  # the longest a count may lag behind a change whose version never moved


def cached_by_data(session, key, load):
    """`load()` once per process, stamp, data version and minute (the counts of lists). Always
    `load()` outside a request, and in a transaction that has changed data: what it reads holds
    its own uncommitted rows, which the version does not count yet. The minute bounds what a
    change costs when its writer died before moving the version (`move_data_version`)."""
    if not has_request_context() or session.info.get("sillage_data_changed"):
        return load()
    period = int(time.time() // DATA_CACHE_SECONDS)
    return _kept(_data_caches, session, (version(session), data_version(session), period), key, load)
