"""Audit of writes, in one place: a `before_flush` hook on every session.

Whatever path changes a row of any table (FAB view, dossier form, API, référentiels console,
CLI), the flush records who changed which fields, old and new values, and stamps created_by /
updated_by. The audit row is added to
the same transaction: if it cannot be written, the change is not committed either.
"""
from __future__ import annotations

import datetime as dt
import decimal

from flask import has_request_context, request
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from ..models import AuditEvent
from ..models.base import ArchivableMixin, TrackedMixin

IGNORED_FIELDS = {"version", "created_at", "updated_at", "created_by_id", "updated_by_id",
                  "search_text", "dup_key", "changed_on", "created_on"}
REDACTED_FIELDS = {"password"}  # recorded as changed, never copied


def _plain(value):
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def current_actor() -> tuple[int | None, str]:
    """(user id, username) of whoever acts now; the system outside a request."""
    if not has_request_context():
        return None, "system"
    from .scope import _request_user

    user = _request_user()
    if user is None:
        return None, "anonymous"
    return user.id, user.username


def _usager_id(obj):
    from ..models import Usager

    if isinstance(obj, Usager):
        return obj.id
    return getattr(obj, "usager_id", None)


def _changes(obj) -> dict:
    changes = {}
    state = inspect(obj)
    for attr in state.mapper.column_attrs:
        if attr.key in IGNORED_FIELDS:
            continue
        hist = state.attrs[attr.key].history
        if not hist.has_changes():
            continue
        old = hist.deleted[0] if hist.deleted else None
        new = hist.added[0] if hist.added else None
        if old != new:
            changes[attr.key] = (["***", "***"] if attr.key in REDACTED_FIELDS
                                 else [_plain(old), _plain(new)])
    return changes


@event.listens_for(Session, "before_flush")
def _record_writes(session, flush_context, instances):
    user_id, username = current_actor()
    remote = request.remote_addr if has_request_context() else None
    pending = []
    for obj in list(session.new):
        if isinstance(obj, AuditEvent):
            continue
        if isinstance(obj, TrackedMixin):
            obj.created_by_id = obj.created_by_id or user_id
            obj.updated_by_id = user_id
        pending.append((obj, "create"))
    for obj in list(session.dirty):
        if isinstance(obj, AuditEvent) or not session.is_modified(obj, include_collections=False):
            continue
        if isinstance(obj, TrackedMixin):
            obj.updated_by_id = user_id
        action = "update"
        if isinstance(obj, ArchivableMixin):
            hist = inspect(obj).attrs["archived_at"].history
            if hist.has_changes():
                action = "archive" if obj.archived_at is not None else "restore"
        pending.append((obj, action))
    for obj in list(session.deleted):
        if not isinstance(obj, AuditEvent):
            pending.append((obj, "delete"))
    if not pending:
        return
    session.info.setdefault("sillage_audit", []).extend(
        (obj, action, _changes(obj), user_id, username, remote) for obj, action in pending
    )


@event.listens_for(Session, "after_flush")
def _write_audit_rows(session, flush_context):
    """Ids of new rows exist only after the flush: write the audit rows now, same transaction."""
    entries = session.info.pop("sillage_audit", [])
    if not entries:
        return
    rows = [
        {
            "at": dt.datetime.now(dt.timezone.utc).replace(tzinfo=None),
            "user_id": user_id, "username": username, "remote_addr": remote, "action": action,
            "entity": type(obj).__name__, "entity_id": getattr(obj, "id", None), "usager_id": _usager_id(obj),
            "version": getattr(obj, "version", None), "changes": changes or None,
        }
        for obj, action, changes, user_id, username, remote in entries
    ]
    session.execute(AuditEvent.__table__.insert(), rows)
