"""Administrative and financial papers of a dossier (issue 18 §5): the contrat de séjour or DIPC
of each admission and its avenants, devis, factures and attestations de paiement, justificatifs
de ressources, aides, assurances.

Every row carries `usager_id` and its shared-secret category (`sensitivity`: "administratif" for
contracts and insurances, "financier" for money), so the scope hook filters rows without a join
and the audit knows what it may copy; a contract (and its avenants) also carries the
établissement of its admission, and is seen there only. The file of a paper is a document of the
document store (`document_id`), uploaded through the one safe-upload path. Sillage records
papers; it computes no invoice (amounts are what the paper says, Numeric(12, 2)).
"""
from decimal import Decimal

from flask_appbuilder import Model
from sqlalchemy import Column, Date, ForeignKey, Integer, Numeric, String, Text
from sqlalchemy.orm import declared_attr, relationship

from .base import ArchivableMixin, TrackedMixin, VersionedMixin

AMOUNT = Numeric(12, 2)
CENTS = Decimal("0.01")


class PaperMixin(VersionedMixin, TrackedMixin, ArchivableMixin):
    CATEGORY = "administratif"

    id = Column(Integer, primary_key=True)
    sensitivity = Column(String(20), nullable=False)

    @declared_attr
    def usager_id(cls):
        return Column(Integer, ForeignKey("usager.id"), nullable=False, index=True)

    @declared_attr
    def document_id(cls):
        return Column(Integer, ForeignKey("document.id"), nullable=True)

    @declared_attr
    def usager(cls):
        return relationship("Usager", foreign_keys=[cls.usager_id])

    @declared_attr
    def document(cls):
        return relationship("Document", foreign_keys=[cls.document_id])

    def __init__(self, **kw):
        kw.setdefault("sensitivity", self.CATEGORY)
        super().__init__(**kw)


class ContratSejour(PaperMixin, Model):
    """Contrat de séjour or DIPC (CASF L.311-4): handed over within 15 days of the admission,
    signed within one month (see domain/papiers.py)."""
    __tablename__ = "contrat_sejour"
    admission_id = Column(Integer, ForeignKey("admission.id"), nullable=False, index=True)
    etablissement_id = Column(Integer, ForeignKey("etablissement.id"), nullable=False)
    type = Column(String(12), nullable=False, default="contrat")  # contrat | dipc
    remis_le = Column(Date)
    signe_le = Column(Date)
    signataires = Column(Text)
    duree_mois = Column(Integer)  # None: indéterminée
    prestations = Column(Text)  # one prestation per line

    admission = relationship("Admission")
    avenants = relationship("Avenant", back_populates="contrat", order_by="Avenant.date")


class Avenant(PaperMixin, Model):
    __tablename__ = "avenant"
    contrat_id = Column(Integer, ForeignKey("contrat_sejour.id"), nullable=False, index=True)
    etablissement_id = Column(Integer, ForeignKey("etablissement.id"), nullable=False)
    date = Column(Date, nullable=False)
    objet = Column(String(200), nullable=False)  # e.g. "Projet personnalisé"

    contrat = relationship("ContratSejour", back_populates="avenants")


class Devis(PaperMixin, Model):
    __tablename__ = "devis"
    CATEGORY = "financier"
    date = Column(Date, nullable=False)
    objet = Column(String(200), nullable=False)
    accepte_le = Column(Date)

    lignes = relationship("DevisLigne", order_by="DevisLigne.position", back_populates="devis",
                          cascade="all, delete-orphan")

    @property
    def total(self) -> Decimal:
        return sum((ligne.montant for ligne in self.lignes), Decimal("0.00")).quantize(CENTS)


class DevisLigne(Model):
    __tablename__ = "devis_ligne"
    id = Column(Integer, primary_key=True)
    devis_id = Column(Integer, ForeignKey("devis.id", ondelete="CASCADE"), nullable=False, index=True)
    usager_id = Column(Integer, ForeignKey("usager.id"), nullable=False)
    sensitivity = Column(String(20), nullable=False, default="financier")
    position = Column(Integer, nullable=False, default=0)
    libelle = Column(String(200), nullable=False)
    quantite = Column(Numeric(10, 2), nullable=False)
    prix_unitaire = Column(AMOUNT, nullable=False)

    devis = relationship("Devis", back_populates="lignes")

    @property
    def montant(self) -> Decimal:
        return (Decimal(self.quantite) * Decimal(self.prix_unitaire)).quantize(CENTS)


class Facture(PaperMixin, Model):
    """A facture or an attestation de paiement, recorded with its document."""
    __tablename__ = "facture"
    CATEGORY = "financier"
    kind = Column(String(12), nullable=False, default="facture")  # facture | attestation
    numero = Column(String(60))
    date = Column(Date, nullable=False)
    montant = Column(AMOUNT)
    periode_debut = Column(Date)
    periode_fin = Column(Date)


class JustificatifRessources(PaperMixin, Model):
    __tablename__ = "justificatif_ressources"
    CATEGORY = "financier"
    kind = Column(String(20), nullable=False)
    periode_debut = Column(Date)
    periode_fin = Column(Date)
    montant = Column(AMOUNT)


class Aide(PaperMixin, Model):
    """APA, PCH, aide sociale à l'hébergement, APL/ALS, AAH…: rights granted by a decision, to
    renew before they end."""
    __tablename__ = "aide"
    CATEGORY = "financier"
    kind = Column(String(12), nullable=False)
    libelle = Column(String(120))  # for "autre"
    organisme = Column(String(200))
    numero_decision = Column(String(60))
    montant = Column(AMOUNT)
    debut = Column(Date)
    fin = Column(Date, index=True)


class Assurance(PaperMixin, Model):
    __tablename__ = "assurance"
    kind = Column(String(12), nullable=False)  # rc | mutuelle | autre
    organisme = Column(String(200))
    contrat = Column(String(60))
    debut = Column(Date)
    fin = Column(Date)
