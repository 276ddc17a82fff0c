"""Administrative and financial papers of a dossier: record, correct (optimistic concurrency),
archive, list; the contract's deadlines and the aides to renew, as work lists.

One description per kind of paper (`KINDS`): its model, its fields and their types, its category
of the shared secret and the document type of its file. Values come typed (the web forms) or as
JSON values (the API): `_coerce` turns both into the column's type and every check lives here, so
the pages and the API refuse the same things with the same messages. A paper's file goes through
the document store's one safe upload (services/documents.py), with the paper's category.
Rows are read through the session's scope: a paper of a category the user may not read (the
financier one for educators and carers) does not exist for them.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, Integer, Numeric, String, Text, or_, select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from ..domain import clock, papiers as rules
from ..models import (
    Admission, Aide, Assurance, Avenant, ContratSejour, Devis, DevisLigne, Facture, JustificatifRessources, Usager,
)
from ..models.base import utcnow
from ..models.papiers import CENTS
from ..security.roles import CATEGORIES
from .concurrency import check_version
from .errors import StaleVersion, ValidationFailed

MAX_AMOUNT = Decimal("9999999999.99")  # Numeric(12, 2)
MAX_LINES = 100


@dataclass(frozen=True)
class Kind:
    key: str
    model: type
    label: object
    fields: tuple  # what a user sets, in form order
    required: tuple
    type_code: str  # the document type of its file
    choices: dict  # field → vocabulary


KINDS = {k.key: k for k in (
    Kind("contrats", ContratSejour, _l("Contrats de séjour et DIPC"),
         ("admission_id", "type", "remis_le", "signe_le", "signataires", "duree_mois", "prestations"),
         ("admission_id", "type"), "contrat_sejour", {"type": rules.CONTRAT_TYPES}),
    Kind("avenants", Avenant, _l("Avenants"), ("contrat_id", "date", "objet"), ("contrat_id", "date", "objet"),
         "avenant", {}),
    Kind("devis", Devis, _l("Devis"), ("date", "objet", "accepte_le", "lignes"), ("date", "objet", "lignes"),
         "devis", {}),
    Kind("factures", Facture, _l("Factures et attestations de paiement"),
         ("kind", "numero", "date", "montant", "periode_debut", "periode_fin"), ("kind", "date"), "facture",
         {"kind": rules.FACTURE_KINDS}),
    Kind("ressources", JustificatifRessources, _l("Justificatifs de ressources"),
         ("kind", "periode_debut", "periode_fin", "montant"), ("kind",), "justificatif_ressources",
         {"kind": rules.RESSOURCE_KINDS}),
    Kind("aides", Aide, _l("Aides"), ("kind", "libelle", "organisme", "numero_decision", "montant", "debut", "fin"),
         ("kind",), "notification_aide", {"kind": rules.AIDE_KINDS}),
    Kind("assurances", Assurance, _l("Assurances et garanties"), ("kind", "organisme", "contrat", "debut", "fin"),
         ("kind",), "attestation_assurance", {"kind": rules.ASSURANCE_KINDS}),
)}
PERIODS = (("periode_debut", "periode_fin"), ("debut", "fin"))


def category(kind: Kind) -> str:
    return kind.model.CATEGORY


def readable_kinds(scope) -> list[Kind]:
    return [k for k in KINDS.values() if scope is None or scope.reads(category(k))]


# --- values -----------------------------------------------------------------------------------

def _coerce(column_type, value):
    """A typed value, or a JSON one (ISO date, number or decimal string) → the column's type;
    ValueError when it is not one."""
    if value is None or value == "":
        return None
    if isinstance(column_type, Date):
        if isinstance(value, dt.datetime):
            raise ValueError
        if isinstance(value, dt.date):
            return value
        if not isinstance(value, str) or len(value) != 10:
            raise ValueError
        return dt.date.fromisoformat(value)
    if isinstance(column_type, Numeric):
        if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
            raise ValueError
        try:
            number = Decimal(str(value).strip().replace(",", ".").replace("\u202f", "").replace(" ", ""))
        except InvalidOperation:
            raise ValueError from None
        if not number.is_finite() or number < 0 or number > MAX_AMOUNT:
            raise ValueError
        return number.quantize(CENTS)
    if isinstance(column_type, Integer):
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise ValueError
        number = int(value)
        if not 0 <= number <= 2**31 - 1:
            raise ValueError
        return number
    if isinstance(column_type, (String, Text)):
        if not isinstance(value, str) or "\x00" in value:
            raise ValueError
        limit = getattr(column_type, "length", None) or 5000
        if len(value) > limit:
            raise ValueError
        return value.strip() or None
    return value


def _message(column_type):
    if isinstance(column_type, Date):
        return _("Date attendue au format AAAA-MM-JJ.")
    if isinstance(column_type, Numeric):
        return _("Montant positif attendu (deux décimales au plus, par exemple 1250,50).")
    if isinstance(column_type, Integer):
        return _("Nombre entier positif attendu.")
    limit = getattr(column_type, "length", None) or 5000
    return _("Texte de %(n)s caractères au plus.", n=limit)


def _lines(raw, errors) -> list[dict]:
    """Devis lines: [{libelle, quantite, prix_unitaire}]; blank lines (from the form) skipped."""
    if not isinstance(raw, list) or len(raw) > MAX_LINES:
        errors["lignes"] = _("Liste de lignes attendue (%(n)s au plus).", n=MAX_LINES)
        return []
    columns = DevisLigne.__table__.columns
    lines = []
    for number, item in enumerate(raw, 1):
        if not isinstance(item, dict):
            errors["lignes"] = _("Ligne %(n)s : libellé, quantité et prix unitaire attendus.", n=number)
            return []
        if all(item.get(k) in (None, "") for k in ("libelle", "quantite", "prix_unitaire")):
            continue
        try:
            line = {k: _coerce(columns[k].type, item.get(k)) for k in ("libelle", "quantite", "prix_unitaire")}
        except (ValueError, TypeError, ArithmeticError):
            errors["lignes"] = _("Ligne %(n)s : libellé, quantité et prix unitaire positifs attendus.", n=number)
            return []
        if None in line.values():
            errors["lignes"] = _("Ligne %(n)s : libellé, quantité et prix unitaire sont obligatoires.", n=number)
            return []
        lines.append(line)
    if not lines:
        errors["lignes"] = _("Au moins une ligne.")
    return lines


def clean(kind: Kind, values: dict, *, partial=False) -> dict:
    """Checked values of the kind's fields (unknown fields refused); ValidationFailed per field."""
    errors, cleaned = {}, {}
    columns = kind.model.__table__.columns
    for key, value in values.items():
        if key not in kind.fields and key != "document_id":
            errors[key] = _("Champ inconnu ou non modifiable.")
        elif key == "lignes":
            cleaned["lignes"] = _lines(value, errors)
        else:
            try:
                cleaned[key] = _coerce(columns[key].type, value)
            except (ValueError, TypeError, ArithmeticError):
                errors[key] = _message(columns[key].type)
    for key in kind.required:
        if not partial or key in values:
            if cleaned.get(key) in (None, []) and key not in errors:
                errors[key] = _("Ce champ est obligatoire.")
    for key, vocabulary in kind.choices.items():
        if cleaned.get(key) is not None and cleaned[key] not in vocabulary:
            errors[key] = _("Valeur inconnue : %(v)s.", v=", ".join(vocabulary))
    for start, end in PERIODS:
        if cleaned.get(start) and cleaned.get(end) and cleaned[end] < cleaned[start]:
            errors[end] = _("La fin ne peut précéder le début.")
    if kind.key == "contrats" and cleaned.get("remis_le") and cleaned.get("signe_le") \
            and cleaned["signe_le"] < cleaned["remis_le"]:
        errors["signe_le"] = _("La signature ne peut précéder la remise.")
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def _links(session, kind: Kind, usager: Usager, values: dict) -> dict:
    """A contract's admission, an avenant's contract: the usager's, in the user's scope."""
    extra = {}
    if values.get("document_id") is not None:  # a document already in the dossier (API clients upload first)
        from ..models import Document

        document = session.get(Document, values["document_id"])
        if document is None or document.usager_id != usager.id or document.archived_at is not None:
            raise ValidationFailed({"document_id": _("Document inconnu dans ce dossier.")})
    if "admission_id" in values:
        admission = session.get(Admission, values["admission_id"])
        if admission is None or admission.usager_id != usager.id or admission.archived_at is not None:
            raise ValidationFailed({"admission_id": _("Admission inconnue pour cette personne.")})
        extra["etablissement_id"] = admission.etablissement_id
    if "contrat_id" in values:
        contrat = session.get(ContratSejour, values["contrat_id"])
        if contrat is None or contrat.usager_id != usager.id or contrat.archived_at is not None:
            raise ValidationFailed({"contrat_id": _("Contrat inconnu pour cette personne.")})
        extra["etablissement_id"] = contrat.etablissement_id
    return extra


