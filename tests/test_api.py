"""REST API v1: login, list/get/post/put/archive, JSON field errors, optimistic concurrency."""
import datetime as dt

import pytest

from app.services.fake import make_nir

from . import factories as f

NEW = {"nom_naissance": "APIDUPONT", "prenoms_naissance": ["Marie", "Louise"], "date_naissance": "1942-03-08",
       "sexe": "F", "telephone_mobile": "06 11 22 33 44"}


@pytest.fixture
def tilleuls_id(app):
    with app.app_context():
        return f.etablissement().id


def test_without_token_the_api_answers_401(client):
    assert client.get("/api/v1/usager/").status_code == 401


def test_browser_session_works_for_the_api(as_user):
    assert as_user("secretaire.tilleuls").get("/api/v1/usager/").status_code == 200


def test_create_read_update_archive_restore(api, tilleuls_id):
    client = api("secretaire.tilleuls")
    created = client.post("/api/v1/usager/", json={**NEW, "nom_naissance": f.unique_name("API"),
                                                   "etablissement_id": tilleuls_id})
    assert created.status_code == 201, created.json
    uid, body = created.json["id"], created.json["result"]
    assert body["telephone_mobile"] == "+33611223344" and body["version"] == 1
    assert body["prenoms_naissance"] == ["Marie", "Louise"]
    got = client.get(f"/api/v1/usager/{uid}")
    assert got.status_code == 200 and got.json["result"]["nom_naissance"] == body["nom_naissance"]
    changed = client.put(f"/api/v1/usager/{uid}", json={"version": 1, "nom_utilise": "MARTIN"})
    assert changed.status_code == 200 and changed.json["result"]["version"] == 2
    chef = api("direction")
    archived = chef.delete(f"/api/v1/usager/{uid}")
    assert archived.status_code == 200 and archived.json["result"]["archived_at"]
    assert chef.get(f"/api/v1/usager/{uid}").status_code == 200  # archived, never deleted
    restored = chef.post(f"/api/v1/usager/{uid}/restore")
    assert restored.status_code == 200 and restored.json["result"]["archived_at"] is None


def test_stale_version_is_409_with_what_changed(api, tilleuls_id):
    client = api("secretaire.tilleuls")
    uid = client.post("/api/v1/usager/", json={**NEW, "nom_naissance": f.unique_name("API"),
                                               "etablissement_id": tilleuls_id}).json["id"]
    assert client.put(f"/api/v1/usager/{uid}", json={"version": 1, "commune": "Riom"}).status_code == 200
    stale = client.put(f"/api/v1/usager/{uid}", json={"version": 1, "commune": "Thiers"})
    assert stale.status_code == 409
    assert stale.json["current_version"] == 2
    assert stale.json["changes"][0]["changes"]["commune"] == [None, "Riom"]
    assert client.get(f"/api/v1/usager/{uid}").json["result"]["commune"] == "Riom"


def test_update_without_version_is_refused(api, tilleuls_id):
    client = api("secretaire.tilleuls")
    uid = client.post("/api/v1/usager/", json={**NEW, "nom_naissance": f.unique_name("API"),
                                               "etablissement_id": tilleuls_id}).json["id"]
    response = client.put(f"/api/v1/usager/{uid}", json={"commune": "Riom"})
    assert response.status_code == 422 and "version" in response.json["message"]


def test_put_validates_only_what_it_changes(app, api):
    """A number stored before today's rules (as in the demo, issue 20) blocks no other change;
    changing it, or a change that makes another field wrong, is still refused."""
    from sqlalchemy import update

    from app.extensions import db
    from app.models import Usager

    with app.app_context():
        birth = dt.date(1944, 6, 1)
        usager = f.gen_usager(matricule_ins=make_nir("F", birth, "63113", 9), oid_ins="1.2.250.1.213.1.4.8",
                              date_naissance=birth)
        uid = usager.id
        db.session.execute(update(Usager).where(Usager.id == uid).values(telephone_mobile="06 00"))
        db.session.commit()
    client = api("secretaire.tilleuls")
    version = client.get(f"/api/v1/usager/{uid}").json["result"]["version"]
    changed = client.put(f"/api/v1/usager/{uid}", json={"version": version, "commune": "Riom"})
    assert changed.status_code == 200, changed.json
    assert changed.json["result"]["commune"] == "Riom" and changed.json["result"]["telephone_mobile"] == "06 00"
    version = changed.json["result"]["version"]
    resent = client.put(f"/api/v1/usager/{uid}", json={"version": version, "telephone_mobile": "06 00",
                                                        "commune": "Thiers"})
    assert resent.status_code == 200 and resent.json["result"]["telephone_mobile"] == "06 00"
    version = resent.json["result"]["version"]
    still_bad = client.put(f"/api/v1/usager/{uid}", json={"version": version, "telephone_mobile": "06 01"})
    assert still_bad.status_code == 422 and "telephone_mobile" in still_bad.json["message"]
    breaks_nir = client.put(f"/api/v1/usager/{uid}", json={"version": version, "date_naissance": "1950-01-01"})
    assert breaks_nir.status_code == 422 and "matricule_ins" in breaks_nir.json["message"]
    fixed = client.put(f"/api/v1/usager/{uid}", json={"version": version, "telephone_mobile": "06 11 22 33 45"})
    assert fixed.status_code == 200 and fixed.json["result"]["telephone_mobile"] == "+33611223345"


