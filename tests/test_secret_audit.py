"""Computed values and the audit trail obey the shared secret (issue 14 §2): a computed field
carries the category of what it comes from, in pages, API, xlsx and indexed results; the trail
copies no value of another category than administratif nor free text, and its pages show none;
a read of several usagers is found under each; denied accesses, not autosaves, are recorded;
staff assignments are recorded with names."""
from __future__ import annotations

import io

import openpyxl
from flask import g
from sqlalchemy import select

from app.domain import clock
from app.domain.forms.definition import answer_categories
from app.extensions import db
from app.models import AuditEvent, EvaluationResult, FormDefinition, StaffAssignment, Usager
from app.models.base import utcnow
from app.security import audit_chain
from app.security.scope import readable_keys, scope_for_user
from app.services import audit_log, forms

from . import factories as f

DOSE, DOUBLED = 4321, 8642


def _care_form(code):
    """A care grid: a medical dose, a value computed from it (no category of its own, indexed),
    another from that one (transitively medical), and a plain care answer."""
    data = {"code": code, "title": code, "version": 1, "kind": "evaluation", "sensitivity": "soins",
            "sections": [{"code": "s", "title": "S", "items": [
                {"code": "mobilite", "label": "Mobilité", "type": "text"},
                {"code": "dose", "label": "Dose", "type": "integer", "sensitivity": "medical"},
                {"code": "dose_double", "label": "Dose doublée", "type": "computed", "expression": "dose * 2",
                 "indexed": True},
                {"code": "dose_alerte", "label": "Alerte", "type": "computed", "expression": "dose_double > 100"},
            ]}]}
    db.session.add(FormDefinition(code=code, version=1, status="published", kind="evaluation", title=code,
                                  source_text="", data=data, published_at=utcnow()))
    db.session.commit()
    return data


def _evaluated(app):
    with app.app_context():
        code = "soin_" + f.unique_name("").lower()
        data = _care_form(code)
        usager = f.gen_usager()
        evaluation = forms.save_evaluation(db.session, usager=usager, code=code, version=1, status="validated",
                                           answers={"mobilite": "aide pour marcher", "dose": DOSE})
        assert evaluation.computed["dose_double"] == DOUBLED
        return {"code": code, "data": data, "usager": usager.id, "evaluation": evaluation.id}


def test_a_computed_field_has_the_category_of_what_it_is_computed_from(app):
    with app.app_context():
        data = _care_form("cat_" + f.unique_name("").lower())
    categories = answer_categories(data)
    assert categories["dose_double"] == {"medical"} and categories["dose_alerte"] == {"medical"}
    assert "mobilite" not in categories  # the form's own category
    declared = dict(data)
    declared["sections"][0]["items"][2] = {**data["sections"][0]["items"][2], "sensitivity": "soins"}
    assert answer_categories(declared)["dose_double"] == {"soins"}  # a declared category wins
    assert readable_keys({"soins", "medical"}) == ["medical", "soins", "medical+soins"]


def test_computed_values_are_absent_where_their_category_is_not_read(app, api, as_user, make_user):
    case = _evaluated(app)
    uid = case["usager"]
    educator = make_user("educ.tilleuls", "Éducatif", [f.TILLEULS])  # reads soins, not medical
    body = api(educator).get(f"/api/v1/usager/{uid}/evaluations").data.decode()
    assert "aide pour marcher" in body
    assert str(DOUBLED) not in body and "dose_double" not in body and "dose_alerte" not in body
    nurse = api("soin.tilleuls").get(f"/api/v1/usager/{uid}/evaluations").data.decode()
    assert str(DOUBLED) in nurse and "dose_alerte" in nurse

    page = as_user(educator).get(f"/dossier/{uid}/evaluations/{case['evaluation']}")
    assert page.status_code == 200 and str(DOUBLED) not in page.data.decode()
    assert 'id="withheld-note"' in page.data.decode()  # told that fields are hidden, and why

    response = as_user(educator).get(f"/evaluations/{case['code']}/export.xlsx")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    cells = " ".join(str(c.value) for row in sheet.iter_rows() for c in row)
    assert "aide pour marcher" in cells
    header = [c.value for c in sheet[1]]
    assert "mobilite" in header and "dose" not in header and "dose_double" not in header
    assert str(DOUBLED) not in cells and "dose_double" not in cells

    with app.app_context():  # nothing hidden was written back
        from app.models import Evaluation

        assert db.session.get(Evaluation, case["evaluation"]).computed["dose_double"] == DOUBLED


