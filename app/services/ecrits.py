"""Écrits professionnels (comptes rendus, reports): write a draft with co-authors, submit it,
validate or refuse it, diffuse it; the validated écrit is locked and its PDF stored among the
dossier's documents with the version it was made from.

Rules (reference: écrits professionnels): an écrit is dated and signed by its authors and never
silently changed — every save of its content is kept as a version; reports that leave the
structure are validated by the chef de service or the direction first. Each type of écrit (the
référentiel `TypeEcrit`) says whether it needs validation and which roles validate it; whoever
wrote an écrit does not validate it (four eyes), even in a validating role.
The rows loaded pass through the scope hook (app/security/scope.py): an écrit of another
établissement, or of a category the user may not read, does not exist for them.
"""
from __future__ import annotations

import io

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, or_, select
from werkzeug.datastructures import FileStorage

from ..domain import clock, ecrits as text
from ..models import Admission, Ecrit, EcritVersion, TypeEcrit, User, Usager
from ..models.base import utcnow
from ..security.roles import CATEGORIES
from ..security.scope import constant
from sqlalchemy.orm.exc import StaleDataError

from .concurrency import changes_since, check_version
from .errors import ServiceError, StaleVersion, ValidationFailed
from .usagers import commit_or_stale

STATUTS = {"brouillon": _l("Brouillon"), "soumis": _l("Soumis à validation"), "valide": _l("Validé"),
           "diffuse": _l("Diffusé")}
EDITABLE = ("brouillon", "soumis")
MAX_TITLE = 200


class WrongState(ServiceError):
    """The écrit is not in the state this act needs (the API answers 409)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotAllowed(ServiceError):
    """The user may see the écrit but not do this act to it (the API answers 403)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --- référentiel -----------------------------------------------------------------------------------

def types(session, active_only=True) -> list[TypeEcrit]:
    query = select(TypeEcrit).order_by(TypeEcrit.position, TypeEcrit.label)
    if active_only:
        query = query.where(TypeEcrit.active.is_(True))
    return list(session.execute(query).scalars())


def type_by_code(session, code) -> TypeEcrit | None:
    if not isinstance(code, str) or not code:
        return None
    return session.execute(select(TypeEcrit).where(TypeEcrit.code == code, TypeEcrit.active.is_(True))
                           ).scalar_one_or_none()


# --- reading ---------------------------------------------------------------------------------------

_ECRITS = constant(select(Ecrit).where(Ecrit.usager_id == bindparam("usager_id"))
                   .order_by(Ecrit.created_at.desc(), Ecrit.id.desc()))
_ECRITS_FIRST = constant(_ECRITS.limit(bindparam("limit")))


def ecrits_of(session, usager_id: int, limit: int | None = None) -> list[Ecrit]:
    """The person's écrits the user may read, newest first (`limit`: the dossier's panel reads
    only what it shows, however many the person has)."""
    if limit is None:
        return list(session.execute(_ECRITS, {"usager_id": usager_id}).scalars())
    return list(session.execute(_ECRITS_FIRST, {"usager_id": usager_id, "limit": limit}).scalars())


def ecrit_of(session, usager_id: int, ecrit_id: int) -> Ecrit | None:
    ecrit = session.get(Ecrit, ecrit_id)
    return ecrit if ecrit is not None and ecrit.usager_id == usager_id else None


def role_names(user) -> set[str]:
    return {r.name for r in getattr(user, "roles", ())}


def is_author(user, ecrit: Ecrit) -> bool:
    return user is not None and user.id in ecrit.author_ids


def may_validate(user, ecrit: Ecrit) -> bool:
    """A role the type names, and not one of its authors (four eyes)."""
    return bool(role_names(user) & set(ecrit.type.validating_roles)) and not is_author(user, ecrit)


