"""RGPD rights as buttons: export, rectification, four-eyes erasure that leaves no identity
anywhere, retention command."""
from __future__ import annotations

import datetime as dt
import io
import json
import os
import random
import zipfile

import pytest
from openpyxl import load_workbook
from sqlalchemy import inspect, select, text

from app.domain import clock
from app.extensions import db
from app.models import Admission, ErasureRequest, RectificationRequest, Usager
from app.services import rgpd

from . import factories as f
from .conftest import DATABASES, provision, release, sql_statements


PHONES = {}


def _new(app, **values):
    with app.app_context():
        name = "RGPD" + f.unique_name()
        phone = "0612" + str(random.randrange(10**5, 10**6))  # an allocated mobile range
        usager = f.gen_usager(nom_naissance=name, prenoms_naissance="Odette Marcelle", telephone_mobile=phone,
                              email=f"{name.lower()}@exemple.fr", **values)
        db.session.commit()
        PHONES[usager.id] = phone
        return usager.id, name


def _document(app, uid, content=b"%PDF-1.4 bilan"):
    folder = os.path.join(app.config["SILLAGE_DATA_DIR"], "usagers", str(uid))
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "bilan.pdf"), "wb") as fh:
        fh.write(content)
    return folder


def test_export_zip_has_json_valid_against_its_schema_xlsx_pdf_and_documents(app, as_user):
    import jsonschema

    uid, name = _new(app)
    _document(app, uid)
    response = as_user("secretaire.tilleuls").get(f"/rgpd/dossier/{uid}/export")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert {"usager.json", "schema.json", "usager.xlsx", "resume.pdf"} <= set(archive.namelist())
    # a file of unknown origin has no known category: only the complete export (DPO) holds it
    assert "documents/bilan.pdf" not in archive.namelist()
    data = json.loads(archive.read("usager.json"))
    jsonschema.validate(data, json.loads(archive.read("schema.json")))
    assert data["usager"]["nom_naissance"] == name and data["admissions"]
    workbook = load_workbook(io.BytesIO(archive.read("usager.xlsx")))
    assert name in [c.value for c in workbook["Identité"]["B"]]
    assert archive.read("resume.pdf").startswith(b"%PDF")
    with app.app_context():
        from app.models import AuditEvent

        assert db.session.execute(select(AuditEvent).where(AuditEvent.action == "export",
                                                           AuditEvent.usager_id == uid)).first()


def test_export_outside_scope_is_404_and_needs_the_right(app, as_user):
    uid, _name = _new(app)
    assert as_user("secretaire.sources").get(f"/rgpd/dossier/{uid}/export").status_code == 404
    assert as_user("qualite").get(f"/rgpd/dossier/{uid}/export").status_code in (302, 403)


def test_rectification_is_recorded_and_decided(app, as_user):
    uid, _name = _new(app)
    secretary = as_user("secretaire.tilleuls")
    secretary.post(f"/rgpd/dossier/{uid}/rectification", data={"requested_by": "", "content": ""})
    secretary.post(f"/rgpd/dossier/{uid}/rectification",
                   data={"requested_by": "La fille de Mme", "content": "Le second prénom est Marcelle, pas Marcel."})
    with app.app_context():
        req = db.session.execute(select(RectificationRequest).where(RectificationRequest.usager_id == uid)).scalar_one()
        rid = req.id
    assert "second prénom" in as_user("dpo").get("/rgpd/").data.decode()
    as_user("dpo").post(f"/rgpd/rectification/{rid}/decision", data={"decision": "accept", "note": "Corrigé le jour même"})
    with app.app_context():
        req = db.session.get(RectificationRequest, rid)
        assert req.status == "acceptee" and req.decided_at is not None


