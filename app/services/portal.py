"""The portal for usagers and families (`/portail/`): invitations, portal accounts, and every
right checked in ONE place.

- Invitation (`invite`): by the structure (secrétariat, chef de service, direction), for a
  contact of the usager's foyer or for the usager themself: a one-use link (only its SHA-256 is
  kept) valid SILLAGE_PORTAIL_LIEN_JOURS days. No self-registration: an account exists only by
  accepting a link (`accept`), with a password under the project's rule (domain/passwords.py)
  and a second factor (TOTP, or a code by e-mail when SMTP is configured).
- An access ends (`check_access`, run at every portal page and at every staff listing):
  revoked by the structure; its end date passed; the contact left the foyer; the dossier
  anonymised; for a tutor or curator (contact role `tuteur_curateur`), no protection measure in
  force any more; for a parent (contact role `autorite_parentale`), the child came of age, when
  SILLAGE_PORTAIL_FIN_MAJORITE is on (default). The reason is kept (`end_reason`).
- Rights (`RIGHTS`, and `documents:<type_code>`): each page asks `page(session, account,
  usager_id, right)`, which returns the access only if it is active and holds the right, else
  None (the web answers 404, as for any id outside one's scope). Each page is audited as the
  portal account's read of that dossier (`record_view`).
- What is shown is this usager's only, of the categories of SILLAGE_PORTAIL_CATEGORIES only:
  the agenda masks any other category ("Rendez-vous" and the time, like the shared secret does
  for staff), the PP shows the signed version's objectives of its own category (their easy-read
  wording when written) and its easy-read PDF, documents only of the granted types and
  categories; staff appear by first name and role only; "who opened the dossier" shows date,
  service and role (names only when SILLAGE_PORTAIL_NOMS_PERSONNEL is on).
- A portal session reads through a scope of its own (`portal_scope`): the usagers of its active
  accesses and nothing else, through the one scope hook (app/security/scope.py).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import time

import pyotp
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select, update
from werkzeug.security import check_password_hash, generate_password_hash

from ..domain.passwords import password_problems
from ..models import (
    AccessRequest, Admission, AuditEvent, ContactPerson, Document, ErasureRequest, Etablissement, Message,
    MessageRecipient, MessageThread, MesureProtection, PortalAccess, PortalAccount, ProjetObjectif,
    ProjetPersonnalise, RectificationRequest, Service, StaffAssignment, TypeDocument, User, Usager,
)
from ..models.base import utcnow
from ..security.audit import record_event
from ..security.auth import accept_totp
from ..security.scope import UNSCOPED, Scope
from ..domain import clock
from .errors import ValidationFailed

RIGHTS = ("agenda", "projet", "messages", "consultations", "coordonnees")
DOCUMENT_RIGHT = "documents:"
PARENT_ROLE, TUTOR_ROLE = "autorite_parentale", "tuteur_curateur"
EMAIL_CODE_MINUTES = 10
MAX_TEXT = 5000


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def categories() -> frozenset:
    return frozenset(current_app.config["SILLAGE_PORTAIL_CATEGORIES"])


# --- rights and invitations ---------------------------------------------------------------------

def check_rights(session, droits) -> list[str]:
    """The rights as codes, or ValidationFailed naming the field."""
    if not isinstance(droits, list) or not all(isinstance(d, str) for d in droits):
        raise ValidationFailed({"droits": _("Une liste de droits est attendue.")})
    codes = {t.code for t in session.execute(select(TypeDocument).where(TypeDocument.active.is_(True))).scalars()}
    wrong = [d for d in droits if d not in RIGHTS
             and not (d.startswith(DOCUMENT_RIGHT) and d[len(DOCUMENT_RIGHT):] in codes)]
    if wrong:
        raise ValidationFailed({"droits": _("Droits inconnus : %(d)s.", d=", ".join(w[:60] for w in wrong[:10]))})
    return list(dict.fromkeys(droits))


def right_labels(session) -> list[tuple[str, str]]:
    """(code, label) of every right one may grant, document types included."""
    labels = [("agenda", _("Voir l'agenda")), ("projet", _("Voir le projet personnalisé (version facile à lire)")),
              ("messages", _("Écrire à la structure")), ("consultations", _("Voir qui a ouvert le dossier")),
              ("coordonnees", _("Voir les coordonnées connues de la structure"))]
    for t in session.execute(select(TypeDocument).where(TypeDocument.active.is_(True))
                             .order_by(TypeDocument.label)).scalars():
        labels.append((DOCUMENT_RIGHT + t.code, _("Voir les documents : %(t)s", t=t.label)))
    return labels


def contacts_of(session, usager: Usager) -> list[ContactPerson]:
    """The contacts of the usager's foyer (whom one may invite)."""
    if usager.foyer_id is None:
        return []
    return list(session.execute(select(ContactPerson).where(
        ContactPerson.foyer_id == usager.foyer_id, ContactPerson.archived_at.is_(None))
        .order_by(ContactPerson.nom)).scalars())


def _parse_date(value, key, errors):
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and len(value) == 10:
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    errors[key] = _("Date attendue au format AAAA-MM-JJ.")
    return None


