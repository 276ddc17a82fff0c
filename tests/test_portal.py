"""The portal for usagers and families (issue 19 §3, §4): invitation (one use, expiry,
revocation), sign-up with a password and a second factor, every right on and off, the end of an
access (majority, end of a protection measure), another usager or établissement as 404, a portal
session kept out of staff pages and APIs, an audit entry for every portal read, messages routed
to the team and answered from the internal messaging, RGPD requests into the DPO's queue, and
the API contract."""
from __future__ import annotations

import datetime as dt
import re

import pyotp
import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AuditEvent, ContactPerson, MesureProtection, PortalAccess, User, Usager
from app.security.scope import Scope
from app.services import agenda as agenda_service
from app.domain import clock
from app.services import foyers, portal

from . import factories as f
from .test_accessibility import Controls
from .test_messages import smtp_server  # noqa: F401  (fixture)
from .test_projets import _signed

NEW_PASSWORD = "une longue phrase de passe pour le portail"
SECRETARY = "secretaire.sources"


def _contact(foyer, nom, prenom, lien, roles, email):
    contact = ContactPerson(foyer_id=foyer.id, nom=nom, prenom=prenom, lien=lien, roles=roles, email=email)
    db.session.add(contact)
    db.session.commit()
    return contact.id


@pytest.fixture
def family(app):
    """A boy at IME Les Sources (born 2014), his mother (autorité parentale) and a curator in his
    foyer, a medical appointment and an activity next week."""
    with app.app_context():
        child = f.gen_usager(f.SOURCES, date_naissance=dt.date(2014, 3, 2), prenoms_naissance="Léo", sexe="M")
        foyer = foyers.save_foyer(db.session, {"libelle": f"Famille {child.nom_naissance}"}, member=child)
        stamp = f.unique_name("m").lower()
        mother = _contact(foyer, child.nom_naissance, "Nadia", "mère", ["autorite_parentale"], f"{stamp}@exemple.fr")
        curator = _contact(foyer, "CURATEUR", "Paul", "curateur", ["tuteur_curateur"], f"c{stamp}@exemple.fr")
        other = f.gen_usager(f.SOURCES, date_naissance=dt.date(2013, 1, 1))
        elsewhere = f.gen_usager(f.TILLEULS)
        direction = db.session.execute(select(User.id).where(User.username == "direction")).scalar_one()
        start = clock.local(dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)).date() + dt.timedelta(days=3)
        for titre, kind, category, hour in (("Consultation ORL Dr Oreille", "rdv_medical", "medical", 9),
                                            ("Sortie à la piscine", "activite", "social_educatif", 14)):
            agenda_service.create(db.session, scope=Scope.everything(), user_id=direction, values={
                "titre": titre, "type": kind, "categorie": category, "usager_ids": [child.id, other.id],
                "debut": f"{start.isoformat()}T{hour:02d}:00:00+01:00",
                "fin": f"{start.isoformat()}T{hour + 1:02d}:00:00+01:00", "lieu": "Lieu détaillé"})
        ids = {"uid": child.id, "mother": mother, "curator": curator, "other": other.id, "elsewhere": elsewhere.id,
               "etab": f.etablissement(f.SOURCES).id, "other_name": other.nom_naissance,
               "email": f"{stamp}@exemple.fr"}
        db.session.remove()
    return ids


def invite(api, family, droits, contact="mother", username=SECRETARY, **extra):
    body = {"contact_id": family[contact] if contact else None, "droits": droits, **extra}
    response = api(username).post(f"/api/v1/usager/{family['uid']}/portail/invitations", json=body)
    assert response.status_code == 201, response.json
    assert set(response.json) == {"id", "url"}
    return response.json


def path_of(url):
    return url[url.index("/portail/"):]


def signup(app, url):
    """Open the link, read the key, choose a password and give the first code: a signed-in client."""
    client = app.test_client()
    page = client.get(path_of(url))
    assert page.status_code == 200, page.data[:300]
    secret = re.search(r'data-secret="([A-Z2-7]+)"', page.data.decode()).group(1)
    done = client.post(path_of(url), data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "second_factor": "totp",
                                           "code": pyotp.TOTP(secret).now()})
    assert done.status_code == 302, done.data.decode()[:2000]
    return client


def test_an_invitation_link_signs_up_once_and_is_kept_only_hashed(app, api, family):
    made = invite(api, family, ["agenda"])
    token = made["url"].rsplit("/", 1)[1]
    with app.app_context():
        access = db.session.get(PortalAccess, made["id"])
        assert access.token_hash and token not in access.token_hash and access.account_id is None
        db.session.remove()
    client = signup(app, made["url"])
    assert client.get(f"/portail/{family['uid']}/agenda").status_code == 200
    again = app.test_client().get(path_of(made["url"]))
    assert again.status_code == 404 and "n'est plus valable" in again.data.decode()
    with app.app_context():
        access = db.session.get(PortalAccess, made["id"])
        assert access.accepted_at and access.token_hash is None and access.account.totp_secret
        db.session.remove()


