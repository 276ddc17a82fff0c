"""All mapped classes, imported once so metadata (and Alembic) sees every table."""
from flask_appbuilder.security.sqla.models import Role, User  # noqa: F401  (FAB tables share our metadata)

from .agenda import AgendaFeed, Evenement, EvenementParticipant, EvenementUsager
from .access import CategoryAccess, EmergencyAccess, SecurityStamp
from .identity import IdentityReferral
from .audit import AuditCheckpoint, AuditEvent, AuditHead, AuditUsager, AuditVerification
from .documents import Document, DocumentVersion
from .ecrit import Ecrit, EcritVersion, TypeEcrit
from .draft import FormDraft
from .foyer import ContactPerson, Foyer
from .forms import Evaluation, EvaluationResult, FormDefinition
from .organisation import Capacite, Etablissement, Organisme, Service, StaffAssignment
from .papiers import Aide, Assurance, Avenant, ContratSejour, Devis, DevisLigne, Facture, JustificatifRessources
from .message import Message, MessageAttachment, MessageRecipient, MessageThread
from .parcours import Admission, DemandeAdmission
from .portal import PortalAccess, PortalAccount
from .referentiels import (
    CategorieEtablissement, ModaliteAccueil, MotifSortie, TypeDocument, ValeurListe,
)
from .projet import (
    ProjetAction, ProjetAttente, ProjetBilan, ProjetBilanObjectif, ProjetObjectif, ProjetParticipation,
    ProjetPersonnalise, ProjetSignature,
)
from .reunion import Decision, PointOrdreDuJour, Reunion, ReunionParticipant, Tache, TypeReunion
from .rgpd import AccessRequest, ErasureRequest, RectificationRequest
from .transmission import Transmission, TransmissionRead, TransmissionUsager, TransmissionVersion
from .security import ApiToken, LoginThrottle, RecoveryCode, UserSecurity, WebSession
from .usager import CouvertureSociale, MesureProtection, Usager

__all__ = [
    "AccessRequest", "Admission", "AgendaFeed", "Aide", "ApiToken", "Assurance", "AuditCheckpoint",
    "AuditEvent", "AuditHead", "AuditUsager", "AuditVerification", "Avenant", "ContratSejour", "Devis", "DevisLigne", "Evenement",
    "EvenementParticipant", "EvenementUsager", "Facture", "IdentityReferral", "JustificatifRessources",
    "LoginThrottle", "RecoveryCode",
    "UserSecurity", "WebSession", "ErasureRequest", "RectificationRequest", "CategoryAccess", "EmergencyAccess", "SecurityStamp", "FormDraft", "Capacite", "CategorieEtablissement", "ContactPerson",
    "CouvertureSociale", "DemandeAdmission", "Document", "DocumentVersion", "Ecrit", "EcritVersion", "Etablissement", "Evaluation", "EvaluationResult",
    "FormDefinition", "Foyer", "MesureProtection",
    "ModaliteAccueil", "MotifSortie", "Organisme", "ProjetAction", "ProjetAttente", "ProjetBilan",
    "ProjetBilanObjectif", "ProjetObjectif", "ProjetParticipation", "ProjetPersonnalise", "ProjetSignature", "Role", "Service", "StaffAssignment",
    "Decision", "PointOrdreDuJour", "Reunion", "ReunionParticipant", "Tache", "TypeReunion",
    "Message", "MessageAttachment", "MessageRecipient", "MessageThread", "PortalAccess", "PortalAccount",
    "Transmission", "TransmissionRead", "TransmissionUsager", "TransmissionVersion",
    "TypeDocument", "TypeEcrit", "Usager", "User", "ValeurListe",
]
