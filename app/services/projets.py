"""Projet personnalisé use cases: build a version, propose, sign, rate in bilans, open the next
version, measure progress, list what is due.

Reads go through the ORM, so the scope hook filters every PP row and part the user may not see
(another établissement, a stricter category); writes check the user's établissements and
categories here. Payloads are the API's JSON shape (the pages build the same dicts), and errors
name the exact path of the field (`objectifs[0].besoins[1]`).
"""
from __future__ import annotations

import datetime as dt

from dateutil.relativedelta import relativedelta
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Date, and_, case, cast, false, func, literal_column, or_, select
from sqlalchemy.orm import aliased, joinedload

from ..domain import nomenclatures
from ..domain import projet as rules
from ..models import Admission, Etablissement, Evaluation, Usager, User
from ..models.projet import (
    ProjetAction, ProjetAttente, ProjetBilan, ProjetBilanObjectif, ProjetObjectif, ProjetParticipation,
    ProjetPersonnalise, ProjetSignature,
)
from ..security.roles import CATEGORIES
from ..security.scope import UNSCOPED, OutOfScope
from .concurrency import check_version
from .errors import ValidationFailed
from .usagers import commit_or_stale

DEFAULT_CATEGORY = "social_educatif"
MAX_TEXT = 5_000
MAX_ITEMS = 200  # objectives, actions, expectations of one version


# --- reading the payload -------------------------------------------------------------------

class _Reader:
    """Collects typed values and path-named errors from a JSON payload."""

    def __init__(self):
        self.errors: dict[str, str] = {}

    def text(self, data, key, path, required=False, limit=MAX_TEXT):
        value = data.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.errors[path] = _("Ce champ est obligatoire.")
            return None
        if not isinstance(value, str) or "\x00" in value:
            self.errors[path] = _("Texte attendu.")
            return None
        if len(value) > limit:
            self.errors[path] = _("%(n)s caractères au plus.", n=limit)
            return None
        return value.strip()

    def date(self, data, key, path, required=False):
        value = data.get(key)
        if value in (None, ""):
            if required:
                self.errors[path] = _("Ce champ est obligatoire.")
            return None
        try:
            return dt.date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else _bad()
        except ValueError:
            self.errors[path] = _("Date attendue au format AAAA-MM-JJ.")
            return None

    def number(self, data, key, path):
        value = data.get(key)
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not -1e9 < value < 1e9:
            self.errors[path] = _("Nombre attendu.")
            return None
        return float(value)

    def choice(self, data, key, path, vocabulary, required=True):
        value = data.get(key)
        if value in (None, "") and not required:
            return None
        if not isinstance(value, str) or value not in vocabulary:
            self.errors[path] = _("Valeur attendue parmi : %(values)s.", values=", ".join(vocabulary))
            return None
        return value

    def items(self, data, key, path):
        value = data.get(key, [])
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.errors[path] = _("Liste d'objets attendue.")
            return []
        if len(value) > MAX_ITEMS:
            self.errors[path] = _("%(n)s éléments au plus.", n=MAX_ITEMS)
            return []
        return value

    def codes(self, data, key, path, kinds):
        value = data.get(key, [])
        if value is None:
            return []
        if not isinstance(value, list):
            self.errors[path] = _("Liste de codes SERAFIN-PH attendue.")
            return []
        codes = []
        for i, code in enumerate(value):
            if not _selectable(code, kinds):
                self.errors[f"{path}[{i}]"] = _("Code SERAFIN-PH de besoin inconnu ou non sélectionnable.")
            elif code not in codes:
                codes.append(code)
        return codes


def _bad():
    raise ValueError


def _selectable(code, kinds) -> bool:
    found = nomenclatures.serafin().get(code) if isinstance(code, str) else None
    return found is not None and found.leaf and found.kind in kinds


BESOIN = ("besoin",)
PRESTATION = ("prestation_directe", "prestation_indirecte")


def _user_id(session, r: _Reader, data, key, path):
    value = data.get(key)
    if value in (None, ""):
        return None
    user = session.get(User, value) if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**31 else None
    if user is None or not user.active:
        r.errors[path] = _("Professionnel inconnu.")
        return None
    return user.id


