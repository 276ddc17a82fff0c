"""The documented permission matrix: roles × resources × actions.

Views and APIs declare a `class_permission_name` (the resource) and map their methods to one of
three actions; a role's permissions are derived from this table by `sync_roles`, so the README's
roles table, the seeded database and the tests all read the same source.
"""
from flask_babel import lazy_gettext as _l

READ, WRITE, ARCHIVE = "read", "write", "archive"
R, RW, RWA = (READ,), (READ, WRITE), (READ, WRITE, ARCHIVE)

RESOURCES = {
    "Usager": _l("Usagers : identité, foyer, contacts, protection, couverture"),
    "Parcours": _l("Parcours : demandes d'admission, admissions, sorties, transferts"),
    "Etablissement": _l("Organismes, établissements, services, capacités"),
    "Affectation": _l("Affectations du personnel aux établissements"),
    "Referentiels": _l("Console des référentiels (listes de référence)"),
    "Formulaire": _l("Définitions de formulaires (grilles d'évaluation, sections de dossier)"),
    "Evaluation": _l("Évaluations des usagers (AGGIR, GEVA…)"),
    "Projet": _l("Projets personnalisés : attentes, objectifs, actions, bilans, signatures"),
    "Transmission": _l("Transmissions (cahier de liaison) : écrire, lire, accuser lecture"),
    "Reunion": _l("Réunions : ordre du jour, présences, compte rendu, décisions (valider le compte rendu : archiver)"),
    "Securite": _l("Comptes utilisateurs et rôles"),
    "Audit": _l("Journal d'audit, contrôle de la chaîne, revues des accès d'urgence"),
    "HistoriqueAcces": _l("Qui a consulté un dossier (historique des accès, sur le dossier)"),
    "Urgence": _l("Accès d'urgence (bris de glace) à un dossier hors périmètre"),
    "Rgpd": _l("Droits RGPD : export d'un dossier, demandes de rectification et d'anonymisation"),
    "VigilanceIdentite": _l("Référent identité : dossiers semblables signalés entre établissements"),
    "Indicateur": _l("Pilotage : GMP et répartition des GIR par établissement"),
    "Document": _l("Documents du dossier (GED) : pièces, versions, pièces obligatoires"),
    "Ecrit": _l("Écrits : comptes rendus et rapports, leur validation et leur diffusion"),
    "Papiers": _l("Papiers administratifs et financiers : contrats de séjour, devis, factures, ressources, aides, "
                  "assurances"),
    "Agenda": _l("Agenda : rendez-vous, activités, réunions, visites, absences ; flux ICS"),
    "Message": _l("Messagerie interne sécurisée : ses propres échanges, boîtes des services, pièces jointes"),
    "Portail": _l("Portail des familles : inviter une personne du foyer, voir ses accès, les révoquer, réinitialiser ou désactiver un compte"),
}
# Resources the Administrateur does not get: the trail watches the administrator too (Audit);
# reading who consulted a dossier, opening one in an emergency, answering RGPD requests and
# opening a dossier to a family on the portal are acts on the people supported, not on the
# installation.
NOT_ADMIN = {"Audit", "HistoriqueAcces", "Urgence", "Rgpd", "Portail"}
ADMIN_CATEGORIES = {"administratif"}  # what the Administrateur reads of the shared secret, at most


def category_grantable(role_name: str, category: str) -> bool:
    """May this role hold this category? The Administrateur never more than administratif, even
    if its row in the matrix is edited (in the page or the database)."""
    return role_name != ADMIN_ROLE or category in ADMIN_CATEGORIES

ADMIN_ROLE = "Administrateur"