def may_edit(user, ecrit: Ecrit, scope) -> bool:
    """Its authors while it is a draft or submitted; its validators while it is submitted (they
    correct before validating); never once validated. And only in a category the user writes."""
    if ecrit.statut not in EDITABLE or (scope is not None and not scope.writes(ecrit.sensitivity)):
        return False
    return is_author(user, ecrit) or (ecrit.statut == "soumis" and may_validate(user, ecrit))


def to_validate(session, user) -> list[Ecrit]:
    """Submitted écrits the user may validate (in their scope, of a category they read)."""
    rows = session.execute(select(Ecrit).where(Ecrit.statut == "soumis").order_by(Ecrit.submitted_at)).scalars()
    return [e for e in rows if may_validate(user, e)]


def worklist_rows(session, user_id: int) -> list[dict]:
    """Home work list « Écrits à valider »."""
    user = session.get(User, user_id)
    return [{"usager": e.usager, "cells": (e.usager.display_name, e.type.label, e.titre, e.submitted_at)}
            for e in to_validate(session, user) if e.usager is not None]


# --- writing ---------------------------------------------------------------------------------------

def form_of(session, type_: TypeEcrit | None):
    """The published form definition (kind « ecrit ») an écrit of this type can be built from:
    the one whose code is the type's code, if the quality officer published one."""
    from . import forms

    if type_ is None:
        return None
    return next((d for d in forms.published(session, "ecrit") if d.code == type_.code), None)


def composed_text(session, type_: TypeEcrit | None, answers, errors: dict) -> str | None:
    """The text of an écrit built from its type's form: the answers checked by the forms engine
    (required, conditions, constraints: French messages per field, under their codes), then
    written out section by section (each answered field, label then value) as the écrit's
    starting text, which its authors reread and complete."""
    from markupsafe import escape

    from ..domain.forms.display import readable_answers
    from . import forms

    definition = form_of(session, type_)
    if definition is None:
        errors["reponses"] = _("Ce type d'écrit n'a pas de formulaire.")
        return None
    if not isinstance(answers, dict):
        errors["reponses"] = _("Réponses attendues (objet par code de champ).")
        return None
    result = forms.compute(session, definition.code, answers, definition.version)
    if result.errors:
        errors.update({code: message if isinstance(message, str) else ", ".join(map(str, message))
                       for code, message in result.errors.items()})
        return None
    shown = dict(readable_answers(definition.data, result.answers))
    parts = []
    for section in definition.data.get("sections", []):
        lines = [(f.get("label") or f["code"], shown[f.get("label") or f["code"]])
                 for f in section.get("items", []) if (f.get("label") or f["code"]) in shown]
        if lines:
            parts.append(f"<h2>{escape(section.get('title') or '')}</h2>")
            parts += [f"<p><strong>{escape(label)}</strong> : {escape(value)}</p>" for label, value in lines]
    return text.sanitise("\n".join(parts))


def _content(values: dict, errors: dict, current: Ecrit | None = None) -> dict:
    out = {}
    if "titre" in values or current is None:
        titre = values.get("titre")
        if not isinstance(titre, str) or not titre.strip():
            errors["titre"] = _("Ce champ est obligatoire.")
        elif len(titre.strip()) > MAX_TITLE or "\x00" in titre:
            errors["titre"] = _("%(n)s caractères au plus.", n=MAX_TITLE)
        else:
            out["titre"] = titre.strip()
    for key, convert in (("contenu", text.sanitise), ("texte", text.from_text)):
        if key in values and not (values[key] is None and len({"contenu", "texte"} & set(values)) == 2):
            value = values[key]
            if value is not None and not isinstance(value, str):
                errors[key] = _("Texte attendu.")
            elif value and (len(value) > text.MAX_CHARS or "\x00" in value):
                errors[key] = _("Texte trop long (%(n)s caractères au plus).", n=text.MAX_CHARS)
            else:
                out["contenu"] = convert(value or "")
    return out