def invite(session, *, usager: Usager, contact_id, email, droits, expire_le, invited_by_id: int,
           base_url: str) -> tuple[PortalAccess, str]:
    """A one-use link for a contact of the usager's foyer (`contact_id`) or for the usager
    themself (`contact_id` None): (the access, its URL). The URL is shown once."""
    errors = {}
    contact = None
    if contact_id is not None:
        if not isinstance(contact_id, int) or isinstance(contact_id, bool):
            errors["contact_id"] = _("Identifiant attendu.")
        else:
            contact = next((c for c in contacts_of(session, usager) if c.id == contact_id), None)
            if contact is None:
                errors["contact_id"] = _("Ce contact ne fait pas partie du foyer de l'usager.")
    if email is not None and not isinstance(email, str):
        errors["email"] = _("Adresse e-mail attendue.")
        email = None
    address = (email or (contact.email if contact else usager.email) or "").strip().lower()
    if not errors and ("@" not in address or len(address) > 254 or any(c.isspace() or ord(c) < 32 for c in address)):
        errors["email"] = _("Une adresse e-mail valide est nécessaire (celle du contact ou saisie ici).")
    try:
        droits = check_rights(session, droits)
    except ValidationFailed as exc:
        errors.update(exc.errors)
    end = _parse_date(expire_le, "expire_le", errors)
    if end is not None and end < clock.today():
        errors["expire_le"] = _("La date de fin ne peut être passée.")
    if errors:
        raise ValidationFailed(errors)
    reason = _role_ended(session, usager, contact, clock.today())
    if reason:
        raise ValidationFailed({"contact_id": _("Accès impossible : %(r)s.", r=reason)})
    raw = secrets.token_urlsafe(32)
    days = current_app.config["SILLAGE_PORTAIL_LIEN_JOURS"]
    link_end = utcnow() + dt.timedelta(days=days)
    access = PortalAccess(usager_id=usager.id, contact_id=contact.id if contact else None, email=address,
                          droits=droits, expire_le=end, invited_by_id=invited_by_id, invited_at=utcnow(),
                          token_hash=_digest(raw), token_expires_at=link_end)
    session.add(access)
    session.commit()
    url = f"{base_url.rstrip('/')}/portail/invitation/{raw}"
    send_mail(address, _("Invitation à l'espace famille de Sillage"),
              _("Vous êtes invité(e) à ouvrir votre espace sur le portail de la structure.\n"
                "Ce lien ne sert qu'une fois et expire dans %(n)s jours :\n%(url)s\n", n=days, url=url))
    return access, url


def invitation_for_token(session, raw: str) -> PortalAccess | None:
    """The pending invitation of a link (unused, not revoked, not expired), else None."""
    if not isinstance(raw, str) or not 20 <= len(raw) <= 100:
        return None
    access = session.execute(select(PortalAccess).where(PortalAccess.token_hash == _digest(raw))).scalar_one_or_none()
    if access is None or access.accepted_at or access.revoked_at or access.ended_at \
            or access.token_expires_at <= utcnow():
        return None
    return access


def invitation_usager_ids(session, raw: str) -> list[int]:
    """The usager of a link, read as a column (the portal's scope is built from it)."""
    if not isinstance(raw, str) or not 20 <= len(raw) <= 100:
        return []
    return list(session.execute(select(PortalAccess.usager_id).where(PortalAccess.token_hash == _digest(raw)),
                                execution_options={UNSCOPED: True}).scalars())


def new_totp_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(email: str, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=current_app.config["APP_NAME"] + " portail")


def check_password_rule(password, confirm, inputs=()) -> dict:
    errors = {}
    if not isinstance(password, str) or not password:
        errors["password"] = _("Ce champ est obligatoire.")
    else:
        problems = password_problems(password, current_app.config.get("SILLAGE_PASSWORD_MIN_LENGTH", 12),
                                     tuple(i for i in inputs if i))
        if problems:
            errors["password"] = " ".join(str(p) for p in problems)
        elif password != confirm:
            errors["confirm"] = _("Les deux mots de passe diffèrent.")
    return errors


def new_second_factor_problems(holder: PortalAccount, second_factor, code, email_code_ok) -> dict:
    """Field errors of a second factor being enrolled (invitation, recovery): the first TOTP code
    of the key in `holder` (its step is kept there), or the e-mailed code checked by the web."""
    if second_factor == "totp":
        if not holder.totp_secret or not accept_totp(holder, code):
            return {"code": _("Code incorrect : saisissez le code à 6 chiffres affiché par l'application.")}
    elif second_factor == "email":
        if not smtp_configured() or not email_code_ok:
            return {"code": _("Code incorrect ou expiré.")}
    else:
        return {"second_factor": _("Choisissez un second facteur.")}
    return {}


def accept(session, access: PortalAccess, *, password, confirm, second_factor, totp_secret=None, code=None,
           email_code_ok=False, remote_addr=None) -> PortalAccount:
    """Accept an invitation: the account is created (or, for an address that already has one,
    the access is attached to it after its own password is checked, behind the sign-in
    throttle; it then signs in as usual, with its second factor) and the link is spent."""
    account = session.execute(select(PortalAccount).where(PortalAccount.email == access.email)).scalar_one_or_none()
    if account is not None:
        checked, wait = authenticate(session, access.email, password, remote_addr)
        if checked is None:
            raise ValidationFailed({"password": _("Trop d'essais : réessayez dans %(n)s secondes.", n=wait) if wait
                                    else _("Un compte existe déjà pour cette adresse : saisissez son mot de passe.")})
        account = checked
    else:
        contact = access.contact
        errors = check_password_rule(password, confirm, (access.email.split("@")[0],
                                                         contact.nom if contact else None))
        holder = PortalAccount(totp_secret=totp_secret, totp_last_step=None)
        errors.update(new_second_factor_problems(holder, second_factor, code, email_code_ok))
        if errors:
            raise ValidationFailed(errors)
        account = PortalAccount(
            email=access.email, prenom=contact.prenom if contact else None, nom=contact.nom if contact else None,
            password=generate_password_hash(password), second_factor=second_factor,
            totp_secret=totp_secret if second_factor == "totp" else None,
            totp_last_step=holder.totp_last_step if second_factor == "totp" else None,
            session_stamp=secrets.token_hex(16), created_at=utcnow())
        if contact is None:
            usager = access.usager
            account.prenom, account.nom = usager.prenom_utilise or usager.premier_prenom_naissance, \
                usager.nom_utilise or usager.nom_naissance
        session.add(account)
    access.account = account
    access.accepted_at = utcnow()
    access.token_hash = None
    account.last_login_at = utcnow()
    session.commit()
    record_event("portail_invitation_acceptee", user_id=None, username=actor_name(account), entity="PortalAccess",
                 entity_id=access.id, usager_id=access.usager_id)
    return account


