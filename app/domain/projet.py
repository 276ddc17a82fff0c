"""Projet personnalisé: closed vocabularies, the status workflow and the content hash.

Pure rules, no database: the services apply them, the pages and the API show their labels.
"""
from __future__ import annotations

import hashlib
import json

from flask_babel import lazy_gettext as _l

STATUT = {
    "elaboration": _l("En élaboration"),
    "propose": _l("Proposé"),
    "signe": _l("Signé (en cours)"),
    "evalue": _l("Évalué"),
    "clos": _l("Clos"),
}
# Allowed moves of the workflow (a final bilan moves signe → evalue; the next version closes it).
TRANSITIONS = {
    "elaboration": {"propose"},
    "propose": {"elaboration", "signe"},
    "signe": {"evalue"},
    "evalue": {"clos"},
    "clos": set(),
}
EDITABLE = {"elaboration", "propose"}  # a signed version is locked

AUTEUR_ATTENTE = {"personne": _l("La personne"), "entourage": _l("L'entourage"), "equipe": _l("L'équipe")}

ATTEINTE = {
    "atteint": _l("Atteint"),
    "partiel": _l("Partiellement atteint"),
    "non_atteint": _l("Non atteint"),
    "abandonne": _l("Abandonné"),
    "reporte": _l("Reporté"),
}
# Position on the progress chart (abandoned / postponed are shown, not scored).
ATTEINTE_SCORE = {"non_atteint": 0, "partiel": 1, "atteint": 2}

DECISION = {"continuer": _l("Continuer"), "ajuster": _l("Ajuster"), "arreter": _l("Arrêter")}
TYPE_BILAN = {"intermediaire": _l("Bilan intermédiaire"), "final": _l("Bilan final")}

ETAPE = {
    "analyse": _l("Analyse"),
    "co_construction": _l("Co-construction"),
    "evaluation": _l("Évaluation"),
    "signature": _l("Signature"),
}
PARTICIPATION = {
    "present": _l("Présent(e)"),
    "consulte": _l("Consulté(e)"),
    "refus": _l("A refusé"),
    "empeche": _l("Empêché(e)"),
}
QUALITE_SIGNATAIRE = {
    "personne": _l("La personne"),
    "representant": _l("Représentant légal"),
    "referent": _l("Référent de projet"),
    "direction": _l("Direction"),
}
MODE_SIGNATURE = {"papier": _l("Sur papier (scan joint)"), "application": _l("Dans l'application, personne présente")}
ECHELLE = {"0-4": _l("Échelle de 0 à 4")}
MOTIF_ECHEANCE = {
    "a_elaborer": _l("Projet à élaborer"),
    "a_reviser": _l("Projet à réviser"),
    "bilan": _l("Bilan à faire"),
    "action": _l("Action échue"),
}


def content_hash(content: dict) -> str:
    """sha256 of what a signature covers (the whole version, every category: see
    services.projets.signed_content), in a canonical JSON that reads the same on both databases."""
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()