def _read_content(session, scope, payload: dict, r: _Reader) -> dict:
    """The editable content of a version: expectations, synthesis, objectives and actions."""
    content = {"synthese": r.text(payload, "synthese", "synthese"),
               "besoins": r.codes(payload, "besoins", "besoins", BESOIN),
               "referent_id": _user_id(session, r, payload, "referent_id", "referent_id"),
               "date_revision": r.date(payload, "date_revision", "date_revision"),
               "attentes": [], "objectifs": []}
    equipe = payload.get("equipe") or []
    if not isinstance(equipe, list):
        r.errors["equipe"] = _("Liste de professionnels attendue.")
        equipe = []
    content["equipe"] = [u for i, v in enumerate(equipe)
                         if (u := _user_id(session, r, {"v": v}, "v", f"equipe[{i}]")) is not None]
    evaluations = payload.get("evaluations") or []
    if not isinstance(evaluations, list) or not all(isinstance(e, int) and not isinstance(e, bool) for e in evaluations):
        r.errors["evaluations"] = _("Liste d'identifiants d'évaluations attendue.")
        evaluations = []
    content["evaluations"] = evaluations
    planned = payload.get("bilans_prevus") or []
    if not isinstance(planned, list):
        r.errors["bilans_prevus"] = _("Liste de dates attendue.")
        planned = []
    content["bilans_prevus"] = sorted({d.isoformat() for i, v in enumerate(planned)
                                       if (d := r.date({"v": v}, "v", f"bilans_prevus[{i}]")) is not None})
    for i, item in enumerate(r.items(payload, "attentes", "attentes")):
        path = f"attentes[{i}]"
        content["attentes"].append({
            "texte": r.text(item, "texte", f"{path}.texte", required=True),
            "auteur": r.choice(item, "auteur", f"{path}.auteur", rules.AUTEUR_ATTENTE),
            "auteur_nom": r.text(item, "auteur_nom", f"{path}.auteur_nom", limit=120)})
    for i, item in enumerate(r.items(payload, "objectifs", "objectifs")):
        path = f"objectifs[{i}]"
        indicateur = item.get("indicateur") or {}
        if not isinstance(indicateur, dict):
            r.errors[f"{path}.indicateur"] = _("Objet attendu.")
            indicateur = {}
        category = item.get("categorie") or DEFAULT_CATEGORY
        if category not in CATEGORIES:
            r.errors[f"{path}.categorie"] = _("Catégorie inconnue.")
        elif not scope.writes(category):
            r.errors[f"{path}.categorie"] = _("Vous ne pouvez pas écrire dans cette catégorie.")
        objectif = {
            "id": item.get("id"), "categorie": category,
            "realisation": r.text(item, "objectif_personnel", f"{path}.objectif_personnel"),
            "libelle": r.text(item, "libelle", f"{path}.libelle", required=True),
            "libelle_falc": r.text(item, "libelle_falc", f"{path}.libelle_falc"),
            "besoins": r.codes(item, "besoins", f"{path}.besoins", BESOIN),
            "indicateur_unite": r.text(indicateur, "unite", f"{path}.indicateur.unite", limit=40),
            "indicateur_echelle": r.choice(indicateur, "echelle", f"{path}.indicateur.echelle", rules.ECHELLE,
                                           required=False),
            "indicateur_cible": r.number(indicateur, "cible", f"{path}.indicateur.cible"),
            "actions": []}
        if objectif["indicateur_echelle"] and objectif["indicateur_cible"] is not None \
                and not 0 <= objectif["indicateur_cible"] <= 4:
            r.errors[f"{path}.indicateur.cible"] = _("Sur une échelle de 0 à 4, la cible est entre 0 et 4.")
        for j, action in enumerate(r.items(item, "actions", f"{path}.actions")):
            apath = f"{path}.actions[{j}]"
            prestation = action.get("prestation")
            if not _selectable(prestation, PRESTATION):
                r.errors[f"{apath}.prestation"] = _("Code SERAFIN-PH de prestation inconnu ou non sélectionnable.")
            values = {
                "id": action.get("id"), "libelle": r.text(action, "libelle", f"{apath}.libelle", required=True),
                "prestation": prestation,
                "referent_id": _user_id(session, r, action, "referent_id", f"{apath}.referent_id"),
                "partenaires": r.text(action, "partenaires", f"{apath}.partenaires"),
                "frequence": r.text(action, "frequence", f"{apath}.frequence", limit=120),
                "ressources": r.text(action, "ressources", f"{apath}.ressources"),
                "debut": r.date(action, "debut", f"{apath}.debut"), "fin": r.date(action, "fin", f"{apath}.fin")}
            if values["debut"] and values["fin"] and values["fin"] < values["debut"]:
                r.errors[f"{apath}.fin"] = _("La fin précède le début.")
            objectif["actions"].append(values)
        content["objectifs"].append(objectif)
    if not r.errors and content["evaluations"]:
        found = set(session.execute(select(Evaluation.id).where(
            Evaluation.id.in_(content["evaluations"]), Evaluation.usager_id == payload["_usager_id"],
            Evaluation.status == "validated")).scalars())
        for i, eid in enumerate(content["evaluations"]):
            if eid not in found:
                r.errors[f"evaluations[{i}]"] = _("Évaluation validée inconnue pour cet usager.")
    return content


# --- writing -------------------------------------------------------------------------------

def _apply_content(projet: ProjetPersonnalise, content: dict) -> None:
    """Replace the version's visible content. Objectives the user may not read are not loaded
    (scope), hence neither changed nor removed."""
    for key in ("synthese", "besoins", "referent_id", "equipe", "date_revision", "bilans_prevus"):
        setattr(projet, key, content[key])
    projet.evaluation_ids = content["evaluations"]
    projet.attentes = [ProjetAttente(usager_id=projet.usager_id, sensitivity=projet.sensitivity, position=i, **a)
                       for i, a in enumerate(content["attentes"])]
    kept = {o.id: o for o in projet.objectifs}
    objectifs = []
    for i, data in enumerate(content["objectifs"]):
        objectif = kept.get(data["id"]) if isinstance(data["id"], int) else None
        if objectif is None:
            objectif = ProjetObjectif(usager_id=projet.usager_id)
        actions_kept = {a.id: a for a in objectif.actions}
        for key in ("realisation", "libelle", "libelle_falc", "besoins", "indicateur_unite",
                    "indicateur_echelle", "indicateur_cible"):
            setattr(objectif, key, data[key])
        objectif.sensitivity, objectif.position = data["categorie"], i
        actions = []
        for j, values in enumerate(data["actions"]):
            action = actions_kept.get(values["id"]) if isinstance(values["id"], int) else None
            action = action or ProjetAction(usager_id=projet.usager_id)
            for key, value in values.items():
                if key != "id":
                    setattr(action, key, value)
            action.sensitivity, action.position = objectif.sensitivity, j
            actions.append(action)
        objectif.actions = actions
        objectifs.append(objectif)
    projet.objectifs = objectifs


def _admission_in(session, usager_id, etablissement_id) -> Admission | None:
    return session.execute(select(Admission).where(
        Admission.usager_id == usager_id, Admission.etablissement_id == etablissement_id,
        Admission.archived_at.is_(None)).order_by(Admission.date_entree.desc())).scalars().first()


def delays(etablissement) -> tuple[int, int]:
    """(months to the first PP after admission, months between revisions) of an établissement's
    category: settings, the avenant's six months (D311) and the yearly update by default."""
    config = current_app.config
    per_category = config.get("SILLAGE_PP_DELAYS", {}).get(getattr(etablissement.categorie, "code", None), {})
    return (per_category.get("premier", config["SILLAGE_PP_FIRST_MONTHS"]),
            per_category.get("revision", config["SILLAGE_PP_REVISION_MONTHS"]))


def create(session, *, scope, usager: Usager, payload: dict) -> ProjetPersonnalise:
    """A first PP (version 1) for the usager in an établissement where they are admitted."""
    r = _Reader()
    etablissement_id = payload.get("etablissement_id")
    if not isinstance(etablissement_id, int) or isinstance(etablissement_id, bool):
        raise ValidationFailed({"etablissement_id": _("Choisissez un établissement.")})
    if not scope.sees_all and etablissement_id not in scope.visible_etablissement_ids:
        raise OutOfScope()
    if not scope.writes(DEFAULT_CATEGORY):
        raise ValidationFailed({"_": _("Votre rôle n'écrit pas dans la catégorie du projet personnalisé.")})
    admission = _admission_in(session, usager.id, etablissement_id)
    if admission is None:
        raise ValidationFailed({"etablissement_id": _("L'usager n'est pas admis dans cet établissement.")})
    date_debut = r.date(payload, "date_debut", "date_debut", required=True)
    content = _read_content(session, scope, {**payload, "_usager_id": usager.id}, r)
    if current(session, usager.id, etablissement_id) is not None:
        r.errors["etablissement_id"] = _("Un projet personnalisé existe déjà dans cet établissement : "
                                         "modifiez-le ou ouvrez-en une nouvelle version.")
    if r.errors:
        raise ValidationFailed(r.errors)
    _first, revision = delays(admission.etablissement)
    projet = ProjetPersonnalise(usager_id=usager.id, etablissement_id=etablissement_id, numero=1,
                                statut="elaboration", sensitivity=DEFAULT_CATEGORY, date_debut=date_debut)
    session.add(projet)
    _apply_content(projet, content)
    projet.date_revision = content["date_revision"] or date_debut + relativedelta(months=revision)
    commit_or_stale(session, projet, 1)
    return projet


