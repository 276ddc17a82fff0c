"""Administrative and financial papers (issue 18 §5): the contract's deadlines (handed over in 15
days, signed in one month) and its avenants, the devis total, the aides to renew, the financier
category hidden from educators and carers and read by the Comptabilité, the scope, the API as
outside clients use it, and the pages."""
import datetime as dt
from decimal import Decimal

from sqlalchemy import select

from app.domain import papiers as rules
from app.extensions import db
from app.models import Admission, AuditEvent
from app.security.scope import Scope
from app.services import papiers

from . import factories as f


def person(app, etab=f.TILLEULS):
    """(usager id, admission id): admitted on 2024-01-15 (the factory's date)."""
    with app.app_context():
        usager = f.gen_usager(etab)
        ids = usager.id, usager.admissions[0].id
        db.session.remove()
    return ids


# --- rules -------------------------------------------------------------------------------------

def test_contract_handed_over_within_15_days_and_signed_within_a_month():
    entry = dt.date(2024, 1, 31)
    remise, signature = rules.contract_deadlines(entry, None, None, dt.date(2024, 2, 10))
    assert remise.due == dt.date(2024, 2, 15) and not remise.late and remise.pending
    assert signature.due == dt.date(2024, 2, 29) and not signature.late  # one month, end of February
    remise, signature = rules.contract_deadlines(entry, None, None, dt.date(2024, 2, 16))
    assert remise.late and str(remise.label) == "en retard" and not signature.late
    remise, signature = rules.contract_deadlines(entry, dt.date(2024, 2, 20), dt.date(2024, 2, 29), dt.date(2024, 6, 1))
    assert remise.late and str(remise.label) == "fait hors délai" and not signature.late
    assert str(signature.label) == "fait"


def test_aide_renewal_is_due_n_days_before_the_end():
    today = dt.date(2025, 1, 1)
    assert rules.renewal_due(dt.date(2025, 3, 1), today, 90)
    assert not rules.renewal_due(dt.date(2025, 6, 1), today, 90)
    assert rules.renewal_due(dt.date(2024, 12, 1), today, 90)  # ended: overdue
    assert not rules.renewal_due(None, today, 90)


# --- API -----------------------------------------------------------------------------------------

def test_secretary_records_a_contract_its_avenant_and_sees_deadlines(app, api):
    uid, aid = person(app)
    client = api("secretaire.tilleuls")
    created = client.post(f"/api/v1/usager/{uid}/contrats", json={
        "admission_id": aid, "type": "contrat", "remis_le": "2024-02-05", "signataires": "Mme X, la directrice",
        "prestations": "Hébergement\nRestauration"})
    assert created.status_code == 201, created.json
    contract = created.json["result"]
    assert contract["remise_avant"] == "2024-01-30" and contract["remise_en_retard"] is True
    assert contract["signature_avant"] == "2024-02-15" and contract["signature_en_retard"] is True
    avenant = client.post(f"/api/v1/usager/{uid}/avenants", json={
        "contrat_id": created.json["id"], "date": "2024-07-01", "objet": "Projet personnalisé"})
    assert avenant.status_code == 201, avenant.json
    listed = client.get(f"/api/v1/usager/{uid}/contrats").json["result"]
    assert [a["objet"] for a in listed[0]["avenants"]] == ["Projet personnalisé"]
    # correction with the version read; a stale version answers 409
    ok = client.put(f"/api/v1/usager/{uid}/contrats/{contract['id']}",
                    json={"version": 1, "signe_le": "2024-02-10"})
    assert ok.status_code == 200 and ok.json["result"]["signature_en_retard"] is False
    stale = client.put(f"/api/v1/usager/{uid}/contrats/{contract['id']}", json={"version": 1, "duree_mois": 12})
    assert stale.status_code == 409


def test_field_errors_answer_422_in_french(app, api):
    uid, aid = person(app)
    client = api("secretaire.tilleuls")
    bad = client.post(f"/api/v1/usager/{uid}/contrats", json={"type": "bail", "remis_le": "05/02/2024",
                                                             "inconnu": 1})
    assert bad.status_code == 422
    message = bad.json["message"]
    assert message["admission_id"] == ["Ce champ est obligatoire."]
    assert "AAAA-MM-JJ" in message["remis_le"][0] and "inconnu" in message and "type" in message
    other_uid, other_aid = person(app)
    foreign = client.post(f"/api/v1/usager/{uid}/contrats", json={"admission_id": other_aid, "type": "dipc"})
    assert foreign.status_code == 422 and "admission_id" in foreign.json["message"]


