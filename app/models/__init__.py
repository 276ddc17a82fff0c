"""All mapped classes, imported once so metadata (and Alembic) sees every table."""
from flask_appbuilder.security.sqla.models import Role, User  # noqa: F401  (FAB tables share our metadata)

from .audit import AuditEvent
from .foyer import ContactPerson, Foyer
from .forms import Evaluation, EvaluationResult, FormDefinition
from .organisation import Capacite, Etablissement, Organisme, Service, StaffAssignment
from .parcours import Admission, DemandeAdmission
from .referentiels import (
    CategorieEtablissement, ModaliteAccueil, MotifSortie, TypeDocument, ValeurListe,
)
from .usager import CouvertureSociale, MesureProtection, Usager

__all__ = [
    "AuditEvent", "Admission", "Capacite", "CategorieEtablissement", "ContactPerson",
    "CouvertureSociale", "DemandeAdmission", "Etablissement", "Evaluation", "EvaluationResult",
    "FormDefinition", "Foyer", "MesureProtection",
    "ModaliteAccueil", "MotifSortie", "Organisme", "Role", "Service", "StaffAssignment",
    "TypeDocument", "Usager", "User", "ValeurListe",
]
