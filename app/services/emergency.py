"""Break-the-glass: open a dossier outside one's scope in an emergency, with a reason.

The access lasts SILLAGE_EMERGENCY_HOURS (4 by default); it is in the audit trail at once, the
DPO and the direction see it among the accesses to review, and the user sees a banner on every
page while it lasts. The dossier must be named exactly (birth name, first first name, birth
date): an emergency access is not a way to browse the organisation's dossiers.
"""
from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import select

from ..domain import text
from ..models import EmergencyAccess, Usager
from ..models.base import utcnow
from ..security.audit import record_event
from ..security.scope import UNSCOPED
from .errors import ValidationFailed


def find_exact(session, nom: str, prenom: str, date_naissance: dt.date) -> int | None:
    """The id of the one dossier named exactly (an id, not the row: the user may not see it yet)."""
    key = text.duplicate_key(nom, prenom, date_naissance)
    return session.execute(select(Usager.id).where(Usager.dup_key == key, Usager.anonymised_at.is_(None)),
                           execution_options={UNSCOPED: True}).scalars().first()


def open_access(session, user, nom: str, prenom: str, date_naissance, reason: str, hours: int) -> EmergencyAccess:
    errors = {}
    reason = (reason or "").strip()
    if len(reason) < 10:
        errors["reason"] = _("Décrivez l'urgence (au moins quelques mots) : ce motif est relu par le DPO.")
    if not (nom or "").strip():
        errors["nom"] = _("Nom de naissance obligatoire.")
    if not (prenom or "").strip():
        errors["prenom"] = _("Premier prénom obligatoire.")
    if date_naissance is None:
        errors["date_naissance"] = _("Date de naissance obligatoire (jj/mm/aaaa).")
    if errors:
        raise ValidationFailed(errors)
    usager_id = find_exact(session, nom.strip(), prenom.strip(), date_naissance)
    if usager_id is None:
        record_event("break_glass_not_found", entity="Usager", details={"motif": reason[:500]})
        raise ValidationFailed({"nom": _("Aucun dossier ne correspond exactement à ces nom, prénom et date de naissance.")})
    now = utcnow()
    access = EmergencyAccess(user_id=user.id, usager_id=usager_id, reason=reason[:4000], started_at=now,
                             expires_at=now + dt.timedelta(hours=hours))
    session.add(access)
    session.flush()
    record_event("break_glass", entity="EmergencyAccess", entity_id=access.id, usager_id=usager_id,
                 details={"motif": reason[:500], "jusqu_a": access.expires_at.isoformat(timespec="minutes")},
                 connection=session.connection())
    session.commit()
    return access


def to_review(session) -> list[EmergencyAccess]:
    return session.execute(select(EmergencyAccess).where(EmergencyAccess.reviewed_at.is_(None))
                           .order_by(EmergencyAccess.started_at.desc())).scalars().all()


def review(session, access: EmergencyAccess, reviewer, note: str) -> None:
    if access.reviewed_at is not None:
        raise ValidationFailed({"note": _("Cet accès a déjà été revu.")})
    if access.user_id == reviewer.id:
        raise ValidationFailed({"note": _("Un accès d'urgence est revu par une autre personne que celle qui l'a ouvert.")})
    access.reviewed_by_id, access.reviewed_at = reviewer.id, utcnow()
    access.review_note = (note or "").strip()[:4000] or None
    session.commit()


def active_for(session, user_id: int) -> list[EmergencyAccess]:
    return session.execute(select(EmergencyAccess).where(EmergencyAccess.user_id == user_id,
                                                         EmergencyAccess.expires_at > utcnow())).scalars().all()
