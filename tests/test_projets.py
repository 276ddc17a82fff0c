"""Projet personnalisé through its API: build, validate, scope and shared secret, concurrency,
signature lock, bilans, next version, progression and deadlines."""
import datetime as dt

import pytest

from app.extensions import db
from app.models.projet import ProjetObjectif, ProjetPersonnalise
from app.security.scope import Scope
from app.services import projets

from . import factories as f
from .conftest import sql_statements

BESOIN, BESOIN2 = "1.1.1.1", "1.1.1.2"
PRESTATION = "2.1.1.3"


@pytest.fixture
def child(app):
    """A child admitted at IME Les Sources on 15/01/2024."""
    with app.app_context():
        usager = f.gen_usager(f.SOURCES, date_naissance=dt.date(2014, 3, 2))
        etab = f.etablissement(f.SOURCES).id
        return usager.id, etab


def payload(etab, **extra):
    return {"etablissement_id": etab, "date_debut": "2024-06-01",
            "attentes": [{"texte": "Je veux aller à la piscine", "auteur": "personne"},
                         {"texte": "Qu'il dorme mieux", "auteur": "entourage", "auteur_nom": "sa mère"}],
            "objectifs": [
                {"libelle": "Nager 25 mètres", "libelle_falc": "Je nage seul", "besoins": [BESOIN],
                 "objectif_personnel": "Aller à la piscine", "indicateur": {"unite": "mètres", "cible": 25},
                 "actions": [{"libelle": "Séance de piscine", "prestation": PRESTATION, "debut": "2024-06-01",
                              "fin": "2024-12-31", "frequence": "chaque mercredi"}]},
                {"libelle": "S'endormir sans aide", "besoins": [BESOIN2], "indicateur": {"echelle": "0-4", "cible": 3},
                 "actions": [{"libelle": "Rituel du coucher", "prestation": PRESTATION}]}],
            **extra}


def test_create_returns_ids_and_reads_back(api, child):
    uid, etab = child
    client = api("educ.sources")
    created = client.post(f"/api/v1/usager/{uid}/projets", json=payload(etab))
    assert created.status_code == 201, created.json
    body = created.json["result"]
    assert created.json["id"] == body["id"] and body["version"] == 1 and body["statut"] == "elaboration"
    assert all(o["id"] for o in body["objectifs"]) and all(a["id"] for o in body["objectifs"] for a in o["actions"])
    assert body["objectifs"][0]["besoins"] == [BESOIN] and body["date_revision"] == "2025-06-01"
    listed = client.get(f"/api/v1/usager/{uid}/projets").json["result"]
    assert [p["id"] for p in listed] == [body["id"]]
    assert client.get(f"/api/v1/usager/{uid}/projets/{body['id']}").json["result"]["attentes"][1]["auteur_nom"] == "sa mère"


def test_codes_and_fields_are_checked_with_their_path(api, child):
    uid, etab = child
    client = api("educ.sources")
    bad = payload(etab)
    bad["objectifs"][0]["besoins"] = [BESOIN, "1.1"]  # a grouping level, not selectable
    bad["objectifs"][1]["actions"][0]["prestation"] = BESOIN  # a besoin where a prestation goes
    bad["attentes"][0]["auteur"] = "voisin"
    response = client.post(f"/api/v1/usager/{uid}/projets", json=bad)
    assert response.status_code == 422
    message = response.json["message"]
    assert set(message) == {"objectifs[0].besoins[1]", "objectifs[1].actions[0].prestation", "attentes[0].auteur"}
    assert client.get(f"/api/v1/usager/{uid}/projets").json["result"] == []  # nothing half-written
    assert client.post(f"/api/v1/usager/{uid}/projets", data="x").status_code == 400


