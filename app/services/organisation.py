"""Organisation records: their validation (shared by the FAB views and the REST API) and the
lists that pages offer to choose from."""
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import contains_eager, lazyload

from ..domain import identity
from ..models import Etablissement, Service


def organisation_errors(obj) -> dict:
    """Field errors of an Organisme or Etablissement about to be saved."""
    errors = {}
    if hasattr(obj, "siren") and (message := identity.check_siren(obj.siren)):
        errors["siren"] = message
    if hasattr(obj, "finess") and (message := identity.check_finess(obj.finess)):
        errors["finess"] = message
    if not (obj.name or "").strip():
        errors["name"] = _("Ce champ est obligatoire.")
    for column in type(obj).__table__.columns:
        length = getattr(column.type, "length", None)
        value = getattr(obj, column.key, None)
        if length and isinstance(value, str) and len(value) > length:
            errors[column.key] = _("%(n)s caractères au plus.", n=length)
    return errors


def etablissements(session, include_archived=True) -> list[Etablissement]:
    """The établissements the user sees (the scope filters), by name, for a choice list."""
    query = select(Etablissement).options(lazyload(Etablissement.categorie)).order_by(Etablissement.name)
    if not include_archived:
        query = query.where(Etablissement.archived_at.is_(None))
    return list(session.execute(query).scalars())


def services(session, include_archived=True) -> list[Service]:
    """The services the user sees, by établissement then name, each with its établissement
    (named in the label) from the same join rather than a second one."""
    query = (select(Service).join(Service.etablissement)
             .options(contains_eager(Service.etablissement).lazyload(Etablissement.categorie))
             .order_by(Etablissement.name, Service.name))
    if not include_archived:
        query = query.where(Service.archived_at.is_(None))
    return list(session.execute(query).scalars())