def update(session, *, scope, projet: ProjetPersonnalise, payload: dict, expected_version) -> ProjetPersonnalise:
    """Change an unsigned version's content (a signed one is locked: open a new version)."""
    check_version(session, projet, expected_version)
    if projet.statut not in rules.EDITABLE:
        raise ValidationFailed({"statut": _("Ce projet est signé : il ne se modifie plus. Ouvrez un avenant.")})
    if not scope.writes(projet.sensitivity):
        raise ValidationFailed({"_": _("Votre rôle n'écrit pas dans la catégorie du projet personnalisé.")})
    r = _Reader()
    date_debut = r.date(payload, "date_debut", "date_debut") if "date_debut" in payload else projet.date_debut
    merged = {"synthese": projet.synthese, "besoins": projet.besoins, "referent_id": projet.referent_id,
              "equipe": projet.equipe, "evaluations": projet.evaluation_ids, "bilans_prevus": projet.bilans_prevus,
              **{k: v for k, v in payload.items() if k != "version"}}
    if "date_revision" not in payload and projet.date_revision:
        merged["date_revision"] = projet.date_revision.isoformat()
    if "attentes" not in payload:
        merged["attentes"] = [{"texte": a.texte, "auteur": a.auteur, "auteur_nom": a.auteur_nom} for a in projet.attentes]
    if "objectifs" not in payload:
        merged["objectifs"] = [_objectif_payload(o) for o in projet.objectifs]
    content = _read_content(session, scope, {**merged, "_usager_id": projet.usager_id}, r)
    if r.errors:
        raise ValidationFailed(r.errors)
    projet.date_debut = date_debut or projet.date_debut
    _apply_content(projet, content)
    commit_or_stale(session, projet, expected_version)
    return projet


def _objectif_payload(o: ProjetObjectif) -> dict:
    return {"id": o.id, "categorie": o.sensitivity, "objectif_personnel": o.realisation, "libelle": o.libelle,
            "libelle_falc": o.libelle_falc, "besoins": list(o.besoins or []),
            "indicateur": {"unite": o.indicateur_unite, "echelle": o.indicateur_echelle, "cible": o.indicateur_cible},
            "actions": [{"id": a.id, "libelle": a.libelle, "prestation": a.prestation, "referent_id": a.referent_id,
                         "partenaires": a.partenaires, "frequence": a.frequence, "ressources": a.ressources,
                         "debut": a.debut.isoformat() if a.debut else None,
                         "fin": a.fin.isoformat() if a.fin else None} for a in o.actions]}


def set_status(session, projet: ProjetPersonnalise, statut: str, expected_version) -> ProjetPersonnalise:
    """Propose, or send back to élaboration (signing and evaluating have their own steps)."""
    check_version(session, projet, expected_version)
    if statut not in ("propose", "elaboration") or statut not in rules.TRANSITIONS[projet.statut]:
        raise ValidationFailed({"statut": _("Passage de « %(a)s » à « %(b)s » impossible.",
                                            a=rules.STATUT.get(projet.statut, projet.statut),
                                            b=rules.STATUT.get(statut, statut))})
    projet.statut = statut
    commit_or_stale(session, projet, expected_version)
    return projet


def signed_content(session, projet_id: int) -> dict:
    """The whole version as a signature covers it, every category included (read as columns:
    the signatory may not read every objective, the hash must still cover them)."""
    p = ProjetPersonnalise.__table__.c
    o, a, t = ProjetObjectif.__table__.c, ProjetAction.__table__.c, ProjetAttente.__table__.c
    unscoped = {UNSCOPED: True}
    head = session.execute(select(p.usager_id, p.etablissement_id, p.numero, p.date_debut, p.synthese, p.besoins)
                           .where(p.id == projet_id), execution_options=unscoped).one()
    attentes = session.execute(select(t.auteur, t.auteur_nom, t.texte).where(t.projet_id == projet_id)
                               .order_by(t.position, t.id), execution_options=unscoped).all()
    objectifs = session.execute(select(o.id, o.sensitivity, o.realisation, o.libelle, o.libelle_falc, o.besoins,
                                       o.indicateur_unite, o.indicateur_echelle, o.indicateur_cible)
                                .where(o.projet_id == projet_id).order_by(o.position, o.id),
                                execution_options=unscoped).all()
    actions = session.execute(select(a.objectif_id, a.libelle, a.prestation, a.referent_id, a.partenaires,
                                     a.frequence, a.ressources, a.debut, a.fin)
                              .join(ProjetObjectif.__table__, o.id == a.objectif_id)
                              .where(o.projet_id == projet_id).order_by(a.position, a.id),
                              execution_options=unscoped).all()
    return {"projet": [str(v) if v is not None else None for v in head],
            "attentes": [list(row) for row in attentes],
            "objectifs": [[str(v) if v is not None else None for v in row[1:]]
                          + [[[str(v) if v is not None else None for v in act[1:]]
                              for act in actions if act.objectif_id == row.id]] for row in objectifs]}


def sign(session, *, projet: ProjetPersonnalise, signataires: list, expected_version,
         scan_path: str | None = None) -> ProjetPersonnalise:
    """Record the signatories of a proposed version and lock it (its content hash is kept)."""
    check_version(session, projet, expected_version)
    r = _Reader()
    if projet.statut != "propose":
        r.errors["statut"] = _("Seul un projet proposé se signe.")
    if not isinstance(signataires, list) or not signataires or not all(isinstance(s, dict) for s in signataires):
        r.errors["signataires"] = _("Au moins un signataire.")
        signataires = []
    rows = []
    for i, s in enumerate(signataires):
        path = f"signataires[{i}]"
        rows.append({"qualite": r.choice(s, "qualite", f"{path}.qualite", rules.QUALITE_SIGNATAIRE),
                     "nom": r.text(s, "nom", f"{path}.nom", required=True, limit=160),
                     "date": r.date(s, "date", f"{path}.date", required=True),
                     "mode": r.choice(s, "mode", f"{path}.mode", rules.MODE_SIGNATURE)})
        if rows[-1]["mode"] == "papier" and not scan_path:
            r.errors[f"{path}.mode"] = _("Une signature sur papier se prouve par le scan joint.")
    if r.errors:
        raise ValidationFailed(r.errors)
    session.flush()
    digest = rules.content_hash(signed_content(session, projet.id))
    for row in rows:
        projet.signatures.append(ProjetSignature(usager_id=projet.usager_id, content_hash=digest,
                                                 scan_path=scan_path if row["mode"] == "papier" else None, **row))
    projet.content_hash = digest
    projet.statut = "signe"
    if projet.precedent_id:  # the version it replaces ends
        previous = session.get(ProjetPersonnalise, projet.precedent_id)
        if previous is not None and previous.statut != "clos":
            previous.statut = "clos"
    written = _keep_signed_pdfs(session, projet)
    try:
        commit_or_stale(session, projet, expected_version)
    except Exception:  # no file left without its record
        for path in written:
            path.unlink(missing_ok=True)
        raise
    _file_signed_pdf(session, projet, written[0])
    return projet


