"""Réunions: a synthesis whose decision lands in the PP, a decision that becomes a task on its
owner's home page, attendance, minutes validated then locked, items hidden by category and by the
person's scope, the meeting in the person's dossier, the API contract and its scope."""
import datetime as dt
import html

import pytest

from app.extensions import db
from app.models import User
from app.models.reunion import PointOrdreDuJour, Reunion, Tache

from . import factories as f

PRESTATION = "2.1.1.3"


@pytest.fixture
def child(app):
    """A child admitted at IME Les Sources."""
    with app.app_context():
        usager = f.gen_usager(f.SOURCES, date_naissance=dt.date(2014, 3, 2))
        return {"id": usager.id, "name": usager.display_name, "etab": f.etablissement(f.SOURCES).id}


def user_id(app, username):
    with app.app_context():
        return db.session.query(User).filter_by(username=username).one().id


def new_meeting(client, etab, type_="synthese", debut="2026-03-10T14:00"):
    response = client.post("/reunions/nouvelle", data={"type": type_, "etablissement_id": etab, "debut": debut,
                                                       "lieu": "Salle du conseil"})
    assert response.status_code == 302, response.data[:800]
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def add_point(client, rid, usager_id=None, categorie="social_educatif", titre="Projet de l'enfant"):
    response = client.post(f"/reunions/{rid}/points", data={"titre": titre, "usager_id": usager_id or "",
                                                             "categorie": categorie})
    assert response.status_code == 302, response.data[:800]
    return response


def point_ids(app, rid):
    with app.app_context():
        return [p.id for p in db.session.query(PointOrdreDuJour).filter_by(reunion_id=rid).order_by(PointOrdreDuJour.ordre)]


def test_synthesis_decision_lands_in_the_pp_as_an_action(app, api, as_user, child):
    pp = api("educ.sources").post(f"/api/v1/usager/{child['id']}/projets", json={
        "etablissement_id": child["etab"], "date_debut": "2026-01-05",
        "objectifs": [{"libelle": "Nager 25 mètres", "actions": [{"libelle": "Piscine", "prestation": PRESTATION}]}]})
    assert pp.status_code == 201, pp.json
    objectif = pp.json["result"]["objectifs"][0]["id"]
    educ = as_user("educ.sources")
    rid = new_meeting(educ, child["etab"])
    add_point(educ, rid, child["id"])
    [pid] = point_ids(app, rid)
    educ.post(f"/reunions/{rid}/points/{pid}/compte-rendu", data={"compte_rendu": "Progrès nets à la piscine."})
    response = educ.post(f"/reunions/{rid}/points/{pid}/decisions", data={
        "texte": "Séance de piscine avec le club", "responsable_id": user_id(app, "educ.sources"),
        "echeance": "2026-06-30", "objectif_id": objectif, "prestation": f"{PRESTATION} — libellé"},
        follow_redirects=True)
    assert "l'action est inscrite au projet personnalisé" in html.unescape(response.get_data(as_text=True))
    body = api("educ.sources").get(f"/api/v1/usager/{child['id']}/projets/{pp.json['id']}").json["result"]
    actions = body["objectifs"][0]["actions"]
    assert [a["libelle"] for a in actions] == ["Piscine", "Séance de piscine avec le club"]
    assert actions[1]["fin"] == "2026-06-30" and actions[1]["referent_id"] == user_id(app, "educ.sources")


def test_decision_on_a_signed_pp_becomes_a_task_saying_so(app, api, as_user, child):
    from app.models.projet import ProjetPersonnalise

    pp = api("educ.sources").post(f"/api/v1/usager/{child['id']}/projets", json={
        "etablissement_id": child["etab"], "date_debut": "2026-01-05",
        "objectifs": [{"libelle": "Lire seul", "actions": []}]})
    with app.app_context():  # signed: locked until an avenant
        db.session.get(ProjetPersonnalise, pp.json["id"]).statut = "signe"
        db.session.commit()
    educ = as_user("educ.sources")
    rid = new_meeting(educ, child["etab"])
    add_point(educ, rid, child["id"])
    [pid] = point_ids(app, rid)
    response = educ.post(f"/reunions/{rid}/points/{pid}/decisions", data={
        "texte": "Atelier lecture", "responsable_id": user_id(app, "educ.sources"),
        "objectif_id": pp.json["result"]["objectifs"][0]["id"], "prestation": PRESTATION}, follow_redirects=True)
    assert "ouvrir un avenant" in response.get_data(as_text=True)
    with app.app_context():
        task = db.session.query(Tache).filter(Tache.titre.contains("Atelier lecture")).one()
        assert "avenant" in task.titre and task.usager_id == child["id"]


