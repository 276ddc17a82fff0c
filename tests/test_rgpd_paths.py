"""RGPD paths obey the scope and the shared secret (issue 14 §1): the queue, every export and its
files, the complete export for the person from a recorded access request, and anonymised dossiers."""
from __future__ import annotations

import io
import json
import re
import zipfile

from pypdf import PdfReader
from sqlalchemy import select

from app.extensions import db
from app.models import AccessRequest, AuditEvent, DemandeAdmission, ErasureRequest, RectificationRequest, Usager
from app.services import forms, rgpd

from . import factories as f

FILE_ITEMS = """  - code: piece
    label: Pièce jointe
    type: file
  - code: remarque
    label: Remarque
    type: text
"""


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def _grid(app, sensitivity: str) -> str:
    code = "pj_" + f.unique_name("").lower()
    source = f.grid_yaml(code, f"Pièces {code}", FILE_ITEMS).replace("sensitivity: soins", f"sensitivity: {sensitivity}")
    with app.app_context():
        forms.publish(db.session, forms.save_draft(db.session, source))
    return code


def _attach(client, uid, code, name, content):
    saved = client.post(f"/dossier/{uid}/evaluations/nouvelle/{code}", data={
        "a-piece": (io.BytesIO(content), name), "a-remarque": f"remarque {name}", "action": "validate"},
        content_type="multipart/form-data")
    assert saved.status_code == 302, saved.data[:300]


def _zip(response):
    assert response.status_code == 200, response.data[:300]
    return zipfile.ZipFile(io.BytesIO(response.data))


def test_the_queue_lists_only_requests_on_usagers_the_user_sees(app, as_user):
    with app.app_context():
        usager = f.gen_usager(nom_naissance=f.unique_name("FILE"))
        uid, name = usager.id, usager.nom_naissance
    secretary = as_user("secretaire.tilleuls")
    html = secretary.get(f"/dossier/{uid}").get_data(as_text=True)
    assert secretary.post(f"/rgpd/dossier/{uid}/rectification", data={
        "csrf_token": _csrf(html), "requested_by": "sa fille", "content": "Corriger le prénom SECRETCONTENT"}).status_code == 302
    assert secretary.post(f"/rgpd/dossier/{uid}/effacement", data={
        "csrf_token": _csrf(html), "reason": "demande ERASUREREASON", "early_justification": "décès"}).status_code == 302
    mine = secretary.get("/rgpd/").get_data(as_text=True)
    assert "SECRETCONTENT" in mine and "ERASUREREASON" in mine and name in mine
    other = as_user("secretaire.sources").get("/rgpd/").get_data(as_text=True)
    assert "SECRETCONTENT" not in other and "ERASUREREASON" not in other and name not in other
    # organisation-wide roles see all, with who asked and for whom
    dpo = as_user("dpo").get("/rgpd/").get_data(as_text=True)
    assert "SECRETCONTENT" in dpo and name in dpo and "Sophie Secrétaire" in dpo
    with app.app_context():
        rid = db.session.execute(select(ErasureRequest.id).where(ErasureRequest.usager_id == uid)).scalar()
        rect = db.session.execute(select(RectificationRequest.id).where(RectificationRequest.usager_id == uid)).scalar()
    html = as_user("secretaire.sources").get("/rgpd/").get_data(as_text=True)
    assert as_user("secretaire.sources").post(f"/rgpd/rectification/{rect}/decision", data={
        "csrf_token": _csrf(html), "decision": "accept", "note": "x"}).status_code == 404


