"""Organisation records: their validation (shared by the FAB views and the REST API) and the
lists that pages offer to choose from."""
from typing import NamedTuple

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import contains_eager, lazyload

from ..domain import identity
from ..models import Etablissement, Service
from ..security import stamp
from ..security.scope import current_scope


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


class Choice(NamedTuple):
    """One entry of a choice list: what a page needs of an établissement or a service."""
    id: int
    name: str

    def __str__(self):
        return self.name


def etablissements(session, include_archived=True) -> list[Choice]:
    """The établissements the user sees (the scope filters), by name, for a choice list."""
    def load():
        query = select(Etablissement).options(lazyload(Etablissement.categorie)).order_by(Etablissement.name)
        if not include_archived:
            query = query.where(Etablissement.archived_at.is_(None))
        return tuple(Choice(e.id, e.name) for e in session.execute(query).scalars())

    return list(_cached_for_places(session, ("etablissements", include_archived), load))


def services(session, include_archived=True) -> list[Choice]:
    """The services the user sees, by établissement then name, each named with its
    établissement (from the same join rather than a second one)."""
    def load():
        query = (select(Service).join(Service.etablissement)
                 .options(contains_eager(Service.etablissement).lazyload(Etablissement.categorie))
                 .order_by(Etablissement.name, Service.name))
        if not include_archived:
            query = query.where(Service.archived_at.is_(None))
        return tuple(Choice(s.id, str(s)) for s in session.execute(query).scalars())

    return list(_cached_for_places(session, ("services", include_archived), load))


def _cached_for_places(session, key, load):
    """Kept per process until the security stamp moves (établissements and services move it),
    for users of the same places: the list is still read through the scope, once per places."""
    scope = current_scope()
    if scope is None:
        return load()
    places = (scope.sees_all, scope.etablissement_ids, scope.service_ids, scope.service_etablissement_ids)
    return stamp.cached(session, ("choices", *key, places), load)


LOGO_MAX_BYTES = 200 * 1024
LOGO_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}


def set_logo(etablissement: Etablissement, filename: str, data: bytes) -> None:
    """The letterhead logo, checked like any upload (its bytes must be a PNG or JPEG, no active
    content), small enough to travel in every PDF. ValueError with a French message otherwise."""
    import tempfile
    from pathlib import Path

    from . import attachments

    suffix = Path(filename or "").suffix.lower()
    if suffix not in LOGO_TYPES:
        raise ValueError(_("Logo : une image PNG ou JPEG."))
    if len(data) > LOGO_MAX_BYTES:
        raise ValueError(_("Logo : %(n)s Ko au plus.", n=LOGO_MAX_BYTES // 1024))
    with tempfile.NamedTemporaryFile(suffix=suffix) as tmp:
        tmp.write(data)
        tmp.flush()
        problem = attachments.content_problem(Path(tmp.name), suffix, allow_macros=False)
    if problem:
        raise ValueError(_("Logo : %(p)s", p=problem))
    etablissement.logo, etablissement.logo_mime = data, LOGO_TYPES[suffix]