MATRIX = {
    "Administrateur": {r: RWA for r in RESOURCES if r not in NOT_ADMIN},
    "Direction": {"Message": RW, "Portail": RW,
                  "Agenda": RW, "Ecrit": RW, "Document": RWA, "Usager": RWA, "Parcours": RWA, "Etablissement": RW,
                  "Affectation": RW, "Formulaire": R, "Evaluation": RW, "Projet": RWA, "HistoriqueAcces": R,
                  "Rgpd": RW, "Urgence": R, "VigilanceIdentite": RW, "Indicateur": R, "Transmission": RW,
                  "Reunion": RWA, "Papiers": RW},
    "Chef de service": {"Message": RW, "Portail": RW, "Agenda": RW, "Ecrit": RW, "Document": RWA, "Usager": RWA, "Parcours": RWA,
                        "Etablissement": R, "Affectation": R, "Formulaire": R, "Evaluation": RW, "Projet": RWA,
                        "Rgpd": RW, "Urgence": R, "Indicateur": R, "Transmission": RW, "Reunion": RWA,
                        "Papiers": RW},
    "Secrétariat": {"Message": RW, "Portail": RW,
                    "Agenda": RW, "Ecrit": RW, "Document": RW, "Usager": RW, "Parcours": RW, "Etablissement": R,
                    "Formulaire": R, "Evaluation": R, "Rgpd": RW, "Transmission": R, "Reunion": RW, "Papiers": RW},
    # Reads the people and their admissions (to find a contract's admission), never their care.
    "Comptabilité": {"Message": RW, "Document": RW, "Usager": R, "Parcours": R, "Etablissement": R, "Papiers": RW},
    "Éducatif": {"Message": RW,
                 "Agenda": RW, "Ecrit": RW, "Document": RW, "Usager": R, "Parcours": R, "Etablissement": R,
                 "Formulaire": R, "Evaluation": RW, "Projet": RW, "Urgence": R, "Transmission": RW, "Reunion": RW,
                 "Papiers": R},
    "Soin": {"Message": RW, "Agenda": RW, "Ecrit": RW, "Document": RW, "Usager": R, "Parcours": R, "Etablissement": R,
             "Formulaire": R, "Evaluation": RW, "Projet": RW, "Urgence": R, "Transmission": RW, "Reunion": RW,
             "Papiers": R},
    "Psychologue": {"Message": RW,
                    "Agenda": RW, "Ecrit": RW, "Document": RW, "Usager": R, "Parcours": R, "Etablissement": R,
                    "Formulaire": R, "Evaluation": RW, "Projet": RW, "Urgence": R, "Transmission": RW,
                    "Reunion": RW, "Papiers": R},
    "Qualité": {"Message": RW, "Etablissement": R, "Referentiels": RW, "Formulaire": RW},
    "DPO": {"Message": RW, "Portail": R, "Agenda": R, "Ecrit": R, "Document": R, "Usager": R, "Parcours": R, "Etablissement": R,
            "Affectation": R, "Formulaire": R, "Evaluation": R, "Projet": R, "Audit": R, "HistoriqueAcces": R,
            "Rgpd": RW, "Transmission": R, "Reunion": R, "Papiers": R},
}

ROLE_DESCRIPTIONS = {
    "Administrateur": _l("Paramétrage, comptes, référentiels ; voit toute l'organisation."),
    "Direction": _l("Pilotage ; voit toute l'organisation, archive les dossiers."),
    "Chef de service": _l("Encadre un ou plusieurs établissements ; archive les dossiers."),
    "Secrétariat": _l("Admissions, identité, famille ; dans ses établissements."),
    "Comptabilité": _l("Papiers financiers et administratifs (devis, factures, aides) ; dans ses établissements."),
    "Éducatif": _l("Consulte les dossiers de ses établissements."),
    "Soin": _l("Consulte les dossiers de ses établissements."),
    "Psychologue": _l("Consulte les dossiers de ses établissements."),
    "Qualité": _l("Référentiels et définitions de formulaires ; aucun dossier."),
    "DPO": _l("Délégué à la protection des données ; lecture de toute l'organisation."),
}

# Shared secret (CASF L.1110-4): information categories and who reads (r) / writes (w) each.
# Seeded once per role by sync_roles; afterwards the Administrateur edits it in the application.
CATEGORIES = {
    "administratif": _l("Administratif"),
    "social_educatif": _l("Social et éducatif"),
    "soins": _l("Soins"),
    "medical": _l("Médical"),
    "psychologique": _l("Psychologique"),
    "financier": _l("Financier"),
}
CATEGORY_MATRIX = {
    "Administrateur": {"administratif": "rw"},
    "Direction": {"administratif": "rw", "social_educatif": "rw", "soins": "r", "financier": "r"},
    "Chef de service": {"administratif": "rw", "social_educatif": "rw", "soins": "r"},
    "Secrétariat": {"administratif": "rw"},
    "Comptabilité": {"administratif": "rw", "financier": "rw"},
    "Éducatif": {"administratif": "r", "social_educatif": "rw", "soins": "r"},
    "Soin": {"administratif": "r", "social_educatif": "r", "soins": "rw", "medical": "rw"},
    "Psychologue": {"administratif": "r", "social_educatif": "r", "soins": "r", "psychologique": "rw"},
    "Qualité": {},
    "DPO": {"administratif": "r"},
}

# FAB method names → our actions. Every Sillage view and API uses this one mapping.
METHOD_ACTIONS = {
    # ModelView
    "list": READ, "show": READ, "download": READ, "api_read": READ, "api_get": READ,
    "add": WRITE, "edit": WRITE, "api_create": WRITE, "api_update": WRITE, "action": WRITE,
    "action_post": WRITE, "api_column_add": WRITE, "api_column_edit": WRITE, "api": READ,
    "delete": ARCHIVE, "api_delete": ARCHIVE,
    # ModelRestApi
    "get": READ, "get_list": READ, "info": READ, "post": WRITE, "put": WRITE,
}

