"""Evaluations through the API, frozen results, and the GMP of an établissement."""

import pytest

from app.domain import aggir

from . import factories as f

SUBS = [f"{v}_{s}" for v, subs in aggir.SUB_VARIABLES.items() for s in subs]
SINGLE = ["transferts", "deplacements_interieurs", "deplacements_exterieurs", "communication_a_distance"]


def profile(letter_by_variable):
    """Answers giving each discriminant variable the given letter (A by default)."""
    answers = {}
    for code in SUBS + SINGLE:
        variable = next((v for v in aggir.SUB_VARIABLES if code.startswith(v + "_")), code)
        answers[code] = letter_by_variable.get(variable, "A")
    return answers


@pytest.fixture
def resident(app):
    with app.app_context():
        return f.gen_usager().id


def test_validated_evaluation_stores_computed_gir_and_lists(api, resident):
    client = api("soin.tilleuls")
    response = client.post(f"/api/v1/usager/{resident}/evaluations", json={
        "form": "aggir", "version": 3, "answers": profile({"toilette": "C", "habillage": "C"}), "status": "validated"})
    assert response.status_code == 201, response.json
    body = response.json["result"]
    assert body["computed"]["gir"] == 3 and body["algorithms"]["aggir"] == aggir.ALGORITHM_VERSION
    listing = client.get(f"/api/v1/usager/{resident}/evaluations").json
    assert listing["count"] >= 1 and listing["result"][0]["id"] == response.json["id"]


def test_draft_keeps_incomplete_answers_validation_refuses_them(api, resident):
    client = api("soin.tilleuls")
    draft = client.post(f"/api/v1/usager/{resident}/evaluations", json={
        "form": "aggir", "answers": {"toilette_haut": "B", "transferts": "?"}, "status": "draft"})
    assert draft.status_code == 201 and draft.json["result"]["answers"]["transferts"] == "?"
    refused = client.post(f"/api/v1/usager/{resident}/evaluations", json={
        "form": "aggir", "answers": {"toilette_haut": "B"}, "status": "validated"})
    assert refused.status_code == 422 and "coherence_communication" in refused.json["message"]


@pytest.mark.parametrize("payload, field", [
    ({"form": "nope", "answers": {}, "status": "draft"}, "form"),
    ({"form": "aggir", "version": 99, "answers": {}, "status": "draft"}, "version"),
    ({"form": "aggir", "answers": {}, "status": "final"}, "status"),
    ({"form": "aggir", "answers": [], "status": "draft"}, "answers"),
    ({"form": 3, "answers": {}, "status": "draft"}, "form"),
    ({"form": "aggir", "answers": {}, "status": "draft", "evaluated_on": "hier"}, "evaluated_on"),
    ({"form": "aggir", "answers": {}, "status": "draft", "corrects": 999999}, "corrects"),
])
def test_bad_evaluations_are_422_by_field(api, resident, payload, field):
    response = api("soin.tilleuls").post(f"/api/v1/usager/{resident}/evaluations", json=payload)
    assert response.status_code == 422 and field in response.json["message"], response.json


def test_evaluations_follow_the_usager_scope_and_the_form_scope(app, api):
    with app.app_context():
        child = f.gen_usager(f.SOURCES).id
    assert api("soin.tilleuls").get(f"/api/v1/usager/{child}/evaluations").status_code == 404
    assert api("soin.tilleuls").post(f"/api/v1/usager/{child}/evaluations", json={
        "form": "aggir", "answers": {}, "status": "draft"}).status_code == 404
    # AGGIR applies to EHPAD, not to an IME
    refused = api("educ.sources").post(f"/api/v1/usager/{child}/evaluations", json={
        "form": "aggir", "answers": profile({}), "status": "validated"})
    assert refused.status_code == 422 and "form" in refused.json["message"]
    assert api("secretaire.tilleuls").post("/api/v1/usager/1/evaluations", json={}).status_code == 403


