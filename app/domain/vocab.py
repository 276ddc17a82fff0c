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

# What the audit pages show for an action and an object (the codes stay in the trail).
AUDIT_ACTIONS = {
    "read": _l("consultation"), "create": _l("création"), "update": _l("modification"), "archive": _l("archivage"),
    "restore": _l("désarchivage"), "delete": _l("suppression"), "login": _l("connexion"),
    "login_failed": _l("échec de connexion"), "logout": _l("déconnexion"), "mfa_failed": _l("code refusé"),
    "mfa_reset": _l("second facteur réinitialisé"), "mfa_enrolled": _l("second facteur activé"),
    "mfa_recovery_code_used": _l("code de secours utilisé"),
    "mfa_recovery_codes_renewed": _l("codes de secours renouvelés"), "export": _l("export"),
    "export_complet": _l("export complet (droit d'accès)"), "download": _l("téléchargement"),
    "break_glass": _l("accès d'urgence"), "break_glass_not_found": _l("accès d'urgence sans dossier trouvé"),
    "erasure": _l("anonymisation"), "denied": _l("accès refusé"), "password_check_failed": _l("mot de passe refusé"),
    "password_check_throttled": _l("essai de mot de passe freiné"), "login_throttled": _l("connexion freinée"),
    "tokens_revoked": _l("jetons révoqués"), "token_created": _l("jeton créé"), "token_revoked": _l("jeton révoqué"),
    "password_changed": _l("mot de passe changé"), "session_locked": _l("session verrouillée"),
    "session_unlocked": _l("session déverrouillée"), "backup": _l("sauvegarde"),
    "audit_reanchor": _l("journal réancré"), "annulation_sortie": _l("sortie annulée"),
    "portail_connexion": _l("connexion au portail"), "portail_connexion_refusee": _l("connexion au portail refusée"),
    "portail_code_refuse": _l("code du portail refusé"), "portail_invitation_acceptee": _l("invitation au portail acceptée"),
    "portail_acces_termine": _l("accès au portail terminé"),
    "portail_compte_reinitialise": _l("compte du portail réinitialisé"),
    "portail_reinit_terminee": _l("nouvel accès au portail choisi"),
    "portail_compte_desactive": _l("compte du portail désactivé"),
    "portail_compte_reactive": _l("compte du portail réactivé"),
}
AUDIT_ENTITIES = {
    "Usager": _l("Usager"), "Admission": _l("Admission"), "DemandeAdmission": _l("Demande d'admission"),
    "Foyer": _l("Foyer"), "ContactPerson": _l("Contact"), "CouvertureSociale": _l("Couverture sociale"),
    "MesureProtection": _l("Mesure de protection"), "Evaluation": _l("Évaluation"),
    "EvaluationResult": _l("Résultat d'évaluation"), "FormDefinition": _l("Définition de formulaire"),
    "FormDraft": _l("Saisie en cours"), "ProjetPersonnalise": _l("Projet personnalisé"),
    "PortalAccess": _l("Accès au portail"), "PortalAccount": _l("Compte du portail"),
    "ProjetAttente": _l("Attente (projet)"), "ProjetObjectif": _l("Objectif (projet)"),
    "ProjetAction": _l("Action (projet)"), "ProjetBilan": _l("Bilan (projet)"),
    "ProjetBilanObjectif": _l("Bilan d'objectif (projet)"), "ProjetParticipation": _l("Participation (projet)"),
    "ProjetSignature": _l("Signature (projet)"), "Etablissement": _l("Établissement"), "Organisme": _l("Organisme"),
    "Service": _l("Service"), "Capacite": _l("Capacité"), "StaffAssignment": _l("Affectation"),
    "EmergencyAccess": _l("Accès d'urgence"), "CategoryAccess": _l("Secret partagé"),
    "RectificationRequest": _l("Demande de rectification"), "ErasureRequest": _l("Demande d'anonymisation"),
    "AccessRequest": _l("Demande d'accès"), "IdentityReferral": _l("Signalement d'identité"),
    "ApiToken": _l("Jeton d'API"), "Compte": _l("Compte"), "ValeurListe": _l("Valeur de liste"),
    "MotifSortie": _l("Motif de sortie"), "ModaliteAccueil": _l("Modalité d'accueil"),
    "TypeDocument": _l("Type de document"), "CategorieEtablissement": _l("Catégorie d'établissement"),
    "User": _l("Compte"), "Role": _l("Rôle"),
}
