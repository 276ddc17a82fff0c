"""Reading the audit trail (DPO view, a dossier's access history). The trail is never written
here: only the hooks of app/security/audit.py write it.

Millions of entries (issue 20): every listing is newest first by time, which the indexes of
migration 0031 give in order — (usager_id, at), (username, at), (action, at), (at) — so a page
reads its 50 rows, not the trail; an usager's entries are the union of theirs and of the lists
they were part of (audit_usager), both read by index."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select, text

from ..models import AuditEvent, AuditUsager

PAGE = 50
COUNT_LIMIT = 10_000  # entries counted beyond the page shown: "plus de 10 000" rather than a count of millions
NEWEST_FIRST = (AuditEvent.at.desc(), AuditEvent.id.desc())


@dataclass
class AuditQuery:
    username: str = ""
    usager_id: int | None = None
    action: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    page: int = 1


def search(session, q: AuditQuery) -> tuple[list[AuditEvent], int]:
    stmt = select(AuditEvent)
    if q.username:
        stmt = stmt.where(AuditEvent.username == q.username)
    if q.usager_id:
        stmt = stmt.where(about(q.usager_id))
    if q.action:
        stmt = stmt.where(AuditEvent.action == q.action)
    if q.date_from:
        stmt = stmt.where(AuditEvent.at >= dt.datetime.combine(q.date_from, dt.time()))
    if q.date_to:
        stmt = stmt.where(AuditEvent.at < dt.datetime.combine(q.date_to + dt.timedelta(days=1), dt.time()))
    total = session.execute(select(func.count()).select_from(stmt.limit(count_limit(q)).subquery())).scalar()
    rows = session.execute(stmt.order_by(*NEWEST_FIRST).limit(PAGE)
                           .offset((max(q.page, 1) - 1) * PAGE)).scalars().all()
    return rows, total


def count_limit(q: AuditQuery) -> int:
    """How far `search` counts: a total of this many means "at least" (counting three million rows
    took PostgreSQL 0.6 s at every page; SQLite less, but still in proportion)."""
    return max(COUNT_LIMIT, max(q.page, 1) * PAGE) + 1


# The distinct actions by a loose index scan (ix_audit_event_action_at): one index lookup per
# action. DISTINCT read the whole index on PostgreSQL, which has no skip scan (1 s at 3 million).
_ACTIONS = text(
    "WITH RECURSIVE a(action) AS (SELECT MIN(action) FROM audit_event UNION ALL "
    "SELECT (SELECT MIN(action) FROM audit_event WHERE action > a.action) FROM a WHERE a.action IS NOT NULL) "
    "SELECT action FROM a WHERE action IS NOT NULL")


def actions(session) -> list[str]:
    return list(session.execute(_ACTIONS).scalars())


def access_history(session, usager_id: int, limit: int = 30) -> list[AuditEvent]:
    """Who read or changed this usager's dossier, newest first."""
    return session.execute(select(AuditEvent).where(about(usager_id))
                           .order_by(*NEWEST_FIRST).limit(limit)).scalars().all()


def about(usager_id: int):
    """Entries about this usager: theirs alone, or one of several (a list, siblings read together).
    A union of ids, each side by its index (an OR of the two made PostgreSQL read the whole trail)."""
    return AuditEvent.id.in_(select(AuditEvent.id).where(AuditEvent.usager_id == usager_id)
                             .union_all(select(AuditUsager.audit_id).where(AuditUsager.usager_id == usager_id)))
