"""Parcours use cases: waiting list, admission, exit, transfer between services, timeline."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from ..domain import clock, vocab
from ..models import Admission, Capacite, DemandeAdmission, ModaliteAccueil, MotifSortie, Service, Usager
from ..security.audit import record_event
from ..security.scope import OutOfScope
from .concurrency import check_version
from .errors import ValidationFailed
from .usagers import commit_or_stale

TRANSFER_REASON = "transfert"


def _service_in_scope(session, scope, service_id, errors, field="service_id") -> Service | None:
    service = session.get(Service, service_id) if service_id else None
    if service is None:
        errors[field] = _("Choisissez un service.")
        return None
    if not scope.allows(service.etablissement_id, service.id):
        raise OutOfScope()
    return service


def _check_dates(values: dict, usager: Usager, errors: dict) -> None:
    entree = values.get("date_entree")
    if not entree:
        errors["date_entree"] = _("Ce champ est obligatoire.")
    elif entree < usager.date_naissance:
        errors["date_entree"] = _("L'entrée ne peut précéder la naissance.")
    elif entree > clock.today() + dt.timedelta(days=366):
        errors["date_entree"] = _("L'entrée est à plus d'un an : vérifiez la date.")
    debut, fin = values.get("orientation_debut"), values.get("orientation_fin")
    if debut and fin and fin < debut:
        errors["orientation_fin"] = _("La fin de validité de l'orientation précède son début.")


def _active_in_service(session, usager_id, service_id, exclude_id=None):
    query = select(Admission).where(
        Admission.usager_id == usager_id, Admission.service_id == service_id,
        Admission.date_sortie.is_(None), Admission.archived_at.is_(None),
    )
    if exclude_id:
        query = query.where(Admission.id != exclude_id)
    return session.execute(query).scalars().first()


DEATH = "deces"


def death_date(session, usager_id) -> dt.date | None:
    """The date of an exit for death, if one is recorded (the admissions' reason, not a guess)."""
    return session.execute(select(Admission.date_sortie).join(MotifSortie, Admission.motif_sortie_id == MotifSortie.id)
                           .where(Admission.usager_id == usager_id, Admission.archived_at.is_(None),
                                  MotifSortie.code == DEATH)).scalars().first()


def _check_authorised(session, service, modalite_id, errors) -> None:
    """The modalities an établissement may use are those of its authorisation (its capacities);
    an établissement without any recorded is not checked."""
    authorised = session.execute(select(Capacite.modalite_id).where(
        Capacite.etablissement_id == service.etablissement_id)).scalars().all()
    if authorised and modalite_id not in authorised:
        labels = session.execute(select(ModaliteAccueil.label).where(ModaliteAccueil.id.in_(authorised))
                                 .order_by(ModaliteAccueil.label)).scalars().all()
        modalite = session.get(ModaliteAccueil, modalite_id)
        errors["modalite_id"] = _("« %(m)s » n'est pas autorisé dans cet établissement (autorisation : %(a)s).",
                                  m=modalite.label if modalite else modalite_id, a=", ".join(labels))


def admit(session, *, scope, usager: Usager, service_id, modalite_id, date_entree,
          decision_orientation_ref=None, orientation_debut=None, orientation_fin=None,
          demande: DemandeAdmission | None = None, transfert_de: Admission | None = None,
          commentaire=None, commit=True) -> Admission:
    """Admit an usager in a service. At most one active admission per service and usager."""
    errors: dict[str, str] = {}
    service = _service_in_scope(session, scope, service_id, errors)
    if not modalite_id or session.get(ModaliteAccueil, modalite_id) is None:
        errors["modalite_id"] = _("Choisissez une modalité d'accueil.")
    values = {"date_entree": date_entree, "orientation_debut": orientation_debut,
              "orientation_fin": orientation_fin}
    _check_dates(values, usager, errors)
    if decision_orientation_ref and len(decision_orientation_ref) > 60:
        errors["decision_orientation_ref"] = _("%(n)s caractères au plus.", n=60)
    if service is not None and _active_in_service(session, usager.id, service.id):
        errors["service_id"] = _("Cet usager a déjà une admission en cours dans ce service.")
    death = death_date(session, usager.id)
    if death is not None and date_entree and "date_entree" not in errors:
        errors["date_entree"] = _("Un décès est enregistré le %(d)s : aucune admission n'est possible ensuite.",
                                  d=death.strftime("%d/%m/%Y"))
    if service is not None and "modalite_id" not in errors:
        _check_authorised(session, service, int(modalite_id), errors)
    if errors:
        raise ValidationFailed(errors)
    admission = Admission(
        usager=usager, etablissement_id=service.etablissement_id, service_id=service.id,
        modalite_id=modalite_id, date_entree=date_entree,
        decision_orientation_ref=decision_orientation_ref or None,
        orientation_debut=orientation_debut, orientation_fin=orientation_fin,
        demande_id=demande.id if demande else None, transfert_de=transfert_de,
        commentaire=commentaire or None,
    )
    session.add(admission)
    if demande is not None:
        demande.statut = "admise"
    if commit:
        commit_or_stale(session, admission, 1)
    return admission


def discharge(session, admission: Admission, *, date_sortie, motif_sortie_id, expected_version,
              commit=True) -> Admission:
    """Record the exit of an admission (date and reason)."""
    check_version(session, admission, expected_version)
    errors = {}
    if admission.date_sortie is not None:
        errors["date_sortie"] = _("Cette admission est déjà close.")
    elif not date_sortie:
        errors["date_sortie"] = _("Ce champ est obligatoire.")
    elif date_sortie < admission.date_entree:
        errors["date_sortie"] = _("La sortie ne peut précéder l'entrée (%(d)s).",
                                  d=admission.date_entree.strftime("%d/%m/%Y"))
    motif = session.get(MotifSortie, motif_sortie_id) if motif_sortie_id else None
    if motif is None:
        errors["motif_sortie_id"] = _("Choisissez un motif de sortie.")
    elif motif.code == DEATH and date_sortie and date_sortie > clock.today() and "date_sortie" not in errors:
        errors["date_sortie"] = _("Un décès ne s'enregistre pas à une date future.")
    if errors:
        raise ValidationFailed(errors)
    admission.date_sortie = date_sortie
    admission.motif_sortie_id = motif_sortie_id
    if commit:
        commit_or_stale(session, admission, expected_version)
    return admission


def cancel_exit(session, admission: Admission, *, reason: str, expected_version) -> Admission:
    """Undo a wrong exit: the admission is current again. Audited with the reason and what the exit
    said; refused when a transfer or another admission in the service followed it."""
    check_version(session, admission, expected_version)
    reason = (reason or "").strip()
    errors = {}
    if admission.date_sortie is None:
        errors["reason"] = _("Cette admission n'est pas close.")
    elif not reason:
        errors["reason"] = _("Indiquez pourquoi la sortie est annulée.")
    elif session.execute(select(Admission.id).where(Admission.transfert_de_id == admission.id,
                                                   Admission.archived_at.is_(None))).first():
        errors["reason"] = _("Cette sortie est un transfert : corrigez l'admission qui l'a suivie.")
    elif _active_in_service(session, admission.usager_id, admission.service_id, exclude_id=admission.id):
        errors["reason"] = _("Une admission en cours existe déjà dans ce service.")
    if errors:
        raise ValidationFailed(errors)
    motif = session.get(MotifSortie, admission.motif_sortie_id) if admission.motif_sortie_id else None
    record_event("annulation_sortie", entity="Admission", entity_id=admission.id, usager_id=admission.usager_id,
                 details={"motif": reason[:500], "date_sortie": admission.date_sortie.isoformat(),
                          "motif_sortie": motif.code if motif else None}, connection=session.connection())
    admission.date_sortie, admission.motif_sortie_id = None, None
    commit_or_stale(session, admission, expected_version)
    return admission


def transfer(session, *, scope, admission: Admission, service_id, date_transfert, expected_version,
             modalite_id=None) -> Admission:
    """Move an usager to another service: the current admission ends, a linked one starts."""
    errors = {}
    if service_id and int(service_id) == admission.service_id:
        errors["service_id"] = _("Choisissez un autre service que le service actuel.")
    if not date_transfert:
        errors["date_transfert"] = _("Ce champ est obligatoire.")
    elif date_transfert < admission.date_entree:
        errors["date_transfert"] = _("Le transfert ne peut précéder l'entrée dans le service actuel (%(d)s).",
                                     d=admission.date_entree.strftime("%d/%m/%Y"))
    motif = session.execute(select(MotifSortie).where(MotifSortie.code == TRANSFER_REASON)).scalar_one_or_none()
    if motif is None:
        errors["motif_sortie_id"] = _("Le motif de sortie « transfert » manque dans les référentiels.")
    if errors:
        raise ValidationFailed(errors)
    discharge(session, admission, date_sortie=date_transfert, motif_sortie_id=motif.id,
              expected_version=expected_version, commit=False)
    try:
        session.flush()  # the old admission is closed before the new one opens (unique index)
        new = admit(session, scope=scope, usager=admission.usager, service_id=service_id,
                    modalite_id=modalite_id or admission.modalite_id, date_entree=date_transfert,
                    decision_orientation_ref=admission.decision_orientation_ref,
                    orientation_debut=admission.orientation_debut,
                    orientation_fin=admission.orientation_fin, transfert_de=admission, commit=False)
    except Exception:
        session.rollback()
        raise
    commit_or_stale(session, admission, expected_version)
    return new


DEMANDE_FIELDS = ("etablissement_id", "service_id", "modalite_id", "date_demande", "statut",
                  "decision_orientation_ref", "commentaire")


def save_demande(session, *, scope, usager: Usager, data: dict, demande=None, expected_version=None):
    errors = {}
    etab_id = data.get("etablissement_id") or (demande.etablissement_id if demande else None)
    service_id = data.get("service_id") or None
    if not etab_id:
        errors["etablissement_id"] = _("Choisissez un établissement.")
    elif not scope.allows(int(etab_id), service_id):
        raise OutOfScope()
    if service_id and etab_id:
        service = session.get(Service, service_id)
        if service is None or service.etablissement_id != int(etab_id):
            errors["service_id"] = _("Ce service n'appartient pas à l'établissement choisi.")
    if not data.get("date_demande"):
        errors["date_demande"] = _("Ce champ est obligatoire.")
    statut = data.get("statut") or "en_attente"
    if statut not in vocab.STATUT_DEMANDE:
        errors["statut"] = _("Valeur non reconnue.")
    if errors:
        raise ValidationFailed(errors)
    if demande is None:
        demande = DemandeAdmission(usager=usager)
        session.add(demande)
    else:
        check_version(session, demande, expected_version)
    demande.etablissement_id = int(etab_id)
    demande.service_id = service_id
    demande.modalite_id = data.get("modalite_id") or None
    demande.date_demande = data["date_demande"]
    demande.statut = statut
    demande.decision_orientation_ref = data.get("decision_orientation_ref") or None
    demande.commentaire = data.get("commentaire") or None
    commit_or_stale(session, demande, expected_version or 1)
    return demande


def current_services(session, usager_ids) -> dict[int, list[int]]:
    """usager id → the services of its active admissions that the user may see, in order of
    entry. Columns rather than admissions: a list page needs no admission objects (loading them,
    with their service, cost a sixth of the search page); the scope filters these rows the same.
    Only the ids are asked of the database, "active" is checked here: with `date_sortie IS NULL`
    SQLite's statistics (most exit dates are NULL, ANALYZE counts distinct ones) make a skip-scan
    of ix_admission_scope look cheaper than the ids' index, and it reads every admission."""
    placed: dict[int, list[int]] = {}
    if usager_ids:
        rows = session.execute(
            select(Admission.usager_id, Admission.service_id, Admission.date_sortie, Admission.archived_at)
            .where(Admission.usager_id.in_(usager_ids)).order_by(Admission.date_entree, Admission.id))
        for usager_id, service_id, date_sortie, archived_at in rows:
            if date_sortie is None and archived_at is None:
                placed.setdefault(usager_id, []).append(service_id)
    return placed


@dataclass
class TimelineEvent:
    date: dt.date
    kind: str  # demande, entree, sortie, transfert
    title: str
    detail: str
    current: bool = False


def timeline(usager: Usager) -> list[TimelineEvent]:
    """The parcours in date order (most recent first), from what the user may see."""
    events = []
    for d in usager.demandes:
        events.append(TimelineEvent(d.date_demande, "demande", _("Demande d'admission — %(e)s", e=d.etablissement.name),
                                    d.statut_label, d.statut in vocab.STATUTS_DEMANDE_OUVERTE))
    for a in usager.admissions:
        if a.archived_at:
            continue
        kind = "transfert" if a.transfert_de_id else "entree"
        title = (_("Transfert vers %(s)s", s=a.service.name) if a.transfert_de_id
                 else _("Entrée — %(s)s", s=str(a.service)))
        events.append(TimelineEvent(a.date_entree, kind, title, str(a.modalite), a.is_active))
        if a.date_sortie and (a.motif_sortie is None or a.motif_sortie.code != TRANSFER_REASON):
            events.append(TimelineEvent(a.date_sortie, "sortie", _("Sortie — %(s)s", s=str(a.service)),
                                        str(a.motif_sortie or "")))
    return sorted(events, key=lambda e: (e.date, e.kind != "demande"), reverse=True)


def update_admission(session, admission: Admission, data: dict, expected_version) -> Admission:
    """Record an exit and/or correct the orientation references of an admission."""
    check_version(session, admission, expected_version)
    errors = {}
    if data.get("date_sortie") is not None or data.get("motif_sortie_id") is not None:
        try:
            discharge(session, admission, date_sortie=data.get("date_sortie"),
                      motif_sortie_id=data.get("motif_sortie_id"), expected_version=expected_version,
                      commit=False)
        except ValidationFailed as exc:
            errors.update(exc.errors)
    debut = data.get("orientation_debut", admission.orientation_debut)
    fin = data.get("orientation_fin", admission.orientation_fin)
    if debut and fin and fin < debut:
        errors["orientation_fin"] = _("La fin de validité de l'orientation précède son début.")
    if len(data.get("decision_orientation_ref") or "") > 60:
        errors["decision_orientation_ref"] = _("%(n)s caractères au plus.", n=60)
    if errors:
        raise ValidationFailed(errors)
    for key in ("decision_orientation_ref", "orientation_debut", "orientation_fin", "commentaire"):
        if key in data:
            setattr(admission, key, data[key])
    commit_or_stale(session, admission, expected_version)
    return admission
