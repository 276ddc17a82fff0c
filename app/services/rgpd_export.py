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
from fpdf import FPDF
from openpyxl import Workbook
from sqlalchemy import select

from ..models import (
    ContactPerson, CouvertureSociale, DemandeAdmission, Evaluation, MesureProtection, RectificationRequest, Usager,
)
from .rgpd import documents_dir

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


def collect(session, usager: Usager) -> dict:
    """The usager's data as plain JSON values (the scope hook has already let us read it)."""
    contacts = []
    if usager.foyer_id:
        contacts = [_row(c, ("nom", "prenom", "lien", "roles", "telephone", "email", "adresse"))
                    for c in session.execute(select(ContactPerson).where(ContactPerson.foyer_id == usager.foyer_id,
                                                                         ContactPerson.archived_at.is_(None))).scalars()]
    couverture = session.execute(select(CouvertureSociale).where(CouvertureSociale.usager_id == usager.id)).scalar()
    return {
        "format": "sillage-export-usager", "format_version": FORMAT_VERSION,
        "exported_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
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
        "evaluations": [dict(_row(e, ("form_code", "form_version", "status", "evaluated_on", "answers", "computed",
                                      "validated_at")))
                        for e in session.execute(select(Evaluation).where(Evaluation.usager_id == usager.id,
                                                                          Evaluation.archived_at.is_(None))
                                                 .order_by(Evaluation.evaluated_on)).scalars()],
        "demandes_rectification": [_row(r, ("received_on", "requested_by", "content", "status", "decision", "decided_at"))
                                   for r in session.execute(select(RectificationRequest)
                                                            .where(RectificationRequest.usager_id == usager.id)).scalars()],
    }


def _flat(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def workbook(data: dict) -> bytes:
    wb = Workbook()
    sheet = wb.active
    sheet.title = "Identité"
    for key, value in data["usager"].items():
        sheet.append([key, _flat(value)])
    sections = {"Contacts": (data["foyer"] or {}).get("contacts", []), "Protection": data["mesures_protection"],
                "Demandes": data["demandes_admission"], "Admissions": data["admissions"],
                "Évaluations": data["evaluations"], "Rectifications": data["demandes_rectification"]}
    if data["couverture_sociale"]:
        sections["Couverture"] = [data["couverture_sociale"]]
    for title, rows in sections.items():
        ws = wb.create_sheet(title)
        if rows:
            ws.append(list(rows[0]))
            for row in rows:
                ws.append([_flat(row.get(k)) for k in rows[0]])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


LATIN1 = str.maketrans({"œ": "oe", "Œ": "OE", "’": "'", "‘": "'", "“": '"', "”": '"', "…": "...", "–": "-",
                        "—": "-", "€": "EUR", "\u202f": " "})


def _latin1(text: str) -> str:
    """fpdf2's built-in fonts are Latin-1: French fits, a few typographic signs are spelt out."""
    return str(text).translate(LATIN1).encode("latin-1", "replace").decode("latin-1")


def summary_pdf(data: dict) -> bytes:
    pdf = FPDF()
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    u = data["usager"]
    pdf.set_font("Helvetica", "B", 15)
    pdf.multi_cell(0, 8, _latin1(_("Dossier de %(n)s", n=f"{u['nom_naissance']} {' '.join(u['prenoms_naissance'] or [])}")),
                   new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 9)
    pdf.multi_cell(0, 5, _latin1(_("Export RGPD (droit d'accès) du %(d)s - Sillage", d=data["exported_at"][:10])),
                   new_x="LMARGIN", new_y="NEXT")

    def section(title, lines):
        pdf.ln(3)
        pdf.set_font("Helvetica", "B", 12)
        pdf.multi_cell(0, 7, _latin1(title), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 10)
        for line in lines or ["-"]:
            pdf.multi_cell(0, 5, _latin1(line), new_x="LMARGIN", new_y="NEXT")

    section(_("Identité"), [f"{k} : {_flat(v)}" for k, v in u.items() if v not in (None, "", [])])
    section(_("Parcours"), [f"{a['etablissement']} - {a['service'] or ''} : du {a['date_entree']} au {a['date_sortie'] or '...'}"
                         for a in data["admissions"]])
    section(_("Évaluations"), [f"{e['form_code']} v{e['form_version']} du {e['evaluated_on']} : "
                            + ", ".join(f"{k} = {_flat(v)}" for k, v in (e["computed"] or {}).items())
                            for e in data["evaluations"]])
    if data["foyer"]:
        section(_("Proches"), [f"{c['prenom'] or ''} {c['nom']} ({c['lien'] or ''}) {c['telephone'] or ''}"
                            for c in data["foyer"]["contacts"]])
    section(_("Demandes de rectification"), [f"{r['received_on'][:10]} : {r['content']} ({r['status']})"
                                          for r in data["demandes_rectification"]])
    return bytes(pdf.output())


def export_zip(session, usager: Usager, data_dir: str) -> bytes:
    data = collect(session, usager)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("usager.json", json.dumps(data, ensure_ascii=False, indent=2))
        zf.writestr("schema.json", SCHEMA_FILE.read_text(encoding="utf-8"))
        zf.writestr("usager.xlsx", workbook(data))
        zf.writestr("resume.pdf", summary_pdf(data))
        folder = documents_dir(data_dir, usager.id)
        if folder.is_dir():
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    zf.write(path, "documents/" + path.relative_to(folder).as_posix())
    return out.getvalue()