def test_outside_scope_is_404_and_other_roles_are_refused(app, api, child):
    uid, etab = child
    assert api("secretaire.tilleuls").post(f"/api/v1/usager/{uid}/projets", json=payload(etab)).status_code in (403, 404)
    pid = api("educ.sources").post(f"/api/v1/usager/{uid}/projets", json=payload(etab)).json["id"]
    assert api("soin.tilleuls").get(f"/api/v1/usager/{uid}/projets/{pid}").status_code == 404
    assert api("soin.tilleuls").get(f"/api/v1/usager/{uid}/projets").status_code == 404
    # the secretary of Les Sources sees the usager but does not read the PP's category
    assert api("secretaire.sources").get(f"/api/v1/usager/{uid}/projets/{pid}").status_code in (403, 404)
    assert api("qualite").get(f"/api/v1/usager/{uid}/projets").status_code in (403, 404)
    # another usager's id in the path
    with app.app_context():
        other = f.gen_usager(f.SOURCES).id
    assert api("educ.sources").get(f"/api/v1/usager/{other}/projets/{pid}").status_code == 404


def test_a_stricter_objective_is_hidden_from_who_may_not_read_it(app, api, child):
    uid, etab = child
    with app.app_context():  # outside a request: the system, every category
        data = payload(etab)
        data["objectifs"][1]["categorie"] = "psychologique"
        usager = db.session.get(f.Usager, uid)
        projet = projets.create(db.session, scope=Scope.everything(), usager=usager, payload=data)
        pid = projet.id
    seen = api("educ.sources").get(f"/api/v1/usager/{uid}/projets/{pid}").json["result"]
    assert [o["libelle"] for o in seen["objectifs"]] == ["Nager 25 mètres"]
    assert "Rituel" not in str(seen)
    # changing the PP keeps the hidden objective
    changed = api("educ.sources").put(f"/api/v1/usager/{uid}/projets/{pid}",
                                      json={"version": 1, "synthese": "Synthèse des besoins"})
    assert changed.status_code == 200, changed.json
    with app.app_context():
        assert db.session.query(ProjetObjectif).filter_by(projet_id=pid).count() == 2


def test_stale_version_is_409(api, child):
    uid, etab = child
    client = api("educ.sources")
    pid = client.post(f"/api/v1/usager/{uid}/projets", json=payload(etab)).json["id"]
    assert client.put(f"/api/v1/usager/{uid}/projets/{pid}", json={"version": 1, "synthese": "a"}).status_code == 200
    stale = client.put(f"/api/v1/usager/{uid}/projets/{pid}", json={"version": 1, "synthese": "b"})
    assert stale.status_code == 409 and stale.json["current_version"] == 2


def _signed(client, uid, etab):
    created = client.post(f"/api/v1/usager/{uid}/projets", json=payload(etab)).json["result"]
    pid = created["id"]
    proposed = client.post(f"/api/v1/usager/{uid}/projets/{pid}/statut", json={"statut": "propose", "version": 1})
    assert proposed.status_code == 200, proposed.json
    signed = client.post(f"/api/v1/usager/{uid}/projets/{pid}/signatures", json={
        "version": proposed.json["result"]["version"],
        "signataires": [{"qualite": "personne", "nom": "Léo", "date": "2024-06-10", "mode": "application"},
                        {"qualite": "referent", "nom": "Emma Éducatrice", "date": "2024-06-10", "mode": "application"}]})
    assert signed.status_code == 200, signed.json
    return signed.json["result"]


def test_signed_version_is_locked_with_its_hash(api, child):
    uid, etab = child
    client = api("educ.sources")
    projet = _signed(client, uid, etab)
    assert projet["statut"] == "signe" and len(projet["content_hash"]) == 64
    assert {s["content_hash"] for s in projet["signatures"]} == {projet["content_hash"]}
    locked = client.put(f"/api/v1/usager/{uid}/projets/{projet['id']}", json={"version": projet["version"],
                                                                              "synthese": "changée"})
    assert locked.status_code == 422 and "statut" in locked.json["message"]
    paper = client.post(f"/api/v1/usager/{uid}/projets/{projet['id']}/signatures", json={
        "version": projet["version"], "signataires": [{"qualite": "personne", "nom": "x", "date": "2024-06-10",
                                                        "mode": "papier"}]})
    assert paper.status_code == 422