def _check_writes(scope, kind: Kind) -> None:
    if scope is not None and not scope.writes(category(kind)):
        raise ValidationFailed({"categorie": _("Vous ne pouvez pas enregistrer de papier de la catégorie « %(c)s ».",
                                               c=CATEGORIES[category(kind)])})


def _set(paper, values: dict) -> None:
    lignes = values.pop("lignes", None)
    for key, value in values.items():
        setattr(paper, key, value)
    if lignes is not None:
        paper.lignes = [DevisLigne(usager_id=paper.usager_id, position=n, **line) for n, line in enumerate(lignes)]


def _title(kind: Kind, values: dict) -> str:
    label = str(kind.label)
    detail = values.get("objet") or values.get("numero") or values.get("organisme")
    when = values.get("date") or values.get("debut") or values.get("periode_debut") or values.get("remis_le")
    parts = [label] + [str(p) for p in (detail, when.strftime("%d/%m/%Y") if when else None) if p]
    return " — ".join(parts)[:200]


def _attach(session, scope, kind, usager, paper, values, upload, user_id) -> None:
    """The paper's file, through the document store's one safe upload, in the paper's category."""
    if upload is None or not getattr(upload, "filename", ""):
        return
    from . import documents

    document = documents.upload(session, scope=scope, usager=usager, type_code=kind.type_code,
                                titre=_title(kind, values), upload=upload, user_id=user_id,
                                date_document=values.get("date") or values.get("remis_le"),
                                categorie=category(kind))
    paper.document_id = document.id