def test_decision_creates_a_task_listed_on_the_owners_home(app, as_user, child):
    educ = as_user("educ.sources")
    rid = new_meeting(educ, child["etab"], type_="equipe")
    add_point(educ, rid, child["id"])
    [pid] = point_ids(app, rid)
    educ.post(f"/reunions/{rid}/points/{pid}/decisions", data={
        "texte": "Appeler l'orthophoniste", "responsable_id": user_id(app, "educ.sources"), "echeance": "2026-04-01"})
    home = educ.get("/").get_data(as_text=True)
    assert "Mes tâches" in home and "Appeler l&#39;orthophoniste" in home and child["name"] in home
    page = educ.get("/reunions/taches").get_data(as_text=True)
    assert "Appeler l&#39;orthophoniste" in page
    with app.app_context():
        tid = db.session.query(Tache).filter_by(titre="Appeler l'orthophoniste").one().id
    assert educ.post(f"/reunions/taches/{tid}/faite").status_code == 302
    assert "Appeler l&#39;orthophoniste" not in educ.get("/").get_data(as_text=True)
    assert as_user("direction").post(f"/reunions/taches/{tid}/faite").status_code == 404  # not theirs


def test_attendance_then_validation_locks_the_minutes(app, as_user, child):
    educ = as_user("educ.sources")
    rid = new_meeting(educ, child["etab"])
    educ.post(f"/reunions/{rid}/participants", data={"kind": "professionnel", "user_id": user_id(app, "direction")})
    educ.post(f"/reunions/{rid}/participants", data={"kind": "partenaire", "nom": "Dr Martin", "organisation": "CMP"})
    educ.post(f"/reunions/{rid}/participants", data={"kind": "personne", "usager_id": child["id"]})
    add_point(educ, rid, child["id"])
    with app.app_context():
        parts = {p.kind: p.id for p in db.session.get(Reunion, rid).participants}
    educ.post(f"/reunions/{rid}/presences", data={f"presence_{parts['professionnel']}": "present",
                                                  f"presence_{parts['partenaire']}": "excuse",
                                                  f"presence_{parts['personne']}": "present"})
    with app.app_context():
        reunion = db.session.get(Reunion, rid)
        assert reunion.statut == "tenue"
        assert {p.kind: p.presence for p in reunion.participants} == {
            "professionnel": "present", "partenaire": "excuse", "personne": "present"}
    assert educ.post(f"/reunions/{rid}/valider").status_code == 403  # the chef de service or the direction
    direction = as_user("direction")
    page = direction.post(f"/reunions/{rid}/valider", follow_redirects=True).get_data(as_text=True)
    assert "la réunion est verrouillée" in page
    [pid] = point_ids(app, rid)
    refused = educ.post(f"/reunions/{rid}/points/{pid}/compte-rendu", data={"compte_rendu": "Après coup"})
    assert refused.status_code == 422
    assert "Le compte rendu est validé : la réunion est verrouillée" in refused.get_data(as_text=True)
    # The person's minutes are kept in their documents.
    docs = direction.get(f"/api/v1/usager/{child['id']}/documents").json["result"]
    assert any(d["type_code"] == "compte_rendu_reunion" for d in docs), docs
    pdf = educ.get(f"/reunions/{rid}/compte-rendu.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_items_hidden_by_category_and_by_the_persons_scope(app, api, as_user, child):
    from app.services import reunions
    from app.security.scope import Scope

    with app.app_context():  # a meeting of the organisation (seen by the direction) with three items
        tilleuls = f.gen_usager(f.TILLEULS).id
        reunion = reunions.create(db.session, scope=Scope.everything(), values={
            "type": "institutionnelle", "etablissement_id": child["etab"], "debut": "2026-03-11T09:00"})
        for titre, usager, categorie in (("Point éducatif", child["id"], "social_educatif"),
                                         ("Point psychologique", child["id"], "psychologique"),
                                         ("Point d'un résident des Tilleuls", tilleuls, "social_educatif")):
            reunions.add_point(db.session, scope=Scope.everything(), reunion=reunion,
                               values={"titre": titre, "usager_id": usager, "categorie": categorie})
        rid = reunion.id
    titles = [p["titre"] for p in api("educ.sources").get(f"/api/v1/reunions/{rid}").json["result"]["points"]]
    assert titles == ["Point éducatif"]  # no psychological item, nobody of the Tilleuls
    page = as_user("educ.sources").get(f"/reunions/{rid}").get_data(as_text=True)
    assert "Point éducatif" in page and "Point psychologique" not in page and "Tilleuls" not in page
    direction = [p["titre"] for p in api("direction").get(f"/api/v1/reunions/{rid}").json["result"]["points"]]
    assert direction == ["Point éducatif", "Point d'un résident des Tilleuls"]  # direction reads no psychologique


def test_meeting_appears_in_the_persons_dossier(app, as_user, child):
    educ = as_user("educ.sources")
    rid = new_meeting(educ, child["etab"], type_="revue_projet")
    add_point(educ, rid, child["id"], titre="Revue du projet d'Adam")
    add_point(educ, rid, None, titre="Organisation des congés")
    from flask import url_for

    with app.test_request_context():
        url = url_for("DossierView.show", usager_id=child["id"])
    page = educ.get(url).get_data(as_text=True)
    assert 'id="reunions"' in page and "Revue du projet d&#39;Adam" in page
    assert "Organisation des congés" not in page  # not about this person


def test_api_contract_and_field_errors(app, api, child):
    educ = api("educ.sources")
    created = educ.post("/api/v1/reunions", json={"type": "synthese", "etablissement_id": child["etab"],
                                                  "debut": "2026-05-04T10:30", "lieu": "Salle 2"})
    assert created.status_code == 201, created.json
    rid = created.json["id"]
    assert created.json["result"]["debut"] == "2026-05-04T08:30:00+00:00"  # Paris summer time, stored UTC
    listed = educ.get("/api/v1/reunions?du=2026-05-04&au=2026-05-04").json["result"]
    assert [r["id"] for r in listed] == [rid]
    assert rid not in [r["id"] for r in educ.get("/api/v1/reunions?du=2026-05-05").json["result"]]
    bad = educ.post("/api/v1/reunions", json={"type": "nope", "etablissement_id": child["etab"], "debut": "demain"})
    assert bad.status_code == 422 and set(bad.json["message"]) == {"type", "debut"}
    assert educ.post("/api/v1/reunions", json={"couleur": "bleu"}).status_code == 422
    assert educ.get("/api/v1/reunions?du=hier").status_code == 400


def test_out_of_scope_is_404(app, api, child):
    with app.app_context():
        tilleuls = f.etablissement(f.TILLEULS).id
    direction = api("direction")
    rid = direction.post("/api/v1/reunions", json={"type": "cvs", "etablissement_id": tilleuls,
                                                   "debut": "2026-05-06T15:00"}).json["id"]
    educ = api("educ.sources")
    assert educ.get(f"/api/v1/reunions/{rid}").status_code == 404
    assert rid not in [r["id"] for r in educ.get("/api/v1/reunions").json["result"]]
    assert educ.post("/api/v1/reunions", json={"type": "cvs", "etablissement_id": tilleuls,
                                               "debut": "2026-05-06T15:00"}).status_code == 404


def test_anonymisation_erases_what_meetings_said_about_the_person(app, as_user, child):
    from app.services import rgpd

    educ = as_user("educ.sources")
    rid = new_meeting(educ, child["etab"])
    add_point(educ, rid, child["id"], titre="Situation familiale")
    [pid] = point_ids(app, rid)
    educ.post(f"/reunions/{rid}/points/{pid}/compte-rendu", data={"compte_rendu": "Tensions à la maison."})
    educ.post(f"/reunions/{rid}/points/{pid}/decisions", data={
        "texte": "Rencontrer la mère", "responsable_id": user_id(app, "educ.sources")})
    with app.app_context():
        from app.models import Usager

        rgpd.anonymise(db.session, db.session.get(Usager, child["id"]), app.config["SILLAGE_DATA_DIR"], "test")
        point = db.session.get(PointOrdreDuJour, pid)
        assert (point.titre, point.compte_rendu) == ("effacé", None)
        assert [d.texte for d in point.decisions] == ["effacé"]
        assert db.session.query(Tache).filter_by(titre="Rencontrer la mère").count() == 0