# --- second factor --------------------------------------------------------------------------------

def smtp_configured() -> bool:
    return bool(current_app.config.get("SILLAGE_SMTP_HOST"))


def new_email_code() -> tuple[str, str, dt.datetime]:
    """(code, its hash, its expiry)."""
    code = f"{secrets.randbelow(1_000_000):06d}"
    return code, generate_password_hash(code), utcnow() + dt.timedelta(minutes=EMAIL_CODE_MINUTES)


def send_email_code(address: str, code: str) -> bool:
    return send_mail(address, _("Votre code de connexion"),
                     _("Votre code de connexion au portail : %(c)s (valable %(n)s minutes).\n", c=code,
                       n=EMAIL_CODE_MINUTES)) == 1


def check_email_code(code_hash, expires_at, code) -> bool:
    code = "".join(ch for ch in (code or "") if ch.isdigit())
    return bool(code_hash and expires_at and expires_at > utcnow() and len(code) == 6
                and check_password_hash(code_hash, code))


def send_mail(address: str, subject: str, body: str) -> int:
    """One mail when SMTP is configured (services/messages.py `send_mails`, the one mail path)."""
    from .messages import send_mails

    return send_mails([(address, subject, body)])


# --- sign-in ---------------------------------------------------------------------------------------

def _throttle_name(email: str) -> str:
    return "portail:" + (email or "").strip().lower()[:170]


def authenticate(session, email: str, password: str, remote_addr) -> tuple[PortalAccount | None, int]:
    """(the account, 0) for a right password; (None, seconds to wait) otherwise. Behind the
    same throttle as staff sign-in (keyed apart: "portail:<address>"), same time for unknown
    addresses."""
    from ..security.auth import _even_out, register_failure, throttled_for

    started = time.monotonic()
    name = _throttle_name(email)
    wait = throttled_for(name, remote_addr)
    if wait:
        return None, wait
    account = session.execute(select(PortalAccount).where(
        PortalAccount.email == (email or "").strip().lower()[:254])).scalar_one_or_none()
    ok = account is not None and account.disabled_at is None and check_password_hash(account.password,
                                                                                      (password or "")[:1024])
    if not ok:
        if account is None:
            generate_password_hash("x")  # (similar work for unknown addresses)
        register_failure(name, remote_addr)
        record_event("portail_connexion_refusee", user_id=None, username=name[:100])
        _even_out(started)
        return None, 0
    return account, 0


def second_factor_ok(session, account: PortalAccount, code: str, remote_addr) -> bool:
    from ..security.auth import clear_failures, register_failure, throttled_for

    if throttled_for(_throttle_name(account.email), remote_addr):  # (codes are tried behind the same throttle)
        return False
    if account.second_factor == "email":
        ok = check_email_code(account.email_code_hash, account.email_code_expires_at, code)
        if ok:
            account.email_code_hash = account.email_code_expires_at = None
    else:
        ok = accept_totp(account, code)
    if not ok:
        session.rollback()
        register_failure(_throttle_name(account.email), remote_addr)
        record_event("portail_code_refuse", user_id=None, username=actor_name(account))
        return False
    account.last_login_at = utcnow()
    session.commit()
    clear_failures(_throttle_name(account.email), remote_addr)
    record_event("portail_connexion", user_id=None, username=actor_name(account), entity="PortalAccount",
                 entity_id=account.id)
    return True


def start_email_code(session, account: PortalAccount) -> None:
    code, code_hash, expires = new_email_code()
    account.email_code_hash, account.email_code_expires_at = code_hash, expires
    session.commit()
    send_email_code(account.email, code)


def end_sessions(session, account: PortalAccount) -> None:
    """Every portal session of the account ends (they ride in signed cookies: a copy of one
    stays valid until the stamp it carries changes)."""
    account.session_stamp = secrets.token_hex(16)
    session.commit()


def actor_name(account: PortalAccount) -> str:
    """How the audit trail names a portal account (never an ab_user)."""
    return f"portail:{account.id}"


# --- the portal's scope and its accesses --------------------------------------------------------

def account_usager_ids(session, account_id: int) -> list[int]:
    """Usagers of the account's accesses not revoked nor ended (read as columns: the scope is
    built from them)."""
    return list(session.execute(select(PortalAccess.usager_id).where(
        PortalAccess.account_id == account_id, PortalAccess.revoked_at.is_(None), PortalAccess.ended_at.is_(None)),
        execution_options={UNSCOPED: True}).scalars())


