"""Default reference lists, loaded once; later edits in the référentiels console are kept."""
from sqlalchemy import select

from ..models import (
    CategorieEtablissement, ModaliteAccueil, MotifSortie, TypeDocument, TypeEcrit, TypeReunion, ValeurListe,
)

# Catégories ESSMS (CASF L.312-1), named as users name them.
CATEGORIES = [
    ("EHPAD", "EHPAD — établissement d'hébergement pour personnes âgées dépendantes"),
    ("EHPA", "Résidence autonomie / EHPA"),
    ("IME", "IME — institut médico-éducatif"),
    ("ITEP", "DITEP / ITEP — institut thérapeutique, éducatif et pédagogique"),
    ("IEM", "IEM — institut d'éducation motrice"),
    ("SESSAD", "SESSAD — service d'éducation spéciale et de soins à domicile"),
    ("CAMSP", "CAMSP — centre d'action médico-sociale précoce"),
    ("CMPP", "CMPP — centre médico-psycho-pédagogique"),
    ("ESAT", "ESAT — établissement et service d'accompagnement par le travail"),
    ("FAM", "FAM / EAM — foyer d'accueil médicalisé"),
    ("MAS", "MAS — maison d'accueil spécialisée"),
    ("FH", "Foyer d'hébergement"),
    ("FV", "Foyer de vie / foyer occupationnel"),
    ("SAVS", "SAVS — service d'accompagnement à la vie sociale"),
    ("SAMSAH", "SAMSAH — service d'accompagnement médico-social pour adultes handicapés"),
    ("SSIAD", "SSIAD — service de soins infirmiers à domicile"),
    ("MECS", "MECS — maison d'enfants à caractère social"),
    ("FDE", "Foyer de l'enfance"),
    ("AEMO", "Service d'AEMO / AED — action éducative en milieu ouvert"),
    ("CHRS", "CHRS — centre d'hébergement et de réinsertion sociale"),
    ("CADA", "CADA — centre d'accueil de demandeurs d'asile"),
    ("LHSS", "LHSS — lits halte soins santé"),
]
# Years a dossier is kept after the last exit, then anonymised (editable in the console).
# 20 years where care is given (by analogy with the medical record, CSP R.1112-7); 30 years in
# child protection (people come back for their history as adults); 10 years elsewhere. Whoever
# was a minor at exit is kept at least until their 28th birthday. Check them with your DPO.
RETENTION_YEARS = {"EHPA": 10, "ESAT": 10, "FH": 10, "FV": 10, "SAVS": 10, "CHRS": 10, "CADA": 10,
                   "MECS": 30, "FDE": 30, "AEMO": 30}
