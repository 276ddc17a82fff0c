"""Secure internal messaging: send, receive, read receipts and the unread badge, service inboxes,
a thread about an usager refused with the names of who does not see them, attachments through the
safe upload and filed into the dossier, bodies kept out of the audit trail, the content-free
e-mail notice, retention, the API contract, and nobody else reads a thread."""
import datetime as dt
import email
import email.policy
import io
import json
import socketserver
import threading

import pytest

from app.domain import clock
from app.extensions import db
from app.models import AuditEvent, MessageThread, User

from . import factories as f

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def user_id(app, username) -> int:
    with app.app_context():
        return db.session.query(User).filter_by(username=username).one().id


def full_name(app, username) -> str:
    with app.app_context():
        user = db.session.query(User).filter_by(username=username).one()
        return f"{user.first_name} {user.last_name}"


def send(client, app, to, **body):
    body = {"destinataires": [user_id(app, u) for u in to], "sujet": "Réunion de jeudi",
            "texte": "Pensez au compte rendu.", **body}
    return client.post("/api/v1/messages", json=body)


@pytest.fixture
def tilleuls_usager(app):
    with app.app_context():
        return f.gen_usager(f.TILLEULS).id


def test_sent_message_is_unread_for_the_recipient_until_opened_and_the_author_sees_when(api, as_user, app):
    response = send(api("direction"), app, ["soin.tilleuls"], sujet=f.unique_name("Sujet"))
    assert response.status_code == 201, response.json
    tid = response.json["id"]
    soin = api("soin.tilleuls")
    unread = soin.get("/api/v1/messages?non_lus=1").json["result"]
    assert tid in [t["id"] for t in unread]
    page = as_user("soin.tilleuls")
    home = page.get("/messages/").get_data(as_text=True)
    assert 'id="messages-badge"' in home and "Non lu" in home
    shown = page.get(f"/messages/{tid}").get_data(as_text=True)
    assert "Pensez au compte rendu." in shown
    assert tid not in [t["id"] for t in soin.get("/api/v1/messages?non_lus=1").json["result"]]
    thread = api("direction").get(f"/api/v1/messages/{tid}").json["result"]
    receipt = next(p for p in thread["participants"] if p["id"] == user_id(app, "soin.tilleuls"))
    assert receipt["lu_le"] is not None


def test_the_badge_counts_a_new_message_then_its_reading_on_the_next_page(api, as_user, app):
    """The badge's count is kept per data version (issue 20): a message, or its reading, moves it."""
    import re

    page = as_user("soin.tilleuls")

    def badge():
        home = page.get("/messages/").get_data(as_text=True)
        found = re.search(r'id="messages-badge"[^>]*>.*?(?:<span class="badge">(\d+)</span>|</a>)', home, re.S)
        return int(found.group(1) or 0)

    before = badge()
    tid = send(api("direction"), app, ["soin.tilleuls"], sujet=f.unique_name("Sujet")).json["id"]
    assert badge() == before + 1
    page.get(f"/messages/{tid}")
    assert badge() == before


def test_a_reply_is_new_again_for_the_other_participants(api, app):
    tid = send(api("direction"), app, ["soin.tilleuls"]).json["id"]
    soin = api("soin.tilleuls")
    assert soin.post(f"/api/v1/messages/{tid}/lu").status_code == 204
    assert soin.post(f"/api/v1/messages/{tid}", json={"texte": "C'est noté."}).status_code == 201
    assert tid in [t["id"] for t in api("direction").get("/api/v1/messages?non_lus=1").json["result"]]
    assert tid not in [t["id"] for t in soin.get("/api/v1/messages?non_lus=1").json["result"]]


def test_a_message_to_a_service_inbox_reaches_every_member(api, app, make_user):
    with app.app_context():
        sid = f.service(f.SOURCES, 1).id
    make_user("membre.un", "Éducatif", [f.SOURCES], service_id=sid)
    make_user("membre.deux", "Soin", [f.SOURCES], service_id=sid)
    response = api("direction").post("/api/v1/messages", json={
        "destinataires": [], "service_ids": [sid], "sujet": "Boîte du service", "texte": "Bonjour à l'équipe."})
    assert response.status_code == 201, response.json
    for username in ("membre.un", "membre.deux"):
        result = api(username).get("/api/v1/messages?non_lus=1").json["result"]
        assert response.json["id"] in [t["id"] for t in result], username