def test_every_export_holds_only_what_its_maker_may_read_files_included(app, as_user):
    soins, admin = _grid(app, "soins"), _grid(app, "administratif")
    with app.app_context():
        uid = f.gen_usager().id
    nurse, secretary = as_user("soin.tilleuls"), as_user("secretaire.tilleuls")
    _attach(nurse, uid, soins, "ordonnance.pdf", b"%PDF-1.4 ordonnance MEDICALE")
    _attach(as_user("direction"), uid, admin, "attestation.pdf", b"%PDF-1.4 attestation")
    archive = _zip(secretary.get(f"/rgpd/dossier/{uid}/export"))
    names = archive.namelist()
    assert any(n.endswith("attestation.pdf") for n in names)
    assert not any(n.endswith("ordonnance.pdf") for n in names)
    data = json.loads(archive.read("usager.json"))
    assert {e["form_code"] for e in data["evaluations"]} == {admin}
    assert "remarque ordonnance.pdf" not in archive.read("usager.json").decode()
    everything = b"".join(archive.read(n) for n in names)
    assert b"MEDICALE" not in everything and "remarque ordonnance" not in everything.decode("latin-1")


def test_complete_export_from_a_recorded_access_request_by_the_dpo(app, as_user, api):
    with app.app_context():
        uid = f.gen_usager(nom_naissance=f.unique_name("ACCES")).id
    gir = api("soin.tilleuls").post(f"/api/v1/usager/{uid}/evaluations", json={
        "form": "aggir", "status": "validated", "evaluated_on": "2026-10-01",
        "answers": {**{k: "A" for k in AGGIR_A}, "toilette_haut": "C", "toilette_bas": "C"}})
    assert gir.status_code == 201, gir.json
    soins = _grid(app, "soins")
    _attach(as_user("soin.tilleuls"), uid, soins, "ordonnance.pdf", b"%PDF-1.4 ordonnance")
    dpo = as_user("dpo")
    # the DPO's own export: administrative only (no AGGIR, no prescription)
    plain = _zip(dpo.get(f"/rgpd/dossier/{uid}/export"))
    assert json.loads(plain.read("usager.json"))["evaluations"] == []
    # a secretary may not record an access request nor make the complete export
    html = as_user("secretaire.tilleuls").get(f"/dossier/{uid}").get_data(as_text=True)
    assert 'id="access-request"' not in html
    as_user("secretaire.tilleuls").post(f"/rgpd/dossier/{uid}/acces", data={
        "csrf_token": _csrf(html), "requested_by": "la personne", "qualite": "personne", "received_on": "2026-11-01"})
    with app.app_context():
        assert db.session.execute(select(AccessRequest).where(AccessRequest.usager_id == uid)).first() is None
    html = dpo.get(f"/dossier/{uid}").get_data(as_text=True)
    assert 'id="access-request"' in html
    bad = dpo.post(f"/rgpd/dossier/{uid}/acces", data={"csrf_token": _csrf(html), "requested_by": "",
                                                       "qualite": "personne", "received_on": "2026-11-01"})
    assert bad.status_code == 302
    recorded = dpo.post(f"/rgpd/dossier/{uid}/acces", data={
        "csrf_token": _csrf(html), "requested_by": "Mme la fille", "qualite": "representant_legal",
        "received_on": "2026-11-01"})
    assert recorded.status_code == 302
    with app.app_context():
        req = db.session.execute(select(AccessRequest).where(AccessRequest.usager_id == uid)).scalar_one()
        rid = req.id
    queue = dpo.get("/rgpd/").get_data(as_text=True)
    assert "Mme la fille" in queue
    assert as_user("secretaire.tilleuls").post(f"/rgpd/acces/{rid}/export", data={"csrf_token": _csrf(queue)}).status_code \
        in (302, 403)
    archive = _zip(dpo.post(f"/rgpd/acces/{rid}/export", data={"csrf_token": _csrf(queue)}))
    data = json.loads(archive.read("usager.json"))
    assert data["complet"] is True
    aggir = [e for e in data["evaluations"] if e["form_code"] == "aggir"]
    assert aggir and aggir[0]["computed"]["gir"]
    assert any(n.endswith("ordonnance.pdf") for n in archive.namelist())
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(archive.read("resume.pdf"))).pages)
    assert "Date de naissance" in text and "17/05/1940" in text and "Évaluations" in text
    assert "01/10/2026" in text and "nom_naissance" not in text and "{" not in text
    assert "toilette_haut" not in text
    with app.app_context():
        assert db.session.get(AccessRequest, rid).status == "repondue"
        event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "export_complet",
                                                            AuditEvent.usager_id == uid)).scalar_one()
        assert event.details["demande_acces"] == rid
    again = dpo.post(f"/rgpd/acces/{rid}/export", data={"csrf_token": _csrf(queue)})
    assert again.status_code == 302  # answered once; a new request is a new act
    # after the complete export, the DPO's session reads administrative data only again
    assert json.loads(_zip(dpo.get(f"/rgpd/dossier/{uid}/export")).read("usager.json"))["evaluations"] == []


