"""Transmissions (cahier de liaison): what a professional writes about one or several people
during their day, in a service, for the colleagues who come next.

One `Transmission` (its author, time, service, category of the shared secret, DAR or narrative
text) and one `TransmissionUsager` line per person it is about: an outing with four children is
one entry, and each child's line is seen only by whoever sees that child (app/security/scope.py).
The line repeats the category and the time so that a person's feed is read from one index.

A transmission is never silently changed (an écrit is a professional act, signed and dated): a
correction by its author within SILLAGE_TRANSMISSION_CORRECTION_MINUTES keeps the previous text
as a `TransmissionVersion`; afterwards only an addendum (a new transmission linked to it).
"""
from flask_appbuilder import Model
from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import relationship

from .base import TrackedMixin, VersionedMixin, utcnow

MODES = ("dar", "narratif")


class Transmission(VersionedMixin, TrackedMixin, Model):
    __tablename__ = "transmission"
    __table_args__ = (Index("ix_transmission_service_written", "service_id", "written_at"),)
    id = Column(Integer, primary_key=True)
    author_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False, index=True)
    written_at = Column(DateTime, nullable=False, default=utcnow)  # UTC
    etablissement_id = Column(Integer, ForeignKey("etablissement.id"), nullable=False)
    service_id = Column(Integer, ForeignKey("service.id"), nullable=False)
    sensitivity = Column(String(20), nullable=False)  # category of the shared secret ("categorie")
    importante = Column(Boolean, nullable=False, default=False)
    mode = Column(String(10), nullable=False, default="dar")
    cible = Column(String(60))  # code of the référentiel list "cibles_transmission"
    donnees = Column(Text)
    actions = Column(Text)
    resultats = Column(Text)
    texte = Column(Text)
    corrected_at = Column(DateTime)
    addendum_of_id = Column(Integer, ForeignKey("transmission.id"), index=True)

    author = relationship("User", foreign_keys=[author_id], lazy="joined")
    service = relationship("Service", lazy="joined")
    lines = relationship("TransmissionUsager", back_populates="transmission", cascade="all, delete-orphan",
                         order_by="TransmissionUsager.id")
    versions = relationship("TransmissionVersion", back_populates="transmission", cascade="all, delete-orphan",
                            order_by="TransmissionVersion.numero")
    addendum_of = relationship("Transmission", remote_side=[id], foreign_keys=[addendum_of_id])


class TransmissionUsager(Model):
    """One person a transmission is about."""

    __tablename__ = "transmission_usager"
    __table_args__ = (
        UniqueConstraint("transmission_id", "usager_id", name="uq_transmission_usager"),
        Index("ix_transmission_usager_feed", "usager_id", "written_at"),
    )
    id = Column(Integer, primary_key=True)
    transmission_id = Column(Integer, ForeignKey("transmission.id", ondelete="CASCADE"), nullable=False, index=True)
    usager_id = Column(Integer, ForeignKey("usager.id"), nullable=False)
    sensitivity = Column(String(20), nullable=False)  # the transmission's
    written_at = Column(DateTime, nullable=False)  # the transmission's

    transmission = relationship("Transmission", back_populates="lines")
    usager = relationship("Usager", lazy="joined")


class TransmissionVersion(Model):
    """The text of a transmission as it was before its author corrected it."""

    __tablename__ = "transmission_version"
    id = Column(Integer, primary_key=True)
    transmission_id = Column(Integer, ForeignKey("transmission.id", ondelete="CASCADE"), nullable=False, index=True)
    numero = Column(Integer, nullable=False)  # the transmission's `version` this text had
    sensitivity = Column(String(20), nullable=False)
    cible = Column(String(60))
    donnees = Column(Text)
    actions = Column(Text)
    resultats = Column(Text)
    texte = Column(Text)
    importante = Column(Boolean, nullable=False, default=False)
    replaced_at = Column(DateTime, nullable=False, default=utcnow)

    transmission = relationship("Transmission", back_populates="versions")


class TransmissionRead(Model):
    """A professional marked a transmission read (the author sees who did, and when)."""

    __tablename__ = "transmission_read"
    __table_args__ = (UniqueConstraint("user_id", "transmission_id", name="uq_transmission_read"),)
    id = Column(Integer, primary_key=True)
    transmission_id = Column(Integer, ForeignKey("transmission.id", ondelete="CASCADE"), nullable=False, index=True)
    user_id = Column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False)
    read_at = Column(DateTime, nullable=False, default=utcnow)

    user = relationship("User", lazy="joined")