def test_about_an_usager_is_refused_naming_the_recipient_who_cannot_see_them(api, as_user, app, tilleuls_usager):
    before = api("direction").get("/api/v1/messages").json["result"]
    response = send(api("direction"), app, ["soin.tilleuls", "secretaire.sources"], usager_id=tilleuls_usager)
    assert response.status_code == 422
    (problem,) = response.json["message"]["destinataires"]
    assert full_name(app, "secretaire.sources") in problem and full_name(app, "soin.tilleuls") not in problem
    assert api("direction").get("/api/v1/messages").json["result"] == before  # nothing sent
    page = as_user("direction").post("/messages/nouveau", data={
        "destinataires": [str(user_id(app, "secretaire.sources"))], "usager_id": str(tilleuls_usager),
        "sujet": "À propos", "texte": "Texte."})
    assert page.status_code == 422 and full_name(app, "secretaire.sources") in page.get_data(as_text=True)
    ok = send(api("direction"), app, ["soin.tilleuls"], usager_id=tilleuls_usager)
    assert ok.status_code == 201 and ok.json["result"]["usager_id"] == tilleuls_usager


def test_another_user_cannot_read_a_thread(api, as_user, app):
    tid = send(api("direction"), app, ["soin.tilleuls"]).json["id"]
    assert api("educ.sources").get(f"/api/v1/messages/{tid}").status_code == 404
    assert api("educ.sources").post(f"/api/v1/messages/{tid}", json={"texte": "Intrus"}).status_code == 404
    assert as_user("educ.sources").get(f"/messages/{tid}").status_code == 404
    assert tid not in [t["id"] for t in api("admin").get("/api/v1/messages").json["result"]]


def test_attachments_pass_the_safe_upload_and_file_into_the_dossier(as_user, api, app, tilleuls_usager):
    client = as_user("soin.tilleuls")
    form = {"destinataires": [str(user_id(app, "direction"))], "usager_id": str(tilleuls_usager),
            "sujet": "Ordonnance", "texte": "Voici le document."}
    refused = client.post("/messages/nouveau", data={**form, "fichier": (io.BytesIO(b"<html><script>x</script>"),
                                                                          "piege.html")})
    assert refused.status_code == 422 and "Type de fichier refusé" in refused.get_data(as_text=True)
    disguised = client.post("/messages/nouveau", data={**form, "fichier": (io.BytesIO(b"<html><script>"), "a.pdf")})
    assert disguised.status_code == 422
    sent = client.post("/messages/nouveau", data={**form, "fichier": (io.BytesIO(PDF), "ordonnance.pdf")})
    assert sent.status_code == 302
    tid = int(sent.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    thread = api("direction").get(f"/api/v1/messages/{tid}").json["result"]
    (attachment,) = thread["messages"][0]["pieces_jointes"]
    director = as_user("direction")
    assert director.get(f"/messages/piece/{attachment['id']}").data == PDF
    with app.app_context():
        assert db.session.query(AuditEvent).filter_by(action="piece_jointe_telechargee", entity_id=attachment["id"],
                                                      usager_id=tilleuls_usager).count() == 1
    assert director.get(f"/messages/{tid}").get_data(as_text=True).count("Classer dans le dossier") == 1
    filed = director.post(f"/messages/piece/{attachment['id']}/classer",
                          data={"type_code": "courrier", "titre": "Ordonnance du médecin"})
    assert filed.status_code == 302, filed.get_data(as_text=True)
    documents = api("direction").get(f"/api/v1/usager/{tilleuls_usager}/documents").json["result"]
    assert "Ordonnance du médecin" in [d["titre"] for d in documents]
    assert "classée dans le dossier" in director.get(f"/messages/{tid}").get_data(as_text=True)


def test_message_bodies_and_subjects_never_reach_the_audit_trail(api, app):
    body, subject = f.unique_name("CORPS-SECRET"), f.unique_name("SUJET-SECRET")
    tid = send(api("direction"), app, ["soin.tilleuls"], sujet=subject, texte=body).json["id"]
    api("soin.tilleuls").post(f"/api/v1/messages/{tid}", json={"texte": body + " réponse"})
    api("soin.tilleuls").get(f"/api/v1/messages/{tid}")
    with app.app_context():
        rows = db.session.query(AuditEvent).all()
        trail = json.dumps([[r.changes, r.details] for r in rows], default=str)
        assert body not in trail and subject not in trail
        assert any(r.entity == "Message" and r.action == "create" for r in rows if r.entity_id)


class TinySMTP(socketserver.StreamRequestHandler):
    """Just enough of an SMTP server (RFC 5321) to receive mails in a test: each DATA is kept."""

    received: list = []

    def handle(self):
        self.wfile.write(b"220 test\r\n")
        while line := self.rfile.readline():
            verb = line[:4].upper()
            if verb == b"DATA":
                self.wfile.write(b"354 go\r\n")
                data = b"".join(iter(self.rfile.readline, b".\r\n"))
                self.received.append(data.decode())
                self.wfile.write(b"250 ok\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture
def smtp_server():
    TinySMTP.received = []
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), TinySMTP)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], TinySMTP.received
    server.shutdown()
    server.server_close()