def portal_scope(session, usager_ids) -> Scope:
    """What a portal session may load: these usagers (and their rows) only; the établissements
    of their admissions as "seen" (a PP, an event belongs to one), never as a place whose
    usagers are visible."""
    usager_ids = sorted(set(usager_ids))
    etabs = frozenset(session.execute(select(Admission.etablissement_id).where(Admission.usager_id.in_(usager_ids)),
                                      execution_options={UNSCOPED: True}).scalars()) if usager_ids else frozenset()
    return Scope(sees_all=False, months_after_exit=0, readable=categories(), writable=frozenset(),
                 listed_usager_ids=frozenset(usager_ids), service_etablissement_ids=etabs)


def _age(birth: dt.date, today: dt.date) -> int:
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


def _role_ended(session, usager: Usager, contact: ContactPerson | None, today: dt.date) -> str | None:
    """Why the role that gives this access no longer holds (None: it holds)."""
    if usager.anonymised_at is not None:
        return _("dossier anonymisé")
    if contact is None:
        return None
    if contact.archived_at is not None or contact.foyer_id != usager.foyer_id:
        return _("la personne ne fait plus partie du foyer")
    roles = set(contact.roles or [])
    if TUTOR_ROLE in roles:
        in_force = session.execute(select(MesureProtection.id).where(
            MesureProtection.usager_id == usager.id, MesureProtection.archived_at.is_(None),
            MesureProtection.date_debut <= today,
            (MesureProtection.date_fin.is_(None)) | (MesureProtection.date_fin >= today))).first()
        if in_force is None:
            return _("fin de la mesure de protection")
    # A parent's rights end at majority (C. civ. art. 371-1, 414), also as legal representative;
    # a tutor or a personne de confiance keeps the access their own role gives.
    if PARENT_ROLE in roles and not roles & {TUTOR_ROLE, "personne_confiance"} \
            and current_app.config["SILLAGE_PORTAIL_FIN_MAJORITE"] and _age(usager.date_naissance, today) >= 18:
        return _("majorité de l'usager")
    return None


def end_reason(session, access: PortalAccess, today: dt.date | None = None) -> str | None:
    today = today or clock.today()
    if access.expire_le is not None and access.expire_le < today:
        return _("date de fin de l'accès atteinte")
    return _role_ended(session, access.usager, access.contact, today)


def check_access(session, access: PortalAccess, today: dt.date | None = None) -> bool:
    """Is this access in force? An access whose role ended is ended now, with its reason."""
    if access.revoked_at or access.ended_at:
        return False
    reason = end_reason(session, access, today)
    if reason:
        access.ended_at, access.end_reason = utcnow(), reason[:200]
        session.commit()
        record_event("portail_acces_termine", entity="PortalAccess", entity_id=access.id,
                     usager_id=access.usager_id, details={"motif": reason})
        return False
    return True


def active_accesses(session, account: PortalAccount) -> list[PortalAccess]:
    found = session.execute(select(PortalAccess).where(
        PortalAccess.account_id == account.id, PortalAccess.revoked_at.is_(None), PortalAccess.ended_at.is_(None))
        .order_by(PortalAccess.id)).scalars().all()
    return [a for a in found if check_access(session, a)]


def page(session, account: PortalAccount, usager_id, right: str | None = None) -> PortalAccess | None:
    """The access through which `account` opens this usager's page needing `right`; None when
    there is none in force or it lacks the right (the web answers 404)."""
    for access in active_accesses(session, account):
        if access.usager_id == usager_id and (right is None or right in (access.droits or [])):
            return access
    return None


def has_documents(access: PortalAccess) -> bool:
    return any(d.startswith(DOCUMENT_RIGHT) for d in access.droits or [])


def lien(access: PortalAccess) -> str:
    """How the structure names the person: "mère", "tuteur", or the usager themself."""
    if access.contact_id is None:
        return _("la personne elle-même")
    contact = access.contact
    return (contact.lien or ", ".join(str(r) for r in contact.role_labels) or _("proche")) if contact else _("proche")


def record_view(access: PortalAccess, what: str, path: str, **details) -> None:
    """Every portal page and download: the portal account's read of the dossier."""
    record_event("read", user_id=None, username=actor_name(access.account), entity="Usager",
                 entity_id=access.usager_id, usager_id=access.usager_id,
                 details={"path": path[:300], "portail": {"compte": access.account_id, "acces": access.id,
                                                          "lien": lien(access)[:60], "page": what}, **details},
                 durable=False)


# --- what a page shows ----------------------------------------------------------------------------

def usager_label(access: PortalAccess) -> str:
    u = access.usager
    return f"{u.prenom_utilise or u.premier_prenom_naissance} {u.nom_utilise or u.nom_naissance}"


def agenda(session, access: PortalAccess, start: dt.date, days: int = 31) -> list[dict]:
    """The usager's events from `start`: detail only of the portal's categories, else
    "Rendez-vous" (or "Absence"…) and the time; never who else takes part."""
    from . import agenda as agenda_service

    begin = agenda_service.local_day_start(start)
    end = agenda_service.local_day_start(start + dt.timedelta(days=days))
    readable = categories()
    out = []
    for occ in agenda_service.occurrences(session, begin, end, usager_id=access.usager_id):
        event = occ.event
        detail = event.sensitivity in readable
        out.append({"debut": occ.start, "fin": occ.end, "jour": clock.local(occ.start).date(),
                    "journee": event.all_day, "annule": occ.cancelled,
                    "titre": event.titre if detail else agenda_service.masked_title(event),
                    "lieu": event.lieu if detail else None, "masque": not detail})
    return out


