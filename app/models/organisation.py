"""Organisme gestionnaire → établissements (ESSMS) → services, and staff assignments."""
from flask_appbuilder import Model
from sqlalchemy import Column, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import deferred, relationship

from .base import ArchivableMixin, TrackedMixin, VersionedMixin


class Organisme(VersionedMixin, TrackedMixin, ArchivableMixin, Model):
    __tablename__ = "organisme"
    id = Column(Integer, primary_key=True)
    name = Column(String(200), nullable=False)
    siren = Column(String(9), unique=True, nullable=True)
    etablissements = relationship("Etablissement", back_populates="organisme")

    def __str__(self):
        return self.name


class Etablissement(VersionedMixin, TrackedMixin, ArchivableMixin, Model):
    __tablename__ = "etablissement"
    id = Column(Integer, primary_key=True)
    organisme_id = Column(Integer, ForeignKey("organisme.id"), nullable=False, index=True)
    name = Column(String(200), nullable=False)
    finess = Column(String(9), unique=True, nullable=True)
    categorie_id = Column(Integer, ForeignKey("ref_categorie_etablissement.id"), nullable=False)
    adresse = Column(String(250))
    code_postal = Column(String(10))
    commune = Column(String(120))
    telephone = Column(String(30))
    # The letterhead's logo (PNG or JPEG, checked like any upload): read only by the PDFs
    logo = deferred(Column(LargeBinary))
    logo_mime = Column(String(20))

    organisme = relationship("Organisme", back_populates="etablissements")
    categorie = relationship("CategorieEtablissement", lazy="joined")
    services = relationship("Service", back_populates="etablissement", order_by="Service.name")
    capacites = relationship("Capacite", back_populates="etablissement", cascade="all, delete-orphan")

    def __str__(self):
        return self.name


class Capacite(Model):
    """Authorised capacity (arrêté d'autorisation) per modality of accueil."""

    __tablename__ = "etablissement_capacite"
    __table_args__ = (UniqueConstraint("etablissement_id", "modalite_id", name="uq_capacite_modalite"),)
    id = Column(Integer, primary_key=True)
    etablissement_id = Column(Integer, ForeignKey("etablissement.id"), nullable=False)
    modalite_id = Column(Integer, ForeignKey("ref_modalite_accueil.id"), nullable=False)
    places = Column(Integer, nullable=False)
    etablissement = relationship("Etablissement", back_populates="capacites")
    modalite = relationship("ModaliteAccueil", lazy="joined")

    def __str__(self):
        return f"{self.modalite}: {self.places}"


class Service(VersionedMixin, TrackedMixin, ArchivableMixin, Model):
    __tablename__ = "service"
    __table_args__ = (UniqueConstraint("etablissement_id", "name", name="uq_service_name"),)
    id = Column(Integer, primary_key=True)
    etablissement_id = Column(Integer, ForeignKey("etablissement.id"), nullable=False, index=True)
    name = Column(String(200), nullable=False)
    # How its team writes transmissions: structured "dar" (données, actions, résultats) or "narratif".
    transmission_mode = Column(String(10), nullable=False, default="dar", server_default="dar")
    etablissement = relationship("Etablissement", back_populates="services", lazy="joined")

    def __str__(self):
        return f"{self.etablissement.name} — {self.name}" if self.etablissement else self.name


class StaffAssignment(Model):
    """A staff user works in an établissement, optionally only in some of its services."""

    __tablename__ = "staff_assignment"
    __table_args__ = (
        UniqueConstraint("user_id", "etablissement_id", "service_id", name="uq_staff_assignment"),
    )
    id = Column(Integer, primary_key=True)
    user_id = Column(Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), nullable=False, index=True)
    etablissement_id = Column(Integer, ForeignKey("etablissement.id"), nullable=False)
    service_id = Column(Integer, ForeignKey("service.id"), nullable=True)
    user = relationship("User")
    etablissement = relationship("Etablissement", lazy="joined")
    service = relationship("Service", lazy="joined")

    def __str__(self):
        return f"{self.etablissement} / {self.service.name}" if self.service else str(self.etablissement)
