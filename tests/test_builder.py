"""The builder for a quality officer who writes no code (issue 15 §8): groups, repeats, computed
fields, constraints, required_if and defaults, in French; YAML errors in French."""
from __future__ import annotations

import html

from app.domain.forms import definition
from app.extensions import db
from app.services import forms

from . import factories as f

ITEMS = ("  - {code: age, label: Âge, type: integer}\n"
         "  - {code: aide, label: Aide, type: yes_no}\n"
         "  - {code: humeur, label: Humeur, type: single_choice, options: [{code: gaie, label: Gaie}, "
         "{code: triste, label: Triste}]}\n")


def _setup(app, client):
    code = "constr_" + f.unique_name("").lower()
    with app.app_context():
        forms.save_draft(db.session, f.grid_yaml(code, "Constructeur", ITEMS))
    url = f"/formulaires/{code}/constructeur"

    def draft():
        with app.app_context():
            return forms.draft_of(db.session, code).data

    def post(**data):
        return client.post(url, data=data)

    return code, url, draft, post


def _fields(data):
    return {field["code"]: field for field, _parts in definition.all_fields(data)}


def test_groups_repeats_and_fields_inside_them(app, as_user):
    quality = as_user("qualite")
    code, url, draft, post = _setup(app, quality)
    assert post(op="add_field", section="0", type="repeat", code="enfants", label="Enfants").status_code == 302
    position = [i["code"] for i in draft()["sections"][0]["items"]].index("enfants")
    assert post(op="add_field", section="0", parent=str(position), type="date", code="naissance_enfant",
                label="Naissance").status_code == 302
    group = _fields(draft())["enfants"]
    assert group["type"] == "group" and group["repeat"] == {"min": 0}
    assert [i["code"] for i in group["items"]] == ["enfants_question", "naissance_enfant"]
    assert post(op="up", section="0", index=f"{position}.1").status_code == 302
    assert [i["code"] for i in _fields(draft())["enfants"]["items"]] == ["naissance_enfant", "enfants_question"]
    assert post(op="remove", section="0", index=f"{position}.1").status_code == 302
    assert post(op="update", section="0", index=str(position), label="Enfants", help="", repeat_min="1",
                repeat_max="6").status_code == 302
    assert _fields(draft())["enfants"]["repeat"] == {"min": 1, "max": 6}
    refused = post(op="remove", section="0", index=f"{position}.0")  # a group is never empty
    assert refused.status_code == 422 and "Dernier champ" in html.unescape(refused.data.decode())
    assert post(op="add_field", section="0", type="group", code="famille", label="Famille").status_code == 302
    assert _fields(draft())["famille"]["type"] == "group" and "repeat" not in _fields(draft())["famille"]


def test_computed_fields_constraints_required_if_and_defaults(app, as_user):
    quality = as_user("qualite")
    code, url, draft, post = _setup(app, quality)
    assert post(op="add_field", section="0", type="computed", code="age_mois", label="Âge en mois").status_code == 302
    index = str([i["code"] for i in draft()["sections"][0]["items"]].index("age_mois"))
    assert post(op="update", section="0", index=index, label="Âge en mois", help="",
                expression="age * 12").status_code == 302
    assert _fields(draft())["age_mois"]["expression"] == "age * 12"
    bad = post(op="update", section="0", index=index, label="Âge en mois", help="", expression="inconnu * 2")
    assert bad.status_code == 422 and _fields(draft())["age_mois"]["expression"] == "age * 12"  # unchanged
    assert post(op="update", section="0", index="0", label="Âge", help="", min="0", max="120", default="30",
                constraints="age != 99 | Âge impossible.").status_code == 302
    age = _fields(draft())["age"]
    assert age["min"] == 0 and age["max"] == 120 and age["default"] == 30
    assert age["constraints"] == [{"expression": "age != 99", "message": "Âge impossible."}]
    assert post(op="update", section="0", index="2", label="Humeur", help="", required_message="Dites-le.",
                req_field="aide", req_op="==", req_value="oui", default="gaie").status_code == 302
    humeur = _fields(draft())["humeur"]
    assert humeur["required_if"] == "aide == True" and humeur["required_message"] == "Dites-le."
    assert humeur["default"] == "gaie" and "required" not in humeur
    result = forms.compute  # the draft behaves: required only when aide is true
    with app.test_request_context("/"):
        assert "humeur" in result(db.session, code, {"aide": True}, version="draft").errors
        assert "humeur" not in result(db.session, code, {"aide": False}, version="draft").errors
    malformed = post(op="update", section="0", index="0", label="Âge", help="", constraints="age > 1 sans message")
    assert malformed.status_code == 422 and "expression | message" in html.unescape(malformed.data.decode())


def test_types_and_operators_read_in_french(app, as_user):
    quality = as_user("qualite")
    code, url, draft, post = _setup(app, quality)
    page = html.unescape(quality.get(url).data.decode())
    for label in ("Texte court", "Nombre entier", "Oui / Non", "Choix unique", "Groupe répété", "Champ calculé",
                  "est égal à", "est supérieur ou égal à", "contient"):
        assert label in page, label
    assert ">single_choice<" not in page and ">integer<" not in page and ">yes_no<" not in page
    assert "Obligatoire seulement si" in page and "Valeur par défaut" in page
    assert as_user("soin.tilleuls").get(url).status_code in (302, 403)


def test_yaml_errors_read_in_french_with_their_line(app, as_user, api):
    quality = as_user("qualite")
    code, url, draft, post = _setup(app, quality)
    refused = quality.post(f"/formulaires/{code}/brouillon", data={"source": "code: x\ntitle: a: b\n"})
    page = html.unescape(refused.data.decode())
    assert refused.status_code == 422 and "deux-points inattendu" in page and "ligne 2" in page
    assert "mapping values" not in page
    answer = api("qualite").put(f"/api/v1/forms/{code}/draft", json={"source": "code: x\nsections:\n\t- a\n"})
    assert answer.status_code == 422
    message = answer.json["message"]["source"][0]
    assert message.startswith("ligne 3") and "tabulation" in message