def test_bilans_progression_and_next_version(api, child):
    uid, etab = child
    client = api("educ.sources")
    projet = _signed(client, uid, etab)
    pid, (nage, sommeil) = projet["id"], [o["id"] for o in projet["objectifs"]]
    first = client.post(f"/api/v1/usager/{uid}/projets/{pid}/bilans", json={
        "date": "2024-09-01", "type": "intermediaire",
        "objectifs": [{"objectif_id": nage, "atteinte": "partiel", "mesure": 10},
                      {"objectif_id": sommeil, "atteinte": "non_atteint", "mesure": 1}]})
    assert first.status_code == 201, first.json
    bad = client.post(f"/api/v1/usager/{uid}/projets/{pid}/bilans", json={
        "date": "2024-10-01", "type": "intermediaire",
        "objectifs": [{"objectif_id": sommeil, "atteinte": "bof", "mesure": 9}, {"objectif_id": 999999999,
                                                                                 "atteinte": "atteint"}]})
    assert bad.status_code == 422
    assert set(bad.json["message"]) == {"objectifs[0].atteinte", "objectifs[0].mesure", "objectifs[1].objectif_id"}
    final = client.post(f"/api/v1/usager/{uid}/projets/{pid}/bilans", json={
        "date": "2025-05-20", "type": "final",
        "objectifs": [{"objectif_id": nage, "atteinte": "atteint", "mesure": 25, "decision": "arreter"},
                      {"objectif_id": sommeil, "atteinte": "partiel", "mesure": 2, "decision": "continuer"}]})
    assert final.status_code == 201 and final.json["next_id"] and final.json["share_reached"] == 0.5
    assert client.get(f"/api/v1/usager/{uid}/projets/{pid}").json["result"]["statut"] == "evalue"
    following = client.get(f"/api/v1/usager/{uid}/projets/{final.json['next_id']}").json["result"]
    assert following["numero"] == 2 and following["statut"] == "elaboration"
    assert [o["libelle"] for o in following["objectifs"]] == ["S'endormir sans aide"]
    carried = following["objectifs"][0]["id"]
    # the carried objective's history starts at the first bilan of version 1
    progress = client.get(f"/api/v1/usager/{uid}/projets/{final.json['next_id']}/progression").json
    points = next(o for o in progress["objectifs"] if o["id"] == carried)["points"]
    assert [(p["date"], p["atteinte"], p["mesure"]) for p in points] == [
        ("2024-09-01", "non_atteint", 1.0), ("2025-05-20", "partiel", 2.0)]
    progress = client.get(f"/api/v1/usager/{uid}/projets/{pid}/progression").json
    assert [b["share_reached"] for b in progress["bilans"]] == [0.0, 0.5]


def test_deadlines_in_scope(app, api, child):
    uid, etab = child
    client = api("educ.sources")
    due = client.get("/api/v1/projets/echeances?date=2024-08-01").json["result"]
    mine = [d for d in due if d["usager_id"] == uid]
    assert mine == [{"usager_id": uid, "projet_id": None, "motif": "a_elaborer", "echeance": "2024-07-15",
                     "etablissement_id": etab}]
    assert not [d for d in api("soin.tilleuls").get("/api/v1/projets/echeances?date=2030-01-01").json["result"]
                if d["usager_id"] == uid]
    projet = _signed(client, uid, etab)
    due = client.get("/api/v1/projets/echeances?date=2025-06-02").json["result"]
    motifs = {d["motif"] for d in due if d["usager_id"] == uid}
    assert motifs == {"a_reviser", "action"}
    assert all(d["projet_id"] == projet["id"] for d in due if d["usager_id"] == uid)
    assert client.get("/api/v1/projets/echeances?date=demain").status_code == 400
    # the same statements whatever the number of admissions and PPs (it was one per PP's bilans,
    # objectives and actions): the admissions, the PPs, their last bilans, their late actions
    _, statements = sql_statements(app, lambda: client.get("/api/v1/projets/echeances?date=2025-06-02"))
    reads = [s for s in statements if "projet" in s.lower() or "FROM admission" in s]
    assert len(reads) == 4, reads


