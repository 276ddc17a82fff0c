"""Shared secret (categories × roles) hides what a role may not read everywhere — page, API,
export — and break-the-glass opens a dossier for a few hours, traced, alerted and reviewed."""
from __future__ import annotations

import datetime as dt
import html
import io
import json
import zipfile

import pytest
from sqlalchemy import select, update

from app.domain import clock
from app.extensions import db
from app.models import AuditEvent, CategoryAccess, EmergencyAccess, Evaluation, FormDefinition, Role, Usager
from app.models.base import utcnow

from . import factories as f


def _definition(code, sensitivity, fields):
    data = {"code": code, "title": code, "version": 1, "kind": "evaluation", "sensitivity": sensitivity,
            "sections": [{"code": "s", "title": "S", "items": fields}]}
    definition = FormDefinition(code=code, version=1, status="published", kind="evaluation", title=code,
                                source_text="", data=data, published_at=utcnow())
    db.session.add(definition)
    db.session.flush()
    return definition


def _evaluation(usager_id, definition, answers):
    evaluation = Evaluation(usager_id=usager_id, definition_id=definition.id, form_code=definition.code,
                            form_version=1, sensitivity=definition.data["sensitivity"], status="validated",
                            evaluated_on=clock.today(), answers=answers)
    db.session.add(evaluation)
    db.session.commit()
    return evaluation.id


@pytest.fixture
def dossier(app):
    """A Tilleuls usager with a psychological evaluation and a care one holding a medical field."""
    with app.app_context():
        usager = f.gen_usager()
        suffix = f.unique_name("").lower()
        psy = _definition("psy_" + suffix, "psychologique", [{"code": "humeur", "label": "Humeur", "type": "text"}])
        care = _definition("soin_" + suffix, "soins", [
            {"code": "mobilite", "label": "Mobilité", "type": "text"},
            {"code": "traitement", "label": "Traitement", "type": "text", "sensitivity": "medical"}])
        return {"usager": usager.id,
                "psy": _evaluation(usager.id, psy, {"humeur": "SECRET-PSY"}),
                "care": _evaluation(usager.id, care, {"mobilite": "aide pour marcher", "traitement": "SECRET-MED"})}


def test_a_whole_category_is_absent_for_roles_that_do_not_read_it(app, api, as_user, make_user, dossier):
    uid = dossier["usager"]
    nurse = api("soin.tilleuls").get(f"/api/v1/usager/{uid}/evaluations").data.decode()
    assert "SECRET-MED" in nurse and "SECRET-PSY" not in nurse
    page = as_user("soin.tilleuls").get(f"/dossier/{uid}").data.decode()
    assert f"/evaluations/{dossier['psy']}" not in page and f"/evaluations/{dossier['care']}" in page
    psychologist = make_user("psy.tilleuls", "Psychologue", [f.TILLEULS])
    assert "SECRET-PSY" in api(psychologist).get(f"/api/v1/usager/{uid}/evaluations").data.decode()
    export = zipfile.ZipFile(io.BytesIO(as_user("secretaire.tilleuls").get(f"/rgpd/dossier/{uid}/export").data))
    exported = export.read("usager.json").decode()
    assert "SECRET-PSY" not in exported and "SECRET-MED" not in exported


def test_a_single_field_is_absent_for_roles_that_do_not_read_its_category(app, api, make_user, dossier):
    uid = dossier["usager"]
    educator = make_user("educ.tilleuls", "Éducatif", [f.TILLEULS])
    body = api(educator).get(f"/api/v1/usager/{uid}/evaluations").data.decode()
    assert "aide pour marcher" in body and "SECRET-MED" not in body and "traitement" not in body
    with app.app_context():  # nothing hidden was written back
        assert db.session.get(Evaluation, dossier["care"]).answers["traitement"] == "SECRET-MED"


def test_writing_needs_the_category(app, api, make_user):
    with app.app_context():
        uid = f.gen_usager().id
    educator = make_user("educ.tilleuls", "Éducatif", [f.TILLEULS])
    refused = api(educator).post(f"/api/v1/usager/{uid}/evaluations",
                                 json={"form": "aggir", "answers": {}, "status": "draft"})
    assert refused.status_code == 422 and "catégorie" in json.dumps(refused.json, ensure_ascii=False)
    assert api("soin.tilleuls").post(f"/api/v1/usager/{uid}/evaluations",
                                     json={"form": "aggir", "answers": {}, "status": "draft"}).status_code == 201