def test_gmp_uses_the_latest_validated_aggir_of_admitted_usagers(app, api):
    with app.app_context():
        etab = f.etablissement(f.TILLEULS).id
        a, b, c = (f.gen_usager().id for _ in range(3))
    client, nurse = api("direction"), api("soin.tilleuls")  # the care team evaluates, the direction pilots
    on = "2030-01-01"  # a date after every demo evaluation: only these three count as evaluated
    before = client.get(f"/api/v1/etablissement/{etab}/gmp?date={on}").json
    post = lambda uid, letters, day: nurse.post(f"/api/v1/usager/{uid}/evaluations", json={  # noqa: E731
        "form": "aggir", "answers": profile(letters), "status": "validated", "evaluated_on": day})
    assert post(a, {}, "2029-01-01").status_code == 201  # GIR 6 …
    assert post(a, {"coherence": "C", "orientation": "C"}, "2029-06-01").status_code == 201  # … then GIR 2
    assert post(b, {"toilette": "C", "habillage": "C"}, "2027-01-01").status_code == 201  # GIR 3, old
    assert post(c, {}, "2031-01-01").status_code == 201  # after the date: not counted
    gmp = client.get(f"/api/v1/etablissement/{etab}/gmp?date={on}").json
    assert gmp["evaluated"] == before["evaluated"] + 2
    assert gmp["distribution"]["2"] == before["distribution"]["2"] + 1
    assert gmp["distribution"]["3"] == before["distribution"]["3"] + 1
    assert c in gmp["missing"] and b in gmp["outdated"] and a not in gmp["missing"]
    if before["evaluated"] == 0:
        assert gmp["gmp"] == (840 + 660) / 2
    assert client.get(f"/api/v1/etablissement/{etab}/gmp?date=demain").status_code == 400
    assert api("secretaire.sources").get(f"/api/v1/etablissement/{etab}/gmp").status_code == 404


def test_a_correction_replaces_the_evaluation_it_corrects_in_the_gmp_from_its_date(app, api):
    """A GIR 1 corrected to GIR 6 counts as GIR 6 from the date of the evaluation it corrects."""
    with app.app_context():
        etab = f.etablissement(f.TILLEULS).id
        uid = f.gen_usager().id
    client, nurse = api("direction"), api("soin.tilleuls")
    on = "2032-06-01"  # after every other evaluation of the tests: this usager's is the one measured
    gir_one = {"coherence": "C", "orientation": "C", "toilette": "C", "habillage": "C", "alimentation": "C",
               "elimination": "C", "transferts": "C", "deplacements_interieurs": "C"}
    first = nurse.post(f"/api/v1/usager/{uid}/evaluations", json={
        "form": "aggir", "answers": profile(gir_one), "status": "validated", "evaluated_on": "2032-01-01"})
    assert first.status_code == 201 and first.json["result"]["computed"]["gir"] == 1
    before = client.get(f"/api/v1/etablissement/{etab}/gmp?date={on}").json
    corrected = nurse.post(f"/api/v1/usager/{uid}/evaluations", json={
        "form": "aggir", "answers": profile({}), "status": "validated", "evaluated_on": "2032-05-01",
        "corrects": first.json["id"]})
    assert corrected.status_code == 201 and corrected.json["result"]["computed"]["gir"] == 6
    after = client.get(f"/api/v1/etablissement/{etab}/gmp?date={on}").json
    assert after["distribution"]["1"] == before["distribution"]["1"] - 1
    assert after["distribution"]["6"] == before["distribution"]["6"] + 1
    assert after["evaluated"] == before["evaluated"]
    # between the corrected evaluation's date and the correction's, the correction already counts
    between = client.get(f"/api/v1/etablissement/{etab}/gmp?date=2032-02-01").json
    assert between["distribution"] == after["distribution"]  # (nothing else is dated in 2032)
