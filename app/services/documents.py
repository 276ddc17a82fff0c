"""The document store (GED): upload, replace (a new version, the old ones kept), list and search,
download with the file's SHA-256 checked again, and the mandatory papers of a dossier.

Files come in through the one safe-upload path (services/attachments.py). Rows are read through
the session's scope: a document of a category the user may not read does not exist for them.
Mandatory papers: the types the référentiel marks mandatory for the établissement categories of
the usager's current admissions (CASF L.311-4: livret d'accueil, règlement de fonctionnement,
contrat de séjour or DIPC; see services/referentiels.py for the defaults).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from ..domain import clock
from ..models import Admission, Document, DocumentVersion, TypeDocument, Usager
from ..models.base import utcnow
from ..models.referentiels import type_document_obligatoire
from ..security import stamp
from ..security.roles import CATEGORIES
from ..security.scope import constant
from . import attachments
from .concurrency import check_version
from .errors import StaleVersion, ValidationFailed
from .rgpd import documents_dir

SUBDIR = "documents"
EXPIRING_DAYS = 60
STATUTS = {"present": _l("présent"), "manquant": _l("manquant"), "expire": _l("expiré")}
PREVIEWABLE = {"application/pdf", "image/png", "image/jpeg"}


class TamperedFile(Exception):
    """The stored file is no longer the one received (its SHA-256 differs) or is missing."""


def types(session, active_only=True) -> list:
    """The document types (id, code, label, categorie, expire), in their order. Every dossier
    page lists them: kept per process until the security stamp moves (a change of a type moves
    it, security/stamp.py), as plain rows that no session owns."""
    def load():
        query = (select(TypeDocument.id, TypeDocument.code, TypeDocument.label, TypeDocument.categorie,
                        TypeDocument.expire).order_by(TypeDocument.position, TypeDocument.label))
        if active_only:
            query = query.where(TypeDocument.active.is_(True))
        return session.execute(query).all()

    return stamp.cached(session, ("document_types", active_only), load)


def type_by_code(session, code) -> TypeDocument | None:
    if not isinstance(code, str) or not code:
        return None
    return session.execute(select(TypeDocument).where(TypeDocument.code == code,
                                                      TypeDocument.active.is_(True))).scalar_one_or_none()


def _check_fields(type_, titre, date_document, expire_le, categorie, scope) -> dict:
    errors = {}
    if type_ is None:
        errors["type_code"] = _("Type de document inconnu.")
    if not isinstance(titre, str) or not titre.strip():
        errors["titre"] = _("Ce champ est obligatoire.")
    elif len(titre) > 200 or "\x00" in titre:
        errors["titre"] = _("200 caractères au plus.")
    if date_document and expire_le and expire_le < date_document:
        errors["expire_le"] = _("L'expiration ne peut précéder la date du document.")
    if categorie not in CATEGORIES:
        errors["categorie"] = _("Catégorie inconnue.")
    elif scope is not None and not scope.writes(categorie):
        errors["categorie"] = _("Vous ne pouvez pas déposer de document de la catégorie « %(c)s ».",
                                c=CATEGORIES[categorie])
    return errors


def _receive(usager_id, upload) -> attachments.Received:
    if upload is None or not getattr(upload, "filename", ""):
        raise ValidationFailed({"fichier": _("Choisissez un fichier.")})
    return attachments.receive(current_app.config["SILLAGE_DATA_DIR"], usager_id, "fichier", upload, SUBDIR)


def _version(document, numero, received, user_id) -> DocumentVersion:
    version = DocumentVersion(usager_id=document.usager_id, numero=numero, sha256=received.sha256,
                              taille=received.size, type_mime=received.mime, fichier=received.reference,
                              nom_origine=received.name, uploaded_by_id=user_id, uploaded_at=utcnow())
    document.versions.insert(0, version)  # (newest first, as the relationship orders them)
    return version


def upload(session, *, scope, usager: Usager, type_code, titre, upload, user_id=None, date_document=None,
           expire_le=None, categorie=None) -> Document:
    """A new document with its first version. The file is written first and removed again if
    the record cannot be saved."""
    type_ = type_by_code(session, type_code)
    categorie = categorie or (type_.categorie if type_ else "administratif")
    errors = _check_fields(type_, titre, date_document, expire_le, categorie, scope)
    if errors:
        raise ValidationFailed(errors)
    received = _receive(usager.id, upload)
    try:
        document = Document(usager_id=usager.id, type=type_, titre=titre.strip(), date_document=date_document,
                            expire_le=expire_le, categorie=categorie, auteur_id=user_id, numero=1)
        session.add(document)
        _version(document, 1, received, user_id)
        session.commit()
    except BaseException:
        session.rollback()
        received.path.unlink(missing_ok=True)
        raise
    return document


def replace(session, *, scope, document: Document, upload, expected_version, user_id=None,
            date_document=None, expire_le=None) -> DocumentVersion:
    """A new version of the file (the previous ones stay downloadable); `expected_version`: the
    document's version as the user last saw it (StaleVersion otherwise)."""
    if document.archived_at is not None:
        raise ValidationFailed({"fichier": _("Ce document est archivé.")})
    if scope is not None and not scope.writes(document.categorie):
        raise ValidationFailed({"fichier": _("Vous ne pouvez pas modifier un document de cette catégorie.")})
    check_version(session, document, expected_version)
    received = _receive(document.usager_id, upload)
    try:
        document.numero += 1
        if date_document is not None:
            document.date_document = date_document
        if expire_le is not None:
            document.expire_le = expire_le
        version = _version(document, document.numero, received, user_id)
        session.commit()
    except StaleDataError:  # saved by someone else between the check and the UPDATE
        session.rollback()
        received.path.unlink(missing_ok=True)
        raise StaleVersion(session.get(Document, document.id).version, [])
    except BaseException:
        session.rollback()
        received.path.unlink(missing_ok=True)
        raise
    return version


