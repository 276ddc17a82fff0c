"""Réunions: plan a meeting, invite, record attendance, write the minutes item by item, decide,
validate (the meeting is then locked), print, and the follow-up tasks decisions create.

Reference (projet-personnalise.md, ANESM 2008): the projet personnalisé is co-evaluated, often at
a réunion de synthèse or de projet; its actions change through the PP's own workflow, so a decision
adds an action to the person's current PP only while that version is not signed (a signed one is
locked until an avenant is opened); otherwise it becomes a follow-up task saying so. The use
cases take plain values, a scope and a session; rows load through the scope hook
(app/security/scope.py): an item about someone the user does not see, or of a category they do
not read, is not there.
"""
from __future__ import annotations

import datetime as dt
import io

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select
from werkzeug.datastructures import FileStorage

from ..domain import clock, projet as projet_rules
from ..models import ContactPerson, Etablissement, Service, Usager, User
from ..models.projet import ProjetObjectif
from ..models.reunion import (
    PARTICIPANT_KINDS, PRESENCES, Decision, PointOrdreDuJour, Reunion, ReunionParticipant, Tache, TypeReunion,
)
from ..models.base import utcnow
from ..security.roles import CATEGORIES
from ..security.scope import OutOfScope, constant
from .errors import ValidationFailed

STATUTS = {"preparee": _l("Préparée"), "tenue": _l("Tenue"), "validee": _l("Compte rendu validé")}
PRESENCE_LABELS = {"present": _l("Présent(e)"), "excuse": _l("Excusé(e)"), "absent": _l("Absent(e)")}
KIND_LABELS = {"professionnel": _l("Professionnel"), "partenaire": _l("Partenaire extérieur"),
               "personne": _l("La personne"), "proche": _l("Un proche")}
DOCUMENT_TYPE = "compte_rendu_reunion"
MAX_TEXT = 20_000


def _locked_error():
    return ValidationFailed({"statut": _("Le compte rendu est validé : la réunion est verrouillée et ne se "
                                         "modifie plus.")})


def _open(reunion: Reunion) -> None:
    if reunion.statut == "validee":
        raise _locked_error()


def _text(values, key, errors, required=False, limit=200):
    value = values.get(key)
    if value is not None and not isinstance(value, str):
        errors[key] = _("Texte attendu.")
        return None
    value = (value or "").strip()
    if required and not value:
        errors[key] = _("Ce champ est obligatoire.")
    elif len(value) > limit:
        errors[key] = _("Texte trop long (%(n)s caractères au plus).", n=limit)
    return value or None


def _int(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isdigit() and len(value) < 10:
        return int(value)
    return value if isinstance(value, int) and 0 < value < 2**31 else None


def parse_local(value) -> dt.datetime | None:
    """A local date and time typed in a page or sent by the API (ISO 8601; with an offset it is
    converted, without it is the structure's time) → naive UTC as stored."""
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, str) and value.strip():
        try:
            parsed = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=clock.zone())
    return parsed.astimezone(dt.timezone.utc).replace(tzinfo=None)


def types(session) -> list[TypeReunion]:
    return list(session.execute(select(TypeReunion).where(TypeReunion.active.is_(True))
                                .order_by(TypeReunion.position, TypeReunion.label)).scalars())


# --- the meeting -----------------------------------------------------------------------------------

def create(session, *, scope, values: dict) -> Reunion:
    """A meeting in one of the user's établissements: `type` (code), `etablissement_id`,
    `service_id`?, `debut` (local time), `lieu`?, `titre`?."""
    errors: dict = {}
    type_ = None
    code = values.get("type")
    if not code:
        errors["type"] = _("Choisissez le type de réunion.")
    else:
        type_ = session.execute(select(TypeReunion).where(TypeReunion.code == str(code),
                                                          TypeReunion.active.is_(True))).scalar_one_or_none()
        if type_ is None:
            errors["type"] = _("Type de réunion inconnu.")
    etab_id = _int(values.get("etablissement_id"))
    etab = session.get(Etablissement, etab_id) if etab_id else None
    if etab_id is not None and etab is None:  # outside the user's établissements: not there for them
        raise OutOfScope()
    if etab is None:
        errors["etablissement_id"] = _("Choisissez un établissement.")
    elif scope is not None and not scope.sees_all and etab.id not in scope.visible_etablissement_ids:
        raise OutOfScope()
    service_id = values.get("service_id")
    service = None
    if service_id not in (None, ""):
        service = session.get(Service, _int(service_id)) if _int(service_id) else None
        if service is None or (etab is not None and service.etablissement_id != etab.id):
            errors["service_id"] = _("Ce service n'est pas de cet établissement.")
    debut = parse_local(values.get("debut"))
    if debut is None:
        errors["debut"] = _("Date et heure attendues (AAAA-MM-JJ HH:MM).")
    lieu = _text(values, "lieu", errors)
    titre = _text(values, "titre", errors)
    if errors:
        raise ValidationFailed(errors)
    reunion = Reunion(type_id=type_.id, etablissement_id=etab.id, service_id=getattr(service, "id", None),
                      debut=debut, lieu=lieu, titre=titre, statut="preparee")
    session.add(reunion)
    session.commit()
    return reunion


