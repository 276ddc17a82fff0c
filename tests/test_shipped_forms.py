"""The shipped GEVA, GEVA-Sco and recueil des attentes: published, computed by the server,
coded with SERAFIN-PH, and their médical / psychologique fields kept to those roles."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain.forms.expressions import FUNCTIONS
from app.extensions import db
from app.models import Usager
from app.security.scope import Scope
from app.services import forms, parcours, usagers

from . import factories as f


def test_the_shipped_definitions_are_published(api):
    listed = {d["code"]: d["kind"] for d in api("educ.sources").get("/api/v1/forms/").json["result"]}
    assert {k: listed.get(k) for k in ("geva", "geva_sco", "recueil_attentes", "habitudes_de_vie", "scolarite")} == {
        "geva": "evaluation", "geva_sco": "evaluation", "recueil_attentes": "evaluation",
        "habitudes_de_vie": "dossier_section", "scolarite": "dossier_section"}


@pytest.mark.parametrize("ratings, eligible", [
    ({"marcher": "D"}, True), ({"marcher": "C", "voir": "C"}, True), ({"marcher": "C", "voir": "B"}, False),
    ({"deplacer_logement": "C", "deplacer_exterieur": "C"}, False),  # one activity (CASF annexe 2-5)
    ({}, None),  # nothing rated: no criterion either way
])
def test_geva_counts_grave_and_absolute_difficulties(api, ratings, eligible):
    body = api("educ.sources").post("/api/v1/forms/geva/compute", json={"answers": {"capacites": ratings}}).json
    assert body["computed"].get("eligibilite_pch") is eligible
    if eligible is None:
        return
    assert body["computed"]["difficultes_absolues"] == sum(v == "D" for v in ratings.values())


def test_the_recueil_takes_serafin_codes_of_the_right_kind(api):
    client = api("educ.sources")
    good = client.post("/api/v1/forms/recueil_attentes/compute", json={"answers": {
        "besoins_serafin": ["1.1.1.3", "1.2.1.1"], "prestations_serafin": ["2.3.1.1"]}}).json
    assert "besoins_serafin" not in good["errors"] and "prestations_serafin" not in good["errors"]
    bad = client.post("/api/v1/forms/recueil_attentes/compute", json={"answers": {
        "besoins_serafin": ["2.3.1.1"], "prestations_serafin": ["1.1.1.3"]}}).json
    assert "inconnus" in bad["errors"]["besoins_serafin"] and "inconnus" in bad["errors"]["prestations_serafin"]


def test_geva_medical_and_psychological_volets_are_absent_for_an_educator(app, api, make_user):
    with app.app_context():
        usager = f.gen_usager(f.SOURCES)
        forms.save_evaluation(db.session, usager=usager, code="geva", version=2, status="validated", answers={
            "projet_de_vie": "Vivre en foyer", "pathologies": "SECRET-MEDICAL", "bilan_psychologique": "SECRET-PSY",
            "synthese": "Besoins identifiés"})
        uid = usager.id
    seen = api("educ.sources").get(f"/api/v1/usager/{uid}/evaluations").data.decode()
    assert "Vivre en foyer" in seen and "SECRET-MEDICAL" not in seen and "SECRET-PSY" not in seen
    psychologist = make_user("psy.sources", "Psychologue", [f.SOURCES])
    seen = api(psychologist).get(f"/api/v1/usager/{uid}/evaluations").data.decode()
    assert "SECRET-PSY" in seen and "SECRET-MEDICAL" not in seen


@given(st.lists(st.sampled_from("ABCD"), max_size=25), st.sampled_from("ABCD"))
def test_count_counts_matrix_rows_and_list_items(values, wanted):
    assert FUNCTIONS["count"](dict(enumerate(values)), wanted) == values.count(wanted)
    assert FUNCTIONS["count"](values, wanted) == values.count(wanted)
    assert FUNCTIONS["count"](None, wanted) == 0


def test_fields_of_a_category_one_does_not_write_are_not_offered_nor_accepted(app, as_user, api):
    with app.app_context():
        uid = f.gen_usager(f.SOURCES).id
    educ = as_user("educ.sources")
    page = educ.get(f"/dossier/{uid}/evaluations/nouvelle/geva").data.decode()
    assert 'name="a-projet_de_vie"' in page and 'name="a-pathologies"' not in page
    refused = api("educ.sources").post(f"/api/v1/usager/{uid}/evaluations", json={
        "form": "geva", "version": 2, "status": "draft", "answers": {"pathologies": "écrit sans droit"}})
    assert refused.status_code == 422 and "pathologies" in refused.json["message"]


def test_a_correction_by_an_educator_keeps_the_medical_answers_they_cannot_see(app, api):
    with app.app_context():
        usager = f.gen_usager(f.SOURCES)
        original = forms.save_evaluation(db.session, usager=usager, code="geva", version=2, status="validated",
                                         answers={"pathologies": "SECRET-MEDICAL", "synthese": "v1"})
        uid, oid = usager.id, original.id
    made = api("educ.sources").post(f"/api/v1/usager/{uid}/evaluations", json={
        "form": "geva", "version": 2, "status": "validated", "corrects": oid, "answers": {"synthese": "v2"}})
    assert made.status_code == 201, made.json
    with app.app_context():
        from app.models import Evaluation

        corrected = db.session.get(Evaluation, made.json["id"])
        assert corrected.answers == {"pathologies": "SECRET-MEDICAL", "synthese": "v2"}


LIST_GRID = """code: {code}
title: Liste {code}
version: 1
kind: evaluation
sensitivity: social_educatif
sections:
- code: s
  title: Section
  items:
  - code: niveau
    label: Niveau
    type: list_choice
    list: niveau_scolaire
    default: maternelle
"""


def test_a_list_choice_offers_and_accepts_the_values_of_its_referentiels_list(app, api, as_user):
    code = "liste_" + f.unique_name("").lower()
    with app.app_context():
        forms.publish(db.session, forms.save_draft(db.session, LIST_GRID.format(code=code)))
        uid = f.gen_usager(f.SOURCES).id
    client = api("educ.sources")
    good = client.post(f"/api/v1/forms/{code}/compute", json={"answers": {"niveau": "maternelle"}}).json
    bad = client.post(f"/api/v1/forms/{code}/compute", json={"answers": {"niveau": "doctorat"}}).json
    assert good["errors"] == {} and "niveau_scolaire" in bad["errors"]["niveau"]
    page = as_user("educ.sources").get(f"/dossier/{uid}/evaluations/nouvelle/{code}").data.decode()
    assert '<select class="form-control" id="a-niveau"' in page and "Maternelle" in page
    assert '<option value="maternelle" selected>' in page  # the field's default starts a new form
    refused = as_user("educ.sources").post(f"/dossier/{uid}/evaluations/nouvelle/{code}",
                                           data={"a-niveau": "doctorat", "action": "validate"})
    assert refused.status_code == 422


def test_pathos_records_states_and_profiles_without_a_pmp(api):
    body = api("soin.tilleuls").post("/api/v1/forms/pathos/compute", json={"answers": {
        "date_coupe": "2026-11-01", "medecin": "Dr Martin",
        "etats": [{"etat_numero": 12, "profil": "T2"}, {"etat_numero": 31, "profil": "M2", "etat_libelle": "Dénutrition"},
                  {"etat_numero": 51, "profil": "X9"}]}}).json
    assert body["computed"] == {"nombre_etats": 2}  # the lines that are valid; no PMP is computed
    assert "au plus 50" in body["errors"]["etats[2].etat_numero"] and "T1" in body["errors"]["etats[2].profil"]
