"""Reference lists edited in bulk in the référentiels console. Never personal data."""
from flask_appbuilder import Model
from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, Table, UniqueConstraint, false
from sqlalchemy.orm import relationship


class ReferenceMixin:
    id = Column(Integer, primary_key=True)
    code = Column(String(40), nullable=False, unique=True)
    label = Column(String(200), nullable=False)
    position = Column(Integer, nullable=False, default=0)
    active = Column(Boolean, nullable=False, default=True)

    def __str__(self):
        return self.label


class CategorieEtablissement(ReferenceMixin, Model):
    """ESSMS categories (FINESS catégories d'établissement, simplified to what users say)."""

    __tablename__ = "ref_categorie_etablissement"
    # Years a dossier is kept after the last exit before it is anonymised (RGPD retention);
    # the defaults and their reasons are in app/services/rgpd.py and the README.
    retention_years = Column(Integer, nullable=False, default=20, server_default="20")


class ModaliteAccueil(ReferenceMixin, Model):
    __tablename__ = "ref_modalite_accueil"


class MotifSortie(ReferenceMixin, Model):
    __tablename__ = "ref_motif_sortie"


# Types of document every dossier of an établissement category must hold (the checklist).
type_document_obligatoire = Table(
    "ref_type_document_obligatoire", Model.metadata,
    Column("type_document_id", Integer, ForeignKey("ref_type_document.id", ondelete="CASCADE"), primary_key=True),
    Column("categorie_etablissement_id", Integer, ForeignKey("ref_categorie_etablissement.id", ondelete="CASCADE"),
           primary_key=True),
)


class TypeDocument(ReferenceMixin, Model):
    """A kind of paper of the dossier: its default category of the shared secret (a document of
    this type is read by who reads that category), whether it expires, how long it is kept, and
    the établissement categories where every dossier must hold one."""

    __tablename__ = "ref_type_document"
    categorie = Column(String(20), nullable=False, default="administratif", server_default="administratif")
    expire = Column(Boolean, nullable=False, default=False, server_default=false())
    retention_years = Column(Integer)  # None: the dossier's own retention
    obligatoire_pour = relationship("CategorieEtablissement", secondary=type_document_obligatoire,
                                    order_by="CategorieEtablissement.position")


class ValeurListe(Model):
    """Generic « liste de valeurs »: one row per (list, code); the forms engine picks lists by code."""

    __tablename__ = "ref_valeur_liste"
    __table_args__ = (UniqueConstraint("liste", "code", name="uq_valeur_liste_code"),)
    id = Column(Integer, primary_key=True)
    liste = Column(String(60), nullable=False, index=True)
    code = Column(String(60), nullable=False)
    label = Column(String(200), nullable=False)
    position = Column(Integer, nullable=False, default=0)
    active = Column(Boolean, nullable=False, default=True)

    def __str__(self):
        return self.label
