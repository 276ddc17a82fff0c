"""The référentiels console: Administrateur and Qualité only, CSRF on, audited, codes immutable."""
import re

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, MotifSortie

from .conftest import login, totp_code


def csrf_of(response) -> str:
    """The CSRF token a page hands to its forms (hidden field, or x-editable's data-csrf)."""
    page = response.data.decode()
    return re.search(r'(?:name="csrf_token" type="hidden" value|data-csrf)="([^"]+)"', page).group(1)


# (The tests' configuration turns the application-wide CSRF check off; the one test below turns it
# on and goes through the console as a browser does, with the tokens its pages hand out.)


def test_inline_edit_is_audited_and_csv_export_works(app, as_user):
    client = as_user("qualite")
    with app.app_context():
        motif = db.session.execute(select(MotifSortie).where(MotifSortie.code == "autre")).scalar_one()
        mid = motif.id
    response = client.post("/referentiels/ref_motifs/ajax/update/",
                           data={"list_form_pk": mid, "label": "Autre motif (préciser)"})
    assert response.status_code == 200
    with app.app_context():
        assert db.session.get(MotifSortie, mid).label == "Autre motif (préciser)"
        event = db.session.execute(select(AuditEvent).where(AuditEvent.entity == "MotifSortie",
                                                            AuditEvent.entity_id == mid)).scalars().all()[-1]
        assert event.username == "qualite" and event.changes["label"][1] == "Autre motif (préciser)"
    export = client.get("/referentiels/ref_motifs/export/csv/")
    assert export.status_code == 200 and b"Autre motif (pr" in export.data


def test_code_cannot_be_changed_once_created(app, as_user):
    client = as_user("admin")
    with app.app_context():
        mid = db.session.execute(select(MotifSortie).where(MotifSortie.code == "majorite")).scalar_one().id
    client.post(f"/referentiels/ref_motifs/edit/?id={mid}", data={"code": "hacked", "label": "Limite d'âge",
                                                                   "position": "3", "active": "y"})
    with app.app_context():
        motif = db.session.get(MotifSortie, mid)
        assert motif.code == "majorite" and motif.label == "Limite d'âge"


def test_console_forms_require_a_csrf_token(app):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        client = app.test_client()
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login/").data.decode()).group(1)
        client.post("/login/", data={"username": "admin", "password": "mot-de-passe-de-test-2026", "csrf_token": token})
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login/code").data.decode()).group(1)
        signed_in = client.post("/login/code", data={"code": totp_code(app, "admin"), "csrf_token": token})
        assert signed_in.status_code == 302
        refused = client.post("/referentiels/ref_motifs/new/", data={"code": "csrf", "label": "Sans jeton"})
        assert refused.status_code in (200, 400)
        with app.app_context():
            assert db.session.execute(select(MotifSortie).where(MotifSortie.code == "csrf")).first() is None
            mid = db.session.execute(select(MotifSortie).where(MotifSortie.code == "autre")).scalar_one().id
        no_token = client.post("/referentiels/ref_motifs/ajax/update/", data={"list_form_pk": mid, "label": "X"})
        assert no_token.status_code == 400
        # with the tokens the pages hand out, as a browser sends them: saved (it was refused: two tokens)
        inline = client.post("/referentiels/ref_motifs/ajax/update/", data={
            "list_form_pk": mid, "label": "Autre motif", "csrf_token": csrf_of(client.get("/referentiels/ref_motifs/"))})
        assert inline.status_code == 200
        created = client.post("/referentiels/ref_motifs/new/", data={
            "code": "avec_jeton", "label": "Avec jeton", "position": "9", "active": "y",
            "csrf_token": csrf_of(client.get("/referentiels/ref_motifs/new/"))})
        assert created.status_code == 302
        with app.app_context():
            assert db.session.execute(select(MotifSortie).where(MotifSortie.code == "avec_jeton")).first() is not None
            assert db.session.get(MotifSortie, mid).label == "Autre motif"
        refused_dossier = client.post("/dossier/1/archiver")
        assert refused_dossier.status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_anonymous_users_are_sent_to_login(client):
    response = client.get("/referentiels/")
    assert response.status_code == 302 and "/login/" in response.headers["Location"]
    login(client, "admin")
    assert client.get("/referentiels/").status_code == 200


def test_the_csv_export_reads_oui_non(as_user):
    response = as_user("admin").get("/referentiels/ref_motifs/export/csv/")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Oui" in text and "True" not in text and "False" not in text
