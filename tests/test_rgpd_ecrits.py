"""RGPD paths reach the new parts of the dossier (issue 18 with issue 14's rules): transmissions and
documents are in the export of whoever may read them, and anonymisation erases them."""
from __future__ import annotations

import io
import json
import zipfile

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from app.extensions import db
from app.models import Document, Transmission, TransmissionUsager, TransmissionVersion, User, Usager
from app.security.scope import UNSCOPED, Scope
from app.services import documents, rgpd, transmissions

from . import factories as f

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40


def _child_with_writings(app):
    """A child of the IME with a social-educational transmission about them alone, one about them
    and another child, and a document."""
    with app.app_context():
        child, other = f.gen_usager(f.SOURCES), f.gen_usager(f.SOURCES)
        educ = db.session.execute(select(User).where(User.username == "educ.sources")).scalar_one()
        alone = transmissions.write(db.session, scope=Scope.everything(), author_id=educ.id, usager_ids=[child.id],
                                    values={"categorie": "social_educatif", "texte": "Crise au repas, calmé ensuite."})
        shared = transmissions.write(db.session, scope=Scope.everything(), author_id=educ.id,
                                     usager_ids=[child.id, other.id],
                                     values={"categorie": "social_educatif", "texte": "Sortie à la piscine."})
        document = documents.upload(db.session, scope=Scope.everything(), usager=child, type_code="photo",
                                    titre="Photo de rentrée", upload=FileStorage(io.BytesIO(PNG), "photo.png",
                                                                                content_type="image/png"))
        return child.id, other.id, alone.id, shared.id, document.id


def _export(client, uid):
    response = client.get(f"/rgpd/dossier/{uid}/export")
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    return json.loads(archive.read("usager.json")), archive.namelist(), archive


def test_the_export_holds_the_transmissions_and_documents_its_maker_reads(app, as_user):
    import jsonschema

    child, _other, alone, shared, document = _child_with_writings(app)
    data, names, archive = _export(as_user("direction"), child)  # reads social_educatif
    jsonschema.validate(data, json.loads(archive.read("schema.json")))
    assert {t["id"] for t in data["transmissions"]} == {alone, shared}
    assert any(t["texte"] == "Crise au repas, calmé ensuite." for t in data["transmissions"])
    assert [d["id"] for d in data["documents"]] == [document]
    assert any(n.startswith("documents/") and n.endswith(".png") for n in names)
    data, _names, _archive = _export(as_user("secretaire.sources"), child)  # administratif only
    assert data["transmissions"] == []


def test_anonymisation_erases_transmission_lines_texts_and_documents(app):
    child, other, alone, shared, _document = _child_with_writings(app)
    with app.app_context():
        usager = db.session.get(Usager, child)
        rgpd.anonymise(db.session, usager, app.config["SILLAGE_DATA_DIR"], reason="test")
        unscoped = {UNSCOPED: True}  # columns only: what is left in the database, whoever reads it
        assert not db.session.execute(select(TransmissionUsager.id).where(TransmissionUsager.usager_id == child),
                                      execution_options=unscoped).all()
        texte = db.session.execute(select(Transmission.texte).where(Transmission.id == alone),
                                   execution_options=unscoped).scalar_one()
        assert "Crise" not in (texte or "")
        assert not db.session.execute(select(TransmissionVersion.id).where(TransmissionVersion.transmission_id == alone),
                                      execution_options=unscoped).all()
        assert db.session.execute(select(Transmission.texte).where(Transmission.id == shared),
                                  execution_options=unscoped).scalar_one() == "Sortie à la piscine."
        assert db.session.execute(select(TransmissionUsager.usager_id).where(TransmissionUsager.transmission_id == shared),
                                  execution_options=unscoped).scalars().all() == [other]
        assert not db.session.execute(select(Document.id).where(Document.usager_id == child),
                                      execution_options=unscoped).all()


def test_the_export_holds_the_papers_its_maker_reads(app, api, as_user):
    with app.app_context():
        usager_id = f.gen_usager(f.TILLEULS).id
    created = api("compta").post(f"/api/v1/usager/{usager_id}/aides",
                                 json={"kind": "apa", "organisme": "Conseil départemental", "montant": "320.50",
                                       "debut": "2026-01-01", "fin": "2026-12-31"})
    assert created.status_code == 201, created.json
    data, _names, _archive = _export(as_user("direction"), usager_id)  # reads financier
    assert [a["organisme"] for a in data["papiers"]["aides"]] == ["Conseil départemental"]
    data, _names, _archive = _export(as_user("secretaire.tilleuls"), usager_id)  # does not
    assert data["papiers"]["aides"] == []
