"""Validation of organisation records, shared by the FAB views and the REST API."""
from flask_babel import gettext as _

from ..domain import identity


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