def _category(values, type_, scope, errors, current=None):
    categorie = values.get("categorie") or (current.sensitivity if current else (type_.categorie if type_ else None))
    if categorie not in CATEGORIES:
        errors["categorie"] = _("Catégorie inconnue.")
    elif scope is not None and not scope.writes(categorie):
        errors["categorie"] = _("Vous ne pouvez pas écrire dans cette catégorie du secret partagé.")
    return categorie


def _coauthors(session, values, author_id, errors) -> list[User] | None:
    if "coauteurs" not in values:
        return None
    ids = values.get("coauteurs") or []
    if not isinstance(ids, list) or any(isinstance(i, bool) or not isinstance(i, int) for i in ids):
        errors["coauteurs"] = _("Liste d'identifiants d'utilisateurs attendue.")
        return None
    ids = [i for i in dict.fromkeys(ids) if i != author_id]
    users = list(session.execute(select(User).where(User.id.in_(ids), User.active.is_(True))).scalars()) if ids else []
    if len(users) != len(ids):
        errors["coauteurs"] = _("Un des co-auteurs n'est pas un utilisateur actif.")
    return users


def _etablissement_id(session, scope, usager: Usager, wanted, errors):
    """The établissement whose letterhead the écrit carries: one where the person is admitted
    (or followed) that the author works in; the only one, or the one asked for."""
    today = clock.today()
    query = select(Admission.etablissement_id).where(
        Admission.usager_id == usager.id, Admission.archived_at.is_(None),
        or_(Admission.date_sortie.is_(None), Admission.date_sortie >= today))
    found = list(dict.fromkeys(session.execute(query.order_by(Admission.date_entree.desc())).scalars()))
    if scope is not None and not scope.sees_all:
        found = [e for e in found if e in scope.visible_etablissement_ids]
    if wanted is not None:
        if isinstance(wanted, bool) or not isinstance(wanted, int) or wanted not in found:
            errors["etablissement_id"] = _("La personne n'est pas accompagnée dans cet établissement.")
            return None
        return wanted
    if not found:
        errors["etablissement_id"] = _("La personne n'est accompagnée dans aucun de vos établissements.")
        return None
    return found[0]


def _keep_version(ecrit: Ecrit, user_id) -> EcritVersion:
    numero = (ecrit.versions[0].numero + 1) if ecrit.versions else 1
    version = EcritVersion(usager_id=ecrit.usager_id, numero=numero, titre=ecrit.titre, contenu=ecrit.contenu,
                           sensitivity=ecrit.sensitivity, statut=ecrit.statut, saved_at=utcnow(), saved_by_id=user_id)
    ecrit.versions.insert(0, version)
    return version


def create(session, *, scope, user, usager: Usager, values: dict) -> Ecrit:
    """A new draft by `user` about `usager`: `type_code`, `titre`, `contenu` (HTML) or `texte`
    (light markup), `categorie`?, `coauteurs`? (user ids), `etablissement_id`?"""
    errors: dict = {}
    type_ = type_by_code(session, values.get("type_code"))
    if type_ is None:
        errors["type_code"] = _("Type d'écrit inconnu.")
    if "reponses" in values:  # built from the type's form: the answers make the starting text
        composed = composed_text(session, type_, values["reponses"], errors)
        values = {**values, "contenu": composed or ""}
        values.pop("texte", None)
    content = _content(values, errors)
    categorie = _category(values, type_, scope, errors)
    coauthors = _coauthors(session, values, user.id, errors)
    etablissement_id = _etablissement_id(session, scope, usager, values.get("etablissement_id"), errors)
    if errors:
        raise ValidationFailed(errors)
    ecrit = Ecrit(usager_id=usager.id, etablissement_id=etablissement_id, type=type_, titre=content["titre"],
                  contenu=content.get("contenu", ""), sensitivity=categorie, statut="brouillon", auteur_id=user.id,
                  coauteurs=coauthors or [])
    session.add(ecrit)
    _keep_version(ecrit, user.id)
    session.commit()
    return ecrit