def create(session, *, scope, usager: Usager, kind_key: str, values: dict, user_id=None, upload=None):
    """Record a paper of `kind_key` (a key of KINDS) for the usager; its file if sent."""
    kind = KINDS[kind_key]
    _check_writes(scope, kind)
    if usager.archived_at is not None:
        raise ValidationFailed({"usager": _("Ce dossier est archivé.")})
    cleaned = clean(kind, values)
    extra = _links(session, kind, usager, cleaned)
    paper = kind.model(usager_id=usager.id, **extra)
    _set(paper, dict(cleaned))
    _attach(session, scope, kind, usager, paper, cleaned, upload, user_id)
    session.add(paper)
    session.commit()
    return paper


def update(session, *, scope, kind_key: str, paper, values: dict, expected_version, user_id=None, upload=None):
    """Correct a paper seen at `expected_version` (StaleVersion when someone saved it since)."""
    kind = KINDS[kind_key]
    _check_writes(scope, kind)
    if paper.archived_at is not None:
        raise ValidationFailed({"version": _("Ce papier est archivé.")})
    check_version(session, paper, expected_version)
    values = {k: v for k, v in values.items() if k != "version"}
    cleaned = clean(kind, values, partial=True)
    usager = session.get(Usager, paper.usager_id)
    extra = _links(session, kind, usager, cleaned)
    try:
        _set(paper, {**cleaned, **extra})
        _attach(session, scope, kind, usager, paper, cleaned, upload, user_id)
        session.commit()
    except StaleDataError:
        session.rollback()
        raise StaleVersion(session.get(kind.model, paper.id).version, []) from None
    return paper


def archive(session, *, scope, kind_key: str, paper, user_id=None) -> None:
    _check_writes(scope, KINDS[kind_key])
    paper.archived_at, paper.archived_by_id = utcnow(), user_id
    session.commit()


def papers_of(session, usager_id: int, kind_key: str) -> list:
    """The usager's current papers of a kind the user may read, newest first."""
    kind = KINDS[kind_key]
    model = kind.model
    order = {"contrats": ContratSejour.id.desc(), "devis": Devis.date.desc(), "factures": Facture.date.desc(),
             "aides": Aide.fin.desc().nulls_first(), "avenants": Avenant.date.desc()}.get(kind_key, model.id.desc())
    query = select(model).where(model.usager_id == usager_id, model.archived_at.is_(None)).order_by(order, model.id.desc())
    if kind_key == "devis":
        query = query.options(selectinload(Devis.lignes))
    if kind_key == "contrats":
        query = query.options(joinedload(ContratSejour.admission), selectinload(ContratSejour.avenants))
    return list(session.execute(query).scalars().unique())


def paper_of(session, usager_id: int, kind_key: str, paper_id: int):
    paper = session.get(KINDS[kind_key].model, paper_id)
    return paper if paper is not None and paper.usager_id == usager_id else None


def admissions_of(session, usager_id: int) -> list[Admission]:
    return list(session.execute(select(Admission).where(Admission.usager_id == usager_id,
                                                        Admission.archived_at.is_(None))
                                .order_by(Admission.date_entree.desc())).scalars())


def deadlines(contrat: ContratSejour, today: dt.date):
    return rules.contract_deadlines(contrat.admission.date_entree, contrat.remis_le, contrat.signe_le, today)


