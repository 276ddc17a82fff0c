"""Exports and files (issue 14 §5): no formula in any xlsx Sillage writes, a kept file belongs to
the record it continues, uploads are what they claim and carry no macro, downloads are never
cached, and what Sillage writes on disk is readable by its service account only."""
from __future__ import annotations

import io
import os
import stat
import zipfile

import openpyxl
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Evaluation
from app.services import forms
from app.services.rgpd import documents_dir
from app.services.xlsx import Workbook

from . import factories as f
from .test_attachments import ITEMS, files_of

FORMULAS = ['=HYPERLINK("http://evil.example","x")', "+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\n%%EOF"


def _reloaded(content: bytes):
    return openpyxl.load_workbook(io.BytesIO(content))


def test_the_one_xlsx_writer_never_writes_a_formula():
    book = Workbook()
    sheet = book.sheet("Essai: [1]/2")
    sheet.header(["valeur"])
    for value in FORMULAS + ["texte\x00avec\x07contrôle", True, 3, None]:
        sheet.row([value])
    ws = _reloaded(book.bytes())["Essai 12"]
    cells = [ws.cell(row=i, column=1) for i in range(2, len(FORMULAS) + 2)]
    assert [c.value for c in cells] == [v.replace("\r", "\n") for v in FORMULAS]  # (XML reads \r as \n)
    assert all(c.data_type == "s" and c.quotePrefix for c in cells)
    assert ws.cell(row=len(FORMULAS) + 2, column=1).value == "texteaveccontrôle"
    assert ws.cell(row=len(FORMULAS) + 3, column=1).value == "Oui"


def test_form_and_rgpd_exports_write_formulas_as_text(app, as_user):
    code = "xlsx_" + f.unique_name("").lower()
    with app.app_context():
        forms.publish(db.session, forms.save_draft(db.session, f.grid_yaml(
            code, "Injection", "  - {code: note, label: Note, type: text}")))
        usager = f.gen_usager(nom_naissance='=HYPERLINK("http://evil.example","x")')
        uid = usager.id
        forms.save_evaluation(db.session, usager=usager, code=code, version=1, status="validated",
                              answers={"note": "@SUM(A1)"})
    sheet = _reloaded(as_user("soin.tilleuls").get(f"/evaluations/{code}/export.xlsx").data).active
    cells = [c for row in sheet.iter_rows() for c in row if isinstance(c.value, str) and c.value[:1] in "=@"]
    assert {c.value for c in cells} == {'=HYPERLINK("http://evil.example","x")', "@SUM(A1)"}
    assert all(c.data_type == "s" for c in cells)
    archive = zipfile.ZipFile(io.BytesIO(as_user("secretaire.tilleuls").get(f"/rgpd/dossier/{uid}/export").data))
    identity = _reloaded(archive.read("usager.xlsx"))["Identité"]
    name = next(c for c in identity["B"] if c.value == '=HYPERLINK("http://evil.example","x")')
    assert name.data_type == "s"


def _form(app):
    code = "ordo_" + f.unique_name("").lower()
    with app.app_context():
        forms.publish(db.session, forms.save_draft(db.session, f.grid_yaml(code, f"Ordonnances {code}", ITEMS)))
        uid = f.gen_usager().id
    return code, uid


def _upload(client, code, uid, content, name, **extra):
    return client.post(f"/dossier/{uid}/evaluations/nouvelle/{code}", data={
        "a-ordonnance": (io.BytesIO(content), name), "a-date_ordonnance": "2026-11-01", "action": "validate", **extra},
        content_type="multipart/form-data")


def test_a_kept_file_must_belong_to_the_record_it_continues(app, as_user):
    code, uid = _form(app)
    nurse = as_user("soin.tilleuls")
    assert _upload(nurse, code, uid, PDF, "ordonnance.pdf").status_code == 302
    with app.app_context():
        first = db.session.execute(select(Evaluation).where(Evaluation.form_code == code)).scalar_one()
        reference, eid = first.answers["ordonnance"], first.id
    # a new evaluation naming the other one's file is refused
    stolen = nurse.post(f"/dossier/{uid}/evaluations/nouvelle/{code}", data={
        "a-ordonnance-keep": reference, "a-date_ordonnance": "2026-11-02", "action": "validate"})
    assert stolen.status_code == 422 and "appartient à une autre saisie" in stolen.data.decode()
    # the correction of that evaluation keeps it
    kept = nurse.post(f"/dossier/{uid}/evaluations/{eid}/corriger", data={
        "form_version": "1", "a-ordonnance-keep": reference, "a-date_ordonnance": "2026-11-03", "action": "validate"})
    assert kept.status_code == 302
    with app.app_context():
        correction = db.session.execute(select(Evaluation).where(Evaluation.corrects_id == eid)).scalar_one()
        assert correction.answers["ordonnance"] == reference


@pytest.mark.parametrize("content, name, message", [
    (b"MZ\x90\x00 pas un pdf", "ordonnance.pdf", "ne correspond pas"),
    (b"\x89PNG\r\n\x1a\n" + b"0" * 40, "photo.jpg", "ne correspond pas"),
    (b"texte\x00binaire", "note.txt", "ne correspond pas"),
    (PDF, "document.docx", "ne correspond pas"),
])
def test_an_upload_must_be_what_its_name_says(app, as_user, content, name, message):
    code, uid = _form(app)
    refused = _upload(as_user("soin.tilleuls"), code, uid, content, name)
    assert refused.status_code == 422 and message in refused.data.decode()
    assert files_of(app, uid) == []


def _docx(macros: bool) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        content_type = "application/vnd.ms-word.document.macroEnabled.main+xml" if macros else \
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
        archive.writestr("[Content_Types].xml", f'<Types><Override ContentType="{content_type}"/></Types>')
        archive.writestr("word/document.xml", "<document/>")
        if macros:
            archive.writestr("word/vbaProject.bin", b"\x00macro")
    return out.getvalue()


def test_documents_with_macros_are_refused_unless_the_setting_allows_them(app, as_user):
    code, uid = _form(app)
    nurse = as_user("soin.tilleuls")
    assert _upload(nurse, code, uid, _docx(False), "courrier.docx").status_code == 302
    refused = _upload(nurse, code, uid, _docx(True), "courrier.docx")
    assert refused.status_code == 422 and "macros" in refused.data.decode()
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100 + "_VBA_PROJECT".encode("utf-16-le")
    assert "macros" in _upload(nurse, code, uid, ole, "ancien.doc").data.decode()
    assert len(files_of(app, uid)) == 1
    app.config["SILLAGE_ALLOW_MACRO_DOCUMENTS"] = True
    try:
        assert _upload(nurse, code, uid, _docx(True), "courrier.docx").status_code == 302
    finally:
        app.config["SILLAGE_ALLOW_MACRO_DOCUMENTS"] = False


def test_downloads_are_never_cached(app, as_user, api):
    code, uid = _form(app)
    nurse = as_user("soin.tilleuls")
    _upload(nurse, code, uid, PDF, "ordonnance.pdf")
    with app.app_context():
        reference = db.session.execute(select(Evaluation.answers).where(Evaluation.form_code == code)).scalar_one()[
            "ordonnance"]
    for response in (nurse.get(f"/dossier/{uid}/fichiers/{reference}"), nurse.get(f"/evaluations/{code}/export.xlsx"),
                     as_user("secretaire.tilleuls").get(f"/rgpd/dossier/{uid}/export"),
                     api("direction").get("/api/v1/projets/statistiques?format=xlsx")):
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert "no-store" not in nurse.get("/static/sillage.css").headers.get("Cache-Control", "")


def test_what_sillage_writes_is_readable_by_its_account_only(app, as_user):
    code, uid = _form(app)
    _upload(as_user("soin.tilleuls"), code, uid, PDF, "ordonnance.pdf")
    data_dir = app.config["SILLAGE_DATA_DIR"]
    folder = documents_dir(data_dir, uid) / "formulaires"
    stored = folder / files_of(app, uid)[0]
    assert stat.S_IMODE(os.stat(data_dir).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(stored).st_mode) == 0o600
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("sqlite:///"):
        assert stat.S_IMODE(os.stat(url[len("sqlite:///"):]).st_mode) == 0o600