def test_devis_total_is_computed_exactly(app, api):
    uid, _aid = person(app)
    client = api("compta")
    created = client.post(f"/api/v1/usager/{uid}/devis", json={
        "date": "2024-03-01", "objet": "Coiffure et pédicure", "lignes": [
            {"libelle": "Coiffure", "quantite": "3", "prix_unitaire": "19.90"},
            {"libelle": "Pédicure", "quantite": 1.5, "prix_unitaire": "0,10"}]})
    assert created.status_code == 201, created.json
    assert created.json["result"]["total"] == "59.85"
    assert [li["montant"] for li in created.json["result"]["lignes"]] == ["59.70", "0.15"]
    refused = client.post(f"/api/v1/usager/{uid}/devis", json={"date": "2024-03-01", "objet": "X", "lignes": [
        {"libelle": "Coiffure", "quantite": "-1", "prix_unitaire": "10"}]})
    assert refused.status_code == 422 and "lignes" in refused.json["message"]


def test_financier_papers_are_hidden_from_educators_and_carers(app, api):
    uid, _aid = person(app, f.SOURCES)
    compta = api("compta")
    aide = compta.post(f"/api/v1/usager/{uid}/aides", json={
        "kind": "pch", "organisme": "MDPH du Puy-de-Dôme", "numero_decision": "D-2024-12", "montant": "312.50",
        "debut": "2024-01-01", "fin": "2026-12-31"})
    assert aide.status_code == 201, aide.json
    assert compta.get(f"/api/v1/usager/{uid}/aides").json["result"][0]["montant"] == "312.50"
    educ = api("educ.sources")
    assert educ.get(f"/api/v1/usager/{uid}/aides").json["result"] == []
    assert educ.get(f"/api/v1/usager/{uid}/aides/{aide.json['id']}").status_code == 404
    assert api("direction").get(f"/api/v1/usager/{uid}/aides").json["count"] == 1  # Direction reads financier
    # the secretariat reads administratif, not financier: it may neither read nor record an aide
    secretary = api("secretaire.sources")
    assert secretary.get(f"/api/v1/usager/{uid}/aides").json["result"] == []
    refused = secretary.post(f"/api/v1/usager/{uid}/aides", json={"kind": "apa"})
    assert refused.status_code == 422 and "categorie" in refused.json["message"]
    # educators read administratif papers (an insurance) but write none
    assert secretary.post(f"/api/v1/usager/{uid}/assurances", json={"kind": "rc", "organisme": "MAIF"}).status_code == 201
    assert len(educ.get(f"/api/v1/usager/{uid}/assurances").json["result"]) == 1
    assert educ.post(f"/api/v1/usager/{uid}/assurances", json={"kind": "rc"}).status_code == 403


def test_out_of_scope_usager_answers_404(app, api):
    uid, aid = person(app, f.SOURCES)
    client = api("secretaire.tilleuls")
    assert client.get(f"/api/v1/usager/{uid}/contrats").status_code == 404
    assert client.post(f"/api/v1/usager/{uid}/contrats", json={"admission_id": aid, "type": "dipc"}).status_code == 404
    assert api("compta").get(f"/api/v1/usager/{uid}/contrats").status_code == 200


def test_archived_paper_leaves_the_list_and_reads_are_audited(app, api):
    uid, _aid = person(app)
    client = api("compta")
    created = client.post(f"/api/v1/usager/{uid}/factures", json={
        "kind": "attestation", "numero": "A-12", "date": "2024-04-30", "montant": "1830.00",
        "periode_debut": "2024-04-01", "periode_fin": "2024-04-30"})
    assert created.status_code == 201, created.json
    assert client.delete(f"/api/v1/usager/{uid}/factures/{created.json['id']}").status_code == 204
    assert client.get(f"/api/v1/usager/{uid}/factures").json["result"] == []
    with app.app_context():
        created_event = db.session.execute(select(AuditEvent).where(
            AuditEvent.entity == "Facture", AuditEvent.entity_id == created.json["id"],
            AuditEvent.action == "create")).scalar_one()
        assert created_event.changes["montant"] == "modifié"  # an amount is not copied to the trail


def test_types_describe_the_kinds(api):
    result = api("secretaire.tilleuls").get("/api/v1/papiers/types").json["result"]
    aides = next(k for k in result if k["code"] == "aides")
    assert aides["categorie"] == "financier" and "ash" in aides["valeurs"]["kind"]