def _leaves(value):
    """Every scalar of an audit entry: a timestamp's digits must not pass for a copied value."""
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]


def test_an_indexed_result_is_read_only_with_its_keys_category(app, make_user):
    case = _evaluated(app)
    educator = make_user("educ.tilleuls", "Éducatif", [f.TILLEULS])
    with app.app_context():
        result = db.session.execute(select(EvaluationResult).where(
            EvaluationResult.evaluation_id == case["evaluation"])).scalar_one()
        assert result.sensitivity == "medical" and result.value_num == DOUBLED
        for username, seen in ((educator, 0), ("soin.tilleuls", 1)):
            with app.test_request_context("/"):
                user = app.appbuilder.sm.find_user(username=username)
                g.sillage_scope = scope_for_user(db.session, user)
                found = db.session.execute(select(EvaluationResult).where(
                    EvaluationResult.usager_id == case["usager"])).scalars().all()
                assert len(found) == seen, username
                db.session.rollback()
        changes = db.session.execute(select(AuditEvent.changes).where(
            AuditEvent.entity.in_(("Evaluation", "EvaluationResult")),
            AuditEvent.usager_id == case["usager"])).scalars().all()
        assert changes and not {DOUBLED, DOSE, str(DOUBLED), str(DOSE)} & set(_leaves(changes))
        assert "aide pour marcher" not in str(changes)  # a care answer: not administrative
        evaluation_changes = next(c for c in changes if "computed" in c)
        assert evaluation_changes["computed"]["dose_double"] == "modifié"


def test_free_text_is_recorded_as_changed_and_old_entries_are_masked_on_the_pages(app, as_user):
    with app.app_context():
        usager = f.gen_usager()
        uid = usager.id
        admission = usager.admissions[0]
        admission.commentaire = "SECRET-COMMENTAIRE hospitalisé en psychiatrie"
        db.session.commit()
        changes = db.session.execute(select(AuditEvent.changes).where(
            AuditEvent.entity == "Admission", AuditEvent.entity_id == admission.id,
            AuditEvent.action == "update")).scalars().all()
        assert changes and all(c["commentaire"] == "modifié" for c in changes if "commentaire" in c)
        assert "SECRET-COMMENTAIRE" not in str(changes)
        with db.engine.begin() as conn:  # entries written before this rule held values in clear
            audit_chain.append(conn, [
                {"at": utcnow(), "user_id": None, "username": "ancien", "remote_addr": None, "client": "cli",
                 "action": "update", "entity": "Admission", "entity_id": admission.id, "usager_id": uid,
                 "version": 2, "changes": {"commentaire": ["", "SECRET-ANCIEN"]}, "details": None},
                {"at": utcnow(), "user_id": None, "username": "ancien", "remote_addr": None, "client": "cli",
                 "action": "update", "entity": "Usager", "entity_id": uid, "usager_id": uid, "version": 2,
                 "changes": {"nom_naissance": ["A", "NOM-VISIBLE"], "date_naissance": [None, "1950-02-01"]}, "details": None},
                {"at": utcnow(), "user_id": None, "username": "ancien", "remote_addr": None, "client": "cli",
                 "action": "update", "entity": "Evaluation", "entity_id": 1, "usager_id": uid, "version": 2,
                 "changes": {"answers": {"traitement": ["", "SECRET-SOIN"]}, "status": ["draft", "validated"]},
                 "details": None},
                {"at": utcnow(), "user_id": None, "username": "ancien", "remote_addr": None, "client": "cli",
                 "action": "update", "entity": "ProjetObjectif", "entity_id": 1, "usager_id": uid, "version": None,
                 "changes": {"libelle": ["", "SECRET-OBJECTIF"], "indicateur_cible": [1, 77777]},
                 "details": None}])
    for username, url in (("dpo", f"/audit/?usager={uid}"), ("direction", f"/dossier/{uid}/acces")):
        page = as_user(username).get(url)
        assert page.status_code == 200, (username, url)
        text = page.data.decode()
        assert "ancien" in text and "NOM-VISIBLE" in text  # administrative values stay readable
        for secret in ("SECRET-ANCIEN", "SECRET-SOIN", "SECRET-OBJECTIF", "77777"):
            assert secret not in text, (username, secret)
        assert "draft → validated" in text  # a state is not a secret
        assert "— → 01/02/1950" in text  # values read as French dates, nothing as None


