"""`flask sillage demo`: a small, realistic organisation to try Sillage, created once.

Running it again changes nothing: every step looks for what it would create first.
"""
from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import select
from stdnum import luhn

from ..domain import clock
from ..models import (
    Admission, Capacite, CategorieEtablissement, ContactPerson, DemandeAdmission, Etablissement,
    Foyer, ModaliteAccueil, MotifSortie, Organisme, PortalAccount, Service, StaffAssignment,
)
from . import demo_agenda, demo_evaluations, demo_messages, demo_portal, demo_projets, demo_transmissions
from .fake import PeopleFactory
from .referentiels import by_code, load_reference_data

ORGANISME = "Association Sillage Démo"
SIREN = "775684764"  # a SIREN-shaped number with a valid Luhn key
TILLEULS, SOURCES = "EHPAD Les Tilleuls", "IME Les Sources"

ACCOUNTS = [  # username, first name, last name, role, établissements (None = whole organisation)
    ("admin", "Alice", "Admin", "Administrateur", None),
    ("direction", "Denis", "Directeur", "Direction", None),
    ("secretaire.tilleuls", "Sophie", "Secrétaire", "Secrétariat", [TILLEULS]),
    ("secretaire.sources", "Samir", "Secrétaire", "Secrétariat", [SOURCES]),
    ("educ.sources", "Emma", "Éducatrice", "Éducatif", [SOURCES]),
    ("soin.tilleuls", "Inès", "Infirmière", "Soin", [TILLEULS]),
    ("qualite", "Quentin", "Qualité", "Qualité", [TILLEULS, SOURCES]),
    ("dpo", "Diane", "Déléguée", "DPO", None),
    ("compta", "Claire", "Comptable", "Comptabilité", [TILLEULS, SOURCES]),
]


def finess(dept: str, serial: int) -> str:
    body = f"{dept}{serial:06d}"
    return body + luhn.calc_check_digit(body)


def _get(session, model, **filters):
    return session.execute(select(model).filter_by(**filters)).scalars().first()


def create_structure(session):
    """The organisation, its two établissements, services and capacities (idempotent)."""
    org = _get(session, Organisme, name=ORGANISME)
    if org is None:
        org = Organisme(name=ORGANISME, siren=SIREN)
        session.add(org)
    specs = [
        (TILLEULS, "EHPAD", finess("63", 78001), "12 rue des Tilleuls", "63000", "Clermont-Ferrand",
         ["Unité Les Glycines", "Unité protégée Les Lilas", "Accueil de jour"], {"HP": 80, "HT": 4, "AJ": 10}),
        (SOURCES, "IME", finess("63", 78002), "3 chemin des Sources", "63100", "Clermont-Ferrand",
         ["Unité enfants", "Unité adolescents", "Internat"], {"SEMI": 45, "INT": 15}),
    ]
    etabs = {}
    for name, cat, fin, adresse, cp, commune, services, capacities in specs:
        etab = _get(session, Etablissement, name=name)
        if etab is None:
            etab = Etablissement(organisme=org, name=name, finess=fin, adresse=adresse, code_postal=cp,
                                 commune=commune, categorie=by_code(session, CategorieEtablissement, cat))
            session.add(etab)
            for svc in services:
                session.add(Service(etablissement=etab, name=svc))
            for code, places in capacities.items():
                etab.capacites.append(Capacite(modalite=by_code(session, ModaliteAccueil, code), places=places))
        etabs[name] = etab
    session.flush()
    return etabs