def test_the_administrator_edits_the_matrix_and_it_is_audited(app, as_user, api, dossier):
    uid = dossier["usager"]
    admin = as_user("admin")
    page = admin.get("/securite/categories/").data.decode()
    assert 'id="category-matrix"' in page
    with app.app_context():
        soin = db.session.execute(select(Role).where(Role.name == "Soin")).scalar_one()
        form = {f"{m}-{r.role_id}-{r.category}": "on" for r in db.session.execute(select(CategoryAccess)).scalars()
                for m, flag in (("r", r.can_read), ("w", r.can_write)) if flag}
        form[f"r-{soin.id}-psychologique"] = "on"
        soin_id = soin.id
    try:
        admin.post("/securite/categories/", data=form)
        assert "SECRET-PSY" in api("soin.tilleuls").get(f"/api/v1/usager/{uid}/evaluations").data.decode()
        with app.app_context():
            assert db.session.execute(select(AuditEvent).where(AuditEvent.entity == "CategoryAccess",
                                                               AuditEvent.username == "admin")).first()
    finally:
        with app.app_context():
            db.session.execute(update(CategoryAccess).where(CategoryAccess.role_id == soin_id,
                                                            CategoryAccess.category == "psychologique")
                               .values(can_read=False))
            db.session.commit()


def test_break_the_glass_opens_a_dossier_for_a_while_with_banner_alert_and_review(app, as_user):
    with app.app_context():
        usager = f.gen_usager(date_naissance=dt.date(1931, 3, 4))
        uid, nom, prenom = usager.id, usager.nom_naissance, usager.premier_prenom_naissance
    outsider = as_user("educ.sources")
    assert outsider.get(f"/dossier/{uid}").status_code == 404
    refused = outsider.post("/urgence/", data={"nom": nom, "prenom": prenom, "date_naissance": "1931-03-05",
                                               "reason": "Chute grave, appel du SAMU"})
    assert refused.status_code == 422 and outsider.get(f"/dossier/{uid}").status_code == 404
    short = outsider.post("/urgence/", data={"nom": nom, "prenom": prenom, "date_naissance": "1931-03-04", "reason": ""})
    assert short.status_code == 422
    opened = outsider.post("/urgence/", data={"nom": nom.lower(), "prenom": prenom, "date_naissance": "1931-03-04",
                                              "reason": "Chute grave, appel du SAMU"})
    assert opened.status_code == 302 and opened.headers["Location"].endswith(f"/dossier/{uid}")
    page = outsider.get(f"/dossier/{uid}").data.decode()
    assert 'id="emergency-banner"' in page and f"dossier n° {uid}" in page
    with app.app_context():
        event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "break_glass",
                                                            AuditEvent.usager_id == uid)).scalar_one()
        assert event.username == "educ.sources" and "SAMU" in event.details["motif"]
        access_id = event.entity_id
    for reviewer in ("dpo", "direction"):
        home = as_user(reviewer).get("/").data.decode()
        assert 'id="emergency-review-alert"' in home
    dpo = as_user("dpo")
    review = html.unescape(dpo.get("/audit/urgences/").data.decode())
    assert "Chute grave" in review and "(educ.sources)" in review  # who, by name
    with app.app_context():
        assert db.session.get(Usager, uid).display_name in review
    dpo.post(f"/audit/urgences/{access_id}", data={"note": "Justifié : chute la nuit"})
    with app.app_context():
        assert db.session.get(EmergencyAccess, access_id).reviewed_at is not None
        db.session.execute(update(EmergencyAccess).where(EmergencyAccess.id == access_id)
                           .values(expires_at=utcnow() - dt.timedelta(minutes=1)))
        db.session.commit()
    assert outsider.get(f"/dossier/{uid}").status_code == 404  # expired


def test_quality_cannot_break_the_glass(as_user):
    assert as_user("qualite").get("/urgence/").status_code in (302, 403)


def test_indexed_results_follow_the_category_of_their_evaluation(app, make_user, dossier):
    """A score indexed for lists and indicators is absent where its evaluation is (GMP included)."""
    from flask_login import login_user

    from app.models import EvaluationResult, User

    with app.app_context():
        db.session.add(EvaluationResult(evaluation_id=dossier["psy"], usager_id=dossier["usager"], form_code="psy",
                                        key="score", evaluated_on=clock.today(), value_num=7))
        db.session.commit()

    def results(username):
        with app.test_request_context():
            login_user(db.session.execute(select(User).where(User.username == username)).scalar_one())
            found = db.session.execute(select(EvaluationResult.value_num)
                                       .where(EvaluationResult.evaluation_id == dossier["psy"])).scalars().all()
            db.session.remove()
        return found

    assert results("soin.tilleuls") == [] and results("direction") == []  # org-wide: the secret still applies
    assert results(make_user("psy.tilleuls", "Psychologue", [f.TILLEULS])) == [7]