def _file_signed_pdf(session, projet: ProjetPersonnalise, path) -> None:
    """The signed version's PDF also lands in the dossier's documents (type « Projet
    personnalisé », the PP's category), with the version it was made from in its title. Filed by
    the signature itself (scope=None): whoever may sign the PP may file its PDF."""
    import io

    from flask_babel import gettext as _
    from werkzeug.datastructures import FileStorage

    from ..domain import clock
    from . import documents

    upload = FileStorage(stream=io.BytesIO(path.read_bytes()), filename=f"projet-personnalise-v{projet.numero}.pdf",
                         content_type="application/pdf")
    documents.upload(session, scope=None, usager=projet.usager, type_code="projet_personnalise",
                     titre=_("Projet personnalisé — version %(n)s signée", n=projet.numero), upload=upload,
                     date_document=clock.today(), categorie=projet.sensitivity)


def _keep_signed_pdfs(session, projet: ProjetPersonnalise) -> list:
    """Write the signed version's PDF and easy-read PDF into the usager's folder (exported and
    erased with the dossier). They hold the objectives of the PP's own category only: a stricter
    objective is never copied into a file that readers of the PP's category download."""
    import secrets

    from .projet_pdf import falc_pdf, projet_pdf
    from .rgpd import documents_dir

    shown = [o for o in projet.objectifs if o.sensitivity == projet.sensitivity]
    folder = documents_dir(current_app.config["SILLAGE_DATA_DIR"], projet.usager_id) / "projets"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for attribute, body in (("pdf_path", projet_pdf(projet, _users_of(session, projet), objectifs=shown)),
                            ("falc_path", falc_pdf(projet, objectifs=shown))):
        name = f"projet-{projet.id}-v{projet.numero}{'-facile-a-lire' if attribute == 'falc_path' else ''}-{secrets.token_hex(4)}.pdf"
        path = folder / name
        path.write_bytes(body)
        written.append(path)
        setattr(projet, attribute, f"projets/{name}")
    return written


def kept_pdf(projet: ProjetPersonnalise, falc: bool):
    """The path of a PDF kept at signing, or None."""
    from .rgpd import documents_dir

    reference = projet.falc_path if falc else projet.pdf_path
    if not reference:
        return None
    path = documents_dir(current_app.config["SILLAGE_DATA_DIR"], projet.usager_id) / reference
    return path if path.is_file() else None


def _users_of(session, projet) -> dict:
    ids = {projet.referent_id, *(projet.equipe or []), *(a.referent_id for o in projet.objectifs for a in o.actions)}
    ids.discard(None)
    return {u.id: u for u in session.execute(select(User).where(User.id.in_(ids))).scalars()} if ids else {}


def record_participation(session, *, projet: ProjetPersonnalise, payload: dict) -> ProjetParticipation:
    """Who took part in a step, and how — a refusal or an impediment with its reason."""
    r = _Reader()
    row = {"etape": r.choice(payload, "etape", "etape", rules.ETAPE),
           "qualite": r.text(payload, "qualite", "qualite", required=True, limit=20),
           "nom": r.text(payload, "nom", "nom", required=True, limit=160),
           "statut": r.choice(payload, "statut", "statut", rules.PARTICIPATION),
           "motif": r.text(payload, "motif", "motif"),
           "date": r.date(payload, "date", "date")}
    if row["statut"] in ("refus", "empeche") and not row["motif"]:
        r.errors["motif"] = _("Indiquez la raison.")
    if r.errors:
        raise ValidationFailed(r.errors)
    participation = ProjetParticipation(usager_id=projet.usager_id, **row)
    projet.participations.append(participation)
    session.commit()
    return participation


def add_bilan(session, *, scope, projet: ProjetPersonnalise, payload: dict) -> ProjetBilan:
    """Rate the objectives of a signed version; a final bilan evaluates it and opens the next
    version, carrying over the objectives that continue (not reached, reported, or adjusted)."""
    r = _Reader()
    if projet.statut != "signe":
        raise ValidationFailed({"statut": _("Un bilan se fait sur un projet signé, en cours.")})
    date = r.date(payload, "date", "date", required=True)
    kind = r.choice(payload, "type", "type", rules.TYPE_BILAN)
    visible = {o.id: o for o in projet.objectifs}
    lignes = []
    for i, item in enumerate(r.items(payload, "objectifs", "objectifs")):
        path = f"objectifs[{i}]"
        objectif = visible.get(item.get("objectif_id"))
        if objectif is None:
            r.errors[f"{path}.objectif_id"] = _("Objectif inconnu dans ce projet.")
            continue
        if not scope.writes(objectif.sensitivity):
            r.errors[f"{path}.objectif_id"] = _("Vous ne pouvez pas écrire dans la catégorie de cet objectif.")
        ligne = {"objectif": objectif,
                 "atteinte": r.choice(item, "atteinte", f"{path}.atteinte", rules.ATTEINTE),
                 "mesure": r.number(item, "mesure", f"{path}.mesure"),
                 "avis_personne": r.text(item, "avis_personne", f"{path}.avis_personne"),
                 "commentaire": r.text(item, "commentaire", f"{path}.commentaire"),
                 "decision": r.choice(item, "decision", f"{path}.decision", rules.DECISION, required=False)}
        if objectif.indicateur_echelle and ligne["mesure"] is not None and not 0 <= ligne["mesure"] <= 4:
            r.errors[f"{path}.mesure"] = _("Sur une échelle de 0 à 4, la mesure est entre 0 et 4.")
        if any(x["objectif"] is objectif for x in lignes):
            r.errors[f"{path}.objectif_id"] = _("Objectif déjà évalué dans ce bilan.")
        lignes.append(ligne)
    if not lignes and not r.errors:
        r.errors["objectifs"] = _("Évaluez au moins un objectif.")
    if date and date < projet.date_debut:
        r.errors["date"] = _("Le bilan ne peut précéder le début du projet.")
    if r.errors:
        raise ValidationFailed(r.errors)
    bilan = ProjetBilan(usager_id=projet.usager_id, date=date, type=kind, commentaire=r.text(payload, "commentaire", "commentaire"))
    for ligne in lignes:
        objectif = ligne.pop("objectif")
        bilan.lignes.append(ProjetBilanObjectif(objectif=objectif, usager_id=projet.usager_id,
                                                sensitivity=objectif.sensitivity, **ligne))
    projet.bilans.append(bilan)
    if kind == "final":
        projet.statut = "evalue"
        _next_version(session, projet, date, {id(x): x for x in bilan.lignes}.values())
    session.commit()
    return bilan


