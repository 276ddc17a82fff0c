"""Change management (issue 15 §3): never lose a typed answer when a form changes — a page keeps
its version, drafts resume and validate, publishing shows its impact and asks for confirmation,
renamed fields carry their answers, an earlier version can be republished, an upgraded
correction lists every dropped answer and option."""
from __future__ import annotations

import io

import openpyxl
from sqlalchemy import select

from app.domain.forms.diff import carry_over
from app.extensions import db
from app.models import Evaluation
from app.services import forms

from . import factories as f

V1 = """  - {code: humeur, label: Humeur, type: single_choice, options: [{code: gaie, label: Gaie}, {code: triste, label: Triste}]}
  - {code: sommeil, label: Sommeil, type: text}
  - {code: poids, label: Poids, type: integer}"""
V2 = """  - {code: humeur, label: Humeur, type: single_choice, options: [{code: gaie, label: Gaie}]}
  - {code: repos, label: Repos, type: text, renamed_from: sommeil}
  - {code: poids, label: Poids, type: integer, min: 50}"""


def published(code, items, title="Suivi"):
    draft = forms.save_draft(db.session, f.grid_yaml(code, title, items))
    return forms.publish(db.session, draft)


def test_answers_move_by_renamed_code_and_dropped_options_are_listed():
    source = {"sections": [{"code": "s", "title": "S", "items": [
        {"code": "humeur", "type": "single_choice", "options": [{"code": "gaie"}, {"code": "triste"}]},
        {"code": "aides", "type": "multiple_choice", "options": [{"code": "a"}, {"code": "b"}]},
        {"code": "sommeil", "type": "text"}, {"code": "vieux", "type": "text"}]}]}
    target = {"sections": [{"code": "s", "title": "S", "items": [
        {"code": "humeur", "type": "single_choice", "options": [{"code": "gaie"}]},
        {"code": "aides", "type": "multiple_choice", "options": [{"code": "a"}]},
        {"code": "repos", "type": "text", "renamed_from": "sommeil"}]}]}
    kept, dropped = carry_over({"humeur": "triste", "aides": ["a", "b"], "sommeil": "bon", "vieux": "x"},
                               source, target)
    assert kept == {"aides": ["a"], "repos": "bon"}
    assert dropped == {"humeur": "triste", "aides": ["b"], "vieux": "x"}


def test_a_page_keeps_its_version_when_a_new_one_is_published_meanwhile(app, as_user):
    code = "suivi_" + f.unique_name("").lower()
    with app.app_context():
        published(code, V1)
        uid = f.gen_usager().id
    nurse = as_user("soin.tilleuls")
    page = nurse.get(f"/dossier/{uid}/evaluations/nouvelle/{code}").data.decode()
    assert 'name="form_version" value="1"' in page
    with app.app_context():
        published(code, V2)  # published while the page is open
    response = nurse.post(f"/dossier/{uid}/evaluations/nouvelle/{code}", data={
        "form_version": "1", "a-humeur": "triste", "a-sommeil": "agité", "a-poids": "40", "action": "validate"},
        follow_redirects=True)
    assert response.status_code == 200 and "version 1 du formulaire" in response.data.decode()
    with app.app_context():
        saved = db.session.execute(select(Evaluation).where(Evaluation.form_code == code)).scalar_one()
        assert saved.form_version == 1 and saved.answers == {"humeur": "triste", "sommeil": "agité", "poids": 40}


def test_a_saved_draft_is_resumed_then_validated_and_a_concurrent_save_is_refused(app, as_user):
    code = "suivi_" + f.unique_name("").lower()
    with app.app_context():
        published(code, V1)
        uid = f.gen_usager().id
    nurse = as_user("soin.tilleuls")
    assert nurse.post(f"/dossier/{uid}/evaluations/nouvelle/{code}",
                      data={"form_version": "1", "a-sommeil": "court", "action": "draft"}).status_code == 302
    with app.app_context():
        draft = db.session.execute(select(Evaluation).where(Evaluation.form_code == code)).scalar_one()
        eid, version = draft.id, draft.version
    assert "Reprendre ce brouillon" in nurse.get(f"/dossier/{uid}/evaluations/{eid}").data.decode()
    assert "reprendre celui du" in nurse.get(f"/dossier/{uid}/evaluations/nouvelle/{code}").data.decode()
    resumed = nurse.get(f"/dossier/{uid}/evaluations/{eid}/reprendre").data.decode()
    assert 'value="court"' in resumed and f'name="record_version" value="{version}"' in resumed
    assert nurse.post(f"/dossier/{uid}/evaluations/{eid}/reprendre", data={
        "record_version": str(version), "a-sommeil": "long", "action": "draft"}).status_code == 302
    stale = nurse.post(f"/dossier/{uid}/evaluations/{eid}/reprendre", data={
        "record_version": str(version), "a-sommeil": "perdu ?", "action": "draft"})
    assert stale.status_code == 422 and "perdu ?" in stale.data.decode()  # refused, what was typed shown again
    with app.app_context():
        current = db.session.get(Evaluation, eid).version
    assert nurse.post(f"/dossier/{uid}/evaluations/{eid}/reprendre", data={
        "record_version": str(current), "a-sommeil": "long", "a-humeur": "gaie", "a-poids": "60",
        "action": "validate"}).status_code == 302
    with app.app_context():
        rows = db.session.execute(select(Evaluation).where(Evaluation.form_code == code)).scalars().all()
        assert [(e.id, e.status, e.answers["sommeil"]) for e in rows] == [(eid, "validated", "long")]
    assert nurse.get(f"/dossier/{uid}/evaluations/{eid}/reprendre").status_code == 404  # validated: locked


