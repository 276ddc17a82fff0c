"""Agenda: appointments, activities, meetings, family visits, absences of the person (hospital
stay, holiday), personal and service events, with the people they concern and the staff taking
part, and the secret URLs of the calendar feeds (ICS) phones subscribe to.

Times are stored in UTC (naive), recurrences as an RFC 5545 RRULE read in the structure's time
zone (Europe/Paris: a weekly 10:00 activity stays at 10:00 across the change of hour). An
event's `uid` never changes and its `sequence` grows at every change: a phone that subscribed
updates its copy instead of duplicating it (RFC 5545 §3.8.4.7, §3.8.7.4).

Who sees an event (app/security/scope.py): whoever sees one of its people; without people,
whoever sees its établissement; and its participants. Its detail (title, place, notes) is read
only with its category of the shared secret: the others see the slot, masked
(services/agenda.py).
"""
from flask_appbuilder import Model
from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import relationship

from .base import JSONType, TrackedMixin, utcnow

# kind → category of the shared secret it takes by default.
KINDS = {
    "rdv_medical": "medical", "rdv_externe": "administratif", "activite": "social_educatif",
    "reunion": "administratif", "visite": "social_educatif", "hospitalisation": "medical",
    "vacances": "administratif", "personnel": "administratif", "service": "administratif",
}
ABSENCE_KINDS = ("hospitalisation", "vacances")  # the person is away: counted in occupancy


class Evenement(TrackedMixin, Model):
    __tablename__ = "evenement"
    __table_args__ = (Index("ix_evenement_etab_debut", "etablissement_id", "debut"),)
    id = Column(Integer, primary_key=True)
    uid = Column(String(120), nullable=False, unique=True)  # RFC 5545 UID, stable across updates
    sequence = Column(Integer, nullable=False, default=0)  # RFC 5545 SEQUENCE, +1 at each change
    kind = Column(String(20), nullable=False)
    titre = Column(String(200), nullable=False)
    lieu = Column(String(200))  # free text or a room's name: two events at one lieu conflict
    notes = Column(Text)
    debut = Column(DateTime, nullable=False)  # UTC
    fin = Column(DateTime, nullable=False)  # UTC, excluded
    all_day = Column(Boolean, nullable=False, default=False)
    sensitivity = Column(String(20), nullable=False)  # category of the shared secret ("categorie")
    rrule = Column(String(300))  # RFC 5545 RRULE value (FREQ=WEEKLY;BYDAY=MO,TH;UNTIL=…), local time
    exdates = Column(JSONType)  # cancelled occurrences: their original start, UTC ISO 8601
    cancelled = Column(Boolean, nullable=False, default=False)  # the whole event (STATUS:CANCELLED)
    etablissement_id = Column(Integer, ForeignKey("etablissement.id"), nullable=False)
    service_id = Column(Integer, ForeignKey("service.id"), index=True)

    usagers = relationship("EvenementUsager", back_populates="evenement", cascade="all, delete-orphan",
                           order_by="EvenementUsager.id")
    participants = relationship("EvenementParticipant", back_populates="evenement", cascade="all, delete-orphan",
                                order_by="EvenementParticipant.id")
    # Not joined: no page shows an event's service object (its id is enough), and the chained
    # joins (service, établissement, category) tripled the planning of the dossier's agenda query.
    service = relationship("Service")


class EvenementUsager(Model):
    """A person the event concerns (their appointment, the activity they take part in)."""

    __tablename__ = "evenement_usager"
    __table_args__ = (UniqueConstraint("evenement_id", "usager_id", name="uq_evenement_usager"),)
    id = Column(Integer, primary_key=True)
    evenement_id = Column(Integer, ForeignKey("evenement.id", ondelete="CASCADE"), nullable=False, index=True)
    usager_id = Column(Integer, ForeignKey("usager.id"), nullable=False, index=True)

    evenement = relationship("Evenement", back_populates="usagers")
    usager = relationship("Usager", lazy="joined")


class EvenementParticipant(Model):
    """A professional taking part (they see the event, and it is in their feed)."""

    __tablename__ = "evenement_participant"
    __table_args__ = (UniqueConstraint("evenement_id", "user_id", name="uq_evenement_participant"),)
    id = Column(Integer, primary_key=True)
    evenement_id = Column(Integer, ForeignKey("evenement.id", ondelete="CASCADE"), nullable=False, index=True)
    user_id = Column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False, index=True)

    evenement = relationship("Evenement", back_populates="participants")
    user = relationship("User", lazy="joined")


class AgendaFeed(Model):
    """The secret address of a user's (or a service's) calendar feed: only a SHA-256 of its
    token is kept (as ApiToken); regenerating revokes the previous one."""

    __tablename__ = "agenda_feed"
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False, index=True)
    service_id = Column(Integer, ForeignKey("service.id"))  # a service's feed, else the user's own
    prefix = Column(String(16), nullable=False)
    token_hash = Column(String(64), nullable=False, unique=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    revoked_at = Column(DateTime)
    last_used_at = Column(DateTime)
