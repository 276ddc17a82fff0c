"""Foyers and their contact persons: edited once, seen from every usager of the foyer."""
from flask_babel import gettext as _

from ..domain import identity, vocab
from ..models import ContactPerson, Foyer, Usager
from .concurrency import check_version
from .errors import ValidationFailed
from .usagers import _clean, commit_or_stale

FOYER_FIELDS = ("libelle", "adresse", "code_postal", "commune", "commentaire")
CONTACT_FIELDS = ("nom", "prenom", "lien", "roles", "telephone", "email", "adresse")


def save_foyer(session, data: dict, foyer: Foyer | None = None, expected_version=None,
               member: Usager | None = None) -> Foyer:
    values = _clean({f: data.get(f) for f in FOYER_FIELDS})
    if not values.get("libelle"):
        raise ValidationFailed({"libelle": _("Donnez un nom au foyer (ex. « Famille Martin »).")})
    if len(values["libelle"]) > 200:
        raise ValidationFailed({"libelle": _("%(n)s caractères au plus.", n=200)})
    if foyer is None:
        foyer = Foyer(**values)
        session.add(foyer)
        if member is not None:
            member.foyer = foyer
    else:
        check_version(session, foyer, expected_version)
        for key, value in values.items():
            setattr(foyer, key, value)
    commit_or_stale(session, foyer, expected_version or 1)
    return foyer


def join_foyer(session, usager: Usager, foyer: Foyer | None, expected_version) -> None:
    """Attach the usager to an existing foyer (siblings), or detach with foyer=None."""
    check_version(session, usager, expected_version)
    usager.foyer = foyer
    commit_or_stale(session, usager, expected_version)


def save_contact(session, foyer: Foyer, data: dict, contact: ContactPerson | None = None,
                 expected_version=None) -> ContactPerson:
    values = _clean({f: data.get(f) for f in CONTACT_FIELDS})
    errors = {}
    if not values.get("nom"):
        errors["nom"] = _("Ce champ est obligatoire.")
    roles = values.get("roles") or []
    if isinstance(roles, str):
        roles = [roles]
    if any(r not in vocab.ROLE_CONTACT for r in roles):
        errors["roles"] = _("Rôle non reconnu.")
    values["roles"] = list(dict.fromkeys(roles))
    values["telephone"], message = identity.normalize_phone(values.get("telephone"))
    if message:
        errors["telephone"] = message
    values["email"], message = identity.normalize_email(values.get("email"))
    if message:
        errors["email"] = message
    for field, length in (("nom", 100), ("prenom", 100), ("lien", 60), ("adresse", 250)):
        if values.get(field) and len(values[field]) > length:
            errors[field] = _("%(n)s caractères au plus.", n=length)
    if errors:
        raise ValidationFailed(errors)
    if contact is None:
        contact = ContactPerson(foyer=foyer, **values)
        session.add(contact)
    else:
        check_version(session, contact, expected_version)
        for key, value in values.items():
            setattr(contact, key, value)
    commit_or_stale(session, contact, expected_version or 1)
    return contact