def visible(session, reunion_id) -> Reunion | None:
    rid = _int(reunion_id)
    return session.get(Reunion, rid) if rid else None


def between(session, start: dt.datetime | None = None, end: dt.datetime | None = None, limit: int = 500) -> list[Reunion]:
    """Meetings the user sees, by date (UTC bounds, `end` excluded)."""
    query = select(Reunion).order_by(Reunion.debut.desc())
    if start is not None:
        query = query.where(Reunion.debut >= start)
    if end is not None:
        query = query.where(Reunion.debut < end)
    return list(session.execute(query.limit(limit)).scalars())


_POINTS_OF_USAGER = constant(
    select(PointOrdreDuJour).join(Reunion, Reunion.id == PointOrdreDuJour.reunion_id)
    .where(PointOrdreDuJour.usager_id == bindparam("usager_id")).order_by(Reunion.debut.desc(), PointOrdreDuJour.ordre))


def of_usager(session, usager_id: int) -> list[tuple[Reunion, list[PointOrdreDuJour]]]:
    """Meetings with an item about this person that the user may read, newest first, with those items."""
    points = session.execute(_POINTS_OF_USAGER, {"usager_id": usager_id}).scalars().all()
    found: dict = {}
    for point in points:
        found.setdefault(point.reunion_id, (point.reunion, []))[1].append(point)
    return list(found.values())


# --- participants and attendance -------------------------------------------------------------------

def add_participant(session, *, reunion: Reunion, values: dict) -> ReunionParticipant:
    """A professional (`user_id`), an external partner (`nom`, `organisation`), the person
    (`usager_id`) or one of their family contacts (`contact_id`)."""
    _open(reunion)
    errors: dict = {}
    kind = values.get("kind")
    participant = ReunionParticipant(kind=kind)
    if kind not in PARTICIPANT_KINDS:
        errors["kind"] = _("Choisissez qui participe.")
    elif kind == "professionnel":
        user = session.get(User, _int(values.get("user_id"))) if _int(values.get("user_id")) else None
        if user is None or not user.active:
            errors["user_id"] = _("Professionnel inconnu.")
        else:
            participant.user_id, participant.nom = user.id, f"{user.first_name} {user.last_name}"
    elif kind == "partenaire":
        participant.nom = _text(values, "nom", errors, required=True, limit=160)
        participant.organisation = _text(values, "organisation", errors, limit=160)
    else:
        usager = session.get(Usager, _int(values.get("usager_id"))) if _int(values.get("usager_id")) else None
        if usager is None:
            errors["usager_id"] = _("Choisissez une personne de votre périmètre.")
        elif kind == "personne":
            participant.usager_id, participant.nom = usager.id, usager.display_name
        else:
            contact = session.get(ContactPerson, _int(values.get("contact_id"))) if _int(values.get("contact_id")) else None
            if contact is None or contact.foyer_id is None or contact.foyer_id != usager.foyer_id:
                errors["contact_id"] = _("Choisissez un proche de la personne.")
            else:
                participant.usager_id, participant.contact_id = usager.id, contact.id
                participant.nom = " ".join(filter(None, [contact.prenom, contact.nom]))
                participant.organisation = contact.lien
    if errors:
        raise ValidationFailed(errors)
    reunion.participants.append(participant)
    session.commit()
    return participant


def record_attendance(session, *, reunion: Reunion, presences: dict) -> Reunion:
    """{participant id: présent | excusé | absent}; recording it marks the meeting held."""
    _open(reunion)
    by_id = {p.id: p for p in reunion.participants}
    errors = {}
    for pid, presence in presences.items():
        participant = by_id.get(_int(pid))
        if participant is None:
            errors[f"presence_{pid}"] = _("Participant inconnu.")
        elif presence not in PRESENCES:
            errors[f"presence_{pid}"] = _("Choisissez présent, excusé ou absent.")
        else:
            participant.presence = presence
    if errors:
        raise ValidationFailed(errors)
    if reunion.statut == "preparee":
        reunion.statut = "tenue"
    session.commit()
    return reunion


