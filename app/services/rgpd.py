"""RGPD rights and retention: rectification requests, erasure with four eyes, anonymisation,
retention rules per établissement category.

Anonymisation keeps what statistics need (year of birth, sex, GIR and other computed results,
dates and modalities of stays) and removes identity, contacts, free text and documents (files
deleted from disk). The audit trail keeps a pseudonymous trace: the usager's number, and its
entries' values blanked (the hash chain still verifies, see audit_chain.erase_values).
"""
from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

from dateutil.relativedelta import relativedelta
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select
from sqlalchemy.orm import selectinload

from ..domain import clock
from ..domain.vocab import STATUTS_DEMANDE_OUVERTE
from ..models import (
    AccessRequest, Admission, ContactPerson, CouvertureSociale, DemandeAdmission, ErasureRequest, Etablissement,
    Evaluation, MesureProtection, RectificationRequest, Usager, User,
)
from ..models.base import utcnow
from ..security import audit_chain
from ..security.audit import record_event
from . import drafts, projets, reunions
from .errors import ValidationFailed

APPROVER_ROLES = {"DPO", "Direction"}
COMPLETE_EXPORT_ROLES = {"DPO"}  # the right of access is answered by the DPO, from a recorded request
QUALITE_DEMANDEUR = {"personne": _l("La personne elle-même"), "representant_legal": _l("Son représentant légal"),
                     "autre": _l("Une autre personne habilitée")}
RECENT_DAYS = 30
ARCHIVE_AFTER_MONTHS = 12  # a dossier whose last exit is older is archived by `retention`
ANONYMOUS = "ANONYME"
ADULT_AGE_KEPT = 28  # a minor at exit is kept at least until this age


def documents_dir(data_dir: str, usager_id: int) -> Path:
    """Where an usager's files live (one directory each, so erasure removes them all)."""
    return Path(data_dir) / "usagers" / str(usager_id)


# --- retention ---------------------------------------------------------------------------------

@dataclass
class Due:
    usager_id: int
    action: str  # archive | anonymise
    due_on: dt.date
    reason: str


def retention_end(session, usager: Usager, years_by_etablissement: dict | None = None) -> dt.date | None:
    """The day the dossier may be anonymised; None while an admission or a demande is open.
    `years_by_etablissement`: the retention of each établissement, when the caller read them all."""
    admissions = usager.admissions
    if any(a.date_sortie is None and a.archived_at is None for a in admissions):
        return None
    if any(d.statut in STATUTS_DEMANDE_OUVERTE and d.archived_at is None for d in usager.demandes):
        return None
    last = max([a.date_sortie for a in admissions if a.date_sortie] or [usager.updated_at.date()])
    etab_ids = {a.etablissement_id for a in admissions} | {d.etablissement_id for d in usager.demandes}
    if years_by_etablissement is None:
        years_by_etablissement = _retention_years(session, etab_ids)
    years = [years_by_etablissement[i] for i in etab_ids if i in years_by_etablissement] or [20]
    end = last + relativedelta(years=max(years))
    age_at_exit = relativedelta(last, usager.date_naissance).years
    if age_at_exit < 18:
        end = max(end, usager.date_naissance + relativedelta(years=ADULT_AGE_KEPT))
    return end


def _retention_years(session, etab_ids=None) -> dict:
    query = select(Etablissement)
    if etab_ids is not None:
        query = query.where(Etablissement.id.in_(etab_ids))
    return {e.id: e.categorie.retention_years for e in session.execute(query).scalars()}


def due(session, today: dt.date | None = None) -> list[Due]:
    """Dossiers to archive or anonymise. Only those with nothing open are read (with their
    admissions and demandes, in three statements): one query per dossier made the DPO's home
    take 12 s at 30,000 usagers."""
    today = today or clock.today()
    found = []
    open_admission = exists().where(Admission.usager_id == Usager.id, Admission.date_sortie.is_(None),
                                    Admission.archived_at.is_(None))
    open_demande = exists().where(DemandeAdmission.usager_id == Usager.id, DemandeAdmission.archived_at.is_(None),
                                  DemandeAdmission.statut.in_(STATUTS_DEMANDE_OUVERTE))
    years = _retention_years(session)
    for usager in session.execute(select(Usager).options(selectinload(Usager.admissions), selectinload(Usager.demandes))
                                  .where(Usager.anonymised_at.is_(None), ~open_admission, ~open_demande)
                                  .order_by(Usager.id)).scalars():
        end = retention_end(session, usager, years)
        if end is None:
            continue
        if end <= today:
            found.append(Due(usager.id, "anonymise", end, _("durée de conservation échue le %(d)s", d=end.isoformat())))
            continue
        exits = [a.date_sortie for a in usager.admissions if a.date_sortie]
        if usager.archived_at is None and exits and max(exits) + relativedelta(months=ARCHIVE_AFTER_MONTHS) <= today:
            found.append(Due(usager.id, "archive", max(exits) + relativedelta(months=ARCHIVE_AFTER_MONTHS),
                             _("sorti depuis plus de %(n)s mois", n=ARCHIVE_AFTER_MONTHS)))
    return found


