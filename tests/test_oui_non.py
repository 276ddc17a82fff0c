"""Booleans read « Oui » / « Non » in French wherever a person reads them: evaluation pages and
their live preview, the form's xlsx export, the RGPD export's readable parts and PDF summary."""
import html
import io
import json

from openpyxl import load_workbook
from pypdf import PdfReader

from app.extensions import db
from app.models import CouvertureSociale, Usager

from . import factories as f

ITEMS = """  - {code: chute, label: Chute récente, type: yes_no}
  - {code: alerte, label: Alerte chute, type: computed, expression: chute == True}
"""


def _grid(app):
    from app.services import forms

    code = "oui_non_" + f.unique_name("").lower()
    with app.app_context():
        forms.publish(db.session, forms.save_draft(db.session, f.grid_yaml(code, "Chutes", ITEMS)))
    return code


def test_booleans_read_oui_non_in_pages_exports_and_the_rgpd_summary(app, as_user, api):
    code = _grid(app)
    with app.app_context():
        usager = f.gen_usager()
        db.session.add(CouvertureSociale(usager_id=usager.id, regime="general", css=True, ame=False))
        db.session.commit()
        uid = usager.id
    saved = api("soin.tilleuls").post(f"/api/v1/usager/{uid}/evaluations", json={
        "form": code, "answers": {"chute": True}, "status": "validated"})
    assert saved.status_code == 201 and saved.json["result"]["computed"]["alerte"] is True  # JSON keeps booleans
    nurse = as_user("soin.tilleuls")
    page = html.unescape(nurse.get(f"/dossier/{uid}/evaluations/{saved.json['id']}").data.decode())
    assert '<output class="computed" data-computed="alerte">Oui</output>' in page
    assert 'data-yes="Oui" data-no="Non"' in page  # what the live preview writes
    dossier = html.unescape(nurse.get(f"/dossier/{uid}").data.decode())
    assert "<dt>CSS</dt><dd>Oui</dd>" in dossier and "<dt>AME</dt><dd>Non</dd>" in dossier
    sheet = load_workbook(io.BytesIO(nurse.get(f"/evaluations/{code}/export.xlsx").data)).active
    values = [c.value for row in sheet.iter_rows(min_row=2) for c in row]
    assert values.count("Oui") == 2 and not any(v is True or v in ("oui", "True") for v in values)
    with app.app_context():
        from app.services.rgpd_export import collect, summary_pdf

        data = collect(db.session, db.session.get(Usager, uid), complete=True)
        mine = next(e for e in data["evaluations"] if e["form_code"] == code)
        assert mine["resultats"] == [["Alerte chute", "Oui"]] and mine["reponses"] == [["Chute récente", "Oui"]]
        text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(summary_pdf(json.loads(
            json.dumps(data, default=str))))).pages)
    assert "Alerte chute" in text and "True" not in text and "CSS" in text
