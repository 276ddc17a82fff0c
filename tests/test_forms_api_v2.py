"""Forms as code (issue 15 §5): the draft, compute with the draft, publish with its impact,
versions and the forms offered per établissement — the paths external clients use."""
from __future__ import annotations


from app.extensions import db
from app.services import forms

from . import factories as f

ITEMS = "  - {code: humeur, label: Humeur, type: single_choice, options: [{code: gaie, label: Gaie}, {code: triste, label: Triste}]}\n"


def test_a_draft_is_written_computed_published_and_listed(app, api):
    code = "api_" + f.unique_name("").lower()
    quality = api("qualite")
    response = quality.put(f"/api/v1/forms/{code}/draft", json={"source": f.grid_yaml(code, "Par l'API", ITEMS)})
    assert response.status_code == 200, response.json
    assert response.json == {"code": code, "version": 1, "status": "draft", "warnings": []}
    computed = quality.post(f"/api/v1/forms/{code}/compute", json={"version": "draft", "answers": {"humeur": "gaie"}})
    assert computed.status_code == 200 and computed.json["errors"] == {}
    published = quality.post(f"/api/v1/forms/{code}/publish", json={})
    assert published.status_code == 200 and published.json["version"] == 1
    versions = quality.get(f"/api/v1/forms/{code}/versions").json["result"]
    assert [(v["version"], v["status"]) for v in versions] == [(1, "published")] and versions[0]["published_at"]
    # a new version that removes an option used by a validated submission: 409 with the impact
    with app.app_context():
        forms.save_evaluation(db.session, usager=f.gen_usager(), code=code, version=1, status="validated",
                              answers={"humeur": "triste"})
    narrower = ITEMS.replace(", {code: triste, label: Triste}", "")
    draft = quality.put(f"/api/v1/forms/{code}/draft", json={"source": f.grid_yaml(code, "Par l'API", narrower)})
    assert draft.status_code == 200 and draft.json["version"] == 2 and "triste" in " ".join(draft.json["warnings"])
    refused = quality.post(f"/api/v1/forms/{code}/publish", json={})
    assert refused.status_code == 409 and refused.json["impact"]["options_retirees"] == {"humeur": 1}
    assert quality.post(f"/api/v1/forms/{code}/publish", json={"confirm": True}).json["version"] == 2


def test_a_refused_definition_answers_422_with_lines_fast_whatever_the_input(app, api):
    quality = api("qualite")
    code = "api_" + f.unique_name("").lower()
    bomb = "\n".join(["a: &a [x, x, x, x, x, x, x, x, x]"] + [
        f"{n}: &{n} [{', '.join(['*' + p] * 9)}]" for p, n in zip("abcdefgh", "bcdefghi")])
    for source in (bomb, "code: [", f.grid_yaml(code, "X", ITEMS).replace("type: single_choice", "type: nope"),
                   f.grid_yaml("autre_code", "X", ITEMS), "x" * 400_000):
        response = quality.put(f"/api/v1/forms/{code}/draft", json={"source": source})
        assert response.status_code == 422, (source[:40], response.json)
        assert all(m.startswith("ligne ") for m in response.json["message"]["source"])
    for body in ({"source": 3}, {}, []):
        assert quality.put(f"/api/v1/forms/{code}/draft", json=body).status_code in (400, 422)
    assert api("soin.tilleuls").put(f"/api/v1/forms/{code}/draft",
                                    json={"source": f.grid_yaml(code, "X", ITEMS)}).status_code == 403
    assert quality.post("/api/v1/forms/inconnu_x/publish", json={}).status_code == 404


def test_forms_are_listed_where_they_are_offered(app, api):
    with app.app_context():
        tilleuls, sources = f.etablissement(f.TILLEULS), f.etablissement(f.SOURCES)
        code = "ime_" + f.unique_name("").lower()
        data = f.grid_yaml(code, "Pour l'IME", ITEMS).replace("  - EHPAD\n", f"  - {sources.categorie.code}\n"
                                                                 f"  etablissements:\n  - '{sources.finess}'\n")
        forms.publish(db.session, forms.save_draft(db.session, data))
        ids = tilleuls.id, sources.id
    client = api("direction")
    at_ime = {d["code"] for d in client.get(f"/api/v1/forms/?etablissement_id={ids[1]}").json["result"]}
    at_ehpad = {d["code"] for d in client.get(f"/api/v1/forms/?etablissement_id={ids[0]}").json["result"]}
    assert code in at_ime and code not in at_ehpad and "aggir" in at_ehpad and "aggir" not in at_ime
    assert api("secretaire.tilleuls").get(f"/api/v1/forms/?etablissement_id={ids[1]}").status_code == 404