CONTINUES = {"partiel", "non_atteint", "reporte"}


def _next_version(session, projet, date, lignes) -> ProjetPersonnalise:
    """Version n+1, in élaboration, with the objectives that continue and their actions."""
    rated = {ligne.objectif_id or ligne.objectif.id: ligne for ligne in lignes}
    _first, revision = delays(projet.etablissement)
    new = ProjetPersonnalise(usager_id=projet.usager_id, etablissement_id=projet.etablissement_id,
                             numero=projet.numero + 1, precedent_id=projet.id, statut="elaboration",
                             sensitivity=projet.sensitivity, date_debut=date, referent_id=projet.referent_id,
                             equipe=list(projet.equipe or []), synthese=projet.synthese,
                             besoins=list(projet.besoins or []), evaluation_ids=list(projet.evaluation_ids or []),
                             date_revision=date + relativedelta(months=revision))
    for a in projet.attentes:
        new.attentes.append(ProjetAttente(usager_id=a.usager_id, sensitivity=a.sensitivity, position=a.position,
                                          auteur=a.auteur, auteur_nom=a.auteur_nom, texte=a.texte))
    for o in projet.objectifs:
        ligne = rated.get(o.id)
        decision = ligne.decision if ligne else None
        if decision == "arreter" or (ligne and ligne.atteinte in ("atteint", "abandonne") and decision is None):
            continue
        if ligne is None or decision in ("continuer", "ajuster") or ligne.atteinte in CONTINUES:
            copy = ProjetObjectif(usager_id=o.usager_id, sensitivity=o.sensitivity, position=o.position,
                                  realisation=o.realisation, libelle=o.libelle, libelle_falc=o.libelle_falc,
                                  besoins=list(o.besoins or []), indicateur_unite=o.indicateur_unite,
                                  indicateur_echelle=o.indicateur_echelle, indicateur_cible=o.indicateur_cible,
                                  reprise_de_id=o.id)
            for act in o.actions:
                copy.actions.append(ProjetAction(
                    usager_id=act.usager_id, sensitivity=act.sensitivity, position=act.position, libelle=act.libelle,
                    prestation=act.prestation, referent_id=act.referent_id, partenaires=act.partenaires,
                    frequence=act.frequence, ressources=act.ressources, debut=date if act.fin and act.fin < date else act.debut,
                    fin=None if act.fin and act.fin < date else act.fin))
            new.objectifs.append(copy)
    session.add(new)
    return new


def open_avenant(session, *, projet: ProjetPersonnalise, date: dt.date, expected_version) -> ProjetPersonnalise:
    """An avenant: the next version of a signed PP, every objective carried over."""
    check_version(session, projet, expected_version)
    if projet.statut not in ("signe", "evalue"):
        raise ValidationFailed({"statut": _("Un avenant s'ouvre sur un projet signé.")})
    if session.execute(select(ProjetPersonnalise.id).where(ProjetPersonnalise.precedent_id == projet.id)).first():
        raise ValidationFailed({"statut": _("Une version suivante existe déjà.")})
    new = _next_version(session, projet, date, [])
    commit_or_stale(session, projet, expected_version)
    return new


# --- reading -------------------------------------------------------------------------------

def _iso(value):
    return value.isoformat() if value else None


def as_dict(p: ProjetPersonnalise) -> dict:
    """A PP version as the API and the exports give it: only the parts the reader may read are
    loaded (the scope filters them)."""
    return {
        "id": p.id, "version": p.version, "numero": p.numero, "statut": p.statut,
        "statut_libelle": str(rules.STATUT.get(p.statut, p.statut)),
        "usager_id": p.usager_id, "etablissement_id": p.etablissement_id, "etablissement": p.etablissement.name, "precedent_id": p.precedent_id,
        "date_debut": _iso(p.date_debut), "date_revision": _iso(p.date_revision),
        "bilans_prevus": list(p.bilans_prevus or []), "referent_id": p.referent_id, "equipe": list(p.equipe or []),
        "synthese": p.synthese, "besoins": list(p.besoins or []), "evaluations": list(p.evaluation_ids or []),
        "content_hash": p.content_hash,
        "attentes": [{"id": a.id, "texte": a.texte, "auteur": a.auteur, "auteur_nom": a.auteur_nom}
                     for a in p.attentes],
        "objectifs": [{
            "id": o.id, "categorie": o.sensitivity, "objectif_personnel": o.realisation, "libelle": o.libelle,
            "libelle_falc": o.libelle_falc, "besoins": list(o.besoins or []), "reprise_de": o.reprise_de_id,
            "indicateur": ({"unite": o.indicateur_unite, "echelle": o.indicateur_echelle, "cible": o.indicateur_cible}
                           if (o.indicateur_unite or o.indicateur_echelle or o.indicateur_cible is not None) else None),
            "actions": [{"id": a.id, "libelle": a.libelle, "prestation": a.prestation, "referent_id": a.referent_id,
                         "partenaires": a.partenaires, "frequence": a.frequence, "ressources": a.ressources,
                         "debut": _iso(a.debut), "fin": _iso(a.fin)} for a in o.actions],
        } for o in p.objectifs],
        "bilans": [{"id": b.id, "date": _iso(b.date), "type": b.type, "commentaire": b.commentaire,
                    "objectifs": [{"objectif_id": x.objectif_id, "atteinte": x.atteinte, "mesure": x.mesure,
                                   "avis_personne": x.avis_personne, "commentaire": x.commentaire,
                                   "decision": x.decision} for x in b.lignes]} for b in p.bilans],
        "participations": [{"id": x.id, "etape": x.etape, "qualite": x.qualite, "nom": x.nom, "statut": x.statut,
                            "motif": x.motif, "date": _iso(x.date)} for x in p.participations],
        "signatures": [{"qualite": s.qualite, "nom": s.nom, "date": _iso(s.date), "mode": s.mode,
                        "content_hash": s.content_hash} for s in p.signatures],
    }