def apply_retention(session, data_dir: str, items: list[Due]) -> None:
    for item in items:
        usager = session.get(Usager, item.usager_id)
        if item.action == "archive":
            usager.archived_at = utcnow()
            session.commit()
        else:
            anonymise(session, usager, data_dir, reason="retention")


# --- anonymisation -------------------------------------------------------------------------------

def anonymise(session, usager: Usager, data_dir: str, reason: str, request_id: int | None = None) -> None:
    """Remove identity, contacts, free text and documents of one usager, for good."""
    now = utcnow()
    erased_entities = []
    usager.nom_naissance = usager.premier_prenom_naissance = ANONYMOUS
    usager.prenoms_naissance = [ANONYMOUS]
    usager.date_naissance = dt.date(usager.date_naissance.year, 1, 1)
    for field in ("lieu_naissance_code", "lieu_naissance_libelle", "nom_utilise", "prenom_utilise", "matricule_ins",
                  "oid_ins", "ins_recupere_le", "piece_identite_type", "piece_identite_verifiee_le", "telephone_fixe",
                  "telephone_mobile", "email", "adresse", "code_postal", "commune", "pays", "scolarite"):
        setattr(usager, field, None)
    usager.statut_identite = "provisoire"
    usager.dup_key = f"anonyme-{usager.id}"
    usager.phon_key = ""
    usager.search_text = ""
    usager.anonymised_at = now
    usager.archived_at = usager.archived_at or now
    foyer = usager.foyer
    usager.foyer_id = None
    for row in list(usager.demandes) + list(usager.admissions):
        row.commentaire = None
        row.decision_orientation_ref = None
    for demande in usager.demandes:  # off the waiting list and its counters
        if demande.statut in STATUTS_DEMANDE_OUVERTE:
            demande.statut = "annulee"
    for model in (CouvertureSociale, MesureProtection):
        for row in session.execute(select(model).where(model.usager_id == usager.id)).scalars():
            session.delete(row)
    for evaluation in session.execute(select(Evaluation).where(Evaluation.usager_id == usager.id)).scalars():
        evaluation.answers = {}  # the computed results (GIR…) and their indexed rows stay
    for rectification in session.execute(select(RectificationRequest)
                                         .where(RectificationRequest.usager_id == usager.id)).scalars():
        rectification.content = rectification.decision = audit_chain.ERASED["effacé"]
        rectification.requested_by = "-"
    _erase_identity_referrals(session, usager.id)
    reunions.erase_for_usager(session, usager.id)  # (before the foyer's contacts go: a proche took part)
    from . import portal

    erased_entities += portal.erase_for_usager(session, usager.id)  # (before the contacts its accesses name)
    session.flush()
    if foyer is not None and not session.execute(select(Usager.id).where(Usager.foyer_id == foyer.id)).first():
        for contact in session.execute(select(ContactPerson).where(ContactPerson.foyer_id == foyer.id)).scalars():
            erased_entities.append(["ContactPerson", contact.id])
            session.delete(contact)
        erased_entities.append(["Foyer", foyer.id])
        session.flush()
        session.delete(foyer)
    drafts.erase_for_usager(session, usager.id)
    projets.erase_for_usager(session, usager.id)
    from . import documents, messages, papiers, transmissions  # (documents imports this module's documents_dir)

    papiers.erase_for_usager(session, usager.id)  # (before the documents their rows point to)
    documents.erase_for_usager(session, usager.id)
    erased_entities += transmissions.erase_for_usager(session, usager.id)
    erased_entities += messages.erase_for_usager(session, usager.id)
    session.flush()
    connection = session.connection()
    audit_chain.erase_values(connection, usager.id, erased_entities)
    record_event(audit_chain.ERASURE_ACTION, entity="Usager", entity_id=usager.id, usager_id=usager.id,
                 details={"motif": reason, "demande": request_id, "entites": erased_entities}, connection=connection)
    session.commit()
    folder = documents_dir(data_dir, usager.id)
    if folder.exists():
        shutil.rmtree(folder)  # after the commit: never a file deleted for a rolled-back erasure