def archive(session, document: Document, user_id=None) -> None:
    document.archived_at, document.archived_by_id = utcnow(), user_id
    session.commit()


_DOCUMENTS = (select(Document).options(selectinload(Document.versions))
              .where(Document.usager_id == bindparam("usager_id"))
              .order_by(Document.date_document.desc().nulls_last(), Document.id.desc()))
_CURRENT_DOCUMENTS = constant(_DOCUMENTS.where(Document.archived_at.is_(None)))  # (every dossier page)


def documents_of(session, usager_id: int, *, type_code=None, du=None, au=None, texte=None,
                 archived=False) -> list[Document]:
    """The usager's documents the user may read, newest first; search by type, date of the
    document (`du` … `au`) and words of the title."""
    if not (archived or type_code or du or au or (texte or "").split()):
        return list(session.execute(_CURRENT_DOCUMENTS, {"usager_id": usager_id}).scalars())
    query = _DOCUMENTS
    if not archived:
        query = query.where(Document.archived_at.is_(None))
    if type_code:
        query = query.join(TypeDocument, TypeDocument.id == Document.type_id).where(TypeDocument.code == type_code)
    if du:
        query = query.where(Document.date_document >= du)
    if au:
        query = query.where(Document.date_document <= au)
    for word in (texte or "").split()[:10]:
        escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Document.titre.ilike(f"%{escaped}%", escape="\\"))
    return list(session.execute(query, {"usager_id": usager_id}).scalars())


def document_of(session, usager_id: int, document_id: int) -> Document | None:
    document = session.get(Document, document_id)
    return document if document is not None and document.usager_id == usager_id else None


def version_of(document: Document, numero=None) -> DocumentVersion | None:
    if numero is None:
        return document.current
    return next((v for v in document.versions if v.numero == numero), None)


