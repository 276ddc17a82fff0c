"""Projet personnalisé (CASF L311-3 7°): one row per version of an usager's PP in an établissement,
with its expectations, objectives, actions, bilans, participation and signatures.

Every child row carries `usager_id` (the scope and the read audit find the person without a join)
and the shared-secret category of what it shows (`sensitivity`): an objective may be stricter than
its PP, and its actions and ratings follow it.
"""
from flask_appbuilder import Model
from sqlalchemy import Column, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import relationship

from .base import ArchivableMixin, JSONType, TrackedMixin, VersionedMixin


class ProjetPersonnalise(VersionedMixin, TrackedMixin, ArchivableMixin, Model):
    """One version of a PP. A signed version is locked: its content hash is kept."""

    __tablename__ = "projet"
    __table_args__ = (Index("ix_projet_usager", "usager_id", "etablissement_id", "numero"),)
    id = Column(Integer, primary_key=True)
    usager_id = Column(Integer, ForeignKey("usager.id"), nullable=False)
    etablissement_id = Column(Integer, ForeignKey("etablissement.id"), nullable=False, index=True)
    numero = Column(Integer, nullable=False, default=1)  # 1 = first PP, then each revision / avenant
    precedent_id = Column(Integer, ForeignKey("projet.id"))
    statut = Column(String(12), nullable=False, default="elaboration")
    sensitivity = Column(String(20), nullable=False, default="social_educatif")
    date_debut = Column(Date, nullable=False)
    date_revision = Column(Date)  # next revision due (yearly by default)
    bilans_prevus = Column(JSONType, nullable=False, default=list)  # ISO dates the team set for bilans
    referent_id = Column(Integer, ForeignKey("ab_user.id"))
    equipe = Column(JSONType, nullable=False, default=list)  # user ids of the contributing team
    synthese = Column(Text)  # synthesis of needs (phase 1)
    besoins = Column(JSONType, nullable=False, default=list)  # SERAFIN-PH besoin codes of the synthesis
    evaluation_ids = Column(JSONType, nullable=False, default=list)  # validated evaluations relied on
    content_hash = Column(String(64))  # sha256 of the signed content
    # The PDFs made at signing (in the usager's folder), kept with the version they show.
    pdf_path = Column(String(300))
    falc_path = Column(String(300))

    usager = relationship("Usager")
    etablissement = relationship("Etablissement", lazy="joined")
    referent = relationship("User", foreign_keys=[referent_id], lazy="joined")
    attentes = relationship("ProjetAttente", order_by="ProjetAttente.position", cascade="all, delete-orphan",
                            back_populates="projet")
    objectifs = relationship("ProjetObjectif", order_by="ProjetObjectif.position", cascade="all, delete-orphan",
                             back_populates="projet")
    bilans = relationship("ProjetBilan", order_by="ProjetBilan.date", cascade="all, delete-orphan",
                          back_populates="projet")
    participations = relationship("ProjetParticipation", order_by="ProjetParticipation.id",
                                  cascade="all, delete-orphan", back_populates="projet")
    signatures = relationship("ProjetSignature", order_by="ProjetSignature.id", cascade="all, delete-orphan",
                              back_populates="projet")


class _Child:
    """Columns every part of a PP carries for the scope and the shared secret."""

    usager_id = Column(Integer, ForeignKey("usager.id"), nullable=False)
    sensitivity = Column(String(20), nullable=False, default="social_educatif")


class ProjetAttente(_Child, Model):
    """An expectation, in the words of who said it (the person, the entourage, the team)."""

    __tablename__ = "projet_attente"
    id = Column(Integer, primary_key=True)
    projet_id = Column(Integer, ForeignKey("projet.id", ondelete="CASCADE"), nullable=False, index=True)
    position = Column(Integer, nullable=False, default=0)
    auteur = Column(String(10), nullable=False)  # personne, entourage, equipe
    auteur_nom = Column(String(120))
    texte = Column(Text, nullable=False)
    projet = relationship("ProjetPersonnalise", back_populates="attentes")


class ProjetObjectif(_Child, Model):
    """An operational objective, grouped under an objective of personal realisation (the person's
    words, `realisation`), coded with SERAFIN-PH besoins, with an optional indicator."""

    __tablename__ = "projet_objectif"
    id = Column(Integer, primary_key=True)
    projet_id = Column(Integer, ForeignKey("projet.id", ondelete="CASCADE"), nullable=False, index=True)
    position = Column(Integer, nullable=False, default=0)
    realisation = Column(Text)
    libelle = Column(Text, nullable=False)
    libelle_falc = Column(Text)
    besoins = Column(JSONType, nullable=False, default=list)
    indicateur_unite = Column(String(40))
    indicateur_echelle = Column(String(5))  # "0-4", or None for a number with a unit
    indicateur_cible = Column(Float)
    reprise_de_id = Column(Integer, ForeignKey("projet_objectif.id"))  # carried over from the last version
    projet = relationship("ProjetPersonnalise", back_populates="objectifs")
    actions = relationship("ProjetAction", order_by="ProjetAction.position", cascade="all, delete-orphan",
                           back_populates="objectif")