def projets_of(session, usager_id) -> list[ProjetPersonnalise]:
    """The usager's PP versions the user may see, newest first."""
    return list(session.execute(select(ProjetPersonnalise).where(
        ProjetPersonnalise.usager_id == usager_id, ProjetPersonnalise.archived_at.is_(None))
        .order_by(ProjetPersonnalise.etablissement_id, ProjetPersonnalise.numero.desc())).scalars())


def current(session, usager_id, etablissement_id) -> ProjetPersonnalise | None:
    """The latest version that is not closed, in that établissement."""
    return session.execute(select(ProjetPersonnalise).where(
        ProjetPersonnalise.usager_id == usager_id, ProjetPersonnalise.etablissement_id == etablissement_id,
        ProjetPersonnalise.archived_at.is_(None), ProjetPersonnalise.statut != "clos")
        .order_by(ProjetPersonnalise.numero.desc())).scalars().first()


def progression(session, projet: ProjetPersonnalise) -> list[dict]:
    """Per objective of the version, its ratings and measures from the first bilan of the first
    version it was carried from, in date order."""
    result = []
    for objectif in projet.objectifs:
        chain, seen, cursor = [], set(), objectif
        while cursor is not None and cursor.id not in seen:
            seen.add(cursor.id)
            chain.append(cursor.id)
            cursor = session.get(ProjetObjectif, cursor.reprise_de_id) if cursor.reprise_de_id else None
        rows = session.execute(select(ProjetBilan.date, ProjetBilanObjectif.atteinte, ProjetBilanObjectif.mesure)
                               .join(ProjetBilan, ProjetBilan.id == ProjetBilanObjectif.bilan_id)
                               .where(ProjetBilanObjectif.objectif_id.in_(chain))
                               .order_by(ProjetBilan.date, ProjetBilanObjectif.id)).all()
        result.append({"id": objectif.id, "libelle": objectif.libelle, "unite": objectif.indicateur_unite,
                       "echelle": objectif.indicateur_echelle, "cible": objectif.indicateur_cible,
                       "points": [{"date": d.isoformat(), "atteinte": a, "mesure": m} for d, a, m in rows]})
    return result


def share_reached(bilan: ProjetBilan) -> float | None:
    """Share of the rated objectives reached in a bilan (abandoned ones left out)."""
    scored = [x for x in bilan.lignes if x.atteinte != "abandonne"]
    return sum(x.atteinte == "atteint" for x in scored) / len(scored) if scored else None


def echeances(session, scope, by: dt.date) -> list[dict]:
    """What is due by `by` in the user's scope: PPs to build (admitted, none yet, past the
    delay), to revise, bilans planned, actions past their end date. Columns and aggregates, not
    objects: the directors' home asks it for every admission of the organisation (30,000 objects
    and their PPs' bilans and actions one query each took 3.6 s at 30,000 usagers)."""
    due = []
    for deadline, usager_id, etablissement_id, projet, motif, action_id in _due_items(session, by):
        item = {"usager_id": usager_id, "projet_id": projet.id if projet else None, "motif": motif,
                "echeance": deadline.isoformat(), "etablissement_id": etablissement_id}
        if action_id is not None:
            item["action_id"] = action_id
        due.append(item)
    due.sort(key=lambda d: (d["echeance"], d["usager_id"]))
    return due


def due_counts(session, scope, today: dt.date, by: dt.date) -> tuple[int, int]:
    """(late, due from `today` to `by`): the home's two figures, the items of `echeances` counted
    by the database (four aggregates): reading every current admission and PP of a 30,000-person
    organisation to count them took half a second each time the data moved. `echeances` stays
    the reference; a test holds both to the same counts."""
    current = (select(Admission.usager_id, Admission.etablissement_id,
                      func.min(Admission.date_entree).label("entree"))
               .where(Admission.archived_at.is_(None), Admission.date_sortie.is_(None))
               .group_by(Admission.usager_id, Admission.etablissement_id).subquery("current_admission"))
    # each key's current PP: the highest version not closed (`newer` is read under the scope too)
    projet, newer = ProjetPersonnalise, aliased(ProjetPersonnalise)
    latest = and_(projet.archived_at.is_(None), projet.statut != "clos", ~select(newer.id).where(
        newer.usager_id == projet.usager_id, newer.etablissement_id == projet.etablissement_id,
        newer.archived_at.is_(None), newer.statut != "clos", newer.numero > projet.numero).exists())
    admitted = select(Admission.id).where(
        Admission.usager_id == projet.usager_id, Admission.etablissement_id == projet.etablissement_id,
        Admission.archived_at.is_(None), Admission.date_sortie.is_(None)).exists()

    delay_of: dict[int, list[int]] = {}  # months to the first PP → établissements
    for etablissement in session.execute(select(Etablissement).options(joinedload(Etablissement.categorie))).scalars():
        delay_of.setdefault(delays(etablissement)[0], []).append(etablissement.id)

    def entered_by(day):
        """Admissions whose first PP falls due on or before `day`: entered on or before the last
        date whose deadline (months added as relativedelta does, clipping to the month's end) is
        within it, found here per delay (SQLite's date() rolls 31 August + 6 months to 3 March)."""
        arms = []
        for months, ids in delay_of.items():
            last = day - relativedelta(months=months)
            while last + dt.timedelta(days=1) + relativedelta(months=months) <= day:
                last += dt.timedelta(days=1)
            arms.append(and_(current.c.etablissement_id.in_(ids), current.c.entree <= last))
        return or_(*arms) if arms else false()

    def counted(statement, late):
        rows = statement.add_columns(case((late, 1), else_=0).label("late")).subquery()
        return tuple(session.execute(select(func.coalesce(func.sum(rows.c.late), 0), func.count())
                                     .select_from(rows)).one())

    first = counted(select(current.c.usager_id, projet.id).select_from(current).outerjoin(projet, and_(
        projet.usager_id == current.c.usager_id, projet.etablissement_id == current.c.etablissement_id, latest))
        .where(or_(projet.id.is_(None), and_(projet.statut.in_(("elaboration", "propose")), projet.numero == 1)),
               entered_by(by)), entered_by(today - dt.timedelta(days=1)))
    # (the PP's own conditions first: each of the few rows left is then checked by index)
    revision = counted(select(projet.id).where(projet.statut.in_(("signe", "evalue")), projet.date_revision <= by,
                                               latest, admitted), projet.date_revision < today)
    bilans = counted(select(projet.id).where(projet.statut == "signe", _bilan_planned(session, projet, by),
                                             latest, admitted), _bilan_planned(session, projet, today, late=True))
    actions = counted(select(ProjetAction.id).select_from(projet)
                      .join(ProjetObjectif, ProjetObjectif.projet_id == projet.id)
                      .join(ProjetAction, ProjetAction.objectif_id == ProjetObjectif.id)
                      .where(projet.statut == "signe", ProjetAction.fin < by, latest, admitted),
                      ProjetAction.fin < today)
    late, total = (sum(pair[i] for pair in (first, revision, bilans, actions)) for i in (0, 1))
    return late, total - late