def projet(session, access: PortalAccess) -> dict | None:
    """The latest signed PP: its objectives of its own category (easy-read wording when
    written), and whether its easy-read PDF exists. None if none signed or of another category."""
    pp = session.execute(select(ProjetPersonnalise).where(
        ProjetPersonnalise.usager_id == access.usager_id, ProjetPersonnalise.archived_at.is_(None),
        ProjetPersonnalise.statut.in_(("signe", "evalue")))
        .order_by(ProjetPersonnalise.date_debut.desc(), ProjetPersonnalise.numero.desc())).scalars().first()
    if pp is None or pp.sensitivity not in categories():
        return None
    from .projets import kept_pdf

    objectifs = [{"texte": o.libelle_falc or o.libelle, "facile": bool(o.libelle_falc)}
                 for o in session.execute(select(ProjetObjectif).where(
                     ProjetObjectif.projet_id == pp.id, ProjetObjectif.sensitivity == pp.sensitivity)
                     .order_by(ProjetObjectif.position, ProjetObjectif.id)).scalars()]
    return {"projet": pp, "objectifs": objectifs, "falc": kept_pdf(pp, falc=True) is not None,
            "pdf": kept_pdf(pp, falc=False) is not None}


def projet_pdf(session, access: PortalAccess):
    """(path, download name) of the signed PP's easy-read PDF, or the plain one when there is
    no easy-read version; None when neither."""
    shown = projet(session, access)
    if shown is None:
        return None
    from .projets import kept_pdf

    pp = shown["projet"]
    path = kept_pdf(pp, falc=True) or kept_pdf(pp, falc=False)
    if path is None:
        return None
    easy = kept_pdf(pp, falc=True) is not None
    return path, f"projet-personnalise-v{pp.numero}{'-facile-a-lire' if easy else ''}.pdf"


def _granted_types(access: PortalAccess) -> list[str]:
    return [d[len(DOCUMENT_RIGHT):] for d in access.droits or [] if d.startswith(DOCUMENT_RIGHT)]


def documents(session, access: PortalAccess) -> list[Document]:
    codes = _granted_types(access)
    if not codes:
        return []
    return list(session.execute(
        select(Document).join(TypeDocument, TypeDocument.id == Document.type_id)
        .where(Document.usager_id == access.usager_id, Document.archived_at.is_(None),
               TypeDocument.code.in_(codes), Document.categorie.in_(sorted(categories())))
        .order_by(Document.date_document.desc().nulls_last(), Document.id.desc())).scalars())


def document(session, access: PortalAccess, document_id) -> Document | None:
    return next((d for d in documents(session, access) if d.id == document_id), None)


def coordonnees(session, access: PortalAccess) -> dict:
    u = access.usager
    person = {"telephone": u.telephone_mobile or u.telephone_fixe, "email": u.email, "adresse": u.adresse,
              "code_postal": u.code_postal, "commune": u.commune}
    contact = access.contact
    own = None
    if contact is not None:
        own = {"nom": f"{contact.prenom or ''} {contact.nom}".strip(), "lien": contact.lien,
               "telephone": contact.telephone, "email": contact.email, "adresse": contact.adresse}
    return {"usager": person, "contact": own}


def _staff_labels(session, user_ids, etablissement_ids) -> dict[int, dict]:
    """user id → {"prenom", "nom", "role", "service"} (service: in the usager's établissements)."""
    if not user_ids:
        return {}
    users = session.execute(select(User).where(User.id.in_(sorted(user_ids)))).unique().scalars().all()
    rows = session.execute(select(StaffAssignment.user_id, Service.name, Etablissement.name)
                           .select_from(StaffAssignment)
                           .join(Etablissement, Etablissement.id == StaffAssignment.etablissement_id)
                           .outerjoin(Service, Service.id == StaffAssignment.service_id)
                           .where(StaffAssignment.user_id.in_(sorted(user_ids)),
                                  StaffAssignment.etablissement_id.in_(sorted(etablissement_ids or [-1]))),
                           execution_options={UNSCOPED: True}).all()
    places: dict[int, str] = {}
    for uid, service, etab in rows:
        places.setdefault(uid, service or etab)
    return {u.id: {"prenom": u.first_name, "nom": f"{u.first_name} {u.last_name}".strip(),
                   "role": ", ".join(sorted(r.name for r in u.roles)), "service": places.get(u.id)}
            for u in users}


def consultations(session, access: PortalAccess, limit: int = 50) -> list[dict]:
    """Who opened the dossier: date, service and role (and name when the setting says so),
    newest first; portal readers as "Portail — <lien>"."""
    from .audit_log import about

    events = session.execute(select(AuditEvent.at, AuditEvent.user_id, AuditEvent.username, AuditEvent.details)
                             .where(about(access.usager_id), AuditEvent.action == "read")
                             .order_by(AuditEvent.id.desc()).limit(500)).all()
    etabs = set(session.execute(select(Admission.etablissement_id).where(Admission.usager_id == access.usager_id),
                                execution_options={UNSCOPED: True}).scalars())
    labels = _staff_labels(session, {e.user_id for e in events if e.user_id}, etabs)
    names = current_app.config["SILLAGE_PORTAIL_NOMS_PERSONNEL"]
    out, seen = [], set()
    for e in events:
        day = clock.local(e.at).date()
        portal = (e.details or {}).get("portail") if isinstance(e.details, dict) else None
        if portal:
            key = ("p", portal.get("compte"), day)
            who = {"service": _("Portail — %(l)s", l=portal.get("lien") or ""), "role": "", "nom": None}
        elif e.user_id:
            key = ("u", e.user_id, day)
            label = labels.get(e.user_id, {})
            who = {"service": label.get("service") or "—", "role": label.get("role") or "—",
                   "nom": label.get("nom") if names else None}
        else:
            continue
        if key in seen:  # one line per reader and day
            continue
        seen.add(key)
        out.append({"le": e.at, **who})
        if len(out) >= limit:
            break
    return out


