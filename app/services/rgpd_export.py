"""Right of access and portability: everything Sillage holds on one usager, in one ZIP.

- `usager.json`: machine-readable, described by `schema.json` (JSON Schema, shipped in the ZIP
  and in app/services/rgpd_export.schema.json);
- `usager.xlsx`: the same, one sheet per section (openpyxl);
- `resume.pdf`: a readable summary (fpdf2);
- `documents/`: the usager's files as stored.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from pathlib import Path

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..models import (
    ContactPerson, CouvertureSociale, DemandeAdmission, Evaluation, MesureProtection, RectificationRequest, Usager,
)
from ..domain import clock, vocab
from .rgpd import documents_dir
from .xlsx import Workbook

SCHEMA_FILE = Path(__file__).with_name("rgpd_export.schema.json")
FORMAT_VERSION = 1
USAGER_FIELDS = ("id", "nom_naissance", "prenoms_naissance", "date_naissance", "sexe", "lieu_naissance_code",
                 "lieu_naissance_libelle", "nom_utilise", "prenom_utilise", "matricule_ins", "oid_ins",
                 "statut_identite", "piece_identite_type", "telephone_fixe", "telephone_mobile", "email", "adresse",
                 "code_postal", "commune", "pays", "situation_familiale", "situation_professionnelle", "scolarite",
                 "created_at", "archived_at", "anonymised_at")


def _plain(value):
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _row(obj, fields) -> dict:
    return {f: _plain(getattr(obj, f)) for f in fields}


def _evaluation(e: Evaluation) -> dict:
    """An evaluation's values, and the same as its reader sees them: labels, not field codes."""
    from ..domain.forms.display import readable_answers, readable_results

    data = e.definition.data if e.definition is not None else {}
    return dict(_row(e, ("form_code", "form_version", "status", "evaluated_on", "answers", "computed", "validated_at")),
                titre=e.definition.title if e.definition is not None else e.form_code,
                reponses=[[label, text] for label, text in readable_answers(data, e.answers or {})],
                resultats=[[label, text] for label, text in readable_results(data, e.computed or {})])


def collect(session, usager: Usager, complete: bool = False) -> dict:
    """The usager's data as plain JSON values: what the scope and the shared secret let the
    maker read (`complete`: the export for the person, made with every category)."""
    from . import documents, forms, messages, papiers, portal, projets, transmissions
    contacts = []
    if usager.foyer_id:
        contacts = [_row(c, ("nom", "prenom", "lien", "roles", "telephone", "email", "adresse"))
                    for c in session.execute(select(ContactPerson).where(ContactPerson.foyer_id == usager.foyer_id,
                                                                         ContactPerson.archived_at.is_(None))).scalars()]
    couverture = session.execute(select(CouvertureSociale).where(CouvertureSociale.usager_id == usager.id)).scalar()
    return {
        "format": "sillage-export-usager", "format_version": FORMAT_VERSION,
        "exported_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "complet": complete,
        "usager": _row(usager, USAGER_FIELDS),
        "foyer": ({"libelle": usager.foyer.libelle, "adresse": usager.foyer.adresse, "code_postal": usager.foyer.code_postal,
                   "commune": usager.foyer.commune, "contacts": contacts} if usager.foyer else None),
        "couverture_sociale": _row(couverture, ("regime", "caisse", "complementaire", "droits_debut", "droits_fin",
                                                "css", "ame")) if couverture else None,
        "mesures_protection": [_row(m, ("type_mesure", "mandataire", "mandataire_contact", "date_debut", "date_fin",
                                        "reference_jugement", "commentaire"))
                               for m in session.execute(select(MesureProtection)
                                                        .where(MesureProtection.usager_id == usager.id)).scalars()],
        "demandes_admission": [dict(_row(d, ("date_demande", "statut", "decision_orientation_ref", "commentaire")),
                                    etablissement=d.etablissement.name)
                               for d in session.execute(select(DemandeAdmission)
                                                        .where(DemandeAdmission.usager_id == usager.id)).scalars()],
        "admissions": [dict(_row(a, ("date_entree", "date_sortie", "decision_orientation_ref", "orientation_debut",
                                     "orientation_fin", "commentaire")),
                            etablissement=a.etablissement.name, service=a.service.name if a.service else None,
                            modalite=str(a.modalite) if a.modalite else None,
                            motif_sortie=str(a.motif_sortie) if a.motif_sortie else None)
                       for a in usager.admissions],
        "evaluations": [_evaluation(e) for e in reversed(forms.evaluations_of(session, usager.id))],
        "projets": [projets.as_dict(p) for p in projets.projets_of(session, usager.id)],
        "documents": [documents.as_dict(d) for d in documents.documents_of(session, usager.id, archived=True)],
        "transmissions": [transmissions.as_dict(t) for t in transmissions.about(session, usager.id)],
        "messages": messages.exported(session, usager.id, everyone=complete)[0],
        "papiers": {key: [papiers.as_dict(key, p) for p in papiers.papers_of(session, usager.id, key)]
                    for key in papiers.KINDS},
        "demandes_rectification": [_row(r, ("received_on", "requested_by", "content", "status", "decision", "decided_at"))
                                   for r in session.execute(select(RectificationRequest)
                                                            .where(RectificationRequest.usager_id == usager.id)).scalars()],
        "acces_portail": portal.export_rows(session, usager.id),
    }