def _bilan_planned(session, projet, day: dt.date, late=False):
    """A bilan planned (`bilans_prevus`, ISO dates) by `day` (`late`: before it) and after the
    PP's last bilan: what `_due_items` yields as its "bilan" item."""
    if session.get_bind().dialect.name == "postgresql":
        planned = func.jsonb_array_elements_text(projet.bilans_prevus).table_valued("value").alias("planned")
        value, bound = cast(planned.c.value, Date), day
    else:  # SQLite keeps dates as ISO text: compared as text
        planned = func.json_each(projet.bilans_prevus).table_valued("value").alias("planned")
        value, bound = planned.c.value, day.isoformat()
    last = (select(func.max(ProjetBilan.date)).where(ProjetBilan.projet_id == projet.id)
            .correlate(projet).scalar_subquery())
    return select(literal_column("1")).select_from(planned).where(
        value < bound if late else value <= bound, value > func.coalesce(last, dt.date.min)).exists()


def _due_items(session, by: dt.date):
    """(deadline, usager id, établissement id, projet row or None, motif, action id or None) of
    each item due by `by`, in no particular order."""
    admissions = session.execute(select(Admission.usager_id, Admission.etablissement_id, Admission.date_entree)
                                 .where(Admission.archived_at.is_(None), Admission.date_sortie.is_(None))
                                 .order_by(Admission.date_entree)).all()
    signed = (ProjetPersonnalise.archived_at.is_(None), ProjetPersonnalise.statut == "signe")
    projets = {}
    for p in session.execute(select(ProjetPersonnalise.id, ProjetPersonnalise.usager_id,
                                    ProjetPersonnalise.etablissement_id, ProjetPersonnalise.numero,
                                    ProjetPersonnalise.statut, ProjetPersonnalise.date_revision,
                                    ProjetPersonnalise.bilans_prevus)
                             .where(ProjetPersonnalise.archived_at.is_(None), ProjetPersonnalise.statut != "clos")):
        key = (p.usager_id, p.etablissement_id)
        if key not in projets or p.numero > projets[key].numero:
            projets[key] = p
    last_bilans = dict(session.execute(
        select(ProjetBilan.projet_id, func.max(ProjetBilan.date))
        .join(ProjetPersonnalise, ProjetPersonnalise.id == ProjetBilan.projet_id).where(*signed)
        .group_by(ProjetBilan.projet_id)).all())
    late_actions = {}
    for action_id, fin, projet_id in session.execute(
            select(ProjetAction.id, ProjetAction.fin, ProjetObjectif.projet_id)
            .join(ProjetObjectif, ProjetObjectif.id == ProjetAction.objectif_id)
            .join(ProjetPersonnalise, ProjetPersonnalise.id == ProjetObjectif.projet_id)
            .where(*signed, ProjetAction.fin < by)
            .order_by(ProjetObjectif.projet_id, ProjetObjectif.position, ProjetObjectif.id,
                      ProjetAction.position, ProjetAction.id)):
        late_actions.setdefault(projet_id, []).append((action_id, fin))
    first_delays, deadlines = {}, {}

    def first_deadline(etablissement_id, entree):
        # (by delay and date, not by établissement: établissements share their delay, and adding a
        # relativedelta costs 10 µs — a quarter of this function at 30,000 admissions)
        if etablissement_id not in first_delays:
            first_delays[etablissement_id] = delays(session.get(Etablissement, etablissement_id))[0]
        key = (first_delays[etablissement_id], entree)
        if key not in deadlines:
            deadlines[key] = entree + relativedelta(months=key[0])
        return deadlines[key]

    seen = set()
    for usager_id, etablissement_id, entree in admissions:
        key = (usager_id, etablissement_id)
        if key in seen:
            continue
        seen.add(key)
        projet = projets.get(key)
        if projet is None:
            deadline = first_deadline(etablissement_id, entree)
            if deadline <= by:
                yield deadline, usager_id, etablissement_id, None, "a_elaborer", None
            continue
        if projet.statut in ("signe", "evalue") and projet.date_revision and projet.date_revision <= by:
            yield projet.date_revision, usager_id, etablissement_id, projet, "a_reviser", None
        elif projet.statut in ("elaboration", "propose") and projet.numero == 1:
            deadline = first_deadline(etablissement_id, entree)
            if deadline <= by:
                yield deadline, usager_id, etablissement_id, projet, "a_elaborer", None
        if projet.statut == "signe":
            last_bilan = last_bilans.get(projet.id)
            for planned in sorted(projet.bilans_prevus or []):
                planned = dt.date.fromisoformat(planned)
                if planned <= by and (last_bilan is None or last_bilan < planned):
                    yield planned, usager_id, etablissement_id, projet, "bilan", None
                    break
            for action_id, fin in late_actions.get(projet.id, ()):
                yield fin, usager_id, etablissement_id, projet, "action", action_id


def render_pdf(session, projet: ProjetPersonnalise, falc: bool = False, with_codes: bool = False) -> tuple[bytes, str]:
    """(PDF bytes, file name) of a version: the full document or its easy-read version."""
    from .projet_pdf import falc_pdf, projet_pdf

    if falc:
        return falc_pdf(projet), f"projet-{projet.id}-v{projet.numero}-facile-a-lire.pdf"
    return projet_pdf(projet, _users_of(session, projet), with_codes), f"projet-{projet.id}-v{projet.numero}.pdf"


