"""The document store (GED): the papers of a dossier, each with its versions.

A document carries `usager_id` and its shared-secret category (`categorie`, from its type by
default), so the scope hook filters rows without a join and the audit knows what it may copy. A
version is one file: kept (never overwritten) when a newer one replaces it, with the SHA-256 of
its bytes checked again at every download.
"""
from flask_appbuilder import Model
from sqlalchemy import Column, Date, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import relationship

from .base import ArchivableMixin, TrackedMixin, VersionedMixin, utcnow


class Document(VersionedMixin, TrackedMixin, ArchivableMixin, Model):
    __tablename__ = "document"
    __table_args__ = (Index("ix_document_usager", "usager_id", "type_id"),
                      Index("ix_document_expire_le", "expire_le"))
    id = Column(Integer, primary_key=True)
    usager_id = Column(Integer, ForeignKey("usager.id"), nullable=False)
    type_id = Column(Integer, ForeignKey("ref_type_document.id"), nullable=False)
    titre = Column(String(200), nullable=False)
    date_document = Column(Date)
    expire_le = Column(Date)
    categorie = Column(String(20), nullable=False, default="administratif")
    auteur_id = Column(Integer, ForeignKey("ab_user.id"))
    numero = Column(Integer, nullable=False, default=1)  # the current version's number

    type = relationship("TypeDocument", lazy="joined")
    auteur = relationship("User", foreign_keys=[auteur_id], lazy="joined")
    versions = relationship("DocumentVersion", order_by="DocumentVersion.numero.desc()", back_populates="document",
                            cascade="all, delete-orphan")

    @property
    def sensitivity(self) -> str:
        """The audit's name for a row's category (see security.audit._category)."""
        return self.categorie

    @property
    def current(self):
        return self.versions[0] if self.versions else None


class DocumentVersion(Model):
    __tablename__ = "document_version"
    __table_args__ = (Index("ix_document_version_numero", "document_id", "numero", unique=True),)
    id = Column(Integer, primary_key=True)
    document_id = Column(Integer, ForeignKey("document.id", ondelete="CASCADE"), nullable=False)
    usager_id = Column(Integer, ForeignKey("usager.id"), nullable=False)
    numero = Column(Integer, nullable=False)
    sha256 = Column(String(64), nullable=False)
    taille = Column(Integer, nullable=False)
    type_mime = Column(String(100), nullable=False)
    fichier = Column(String(200), nullable=False)  # path in the usager's folder, a name the server made
    nom_origine = Column(String(120), nullable=False)  # the name it was sent with (cleaned), to download it
    uploaded_by_id = Column(Integer, ForeignKey("ab_user.id"))
    uploaded_at = Column(DateTime, nullable=False, default=utcnow)

    document = relationship("Document", back_populates="versions")

    @property
    def sensitivity(self):
        """Its document's category (None, unknown: the audit treats it as sensitive)."""
        return self.document.categorie if self.document is not None else None