# --- agenda and minutes ----------------------------------------------------------------------------

def add_point(session, *, scope, reunion: Reunion, values: dict) -> PointOrdreDuJour:
    """An agenda item: `titre`, `usager_id`? (someone the user sees), `categorie` (one they write)."""
    _open(reunion)
    errors: dict = {}
    titre = _text(values, "titre", errors, required=True)
    categorie = values.get("categorie")
    if categorie not in CATEGORIES:
        errors["categorie"] = _("Choisissez la catégorie du secret partagé.")
    elif scope is not None and not scope.writes(categorie):
        errors["categorie"] = _("Vous ne pouvez pas écrire dans cette catégorie du secret partagé.")
    usager_id = None
    if values.get("usager_id") not in (None, ""):
        usager = session.get(Usager, _int(values.get("usager_id"))) if _int(values.get("usager_id")) else None
        if usager is None:
            errors["usager_id"] = _("Cette personne n'est pas dans votre périmètre.")
        else:
            usager_id = usager.id
    if errors:
        raise ValidationFailed(errors)
    ordre = max((p.ordre for p in reunion.points), default=0) + 1  # (hidden items keep their places)
    point = PointOrdreDuJour(reunion_id=reunion.id, ordre=ordre, titre=titre, usager_id=usager_id,
                             sensitivity=categorie)
    session.add(point)
    session.commit()
    return point


def point_of(session, reunion: Reunion, point_id) -> PointOrdreDuJour | None:
    pid = _int(point_id)
    point = session.get(PointOrdreDuJour, pid) if pid else None
    return point if point is not None and point.reunion_id == reunion.id else None


def _writes(scope, point) -> None:
    if scope is not None and not scope.writes(point.sensitivity):
        raise ValidationFailed({"compte_rendu": _("Vous lisez ce point sans pouvoir écrire dans sa catégorie.")})


def write_minutes(session, *, scope, point: PointOrdreDuJour, texte) -> PointOrdreDuJour:
    _open(point.reunion)
    _writes(scope, point)
    errors: dict = {}
    point.compte_rendu = _text({"compte_rendu": texte}, "compte_rendu", errors, limit=MAX_TEXT)
    if errors:
        raise ValidationFailed(errors)
    session.commit()
    return point


def current_objectives(session, usager_id) -> list[ProjetObjectif]:
    """The objectives (that the user reads) of the person's current PP versions."""
    from .projets import projets_of

    found = []
    for projet in projets_of(session, usager_id):
        if projet.statut != "clos":
            found.extend(projet.objectifs)
    return found


def decide(session, *, scope, point: PointOrdreDuJour, values: dict) -> tuple[Decision, str]:
    """A decision on an item: `texte`, `responsable_id`?, `echeance`? (date), and either
    `objectif_id` + `prestation` (an action of that objective of the person's PP) or a follow-up
    task for the `responsable`. Returns (decision, what it became: "action", "tache" or "")."""
    _open(point.reunion)
    _writes(scope, point)
    errors: dict = {}
    texte = _text(values, "texte", errors, required=True, limit=2000)
    responsable = None
    if values.get("responsable_id") not in (None, ""):
        rid = _int(values.get("responsable_id"))
        responsable = session.get(User, rid) if rid else None
        if responsable is None or not responsable.active:
            errors["responsable_id"] = _("Professionnel inconnu.")
    echeance = values.get("echeance") or None
    if isinstance(echeance, str):
        try:
            echeance = dt.date.fromisoformat(echeance)
        except ValueError:
            errors["echeance"] = _("Date attendue (AAAA-MM-JJ).")
    elif echeance is not None and not isinstance(echeance, dt.date):
        errors["echeance"] = _("Date attendue (AAAA-MM-JJ).")
    objectif = None
    if values.get("objectif_id") not in (None, ""):
        oid = _int(values.get("objectif_id"))
        objectif = session.get(ProjetObjectif, oid) if oid else None
        if objectif is None or point.usager_id is None or objectif.usager_id != point.usager_id:
            errors["objectif_id"] = _("Objectif inconnu dans le projet personnalisé de cette personne.")
        elif not values.get("prestation"):
            errors["prestation"] = _("Choisissez la prestation (SERAFIN-PH) de l'action.")
    if errors:
        raise ValidationFailed(errors)
    decision = Decision(point_id=point.id, usager_id=point.usager_id, sensitivity=point.sensitivity, texte=texte,
                        responsable_id=getattr(responsable, "id", None), echeance=echeance)
    session.add(decision)
    if objectif is not None and objectif.projet.statut in projet_rules.EDITABLE:
        decision.projet_action_id = _add_action(session, scope, objectif, texte, values["prestation"],
                                                decision.responsable_id, echeance)
        session.commit()
        return decision, "action"
    if objectif is not None or responsable is not None:
        owner = responsable or (objectif.projet.referent if objectif is not None else None)
        if owner is None:
            session.rollback()
            raise ValidationFailed({"responsable_id": _("Choisissez qui s'en charge.")})
        titre = texte if objectif is None else _(
            "À inscrire au projet personnalisé (signé : ouvrir un avenant) : %(t)s", t=texte)
        session.flush()
        session.add(Tache(owner_id=owner.id, titre=titre[:300], echeance=echeance, usager_id=point.usager_id,
                          sensitivity=point.sensitivity if point.usager_id else None, decision_id=decision.id))
        session.commit()
        return decision, "tache"
    session.commit()
    return decision, ""