def checked_path(version: DocumentVersion) -> Path:
    """The version's file, once its bytes are proved to be those received (SHA-256); a missing
    or altered file raises TamperedFile, recorded in the audit trail."""
    from ..security.audit import record_event

    path = documents_dir(current_app.config["SILLAGE_DATA_DIR"], version.usager_id) / version.fichier
    actual = attachments.file_sha256(path) if path.is_file() else None
    if actual != version.sha256:
        record_event("fichier_altere", entity="Document", entity_id=version.document_id, usager_id=version.usager_id,
                     details={"version": version.numero, "attendu": version.sha256, "trouve": actual})
        raise TamperedFile(version.fichier)
    return path


def record_download(version: DocumentVersion, inline=False) -> None:
    from ..security.audit import record_event

    record_event("document_apercu" if inline else "document_telecharge", entity="Document",
                 entity_id=version.document_id, usager_id=version.usager_id, details={"version": version.numero})


def download_name(document: Document, version: DocumentVersion) -> str:
    return version.nom_origine


def is_expired(document: Document, today: dt.date) -> bool:
    return document.expire_le is not None and document.expire_le < today


# --- mandatory papers -------------------------------------------------------------------------

@dataclass
class Piece:
    type: object  # a row of `types`
    statut: str  # present | manquant | expire
    document: Document | None


def _mandatory_by_category(session) -> dict[int, frozenset[int]]:
    """Établissement category id → ids of the active types mandatory there. Read by every
    dossier page: kept per process until the security stamp moves, like `types`."""
    def load():
        result: dict[int, set[int]] = {}
        for categorie_id, type_id in session.execute(
                select(type_document_obligatoire.c.categorie_etablissement_id, TypeDocument.id)
                .join(TypeDocument, TypeDocument.id == type_document_obligatoire.c.type_document_id)
                .where(TypeDocument.active.is_(True))):
            result.setdefault(categorie_id, set()).add(type_id)
        return {categorie_id: frozenset(ids) for categorie_id, ids in result.items()}

    return stamp.cached(session, ("mandatory_document_types",), load)


def _statuses(types_, documents, today) -> list[Piece]:
    """Per type: present (a document not expired, the latest), expired (only expired ones), missing."""
    pieces = []
    for type_ in types_:
        mine = [d for d in documents if d.type_id == type_.id and d.archived_at is None]
        valid = [d for d in mine if not is_expired(d, today)]
        if valid:
            pieces.append(Piece(type_, "present", max(valid, key=lambda d: (d.date_document or dt.date.min, d.id))))
        elif mine:
            pieces.append(Piece(type_, "expire", max(mine, key=lambda d: (d.expire_le, d.id))))
        else:
            pieces.append(Piece(type_, "manquant", None))
    return pieces


def checklist(session, usager: Usager, today: dt.date | None = None, documents=None) -> list[Piece]:
    """The mandatory papers of the usager's current admissions' établissement categories
    (`documents`: the usager's documents not archived, when the caller has read them already)."""
    today = today or clock.today()
    categories = {a.etablissement.categorie_id for a in usager.admissions if a.is_active and a.etablissement}
    mandatory = _mandatory_by_category(session)
    wanted = frozenset().union(*(mandatory.get(c, frozenset()) for c in categories))
    if not wanted:
        return []
    types_ = [t for t in types(session) if t.id in wanted]
    if documents is None:
        documents = session.execute(select(Document).where(Document.usager_id == usager.id,
                                                           Document.archived_at.is_(None))).scalars().all()
    return _statuses(types_, documents, today)


def _current_admissions(session, today):
    return session.execute(
        select(Admission).options(joinedload(Admission.usager), joinedload(Admission.etablissement))
        .where(Admission.archived_at.is_(None), Admission.date_entree <= today,
               or_(Admission.date_sortie.is_(None), Admission.date_sortie >= today))
        .order_by(Admission.date_entree.desc())).scalars().all()


