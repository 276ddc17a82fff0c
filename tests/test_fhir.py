"""FHIR R4 (issue 15 §6): definitions as Questionnaire, evaluations as QuestionnaireResponse,
validated with fhir.resources, within the scope and the shared secret like the evaluations API."""
from __future__ import annotations

import json

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from sqlalchemy import select

from app.domain import aggir
from app.extensions import db
from app.models import AuditEvent
from app.services import forms

from . import factories as f
from .test_evaluations import profile
from .test_secret_audit import DOSE, DOUBLED, _evaluated

SHIPPED = [p.stem for p in forms.FORMS_DIR.glob("*.yaml")]


def _link_ids(items):
    for item in items:
        yield item["linkId"]
        yield from _link_ids(item.get("item", []))


@pytest.mark.parametrize("code", SHIPPED)
def test_every_shipped_form_is_a_valid_questionnaire(api, code):
    response = api("qualite").get(f"/api/v1/forms/{code}/fhir")
    assert response.status_code == 200 and response.mimetype == "application/fhir+json"
    resource = response.json
    Questionnaire.model_validate(resource)  # valid R4 (R4B models)
    assert resource["url"].endswith(f"/api/v1/forms/{code}") and resource["version"].isdigit()
    assert resource["status"] == "active"


def test_the_aggir_questionnaire_carries_codes_adverbs_and_conditions(app, api):
    resource = api("soin.tilleuls").get("/api/v1/forms/aggir/fhir").json
    ids = set(_link_ids(resource["item"]))
    assert set(aggir.LEAVES) <= ids and "gir" in ids and "transferts_stch.spontanement" in ids
    items = {i["linkId"]: i for i in _walk(resource["item"])}
    assert items["transferts"]["type"] == "choice" and items["transferts"]["code"][0]["code"] == "d410"
    assert [o["valueCoding"]["code"] for o in items["transferts"]["answerOption"]] == ["A", "B", "C"]
    assert items["transferts_stch.habituellement"]["code"][0]["code"] == "MED-1310"
    assert items["gir"]["readOnly"] is True and items["gir"]["code"][0]["code"] == "MED-1293"
    assert api("soin.tilleuls").get("/api/v1/forms/inconnu/fhir").status_code == 404
    assert api("soin.tilleuls").get("/api/v1/forms/aggir/fhir?version=x").status_code == 400


def _walk(items):
    for item in items:
        yield item
        yield from _walk(item.get("item", []))


def test_show_if_becomes_enable_when_or_stays_as_an_expression(app, api):
    items = ("  - {code: aide, label: Aide, type: yes_no}\n"
             "  - {code: humeur, label: Humeur, type: single_choice, options: [{code: gaie, label: Gaie}, "
             "{code: triste, label: Triste}]}\n"
             "  - {code: detail, label: Détail, type: text, show_if: 'aide and humeur == \"triste\"'}\n"
             "  - {code: age, label: Âge, type: integer, min: 0, max: 120}\n"
             "  - {code: calcul, label: Calcul, type: computed, expression: 'age * 2'}\n"
             "  - {code: autre, label: Autre, type: text, show_if: 'age * 2 > 10'}\n"
             "  - {code: lignes, label: Lignes, type: group, repeat: {max: 3}, items: "
             "[{code: quoi, label: Quoi, type: text}]}\n")
    with app.app_context():
        code = "fhir_" + f.unique_name("").lower()
        forms.publish(db.session, forms.save_draft(db.session, f.grid_yaml(code, "FHIR", items)))
    resource = api("qualite").get(f"/api/v1/forms/{code}/fhir").json
    Questionnaire.model_validate(resource)
    found = {i["linkId"]: i for i in _walk(resource["item"])}
    assert found["detail"]["enableBehavior"] == "all" and found["detail"]["enableWhen"] == [
        {"question": "aide", "operator": "=", "answerBoolean": True},
        {"question": "humeur", "operator": "=", "answerCoding": {"code": "triste", "display": "Triste"}}]
    assert found["autre"]["extension"][0]["valueExpression"]["expression"] == "age * 2 > 10"  # kept, not dropped
    assert found["calcul"]["readOnly"] and found["calcul"]["type"] == "decimal"
    assert found["lignes"]["repeats"] is True and found["lignes"]["type"] == "group"
    assert {e["url"].rsplit("/", 1)[1] for e in found["age"]["extension"]} == {"minValue", "maxValue"}