def _add_action(session, scope, objectif, texte, prestation, referent_id, echeance) -> int:
    """Through the PP's own use case (its checks: codes, category, lock, concurrency)."""
    from . import projets

    projet = objectif.projet
    payload = {"objectifs": []}
    for o in projet.objectifs:
        data = projets._objectif_payload(o)
        if o.id == objectif.id:
            data["actions"].append({"libelle": texte, "prestation": prestation, "referent_id": referent_id,
                                    "fin": echeance.isoformat() if echeance else None})
        payload["objectifs"].append(data)
    try:
        projets.update(session, scope=scope, projet=projet, payload=payload, expected_version=projet.version)
    except ValidationFailed as exc:  # e.g. objectifs[0].actions[2].prestation → prestation
        raise ValidationFailed({("prestation" if k.endswith(".prestation") else k if "." not in k else "objectif_id"): v
                                for k, v in exc.errors.items()})
    return objectif.actions[-1].id


def validate(session, *, scope, reunion: Reunion, user_id: int) -> list:
    """Validate the minutes (chef de service, direction: the caller checks the permission): the
    meeting is locked; each person's items the validator reads are kept as a PDF in that person's
    documents, one per category of the shared secret. Returns the stored documents."""
    _open(reunion)
    if reunion.statut != "tenue":
        raise ValidationFailed({"statut": _("Relevez d'abord les présences : la réunion doit être tenue.")})
    reunion.statut, reunion.validee_le, reunion.validee_par_id = "validee", utcnow(), user_id
    session.commit()
    return store_pdfs(session, reunion, user_id)


def store_pdfs(session, reunion: Reunion, user_id) -> list:
    from . import documents

    groups: dict = {}
    for point in reunion.points:
        if point.usager_id is not None:
            groups.setdefault((point.usager_id, point.sensitivity), []).append(point)
    stored = []
    for (usager_id, categorie), points in groups.items():
        usager = points[0].usager
        data = render_pdf(reunion, points, about=usager)
        name = f"compte-rendu-reunion-{reunion.id}.pdf"
        titre = _("Compte rendu : %(t)s du %(d)s", t=reunion.type.label, d=clock.date_text(reunion.debut))
        # scope=None: the category is the items', not one the validator chooses (they read it).
        stored.append(documents.upload(
            session, scope=None, usager=usager, type_code=DOCUMENT_TYPE, titre=titre[:200], user_id=user_id,
            upload=FileStorage(stream=io.BytesIO(data), filename=name, content_type="application/pdf"),
            date_document=clock.local(reunion.debut).date(), categorie=categorie))
    return stored