def test_email_notice_says_only_that_there_is_a_message(api, app, monkeypatch, smtp_server):
    port, received = smtp_server
    subject, body = f.unique_name("Sujet"), f.unique_name("Corps")
    monkeypatch.setitem(app.config, "SILLAGE_SMTP_PORT", port)
    send(api("direction"), app, ["soin.tilleuls"], sujet=subject, texte=body)
    assert received == []  # default: no SMTP host, no notice
    monkeypatch.setitem(app.config, "SILLAGE_SMTP_HOST", "127.0.0.1")
    send(api("direction"), app, ["soin.tilleuls"], sujet=subject, texte=body)
    (raw,) = received
    mail = email.message_from_string(raw, policy=email.policy.default)
    assert mail["Subject"] == "Vous avez un message dans Sillage"
    assert mail.get_content().strip() == "Vous avez un message dans Sillage."
    for secret in (subject, body, full_name(app, "direction"), "direction"):
        assert secret not in raw


def test_recipient_directory_api_contract(api):
    result = api("direction").get("/api/v1/messages/destinataires?q=soin").json["result"]
    soin = next(r for r in result if r["nom"])
    assert set(soin) == {"id", "nom", "role", "etablissements"}
    assert f.TILLEULS in next(r for r in result if "Soin" in r["role"])["etablissements"]
    unknown = api("direction").post("/api/v1/messages", json={"destinataires": [], "sujet": "x", "texte": "y",
                                                             "cc": []})
    assert unknown.status_code == 422 and "cc" in unknown.json["message"]


def test_search_finds_words_of_the_bodies_in_ones_own_threads(api, app):
    word = f.unique_name("MOTCLE")
    tid = send(api("direction"), app, ["soin.tilleuls"], texte=f"Le {word} du jour").json["id"]
    soin = api("soin.tilleuls")
    assert [t["id"] for t in soin.get(f"/api/v1/messages?q={word}").json["result"]] == [tid]
    assert soin.get("/api/v1/messages?q=introuvable-xyz").json["result"] == []


