"""Filling an evaluation from the dossier: grids offered, errors kept, drafts, validation."""
import html
import re

import pytest
from sqlalchemy import select

from app.domain import aggir
from app.extensions import db
from app.models import Evaluation

from . import factories as f
from .conftest import sql_statements

SUBS = [f"{v}_{s}" for v, subs in aggir.SUB_VARIABLES.items() for s in subs]
SINGLE = ["transferts", "deplacements_interieurs", "deplacements_exterieurs", "communication_a_distance"]


def checked(page, code, value):
    return re.search(rf'name="a-{code}" value="{value}"\s+checked', page) is not None


@pytest.fixture
def resident(app):
    with app.app_context():
        return f.gen_usager().id


def test_dossier_offers_the_grids_of_its_etablissement(app, as_user, resident):
    page = as_user("soin.tilleuls").get(f"/dossier/{resident}").data.decode()
    assert "Nouvelle évaluation : Grille AGGIR" in html.unescape(page)
    with app.app_context():
        child = f.gen_usager(f.SOURCES).id
    child_page = html.unescape(as_user("educ.sources").get(f"/dossier/{child}").data.decode())
    assert "Évaluations" in child_page and "Grille AGGIR" not in child_page
    assert as_user("educ.sources").get(f"/dossier/{child}/evaluations/nouvelle/aggir").status_code == 404


def test_validating_an_incomplete_grid_keeps_the_answers_and_names_the_fields(as_user, resident):
    client = as_user("soin.tilleuls")
    form = client.get(f"/dossier/{resident}/evaluations/nouvelle/aggir")
    assert form.status_code == 200 and 'name="a-toilette_haut"' in form.data.decode()
    response = client.post(f"/dossier/{resident}/evaluations/nouvelle/aggir",
                           data={"a-toilette_haut": "C", "a-toilette_bas": "C", "action": "validate"})
    page = html.unescape(response.data.decode())
    assert response.status_code == 422 and "Cotez la lettre ou répondez aux quatre adverbes" in page
    assert checked(page, "toilette_haut", "C")
    assert '<output class="computed" data-computed="toilette">C</output>' in page


def test_draft_then_validated_evaluation_appear_in_the_dossier(app, as_user, resident):
    client = as_user("soin.tilleuls")
    assert client.post(f"/dossier/{resident}/evaluations/nouvelle/aggir",
                       data={"a-transferts": "B", "action": "draft"}).status_code == 302
    full = {f"a-{code}": "A" for code in SUBS + SINGLE}
    full.update({"a-coherence_communication": "C", "a-coherence_comportement": "C",
                 "a-orientation_temps": "C", "a-orientation_espace": "C", "action": "validate"})
    assert client.post(f"/dossier/{resident}/evaluations/nouvelle/aggir", data=full).status_code == 302
    page = html.unescape(client.get(f"/dossier/{resident}").data.decode())
    assert "brouillon" in page and "GIR 2" in page
    with app.app_context():
        validated = db.session.execute(select(Evaluation).where(
            Evaluation.usager_id == resident, Evaluation.status == "validated")).scalars().one()
        vid = validated.id
    shown = client.get(f"/dossier/{resident}/evaluations/{vid}").data.decode()
    assert "Validée" in shown and "disabled" in shown
    again = client.get(f"/dossier/{resident}/evaluations/nouvelle/aggir?reprendre=1").data.decode()
    assert checked(again, "coherence_communication", "C")  # starts from the previous answers


@pytest.mark.usefixtures("steady_caches")
def test_the_dossier_reads_each_definition_once_whatever_the_number_of_evaluations(app, as_user, resident):
    """An evaluation's definition comes from the per-process published copies: a dossier with many
    evaluations neither reads nor parses the definition again for each of them."""
    client = as_user("soin.tilleuls")

    def draft(n):
        for i in range(n):
            assert client.post(f"/dossier/{resident}/evaluations/nouvelle/aggir",
                               data={"a-transferts": "ABC"[i % 3], "action": "draft"}).status_code == 302

    def dossier_statements():
        page, statements = sql_statements(app, lambda: client.get(f"/dossier/{resident}").data.decode())
        listed = re.findall(rf'href="/dossier/{resident}/evaluations/\d+">Grille AGGIR</a>', page)
        return len(listed), [s for s in statements if "form_definition" in s]

    draft(2)
    dossier_statements()  # the published definitions are read once per process (and kept)
    assert dossier_statements() == (2, [])
    draft(4)
    assert dossier_statements() == (6, [])