def test_weak_password_and_wrong_code_are_refused_with_their_field(app, api, family):
    made = invite(api, family, ["agenda"])
    client = app.test_client()
    client.get(path_of(made["url"]))
    page = client.post(path_of(made["url"]), data={"password": "motdepasse", "confirm": "motdepasse",
                                                   "second_factor": "totp", "code": "000000"})
    assert page.status_code == 400
    text = page.data.decode()
    assert 'id="password-error"' in text and 'id="code-error"' in text
    assert client.get(path_of(made["url"])).status_code == 200  # the link is not spent


def test_an_expired_or_revoked_invitation_does_not_open(app, api, family):
    expired = invite(api, family, ["agenda"])
    with app.app_context():
        db.session.get(PortalAccess, expired["id"]).token_expires_at = dt.datetime(2020, 1, 1)
        db.session.commit()
        db.session.remove()
    assert app.test_client().get(path_of(expired["url"])).status_code == 404
    revoked = invite(api, family, ["agenda"])
    gone = api(SECRETARY).delete(f"/api/v1/usager/{family['uid']}/portail/invitations/{revoked['id']}")
    assert gone.status_code == 200 and gone.json["result"]["statut"] == "revoque"
    assert app.test_client().get(path_of(revoked["url"])).status_code == 404


def test_revoking_an_access_closes_the_portal_at_once(app, api, family):
    made = invite(api, family, ["agenda"])
    client = signup(app, made["url"])
    assert client.get(f"/portail/{family['uid']}/agenda").status_code == 200
    assert api(SECRETARY).delete(f"/api/v1/usager/{family['uid']}/portail/invitations/{made['id']}").status_code == 200
    assert client.get(f"/portail/{family['uid']}/agenda").status_code == 404


def test_api_contract_fields_422_scope_404_and_roles(app, api, family):
    base = f"/api/v1/usager/{family['uid']}/portail/invitations"
    missing = api(SECRETARY).post(base, json={"contact_id": family["mother"]})
    assert missing.status_code == 422 and "droits" in missing.json["message"]
    unknown = api(SECRETARY).post(base, json={"contact_id": family["mother"], "droits": ["agenda", "tout"]})
    assert unknown.status_code == 422 and "droits" in unknown.json["message"]
    bad_doc = api(SECRETARY).post(base, json={"contact_id": family["mother"], "droits": ["documents:inexistant"]})
    assert bad_doc.status_code == 422 and "droits" in bad_doc.json["message"]
    bad_date = api(SECRETARY).post(base, json={"contact_id": family["mother"], "droits": [], "expire_le": "demain"})
    assert bad_date.status_code == 422 and "expire_le" in bad_date.json["message"]
    with app.app_context():
        stranger = f.gen_usager(f.SOURCES)
        foyer = foyers.save_foyer(db.session, {"libelle": "Autre famille"}, member=stranger)
        foreign = _contact(foyer, "AUTRE", "Ann", "mère", ["autorite_parentale"], "autre@exemple.fr")
        db.session.remove()
    outside = api(SECRETARY).post(base, json={"contact_id": foreign, "droits": ["agenda"]})
    assert outside.status_code == 422 and "contact_id" in outside.json["message"]
    no_mail = api(SECRETARY).post(base, json={"contact_id": None, "droits": ["agenda"]})
    assert no_mail.status_code == 422 and "email" in no_mail.json["message"]
    self_invite = api(SECRETARY).post(base, json={"contact_id": None, "droits": ["agenda"], "email": "leo@exemple.fr"})
    assert self_invite.status_code == 201
    assert api("secretaire.tilleuls").post(base, json={"contact_id": family["mother"], "droits": []}).status_code == 404
    assert api("secretaire.tilleuls").get(base).status_code == 404
    assert api("educ.sources").post(base, json={"contact_id": family["mother"], "droits": []}).status_code == 403
    listed = api(SECRETARY).get(base)
    assert listed.status_code == 200 and {r["statut"] for r in listed.json["result"]} == {"invite"}
    assert api("dpo").get(base).status_code == 200
    assert api("admin").get(base).status_code == 403


