"""Écrits professionnels: comptes rendus and reports about one person (reference: écrits).

An `Ecrit` belongs to one usager and one établissement (whose letterhead its PDF carries), has a
type from the référentiel `TypeEcrit` (which says whether it needs validation and by which roles),
a category of the shared secret (`sensitivity`, as every scoped row) and a state:
brouillon → soumis → validé → diffusé; a refusal sends it back to brouillon with its comment.
Several authors write it (its creator and co-authors), each save checked against `version`
(optimistic concurrency). Every save of its content is kept as an `EcritVersion`; once validated
it is locked, and its PDF is stored among the dossier's documents (`document_id`) with the
version it was made from (`document_version`).
"""
from flask_appbuilder import Model
from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Index, Integer, String, Table, Text, true
from sqlalchemy.orm import relationship

from .base import TrackedMixin, VersionedMixin, utcnow
from .referentiels import ReferenceMixin

STATUTS = ("brouillon", "soumis", "valide", "diffuse")


class TypeEcrit(ReferenceMixin, Model):
    """A kind of écrit: whether it is validated before it leaves, by which roles (names, comma
    separated), its default category, and the document type its PDF is stored as."""

    __tablename__ = "ref_type_ecrit"
    validation = Column(Boolean, nullable=False, default=True, server_default=true())
    roles_validation = Column(String(200), nullable=False, default="Chef de service,Direction",
                              server_default="Chef de service,Direction")
    categorie = Column(String(20), nullable=False, default="social_educatif", server_default="social_educatif")
    type_document = Column(String(40), nullable=False, default="compte_rendu", server_default="compte_rendu")

    @property
    def validating_roles(self) -> list[str]:
        return [r.strip() for r in (self.roles_validation or "").split(",") if r.strip()]


ecrit_coauteur = Table(
    "ecrit_coauteur", Model.metadata,
    Column("ecrit_id", Integer, ForeignKey("ecrit.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", Integer, ForeignKey("ab_user.id", ondelete="CASCADE"), primary_key=True),
)


class Ecrit(VersionedMixin, TrackedMixin, Model):
    __tablename__ = "ecrit"
    __table_args__ = (Index("ix_ecrit_usager", "usager_id", "created_at"), Index("ix_ecrit_statut", "statut"))
    id = Column(Integer, primary_key=True)
    usager_id = Column(Integer, ForeignKey("usager.id"), nullable=False)
    etablissement_id = Column(Integer, ForeignKey("etablissement.id"), nullable=False, index=True)
    type_id = Column(Integer, ForeignKey("ref_type_ecrit.id"), nullable=False)
    titre = Column(String(200), nullable=False)
    contenu = Column(Text, nullable=False, default="")  # sanitised HTML (domain/ecrits.py)
    sensitivity = Column(String(20), nullable=False)  # category of the shared secret ("categorie")
    statut = Column(String(12), nullable=False, default="brouillon")
    auteur_id = Column(Integer, ForeignKey("ab_user.id"), nullable=False)
    commentaire_refus = Column(Text)  # the last refusal's, kept until the next validation
    refused_at = Column(DateTime)
    refused_by_id = Column(Integer, ForeignKey("ab_user.id"))
    submitted_at = Column(DateTime)
    submitted_by_id = Column(Integer, ForeignKey("ab_user.id"))
    validated_at = Column(DateTime)
    validated_by_id = Column(Integer, ForeignKey("ab_user.id"))
    diffused_at = Column(DateTime)
    diffused_by_id = Column(Integer, ForeignKey("ab_user.id"))
    document_id = Column(Integer, ForeignKey("document.id"))
    document_version = Column(Integer)  # the écrit's version its stored PDF was made from

    type = relationship("TypeEcrit", lazy="joined")
    usager = relationship("Usager")
    etablissement = relationship("Etablissement")
    auteur = relationship("User", foreign_keys=[auteur_id], lazy="joined")
    validated_by = relationship("User", foreign_keys=[validated_by_id])
    coauteurs = relationship("User", secondary=ecrit_coauteur, order_by="User.last_name")
    versions = relationship("EcritVersion", back_populates="ecrit", cascade="all, delete-orphan",
                            order_by="EcritVersion.numero.desc()")

    @property
    def author_ids(self) -> set[int]:
        return {self.auteur_id, *(u.id for u in self.coauteurs)}


class EcritVersion(Model):
    """The content of an écrit as one save left it (the newest is the current content)."""

    __tablename__ = "ecrit_version"
    id = Column(Integer, primary_key=True)
    ecrit_id = Column(Integer, ForeignKey("ecrit.id", ondelete="CASCADE"), nullable=False, index=True)
    usager_id = Column(Integer, ForeignKey("usager.id"), nullable=False)
    numero = Column(Integer, nullable=False)
    titre = Column(String(200), nullable=False)
    contenu = Column(Text, nullable=False)
    sensitivity = Column(String(20), nullable=False)
    statut = Column(String(12), nullable=False)
    saved_at = Column(DateTime, nullable=False, default=utcnow)
    saved_by_id = Column(Integer, ForeignKey("ab_user.id"))

    ecrit = relationship("Ecrit", back_populates="versions")
    saved_by = relationship("User", lazy="joined")