# --- messages --------------------------------------------------------------------------------------

def current_service_id(session, usager_id: int) -> int | None:
    """The service of the usager's current admission (the latest one begun), or None."""
    return session.execute(select(Admission.service_id).where(
        Admission.usager_id == usager_id, Admission.archived_at.is_(None), Admission.date_sortie.is_(None),
        Admission.service_id.is_not(None)).order_by(Admission.date_entree.desc(), Admission.id.desc()),
        execution_options={UNSCOPED: True}).scalars().first()


def _etablissement_team(session, service_id: int) -> dict[int, int]:
    """A service without members of its own: its inbox reaches the staff assigned to its whole
    établissement whose role reads the dossiers and the messaging (an établissement-wide
    assignment covers each of its services)."""
    from ..security.roles import MATRIX, READ

    roles = sorted(r for r, rights in MATRIX.items() if READ in rights.get("Usager", ()) and READ in
                   rights.get("Message", ()) and r != "Administrateur")
    etab = session.execute(select(Service.etablissement_id).where(Service.id == service_id),
                           execution_options={UNSCOPED: True}).scalar()
    users = session.execute(select(StaffAssignment.user_id).where(
        StaffAssignment.etablissement_id == etab, StaffAssignment.service_id.is_(None)),
        execution_options={UNSCOPED: True}).scalars().all()
    if not users:
        return {}
    with_role = session.execute(select(User).where(User.id.in_(sorted(set(users))))).unique().scalars().all()
    return {u.id: service_id for u in with_role if any(r.name in roles for r in u.roles)}


def threads(session, access: PortalAccess) -> list[dict]:
    """The account's threads about this usager, newest first, with their messages; staff named
    by first name and role only."""
    rows = session.execute(select(MessageThread.id, MessageThread.sujet, MessageThread.last_message_at).where(
        MessageThread.usager_id == access.usager_id, MessageThread.portal_account_id == access.account_id)
        .order_by(MessageThread.last_message_at.desc()), execution_options={UNSCOPED: True}).all()
    if not rows:
        return []
    ids = [r.id for r in rows]
    messages = session.execute(select(Message.id, Message.thread_id, Message.author_id, Message.portal_author_id,
                                      Message.texte, Message.created_at)
                               .where(Message.thread_id.in_(ids)).order_by(Message.created_at, Message.id),
                               execution_options={UNSCOPED: True}).all()
    etabs = set(session.execute(select(Admission.etablissement_id).where(Admission.usager_id == access.usager_id),
                                execution_options={UNSCOPED: True}).scalars())
    staff = _staff_labels(session, {m.author_id for m in messages if m.author_id}, etabs)
    out = []
    for r in rows:
        out.append({"id": r.id, "sujet": r.sujet, "dernier": r.last_message_at, "messages": [
            {"texte": m.texte, "le": m.created_at, "moi": m.portal_author_id == access.account_id,
             "auteur": _("Vous") if m.portal_author_id == access.account_id else
             (f"{staff.get(m.author_id, {}).get('prenom') or ''} ({staff.get(m.author_id, {}).get('role') or ''})"
              if m.author_id else _("Portail"))}
            for m in messages if m.thread_id == r.id]})
    return out


def owns_thread(session, access: PortalAccess, thread_id) -> bool:
    """Is this thread one of the account's about this usager? (Another account's thread, even
    about the same usager, is not: the web answers 404, like any id outside one's reach.)"""
    return isinstance(thread_id, int) and session.execute(select(MessageThread.id).where(
        MessageThread.id == thread_id, MessageThread.usager_id == access.usager_id,
        MessageThread.portal_account_id == access.account_id), execution_options={UNSCOPED: True}).first() is not None


def write(session, access: PortalAccess, *, sujet=None, texte=None, thread_id=None) -> int:
    """A new thread to the inbox of the usager's current service, or a reply in one of the
    account's threads about this usager: the thread id. The team answers from the internal
    messaging."""
    from .messages import _service_members, notify

    errors = {}
    if not isinstance(texte, str) or not texte.strip():
        errors["texte"] = _("Ce champ est obligatoire.")
    elif len(texte) > MAX_TEXT or "\x00" in texte:
        errors["texte"] = _("%(n)s caractères au plus.", n=MAX_TEXT)
    now = utcnow()
    if thread_id is not None:
        if not owns_thread(session, access, thread_id):
            errors["thread_id"] = _("Conversation introuvable.")
        if errors:
            raise ValidationFailed(errors)
        session.add(Message(thread_id=thread_id, author_id=None, portal_author_id=access.account_id,
                            texte=texte.strip(), created_at=now))
        session.execute(update(MessageRecipient).where(MessageRecipient.thread_id == thread_id)
                        .values(read_at=None, archived_at=None), execution_options={"synchronize_session": False})
        session.execute(update(MessageThread).where(MessageThread.id == thread_id).values(last_message_at=now),
                        execution_options={"synchronize_session": False})
        members = session.execute(select(User.email).join(MessageRecipient, MessageRecipient.user_id == User.id)
                                  .where(MessageRecipient.thread_id == thread_id)).scalars().all()
        session.commit()
        notify(members)
        return thread_id
    if not isinstance(sujet, str) or not sujet.strip():
        errors["sujet"] = _("Ce champ est obligatoire.")
    elif len(sujet) > 200 or "\x00" in sujet:
        errors["sujet"] = _("%(n)s caractères au plus.", n=200)
    service_id = current_service_id(session, access.usager_id)
    members = _service_members(session, [service_id]) if service_id else {}
    if service_id and not members:
        members = _etablissement_team(session, service_id)
    if not errors and not members:
        errors["texte"] = _("Aucun service ne reçoit de messages pour ce dossier : contactez la structure par "
                            "téléphone.")
    if errors:
        raise ValidationFailed(errors)
    users = session.execute(select(User).where(User.id.in_(sorted(members)), User.active.is_(True))).unique() \
        .scalars().all()
    thread = MessageThread(sujet=sujet.strip(), usager_id=access.usager_id, created_by_id=None,
                           portal_account_id=access.account_id, created_at=now, last_message_at=now)
    for user in users:
        thread.recipients.append(MessageRecipient(user_id=user.id, service_id=members[user.id]))
    thread.messages.append(Message(author_id=None, portal_author_id=access.account_id, texte=texte.strip(),
                                   created_at=now))
    session.add(thread)
    session.commit()
    notify([u.email for u in users])
    return thread.id