def test_each_right_opens_its_page_only(app, api, family):
    client = signup(app, invite(api, family, ["agenda"])["url"])
    uid = family["uid"]
    assert client.get(f"/portail/{uid}/").status_code == 200
    assert client.get(f"/portail/{uid}/agenda").status_code == 200
    for page in ("projet", "projet.pdf", "consultations", "coordonnees", "messages", "documents"):
        assert client.get(f"/portail/{uid}/{page}").status_code == 404, page
    for other in (family["other"], family["elsewhere"]):
        for page in ("", "agenda", "rgpd"):
            assert client.get(f"/portail/{other}/{page}").status_code == 404
    home = client.get(f"/portail/{uid}/").data.decode()
    assert "/agenda" in home and "/projet" not in home and "/messages" not in home
    with app.app_context():  # a probe of another dossier leaves a trace, as the portal account's
        probes = db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "denied", AuditEvent.usager_id == family["elsewhere"],
            AuditEvent.username.like("portail:%"))).scalars().all()
        assert probes and all(p.user_id is None for p in probes)
        db.session.remove()


def test_agenda_masks_other_categories_and_shows_no_one_else(app, api, family):
    client = signup(app, invite(api, family, ["agenda"])["url"])
    text = client.get(f"/portail/{family['uid']}/agenda").data.decode()
    assert "Sortie à la piscine" in text and "Rendez-vous" in text
    assert "ORL" not in text and "Oreille" not in text
    assert family["other_name"] not in text