def test_readers_of_evaluations_cannot_fill_and_others_see_nothing(app, as_user, resident):
    assert as_user("secretaire.tilleuls").get(f"/dossier/{resident}/evaluations/nouvelle/aggir").status_code == 403
    page = html.unescape(as_user("secretaire.tilleuls").get(f"/dossier/{resident}").data.decode())
    assert "Évaluations" in page and "Nouvelle évaluation" not in page


def test_compute_endpoint_reports_hidden_fields():
    from app.domain.forms import definition, engine

    data = definition.load(open("forms/aggir.yaml", encoding="utf-8").read())
    data["sections"][1]["show_if"] = "transferts == 'C'"
    result = engine.evaluate(definition.load(definition.dump(data)), {"transferts": "A", "gestion": "B"})
    assert "illustratives" in result.hidden and "gestion" not in result.answers


ITEMS = """  - code: marche
    label: Marche
    type: single_choice
    required: true
    options:
    - {code: seul, label: Seul}
    - {code: aide, label: Avec aide}
"""
OLD_FIELD = """  - code: ancien
    label: Question retirée en version 2
    type: text
"""


def test_a_correction_keeps_the_original_or_moves_to_the_newer_version_listing_what_is_dropped(app, as_user, resident):
    from app.services import forms

    code = "test_correction_" + f.unique_name("").lower()
    with app.app_context():
        forms.publish(db.session, forms.save_draft(db.session, f.grid_yaml(code, f"Grille de test {code}", ITEMS + OLD_FIELD)))
    nurse = as_user("soin.tilleuls")
    assert nurse.post(f"/dossier/{resident}/evaluations/nouvelle/{code}",
                      data={"a-marche": "aide", "a-ancien": "réponse ancienne", "action": "validate"}).status_code == 302
    with app.app_context():
        original = db.session.execute(select(Evaluation).where(Evaluation.form_code == code)).scalar_one().id
        forms.publish(db.session, forms.save_draft(db.session, f.grid_yaml(code, f"Grille de test {code}", ITEMS, version=2)))
    shown = html.unescape(nurse.get(f"/dossier/{resident}/evaluations/{original}").data.decode())
    assert "Corriger (version 1)" in shown and "Corriger avec la version 2" in shown
    same = html.unescape(nurse.get(f"/dossier/{resident}/evaluations/{original}/corriger").data.decode())
    assert "réponse ancienne" in same and 'id="dropped-answers"' not in same  # its own version, nothing dropped
    moved = html.unescape(nurse.get(f"/dossier/{resident}/evaluations/{original}/corriger?version=2").data.decode())
    assert 'id="dropped-answers"' in moved and "ancien" in moved and checked(moved, "marche", "aide")
    saved = nurse.post(f"/dossier/{resident}/evaluations/{original}/corriger?version=2",
                       data={"a-marche": "seul", "action": "validate"})
    assert saved.status_code == 302
    with app.app_context():
        rows = db.session.execute(select(Evaluation).where(Evaluation.form_code == code)
                                  .order_by(Evaluation.id)).scalars().all()
        assert [(e.form_version, e.corrects_id, e.answers) for e in rows] == [
            (1, None, {"marche": "aide", "ancien": "réponse ancienne"}), (2, original, {"marche": "seul"})]
    for version in ("9", "99999999999999999999", "-2"):
        assert nurse.get(f"/dossier/{resident}/evaluations/{original}/corriger?version={version}").status_code == 404
    assert as_user("educ.sources").get(f"/dossier/{resident}/evaluations/{original}/corriger").status_code == 404
    # the export keeps one column per field code of every version, and only rows in scope
    import io

    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(nurse.get(f"/evaluations/{code}/export.xlsx").data)).active
    header, labels = [c.value for c in sheet[1]], [c.value for c in sheet[2]]  # codes, then their labels
    assert "ancien" in header and "marche" in header
    assert labels[header.index("ancien")] == "Question retirée en version 2" and labels[header.index("marche")] == "Marche"
    rows = [dict(zip(header, [c.value for c in row])) for row in sheet.iter_rows(min_row=3)]
    assert [(r["Version"], r["ancien"], r["Corrige"]) for r in rows] == [
        (1, "réponse ancienne", None), (2, None, original)]
    elsewhere = load_workbook(io.BytesIO(as_user("educ.sources").get(f"/evaluations/{code}/export.xlsx").data)).active
    assert elsewhere.max_row == 2  # the headers only: those usagers are outside the educator's scope
    assert as_user("qualite").get(f"/evaluations/{code}/export.xlsx").status_code == 403  # no dossier data
    assert nurse.get("/evaluations/inconnu/export.xlsx").status_code == 404