@pytest.mark.parametrize("username", ["direction", "educ.sources", "soin.tilleuls"])
def test_the_homes_figures_are_the_deadlines_counted_on_each_side_of_every_deadline(app, api, child, username):
    """`due_counts` (the home's figures, counted by the database) gives what `echeances` lists,
    counted, the day before, on and after each kind of deadline: a first PP six months after an
    entry on 31 August (months added as relativedelta does: 28 February), a bilan planned after the
    last one held (one planned before it no longer counts), a late action, a revision; for users
    of different scopes (soin.tilleuls sees none of the PPs below; educ.sources not the newest)."""
    from flask import g

    from app.models import Admission, User
    from app.security.scope import scope_for_user

    uid, etab = child
    client = api("educ.sources")
    projet = _signed(client, uid, etab)
    pid, nage = projet["id"], projet["objectifs"][0]["id"]
    assert client.post(f"/api/v1/usager/{uid}/projets/{pid}/bilans", json={
        "date": "2024-09-01", "type": "intermediaire",
        "objectifs": [{"objectif_id": nage, "atteinte": "partiel", "mesure": 10}]}).status_code == 201
    with app.app_context():
        signed = db.session.get(ProjetPersonnalise, pid)
        signed.bilans_prevus = ["2024-08-15", "2024-10-01", "2025-03-01"]
        # a newer version in a category educ.sources does not read: for her, the signed one is current
        db.session.add(ProjetPersonnalise(usager_id=uid, etablissement_id=etab, numero=2, statut="elaboration",
                                          sensitivity="medical", date_debut=signed.date_debut))
        late_entry = f.gen_usager(f.SOURCES)
        db.session.query(Admission).filter_by(usager_id=late_entry.id).one().date_entree = dt.date(2025, 8, 31)
        db.session.commit()
        revision = db.session.get(ProjetPersonnalise, pid).date_revision
    days = [dt.date(2024, 10, 1), dt.date(2024, 12, 31), dt.date(2026, 2, 28), revision]
    with app.test_request_context():
        g.sillage_scope = scope = scope_for_user(db.session, db.session.query(User).filter_by(username=username).one())
        for day in days:
            for today, by in ((day - dt.timedelta(days=1), day - dt.timedelta(days=1)), (day - dt.timedelta(days=1), day),
                              (day, day), (day, day + dt.timedelta(days=30)), (day + dt.timedelta(days=1),) * 2):
                listed = [d["echeance"] < today.isoformat() for d in projets.echeances(db.session, scope, by)]
                assert projets.due_counts(db.session, scope, today, by) == (sum(listed), len(listed) - sum(listed)), \
                    (today, by)
        db.session.remove()


def test_the_projet_tables_are_scoped(app):
    from app.security.scope import SCOPED_TABLES

    assert {t for t in db.metadata.tables if t.startswith("projet")} <= SCOPED_TABLES
    assert ProjetPersonnalise.__tablename__ in SCOPED_TABLES


def test_pdf_and_easy_read_pdf(api, child):
    import io

    from pypdf import PdfReader

    uid, etab = child
    client = api("educ.sources")
    pid = _signed(client, uid, etab)["id"]
    response = client.get(f"/api/v1/usager/{uid}/projets/{pid}/pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert "Je veux aller à la piscine" in text and "Nager 25 mètres" in text and "10/06/2024" in text
    assert text.index("Je veux aller") < text.index("Nager 25")  # the person's words first
    assert "1.1.1.1" not in text and "2.1.1.3" not in text  # no codes unless asked
    coded = client.get(f"/api/v1/usager/{uid}/projets/{pid}/pdf?codes=1")
    assert "2.1.1.3" in " ".join(p.extract_text() for p in PdfReader(io.BytesIO(coded.data)).pages)
    falc = client.get(f"/api/v1/usager/{uid}/projets/{pid}/pdf?falc=1")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(falc.data)).pages)
    assert "Mon projet" in text and "Je nage seul" in text and "Nager 25 mètres" not in text
    assert api("soin.tilleuls").get(f"/api/v1/usager/{uid}/projets/{pid}/pdf").status_code == 404