def test_pp_shows_the_signed_easy_read_version_and_its_pdf(app, api, family):
    _signed(api("direction"), family["uid"], family["etab"])
    client = signup(app, invite(api, family, ["projet"])["url"])
    text = client.get(f"/portail/{family['uid']}/projet").data.decode()
    assert "Je nage seul" in text and "Nager 25 mètres" not in text  # the easy-read wording
    pdf = client.get(f"/portail/{family['uid']}/projet.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert "facile-a-lire" in pdf.headers["Content-Disposition"]


def test_who_opened_the_dossier_shows_service_and_role_not_names(app, api, as_user, family):
    assert as_user("educ.sources").get(f"/dossier/{family['uid']}").status_code == 200
    client = signup(app, invite(api, family, ["consultations"])["url"])
    text = client.get(f"/portail/{family['uid']}/consultations").data.decode()
    assert "Éducatif" in text and "Éducatrice" not in text
    app.config["SILLAGE_PORTAIL_NOMS_PERSONNEL"] = True
    try:
        assert "Emma Éducatrice" in client.get(f"/portail/{family['uid']}/consultations").data.decode()
    finally:
        app.config["SILLAGE_PORTAIL_NOMS_PERSONNEL"] = False


def test_coordonnees_of_the_usager_and_of_the_invited_person(app, api, family):
    client = signup(app, invite(api, family, ["coordonnees"])["url"])
    text = client.get(f"/portail/{family['uid']}/coordonnees").data.decode()
    assert family["email"] in text and "CURATEUR" not in text


def test_a_message_reaches_the_team_and_the_answer_comes_back(app, api, family):
    client = signup(app, invite(api, family, ["messages"])["url"])
    sent = client.post(f"/portail/{family['uid']}/messages", data={"sujet": "Vacances", "texte": "Léo part le 20."})
    assert sent.status_code == 302
    educ = api("educ.sources")
    thread = next(t for t in educ.get("/api/v1/messages").json["result"] if t["sujet"] == "Vacances")
    assert thread["usager_id"] == family["uid"] and thread["auteur"].startswith("Nadia")
    shown = educ.get(f"/api/v1/messages/{thread['id']}").json["result"]
    assert shown["messages"][0]["texte"] == "Léo part le 20." and "portail" in shown["messages"][0]["auteur"]
    assert educ.post(f"/api/v1/messages/{thread['id']}", json={"texte": "Bien noté, bonnes vacances !"}) \
        .status_code == 201
    text = client.get(f"/portail/{family['uid']}/messages").data.decode()
    assert "Bien noté, bonnes vacances !" in text and "Emma (Éducatif)" in text and "Éducatrice" not in text
    again = client.post(f"/portail/{family['uid']}/messages", data={"thread_id": thread["id"], "texte": "Merci"})
    assert again.status_code == 302
    assert educ.get(f"/api/v1/messages/{thread['id']}").json["result"]["messages"][-1]["texte"] == "Merci"
    with app.app_context():  # the bodies stay out of the trail
        rows = db.session.execute(select(AuditEvent.changes).where(AuditEvent.entity == "Message")).scalars().all()
        assert not any("Léo part le 20." in str(r) for r in rows)
        db.session.remove()


def test_rgpd_requests_land_in_the_dpo_queue(app, api, as_user, family):
    client = signup(app, invite(api, family, [])["url"])
    empty = client.post(f"/portail/{family['uid']}/rgpd", data={"type": "rectification", "texte": ""})
    assert empty.status_code == 400
    for kind, text in (("rectification", "Le prénom usuel est Léon."), ("acces", ""),
                       ("effacement", "Nous quittons la région.")):
        assert client.post(f"/portail/{family['uid']}/rgpd", data={"type": kind, "texte": text}).status_code == 302
    queue = as_user("dpo").get("/rgpd/").data.decode()
    assert "Le prénom usuel est Léon." in queue and "Nous quittons la région." in queue
    assert "Portail des familles" in queue


def test_a_portal_session_reaches_no_staff_page_and_staff_no_portal_page(app, api, as_user, family):
    client = signup(app, invite(api, family, ["agenda"])["url"])
    staff_page = client.get(f"/dossier/{family['uid']}")
    assert staff_page.status_code == 302 and "/login" in staff_page.headers["Location"]
    assert client.get("/api/v1/messages").status_code == 401
    assert client.get(f"/api/v1/usager/{family['uid']}/portail/invitations").status_code == 401
    staff = as_user(SECRETARY).get(f"/portail/{family['uid']}/agenda")
    assert staff.status_code == 302 and staff.headers["Location"].endswith("/portail/connexion")


def test_sign_in_with_password_and_code(app, api, family):
    made = invite(api, family, ["agenda"])
    signup(app, made["url"])
    with app.app_context():
        account = db.session.get(PortalAccess, made["id"]).account
        account.totp_last_step, secret, email = None, account.totp_secret, account.email
        db.session.commit()
        db.session.remove()
    client = app.test_client()
    assert client.post("/portail/connexion", data={"email": email, "password": "faux"}).status_code == 401
    step = client.post("/portail/connexion", data={"email": email, "password": NEW_PASSWORD})
    assert step.status_code == 302 and step.headers["Location"].endswith("/portail/connexion/code")
    assert client.get(f"/portail/{family['uid']}/agenda").status_code == 302  # not yet
    assert client.post("/portail/connexion/code", data={"code": "000000"}).status_code == 401
    assert client.post("/portail/connexion/code", data={"code": pyotp.TOTP(secret).now()}).status_code == 302
    assert client.get(f"/portail/{family['uid']}/agenda").status_code == 200
    client.post("/portail/deconnexion")
    assert client.get(f"/portail/{family['uid']}/agenda").status_code == 302


def test_every_portal_read_is_audited_as_the_portal_account(app, api, as_user, family):
    made = invite(api, family, ["agenda", "coordonnees", "consultations"])
    client = signup(app, made["url"])
    for page in ("agenda", "coordonnees", "consultations"):
        client.get(f"/portail/{family['uid']}/{page}")
    with app.app_context():
        account_id = db.session.get(PortalAccess, made["id"]).account_id
        rows = db.session.execute(select(AuditEvent).where(AuditEvent.username == f"portail:{account_id}",
                                                           AuditEvent.action == "read")).scalars().all()
        assert {r.details["portail"]["page"] for r in rows} >= {"agenda", "coordonnees", "consultations"}
        assert all(r.usager_id == family["uid"] and r.user_id is None for r in rows)
        from app.security.audit_chain import verify

        with db.engine.connect() as conn:
            assert verify(conn).ok
        db.session.remove()
    history = as_user("direction").get(f"/dossier/{family['uid']}/acces").data.decode()
    assert "Portail — mère" in history


def test_parents_access_ends_at_majority_unless_the_setting_is_off(app, api, family):
    made = invite(api, family, ["agenda"])
    client = signup(app, made["url"])
    with app.app_context():
        db.session.get(Usager, family["uid"]).date_naissance = dt.date(2000, 1, 1)
        db.session.commit()
        db.session.remove()
    app.config["SILLAGE_PORTAIL_FIN_MAJORITE"] = False
    try:
        assert client.get(f"/portail/{family['uid']}/agenda").status_code == 200
    finally:
        app.config["SILLAGE_PORTAIL_FIN_MAJORITE"] = True
    assert client.get(f"/portail/{family['uid']}/agenda").status_code == 404
    with app.app_context():
        access = db.session.get(PortalAccess, made["id"])
        assert access.ended_at and access.end_reason == "majorité de l'usager"
        db.session.remove()
    refused = api(SECRETARY).post(f"/api/v1/usager/{family['uid']}/portail/invitations",
                                  json={"contact_id": family["mother"], "droits": ["agenda"]})
    assert refused.status_code == 422 and "majorité" in refused.json["message"]["contact_id"][0]
    listed = api(SECRETARY).get(f"/api/v1/usager/{family['uid']}/portail/invitations").json["result"]
    assert next(r for r in listed if r["id"] == made["id"])["statut"] == "termine"


def test_curators_access_ends_with_the_protection_measure(app, api, family):
    with app.app_context():
        measure = MesureProtection(usager_id=family["uid"], type_mesure="curatelle", date_debut=dt.date(2024, 1, 1))
        db.session.add(measure)
        db.session.commit()
        measure_id = measure.id
        db.session.remove()
    made = invite(api, family, ["agenda"], contact="curator")
    client = signup(app, made["url"])
    assert client.get(f"/portail/{family['uid']}/agenda").status_code == 200
    with app.app_context():
        db.session.get(MesureProtection, measure_id).date_fin = clock.today() - dt.timedelta(days=1)
        db.session.commit()
        db.session.remove()
    assert client.get(f"/portail/{family['uid']}/agenda").status_code == 404
    with app.app_context():
        assert db.session.get(PortalAccess, made["id"]).end_reason == "fin de la mesure de protection"
        db.session.remove()


def test_staff_page_invites_lists_and_revokes(app, as_user, family):
    staff = as_user(SECRETARY)
    page = staff.get(f"/acces-portail/usager/{family['uid']}")
    assert page.status_code == 200 and "Nadia" in page.data.decode()
    parser = Controls()
    parser.feed(page.data.decode())
    assert parser.problems() == []
    made = staff.post(f"/acces-portail/usager/{family['uid']}/inviter",
                      data={"contact_id": str(family["mother"]), "droits": ["agenda", "messages"]})
    text = made.data.decode()
    assert made.status_code == 200 and "/portail/invitation/" in text and "Invitation envoyée" in text
    access_id = int(re.search(r"/acces-portail/usager/\d+/(\d+)/revoquer", text).group(1))
    assert staff.post(f"/acces-portail/usager/{family['uid']}/{access_id}/revoquer").status_code == 302
    assert "Révoqué" in staff.get(f"/acces-portail/usager/{family['uid']}").data.decode()
    assert as_user("secretaire.tilleuls").get(f"/acces-portail/usager/{family['uid']}").status_code == 404
    assert "portal-access" in staff.get(f"/dossier/{family['uid']}").data.decode()


def test_portal_pages_have_rgaa_basics(app, api, family):
    client = signup(app, invite(api, family, ["agenda", "messages", "coordonnees", "consultations"])["url"])
    for page in ("", "agenda", "messages", "coordonnees", "consultations", "rgpd"):
        parser = Controls()
        parser.feed(client.get(f"/portail/{family['uid']}/{page}").data.decode())
        assert parser.problems() == [], page
    for url in ("/portail/connexion", path_of(invite(api, family, ["agenda"], contact=None,
                                                     email=f"rgaa{family['uid']}@exemple.fr")["url"])):
        parser = Controls()
        parser.feed(app.test_client().get(url).data.decode())
        assert parser.problems() == [], url


def test_anonymisation_removes_the_accesses_and_the_export_lists_them(app, api, family):
    made = invite(api, family, ["agenda"])
    with app.app_context():
        from app.services import rgpd, rgpd_export

        usager = db.session.get(Usager, family["uid"])
        data = rgpd_export.collect(db.session, usager)
        assert [a["id"] for a in data["acces_portail"]] == [made["id"]]
        rgpd.anonymise(db.session, usager, app.config["SILLAGE_DATA_DIR"], reason="test")
        assert db.session.get(PortalAccess, made["id"]) is None
        db.session.remove()


def test_documents_only_of_the_granted_types_and_categories(app, api, family):
    import io

    from werkzeug.datastructures import FileStorage

    from app.services import documents

    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    ids = {}
    with app.app_context():
        usager = db.session.get(Usager, family["uid"])
        for key, type_code, titre, category in (("ok", "courrier", "Courrier de rentrée", None),
                                                ("medical", "courrier", "Courrier du pédopsychiatre", "medical"),
                                                ("other_type", "identite", "Carte d'identité", None)):
            upload = FileStorage(stream=io.BytesIO(pdf), filename=f"{key}.pdf", content_type="application/pdf")
            ids[key] = documents.upload(db.session, scope=None, usager=usager, type_code=type_code, titre=titre,
                                        upload=upload, **({"categorie": category} if category else {})).id
        db.session.remove()
    client = signup(app, invite(api, family, ["documents:courrier"])["url"])
    text = client.get(f"/portail/{family['uid']}/documents").data.decode()
    assert "Courrier de rentrée" in text and "pédopsychiatre" not in text and "Carte d'identité" not in text
    got = client.get(f"/portail/{family['uid']}/documents/{ids['ok']}")
    assert got.status_code == 200 and got.data == pdf
    for key in ("medical", "other_type"):
        assert client.get(f"/portail/{family['uid']}/documents/{ids[key]}").status_code == 404
    none = signup(app, invite(api, family, ["agenda"], contact=None, email=f"soi{family['uid']}@exemple.fr")["url"])
    assert none.get(f"/portail/{family['uid']}/documents/{ids['ok']}").status_code == 404


def test_an_existing_account_adds_an_access_with_its_own_password(app, api, family):
    client = signup(app, invite(api, family, ["agenda"])["url"])
    assert client.get(f"/portail/{family['uid']}/coordonnees").status_code == 404
    second = invite(api, family, ["coordonnees"])
    other = app.test_client()
    page = other.get(path_of(second["url"]))
    assert "déjà un compte" in page.data.decode() and "data-secret" not in page.data.decode()
    assert other.post(path_of(second["url"]), data={"password": "pas le bon"}).status_code == 400
    added = other.post(path_of(second["url"]), data={"password": NEW_PASSWORD})
    assert added.status_code == 302 and "/portail/connexion" in added.headers["Location"]
    assert other.get(f"/portail/{family['uid']}/agenda").status_code == 302  # the password alone opens nothing
    assert client.get(f"/portail/{family['uid']}/coordonnees").status_code == 200
    assert client.get(f"/portail/{family['uid']}/agenda").status_code == 200
    with app.app_context():
        accounts = {a.account_id for a in db.session.execute(select(PortalAccess).where(
            PortalAccess.id.in_([second["id"]]))).scalars()}
        assert len(accounts) == 1 and None not in accounts
        db.session.remove()


def _mail_text(raw):
    import email
    import email.policy

    return email.message_from_string(raw, policy=email.policy.default).get_content()


def test_with_smtp_the_link_goes_by_mail_and_the_second_factor_may_be_an_emailed_code(app, api, family,
                                                                                       monkeypatch, smtp_server):
    port, received = smtp_server
    monkeypatch.setitem(app.config, "SILLAGE_SMTP_PORT", port)
    monkeypatch.setitem(app.config, "SILLAGE_SMTP_HOST", "127.0.0.1")
    made = invite(api, family, ["agenda"])
    assert made["url"] in _mail_text(received[-1])
    client = app.test_client()
    page = client.get(path_of(made["url"])).data.decode()
    assert 'value="email"' in page
    form = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD, "second_factor": "email"}
    asked = client.post(path_of(made["url"]), data={**form, "action": "envoyer"})
    assert asked.status_code == 400 and "être envoyé à" in asked.data.decode()
    code = re.search(r"\b(\d{6})\b", _mail_text(received[-1])).group(1)
    wrong = "000000" if code != "000000" else "111111"
    assert client.post(path_of(made["url"]), data={**form, "code": wrong}).status_code == 400
    assert client.post(path_of(made["url"]), data={**form, "code": code}).status_code == 302
    assert client.get(f"/portail/{family['uid']}/agenda").status_code == 200
    again = app.test_client()
    again.post("/portail/connexion", data={"email": family["email"], "password": NEW_PASSWORD})
    code = re.search(r"\b(\d{6})\b", _mail_text(received[-1])).group(1)
    assert again.post("/portail/connexion/code", data={"code": code}).status_code == 302
    assert again.get(f"/portail/{family['uid']}/agenda").status_code == 200