class ProjetAction(_Child, Model):
    """An action / prestation (SERAFIN-PH) serving one objective."""

    __tablename__ = "projet_action"
    id = Column(Integer, primary_key=True)
    objectif_id = Column(Integer, ForeignKey("projet_objectif.id", ondelete="CASCADE"), nullable=False, index=True)
    position = Column(Integer, nullable=False, default=0)
    libelle = Column(Text, nullable=False)
    prestation = Column(String(20), nullable=False)
    referent_id = Column(Integer, ForeignKey("ab_user.id"))
    partenaires = Column(Text)
    frequence = Column(String(120))
    ressources = Column(Text)
    debut = Column(Date)
    fin = Column(Date)
    objectif = relationship("ProjetObjectif", back_populates="actions")


class ProjetBilan(TrackedMixin, Model):
    """An intermediate or final evaluation of the PP with the person (phase 3)."""

    __tablename__ = "projet_bilan"
    id = Column(Integer, primary_key=True)
    projet_id = Column(Integer, ForeignKey("projet.id", ondelete="CASCADE"), nullable=False, index=True)
    usager_id = Column(Integer, ForeignKey("usager.id"), nullable=False)
    date = Column(Date, nullable=False)
    type = Column(String(14), nullable=False)  # intermediaire, final
    commentaire = Column(Text)
    projet = relationship("ProjetPersonnalise", back_populates="bilans")
    lignes = relationship("ProjetBilanObjectif", order_by="ProjetBilanObjectif.id", cascade="all, delete-orphan",
                          back_populates="bilan")


class ProjetBilanObjectif(_Child, Model):
    """One objective's rating in a bilan, with the indicator's measure and the person's view."""

    __tablename__ = "projet_bilan_objectif"
    id = Column(Integer, primary_key=True)
    bilan_id = Column(Integer, ForeignKey("projet_bilan.id", ondelete="CASCADE"), nullable=False, index=True)
    objectif_id = Column(Integer, ForeignKey("projet_objectif.id", ondelete="CASCADE"), nullable=False, index=True)
    atteinte = Column(String(12), nullable=False)
    mesure = Column(Float)
    avis_personne = Column(Text)
    commentaire = Column(Text)
    decision = Column(String(10))  # continuer, ajuster, arreter
    bilan = relationship("ProjetBilan", back_populates="lignes")
    objectif = relationship("ProjetObjectif")


class ProjetParticipation(Model):
    """Who took part in a step: the person or a representative, and how (or why not)."""

    __tablename__ = "projet_participation"
    id = Column(Integer, primary_key=True)
    projet_id = Column(Integer, ForeignKey("projet.id", ondelete="CASCADE"), nullable=False, index=True)
    usager_id = Column(Integer, ForeignKey("usager.id"), nullable=False)
    etape = Column(String(16), nullable=False)  # analyse, co_construction, evaluation, signature
    qualite = Column(String(20), nullable=False)  # personne, representant_legal, parent, personne_confiance…
    nom = Column(String(160), nullable=False)
    contact_id = Column(Integer, ForeignKey("contact_person.id"))
    statut = Column(String(10), nullable=False)  # present, consulte, refus, empeche
    motif = Column(Text)
    date = Column(Date)
    projet = relationship("ProjetPersonnalise", back_populates="participations")


class ProjetSignature(Model):
    """A signatory of a version: on paper (scan attached) or in the application, person present."""

    __tablename__ = "projet_signature"
    id = Column(Integer, primary_key=True)
    projet_id = Column(Integer, ForeignKey("projet.id", ondelete="CASCADE"), nullable=False, index=True)
    usager_id = Column(Integer, ForeignKey("usager.id"), nullable=False)
    qualite = Column(String(20), nullable=False)  # personne, representant, referent, direction
    nom = Column(String(160), nullable=False)
    date = Column(Date, nullable=False)
    mode = Column(String(12), nullable=False)  # papier, application
    scan_path = Column(String(300))
    content_hash = Column(String(64), nullable=False)
    projet = relationship("ProjetPersonnalise", back_populates="signatures")
