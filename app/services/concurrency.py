"""Optimistic concurrency for every editable record."""
from sqlalchemy import select

from ..models import AuditEvent
from ..models.base import INTEGER_MAX
from .errors import StaleVersion


def changes_since(session, obj, version: int) -> list[dict]:
    """Audit entries that moved `obj` beyond `version`: who, when, which fields (old → new)."""
    rows = session.execute(
        select(AuditEvent)
        .where(AuditEvent.entity == type(obj).__name__, AuditEvent.entity_id == obj.id,
               AuditEvent.version > version)
        .order_by(AuditEvent.id)
    ).scalars()
    return [
        {"version": r.version, "by": r.username, "at": r.at.isoformat(timespec="seconds"),
         "changes": r.changes or {}}
        for r in rows
    ]


def check_version(session, obj, expected) -> None:
    """Refuse a save prepared from an older version of `obj`.

    The check here gives a helpful message; the mapper's version_id_col still guards the race
    between this check and the UPDATE (StaleDataError, mapped to the same error by callers).
    """
    try:
        expected = int(expected)
    except (TypeError, ValueError):
        expected = None
    if expected is None or not 0 <= expected <= INTEGER_MAX:  # (beyond: no version, and an overflow)
        from flask_babel import gettext as _

        from .errors import ValidationFailed

        raise ValidationFailed({"version": _("La version de l'enregistrement est obligatoire.")})
    if expected != obj.version:
        raise StaleVersion(obj.version, changes_since(session, obj, expected))