def _json(value):
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def as_dict(kind_key: str, paper, today: dt.date | None = None) -> dict:
    """A paper as the API shows it."""
    kind = KINDS[kind_key]
    result = {"id": paper.id, "version": paper.version, "categorie": paper.sensitivity,
              "document_id": paper.document_id,
              **{f: _json(getattr(paper, f)) for f in kind.fields if f != "lignes"}}
    if kind_key == "contrats":
        remise, signature = deadlines(paper, today or clock.today())
        result.update(etablissement_id=paper.etablissement_id,
                      remise_avant=remise.due.isoformat(), remise_en_retard=remise.late,
                      signature_avant=signature.due.isoformat(), signature_en_retard=signature.late,
                      avenants=[{"id": a.id, "date": a.date.isoformat(), "objet": a.objet,
                                 "document_id": a.document_id} for a in paper.avenants if a.archived_at is None])
    if kind_key == "devis":
        result["lignes"] = [{"libelle": li.libelle, "quantite": str(li.quantite),
                             "prix_unitaire": str(li.prix_unitaire), "montant": str(li.montant)} for li in paper.lignes]
        result["total"] = str(paper.total)
    if kind_key == "aides":
        result["a_renouveler"] = rules.renewal_due(paper.fin, today or clock.today())
    return result


# --- work lists (home page) -------------------------------------------------------------------

def _current_admissions(session, today):
    return session.execute(
        select(Admission).options(joinedload(Admission.usager), joinedload(Admission.etablissement))
        .where(Admission.archived_at.is_(None), Admission.date_entree <= today,
               or_(Admission.date_sortie.is_(None), Admission.date_sortie >= today))
        .order_by(Admission.date_entree)).scalars().all()


def contracts_due(session, today: dt.date, what: str) -> list[dict]:
    """Work list: current admissions whose contrat de séjour / DIPC is not yet handed over
    (`what="remise"`) or not yet signed (`"signature"`), with the due date and whether it is past."""
    admissions = [a for a in _current_admissions(session, today)
                  if a.usager is not None and a.usager.archived_at is None]
    contracts: dict[int, list[ContratSejour]] = {}
    if admissions:
        for c in session.execute(select(ContratSejour).where(
                ContratSejour.admission_id.in_([a.id for a in admissions]),
                ContratSejour.archived_at.is_(None))).scalars():
            contracts.setdefault(c.admission_id, []).append(c)
    rows = []
    for a in admissions:
        mine = contracts.get(a.id, [])
        done = [getattr(c, "remis_le" if what == "remise" else "signe_le") for c in mine]
        if any(done):
            continue
        remise, signature = rules.contract_deadlines(a.date_entree, None, None, today)
        deadline = remise if what == "remise" else signature
        state = _("en retard") if deadline.late else _("à faire")
        rows.append({"usager": a.usager, "late": deadline.late,
                     "cells": (a.usager.display_name, a.etablissement.name, a.date_entree, deadline.due, state)})
    return sorted(rows, key=lambda r: r["cells"][3])


def aides_to_renew(session, today: dt.date, days: int = rules.AIDE_RENEWAL_DAYS) -> list[dict]:
    """Work list: aides whose rights end within `days` (or have ended) and that no later aide of
    the same kind for the same person continues."""
    latest: dict[tuple, Aide] = {}
    for aide in session.execute(select(Aide).options(joinedload(Aide.usager))
                                .where(Aide.archived_at.is_(None))).scalars():
        key = (aide.usager_id, aide.kind, aide.libelle or "")
        best = latest.get(key)
        if best is None or (aide.fin or dt.date.max) > (best.fin or dt.date.max):
            latest[key] = aide
    due = sorted((a for a in latest.values() if rules.renewal_due(a.fin, today, days)
                  and a.usager is not None and a.usager.archived_at is None), key=lambda a: a.fin)
    return [{"usager": a.usager, "cells": (a.usager.display_name, a.libelle or rules.AIDE_KINDS[a.kind],
                                              a.organisme or "", a.fin)} for a in due]


def erase_for_usager(session, usager_id: int) -> None:
    """Anonymisation: the papers' rows go (they name people and amounts); their files are
    documents, erased with the document store. Bulk deletes, past the scope (the DPO does not
    read the financier category)."""
    from sqlalchemy import delete

    options = {"synchronize_session": False}
    for model in (DevisLigne, Avenant, ContratSejour, Devis, Facture, JustificatifRessources, Aide, Assurance):
        session.execute(delete(model).where(model.usager_id == usager_id), execution_options=options)