def update(session, *, scope, user, ecrit: Ecrit, values: dict, expected_version) -> Ecrit:
    """Save the draft (any of its authors; several write it, each save checked against the
    version they started from). Every change of its text is kept as a version."""
    if ecrit.statut not in EDITABLE:
        raise WrongState(_("Cet écrit est validé : il ne peut plus être modifié."))
    if not may_edit(user, ecrit, scope):
        raise NotAllowed(_("Seuls ses auteurs modifient cet écrit."))
    check_version(session, ecrit, expected_version)
    errors: dict = {}
    content = _content(values, errors, current=ecrit)
    categorie = _category(values, ecrit.type, scope, errors, current=ecrit)
    coauthors = _coauthors(session, values, ecrit.auteur_id, errors)
    if coauthors is not None and user.id != ecrit.auteur_id and {u.id for u in coauthors} != {
            u.id for u in ecrit.coauteurs}:
        errors["coauteurs"] = _("Seul l'auteur principal choisit les co-auteurs.")
    if errors:
        raise ValidationFailed(errors)
    changed = any(getattr(ecrit, k) != v for k, v in content.items()) or categorie != ecrit.sensitivity
    for key, value in content.items():
        setattr(ecrit, key, value)
    ecrit.sensitivity = categorie
    if coauthors is not None:
        ecrit.coauteurs = coauthors
    if changed:
        _keep_version(ecrit, user.id)
    commit_or_stale(session, ecrit, expected_version)
    return ecrit


def _check(session, ecrit, expected_version):
    if expected_version not in (None, ""):
        check_version(session, ecrit, expected_version)


def submit(session, *, scope, user, ecrit: Ecrit, expected_version=None) -> Ecrit:
    """Brouillon → soumis; a type that needs no validation is validated at once (and stored)."""
    if ecrit.statut != "brouillon":
        raise WrongState(_("Seul un brouillon peut être soumis."))
    if not is_author(user, ecrit):
        raise NotAllowed(_("Seuls ses auteurs soumettent cet écrit."))
    _check(session, ecrit, expected_version)
    if not (ecrit.contenu or "").strip():
        raise ValidationFailed({"contenu": _("Écrivez le texte avant de le soumettre.")})
    ecrit.statut, ecrit.submitted_at, ecrit.submitted_by_id = "soumis", utcnow(), user.id
    if not ecrit.type.validation:
        return _validated(session, user, ecrit, expected_version)
    commit_or_stale(session, ecrit, expected_version or ecrit.version)
    return ecrit


def validate(session, *, scope, user, ecrit: Ecrit, expected_version=None) -> Ecrit:
    if ecrit.statut != "soumis":
        raise WrongState(_("Seul un écrit soumis peut être validé."))
    if not may_validate(user, ecrit):
        raise NotAllowed(_("Cet écrit est validé par : %(r)s, et pas par l'un de ses auteurs.",
                           r=", ".join(ecrit.type.validating_roles)))
    _check(session, ecrit, expected_version)
    return _validated(session, user, ecrit, expected_version)


def _validated(session, user, ecrit, expected_version) -> Ecrit:
    """Locked from now on; its PDF goes to the dossier's documents (the one upload path), with
    the number of the version it was made from."""
    from . import documents
    from .ecrit_pdf import ecrit_pdf

    ecrit.statut, ecrit.validated_at, ecrit.validated_by_id = "valide", utcnow(), user.id
    ecrit.validated_by = user
    numero = ecrit.versions[0].numero if ecrit.versions else 1
    content = ecrit_pdf(ecrit, numero)
    type_code = ecrit.type.type_document if documents.type_by_code(session, ecrit.type.type_document) else "compte_rendu"
    upload = FileStorage(stream=io.BytesIO(content), filename=f"ecrit-{ecrit.id}-v{numero}.pdf",
                         content_type="application/pdf")
    # scope=None: the validation is the authorisation to file it, whatever category the
    # validator writes; the document keeps the écrit's category (read by the same people).
    try:  # (one commit: the validation and the document, or neither)
        document = documents.upload(session, scope=None, usager=ecrit.usager, type_code=type_code,
                                    titre=_("%(t)s — %(titre)s (version %(n)s)", t=ecrit.type.label,
                                            titre=ecrit.titre, n=numero)[:200],
                                    upload=upload, user_id=user.id, date_document=clock.today(),
                                    categorie=ecrit.sensitivity)
    except StaleDataError:  # someone saved it between the check and the commit
        session.refresh(ecrit)
        raise StaleVersion(ecrit.version, changes_since(session, ecrit, int(expected_version or 0)))
    ecrit.document_id, ecrit.document_version = document.id, numero
    session.commit()
    return ecrit