def missing_documents(session, today: dt.date) -> list[dict]:
    """Work list: admitted usagers whose mandatory papers are missing or expired."""
    active, mandatory = types(session), _mandatory_by_category(session)
    admissions = [a for a in _current_admissions(session, today)
                  if a.usager is not None and a.usager.archived_at is None and a.etablissement is not None]
    ids = {a.usager_id for a in admissions}
    documents: dict[int, list[Document]] = {}
    if ids:
        for d in session.execute(select(Document).where(Document.usager_id.in_(ids),
                                                        Document.archived_at.is_(None))).scalars():
            documents.setdefault(d.usager_id, []).append(d)
    rows, seen = [], set()
    for a in admissions:
        if (a.usager_id, a.etablissement_id) in seen:
            continue
        seen.add((a.usager_id, a.etablissement_id))
        wanted = mandatory.get(a.etablissement.categorie_id, frozenset())
        pieces = _statuses([t for t in active if t.id in wanted], documents.get(a.usager_id, []), today)
        lacking = [f"{p.type.label} ({STATUTS[p.statut]})" for p in pieces if p.statut != "present"]
        if lacking:
            rows.append({"usager": a.usager, "cells": (a.usager.display_name, a.etablissement.name, ", ".join(lacking))})
    return sorted(rows, key=lambda r: r["cells"][0])


def expiring_documents(session, today: dt.date, days: int = EXPIRING_DAYS) -> list[dict]:
    """Work list: documents expiring within `days` (or expired) that no later document of the
    same type replaces, for usagers admitted today."""
    followed = select(Admission.usager_id).where(
        Admission.archived_at.is_(None), Admission.date_entree <= today,
        or_(Admission.date_sortie.is_(None), Admission.date_sortie >= today))
    documents = session.execute(
        select(Document).where(Document.archived_at.is_(None), Document.usager_id.in_(followed))
        .order_by(Document.expire_le)).scalars().all()
    latest: dict[tuple, Document] = {}
    for d in documents:  # the document that counts per (usager, type): the one valid the longest
        key = (d.usager_id, d.type_id)
        best = latest.get(key)
        if best is None or (d.expire_le or dt.date.max) > (best.expire_le or dt.date.max):
            latest[key] = d
    limit = today + dt.timedelta(days=days)
    due = sorted((d for d in latest.values() if d.expire_le is not None and d.expire_le <= limit),
                 key=lambda d: d.expire_le)
    ids = {d.usager_id for d in due}
    usagers = {u.id: u for u in session.execute(select(Usager).where(Usager.id.in_(ids))).scalars()} if ids else {}
    return [{"usager": usagers[d.usager_id], "cells": (usagers[d.usager_id].display_name, d.type.label, d.titre,
                                                       d.expire_le)}
            for d in due if d.usager_id in usagers and usagers[d.usager_id].archived_at is None]


def as_dict(document: Document, today: dt.date | None = None) -> dict:
    """A document as the API shows it."""
    today = today or clock.today()
    current = document.current
    return {
        "id": document.id, "version": document.version, "type_code": document.type.code,
        "type_libelle": document.type.label, "titre": document.titre, "categorie": document.categorie,
        "date_document": document.date_document.isoformat() if document.date_document else None,
        "expire_le": document.expire_le.isoformat() if document.expire_le else None,
        "expire": is_expired(document, today), "auteur_id": document.auteur_id,
        "created_at": document.created_at.isoformat() if document.created_at else None,
        "archived_at": document.archived_at.isoformat() if document.archived_at else None,
        "numero": document.numero, "sha256": current.sha256 if current else None,
        "taille": current.taille if current else None, "type_mime": current.type_mime if current else None,
        "versions": [{"numero": v.numero, "sha256": v.sha256, "taille": v.taille, "type_mime": v.type_mime,
                      "nom": v.nom_origine, "uploaded_by_id": v.uploaded_by_id,
                      "uploaded_at": v.uploaded_at.isoformat()} for v in document.versions],
    }


def erase_for_usager(session, usager_id: int) -> None:
    """Anonymisation: the documents' rows go (titles name people); their files go with the
    usager's folder. Bulk deletes: the scope must not hide a document from the erasure (the DPO
    does not read every category)."""
    from sqlalchemy import delete

    options = {"synchronize_session": False}
    session.execute(delete(DocumentVersion).where(DocumentVersion.usager_id == usager_id), execution_options=options)
    session.execute(delete(Document).where(Document.usager_id == usager_id), execution_options=options)
