"""The usager (person supported) with RNIV identity, contacts, coverage and legal protection."""
from flask_appbuilder import Model
from sqlalchemy import Boolean, Column, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import relationship

from ..domain import vocab
from .base import ArchivableMixin, JSONType, TrackedMixin, VersionedMixin


# SQLite only: an FTS5 table (trigram tokenizer) mirroring usager.search_text, kept in sync by
# triggers (migration 0029_search_index), read by services.usagers.search_usagers. Neither the
# virtual table, its shadow tables (usager_fts_data, _idx, ...) nor the triggers are models.
SEARCH_INDEX_TABLE = "usager_fts"


def is_search_index_table(name: str) -> bool:
    """The FTS5 table and its shadow tables: in the database, not in the models."""
    return name == SEARCH_INDEX_TABLE or name.startswith(SEARCH_INDEX_TABLE + "_")


def comparison_filters(dialect_name: str) -> dict:
    """Alembic's include_name / include_object for comparing the models with a database (autogenerate
    and tests/test_migrations.py): leave out the SQLite search index, which has no model, and the
    models' objects made on another database only (`.ddl_if(dialect=...)`, which Alembic ignores)."""
    def include_name(name, type_, _parent):
        return not (type_ == "table" and is_search_index_table(name))

    def include_object(obj, _name, _type, _reflected, _compare_to):
        ddl_if = getattr(obj, "_ddl_if", None)
        return ddl_if is None or ddl_if.dialect is None or ddl_if.dialect == dialect_name

    return {"include_name": include_name, "include_object": include_object}


class Usager(VersionedMixin, TrackedMixin, ArchivableMixin, Model):
    __tablename__ = "usager"
    __table_args__ = (
        Index("ix_usager_dup_key", "dup_key"), Index("ix_usager_phon_key", "phon_key"),
        # Result lists in name order: a page of a common search walks it and stops (search_usagers).
        Index("ix_usager_name_order", "nom_naissance", "premier_prenom_naissance", "id"),
        # The search's substring match (LIKE '%tok%') through trigrams (pg_trgm), written at once
        # rather than through a pending list every search reads (migration 0035). SQLite has no such
        # index type: its equivalent is the FTS5 table SEARCH_INDEX_TABLE (migration 0029).
        Index("ix_usager_search_trgm", "search_text", postgresql_using="gin",
              postgresql_ops={"search_text": "gin_trgm_ops"},
              postgresql_with={"fastupdate": "off"}).ddl_if(dialect="postgresql"),
    )

    id = Column(Integer, primary_key=True)
    # RNIV traits stricts
    nom_naissance = Column(String(100), nullable=False)
    prenoms_naissance = Column(JSONType, nullable=False)  # ordered list, as on the document
    premier_prenom_naissance = Column(String(100), nullable=False)
    date_naissance = Column(Date, nullable=False, index=True)
    sexe = Column(String(1), nullable=False)
    lieu_naissance_code = Column(String(5))  # INSEE code of the commune, or 99xxx for a country
    lieu_naissance_libelle = Column(String(120))
    # RNIV traits complémentaires
    nom_utilise = Column(String(100))
    prenom_utilise = Column(String(100))
    # INS
    matricule_ins = Column(String(15), index=True)
    oid_ins = Column(String(40))
    ins_recupere_le = Column(DateTime)
    statut_identite = Column(String(12), nullable=False, default="provisoire")
    piece_identite_type = Column(String(20))
    piece_identite_verifiee_le = Column(Date)
    # Contacts
    telephone_fixe = Column(String(20))
    telephone_mobile = Column(String(20))
    email = Column(String(254))
    adresse = Column(String(250))
    code_postal = Column(String(10))
    commune = Column(String(120))
    pays = Column(String(60))
    # Situation
    situation_familiale = Column(String(20))
    situation_professionnelle = Column(String(20))
    scolarite = Column(String(250))
    foyer_id = Column(Integer, ForeignKey("foyer.id"), nullable=True, index=True)
    anonymised_at = Column(DateTime)  # RGPD erasure or end of retention: identity removed for good
    # Search keys, derived from the identity by services.usagers (accent- and case-insensitive)
    search_text = Column(String(600), nullable=False, default="")
    dup_key = Column(String(250), nullable=False, default="")
    phon_key = Column(String(120), nullable=False, default="")  # domain.phonetic.phonetic_key

    foyer = relationship("Foyer", back_populates="usagers")
    couverture = relationship("CouvertureSociale", back_populates="usager", uselist=False)
    protections = relationship(
        "MesureProtection", back_populates="usager", order_by="MesureProtection.date_debut.desc()"
    )
    admissions = relationship(
        "Admission", back_populates="usager", order_by="Admission.date_entree", foreign_keys="Admission.usager_id"
    )
    demandes = relationship("DemandeAdmission", back_populates="usager", order_by="DemandeAdmission.date_demande")

    @property
    def display_name(self) -> str:
        nom = self.nom_utilise or self.nom_naissance
        prenom = self.prenom_utilise or self.premier_prenom_naissance
        return f"{nom.upper()} {prenom}"

    @property
    def prenoms_text(self) -> str:
        return " ".join(self.prenoms_naissance or [])

    @property
    def sexe_label(self):
        return vocab.label(vocab.SEXE, self.sexe)

    @property
    def statut_identite_label(self):
        return vocab.label(vocab.STATUT_IDENTITE, self.statut_identite)

    def __str__(self):
        return self.display_name


class CouvertureSociale(VersionedMixin, TrackedMixin, Model):
    __tablename__ = "couverture_sociale"
    id = Column(Integer, primary_key=True)
    usager_id = Column(Integer, ForeignKey("usager.id"), nullable=False, unique=True)
    regime = Column(String(20))
    caisse = Column(String(120))
    complementaire = Column(String(120))
    droits_debut = Column(Date)
    droits_fin = Column(Date)
    css = Column(Boolean, nullable=False, default=False)  # Complémentaire santé solidaire
    ame = Column(Boolean, nullable=False, default=False)  # Aide médicale de l'État
    usager = relationship("Usager", back_populates="couverture")


class MesureProtection(VersionedMixin, TrackedMixin, ArchivableMixin, Model):
    __tablename__ = "mesure_protection"
    id = Column(Integer, primary_key=True)
    usager_id = Column(Integer, ForeignKey("usager.id"), nullable=False, index=True)
    type_mesure = Column(String(30), nullable=False)
    mandataire = Column(String(200))
    mandataire_contact = Column(String(250))
    date_debut = Column(Date, nullable=False)
    date_fin = Column(Date)
    reference_jugement = Column(String(100))
    commentaire = Column(Text)
    usager = relationship("Usager", back_populates="protections")

    @property
    def type_label(self):
        return vocab.label(vocab.MESURE_PROTECTION, self.type_mesure)
