"""Closed vocabularies with legal meaning (RNIV, CASF). Lists that users edit live in référentiels.

Each vocabulary maps a stable code (stored, exported, used by the API) to a translated label.
"""
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

SEXE = {"F": _l("Féminin"), "M": _l("Masculin"), "I": _l("Indéterminé")}

# RNIV (Référentiel national d'identitovigilance, 2021), § statuts de l'identité numérique.
STATUT_IDENTITE = {
    "provisoire": _l("Identité provisoire"),
    "recuperee": _l("Identité récupérée"),
    "validee": _l("Identité validée"),
    "qualifiee": _l("Identité qualifiée"),
}

# RNIV: only high-trust documents validate an identity.
PIECE_IDENTITE = {
    "cni": _l("Carte nationale d'identité"),
    "passeport": _l("Passeport"),
    "titre_sejour": _l("Titre de séjour permanent"),
    "livret_famille": _l("Livret de famille (mineur)"),
    "acte_naissance": _l("Extrait d'acte de naissance (mineur)"),
}

# OIDs of the INS matricule (ANS, Guide d'implémentation de l'INS).
OID_INS = {
    "1.2.250.1.213.1.4.8": _l("NIR"),
    "1.2.250.1.213.1.4.9": _l("NIA"),
    "1.2.250.1.213.1.4.10": _l("NIR de test"),
    "1.2.250.1.213.1.4.11": _l("NIA de test"),
}

SITUATION_FAMILIALE = {
    "celibataire": _l("Célibataire"),
    "marie": _l("Marié(e)"),
    "pacse": _l("Pacsé(e)"),
    "concubinage": _l("En concubinage"),
    "separe": _l("Séparé(e)"),
    "divorce": _l("Divorcé(e)"),
    "veuf": _l("Veuf / veuve"),
}

SITUATION_PRO = {
    "scolarise": _l("Scolarisé(e)"),
    "formation": _l("En formation"),
    "salarie": _l("Salarié(e) en milieu ordinaire"),
    "esat": _l("Travailleur d'ESAT"),
    "sans_emploi": _l("Sans emploi"),
    "retraite": _l("Retraité(e)"),
    "non_concerne": _l("Non concerné(e)"),
}

REGIME = {
    "general": _l("Régime général"),
    "agricole": _l("Mutualité sociale agricole"),
    "special": _l("Régime spécial"),
    "autre": _l("Autre régime"),
}

MESURE_PROTECTION = {
    "sauvegarde": _l("Sauvegarde de justice"),
    "curatelle_simple": _l("Curatelle simple"),
    "curatelle_renforcee": _l("Curatelle renforcée"),
    "tutelle": _l("Tutelle"),
    "habilitation_familiale": _l("Habilitation familiale"),
    "mandat_protection_future": _l("Mandat de protection future"),
    "masp": _l("MASP"),
    "maj": _l("Mesure d'accompagnement judiciaire"),
}

ROLE_CONTACT = {
    "representant_legal": _l("Représentant légal"),
    "autorite_parentale": _l("Titulaire de l'autorité parentale"),
    "personne_confiance": _l("Personne de confiance"),
    "personne_prevenir": _l("Personne à prévenir"),
    "tuteur_curateur": _l("Tuteur / curateur"),
    "membre": _l("Membre du foyer"),
}

STATUT_DEMANDE = {
    "en_attente": _l("En attente"),
    "acceptee": _l("Acceptée"),
    "refusee": _l("Refusée"),
    "annulee": _l("Annulée"),
    "admise": _l("Admise"),
}
# A waiting-list request makes the usager visible to the établissement's staff.
STATUTS_DEMANDE_OUVERTE = ("en_attente", "acceptee")


def label(vocabulary: dict, code):
    """The translated label of a code, or the code itself if unknown (old data stays readable)."""
    if code is None:
        return ""
    key = (id(vocabulary), str(get_locale()))
    entry = _translated.get(key)
    if entry is None or entry[0] is not vocabulary:  # (the vocabulary is kept: its id stays its own)
        entry = _translated[key] = (vocabulary, {code: str(text) for code, text in vocabulary.items()})
    return entry[1].get(code) or str(code)


# A vocabulary's labels per language, translated once: a search page shows a label per row, and
# each lazy string looks the request's catalogue up again.
_translated: dict = {}


def choices(vocabulary: dict, blank: bool = True):
    items = [(code, str(text)) for code, text in vocabulary.items()]
    return ([("", "—")] if blank else []) + items
