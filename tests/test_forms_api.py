"""`/api/v1/forms/`: published definitions and stateless computation (AGGIR's GIR)."""
import random

from app.domain import aggir

SUBS = [f"{v}_{s}" for v, subs in aggir.SUB_VARIABLES.items() for s in subs]
SINGLE = ["transferts", "deplacements_interieurs", "deplacements_exterieurs", "communication_a_distance"]


def test_published_definitions_are_listed_and_readable(api):
    client = api("soin.tilleuls")
    listing = client.get("/api/v1/forms/")
    assert listing.status_code == 200
    assert "aggir" in {f["code"] for f in listing.json["result"]}
    aggir_def = client.get("/api/v1/forms/aggir").json["result"]
    codes = {i["code"] for s in aggir_def["sections"] for i in s["items"]}
    assert set(SUBS + SINGLE + list(aggir.ILLUSTRATIVE) + ["gir"]) <= codes
    assert client.get("/api/v1/forms/aggir?version=3").status_code == 200
    assert client.get("/api/v1/forms/aggir?version=9").status_code == 404
    assert client.get("/api/v1/forms/aggir?version=abc").status_code == 400
    assert client.get("/api/v1/forms/inconnu").status_code == 404


def test_compute_gives_each_letter_and_the_gir(api):
    client = api("soin.tilleuls")
    answers = {code: "A" for code in SUBS + SINGLE}
    answers.update({"toilette_haut": "C", "toilette_bas": "C", "habillage_haut": "C", "habillage_moyen": "C",
                    "habillage_bas": "C"})
    response = client.post("/api/v1/forms/aggir/compute", json={"answers": answers})
    assert response.status_code == 200, response.json
    body = response.json
    assert body["errors"] == {} and body["computed"]["toilette"] == "C" and body["computed"]["habillage"] == "C"
    assert body["computed"]["gir"] == 3 and isinstance(body["computed"]["gir"], int)  # F: 1000 → rang 9


def test_compute_matches_the_algorithm_on_random_profiles(api):
    client = api("soin.tilleuls")
    rng = random.Random(5)
    for _ in range(40):
        answers = {code: rng.choice("ABC") for code in SUBS + SINGLE}
        expected, _errors = aggir.evaluate(answers)
        got = client.post("/api/v1/forms/aggir/compute", json={"answers": answers}).json["computed"]
        assert got["gir"] == expected["gir"]


def test_partial_and_wrong_answers_still_compute_what_they_can(api):
    client = api("soin.tilleuls")
    body = client.post("/api/v1/forms/aggir/compute", json={"answers": {
        "toilette_haut": "B", "toilette_bas": "A", "transferts": "Z", "gir": 1, "inconnu": "A"}}).json
    assert body["computed"] == {"toilette": "B"}
    assert {"transferts", "gir", "inconnu", "coherence_communication"} <= set(body["errors"])


def test_bad_requests_are_4xx(api):
    client = api("soin.tilleuls")
    assert client.post("/api/v1/forms/aggir/compute", data="{", content_type="application/json").status_code == 400
    assert client.post("/api/v1/forms/aggir/compute", json={"answers": []}).status_code == 422
    assert client.post("/api/v1/forms/aggir/compute", json={"answers": {}, "version": 7}).status_code == 422
    assert client.post("/api/v1/forms/aggir/compute", json={"answers": {}, "version": "1"}).status_code == 422
    assert client.post("/api/v1/forms/nope/compute", json={"answers": {}}).status_code == 404


def test_forms_need_an_account(client):
    assert client.get("/api/v1/forms/").status_code == 401