def render_pdf(reunion: Reunion, points, about: Usager | None = None) -> bytes:
    """The minutes: the meeting, who attended, each item (those given: the reader's) with its decisions."""
    from .ecrit_pdf import letterhead
    from .pdf import Document

    title = _("Compte rendu : %(t)s", t=reunion.type.label)
    doc = Document(title, footer=_("Sillage — compte rendu de réunion n° %(n)s", n=reunion.id),
                   letterhead=letterhead(reunion.etablissement), logo=reunion.etablissement.logo)
    doc.subtitle(f"{reunion.etablissement.name} — {clock.datetime_text(reunion.debut)}"
                 + (f" — {reunion.lieu}" if reunion.lieu else ""))
    doc.pairs([(_("Statut"), str(STATUTS[reunion.statut])),
               (_("Validé par"), (f"{reunion.validee_par.first_name} {reunion.validee_par.last_name}"
                                  if reunion.validee_par else None)),
               (_("Au sujet de"), about.display_name if about is not None else None)])
    doc.heading(_("Participants"))
    doc.bullets([f"{p.nom or ''}{' (' + p.organisation + ')' if p.organisation else ''} — "
                 f"{KIND_LABELS[p.kind]}{' — ' + str(PRESENCE_LABELS[p.presence]) if p.presence else ''}"
                 for p in reunion.participants])
    for point in points:
        doc.heading(f"{point.ordre}. {point.titre}", level=2)
        doc.paragraph(point.compte_rendu or _("(pas de compte rendu)"), italic=not point.compte_rendu)
        if point.decisions:
            doc.bullets([_("Décision : %(t)s", t=d.texte) for d in point.decisions])
    return doc.output()


# --- follow-up tasks -------------------------------------------------------------------------------

def tasks_of(session, owner_id: int, open_only: bool = True) -> list[Tache]:
    query = select(Tache).where(Tache.owner_id == owner_id)
    if open_only:
        query = query.where(Tache.done_at.is_(None))
    return list(session.execute(query.order_by(Tache.done_at.is_not(None), Tache.echeance.is_(None), Tache.echeance,
                                               Tache.id)).scalars())


def complete_task(session, *, task_id, owner_id: int) -> Tache | None:
    tid = _int(task_id)
    task = session.get(Tache, tid) if tid else None
    if task is None or task.owner_id != owner_id:
        return None
    task.done_at = task.done_at or utcnow()
    session.commit()
    return task


def my_tasks_worklist(session, user_id: int) -> list[dict]:
    """The home page's « Mes tâches »: the open tasks about a person (the list links the dossier);
    every task of the user is on /reunions/taches."""
    return [{"usager": t.usager, "cells": (t.usager.display_name, t.titre, t.echeance)}
            for t in tasks_of(session, user_id) if t.usager is not None]


# --- API shape -------------------------------------------------------------------------------------

def _iso_utc(value):
    return value.replace(tzinfo=dt.timezone.utc).isoformat() if value else None


def as_dict(reunion: Reunion, with_points: bool = False) -> dict:
    data = {"id": reunion.id, "version": reunion.version, "type": reunion.type.code, "type_libelle": reunion.type.label,
            "etablissement_id": reunion.etablissement_id, "service_id": reunion.service_id, "titre": reunion.titre,
            "debut": _iso_utc(reunion.debut), "lieu": reunion.lieu, "statut": reunion.statut,
            "validee_le": _iso_utc(reunion.validee_le)}
    if with_points:
        data["participants"] = [{"id": p.id, "kind": p.kind, "nom": p.nom, "organisation": p.organisation,
                                 "user_id": p.user_id, "usager_id": p.usager_id, "presence": p.presence}
                                for p in reunion.participants]
        data["points"] = [{"id": p.id, "ordre": p.ordre, "titre": p.titre, "usager_id": p.usager_id,
                           "categorie": p.sensitivity, "compte_rendu": p.compte_rendu,
                           "decisions": [{"id": d.id, "texte": d.texte, "responsable_id": d.responsable_id,
                                          "echeance": d.echeance.isoformat() if d.echeance else None,
                                          "projet_action_id": d.projet_action_id} for d in p.decisions]}
                          for p in reunion.points]
    return data


def erase_for_usager(session, usager_id: int) -> None:
    """Anonymisation: what the meetings said about the person goes (items' titles and minutes,
    decisions, tasks, their attendance as a participant); the meetings and their dates stay.
    Core updates, as for the PP: the scope must not hide an item from the erasure."""
    from sqlalchemy import update

    gone, keep = "effacé", {"synchronize_session": False}
    session.execute(update(PointOrdreDuJour).where(PointOrdreDuJour.usager_id == usager_id)
                    .values(titre=gone, compte_rendu=None), execution_options=keep)
    session.execute(update(Decision).where(Decision.usager_id == usager_id).values(texte=gone), execution_options=keep)
    session.execute(update(Tache).where(Tache.usager_id == usager_id).values(titre=gone), execution_options=keep)
    session.execute(update(ReunionParticipant).where(ReunionParticipant.usager_id == usager_id)
                    .values(nom="-", organisation=None, contact_id=None), execution_options=keep)