def test_service_ends_a_parents_access_the_day_the_child_comes_of_age(app, api, family):
    made = invite(api, family, ["agenda"])
    with app.app_context():
        contact = db.session.get(ContactPerson, family["mother"])
        contact.roles = ["representant_legal", "autorite_parentale", "personne_prevenir"]  # as the demo's mothers
        db.session.commit()
        access = db.session.get(PortalAccess, made["id"])
        birthday = dt.date(2014 + 18, 3, 2)
        assert portal.check_access(db.session, access, today=birthday - dt.timedelta(days=1))
        assert not portal.check_access(db.session, access, today=birthday)
        assert access.end_reason == "majorité de l'usager" and access.ended_at is not None
        assert portal.status(access) == "termine"
        db.session.remove()


def test_wrong_codes_are_throttled(app, api, family):
    made = invite(api, family, ["agenda"])
    signup(app, made["url"])
    with app.app_context():
        account = db.session.get(PortalAccess, made["id"]).account
        account.totp_last_step, secret = None, account.totp_secret
        db.session.commit()
        db.session.remove()
    client = app.test_client()
    elsewhere = {"REMOTE_ADDR": "10.9.8.7"}  # (its own address: the suite's other sign-ins are not slowed)
    client.post("/portail/connexion", data={"email": family["email"], "password": NEW_PASSWORD}, environ_base=elsewhere)
    for _ in range(app.config["SILLAGE_LOGIN_FREE_ATTEMPTS"] + 1):
        client.post("/portail/connexion/code", data={"code": "000000"}, environ_base=elsewhere)
    refused = client.post("/portail/connexion/code", data={"code": pyotp.TOTP(secret).now()}, environ_base=elsewhere)
    assert refused.status_code == 401  # even the right code waits