def refuse(session, *, scope, user, ecrit: Ecrit, commentaire, expected_version=None) -> Ecrit:
    """Back to brouillon with the validator's comment (kept, shown to the authors)."""
    if ecrit.statut != "soumis":
        raise WrongState(_("Seul un écrit soumis peut être refusé."))
    if not may_validate(user, ecrit):
        raise NotAllowed(_("Cet écrit est validé par : %(r)s, et pas par l'un de ses auteurs.",
                           r=", ".join(ecrit.type.validating_roles)))
    if not isinstance(commentaire, str) or not commentaire.strip():
        raise ValidationFailed({"commentaire": _("Dites aux auteurs ce qui est à reprendre.")})
    if len(commentaire) > 5000:
        raise ValidationFailed({"commentaire": _("Texte trop long (%(n)s caractères au plus).", n=5000)})
    _check(session, ecrit, expected_version)
    ecrit.statut, ecrit.commentaire_refus = "brouillon", commentaire.strip()
    ecrit.refused_at, ecrit.refused_by_id = utcnow(), user.id
    commit_or_stale(session, ecrit, expected_version or ecrit.version)
    return ecrit


def diffuse(session, *, scope, user, ecrit: Ecrit, expected_version=None) -> Ecrit:
    """Validé → diffusé (sent to its addressee: the judge, the ASE, the MDPH, the family), by one
    of its authors or its validators."""
    if ecrit.statut != "valide":
        raise WrongState(_("Seul un écrit validé peut être diffusé."))
    if not (is_author(user, ecrit) or bool(role_names(user) & set(ecrit.type.validating_roles))):
        raise NotAllowed(_("Seuls ses auteurs ou ses valideurs diffusent cet écrit."))
    _check(session, ecrit, expected_version)
    ecrit.statut, ecrit.diffused_at, ecrit.diffused_by_id = "diffuse", utcnow(), user.id
    commit_or_stale(session, ecrit, expected_version or ecrit.version)
    return ecrit


# --- API shape -------------------------------------------------------------------------------------

def _iso(value):
    return value.isoformat(timespec="seconds") if value else None


def as_dict(ecrit: Ecrit, with_versions=False) -> dict:
    out = {
        "id": ecrit.id, "version": ecrit.version, "usager_id": ecrit.usager_id,
        "etablissement_id": ecrit.etablissement_id, "type_code": ecrit.type.code, "type_libelle": ecrit.type.label,
        "titre": ecrit.titre, "contenu": ecrit.contenu, "categorie": ecrit.sensitivity, "statut": ecrit.statut,
        "auteur_id": ecrit.auteur_id, "coauteurs": [u.id for u in ecrit.coauteurs],
        "commentaire_refus": ecrit.commentaire_refus, "cree_le": _iso(ecrit.created_at),
        "soumis_le": _iso(ecrit.submitted_at), "valide_le": _iso(ecrit.validated_at),
        "valide_par": ecrit.validated_by_id, "diffuse_le": _iso(ecrit.diffused_at),
        "document_id": ecrit.document_id, "document_version": ecrit.document_version,
    }
    if with_versions:
        out["versions"] = [{"numero": v.numero, "titre": v.titre, "contenu": v.contenu, "statut": v.statut,
                            "enregistre_le": _iso(v.saved_at), "par": v.saved_by_id} for v in ecrit.versions]
    return out