def _flat(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("Oui") if value else _("Non")
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def workbook(data: dict) -> bytes:
    book = Workbook()
    sheet = book.sheet("Identité")
    for key, value in data["usager"].items():
        sheet.row([key, _flat(value)])
    sections = {"Contacts": (data["foyer"] or {}).get("contacts", []), "Protection": data["mesures_protection"],
                "Demandes": data["demandes_admission"], "Admissions": data["admissions"],
                "Évaluations": data["evaluations"], "Rectifications": data["demandes_rectification"],
                "Messages": [dict(fil=t["id"], sujet=t["sujet"], **m) for t in data["messages"] for m in t["messages"]]}
    if data["couverture_sociale"]:
        sections["Couverture"] = [data["couverture_sociale"]]
    for title, rows in sections.items():
        ws = book.sheet(title)
        if rows:
            ws.header(list(rows[0]))
            for row in rows:
                ws.row([_flat(row.get(k)) for k in rows[0]])
    ws = book.sheet(_("Accès portail"))
    ws.header([str(label) for _key, label in PORTAL_COLUMNS])
    for row in data.get("acces_portail", []):
        ws.row([_portal_cell(key, row) for key, _label in PORTAL_COLUMNS])
    return book.bytes()


# The portal accesses (services/portal.py `as_dict`) as a person reads them: who, which rights,
# in which state, from when to when (jj/mm/aaaa).
PORTAL_COLUMNS = (("personne", _l("Personne")), ("lien", _l("Lien")), ("email", _l("Courriel")),
                  ("droits", _l("Droits")), ("statut", _l("État")), ("invite_le", _l("Invitée le")),
                  ("accepte_le", _l("Acceptée le")), ("expire_le", _l("Fin prévue le")),
                  ("revoque_le", _l("Révoquée le")), ("termine_le", _l("Terminée le")),
                  ("motif_fin", _l("Motif de fin")))


def _portal_cell(key: str, row: dict) -> str:
    from .portal import STATUS_LABELS

    value = row.get(key)
    if key == "personne":
        return value or _("La personne elle-même")
    if key == "statut":
        return str(STATUS_LABELS.get(value, value or ""))
    if key == "droits":
        return ", ".join(value or [])
    if key.endswith("_le"):
        return _date(value)
    return "" if value is None else str(value)


USAGER_LABELS = {
    "nom_naissance": _l("Nom de naissance"), "prenoms_naissance": _l("Prénoms de naissance"),
    "date_naissance": _l("Date de naissance"), "sexe": _l("Sexe"), "lieu_naissance_libelle": _l("Lieu de naissance"),
    "nom_utilise": _l("Nom utilisé"), "prenom_utilise": _l("Prénom utilisé"), "matricule_ins": _l("Matricule INS"),
    "statut_identite": _l("Statut de l'identité"), "piece_identite_type": _l("Pièce d'identité"),
    "telephone_fixe": _l("Téléphone fixe"), "telephone_mobile": _l("Téléphone mobile"), "email": _l("Courriel"),
    "adresse": _l("Adresse"), "code_postal": _l("Code postal"), "commune": _l("Commune"), "pays": _l("Pays"),
    "situation_familiale": _l("Situation familiale"), "situation_professionnelle": _l("Situation professionnelle"),
    "scolarite": _l("Scolarité"), "created_at": _l("Dossier ouvert le"),
}
USAGER_VOCABULARIES = {"sexe": vocab.SEXE, "statut_identite": vocab.STATUT_IDENTITE,
                       "piece_identite_type": vocab.PIECE_IDENTITE, "situation_familiale": vocab.SITUATION_FAMILIALE,
                       "situation_professionnelle": vocab.SITUATION_PRO}


def _date(value) -> str:
    """An ISO date or timestamp of the export → jj/mm/aaaa."""
    return clock.date_text(str(value)) if value else ""


def _text(key, value) -> str:
    if key in USAGER_VOCABULARIES:
        return vocab.label(USAGER_VOCABULARIES[key], value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if key.startswith("date") or key.endswith("_at") or key.endswith("_le"):
        return _date(value)
    return str(value)


def summary_pdf(data: dict) -> bytes:
    """The summary a person reads: French headings and labels, dates jj/mm/aaaa, lists as text."""
    from .pdf import Document

    u = data["usager"]
    name = f"{' '.join(u['prenoms_naissance'] or [])} {u['nom_naissance']}"
    doc = Document(_("Dossier de %(n)s", n=name), footer=_("Sillage - dossier de %(n)s", n=name))
    doc.subtitle(_("Export du %(d)s%(c)s", d=_date(data["exported_at"]),
                   c=_(" (droit d'accès : toutes les informations)") if data.get("complet") else ""))
    doc.heading(_("Identité et coordonnées"))
    doc.pairs([(str(label), _text(key, u.get(key))) for key, label in USAGER_LABELS.items()
               if u.get(key) not in (None, "", [])])
    if data["foyer"]:
        doc.heading(_("Foyer et proches"))
        doc.bullets([" ".join(x for x in (c.get("prenom"), c["nom"]) if x)
                     + (f" ({c['lien']})" if c.get("lien") else "")
                     + (", " + ", ".join(vocab.label(vocab.ROLE_CONTACT, r) for r in c.get("roles") or [])
                        if c.get("roles") else "")
                     + (f" - {c['telephone']}" if c.get("telephone") else "") for c in data["foyer"]["contacts"]]
                    or [_("Aucun proche enregistré.")])
    if data["couverture_sociale"]:
        c = data["couverture_sociale"]
        doc.heading(_("Couverture sociale"))
        doc.pairs([(_("Régime"), vocab.label(vocab.REGIME, c.get("regime")) if c.get("regime") else ""),
                   (_("Caisse"), c.get("caisse")), (_("Complémentaire"), c.get("complementaire")),
                   (_("Droits du"), _date(c.get("droits_debut"))), (_("au"), _date(c.get("droits_fin"))),
                   (_("CSS"), _flat(bool(c.get("css")))), (_("AME"), _flat(bool(c.get("ame"))))])
    if data["mesures_protection"]:
        doc.heading(_("Mesures de protection"))
        doc.bullets([f"{vocab.label(vocab.MESURE_PROTECTION, m.get('type_mesure'))}"
                     + (f", {m['mandataire']}" if m.get("mandataire") else "")
                     + f", {_('depuis le')} {_date(m.get('date_debut'))}" for m in data["mesures_protection"]])
    doc.heading(_("Parcours"))
    doc.bullets([f"{a['etablissement']}" + (f", {a['service']}" if a.get("service") else "")
                 + f" : {_('entrée le')} {_date(a['date_entree'])}"
                 + (f", {_('sortie le')} {_date(a['date_sortie'])}" if a.get("date_sortie") else "")
                 for a in data["admissions"]] or [_("Aucune admission.")])
    if data["demandes_admission"]:
        doc.heading(_("Demandes d'admission"))
        doc.bullets([f"{d['etablissement']} : {_date(d['date_demande'])}, {vocab.label(vocab.STATUT_DEMANDE, d['statut'])}"
                     for d in data["demandes_admission"]])
    doc.heading(_("Évaluations"))
    if not data["evaluations"]:
        doc.paragraph(_("Aucune évaluation."))
    for e in data["evaluations"]:
        doc.heading(f"{e['titre']} - {_date(e['evaluated_on'])}", level=2)
        doc.pairs(e["resultats"] + e["reponses"])
    for p in data.get("projets", []):
        doc.heading(_("Projet personnalisé, version %(n)s (%(e)s)", n=p["numero"], e=p["etablissement"]))
        doc.pairs([(_("Début"), _date(p["date_debut"])), (_("Statut"), p["statut_libelle"])])
        doc.bullets([f"« {a['texte']} »" for a in p["attentes"]])
        doc.bullets([o["libelle"] + "".join(f" ; {a['libelle']}" for a in o["actions"]) for o in p["objectifs"]])
    if data["messages"]:
        doc.heading(_("Messagerie interne"))
        doc.bullets([_("%(d)s : %(s)s (%(n)s message(s))", d=_date(t["cree_le"]), s=t["sujet"], n=len(t["messages"]))
                     for t in data["messages"]])
    if data["demandes_rectification"]:
        doc.heading(_("Demandes de rectification"))
        doc.bullets([f"{_date(r['received_on'])} : {r['content']}" for r in data["demandes_rectification"]])
    if data.get("acces_portail"):
        doc.heading(_("Accès au portail des familles"))
        doc.bullets([_portal_line(a) for a in data["acces_portail"]])
    return doc.output()


def _portal_line(a: dict) -> str:
    """One access: "Nadia X (mère), nadia@… : Actif, invitée le 04/12/2026, acceptée le …;
    droits : agenda, projet"."""
    who = _portal_cell("personne", a) + (f" ({a['lien']})" if a.get("lien") else "") + f", {a['email']}"
    dates = [f"{label} {_date(a[key])}" for key, label in
             (("invite_le", _("invitée le")), ("accepte_le", _("acceptée le")), ("expire_le", _("fin prévue le")),
              ("revoque_le", _("révoquée le")), ("termine_le", _("terminée le"))) if a.get(key)]
    end = f" ({a['motif_fin']})" if a.get("motif_fin") else ""
    rights = _("droits : %(d)s", d=_portal_cell("droits", a) or _("aucun"))
    return f"{who} : {_portal_cell('statut', a)}{end}, {', '.join(dates)} ; {rights}"


def readable_files(session, usager: Usager, folder: Path, complete: bool) -> list[Path]:
    """The files of the usager's folder the maker may read: those of the evaluations and projets
    personnalisés the scope and the shared secret let them load (a prescription attached to a
    medical evaluation is not a secretary's). A file of unknown origin has no known category:
    only the complete export (every category) holds it."""
    from . import attachments, documents, forms, messages, projets

    if not folder.is_dir():
        return []
    everything = sorted(p for p in folder.rglob("*") if p.is_file())
    if complete:
        return everything
    references = set()
    for e in forms.evaluations_of(session, usager.id):
        references |= attachments.references(e.definition.data if e.definition else {}, e.answers or {})
    for p in projets.projets_of(session, usager.id):
        references |= {r for r in (p.pdf_path, p.falc_path, *(s.scan_path for s in p.signatures)) if r}
    for d in documents.documents_of(session, usager.id, archived=True):
        references |= {v.fichier for v in d.versions}
    references |= messages.exported(session, usager.id)[1]
    return [p for p in everything if p.relative_to(folder).as_posix() in references]


def export_zip(session, usager: Usager, data_dir: str, complete: bool = False) -> bytes:
    """Every RGPD export: JSON, xlsx, PDF and documents, each holding only what its maker may
    read (`complete`: the person's own export, every category, see rgpd.answer_access)."""
    from .rgpd import refuse_if_anonymised

    refuse_if_anonymised(usager)
    data = collect(session, usager, complete)
    folder = documents_dir(data_dir, usager.id)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("usager.json", json.dumps(data, ensure_ascii=False, indent=2))
        zf.writestr("schema.json", SCHEMA_FILE.read_text(encoding="utf-8"))
        zf.writestr("usager.xlsx", workbook(data))
        zf.writestr("resume.pdf", summary_pdf(data))
        for path in readable_files(session, usager, folder, complete):
            zf.write(path, "documents/" + path.relative_to(folder).as_posix())
    return out.getvalue()