DEFAULT_RETENTION_YEARS = 20
MODALITES = [
    ("HP", "Hébergement permanent"), ("HT", "Hébergement temporaire"), ("AJ", "Accueil de jour"),
    ("AN", "Accueil de nuit"), ("INT", "Internat"), ("SEMI", "Semi-internat"), ("EXT", "Externat"),
    ("AMB", "Ambulatoire / milieu ouvert"), ("DOM", "Intervention à domicile"),
]
MOTIFS_SORTIE = [
    ("transfert", "Transfert vers un autre service"),
    ("domicile", "Retour à domicile"),
    ("autre_essms", "Orientation vers un autre ESSMS"),
    ("hospitalisation", "Hospitalisation de longue durée"),
    ("deces", "Décès"),
    ("fin_orientation", "Fin de la décision d'orientation"),
    ("fin_accompagnement", "Fin d'accompagnement (objectifs atteints)"),
    ("depart_volontaire", "Départ à l'initiative de la personne ou de sa famille"),
    ("majorite", "Atteinte de la limite d'âge"),
    ("autre", "Autre motif"),
]
TYPES_DOCUMENT = [
    ("identite", "Pièce d'identité"), ("notification_mdph", "Notification MDPH / CDAPH"),
    ("jugement", "Jugement (protection, placement)"), ("attestation_droits", "Attestation de droits"),
    ("contrat_sejour", "Contrat de séjour / DIPC"), ("projet_personnalise", "Projet personnalisé"),
    ("compte_rendu", "Compte rendu"), ("rapport", "Rapport"), ("ordonnance", "Ordonnance"), ("courrier", "Courrier"),
    ("avenant", "Avenant au contrat de séjour / DIPC"),
    ("livret_accueil", "Livret d'accueil et règlement de fonctionnement remis"),
    ("attestation_assurance", "Attestation d'assurance (responsabilité civile)"),
    ("photo", "Photographie (identitovigilance)"),
    ("devis", "Devis"), ("facture", "Facture ou attestation de paiement"),
    ("justificatif_ressources", "Justificatif de ressources"),
    ("notification_aide", "Notification d'aide (APA, PCH, aide sociale, logement, AAH…)"),
    ("compte_rendu_reunion", "Compte rendu de réunion"),
]
# Kinds of meeting (ANESM 2008: the PP is co-evaluated at a réunion de synthèse or de projet; the
# conseil de la vie sociale, CASF L.311-6, meets at least three times a year).
TYPES_REUNION = [
    ("synthese", "Réunion de synthèse"), ("revue_projet", "Revue de projet personnalisé"),
    ("equipe", "Réunion d'équipe"), ("cvs", "Conseil de la vie sociale (CVS)"),
    ("service", "Réunion de service"), ("institutionnelle", "Réunion institutionnelle"),
    ("partenaires", "Réunion avec des partenaires"),
]
# (default category of the shared secret, expires) per type; the others: administratif, no expiry.
TYPES_DOCUMENT_DEFAULTS = {
    "identite": ("administratif", True), "notification_mdph": ("administratif", True),
    "attestation_droits": ("administratif", True), "attestation_assurance": ("administratif", True),
    "projet_personnalise": ("social_educatif", False), "compte_rendu": ("social_educatif", False),
    "rapport": ("social_educatif", False),
    "compte_rendu_reunion": ("social_educatif", False),
    "ordonnance": ("medical", False),
    "devis": ("financier", False), "facture": ("financier", False), "justificatif_ressources": ("financier", False),
    "notification_aide": ("financier", False),
}
# Mandatory papers per établissement category (the dossier's checklist). Every ESSMS hands over
# the livret d'accueil with the règlement de fonctionnement and signs a contrat de séjour or a
# DIPC (CASF L.311-4); people with a disability come with the CDAPH's notification of
# orientation; child protection works under a judgement; where people live, the établissement
# asks for a civil liability insurance certificate. Edit them in the référentiels console.
HEBERGEMENT = {"EHPAD", "EHPA", "IME", "ITEP", "IEM", "FAM", "MAS", "FH", "FV", "MECS", "FDE", "CHRS", "CADA"}
HANDICAP = {"IME", "ITEP", "IEM", "SESSAD", "ESAT", "FAM", "MAS", "FH", "FV", "SAVS", "SAMSAH"}
OBLIGATOIRES = {
    "contrat_sejour": {code for code, _label in CATEGORIES},
    "livret_accueil": {code for code, _label in CATEGORIES},
    "identite": {code for code, _label in CATEGORIES},
    "attestation_assurance": HEBERGEMENT,
    "notification_mdph": HANDICAP,
    "jugement": {"MECS", "FDE", "AEMO"},
}
# Types of écrits (reference: écrits professionnels): reports that leave the structure (to a
# judge, the ASE, the MDPH) are validated by the chef de service or the direction before they
# are sent; so are the comptes rendus and notes kept in the dossier, unless the structure decides
# otherwise in the console. (code, label, needs validation, document type of its PDF)
TYPES_ECRIT = [
    ("cr_entretien", "Compte rendu d'entretien", True, "compte_rendu"),
    ("note_incident", "Note d'incident", True, "compte_rendu"),
    ("rapport_situation", "Rapport de situation", True, "rapport"),
    ("rapport_juge", "Rapport au juge des enfants", True, "rapport"),
    ("rapport_ase", "Rapport à l'ASE", True, "rapport"),
    ("rapport_mdph", "Rapport à la MDPH", True, "rapport"),
    ("bilan_professionnel", "Bilan professionnel", True, "rapport"),
    ("cr_visite", "Compte rendu de visite", False, "compte_rendu"),
]
TYPES_ECRIT_DEFAULTS = {code: {"validation": needs, "type_document": doc, "categorie": "social_educatif",
                               "roles_validation": "Chef de service,Direction"}
                        for code, _label, needs, doc in TYPES_ECRIT}