# --- RGPD requests ------------------------------------------------------------------------------

RGPD_KINDS = ("acces", "rectification", "effacement")


def rgpd_request(session, access: PortalAccess, kind: str, texte: str):
    """A request of access, rectification or erasure, into the DPO's queue (services/rgpd.py)."""
    texte = (texte or "").strip() if isinstance(texte, str) else ""
    errors = {}
    if kind not in RGPD_KINDS:
        errors["type"] = _("Choisissez le type de demande.")
    if kind in ("rectification", "effacement") and not texte:
        errors["texte"] = _("Décrivez votre demande.")
    if len(texte) > 4000:
        errors["texte"] = _("%(n)s caractères au plus.", n=4000)
    if errors:
        raise ValidationFailed(errors)
    account = access.account
    who = f"{account.display_name} ({lien(access)}, {_('portail')})"[:200]
    if kind == "acces":
        contact_roles = set((access.contact.roles or []) if access.contact else [])
        qualite = "personne" if access.contact_id is None else (
            "representant_legal" if contact_roles & {"representant_legal", PARENT_ROLE, TUTOR_ROLE} else "autre")
        req = AccessRequest(usager_id=access.usager_id, requested_by=who, qualite=qualite, received_on=clock.today(),
                            recorded_by_id=None, portal_account_id=account.id)
    elif kind == "rectification":
        req = RectificationRequest(usager_id=access.usager_id, requested_by=who, content=texte,
                                   recorded_by_id=None, portal_account_id=account.id)
    else:
        pending = session.execute(select(ErasureRequest.id).where(
            ErasureRequest.usager_id == access.usager_id, ErasureRequest.status == "attente"),
            execution_options={UNSCOPED: True}).first()
        if pending:
            raise ValidationFailed({"type": _("Une demande d'effacement est déjà en attente pour ce dossier.")})
        req = ErasureRequest(usager_id=access.usager_id, reason=_("Demande reçue par le portail (%(w)s) : %(t)s",
                                                                   w=who, t=texte)[:4000],
                             requested_by_id=None, portal_account_id=account.id)
    session.add(req)
    session.commit()
    return req


# --- the structure's side -----------------------------------------------------------------------

def accesses_of(session, usager_id: int) -> list[PortalAccess]:
    """Every access and invitation of this usager (the staff page and the API); those whose role
    ended are ended on the way."""
    found = list(session.execute(select(PortalAccess).where(PortalAccess.usager_id == usager_id)
                                 .order_by(PortalAccess.id.desc())).scalars())
    for access in found:
        check_access(session, access)
    return found


def status(access: PortalAccess) -> str:
    if access.revoked_at:
        return "revoque"
    if access.ended_at:
        return "termine"
    if access.accepted_at:
        return "actif"
    if access.token_expires_at <= utcnow():
        return "lien_expire"
    return "invite"


STATUS_LABELS = {"revoque": _l("Révoqué"), "termine": _l("Terminé"), "actif": _l("Actif"),
                 "lien_expire": _l("Lien expiré"), "invite": _l("Invitation envoyée")}


def revoke(session, access: PortalAccess, user_id: int) -> None:
    if access.revoked_at is None:
        access.revoked_at, access.revoked_by_id, access.token_hash = utcnow(), user_id, None
        session.commit()


def _account_of(access: PortalAccess) -> PortalAccount:
    if access.account is None:
        raise ValidationFailed({"acces": _("Cette invitation n'a pas encore été acceptée : aucun compte.")})
    return access.account


def reset_account(session, access: PortalAccess, *, user_id: int, base_url: str) -> str:
    """Recovery of a person who lost their second factor (phone, mailbox): the account's
    password and second factor stop working at once, every portal session of the account ends
    (a new `session_stamp`), and a one-use link (only its SHA-256 kept) valid
    SILLAGE_PORTAIL_LIEN_JOURS days lets them choose a new password and enrol a new second
    factor. The structure reaches the account through one of its accesses (the usager's scope);
    the account is one person's, so its other accesses follow. The URL is shown once, never
    audited."""
    account = _account_of(access)
    if account.disabled_at is not None:
        raise ValidationFailed({"acces": _("Le compte est désactivé : réactivez-le d'abord.")})
    raw = secrets.token_urlsafe(32)
    days = current_app.config["SILLAGE_PORTAIL_LIEN_JOURS"]
    account.reset_token_hash, account.reset_expires_at = _digest(raw), utcnow() + dt.timedelta(days=days)
    account.password = generate_password_hash(secrets.token_urlsafe(32))  # (nobody knows it)
    account.totp_secret = account.totp_last_step = None
    account.email_code_hash = account.email_code_expires_at = None
    account.session_stamp = secrets.token_hex(16)
    session.commit()
    record_event("portail_compte_reinitialise", entity="PortalAccount", entity_id=account.id,
                 usager_id=access.usager_id, details={"acces": access.id})
    url = f"{base_url.rstrip('/')}/portail/reinitialisation/{raw}"
    send_mail(account.email, _("Réinitialisation de votre accès à l'espace famille"),
              _("La structure a réinitialisé votre accès au portail. Choisissez un nouveau mot de passe et un "
                "nouveau second facteur avec ce lien, qui ne sert qu'une fois et expire dans %(n)s jours :\n"
                "%(url)s\n", n=days, url=url))
    return url