def test_erasure_needs_four_eyes_and_leaves_no_identity_anywhere(app, as_user):
    uid, name = _new(app)
    folder = _document(app, uid)
    secretary, dpo = as_user("secretaire.tilleuls"), as_user("dpo")
    draft = {"page": f"/dossier/{uid}", "form": "coordonnees", "data": [["coordonnees-commune", f"chez {name}"]]}
    assert secretary.put("/brouillons/", json=draft).status_code == 200  # typed, not saved: erased too
    refused = secretary.post(f"/rgpd/dossier/{uid}/effacement", data={"reason": "Demande de la personne"},
                             follow_redirects=True).data.decode()
    assert "justifiez" in refused  # retention still runs (the stay is ongoing)
    secretary.post(f"/rgpd/dossier/{uid}/effacement", data={"reason": "Demande de la personne du 2 mars",
                                                            "early_justification": "Jamais accueillie : erreur de saisie"})
    with app.app_context():
        rid = db.session.execute(select(ErasureRequest.id).where(ErasureRequest.usager_id == uid)).scalar_one()
        birth_year = db.session.get(Usager, uid).date_naissance.year
    assert "Valider et anonymiser" not in secretary.get("/rgpd/").data.decode()
    secretary.post(f"/rgpd/effacement/{rid}/decision", data={"decision": "approve"})
    with app.app_context():
        assert db.session.get(ErasureRequest, rid).status == "attente"  # not by a secretary
    asked = dpo.post(f"/rgpd/effacement/{rid}/decision", data={"decision": "approve", "note": "ok"})
    assert "définitive" in asked.data.decode()  # a confirmation first
    dpo.post(f"/rgpd/effacement/{rid}/decision", data={"decision": "approve", "note": "ok", "confirm": "1"})
    with app.app_context():
        usager = db.session.get(Usager, uid)
        assert usager.anonymised_at and usager.nom_naissance == "ANONYME"
        assert usager.date_naissance == dt.date(birth_year, 1, 1) and usager.sexe == "F"
        assert db.session.execute(select(Admission).where(Admission.usager_id == uid)).first()  # stays kept
        # No table holds the name, the phone or the e-mail any more (audit trail included)
        for table in inspect(db.engine).get_table_names():
            columns = [c["name"] for c in inspect(db.engine).get_columns(table)]
            for column in columns:
                for needle in (name, name.lower(), PHONES[uid][1:]):
                    hit = db.session.execute(text(f'SELECT 1 FROM "{table}" WHERE CAST("{column}" AS TEXT) LIKE :n'),
                                             {"n": f"%{needle}%"}).first()
                    assert hit is None, (table, column, needle)
    assert not os.path.exists(folder)
    assert dpo.get(f"/rgpd/dossier/{uid}/export").status_code == 302  # nothing left to export
    verified = app.test_cli_runner().invoke(args=["sillage", "audit", "verify"])
    assert verified.exit_code == 0, verified.output


@pytest.fixture(params=DATABASES)
def own_app(request):
    app = provision(request.param, "retention")
    yield app
    release(app)


def test_retention_dry_run_lists_and_the_real_run_archives_and_anonymises(own_app):
    with own_app.app_context():
        old = f.gen_usager(nom_naissance="ANCIEN" + f.unique_name())
        recent = f.gen_usager(nom_naissance="RECENT" + f.unique_name())
        for usager, exit_on in ((old, dt.date(1999, 6, 30)), (recent, clock.today() - dt.timedelta(days=400))):
            adm = usager.admissions[0]
            adm.date_entree = exit_on - dt.timedelta(days=365)  # data as an old import would leave it
            adm.date_sortie = exit_on
            for demande in usager.demandes:
                demande.statut = "admise"
        db.session.commit()
        old_id, recent_id = old.id, recent.id
    runner = own_app.test_cli_runner()
    listed = runner.invoke(args=["sillage", "retention", "--dry-run"])
    assert listed.exit_code == 0
    assert f"usager {old_id}\tanonymiser" in listed.output and f"usager {recent_id}\tarchiver" in listed.output
    with own_app.app_context():
        assert db.session.get(Usager, old_id).anonymised_at is None  # dry run: nothing changed
    with own_app.app_context():  # four statements whatever the number of dossiers (it was one per dossier)
        _, statements = sql_statements(own_app, lambda: rgpd.due(db.session))
        assert len(statements) == 4, statements  # the établissements, the dossiers, their admissions, demandes
        db.session.remove()
    applied = runner.invoke(args=["sillage", "retention"])
    assert applied.exit_code == 0, applied.output
    with own_app.app_context():
        assert db.session.get(Usager, old_id).anonymised_at is not None
        recent = db.session.get(Usager, recent_id)
        assert recent.archived_at is not None and recent.anonymised_at is None
    assert runner.invoke(args=["sillage", "audit", "verify"]).exit_code == 0
