"""Écrits (comptes rendus, reports): the workflow brouillon → soumis → validé → diffusé with
refusal, the lock after validation, versions, concurrency, sanitising, the PDF on the
letterhead stored among the documents, scope and shared secret, the API contract, the pages."""
import io

import pytest
from pypdf import PdfReader

from app.extensions import db
from app.models import Document

from . import factories as f


@pytest.fixture
def child(app, make_user):
    with app.app_context():
        usager_id = f.gen_usager(f.SOURCES).id
    make_user("chef.sources", "Chef de service", [f.SOURCES])
    return usager_id


def url(usager_id, eid=None, act=None):
    out = f"/api/v1/usager/{usager_id}/ecrits"
    if eid is not None:
        out += f"/{eid}"
    return out + (f"/{act}" if act else "")


def draft(client, usager_id, **body):
    body = {"type_code": "cr_entretien", "titre": "Entretien avec la famille",
            "texte": "## Objet\nLa mère est venue **seule**.\n\n- scolarité\n- santé", **body}
    response = client.post(url(usager_id), json=body)
    assert response.status_code == 201, response.json
    return response.json


def test_workflow_to_validated_pdf_stored_in_documents(app, api, child):
    educ, direction = api("educ.sources"), api("direction")
    e = draft(educ, child)
    assert e["statut"] == "brouillon" and "<h2>Objet</h2>" in e["contenu"] and "<strong>seule</strong>" in e["contenu"]
    assert educ.post(url(child, e["id"], "soumettre"), json={}).json["statut"] == "soumis"
    done = direction.post(url(child, e["id"], "valider"), json={})
    assert done.status_code == 200, done.json
    assert done.json["statut"] == "valide" and done.json["document_id"] and done.json["document_version"] == 1
    docs = educ.get(f"/api/v1/usager/{child}/documents").json["result"]
    stored = next(d for d in docs if d["id"] == done.json["document_id"])
    assert stored["type_code"] == "compte_rendu" and stored["categorie"] == "social_educatif"
    assert "version 1" in stored["titre"]
    content = educ.get(f"/api/v1/usager/{child}/documents/{stored['id']}/contenu")
    assert content.status_code == 200
    pdf_text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(content.data)).pages)
    with app.app_context():
        etab = f.etablissement(f.SOURCES)
        name, finess = etab.name, etab.finess
    assert name in pdf_text and "Entretien avec la famille" in pdf_text and "seule" in pdf_text
    if finess:
        assert finess in pdf_text
    assert direction.post(url(child, e["id"], "diffuser"), json={}).json["statut"] == "diffuse"


def test_refusal_keeps_the_comment_and_returns_to_draft(api, child):
    educ, chef = api("educ.sources"), api("chef.sources")
    e = draft(educ, child)
    educ.post(url(child, e["id"], "soumettre"), json={})
    assert chef.post(url(child, e["id"], "refuser"), json={}).status_code == 422
    refused = chef.post(url(child, e["id"], "refuser"), json={"commentaire": "Décrire les faits, pas les jugements."})
    assert refused.status_code == 200 and refused.json["statut"] == "brouillon"
    assert refused.json["commentaire_refus"] == "Décrire les faits, pas les jugements."
    assert educ.post(url(child, e["id"], "valider"), json={}).status_code == 409  # a draft: wrong state


def test_locked_after_validation_and_versions_kept(api, child):
    educ, direction = api("educ.sources"), api("direction")
    e = draft(educ, child)
    saved = educ.put(url(child, e["id"]), json={"texte": "Deuxième rédaction.", "version": e["version"]})
    assert saved.status_code == 200, saved.json
    educ.post(url(child, e["id"], "soumettre"), json={})
    direction.post(url(child, e["id"], "valider"), json={})
    got = educ.get(url(child, e["id"])).json
    assert [v["numero"] for v in got["versions"]] == [2, 1] and "Deuxième" in got["versions"][0]["contenu"]
    assert got["document_version"] == 2
    locked = educ.put(url(child, e["id"]), json={"texte": "Trop tard", "version": got["version"]})
    assert locked.status_code == 409


def test_two_authors_conflict_answers_409_with_changes(api, child, app):
    educ = api("educ.sources")
    with app.app_context():
        from app.models import User
        chef_id = db.session.query(User).filter_by(username="chef.sources").one().id
    e = draft(educ, child, coauteurs=[chef_id])
    other = api("chef.sources")  # a co-author
    first = other.put(url(child, e["id"]), json={"titre": "Titre du chef", "version": e["version"]})
    assert first.status_code == 200, first.json
    stale = educ.put(url(child, e["id"]), json={"titre": "Titre de l'éducateur", "version": e["version"]})
    assert stale.status_code == 409 and stale.json["current_version"] == first.json["version"]


def test_author_may_not_validate_and_role_must_be_named(api, child, app):
    direction = api("direction")
    e = draft(direction, child)  # written by the direction itself
    direction.post(url(child, e["id"], "soumettre"), json={})
    assert direction.post(url(child, e["id"], "valider"), json={}).status_code == 403
    educ = api("educ.sources")
    e2 = draft(educ, child)
    educ.post(url(child, e2["id"], "soumettre"), json={})
    assert api("soin.tilleuls").post(url(child, e2["id"], "valider"), json={}).status_code == 404  # out of scope
    assert educ.post(url(child, e2["id"], "valider"), json={}).status_code == 403


def test_sanitising_removes_scripts_handlers_and_links(api, child):
    educ = api("educ.sources")
    e = draft(educ, child, texte=None, contenu='<p onclick="x()">Bonjour<script>alert(1)</script>'
              '<img src=x onerror="alert(2)"><a href="javascript:alert(3)">lien</a> <b>gras</b></p>')
    assert "script" not in e["contenu"] and "onerror" not in e["contenu"] and "onclick" not in e["contenu"]
    assert "javascript" not in e["contenu"] and "<a" not in e["contenu"] and "<b>gras</b>" in e["contenu"]