def test_the_portal_scope_reads_through_the_shared_secret_not_around_it(app, family):
    """A portal session sees its usager by id, and their rows through the shared secret like any
    reader (an emergency access would unlock every category; a portal session does not): a
    medical transmission about the child is not loaded, another usager not at all, and the
    agenda's masking asks the same scope."""
    from flask import g

    from app.models import Transmission, TransmissionUsager
    from app.services import transmissions

    with app.app_context():
        educ = db.session.execute(select(User.id).where(User.username == "direction")).scalar_one()
        for categorie in ("medical", "social_educatif"):
            transmissions.write(db.session, scope=Scope.everything(), author_id=educ, usager_ids=[family["uid"]],
                                values={"categorie": categorie, "texte": f"Note {categorie}"})
    with app.test_request_context():
        g.sillage_scope = scope = portal.portal_scope(db.session, [family["uid"]])
        assert db.session.get(Usager, family["uid"]) is not None
        assert db.session.get(Usager, family["other"]) is None
        assert db.session.get(Usager, family["elsewhere"]) is None
        texts = set(db.session.execute(select(Transmission.texte).join(TransmissionUsager).where(
            TransmissionUsager.usager_id == family["uid"])).scalars())
        assert texts == {"Note social_educatif"}
        assert not scope.reads("medical", family["uid"]) and scope.reads("social_educatif", family["uid"])
        db.session.rollback()