def test_statistics_in_scope_and_as_xlsx(api, child):
    import io

    from openpyxl import load_workbook

    uid, etab = child
    client = api("educ.sources")
    projet = _signed(client, uid, etab)
    client.post(f"/api/v1/usager/{uid}/projets/{projet['id']}/bilans", json={
        "date": "2024-09-01", "type": "intermediaire",
        "objectifs": [{"objectif_id": projet["objectifs"][0]["id"], "atteinte": "atteint"}]})
    stats = client.get("/api/v1/projets/statistiques").json
    assert {r["etablissement"] for r in stats["services"]} == {f.SOURCES}
    assert all(0 <= r["part_a_jour"] <= 1 for r in stats["services"])
    besoin = next(r for r in stats["besoins"] if r["code"] == BESOIN)
    assert besoin["evalues"] >= 1 and besoin["atteints"] >= 1
    assert next(r for r in stats["prestations"] if r["code"] == PRESTATION)["personnes"] >= 1
    tilleuls = api("soin.tilleuls").get("/api/v1/projets/statistiques").json
    assert {r["etablissement"] for r in tilleuls["services"]} == {f.TILLEULS}
    book = load_workbook(io.BytesIO(client.get("/api/v1/projets/statistiques?format=xlsx").data))
    assert book.sheetnames == ["Projets à jour", "Objectifs par besoin", "Prestations"]
    assert book["Objectifs par besoin"]["A1"].value == "Code"


def test_signing_keeps_the_pdfs_and_erasure_removes_the_words(app, api, as_user, child):
    import io

    from pypdf import PdfReader

    from app.models.projet import ProjetAttente, ProjetSignature

    uid, etab = child
    with app.app_context():  # a stricter objective: never copied into the kept files
        data = payload(etab)
        data["objectifs"][1]["categorie"] = "psychologique"
        usager = db.session.get(f.Usager, uid)
        pid = projets.create(db.session, scope=Scope.everything(), usager=usager, payload=data).id
    client = api("educ.sources")
    client.post(f"/api/v1/usager/{uid}/projets/{pid}/statut", json={"statut": "propose", "version": 1})
    signed = client.post(f"/api/v1/usager/{uid}/projets/{pid}/signatures", json={"version": 2, "signataires": [
        {"qualite": "personne", "nom": "Léo", "date": "2024-06-10", "mode": "application"}]})
    assert signed.status_code == 200, signed.json
    page = as_user("educ.sources")
    kept = page.get(f"/projets/{uid}/{pid}/signe.pdf")
    assert kept.status_code == 200
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(kept.data)).pages)
    assert "Nager 25 mètres" in text and "Rituel" not in text and "S'endormir" not in text
    assert page.get(f"/projets/{uid}/{pid}/signe.pdf?falc=1").status_code == 200
    listed = api("educ.sources").get(f"/api/v1/usager/{uid}/documents").json["result"]  # also in the documents
    assert [d["type_code"] for d in listed if d["titre"].startswith("Projet personnalisé")] == ["projet_personnalise"]
    assert api("soin.tilleuls").get(f"/api/v1/usager/{uid}/documents").status_code == 404
    assert as_user("soin.tilleuls").get(f"/projets/{uid}/{pid}/signe.pdf").status_code == 404
    with app.app_context():
        from app.services import rgpd

        usager = db.session.get(f.Usager, uid)
        path = projets.kept_pdf(db.session.get(ProjetPersonnalise, pid), falc=False)
        assert path.is_file()
        rgpd.anonymise(db.session, usager, app.config["SILLAGE_DATA_DIR"], "test")
        assert not path.exists()
        assert {a.texte for a in db.session.query(ProjetAttente).filter_by(projet_id=pid)} == {"effacé"}
        assert {s.nom for s in db.session.query(ProjetSignature).filter_by(projet_id=pid)} == {"-"}
        assert db.session.query(ProjetObjectif).filter_by(projet_id=pid).count() == 2  # codes stay