# --- four-eyes erasure ---------------------------------------------------------------------------

def request_erasure(session, usager: Usager, user, reason: str, early_justification: str = "") -> ErasureRequest:
    reason, early_justification = (reason or "").strip(), (early_justification or "").strip()
    errors = {}
    if usager.anonymised_at:
        errors["reason"] = _("Ce dossier est déjà anonymisé.")
    if not reason:
        errors["reason"] = _("Indiquez le motif de la demande (par exemple : demande de la personne, date).")
    end = retention_end(session, usager)
    if not errors and (end is None or end > clock.today()) and not early_justification:
        errors["early_justification"] = (
            _("La durée de conservation court jusqu'au %(d)s : justifiez une anonymisation anticipée.", d=end.isoformat())
            if end else _("Le dossier est encore ouvert (admission ou demande en cours) : justifiez l'anonymisation."))
    if session.execute(select(ErasureRequest.id).where(ErasureRequest.usager_id == usager.id,
                                                       ErasureRequest.status == "attente")).first():
        errors["reason"] = _("Une demande est déjà en attente pour ce dossier.")
    if errors:
        raise ValidationFailed(errors)
    req = ErasureRequest(usager_id=usager.id, reason=reason[:4000], early_justification=early_justification[:4000] or None,
                         requested_by_id=user.id)
    session.add(req)
    session.commit()
    return req


def decide_erasure(session, req: ErasureRequest, user, approve: bool, note: str, data_dir: str) -> None:
    if req.status != "attente":
        raise ValidationFailed({"decision": _("Cette demande a déjà été traitée.")})
    if req.requested_by_id == user.id:
        raise ValidationFailed({"decision": _("Quatre yeux : une autre personne que le demandeur doit décider.")})
    if not {r.name for r in user.roles} & APPROVER_ROLES:
        raise ValidationFailed({"decision": _("Seuls le DPO et la direction valident une anonymisation.")})
    req.status, req.decided_by_id, req.decided_at = ("executee" if approve else "refusee"), user.id, utcnow()
    req.decision_note = (note or "").strip()[:4000] or None
    session.flush()
    if approve:
        anonymise(session, session.get(Usager, req.usager_id), data_dir, reason="demande", request_id=req.id)
    else:
        session.commit()


# --- rectification -------------------------------------------------------------------------------

def record_rectification(session, usager: Usager, user, requested_by: str, content: str) -> RectificationRequest:
    requested_by, content = (requested_by or "").strip(), (content or "").strip()
    refuse_if_anonymised(usager)
    errors = {}
    if not requested_by:
        errors["requested_by"] = _("Indiquez qui demande (la personne, un proche, son représentant…).")
    if not content:
        errors["content"] = _("Décrivez la correction demandée.")
    if errors:
        raise ValidationFailed(errors)
    req = RectificationRequest(usager_id=usager.id, requested_by=requested_by[:200], content=content[:4000],
                               recorded_by_id=user.id)
    session.add(req)
    session.commit()
    return req


def decide_rectification(session, req: RectificationRequest, user, accepted: bool, decision: str) -> None:
    decision = (decision or "").strip()
    if req.status != "recue":
        raise ValidationFailed({"decision": _("Cette demande a déjà été traitée.")})
    if not decision:
        raise ValidationFailed({"decision": _("Indiquez la décision et, si elle est refusée, pourquoi.")})
    req.status = "acceptee" if accepted else "refusee"
    req.decision, req.decided_by_id, req.decided_at = decision[:4000], user.id, utcnow()
    session.commit()


def refuse_if_anonymised(usager: Usager) -> None:
    if usager.anonymised_at:
        raise ValidationFailed({"_": _("Ce dossier est anonymisé : il n'y a plus rien à exporter ni à rectifier.")})


@dataclass
class Queue:
    """The RGPD queue the user may see (the scope filters requests by their usager)."""

    erasures: list
    rectifications: list
    accesses: list
    recent: list  # (kind, request) decided in the last RECENT_DAYS days
    names: dict  # usager id → name, read while the dossier still has one
    users: dict  # user id → name (who asked, who decided)


