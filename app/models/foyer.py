"""A foyer (household, family) shared by several usagers, e.g. siblings placed in a MECS.

Contacts are edited once on the foyer and seen from every usager who belongs to it.
"""
from flask_appbuilder import Model
from sqlalchemy import Column, ForeignKey, Integer, String, Text
from sqlalchemy.orm import relationship

from ..domain import vocab
from .base import ArchivableMixin, JSONType, TrackedMixin, VersionedMixin


class Foyer(VersionedMixin, TrackedMixin, ArchivableMixin, Model):
    __tablename__ = "foyer"
    id = Column(Integer, primary_key=True)
    libelle = Column(String(200), nullable=False)
    adresse = Column(String(250))
    code_postal = Column(String(10))
    commune = Column(String(120))
    commentaire = Column(Text)
    usagers = relationship("Usager", back_populates="foyer", order_by="Usager.date_naissance")
    contacts = relationship(
        "ContactPerson", back_populates="foyer", order_by="ContactPerson.nom",
        primaryjoin="and_(ContactPerson.foyer_id == Foyer.id, ContactPerson.archived_at.is_(None))",
    )

    def __str__(self):
        return self.libelle


class ContactPerson(VersionedMixin, TrackedMixin, ArchivableMixin, Model):
    __tablename__ = "contact_person"
    id = Column(Integer, primary_key=True)
    foyer_id = Column(Integer, ForeignKey("foyer.id"), nullable=False, index=True)
    nom = Column(String(100), nullable=False)
    prenom = Column(String(100))
    lien = Column(String(60))  # kinship as users say it: mère, oncle, voisine...
    roles = Column(JSONType, nullable=False, default=list)  # codes of vocab.ROLE_CONTACT
    telephone = Column(String(20))
    email = Column(String(254))
    adresse = Column(String(250))
    foyer = relationship("Foyer", back_populates="contacts")

    @property
    def role_labels(self):
        return [vocab.label(vocab.ROLE_CONTACT, r) for r in (self.roles or [])]

    def __str__(self):
        return f"{self.nom.upper()} {self.prenom or ''}".strip()
