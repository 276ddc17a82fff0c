"""File fields: uploaded from the page into the usager's folder, downloadable by who may read
the evaluation, refused when of an unknown kind, never left behind by a failed save, erased
with the dossier."""
import io
import os

from sqlalchemy import select

from app.extensions import db
from app.models import Evaluation
from app.services import forms
from app.services.rgpd import documents_dir

from . import factories as f

ITEMS = """  - code: ordonnance
    label: Ordonnance
    type: file
  - code: date_ordonnance
    label: Date
    type: date
    required: true
"""


def files_of(app, uid):
    folder = documents_dir(app.config["SILLAGE_DATA_DIR"], uid) / "formulaires"
    return sorted(os.listdir(folder)) if folder.exists() else []


def test_a_file_is_stored_downloaded_and_kept_to_readers(app, as_user, api):
    code = "ordo_" + f.unique_name("").lower()
    with app.app_context():
        forms.publish(db.session, forms.save_draft(db.session, f.grid_yaml(code, f"Ordonnances {code}", ITEMS)))
        uid = f.gen_usager().id
    nurse = as_user("soin.tilleuls")
    url = f"/dossier/{uid}/evaluations/nouvelle/{code}"
    assert 'type="file"' in nurse.get(url).data.decode()
    # a refused save (the date is missing) leaves no file behind
    refused = nurse.post(url, data={"a-ordonnance": (io.BytesIO(b"%PDF-1.4 ordonnance"), "Ordonnance Mme Dupré.pdf"),
                                    "action": "validate"}, content_type="multipart/form-data")
    assert refused.status_code == 422 and files_of(app, uid) == []
    wrong_kind = nurse.post(url, data={"a-ordonnance": (io.BytesIO(b"MZ"), "virus.exe"), "a-date_ordonnance": "2026-11-01",
                                       "action": "validate"}, content_type="multipart/form-data")
    assert wrong_kind.status_code == 422 and "Type de fichier refusé" in wrong_kind.data.decode()
    assert files_of(app, uid) == []
    saved = nurse.post(url, data={"a-ordonnance": (io.BytesIO(b"%PDF-1.4 ordonnance"), "Ordonnance Mme Dupré.pdf"),
                                  "a-date_ordonnance": "2026-11-01", "action": "validate"},
                       content_type="multipart/form-data")
    assert saved.status_code == 302 and len(files_of(app, uid)) == 1
    with app.app_context():
        evaluation = db.session.execute(select(Evaluation).where(Evaluation.form_code == code)).scalar_one()
        reference, eid = evaluation.answers["ordonnance"], evaluation.id
    assert reference.endswith("-Ordonnance_Mme_Dupre.pdf")
    shown = nurse.get(f"/dossier/{uid}/evaluations/{eid}").data.decode()
    assert "Ordonnance_Mme_Dupre.pdf" in shown
    download = nurse.get(f"/dossier/{uid}/fichiers/{reference}")
    assert download.status_code == 200 and download.data == b"%PDF-1.4 ordonnance"
    assert "attachment" in download.headers["Content-Disposition"]
    assert as_user("educ.sources").get(f"/dossier/{uid}/fichiers/{reference}").status_code == 404  # out of scope
    assert as_user("secretaire.tilleuls").get(f"/dossier/{uid}/fichiers/{reference}").status_code == 404  # category
    assert nurse.get(f"/dossier/{uid}/fichiers/formulaires/../../secret").status_code == 404
    # a correction keeps the file unless another is sent
    assert nurse.post(f"/dossier/{uid}/evaluations/{eid}/corriger", data={
        "a-ordonnance-keep": reference, "a-date_ordonnance": "2026-11-02", "action": "validate"}).status_code == 302
    # the API cannot point at a file that is not this usager's
    with app.app_context():
        other = f.gen_usager().id
    made = api("soin.tilleuls").post(f"/api/v1/usager/{other}/evaluations", json={
        "form": code, "version": 1, "status": "validated",
        "answers": {"ordonnance": reference, "date_ordonnance": "2026-11-01"}})
    assert made.status_code == 422 and "ordonnance" in str(made.json)