AGGIR_A = ["coherence_communication", "coherence_comportement", "orientation_temps", "orientation_espace",
           "habillage_haut", "habillage_moyen", "habillage_bas", "alimentation_se_servir", "alimentation_manger",
           "elimination_urinaire", "elimination_fecale", "transferts", "deplacements_interieurs",
           "deplacements_exterieurs", "communication_a_distance"]


def test_an_anonymised_dossier_offers_nothing_more_and_leaves_the_waiting_list(app, as_user):
    with app.app_context():
        usager = f.gen_usager(admitted=False, nom_naissance=f.unique_name("ANON"))
        uid, name = usager.id, usager.nom_naissance
    secretary = as_user("secretaire.tilleuls")
    html = secretary.get(f"/dossier/{uid}").get_data(as_text=True)
    secretary.post(f"/rgpd/dossier/{uid}/effacement", data={"csrf_token": _csrf(html), "reason": "demande",
                                                             "early_justification": "souhait de la personne"})
    with app.app_context():
        rid = db.session.execute(select(ErasureRequest.id).where(ErasureRequest.usager_id == uid)).scalar_one()
    dpo = as_user("dpo")
    queue = dpo.get("/rgpd/").get_data(as_text=True)
    assert name in queue and "Valider et anonymiser" in queue
    # "Valider et anonymiser" asks for confirmation first: nothing is erased yet
    confirm = dpo.post(f"/rgpd/effacement/{rid}/decision", data={"csrf_token": _csrf(queue), "decision": "approve"})
    assert confirm.status_code == 200 and "définitive" in confirm.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Usager, uid).anonymised_at is None
    done = dpo.post(f"/rgpd/effacement/{rid}/decision", data={"csrf_token": _csrf(queue), "decision": "approve",
                                                                "confirm": "1"})
    assert done.status_code == 302
    with app.app_context():
        assert db.session.get(Usager, uid).anonymised_at is not None
        statuses = {d.statut for d in db.session.execute(select(DemandeAdmission).where(
            DemandeAdmission.usager_id == uid)).scalars()}
        assert statuses == {"annulee"}
    assert "Traitées récemment" in dpo.get("/rgpd/").get_data(as_text=True)
    page = as_user("direction").get(f"/dossier/{uid}").get_data(as_text=True)
    assert 'id="rgpd-export"' not in page and "Enregistrer une demande de rectification" not in page
    refused = as_user("direction").get(f"/rgpd/dossier/{uid}/export")
    assert refused.status_code == 302
    html = as_user("direction").get(f"/dossier/{uid}").get_data(as_text=True)
    as_user("direction").post(f"/rgpd/dossier/{uid}/rectification", data={
        "csrf_token": _csrf(html), "requested_by": "x", "content": "y"})
    with app.app_context():
        assert db.session.execute(select(RectificationRequest).where(RectificationRequest.usager_id == uid)).first() is None
        assert not db.session.execute(select(DemandeAdmission).where(
            DemandeAdmission.usager_id == uid, DemandeAdmission.statut.in_(("en_attente", "acceptee")))).first()
