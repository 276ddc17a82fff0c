"""Réunions: synthèse, revue de projet, réunion d'équipe, CVS… with their participants and
attendance, an agenda of items (many about one person), minutes per item, and decisions that
become actions of the person's projet personnalisé or follow-up tasks (`Tache`).

Each agenda item is an écrit: it carries the person it is about (if any) and a category of the
shared secret, and is seen only by whoever sees that person and reads that category
(app/security/scope.py). Its decisions follow it. Once the minutes are validated (by the chef de
service or the direction) the meeting is locked.
"""
from flask_appbuilder import Model
from sqlalchemy import Column, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import relationship

from .base import TrackedMixin, VersionedMixin
from .referentiels import ReferenceMixin

STATUTS = ("preparee", "tenue", "validee")
PRESENCES = ("present", "excuse", "absent")
PARTICIPANT_KINDS = ("professionnel", "partenaire", "personne", "proche")


class TypeReunion(ReferenceMixin, Model):
    """Kinds of meeting (référentiels console)."""

    __tablename__ = "ref_type_reunion"


class Reunion(VersionedMixin, TrackedMixin, Model):
    __tablename__ = "reunion"
    __table_args__ = (Index("ix_reunion_etablissement_date", "etablissement_id", "debut"),)
    id = Column(Integer, primary_key=True)
    type_id = Column(Integer, ForeignKey("ref_type_reunion.id"), nullable=False)
    etablissement_id = Column(Integer, ForeignKey("etablissement.id"), nullable=False)
    service_id = Column(Integer, ForeignKey("service.id"))
    titre = Column(String(200))
    debut = Column(DateTime, nullable=False)  # UTC
    lieu = Column(String(200))
    statut = Column(String(10), nullable=False, default="preparee")
    validee_le = Column(DateTime)
    validee_par_id = Column(Integer, ForeignKey("ab_user.id"))

    type = relationship("TypeReunion", lazy="joined")
    etablissement = relationship("Etablissement", lazy="joined")
    service = relationship("Service", lazy="joined")
    validee_par = relationship("User", foreign_keys=[validee_par_id], lazy="joined")
    participants = relationship("ReunionParticipant", back_populates="reunion", cascade="all, delete-orphan",
                                order_by="ReunionParticipant.id")
    points = relationship("PointOrdreDuJour", back_populates="reunion", cascade="all, delete-orphan",
                          order_by="PointOrdreDuJour.ordre")


class ReunionParticipant(Model):
    """A professional (user), an external partner, the person, or one of their family contacts."""

    __tablename__ = "reunion_participant"
    id = Column(Integer, primary_key=True)
    reunion_id = Column(Integer, ForeignKey("reunion.id", ondelete="CASCADE"), nullable=False, index=True)
    kind = Column(String(14), nullable=False)
    user_id = Column(Integer, ForeignKey("ab_user.id"))
    usager_id = Column(Integer, ForeignKey("usager.id"))
    contact_id = Column(Integer, ForeignKey("contact_person.id"))
    nom = Column(String(160))  # external partner's name (or the name as shown)
    organisation = Column(String(160))
    presence = Column(String(8))  # None until the meeting is held

    reunion = relationship("Reunion", back_populates="participants")
    user = relationship("User", foreign_keys=[user_id], lazy="joined")


class PointOrdreDuJour(TrackedMixin, Model):
    __tablename__ = "reunion_point"
    id = Column(Integer, primary_key=True)
    reunion_id = Column(Integer, ForeignKey("reunion.id", ondelete="CASCADE"), nullable=False, index=True)
    ordre = Column(Integer, nullable=False, default=0)
    titre = Column(String(200), nullable=False)
    usager_id = Column(Integer, ForeignKey("usager.id"), index=True)
    sensitivity = Column(String(20), nullable=False)  # category of the shared secret ("categorie")
    compte_rendu = Column(Text)

    reunion = relationship("Reunion", back_populates="points")
    usager = relationship("Usager", lazy="joined")
    decisions = relationship("Decision", back_populates="point", cascade="all, delete-orphan",
                             order_by="Decision.id")


class Decision(TrackedMixin, Model):
    """What the meeting decided on an item; it may create an action of the person's PP or a task."""

    __tablename__ = "reunion_decision"
    id = Column(Integer, primary_key=True)
    point_id = Column(Integer, ForeignKey("reunion_point.id", ondelete="CASCADE"), nullable=False, index=True)
    usager_id = Column(Integer, ForeignKey("usager.id"))  # the item's
    sensitivity = Column(String(20), nullable=False)  # the item's
    texte = Column(Text, nullable=False)
    responsable_id = Column(Integer, ForeignKey("ab_user.id"))
    echeance = Column(Date)
    projet_action_id = Column(Integer, ForeignKey("projet_action.id", ondelete="SET NULL"))

    point = relationship("PointOrdreDuJour", back_populates="decisions")
    responsable = relationship("User", foreign_keys=[responsable_id], lazy="joined")
    taches = relationship("Tache", back_populates="decision")


class Tache(TrackedMixin, Model):
    """A follow-up task of one professional, listed on their home page until done."""

    __tablename__ = "tache"
    __table_args__ = (Index("ix_tache_owner_done", "owner_id", "done_at"),)
    id = Column(Integer, primary_key=True)
    owner_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False)
    titre = Column(String(300), nullable=False)
    echeance = Column(Date)
    usager_id = Column(Integer, ForeignKey("usager.id"), index=True)
    sensitivity = Column(String(20))  # the decision's item's (None: a task about nobody's data)
    decision_id = Column(Integer, ForeignKey("reunion_decision.id", ondelete="SET NULL"), index=True)
    done_at = Column(DateTime)

    owner = relationship("User", foreign_keys=[owner_id], lazy="joined")
    usager = relationship("Usager", lazy="joined")
    decision = relationship("Decision", back_populates="taches")