def _enrol_again(app, url):
    client = app.test_client()
    page = client.get(path_of(url))
    assert page.status_code == 200, page.data[:300]
    secret = re.search(r'data-secret="([A-Z2-7]+)"', page.data.decode()).group(1)
    new_password = "une autre phrase de passe toute neuve"
    done = client.post(path_of(url), data={"password": new_password, "confirm": new_password,
                                           "second_factor": "totp", "code": pyotp.TOTP(secret).now()})
    assert done.status_code == 302, done.data.decode()[:2000]
    return client, secret, new_password


def test_staff_resets_a_lost_second_factor_with_a_one_use_link(app, api, family):
    made = invite(api, family, ["agenda"])
    old_session = signup(app, made["url"])
    with app.app_context():
        account = db.session.get(PortalAccess, made["id"]).account
        email, old_secret = account.email, account.totp_secret
        db.session.remove()
    base = f"/api/v1/usager/{family['uid']}/portail/invitations/{made['id']}"
    assert api("secretaire.tilleuls").post(base + "/reinitialiser").status_code == 404
    assert api("educ.sources").post(base + "/reinitialiser").status_code == 403
    assert api("dpo").post(base + "/reinitialiser").status_code == 403
    done = api(SECRETARY).post(base + "/reinitialiser")
    assert done.status_code == 200 and "/portail/reinitialisation/" in done.json["url"]
    assert done.json["result"]["compte"] == "reinitialisation"
    token = done.json["url"].rsplit("/", 1)[1]
    # every session of the account ends, the old password and code no longer sign in
    assert old_session.get(f"/portail/{family['uid']}/agenda").status_code == 302
    client = app.test_client()
    assert client.post("/portail/connexion", data={"email": email, "password": NEW_PASSWORD}).status_code == 401
    fresh, secret, new_password = _enrol_again(app, done.json["url"])
    assert secret != old_secret
    assert fresh.get(f"/portail/{family['uid']}/agenda").status_code == 200
    assert app.test_client().get(path_of(done.json["url"])).status_code == 404  # one use
    step = client.post("/portail/connexion", data={"email": email, "password": new_password})
    assert step.status_code == 302
    with app.app_context():
        events = db.session.execute(select(AuditEvent).where(AuditEvent.action.in_(
            ("portail_compte_reinitialise", "portail_reinit_terminee")))).scalars().all()
        assert {e.action for e in events} == {"portail_compte_reinitialise", "portail_reinit_terminee"}
        trail = " ".join(str(e.details) + str(e.changes) for e in db.session.execute(select(AuditEvent)).scalars())
        assert token not in trail and portal._digest(token) not in trail and secret not in trail
        db.session.remove()


def test_a_reset_link_expires(app, api, family):
    made = invite(api, family, ["agenda"])
    signup(app, made["url"])
    done = api(SECRETARY).post(f"/api/v1/usager/{family['uid']}/portail/invitations/{made['id']}/reinitialiser")
    with app.app_context():
        db.session.get(PortalAccess, made["id"]).account.reset_expires_at = dt.datetime(2020, 1, 1)
        db.session.commit()
        db.session.remove()
    assert app.test_client().get(path_of(done.json["url"])).status_code == 404