# --- work lists ----------------------------------------------------------------------------------

def test_contract_and_aide_work_lists(app):
    with app.app_context():
        usager = f.gen_usager()
        admission = usager.admissions[0]
        today = dt.date(2024, 2, 1)
        remise = {r["usager"].id: r for r in papiers.contracts_due(db.session, today, "remise")}
        assert remise[usager.id]["late"] and remise[usager.id]["cells"][3] == dt.date(2024, 1, 30)
        signature = {r["usager"].id: r for r in papiers.contracts_due(db.session, today, "signature")}
        assert not signature[usager.id]["late"]
        papiers.create(db.session, scope=Scope.everything(), usager=usager, kind_key="contrats",
                       values={"admission_id": admission.id, "type": "contrat", "remis_le": dt.date(2024, 1, 20)})
        assert usager.id not in {r["usager"].id for r in papiers.contracts_due(db.session, today, "remise")}
        assert usager.id in {r["usager"].id for r in papiers.contracts_due(db.session, today, "signature")}
        papiers.create(db.session, scope=Scope.everything(), usager=usager, kind_key="aides",
                       values={"kind": "apa", "fin": dt.date(2024, 3, 31)})
        due = [r for r in papiers.aides_to_renew(db.session, today, 90) if r["usager"].id == usager.id]
        assert len(due) == 1 and due[0]["cells"][3] == dt.date(2024, 3, 31)
        papiers.create(db.session, scope=Scope.everything(), usager=usager, kind_key="aides",
                       values={"kind": "apa", "debut": dt.date(2024, 4, 1), "fin": dt.date(2027, 3, 31)})
        assert not [r for r in papiers.aides_to_renew(db.session, today, 90) if r["usager"].id == usager.id]
        db.session.remove()


def test_secretary_home_lists_contracts_to_hand_over(app, as_user):
    person(app)
    page = as_user("secretaire.tilleuls").get("/").data.decode()
    assert "Contrats de séjour / DIPC à remettre" in page
    assert as_user("compta").get("/accueil/liste/aides-a-renouveler").status_code == 200


# --- pages ---------------------------------------------------------------------------------------

def test_papers_page_keeps_what_was_typed_on_error_and_records(app, as_user):
    uid, aid = person(app)
    compta = as_user("compta")
    dossier = compta.get(f"/dossier/{uid}").data.decode()
    assert f"/dossier/{uid}/papiers" in dossier
    page = compta.get(f"/dossier/{uid}/papiers")
    assert page.status_code == 200 and "Devis" in page.data.decode() and "Aides" in page.data.decode()
    refused = compta.post(f"/dossier/{uid}/papiers/devis", data={
        "devis-date": "2024-03-01", "devis-objet": "Fauteuil adapté",
        "devis-lignes-0-libelle": "Fauteuil", "devis-lignes-0-quantite": "1", "devis-lignes-0-prix_unitaire": "abc"})
    text = refused.data.decode()
    assert refused.status_code == 422 and "Fauteuil adapté" in text and "Ligne 1" in text
    saved = compta.post(f"/dossier/{uid}/papiers/devis", data={
        "devis-date": "2024-03-01", "devis-objet": "Fauteuil adapté",
        "devis-lignes-0-libelle": "Fauteuil", "devis-lignes-0-quantite": "1",
        "devis-lignes-0-prix_unitaire": "1 250,50"}, follow_redirects=True)
    assert saved.status_code == 200 and "total 1250.50 €" in saved.data.decode()
    contract = compta.post(f"/dossier/{uid}/papiers/contrats", data={
        "contrats-admission_id": str(aid), "contrats-type": "dipc", "contrats-remis_le": "2024-01-20"},
        follow_redirects=True)
    assert "Remise" in contract.data.decode() and "fait" in contract.data.decode()


def test_educator_page_has_no_financier_section(app, as_user):
    uid, _aid = person(app, f.SOURCES)
    page = as_user("educ.sources").get(f"/dossier/{uid}/papiers")
    text = page.data.decode()
    assert page.status_code == 200 and "Assurances et garanties" in text and "Devis" not in text
    assert as_user("educ.sources").post(f"/dossier/{uid}/papiers/devis", data={}).status_code in (403, 404)
    assert as_user("secretaire.tilleuls").get(f"/dossier/{uid}/papiers").status_code == 404