# Menu entries shown when the role may read the resource (or do the action named beside the
# entry): a menu offers only what opens.
MENUS = {
    "Usager": ["Usagers", "Rechercher un usager", ("Nouvel usager", WRITE)],
    "Parcours": ["Parcours", "Admissions", "Demandes d'admission"],
    "Etablissement": ["Établissements", "Organismes", "Liste des établissements", "Services"],
    "Affectation": ["Administration", "Affectations"],
    "Referentiels": ["Administration", "Référentiels"],
    "Formulaire": ["Administration", "Formulaires", "Nomenclatures SERAFIN-PH"],
    "Securite": ["Security", "List Users", "List Roles", "Administration", "Secret partagé"],
    "Audit": ["Administration", "Journal d'audit"],
    "Rgpd": ["Usagers", "Demandes RGPD"],
    "Urgence": ["Usagers", "Accès d'urgence"],
    "VigilanceIdentite": ["Usagers", "Vigilance identité"],
    "Projet": ["Usagers", "Échéances des projets"],
    "Transmission": ["Usagers", "Transmissions"],
    "Ecrit": ["Usagers", "Écrits"],
    "Reunion": ["Usagers", "Réunions"],
    "Agenda": ["Usagers", "Agenda"],
    "Message": ["Messagerie"],
    "Portail": ["Usagers", "Portail des familles"],
    "Indicateur": ["Pilotage", "GMP et GIR"],
    "HistoriqueAcces": ["Administration", "Accès d'urgence à revoir"],
}

# What every signed-in user may do for themselves (FAB's own views).
SELF_SERVICE = [
    # (own password: our /compte/mot-de-passe asks for the current one; FAB's form is not granted)
    ("can_userinfo", "UserDBModelView"), ("resetmypassword", "UserDBModelView"),
    ("can_get", "OpenApi"), ("can_show", "SwaggerView"),  # integrators read the API description
]
# Nobody edits their own display name (it signs validations and PP signatures): an
# administrator changes it on the account's page, where the change is audited with both names.
SELF_NAME_EDIT = {("can_this_form_get", "UserInfoEditView"), ("can_this_form_post", "UserInfoEditView"),
                  ("userinfoedit", "UserDBModelView")}


def permissions_for(role_name: str) -> set[tuple[str, str]]:
    """(permission, view) pairs a role gets, in FAB's vocabulary."""
    pairs = set(SELF_SERVICE)
    for resource, actions in MATRIX.get(role_name, {}).items():
        pairs.update((f"can_{action}", resource) for action in actions)
        for entry in MENUS.get(resource, []):
            menu, needed = entry if isinstance(entry, tuple) else (entry, READ)
            if needed in actions:
                pairs.add(("menu_access", menu))
    return pairs


def sync_roles(appbuilder) -> None:
    """Create every view permission, then make each role's permissions equal to the matrix.

    The Administrateur also keeps every FAB permission (user and role management views).
    """
    sm = appbuilder.sm
    for role_name in MATRIX:
        if not sm.find_role(role_name):
            sm.add_role(role_name)
    appbuilder.add_permissions(update_perms=True)
    for role_name in MATRIX:  # resources without a FAB view of their own (e.g. Referentiels)
        for permission, view in permissions_for(role_name) - set(SELF_SERVICE):
            if not sm.find_permission_view_menu(permission, view):
                sm.add_permission_view_menu(permission, view)
    session = sm.session
    all_pvms = session.query(sm.permissionview_model).all()
    index = {(pvm.permission.name, pvm.view_menu.name): pvm for pvm in all_pvms}
    for role_name in MATRIX:
        role = sm.find_role(role_name)
        if role_name == ADMIN_ROLE:  # FAB's own views too, but menus only of what it may open
            granted = permissions_for(role_name)
            role.permissions = [p for p in all_pvms if (p.permission.name, p.view_menu.name) in granted or (
                p.permission.name != "menu_access" and p.view_menu.name not in NOT_ADMIN
                and (p.permission.name, p.view_menu.name) not in SELF_NAME_EDIT)]
        else:
            role.permissions = [index[p] for p in sorted(permissions_for(role_name)) if p in index]
    _seed_category_access(session, sm)
    session.commit()


def _seed_category_access(session, sm) -> None:
    """Default shared-secret matrix for the (role, category) pairs that have no row yet: a new
    role, or a category added since (financier); rows already there, perhaps edited, are kept."""
    from ..models import CategoryAccess

    seeded = {(row.role_id, row.category) for row in session.query(CategoryAccess.role_id, CategoryAccess.category)}
    for role_name, rights in CATEGORY_MATRIX.items():
        role = sm.find_role(role_name)
        for category in CATEGORIES:
            if (role.id, category) in seeded:
                continue
            mode = rights.get(category, "")
            session.add(CategoryAccess(role_id=role.id, category=category, can_read="r" in mode, can_write="w" in mode))