def test_publishing_shows_its_impact_and_asks_for_confirmation(app, as_user):
    code = "suivi_" + f.unique_name("").lower()
    with app.app_context():
        published(code, V1 + "\n  - {code: ancien, label: Ancien, type: text}")
        usager = f.gen_usager()
        forms.save_evaluation(db.session, usager=usager, code=code, version=1, status="validated",
                              answers={"humeur": "triste", "sommeil": "bien", "poids": 40, "ancien": "x"})
        forms.save_evaluation(db.session, usager=usager, code=code, version=1, status="draft", answers={"poids": 70})
        forms.save_draft(db.session, f.grid_yaml(code, "Suivi", V2))
    quality = as_user("qualite")
    page = quality.get(f"/formulaires/{code}/publier").data.decode()
    assert "publish-impact" in page and "ancien" in page and "humeur" in page
    assert "1 brouillon en cours sur la version 1" in page and "poids" in page  # min: 50 refuses 40
    assert quality.post(f"/formulaires/{code}/publier", data={}).status_code == 422
    with app.app_context():
        assert forms.get(db.session, code).version == 1
    assert quality.post(f"/formulaires/{code}/publier", data={"confirm": "1"}).status_code == 302
    with app.app_context():
        assert forms.get(db.session, code).version == 2


def test_an_earlier_version_is_republished_as_a_new_one_and_exports_follow_renames(app, as_user):
    code = "suivi_" + f.unique_name("").lower()
    with app.app_context():
        published(code, V1)
        forms.save_evaluation(db.session, usager=f.gen_usager(), code=code, version=1, status="validated",
                              answers={"humeur": "gaie", "sommeil": "ANCIEN-CODE", "poids": 60})
        published(code, V2)
    quality = as_user("qualite")
    assert "Republier cette version" in quality.get(f"/formulaires/{code}").data.decode()
    assert quality.post(f"/formulaires/{code}/versions/1/republier").status_code == 302
    with app.app_context():
        draft = next(v for v in forms.versions(db.session, code) if v.status == "draft")
        assert draft.version == 3 and "sommeil" in draft.source_text and draft.origin == f"{code} v1"
    refused = quality.post(f"/formulaires/{code}/versions/1/republier", follow_redirects=True)
    assert "Un brouillon existe déjà" in refused.data.decode()
    sheet = openpyxl.load_workbook(io.BytesIO(as_user("direction").get(f"/evaluations/{code}/export.xlsx").data)).active
    header = [c.value for c in sheet[1]]
    assert not any(str(h).startswith("sommeil") for h in header)
    column = next(i for i, h in enumerate(header) if str(h).startswith("repos"))
    assert sheet.cell(row=3, column=column + 1).value == "ANCIEN-CODE"


def test_an_upgraded_correction_lists_dropped_answers_and_options(app, as_user):
    code = "suivi_" + f.unique_name("").lower()
    with app.app_context():
        published(code, V1 + "\n  - {code: ancien, label: Ancien, type: text}")
        evaluation = forms.save_evaluation(db.session, usager=f.gen_usager(), code=code, version=1,
                                           status="validated",
                                           answers={"humeur": "triste", "sommeil": "bien", "poids": 60, "ancien": "x"})
        uid, eid = evaluation.usager_id, evaluation.id
        published(code, V2)
    page = as_user("soin.tilleuls").get(f"/dossier/{uid}/evaluations/{eid}/corriger?version=2").data.decode()
    dropped = page[page.index("dropped-answers"):]
    assert "<code>humeur</code> : triste" in dropped and "<code>ancien</code> : x" in dropped
    assert 'value="bien"' in page  # carried to its new code, repos