@pytest.mark.parametrize("payload, field", [
    ({"date_naissance": "03/08/1942"}, "date_naissance"),
    ({"date_naissance": 1942}, "date_naissance"),
    ({"sexe": "X"}, "sexe"),
    ({"nom_naissance": ""}, "nom_naissance"),
    ({"nom_naissance": "A" * 20000}, "nom_naissance"),
    ({"nom_naissance": "NUL\x00"}, "nom_naissance"),
    ({"matricule_ins": "284127645108999"}, "matricule_ins"),
    ({"email": "pas-une-adresse"}, "email"),
    ({"telephone_mobile": "12"}, "telephone_mobile"),
    ({"date_naissance": "2999-01-01"}, "date_naissance"),
    ({"inconnu": 1}, "inconnu"),
    ({"statut_identite": "qualifiee"}, "matricule_ins"),
    ({"prenoms_naissance": []}, "prenoms_naissance"),
])
def test_bad_input_is_422_naming_the_field(api, tilleuls_id, payload, field):
    client = api("secretaire.tilleuls")
    response = client.post("/api/v1/usager/", json={**NEW, **payload, "etablissement_id": tilleuls_id})
    assert response.status_code == 422, response.json
    assert field in response.json["message"]


@pytest.mark.parametrize("body", ["not json", "[1, 2]", "{broken", ""])
def test_non_object_body_is_400(api, body):
    response = api("secretaire.tilleuls").post("/api/v1/usager/", data=body, content_type="application/json")
    assert response.status_code == 400 and "message" in response.json


def test_duplicate_creation_is_409_until_confirmed(api, tilleuls_id):
    client = api("secretaire.tilleuls")
    data = {**NEW, "nom_naissance": f.unique_name("DUP"), "etablissement_id": tilleuls_id}
    assert client.post("/api/v1/usager/", json=data).status_code == 201
    again = client.post("/api/v1/usager/", json={**data, "nom_naissance": data["nom_naissance"].lower()})
    assert again.status_code == 409 and len(again.json["duplicates"]) == 1
    confirmed = client.post("/api/v1/usager/", json={**data, "accept_duplicates": True})
    assert confirmed.status_code == 201


def test_admission_api_admits_discharges_and_transfers(app, api):
    with app.app_context():
        usager = f.gen_usager(admitted=False)
        uid, services, hp = usager.id, [s.id for s in f.etablissement().services], f.modalite().id
    client = api("secretaire.tilleuls")
    created = client.post("/api/v1/admission/", json={"usager_id": uid, "service_id": services[0],
                                                      "modalite_id": hp, "date_entree": "2025-01-10"})
    assert created.status_code == 201, created.json
    aid = created.json["id"]
    twice = client.post("/api/v1/admission/", json={"usager_id": uid, "service_id": services[0],
                                                    "modalite_id": hp, "date_entree": "2025-02-10"})
    assert twice.status_code == 422 and "service_id" in twice.json["message"]
    moved = client.post(f"/api/v1/admission/{aid}/transfer", json={"service_id": services[1], "date": "2025-03-01",
                                                                 "version": 1})
    assert moved.status_code == 201 and moved.json["result"]["transfert_de_id"] == aid
    new_id = moved.json["id"]
    bad_exit = client.put(f"/api/v1/admission/{new_id}", json={"version": 1, "date_sortie": "2024-01-01",
                                                               "motif_sortie_id": 2})
    assert bad_exit.status_code == 422 and "date_sortie" in bad_exit.json["message"]
    ok_exit = client.put(f"/api/v1/admission/{new_id}", json={"version": 1, "date_sortie": "2025-06-30",
                                                              "motif_sortie_id": 2})
    assert ok_exit.status_code == 200 and ok_exit.json["result"]["date_sortie"] == "2025-06-30"


def test_etablissement_api_validates_finess(api):
    client = api("direction")
    etab = client.get("/api/v1/etablissement/").json["result"][0]
    bad = client.put(f"/api/v1/etablissement/{etab['id']}", json={"version": etab["version"], "finess": "123456789"})
    assert bad.status_code == 422 and "finess" in bad.json["message"]
    assert client.get(f"/api/v1/etablissement/{etab['id']}").json["result"]["finess"] == etab["finess"]


def test_openapi_spec_is_served_to_signed_in_users(client, api):
    assert client.get("/api/v1/_openapi").status_code == 401
    spec = api("secretaire.tilleuls").get("/api/v1/_openapi")
    assert spec.status_code == 200
    paths = spec.json["paths"]
    assert {"/api/v1/usager/", "/api/v1/admission/{pk}/transfer", "/api/v1/etablissement/{pk}",
            "/api/v1/security/login"} <= set(paths)


def test_too_long_values_on_etablissement_are_422_not_500(api):
    client = api("direction")
    etab = client.get("/api/v1/etablissement/").json["result"][0]
    response = client.put(f"/api/v1/etablissement/{etab['id']}", json={"version": etab["version"], "commune": "x" * 500})
    assert response.status_code == 422 and "commune" in response.json["message"]