def test_archive_page_and_purge_after_retention(as_user, api, app):
    tid = send(api("direction"), app, ["soin.tilleuls"]).json["id"]
    client = as_user("soin.tilleuls")
    assert client.post(f"/messages/{tid}/archiver", data={"archiver": "1"}).status_code == 302
    assert tid not in [t["id"] for t in api("soin.tilleuls").get("/api/v1/messages").json["result"]]
    assert tid in [t["id"] for t in api("soin.tilleuls").get("/api/v1/messages?archives=1").json["result"]]
    with app.app_context():
        db.session.get(MessageThread, tid).last_message_at = dt.datetime(2000, 1, 1)
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["sillage", "messages", "purge", "--jours", "365"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.get(MessageThread, tid) is None


def test_reading_a_thread_about_an_usager_is_audited_as_a_read_of_their_dossier(api, app, tilleuls_usager):
    tid = send(api("direction"), app, ["soin.tilleuls"], usager_id=tilleuls_usager).json["id"]
    assert api("soin.tilleuls").get(f"/api/v1/messages/{tid}").status_code == 200
    with app.app_context():
        reads = db.session.query(AuditEvent).filter_by(action="read", usager_id=tilleuls_usager,
                                                       user_id=user_id(app, "soin.tilleuls")).all()
        assert reads


def test_a_participant_who_no_longer_sees_the_usager_no_longer_reads_the_thread(api, app, make_user):
    make_user("educ.mobile", "Éducatif", [f.TILLEULS])
    with app.app_context():
        uid = f.gen_usager(f.TILLEULS).id
    tid = send(api("direction"), app, ["educ.mobile"], usager_id=uid).json["id"]
    assert api("educ.mobile").get(f"/api/v1/messages/{tid}").status_code == 200
    with app.app_context():
        from app.models import StaffAssignment

        user = db.session.query(User).filter_by(username="educ.mobile").one()
        for assignment in db.session.query(StaffAssignment).filter_by(user_id=user.id):
            db.session.delete(assignment)  # (the security stamp moves: cached scopes are dropped)
        db.session.commit()
    assert api("educ.mobile").get(f"/api/v1/messages/{tid}").status_code == 404


def test_anonymisation_erases_the_threads_about_the_person(api, app, tilleuls_usager):
    from app.models import Usager
    from app.services import rgpd

    tid = send(api("direction"), app, ["soin.tilleuls"], usager_id=tilleuls_usager).json["id"]
    other = send(api("direction"), app, ["soin.tilleuls"]).json["id"]
    with app.app_context():
        rgpd.anonymise(db.session, db.session.get(Usager, tilleuls_usager), app.config["SILLAGE_DATA_DIR"], "test")
        assert db.session.get(MessageThread, tid) is None and db.session.get(MessageThread, other) is not None


def test_the_dossier_offers_to_write_about_the_person(as_user, tilleuls_usager):
    client = as_user("soin.tilleuls")
    dossier = client.get(f"/dossier/{tilleuls_usager}").get_data(as_text=True)
    assert f"/messages/nouveau?usager_id={tilleuls_usager}" in dossier
    page = client.get(f"/messages/nouveau?usager_id={tilleuls_usager}").get_data(as_text=True)
    assert f'<option value="{tilleuls_usager}" selected>' in page


def test_demo_holds_a_thread_about_a_resident_and_a_service_inbox_message(api):
    direction = {t["sujet"]: t for t in api("direction").get("/api/v1/messages").json["result"]}
    assert direction["Retour d'hospitalisation"]["usager_id"] is not None
    assert "Réunion d'équipe de mardi" in direction
    educ = [t["sujet"] for t in api("educ.sources").get("/api/v1/messages").json["result"]]
    assert "Transports de la semaine prochaine" in educ


def test_the_rgpd_export_holds_the_threads_about_the_person(as_user, api, app, tilleuls_usager):
    """Messages about a person are data about them: the export of a participant holds the threads
    they take part in (files included), not the others, and the complete export the DPO makes for
    the person every thread about them."""
    import zipfile

    from app.models import AccessRequest

    form = {"destinataires": [str(user_id(app, "soin.tilleuls"))], "usager_id": str(tilleuls_usager),
            "sujet": "Chute du matin", "texte": "Pas de blessure, famille prévenue."}
    assert as_user("direction").post("/messages/nouveau", data={**form, "fichier": (io.BytesIO(PDF), "constat.pdf")}) \
        .status_code == 302
    assert send(api("soin.tilleuls"), app, ["secretaire.tilleuls"], sujet="Rendez-vous dentiste",
                usager_id=tilleuls_usager).status_code == 201

    archive = zipfile.ZipFile(io.BytesIO(as_user("direction").get(f"/rgpd/dossier/{tilleuls_usager}/export").data))
    data, names = json.loads(archive.read("usager.json")), archive.namelist()
    (thread,) = data["messages"]
    assert thread["sujet"] == "Chute du matin"
    assert thread["messages"][0]["texte"] == "Pas de blessure, famille prévenue."
    assert thread["messages"][0]["pieces_jointes"] == ["constat.pdf"]
    assert thread["messages"][0]["auteur"] == full_name(app, "direction")
    assert sum(n.startswith("documents/") and n.endswith(".pdf") for n in names) == 1
    dpo = as_user("dpo")
    assert dpo.post(f"/rgpd/dossier/{tilleuls_usager}/acces", data={
        "requested_by": "La personne", "qualite": "personne", "received_on": clock.today().isoformat()}).status_code == 302
    with app.app_context():
        request_id = db.session.query(AccessRequest).filter_by(usager_id=tilleuls_usager).one().id
    archive = zipfile.ZipFile(io.BytesIO(dpo.post(f"/rgpd/acces/{request_id}/export").data))
    assert [t["sujet"] for t in json.loads(archive.read("usager.json"))["messages"]] == \
        ["Chute du matin", "Rendez-vous dentiste"]
