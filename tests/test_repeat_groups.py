"""Repeatable groups: one line per occurrence (a school year, a medical device), min/max lines,
errors named by line, typed, shown, exported, and kept to the categories of their fields."""
import html
import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.domain.forms import definition
from app.domain.forms.engine import evaluate
from app.extensions import db
from app.models import Evaluation
from app.services import forms

from . import factories as f

ITEMS = """  - code: appareille
    label: Appareillé
    type: yes_no
  - code: appareils
    label: Appareils
    type: group
    repeat: {min: 1, max: 3}
    show_if: appareille == True
    items:
    - {code: appareil, label: Appareil, type: single_choice, required: true, options: [{code: fauteuil, label: Fauteuil}, {code: canne, label: Canne}]}
    - {code: depuis, label: Depuis, type: integer, min: 1900, max: 2100}
    - {code: remarque, label: Remarque, type: text, sensitivity: medical}
  - code: nombre
    label: Nombre d'appareils
    type: computed
    expression: len(appareils) if appareils else 0
"""


@pytest.fixture
def data():
    return definition.load(f.grid_yaml("appareils", "Appareillages", ITEMS))


def test_lines_are_typed_blank_lines_dropped_and_errors_named_by_line(data):
    result = evaluate(data, {"appareille": True, "appareils": [
        {"appareil": "canne", "depuis": "2020"}, {}, {"depuis": 2021}, {"appareil": "robot"}, {"inconnu": 1}]})
    assert result.answers["appareils"] == [{"appareil": "canne", "depuis": 2020}, {"depuis": 2021}]
    assert result.errors == {"appareils[2].appareil": "réponse obligatoire",
                             "appareils[3].appareil": result.errors["appareils[3].appareil"],
                             "appareils[4].inconnu": "champ inconnu dans ce groupe"}
    assert "valeur inconnue" in result.errors["appareils[3].appareil"]
    assert result.computed["nombre"] == 2


@pytest.mark.parametrize("answers, error", [
    ({"appareille": True}, "au moins 1 ligne(s)"),
    ({"appareille": True, "appareils": [{"appareil": "canne"}] * 4}, "au plus 3 ligne(s)"),
    ({"appareille": True, "appareils": "canne"}, "une liste de lignes"),
    ({"appareille": True, "appareils": [{"appareil": "canne"}], "appareil": "canne"}, None),
])
def test_line_counts_and_shapes(data, answers, error):
    result = evaluate(data, answers)
    if error:
        assert error in result.errors["appareils"]
    else:  # a member's code on its own is not an answer of the form
        assert result.errors == {"appareil": "champ inconnu dans cette définition"}


def test_a_hidden_group_is_dropped_and_never_required(data):
    result = evaluate(data, {"appareille": False, "appareils": [{"appareil": "robot"}]})
    assert result.errors == {} and "appareils" not in result.answers and "appareils" in result.hidden


def test_the_page_posts_lines_keeps_them_on_error_and_the_export_and_secret_follow(app, as_user, api):
    code = "appareils_" + f.unique_name("").lower()
    with app.app_context():
        forms.publish(db.session, forms.save_draft(db.session, f.grid_yaml(code, f"Appareillages {code}", ITEMS)))
        uid = f.gen_usager().id
    nurse = as_user("soin.tilleuls")
    url = f"/dossier/{uid}/evaluations/nouvelle/{code}"
    page = nurse.get(url).data.decode()
    assert 'name="a-appareils-0-appareil"' in page and 'class="repeat-template"' in page
    assert 'name="a-appareils-0-remarque"' in page  # médical: the nurse writes it
    refused = nurse.post(url, data={"a-appareille": "oui", "a-appareils-0-appareil": "canne", "a-appareils-0-depuis": "2019",
                                    "a-appareils-1-depuis": "2022", "action": "validate"})
    text = html.unescape(refused.data.decode())
    assert refused.status_code == 422 and 'value="2022"' in text and "réponse obligatoire" in text
    saved = nurse.post(url, data={"a-appareille": "oui", "a-appareils-0-appareil": "canne", "a-appareils-0-depuis": "2019",
                                  "a-appareils-3-appareil": "fauteuil", "action": "validate"})
    assert saved.status_code == 302
    with app.app_context():
        evaluation = db.session.execute(select(Evaluation).where(Evaluation.form_code == code)).scalar_one()
        assert evaluation.answers["appareils"] == [{"appareil": "canne", "depuis": 2019}, {"appareil": "fauteuil"}]
        assert evaluation.computed["nombre"] == 2
        eid = evaluation.id
    shown = html.unescape(nurse.get(f"/dossier/{uid}/evaluations/{eid}").data.decode())
    assert 'value="2019"' in shown
    sheet = load_workbook(io.BytesIO(nurse.get(f"/evaluations/{code}/export.xlsx").data)).active
    header = [c.value for c in sheet[1]]
    row = dict(zip(header, [c.value for c in sheet[3]]))
    assert row["appareils"] == "appareil: canne, depuis: 2019 | appareil: fauteuil"
    assert sheet.cell(row=2, column=header.index("appareils") + 1).value == "Appareils"
    assert "appareil" not in header  # members live inside the group's column
    # a line holds a medical field: the whole group is withheld from roles not reading that category
    with app.app_context():
        # (the count of lines is computed from them: as secret as they are)
        assert definition.answer_categories(forms.get(db.session, code).data) == {"appareils": {"medical"},
                                                                                   "nombre": {"medical"}}
    direction = api("direction").get(f"/api/v1/usager/{uid}/evaluations").json["result"]
    assert "appareils" not in next(e for e in direction if e["id"] == eid)["answers"]
    assert "nombre" not in next(e for e in direction if e["id"] == eid)["computed"]
    nurse_view = api("soin.tilleuls").get(f"/api/v1/usager/{uid}/evaluations").json["result"]
    assert "appareils" in next(e for e in nurse_view if e["id"] == eid)["answers"]