def queue(session) -> Queue:
    erasures = session.execute(select(ErasureRequest).where(ErasureRequest.status == "attente")
                               .order_by(ErasureRequest.requested_at)).scalars().all()
    rectifications = session.execute(select(RectificationRequest).where(RectificationRequest.status == "recue")
                                     .order_by(RectificationRequest.received_on)).scalars().all()
    accesses = session.execute(select(AccessRequest).where(AccessRequest.status == "recue")
                               .order_by(AccessRequest.received_on)).scalars().all()
    since = utcnow() - dt.timedelta(days=RECENT_DAYS)
    recent = [("effacement", r) for r in session.execute(select(ErasureRequest).where(
        ErasureRequest.status != "attente", ErasureRequest.decided_at >= since)).scalars()]
    recent += [("rectification", r) for r in session.execute(select(RectificationRequest).where(
        RectificationRequest.status != "recue", RectificationRequest.decided_at >= since)).scalars()]
    recent += [("acces", r) for r in session.execute(select(AccessRequest).where(
        AccessRequest.status != "recue", AccessRequest.answered_at >= since)).scalars()]
    recent.sort(key=lambda item: item[1].decided_at if item[0] != "acces" else item[1].answered_at, reverse=True)
    usager_ids = {r.usager_id for r in [*erasures, *rectifications, *accesses, *(r for _k, r in recent)]}
    names = {u.id: u.display_name for u in session.execute(select(Usager).where(Usager.id.in_(usager_ids))).scalars()} \
        if usager_ids else {}
    user_ids = {getattr(r, a, None) for r in [*erasures, *rectifications, *accesses, *(r for _k, r in recent)]
                for a in ("requested_by_id", "recorded_by_id", "decided_by_id", "answered_by_id")} - {None}
    users = dict(session.execute(select(User.id, User.first_name + " " + User.last_name)
                                 .where(User.id.in_(user_ids))).all()) if user_ids else {}
    return Queue(erasures, rectifications, accesses, recent, names, users)


# --- right of access (art. 15) --------------------------------------------------------------------

def may_export_completely(user) -> bool:
    return bool({r.name for r in user.roles} & COMPLETE_EXPORT_ROLES)


def record_access(session, usager: Usager, user, requested_by: str, qualite: str, received_on) -> AccessRequest:
    """Record a request of access; the complete export is made from it."""
    requested_by = (requested_by or "").strip()
    refuse_if_anonymised(usager)
    errors = {}
    if not may_export_completely(user):
        errors["_"] = _("Seul le DPO enregistre une demande d'accès et produit l'export complet.")
    if not requested_by:
        errors["requested_by"] = _("Indiquez qui demande (la personne, son représentant…).")
    if qualite not in QUALITE_DEMANDEUR:
        errors["qualite"] = _("Choisissez qui fait la demande.")
    if not isinstance(received_on, dt.date):
        errors["received_on"] = _("Date attendue au format jj/mm/aaaa.")
    elif received_on > clock.today():
        errors["received_on"] = _("La demande ne peut être reçue dans le futur.")
    if errors:
        raise ValidationFailed(errors)
    req = AccessRequest(usager_id=usager.id, requested_by=requested_by[:200], qualite=qualite, received_on=received_on,
                        recorded_by_id=user.id)
    session.add(req)
    session.commit()
    return req


def answer_access(session, req: AccessRequest, user, data_dir: str) -> bytes:
    """The complete export for the person: every category, made by the DPO from the recorded
    request, audited as such; the request is then answered."""
    from ..security.scope import reading_every_category
    from .rgpd_export import export_zip

    if not may_export_completely(user):
        raise ValidationFailed({"_": _("Seul le DPO produit l'export complet.")})
    usager = session.get(Usager, req.usager_id)
    refuse_if_anonymised(usager)
    with reading_every_category():
        usager = session.get(Usager, req.usager_id)
        data = export_zip(session, usager, data_dir, complete=True)
    req.status, req.answered_at, req.answered_by_id = "repondue", utcnow(), user.id
    session.flush()
    record_event("export_complet", entity="Usager", entity_id=req.usager_id, usager_id=req.usager_id,
                 details={"demande_acces": req.id, "toutes_categories": True, "octets": len(data)},
                 connection=session.connection())
    session.commit()
    return data



def _erase_identity_referrals(session, usager_id: int) -> None:
    """The identity referent's notes say who resembles whom: gone with either person's identity
    (the referral itself stays, its conclusion erased)."""
    from ..models import IdentityReferral

    for referral in session.execute(select(IdentityReferral)).scalars():  # (decided by org-wide roles)
        if referral.usager_id == usager_id or usager_id in (referral.candidate_ids or []):
            referral.note = audit_chain.ERASED["effacé"] if referral.note else None