def test_a_read_of_several_usagers_is_found_under_each(app, api, as_user):
    with app.app_context():
        first, second = f.gen_usager(), f.gen_usager()
        ids = (first.id, second.id)
        marker = first.nom_naissance
    listed = api("secretaire.tilleuls").get("/api/v1/usager/?q=(page_size:100,order_column:id,order_direction:desc)")
    assert listed.status_code == 200
    with app.app_context():
        entry = db.session.execute(select(AuditEvent).where(AuditEvent.action == "read",
                                                             AuditEvent.details["path"].as_string() == "/api/v1/usager/")
                                   .order_by(AuditEvent.id.desc()).limit(1)).scalar_one()
        assert entry.usager_id is None and set(ids) <= set(entry.details["usagers"])
        for uid in ids:
            assert entry.id in [e.id for e in audit_log.access_history(db.session, uid)]
            found, _total = audit_log.search(db.session, audit_log.AuditQuery(usager_id=uid))
            assert entry.id in [e.id for e in found]
    assert "/api/v1/usager/" in as_user("direction").get(f"/dossier/{ids[1]}/acces").data.decode()
    assert marker  # (the list itself is not the point: its trace is)


def test_denied_accesses_are_recorded_under_the_usager_they_aimed_at(app, as_user, api):
    with app.app_context():
        elsewhere = f.gen_usager(f.SOURCES).id
    secretary = as_user("secretaire.tilleuls")
    assert secretary.get(f"/dossier/{elsewhere}").status_code == 404
    assert api("secretaire.tilleuls").get(f"/api/v1/usager/{elsewhere}").status_code == 404
    assert as_user("educ.sources").get("/audit/").status_code == 403
    with app.app_context():
        denied = db.session.execute(select(AuditEvent).where(AuditEvent.action == "denied",
                                                              AuditEvent.usager_id == elsewhere)).scalars().all()
        assert {e.details["status"] for e in denied} == {404} and len(denied) >= 1
        assert all(e.username == "secretaire.tilleuls" for e in denied)
        refused = db.session.execute(select(AuditEvent).where(AuditEvent.action == "denied",
                                                               AuditEvent.username == "educ.sources")
                                     .order_by(AuditEvent.id.desc())).scalars().first()
        assert refused is not None and refused.details["status"] == 403 and refused.details["path"] == "/audit/"


def test_an_autosaved_draft_is_not_a_consultation(app, as_user):
    with app.app_context():
        uid = f.gen_usager().id
    page = f"/dossier/{uid}"
    author = as_user("secretaire.tilleuls")
    with app.app_context():
        before = db.session.execute(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1)).scalar()
    body = {"page": page, "form": "coordonnees", "label": "Coordonnées", "data": [["coordonnees-commune", "Riom"]]}
    assert author.put("/brouillons/", json=body).status_code == 200
    assert author.get(f"/brouillons/?page={page}").status_code == 200
    assert author.delete("/brouillons/", json={"page": page, "form": "coordonnees"}).status_code == 204
    with app.app_context():
        reads = db.session.execute(select(AuditEvent).where(AuditEvent.id > before, AuditEvent.action == "read",
                                                             AuditEvent.username == "secretaire.tilleuls")).scalars().all()
        assert [e.details["path"] for e in reads if e.details["path"].startswith("/brouillons")] == []


def test_a_staff_assignment_records_who_got_which_etablissement_and_service(app, make_user):
    username = make_user("affecte." + f.unique_name("").lower(), "Éducatif")
    with app.app_context():
        user = app.appbuilder.sm.find_user(username=username)
        etab, service = f.etablissement(f.SOURCES), f.service(f.SOURCES)
        assignment = StaffAssignment(user_id=user.id, etablissement_id=etab.id)
        db.session.add(assignment)
        db.session.commit()
        assignment.service_id = service.id
        db.session.commit()
        entries = db.session.execute(select(AuditEvent).where(AuditEvent.entity == "StaffAssignment",
                                                               AuditEvent.entity_id == assignment.id)
                                     .order_by(AuditEvent.id)).scalars().all()
        assert [e.action for e in entries] == ["create", "update"]
        assert entries[0].details == {"utilisateur": username, "etablissement": etab.name, "service": None}
        assert entries[1].details == {"utilisateur": username, "etablissement": etab.name, "service": service.name}
        db.session.delete(assignment)
        db.session.commit()
        removed = db.session.execute(select(AuditEvent).where(AuditEvent.entity == "StaffAssignment",
                                                               AuditEvent.action == "delete",
                                                               AuditEvent.entity_id == assignment.id)).scalar_one()
        assert removed.details["utilisateur"] == username and clock.today()