def test_scope_and_shared_secret_hide_ecrits(api, child):
    e = draft(api("educ.sources"), child)
    assert api("soin.tilleuls").get(url(child, e["id"])).status_code == 404  # another établissement
    secretary = api("secretaire.sources")  # same établissement, does not read social_educatif
    assert secretary.get(url(child, e["id"])).status_code == 404
    assert all(x["id"] != e["id"] for x in secretary.get(url(child)).json["result"])


def test_api_field_errors_422(api, child):
    educ = api("educ.sources")
    response = educ.post(url(child), json={"type_code": "inconnu", "titre": "", "categorie": "medical", "zut": 1})
    assert response.status_code == 422 and "zut" in response.json["message"]
    response = educ.post(url(child), json={"type_code": "inconnu", "titre": "", "categorie": "medical"})
    assert response.status_code == 422
    assert {"type_code", "titre", "categorie"} <= set(response.json["message"])


def test_type_without_validation_is_validated_on_submit(api, child):
    educ = api("educ.sources")
    e = draft(educ, child, type_code="cr_visite")
    done = educ.post(url(child, e["id"], "soumettre"), json={})
    assert done.json["statut"] == "valide" and done.json["document_id"]


def test_pages_write_submit_validate(as_user, child):
    educ = as_user("educ.sources")
    page = educ.get(f"/ecrits/usager/{child}")
    assert page.status_code == 200 and "Nouvel écrit" in page.text
    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    created = educ.post(f"/ecrits/usager/{child}/nouveau", data={
        "csrf_token": token, "type_code": "note_incident", "categorie": "social_educatif", "titre": "Incident à la cantine",
        "texte": "Faits : **chute** sans gravité."})
    assert created.status_code == 302, created.text
    show = educ.get(created.headers["Location"])
    assert "<strong>chute</strong>" in show.text and "Soumettre à validation" in show.text
    assert educ.get(f"/dossier/{child}").text.count("Incident à la cantine") >= 1
    chef = as_user("chef.sources")
    assert "Incident à la cantine" not in chef.get("/ecrits/").text
    eid = int(created.headers["Location"].rstrip("/").split("/")[-1])
    educ.post(f"/ecrits/{eid}/soumettre", data={"csrf_token": token})
    listing = chef.get("/ecrits/")
    assert "Incident à la cantine" in listing.text
    pdf = chef.get(f"/ecrits/{eid}/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_an_ecrit_is_built_from_its_types_form(app, api, as_user):
    """The shipped « Note d'incident » form (kind ecrit): its answers, checked by the forms engine,
    compose the écrit's text; a missing answer is refused under its code."""
    with app.app_context():
        usager_id = f.gen_usager(f.SOURCES).id
    client = api("educ.sources")
    incomplete = client.post(f"/api/v1/usager/{usager_id}/ecrits", json={
        "type_code": "note_incident", "titre": "Chute dans la cour", "reponses": {"lieu": "Cour"}})
    assert incomplete.status_code == 422 and "description" in incomplete.json["message"]
    made = client.post(f"/api/v1/usager/{usager_id}/ecrits", json={
        "type_code": "note_incident", "titre": "Chute dans la cour", "categorie": "social_educatif",
        "reponses": {"date_heure": "2026-12-01T10:30", "lieu": "Cour <script>x</script>",
                     "description": "Glissade sur le sol mouillé.", "consequences": "legere",
                     "mesures": "Glace, surveillance une heure.", "famille_informee": True,
                     "autorites_informees": False}})
    assert made.status_code == 201, made.json
    contenu = made.json["contenu"] if "contenu" in made.json else made.json["result"]["contenu"]
    assert "Ce qui s'est passé" in contenu.replace("&#39;", "'") and "Glissade sur le sol mouillé." in contenu
    assert "Blessure légère ou malaise" in contenu and "<script>" not in contenu
    page = as_user("educ.sources").get(f"/ecrits/usager/{usager_id}").data.decode()
    assert 'id="formulaire-note_incident"' in page and 'name="a-description"' in page
    refused = as_user("educ.sources").post(f"/ecrits/usager/{usager_id}/nouveau", data={
        "type_code": "note_incident", "formulaire": "note_incident", "titre": "Incident", "categorie": "social_educatif",
        "a-lieu": "Réfectoire"})
    assert refused.status_code == 422 and 'value="Réfectoire"' in refused.data.decode()  # nothing typed is lost


@pytest.mark.usefixtures("steady_caches")
def test_the_dossier_panel_reads_only_the_five_newest(app, api, as_user, child):
    """Issue 20 (pages flat with data): the dossier shows the five newest écrits and links to
    all of them; it reads those five, not every écrit of the person."""
    from .conftest import sql_statements

    educ = api("educ.sources")
    for n in range(7):
        draft(educ, child, titre=f"Compte rendu n° {n}")
    page = as_user("educ.sources")
    page.get(f"/dossier/{child}")
    response, statements = sql_statements(app, lambda: page.get(f"/dossier/{child}"))
    panel = response.text.split('id="ecrits"', 1)[1].split("</section>", 1)[0]
    assert [n for n in range(7) if f"Compte rendu n° {n}" in panel] == [2, 3, 4, 5, 6]
    assert f"/ecrits/usager/{child}" in panel
    reads = [s for s in statements if "FROM ecrit " in s]
    assert len(reads) == 1 and "LIMIT" in reads[0], reads
    assert len(as_user("educ.sources").get(f"/ecrits/usager/{child}").text.split("Compte rendu n° ")) == 8