def statistics(session, scope, today: dt.date) -> dict:
    """Per établissement and service of the current admissions the user sees: share of PPs up to
    date; per SERAFIN-PH besoin, objectives rated and reached at their latest rating; per
    prestation, actions planned and people concerned (current versions only)."""
    late = {(d["usager_id"], d["etablissement_id"]) for d in echeances(session, scope, today)
            if d["motif"] in ("a_elaborer", "a_reviser")}
    admissions = session.execute(select(Admission).where(Admission.archived_at.is_(None),
                                                         Admission.date_sortie.is_(None))).scalars().all()
    places = {}
    for a in admissions:
        row = places.setdefault((a.etablissement_id, a.service_id), {
            "etablissement": a.etablissement.name, "service": a.service.name, "usagers": 0, "a_jour": 0})
        row["usagers"] += 1
        row["a_jour"] += (a.usager_id, a.etablissement_id) not in late
    for row in places.values():
        row["part_a_jour"] = round(row["a_jour"] / row["usagers"], 3) if row["usagers"] else None
    besoins, prestations = {}, {}
    for projet in session.execute(select(ProjetPersonnalise).where(
            ProjetPersonnalise.archived_at.is_(None), ProjetPersonnalise.statut.in_(("signe", "evalue")))).scalars():
        latest = {}
        for bilan in projet.bilans:
            for ligne in bilan.lignes:
                latest[ligne.objectif_id] = ligne.atteinte
        for objectif in projet.objectifs:
            for code in objectif.besoins or []:
                entry = besoins.setdefault(code, {"evalues": 0, "atteints": 0})
                if objectif.id in latest:
                    entry["evalues"] += 1
                    entry["atteints"] += latest[objectif.id] == "atteint"
            if projet.statut == "signe":
                for action in objectif.actions:
                    entry = prestations.setdefault(action.prestation, {"actions": 0, "personnes": set()})
                    entry["actions"] += 1
                    entry["personnes"].add(projet.usager_id)
    codes = nomenclatures.serafin()
    return {
        "services": sorted(places.values(), key=lambda r: (r["etablissement"], r["service"])),
        "besoins": [{"code": c, "libelle": codes[c].label if c in codes else c, **v,
                     "part_atteints": round(v["atteints"] / v["evalues"], 3) if v["evalues"] else None}
                    for c, v in sorted(besoins.items())],
        "prestations": [{"code": c, "libelle": codes[c].label if c in codes else c, "actions": v["actions"],
                         "personnes": len(v["personnes"])} for c, v in sorted(prestations.items())],
    }


def statistics_xlsx(stats: dict) -> bytes:
    """The three tables of `statistics` as sheets of one workbook."""
    from .xlsx import Workbook

    sheets = [
        (_("Projets à jour"), [_("Établissement"), _("Service"), _("Usagers"), _("Projets à jour"), _("Part à jour")],
         [[r["etablissement"], r["service"], r["usagers"], r["a_jour"], r["part_a_jour"]] for r in stats["services"]]),
        (_("Objectifs par besoin"), [_("Code"), _("Besoin SERAFIN-PH"), _("Objectifs évalués"), _("Atteints"),
                                     _("Part atteints")],
         [[r["code"], r["libelle"], r["evalues"], r["atteints"], r["part_atteints"]] for r in stats["besoins"]]),
        (_("Prestations"), [_("Code"), _("Prestation SERAFIN-PH"), _("Actions"), _("Personnes")],
         [[r["code"], r["libelle"], r["actions"], r["personnes"]] for r in stats["prestations"]]),
    ]
    book = Workbook()
    for title, header, rows in sheets:
        sheet = book.sheet(title)
        sheet.header(header)
        for row in rows:
            sheet.row(row)
        sheet.widths(14, 60, 16, 16, 14)
    return book.bytes()


def store_scan(projet: ProjetPersonnalise, upload) -> str:
    """Keep the scan of a paper signature in the usager's folder (exported and erased with the
    dossier); the caller removes it again if the signature is refused."""
    from . import attachments

    reference, _path = attachments.store(current_app.config["SILLAGE_DATA_DIR"], projet.usager_id, "scan", upload)
    return reference


def drop_scan(projet: ProjetPersonnalise, reference: str | None) -> None:
    from . import attachments

    path = attachments.path_of(current_app.config["SILLAGE_DATA_DIR"], projet.usager_id, reference)
    if path is not None:
        path.unlink()


def summary(session, usager: Usager, today: dt.date) -> list[dict]:
    """Per établissement where the usager is admitted: the current PP (or none yet) and its next
    deadline, for the dossier's panel."""
    out = []
    for admission in sorted((a for a in usager.admissions if a.is_active), key=lambda a: a.date_entree):
        if any(row["etablissement"] == admission.etablissement for row in out):
            continue
        projet = current(session, usager.id, admission.etablissement_id)
        first, _revision = delays(admission.etablissement)
        if projet is None or (projet.statut in rules.EDITABLE and projet.numero == 1):
            deadline, motif = admission.date_entree + relativedelta(months=first), "a_elaborer"
        else:
            deadline, motif = projet.date_revision, "a_reviser"
        planned = [dt.date.fromisoformat(d) for d in (projet.bilans_prevus or [])] if projet else []
        done = max((b.date for b in projet.bilans), default=None) if projet else None
        upcoming = [d for d in planned if done is None or d > done]
        if projet is not None and projet.statut == "signe" and upcoming and (deadline is None or upcoming[0] < deadline):
            deadline, motif = upcoming[0], "bilan"
        out.append({"etablissement": admission.etablissement, "projet": projet, "motif": motif,
                    "echeance": deadline, "late": deadline is not None and deadline < today})
    return out


def erase_for_usager(session, usager_id: int) -> None:
    """Anonymisation: the PP's words and names go, its codes, ratings and dates stay for the
    statistics. Core updates: the scope must not hide a part from the erasure (the DPO does not
    read the PP's category). The files go with the usager's folder."""
    from sqlalchemy import update

    gone = "effacé"
    session.execute(update(ProjetPersonnalise).where(ProjetPersonnalise.usager_id == usager_id).values(
        synthese=None, pdf_path=None, falc_path=None), execution_options={"synchronize_session": False})
    session.execute(update(ProjetAttente).where(ProjetAttente.usager_id == usager_id).values(
        texte=gone, auteur_nom=None), execution_options={"synchronize_session": False})
    session.execute(update(ProjetObjectif).where(ProjetObjectif.usager_id == usager_id).values(
        realisation=None, libelle=gone, libelle_falc=None), execution_options={"synchronize_session": False})
    session.execute(update(ProjetAction).where(ProjetAction.usager_id == usager_id).values(
        libelle=gone, partenaires=None, ressources=None), execution_options={"synchronize_session": False})
    session.execute(update(ProjetBilan).where(ProjetBilan.usager_id == usager_id).values(commentaire=None),
                    execution_options={"synchronize_session": False})
    session.execute(update(ProjetBilanObjectif).where(ProjetBilanObjectif.usager_id == usager_id).values(
        avis_personne=None, commentaire=None), execution_options={"synchronize_session": False})
    session.execute(update(ProjetParticipation).where(ProjetParticipation.usager_id == usager_id).values(
        nom="-", motif=None), execution_options={"synchronize_session": False})
    session.execute(update(ProjetSignature).where(ProjetSignature.usager_id == usager_id).values(
        nom="-", scan_path=None), execution_options={"synchronize_session": False})
