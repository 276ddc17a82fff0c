"""Reading the audit trail (DPO view, a dossier's access history). The trail is never written
here: only the hooks of app/security/audit.py write it."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, or_, select

from ..models import AuditEvent, AuditUsager

PAGE = 50


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
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar()
    rows = session.execute(stmt.order_by(AuditEvent.id.desc()).limit(PAGE)
                           .offset((max(q.page, 1) - 1) * PAGE)).scalars().all()
    return rows, total


def actions(session) -> list[str]:
    return list(session.execute(select(AuditEvent.action).distinct().order_by(AuditEvent.action)).scalars())


def access_history(session, usager_id: int, limit: int = 30) -> list[AuditEvent]:
    """Who read or changed this usager's dossier, newest first."""
    return session.execute(select(AuditEvent).where(about(usager_id))
                           .order_by(AuditEvent.id.desc()).limit(limit)).scalars().all()


def about(usager_id: int):
    """Entries about this usager: theirs alone, or one of several (a list, siblings read together)."""
    return or_(AuditEvent.usager_id == usager_id,
               AuditEvent.id.in_(select(AuditUsager.audit_id).where(AuditUsager.usager_id == usager_id)))