def test_an_evaluation_is_a_questionnaire_response_of_its_version(app, api):
    with app.app_context():
        usager = f.gen_usager()
        answers = profile({"toilette": "C", "habillage": "C"})
        answers.pop("transferts")
        answers["transferts_stch"] = {a: "oui" for a in aggir.ADVERBS}
        evaluation = forms.save_evaluation(db.session, usager=usager, code="aggir", version=None,
                                           status="validated", answers=answers)
        uid, eid, version, gir = usager.id, evaluation.id, evaluation.form_version, evaluation.computed["gir"]
    response = api("soin.tilleuls").get(f"/api/v1/usager/{uid}/evaluations/{eid}/fhir")
    assert response.status_code == 200 and response.mimetype == "application/fhir+json"
    resource = json.loads(response.data)
    QuestionnaireResponse.model_validate(resource)
    assert resource["questionnaire"].endswith(f"/api/v1/forms/aggir|{version}") and resource["status"] == "completed"
    found = {i["linkId"]: i for i in _walk(resource["item"])}
    assert found["gir"]["answer"] == [{"valueDecimal": gir}]
    assert found["toilette_haut"]["answer"][0]["valueCoding"]["code"] == "C"
    assert found["transferts_stch.spontanement"]["answer"][0]["valueCoding"] == {"code": "oui", "display": "Oui"}
    # another usager's id, an unknown one: 404 (another établissement: the test below)
    with app.app_context():
        other = f.gen_usager().id
    assert api("soin.tilleuls").get(f"/api/v1/usager/{other}/evaluations/{eid}/fhir").status_code == 404
    assert api("soin.tilleuls").get(f"/api/v1/usager/{uid}/evaluations/99999999/fhir").status_code == 404


def test_the_response_holds_only_what_the_user_reads_and_the_read_is_audited(app, api, make_user):
    case = _evaluated(app)
    uid, eid = case["usager"], case["evaluation"]
    educator = make_user("educ.tilleuls", "Éducatif", [f.TILLEULS])  # reads soins, not medical
    body = api(educator).get(f"/api/v1/usager/{uid}/evaluations/{eid}/fhir").data.decode()
    assert "aide pour marcher" in body and '"dose"' not in body and "dose_double" not in body
    assert str(DOSE) not in json.dumps(json.loads(body)["item"]) and str(DOUBLED) not in json.dumps(
        json.loads(body)["item"])
    nurse = api("soin.tilleuls").get(f"/api/v1/usager/{uid}/evaluations/{eid}/fhir").json
    assert {"dose", "dose_double"} <= set(_link_ids(nurse["item"]))
    sources = make_user("educ.sources.fhir", "Éducatif", [f.SOURCES])
    assert api(sources).get(f"/api/v1/usager/{uid}/evaluations/{eid}/fhir").status_code == 404
    secretary = api("secretaire.tilleuls").get(f"/api/v1/usager/{uid}/evaluations/{eid}/fhir")
    assert secretary.status_code == 404  # a care form: the whole evaluation is out of their categories
    with app.app_context():
        reads = db.session.execute(select(AuditEvent).where(
            AuditEvent.usager_id == uid, AuditEvent.action == "read")).scalars().all()
        assert any(r.details["path"].endswith("/fhir") and eid in r.details["ids"].get("Evaluation", [])
                   for r in reads)
