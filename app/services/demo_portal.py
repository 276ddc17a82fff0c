"""Demo: one mother of a child at IME Les Sources already has her portal account (`make run`
shows the portal): famille.demo@demo.sillage.invalid, the demo accounts' password, the demo
second factor (`demo --totp-secret`), or a key of its own that `flask sillage demo` prints.
Idempotent."""
from __future__ import annotations

import secrets

import pyotp
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from ..domain import clock
from ..models import Admission, ContactPerson, Etablissement, PortalAccess, PortalAccount, User, Usager
from ..models.base import utcnow

EMAIL = "famille.demo@demo.sillage.invalid"
RIGHTS = ["agenda", "projet", "messages", "consultations", "coordonnees", "documents:projet_personnalise"]


def demo_account(session) -> PortalAccount | None:
    return session.execute(select(PortalAccount).where(PortalAccount.email == EMAIL)).scalar_one_or_none()


def load(session, password: str, totp_secret: str | None = None) -> PortalAccount | None:
    account = session.execute(select(PortalAccount).where(PortalAccount.email == EMAIL)).scalar_one_or_none()
    if account is not None:
        if totp_secret and account.totp_secret != totp_secret:
            account.totp_secret, account.totp_last_step = totp_secret, None
            session.commit()
        return account
    found = session.execute(
        select(Usager, ContactPerson).join(Admission, Admission.usager_id == Usager.id)
        .join(Etablissement, Etablissement.id == Admission.etablissement_id)
        .join(ContactPerson, ContactPerson.foyer_id == Usager.foyer_id)
        .where(Etablissement.name == "IME Les Sources", Admission.date_sortie.is_(None), ContactPerson.lien == "Mère",
               Usager.date_naissance > clock.today().replace(year=clock.today().year - 16))
        .order_by(Usager.id)).first()
    secretary = session.execute(select(User.id).where(User.username == "secretaire.sources")).scalar()
    if found is None or secretary is None:
        return None
    usager, mother = found
    mother.email = EMAIL
    account = PortalAccount(email=EMAIL, prenom=mother.prenom, nom=mother.nom,
                            password=generate_password_hash(password), second_factor="totp", totp_secret=totp_secret or pyotp.random_base32(),
                            session_stamp=secrets.token_hex(16), created_at=utcnow())
    session.add(account)
    session.add(PortalAccess(usager_id=usager.id, contact_id=mother.id, account=account, email=EMAIL, droits=RIGHTS,
                             invited_by_id=secretary, invited_at=utcnow(), token_hash=None,
                             token_expires_at=utcnow(), accepted_at=utcnow()))
    session.commit()
    return account