VALEURS = {
    "niveau_scolaire": [("maternelle", "Maternelle"), ("elementaire", "Élémentaire"),
                        ("ulis", "ULIS"), ("college", "Collège"), ("segpa", "SEGPA"),
                        ("lycee", "Lycée"), ("ue", "Unité d'enseignement en ESMS")],
    "lien_parente": [("mere", "Mère"), ("pere", "Père"), ("frere_soeur", "Frère / sœur"),
                     ("grand_parent", "Grand-parent"), ("enfant", "Enfant"), ("conjoint", "Conjoint(e)"),
                     ("oncle_tante", "Oncle / tante"), ("autre", "Autre")],
    # Cibles of the transmissions ciblées (DAR): what a note is about.
    "cibles_transmission": [
        ("douleur", "Douleur"), ("alimentation", "Alimentation, hydratation"), ("sommeil", "Sommeil"),
        ("comportement", "Comportement"), ("chute", "Chute"), ("hygiene", "Hygiène, toilette"),
        ("elimination", "Élimination, continence"), ("mobilite", "Mobilité"), ("traitement", "Traitement"),
        ("sante", "Santé"), ("humeur", "Humeur, moral"), ("relation_familiale", "Relation familiale"),
        ("relations", "Relations avec les autres"), ("scolarite", "Scolarité"), ("activite", "Activité"),
        ("sortie", "Sortie"), ("autonomie", "Autonomie, vie quotidienne"), ("rendez_vous", "Rendez-vous"),
        ("administratif", "Démarche administrative"), ("incident", "Incident"), ("autre", "Autre"),
    ],
}


def _upsert(session, model, rows, per_code=None, **extra):
    existing = {r.code for r in session.execute(select(model).filter_by(**extra)).scalars()}
    for position, (code, label) in enumerate(rows):
        if code not in existing:
            session.add(model(code=code, label=label, position=position, active=True,
                              **(per_code(code) if per_code else {}), **extra))


def load_reference_data(session) -> None:
    """Insert missing default entries; entries already there (perhaps edited) are left alone."""
    _upsert(session, CategorieEtablissement, CATEGORIES,
            lambda code: {"retention_years": RETENTION_YEARS.get(code, DEFAULT_RETENTION_YEARS)})
    _upsert(session, ModaliteAccueil, MODALITES)
    _upsert(session, MotifSortie, MOTIFS_SORTIE)
    _upsert(session, TypeReunion, TYPES_REUNION)
    _upsert(session, TypeDocument, TYPES_DOCUMENT, lambda code: dict(zip(
        ("categorie", "expire"), TYPES_DOCUMENT_DEFAULTS.get(code, ("administratif", False)))))
    _upsert(session, TypeEcrit, [(code, label) for code, label, _v, _d in TYPES_ECRIT], TYPES_ECRIT_DEFAULTS.get)
    session.flush()
    _seed_mandatory(session)
    for liste, rows in VALEURS.items():
        _upsert(session, ValeurListe, rows, liste=liste)
    session.commit()


def _seed_mandatory(session) -> None:
    """The default checklist, once: when no type is mandatory anywhere yet (later edits kept)."""
    from ..models.referentiels import type_document_obligatoire

    if session.execute(select(type_document_obligatoire).limit(1)).first() is not None:
        return
    categories = {c.code: c for c in session.execute(select(CategorieEtablissement)).scalars()}
    for type_ in session.execute(select(TypeDocument).where(TypeDocument.code.in_(OBLIGATOIRES))).scalars():
        type_.obligatoire_pour = [categories[c] for c in sorted(OBLIGATOIRES[type_.code]) if c in categories]


def by_code(session, model, code):
    return session.execute(select(model).where(model.code == code)).scalar_one()