def set_account_disabled(session, access: PortalAccess, *, disabled: bool) -> PortalAccount:
    """Disable (no sign-in, every session ends at its next request, a pending recovery link
    dies) or re-enable the account of this access; audited."""
    account = _account_of(access)
    if disabled and account.disabled_at is None:
        account.disabled_at = utcnow()
        account.session_stamp = secrets.token_hex(16)
        account.reset_token_hash = account.reset_expires_at = None
        action = "portail_compte_desactive"
    elif not disabled and account.disabled_at is not None:
        account.disabled_at = None
        action = "portail_compte_reactive"
    else:
        return account
    session.commit()
    record_event(action, entity="PortalAccount", entity_id=account.id, usager_id=access.usager_id,
                 details={"acces": access.id})
    return account


def account_for_reset_token(session, raw: str) -> PortalAccount | None:
    """The account of a pending recovery link (unused, not expired, account not disabled)."""
    if not isinstance(raw, str) or not 20 <= len(raw) <= 100:
        return None
    account = session.execute(select(PortalAccount).where(PortalAccount.reset_token_hash == _digest(raw))) \
        .scalar_one_or_none()
    if account is None or account.disabled_at is not None or account.reset_expires_at is None \
            or account.reset_expires_at <= utcnow():
        return None
    return account


def complete_reset(session, account: PortalAccount, *, password, confirm, second_factor, totp_secret=None,
                   code=None, email_code_ok=False) -> PortalAccount:
    """The person's side of a recovery link: a new password (the project's rule) and a new
    second factor, checked like at sign-up; the link is spent."""
    errors = check_password_rule(password, confirm, (account.email.split("@")[0], account.nom))
    holder = PortalAccount(totp_secret=totp_secret, totp_last_step=None)
    errors.update(new_second_factor_problems(holder, second_factor, code, email_code_ok))
    if errors:
        raise ValidationFailed(errors)
    account.password = generate_password_hash(password)
    account.second_factor = second_factor
    account.totp_secret = totp_secret if second_factor == "totp" else None
    account.totp_last_step = holder.totp_last_step if second_factor == "totp" else None
    account.reset_token_hash = account.reset_expires_at = None
    account.session_stamp = secrets.token_hex(16)
    account.last_login_at = utcnow()
    session.commit()
    record_event("portail_reinit_terminee", user_id=None, username=actor_name(account),
                 entity="PortalAccount", entity_id=account.id)
    return account


def account_state(access: PortalAccess) -> str | None:
    """The account's state as the staff page shows it: None (no account yet), "desactive",
    "reinitialisation" (a recovery link pending), "actif"."""
    account = access.account
    if account is None:
        return None
    if account.disabled_at is not None:
        return "desactive"
    if account.reset_token_hash is not None:
        return "reinitialisation"
    return "actif"


ACCOUNT_LABELS = {"desactive": _l("Compte désactivé"), "reinitialisation": _l("Réinitialisation en attente"),
                  "actif": _l("Compte actif")}


def as_dict(access: PortalAccess) -> dict:
    contact = access.contact
    return {"id": access.id, "usager_id": access.usager_id, "contact_id": access.contact_id,
            "personne": (f"{contact.prenom or ''} {contact.nom}".strip() if contact else None),
            "lien": contact.lien if contact else None, "email": access.email, "droits": list(access.droits or []),
            "statut": status(access), "invite_le": access.invited_at.isoformat(),
            "lien_expire_le": access.token_expires_at.isoformat(),
            "expire_le": access.expire_le.isoformat() if access.expire_le else None,
            "accepte_le": access.accepted_at.isoformat() if access.accepted_at else None,
            "revoque_le": access.revoked_at.isoformat() if access.revoked_at else None,
            "termine_le": access.ended_at.isoformat() if access.ended_at else None,
            "motif_fin": access.end_reason, "compte": account_state(access)}


def erase_for_usager(session, usager_id: int) -> list:
    """Anonymisation: the person's portal accesses go (the accounts stay, with their other
    accesses; messages and requests are erased with the dossier)."""
    ids = list(session.execute(select(PortalAccess.id).where(PortalAccess.usager_id == usager_id),
                               execution_options={UNSCOPED: True}).scalars())
    if ids:
        session.execute(delete(PortalAccess).where(PortalAccess.id.in_(ids)),
                        execution_options={"synchronize_session": False})
    return [["PortalAccess", i] for i in ids]


def export_rows(session, usager_id: int) -> list[dict]:
    """The RGPD export's list of portal accesses (who may see what of the dossier)."""
    return [as_dict(a) for a in session.execute(select(PortalAccess).where(PortalAccess.usager_id == usager_id)
                                                .order_by(PortalAccess.id)).scalars()]
