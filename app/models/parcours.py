"""Parcours: waiting list (demandes d'admission), admissions, exits and transfers."""
from flask_appbuilder import Model
from sqlalchemy import Column, Date, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import relationship

from ..domain import vocab
from .base import ArchivableMixin, TrackedMixin, VersionedMixin


class DemandeAdmission(VersionedMixin, TrackedMixin, ArchivableMixin, Model):
    __tablename__ = "demande_admission"
    id = Column(Integer, primary_key=True)
    usager_id = Column(Integer, ForeignKey("usager.id"), nullable=False, index=True)
    etablissement_id = Column(Integer, ForeignKey("etablissement.id"), nullable=False, index=True)
    service_id = Column(Integer, ForeignKey("service.id"), nullable=True)
    modalite_id = Column(Integer, ForeignKey("ref_modalite_accueil.id"), nullable=True)
    date_demande = Column(Date, nullable=False)
    statut = Column(String(12), nullable=False, default="en_attente")
    decision_orientation_ref = Column(String(60))
    commentaire = Column(Text)

    usager = relationship("Usager", back_populates="demandes")
    etablissement = relationship("Etablissement")
    service = relationship("Service")
    modalite = relationship("ModaliteAccueil")

    @property
    def statut_label(self):
        return vocab.label(vocab.STATUT_DEMANDE, self.statut)


class Admission(VersionedMixin, TrackedMixin, ArchivableMixin, Model):
    __tablename__ = "admission"
    __table_args__ = (
        # At most one active admission per service and usager (enforced by the database too).
        Index(
            "uq_admission_active_service", "usager_id", "service_id", unique=True,
            sqlite_where=text("date_sortie IS NULL AND archived_at IS NULL"),
            postgresql_where=text("date_sortie IS NULL AND archived_at IS NULL"),
        ),
        Index("ix_admission_scope", "etablissement_id", "date_sortie", "usager_id"),
    )
    id = Column(Integer, primary_key=True)
    usager_id = Column(Integer, ForeignKey("usager.id"), nullable=False, index=True)
    etablissement_id = Column(Integer, ForeignKey("etablissement.id"), nullable=False)
    service_id = Column(Integer, ForeignKey("service.id"), nullable=False, index=True)
    modalite_id = Column(Integer, ForeignKey("ref_modalite_accueil.id"), nullable=False)
    date_entree = Column(Date, nullable=False)
    date_sortie = Column(Date, nullable=True)
    motif_sortie_id = Column(Integer, ForeignKey("ref_motif_sortie.id"), nullable=True)
    decision_orientation_ref = Column(String(60))  # e.g. n° de notification CDAPH
    orientation_debut = Column(Date)
    orientation_fin = Column(Date)
    demande_id = Column(Integer, ForeignKey("demande_admission.id"), nullable=True)
    transfert_de_id = Column(Integer, ForeignKey("admission.id"), nullable=True)
    commentaire = Column(Text)

    usager = relationship("Usager", back_populates="admissions", foreign_keys=[usager_id])
    etablissement = relationship("Etablissement")
    service = relationship("Service", lazy="joined")
    modalite = relationship("ModaliteAccueil", lazy="joined")
    motif_sortie = relationship("MotifSortie", lazy="joined")
    transfert_de = relationship("Admission", remote_side=[id])

    @property
    def is_active(self) -> bool:
        return self.date_sortie is None and self.archived_at is None

    def __str__(self):
        return f"{self.usager} — {self.service} ({self.date_entree:%d/%m/%Y})"