def _people(session, etabs, today):
    """About 40 usagers: elderly residents at the EHPAD, children (siblings) at the IME."""
    people = PeopleFactory(seed=2002)
    hp, aj, semi, internat = (by_code(session, ModaliteAccueil, c) for c in ("HP", "AJ", "SEMI", "INT"))
    deces = by_code(session, MotifSortie, "deces")
    domicile = by_code(session, MotifSortie, "domicile")
    glycines, lilas, accueil_jour = etabs[TILLEULS].services
    enfants, ados, internat_svc = etabs[SOURCES].services
    rng = people.rng
    for i in range(20):
        u = people.usager(1928, 1948)
        session.add(u)
        entree = today - dt.timedelta(days=rng.randint(30, 2500))
        service, modalite = (accueil_jour, aj) if i % 7 == 0 else ((lilas if i % 3 == 0 else glycines), hp)
        adm = Admission(usager=u, etablissement=etabs[TILLEULS], service=service, modalite=modalite, date_entree=entree)
        session.add(adm)
        if i in (4, 11):  # former residents, still visible for a few months
            adm.date_sortie = today - dt.timedelta(days=rng.randint(10, 60))
            adm.motif_sortie = deces if i == 4 else domicile
    # Waiting list at the EHPAD
    for _ in range(2):
        u = people.usager(1930, 1945)
        session.add(u)
        session.add(DemandeAdmission(usager=u, etablissement=etabs[TILLEULS], modalite=hp,
                                     date_demande=today - dt.timedelta(days=rng.randint(5, 120))))
    # Families at the IME: siblings share a foyer and its contacts
    count = 0
    while count < 18:
        nom = people.faker.last_name()
        foyer = Foyer(libelle=f"Famille {nom}", adresse=people.faker.street_address(),
                      code_postal="63000", commune="Clermont-Ferrand")
        session.add(foyer)
        session.add(ContactPerson(foyer=foyer, nom=nom.upper(), prenom=people.faker.first_name_female(), lien="Mère",
                                  roles=["representant_legal", "autorite_parentale", "personne_prevenir"],
                                  telephone=people.phone()))
        if rng.random() < 0.7:
            session.add(ContactPerson(foyer=foyer, nom=nom.upper(), prenom=people.faker.first_name_male(), lien="Père",
                                      roles=["representant_legal", "autorite_parentale"], telephone=people.phone()))
        for _ in range(rng.choice((1, 1, 2, 3))):
            u = people.usager(2008, 2020, nom=nom, foyer=foyer)
            session.add(u)
            age = (today - u.date_naissance).days // 365
            service = ados if age >= 12 else enfants
            entree = max(u.date_naissance + dt.timedelta(days=365 * 6), today - dt.timedelta(days=rng.randint(60, 1500)))
            session.add(Admission(usager=u, etablissement=etabs[SOURCES], service=service,
                                  modalite=internat if rng.random() < 0.2 else semi, date_entree=entree,
                                  decision_orientation_ref=f"CDAPH-63-{rng.randint(10000, 99999)}",
                                  orientation_debut=entree - dt.timedelta(days=30),
                                  orientation_fin=entree + dt.timedelta(days=5 * 365)))
            count += 1
    session.flush()
    # One transfer: the first child in the enfants unit moves to the adolescents unit.
    first = session.execute(select(Admission).where(Admission.service_id == enfants.id).order_by(Admission.id)).scalars().first()
    transfer_date = today - dt.timedelta(days=20)
    if first.date_entree < transfer_date:
        first.date_sortie = transfer_date
        first.motif_sortie = by_code(session, MotifSortie, "transfert")
        session.flush()
        session.add(Admission(usager=first.usager, etablissement=etabs[SOURCES], service=ados,
                              modalite=first.modalite, date_entree=transfer_date, transfert_de=first,
                              decision_orientation_ref=first.decision_orientation_ref,
                              orientation_debut=first.orientation_debut, orientation_fin=first.orientation_fin))


def _accounts(sm, session, etabs, password):
    created = []
    for username, first, last, role_name, places in ACCOUNTS:
        if sm.find_user(username=username):
            continue
        role = sm.find_role(role_name)
        user = sm.add_user(username, first, last, f"{username}@demo.sillage.invalid", [role], password)
        for name in places or []:
            session.add(StaffAssignment(user_id=user.id, etablissement_id=etabs[name].id))
        created.append(username)
    session.commit()
    return created


def load_demo(sm, session, password: str | None = None, today: dt.date | None = None):
    """→ (accounts created, password used for them, whether the people were created now)."""
    today = today or clock.today()
    load_reference_data(session)
    existed = _get(session, Etablissement, name=TILLEULS) is not None
    etabs = create_structure(session)
    if not existed:
        _people(session, etabs, today)
    session.commit()
    password = password or secrets.token_urlsafe(12)
    created = _accounts(sm, session, etabs, password)
    if not existed:
        demo_projets.load(session, today)
        demo_evaluations.load(session, today)
        demo_transmissions.load(session, today)
    demo_agenda.load(session, today)  # (idempotent: a demo made before the agenda gets one too)
    demo_messages.load(session, today)  # (idempotent, as the agenda)
    if created:  # (the password is known only when the accounts are made)
        demo_portal.load(session, password)
    return created, password, not existed


def enrol_demo_accounts(sm, session, secret: str) -> None:
    """`demo --totp-secret`: every demo account gets this second factor (demos, automated checks)."""
    from ..security.auth import enrol_with_secret

    for username, *_rest in ACCOUNTS:
        user = sm.find_user(username=username)
        if user is not None:
            enrol_with_secret(user, secret)
    session.commit()
    account = session.execute(select(PortalAccount).where(PortalAccount.email == demo_portal.EMAIL)).scalar_one_or_none()
    if account is not None:  # the demo family's portal account: the same second factor
        account.totp_secret, account.totp_last_step = secret, None
        session.commit()