def test_staff_disables_and_re_enables_an_account(app, api, as_user, family):
    made = invite(api, family, ["agenda"])
    client = signup(app, made["url"])
    base = f"/api/v1/usager/{family['uid']}/portail/invitations/{made['id']}"
    assert api("secretaire.tilleuls").post(base + "/desactiver").status_code == 404
    assert api("educ.sources").post(base + "/desactiver").status_code == 403
    off = api(SECRETARY).post(base + "/desactiver")
    assert off.status_code == 200 and off.json["result"]["compte"] == "desactive"
    assert client.get(f"/portail/{family['uid']}/agenda").status_code == 302  # the open session ends
    with app.app_context():
        account = db.session.get(PortalAccess, made["id"]).account
        email, secret = account.email, account.totp_secret
        account.totp_last_step = None
        db.session.commit()
        db.session.remove()
    again = app.test_client()
    assert again.post("/portail/connexion", data={"email": email, "password": NEW_PASSWORD}).status_code == 401
    assert api(SECRETARY).post(base + "/reinitialiser").status_code == 422
    staff = as_user(SECRETARY)
    page = staff.get(f"/acces-portail/usager/{family['uid']}").data.decode()
    assert "Compte désactivé" in page and f"/{made['id']}/reactiver" in page
    assert as_user("secretaire.tilleuls").post(
        f"/acces-portail/usager/{family['uid']}/{made['id']}/reactiver").status_code == 404
    assert as_user("educ.sources").post(
        f"/acces-portail/usager/{family['uid']}/{made['id']}/reactiver").status_code in (302, 403)
    with app.app_context():
        assert db.session.get(PortalAccess, made["id"]).account.disabled_at is not None
        db.session.remove()
    assert staff.post(f"/acces-portail/usager/{family['uid']}/{made['id']}/reactiver").status_code == 302
    assert again.post("/portail/connexion", data={"email": email, "password": NEW_PASSWORD}).status_code == 302
    assert again.post("/portail/connexion/code", data={"code": pyotp.TOTP(secret).now()}).status_code == 302
    assert again.get(f"/portail/{family['uid']}/agenda").status_code == 200
    with app.app_context():
        actions = set(db.session.execute(select(AuditEvent.action).where(AuditEvent.entity == "PortalAccount"))
                      .scalars())
        assert {"portail_compte_desactive", "portail_compte_reactive"} <= actions
        db.session.remove()


def test_staff_page_resets_and_shows_the_link_once(app, api, as_user, family):
    made = invite(api, family, ["agenda"])
    signup(app, made["url"])
    staff = as_user(SECRETARY)
    page = staff.get(f"/acces-portail/usager/{family['uid']}").data.decode()
    assert f"/{made['id']}/reinitialiser" in page and f"/{made['id']}/desactiver" in page
    done = staff.post(f"/acces-portail/usager/{family['uid']}/{made['id']}/reinitialiser")
    text = done.data.decode()
    assert done.status_code == 200 and "/portail/reinitialisation/" in text and "Réinitialisation en attente" in text
    parser = Controls()
    parser.feed(text)
    assert parser.problems() == []
    assert "/portail/reinitialisation/" not in staff.get(f"/acces-portail/usager/{family['uid']}").data.decode()
    url = re.search(r'(http[^"]*/portail/reinitialisation/[^"]+)"', text).group(1)
    _enrol_again(app, url)
    assert as_user("secretaire.tilleuls").post(
        f"/acces-portail/usager/{family['uid']}/{made['id']}/reinitialiser").status_code == 404


def test_the_rgpd_export_lists_portal_accesses_in_its_workbook_and_summary(app, api, family):
    import io

    from openpyxl import load_workbook
    from pypdf import PdfReader

    made = invite(api, family, ["agenda", "messages"])
    signup(app, made["url"])
    with app.app_context():
        from app.services import rgpd_export

        usager = db.session.get(Usager, family["uid"])
        access = db.session.get(PortalAccess, made["id"])
        invited = clock.date_text(access.invited_at)
        data = rgpd_export.collect(db.session, usager, complete=True)
        book = load_workbook(io.BytesIO(rgpd_export.workbook(data)))
        pdf = "".join(p.extract_text() for p in PdfReader(io.BytesIO(rgpd_export.summary_pdf(data))).pages)
        db.session.remove()
    assert re.fullmatch(r"\d\d/\d\d/\d{4}", invited)
    sheet = book["Accès portail"]
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    assert rows[0][:5] == ["Personne", "Lien", "Courriel", "Droits", "État"]
    assert rows[1][:2] == ["Nadia " + usager.nom_naissance, "mère"] and rows[1][3] == "agenda, messages"
    assert rows[1][4] == "Actif" and rows[1][5] == invited and rows[1][6] == invited
    assert "Accès au portail des familles" in pdf
    flat = " ".join(pdf.split())
    assert f"invitée le {invited}" in flat and family["email"] in flat and "agenda, messages" in flat
