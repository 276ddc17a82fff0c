"""The document store (GED): upload through the one safe path (attacks refused), versions kept,
SHA-256 checked on download, files 0600, scope and shared secret, the API as outside clients use
it, the mandatory papers' statuses, the work lists, and the clamd hook."""
import datetime as dt
import io
import os
import socket
import stat
import struct
import threading
import zipfile

import pytest
from sqlalchemy import select

from app.domain import clock
from app.extensions import db
from app.models import AuditEvent, DocumentVersion, Usager
from app.services.rgpd import documents_dir

from . import factories as f

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 40 + b"\xff\xd9"


def _zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("payload.html", "<html><script>alert(1)</script></html>")
    return out.getvalue()


def usager(app, etab=f.TILLEULS):
    with app.app_context():
        uid = f.gen_usager(etab).id
        db.session.remove()
    return uid


def post(client, uid, content, name, type_code="identite", titre="Carte d'identité", mime=None, **extra):
    fichier = (io.BytesIO(content), name, mime) if mime else (io.BytesIO(content), name)
    return client.post(f"/api/v1/usager/{uid}/documents", content_type="multipart/form-data",
                       data={"fichier": fichier, "type_code": type_code, "titre": titre, **extra})


def stored_files(app, uid):
    folder = documents_dir(app.config["SILLAGE_DATA_DIR"], uid) / "documents"
    return sorted(folder.iterdir()) if folder.exists() else []


def test_types_are_the_referentiel_with_category_and_expiry(api):
    answer = api("secretaire.tilleuls").get("/api/v1/documents/types")
    assert answer.status_code == 200
    types = {t["code"]: t for t in answer.json["result"]}
    assert set(types["identite"]) == {"code", "libelle", "categorie", "expire"}
    assert types["identite"]["expire"] is True and types["attestation_assurance"]["expire"] is True
    assert types["ordonnance"]["categorie"] == "medical" and types["contrat_sejour"]["expire"] is False


def test_upload_list_download_as_the_contract_says(app, api):
    uid = usager(app)
    client = api("secretaire.tilleuls")
    created = post(client, uid, PDF, "CNI Dupré.pdf", date_document="2025-03-01", expire_le="2035-03-01")
    assert created.status_code == 201, created.json
    body = created.json
    assert set(body) >= {"id", "version", "sha256", "taille", "type_mime"}
    assert body["taille"] == len(PDF) and body["type_mime"] == "application/pdf" and body["version"] == 1
    import hashlib

    assert body["sha256"] == hashlib.sha256(PDF).hexdigest()
    listed = client.get(f"/api/v1/usager/{uid}/documents").json["result"]
    assert [d["id"] for d in listed] == [body["id"]] and listed[0]["type_code"] == "identite"
    content = client.get(f"/api/v1/usager/{uid}/documents/{body['id']}/contenu")
    assert content.status_code == 200 and content.data == PDF
    assert "attachment" in content.headers["Content-Disposition"]
    assert content.headers["X-Content-Type-Options"] == "nosniff" and content.headers["Cache-Control"] == "no-store"
    # the stored name is the server's, the file readable by its account only
    [path] = stored_files(app, uid)
    assert "CNI" not in path.name and path.suffix == ".pdf"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    # search by title words, type, dates
    assert len(client.get(f"/api/v1/usager/{uid}/documents?q=carte").json["result"]) == 1
    assert client.get(f"/api/v1/usager/{uid}/documents?q=jugement").json["result"] == []
    assert client.get(f"/api/v1/usager/{uid}/documents?type_code=courrier").json["result"] == []
    assert client.get(f"/api/v1/usager/{uid}/documents?du=2025-04-01").json["result"] == []
    assert len(client.get(f"/api/v1/usager/{uid}/documents?du=2025-01-01&au=2025-12-31").json["result"]) == 1


@pytest.mark.parametrize("content, name, mime, message", [
    (b"<html><script>alert(1)</script></html>", "facture.pdf", None, "ne correspond pas"),  # HTML renamed .pdf
    (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "dessin.svg", None, "Type de fichier"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "dessin.png", None, "ne correspond pas"),
    (b'<svg onload="alert(1)"></svg>', "note.txt", None, "contenu actif"),
    (PDF + b"<html><script>alert(1)</script>", "releve.pdf", None, "contenu actif"),  # PDF/HTML polyglot
    (JPEG + _zip(), "photo.jpg", None, "contenu actif"),  # JPEG with an archive behind (GIFAR-like)
    (PDF.replace(b"/Catalog", b"/Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >>"), "a.pdf", None,
     "contenu actif"),
    (b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 60, "programme.exe", None, "Type de fichier"),
    (b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 60, "programme.pdf", None, "ne correspond pas"),
    (PDF, "../../../etc/cron.d/x.pdf", None, "Nom de fichier refusé"),
    (PDF, "..\\..\\boot.pdf", None, "Nom de fichier refusé"),
    (PDF, "attestation.pdf", "text/html", "type déclaré"),  # lying content type
    (PNG, "photo.png", "application/pdf", "type déclaré"),
    (b"", "vide.pdf", None, "vide"),
])
def test_upload_attacks_are_refused_and_leave_nothing(app, api, content, name, mime, message):
    uid = usager(app)
    refused = post(api("secretaire.tilleuls"), uid, content, name, mime=mime)
    assert refused.status_code == 422, refused.json
    assert message in " ".join(refused.json["message"]["fichier"])
    assert stored_files(app, uid) == []
    assert api("secretaire.tilleuls").get(f"/api/v1/usager/{uid}/documents").json["result"] == []


def test_beyond_the_size_limit_answers_413(app, api):
    uid = usager(app)
    app.config["SILLAGE_UPLOAD_MAX_BYTES"] = 1024
    try:
        answer = post(api("secretaire.tilleuls"), uid, PDF + b"0" * 2048, "gros.pdf")
    finally:
        app.config["SILLAGE_UPLOAD_MAX_BYTES"] = 10 * 1024 * 1024
    assert answer.status_code == 413 and "volumineux" in answer.json["message"]["fichier"][0]
    assert stored_files(app, uid) == []


def test_unknown_type_and_bad_dates_are_field_errors(app, api):
    uid = usager(app)
    client = api("secretaire.tilleuls")
    assert "type_code" in post(client, uid, PDF, "a.pdf", type_code="inconnu").json["message"]
    assert "expire_le" in post(client, uid, PDF, "a.pdf", expire_le="demain").json["message"]
    assert "titre" in post(client, uid, PDF, "a.pdf", titre="").json["message"]
    assert stored_files(app, uid) == []


def test_a_tampered_file_is_refused_and_audited(app, api, as_user):
    uid = usager(app)
    client = api("secretaire.tilleuls")
    did = post(client, uid, PDF, "cni.pdf").json["id"]
    [path] = stored_files(app, uid)
    path.write_bytes(PDF.replace(b"Catalog", b"Catalot"))
    answer = client.get(f"/api/v1/usager/{uid}/documents/{did}/contenu")
    assert answer.status_code == 409 and "SHA-256" in answer.json["message"]
    page = as_user("secretaire.tilleuls").get(f"/dossier/{uid}/documents/{did}/fichier")
    assert page.status_code == 409 and "altéré" in page.data.decode()
    with app.app_context():
        events = db.session.execute(select(AuditEvent).where(AuditEvent.action == "fichier_altere",
                                                             AuditEvent.entity_id == did)).scalars().all()
        assert len(events) == 2 and events[0].usager_id == uid


def test_replacing_keeps_every_version(app, api, as_user):
    uid = usager(app)
    did = post(api("secretaire.tilleuls"), uid, PDF, "cni-2015.pdf").json["id"]
    web = as_user("secretaire.tilleuls")
    replaced = web.post(f"/dossier/{uid}/documents/{did}/remplacer", content_type="multipart/form-data",
                        data={"version": "1", "fichier": (io.BytesIO(PNG), "cni-2025.png"), "expire_le": "2035-01-01"})
    assert replaced.status_code == 303
    stale = web.post(f"/dossier/{uid}/documents/{did}/remplacer", content_type="multipart/form-data",
                     data={"version": "1", "fichier": (io.BytesIO(PDF), "encore.pdf")})
    assert stale.status_code == 303
    listed = api("secretaire.tilleuls").get(f"/api/v1/usager/{uid}/documents").json["result"][0]
    assert listed["numero"] == 2 and [v["numero"] for v in listed["versions"]] == [2, 1]
    assert listed["type_mime"] == "image/png" and listed["expire_le"] == "2035-01-01"
    assert len(stored_files(app, uid)) == 2  # the refused (stale) upload left nothing
    client = api("secretaire.tilleuls")
    assert client.get(f"/api/v1/usager/{uid}/documents/{did}/contenu").data == PNG
    assert client.get(f"/api/v1/usager/{uid}/documents/{did}/contenu?version=1").data == PDF
    page = web.get(f"/dossier/{uid}").data.decode()
    assert 'id="documents"' in page and "Versions (2)" in page
    preview = web.get(f"/dossier/{uid}/documents/{did}/apercu")
    assert preview.status_code == 200 and preview.data == PNG and "attachment" not in preview.headers.get(
        "Content-Disposition", "")
    assert preview.headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'self'" in preview.headers["Content-Security-Policy"]
    assert "script-src" not in preview.headers["Content-Security-Policy"]


def test_only_pdf_and_images_are_previewed(app, api, as_user):
    uid = usager(app)
    did = post(api("secretaire.tilleuls"), uid, b"simple texte", "note.txt", type_code="courrier").json["id"]
    assert as_user("secretaire.tilleuls").get(f"/dossier/{uid}/documents/{did}/apercu").status_code == 404


def test_another_etablissement_sees_nothing(app, api, as_user):
    uid = usager(app)
    did = post(api("secretaire.tilleuls"), uid, PDF, "cni.pdf").json["id"]
    other = api("secretaire.sources")
    for url in (f"/api/v1/usager/{uid}/documents", f"/api/v1/usager/{uid}/documents/{did}/contenu",
                f"/api/v1/usager/{uid}/pieces-obligatoires"):
        assert other.get(url).status_code == 404, url
    assert post(other, uid, PDF, "x.pdf").status_code == 404
    # an id of their own usager does not reach another usager's document
    own = usager(app, f.SOURCES)
    assert other.get(f"/api/v1/usager/{own}/documents/{did}/contenu").status_code == 404
    web = as_user("secretaire.sources")
    assert web.get(f"/dossier/{uid}/documents/{did}/fichier").status_code == 404
    assert web.get(f"/dossier/{uid}/documents/{did}/apercu").status_code == 404


def test_a_category_the_user_may_not_read_is_absent(app, api):
    uid = usager(app)
    nurse = api("soin.tilleuls")
    did = post(nurse, uid, PDF, "ordo.pdf", type_code="ordonnance", titre="Ordonnance").json["id"]
    assert [d["categorie"] for d in nurse.get(f"/api/v1/usager/{uid}/documents").json["result"]] == ["medical"]
    for reader in ("secretaire.tilleuls", "direction"):
        client = api(reader)
        assert client.get(f"/api/v1/usager/{uid}/documents").json["result"] == [], reader
        assert client.get(f"/api/v1/usager/{uid}/documents/{did}/contenu").status_code == 404, reader
    # nor may the secretary file one
    refused = post(api("secretaire.tilleuls"), uid, PDF, "ordo.pdf", type_code="ordonnance", titre="Ordonnance")
    assert refused.status_code == 422 and "categorie" in refused.json["message"]
    with app.app_context():  # the version row follows its document's category too
        assert db.session.execute(select(DocumentVersion).where(DocumentVersion.document_id == did)).scalar_one()


def test_roles_without_documents_get_403(api):
    assert api("qualite").get("/api/v1/documents/types").status_code == 403


def test_mandatory_papers_present_missing_expired(app, api, as_user):
    uid = usager(app)  # admitted in an EHPAD
    client = api("secretaire.tilleuls")
    statuses = {p["type_code"]: p for p in client.get(f"/api/v1/usager/{uid}/pieces-obligatoires").json["result"]}
    assert set(statuses) == {"contrat_sejour", "livret_accueil", "identite", "attestation_assurance"}
    assert {p["statut"] for p in statuses.values()} == {"manquant"}
    assert set(next(iter(statuses.values()))) == {"type_code", "libelle", "statut", "document_id"}
    yesterday = (clock.today() - dt.timedelta(days=1)).isoformat()
    soon = (clock.today() + dt.timedelta(days=30)).isoformat()
    contrat = post(client, uid, PDF, "contrat.pdf", type_code="contrat_sejour", titre="Contrat").json["id"]
    post(client, uid, PDF, "cni.pdf", type_code="identite", titre="CNI", expire_le=yesterday)
    assurance = post(client, uid, PDF, "rc.pdf", type_code="attestation_assurance", titre="RC", expire_le=soon).json["id"]
    statuses = {p["type_code"]: p for p in client.get(f"/api/v1/usager/{uid}/pieces-obligatoires").json["result"]}
    assert statuses["contrat_sejour"] == {**statuses["contrat_sejour"], "statut": "present", "document_id": contrat}
    assert statuses["identite"]["statut"] == "expire" and statuses["livret_accueil"]["statut"] == "manquant"
    assert statuses["attestation_assurance"]["statut"] == "present"
    # the secretaries' work lists
    with app.app_context():
        name = db.session.get(Usager, uid).nom_naissance
        db.session.remove()
    web = as_user("secretaire.tilleuls")
    missing = web.get("/accueil/liste/documents-manquants").data.decode()
    line = next(row for row in missing.split("<tr") if name in row)
    assert "Livret" in line and "Pièce d&#39;identité (expiré)" in line and "Contrat" not in line
    expiring = web.get("/accueil/liste/documents-expirent").data.decode()
    assert [row.count(name) > 0 for row in expiring.split("<tr") if name in row] == [True, True]
    assert "RC" in expiring and "CNI" in expiring
    assert name not in as_user("secretaire.sources").get("/accueil/liste/documents-manquants").data.decode()
    assert assurance


class FakeClamd:
    """A clamd speaking INSTREAM on a Unix socket: FOUND for the EICAR string, OK otherwise."""

    EICAR = b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE"

    def __init__(self, path):
        self.path, self.received = path, []
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(path)
        self.server.listen(4)
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                conn, _addr = self.server.accept()
            except OSError:
                return
            with conn:
                data = b""
                while not data.startswith(b"zINSTREAM\0") or len(data) < 10:
                    data += conn.recv(4096)
                rest, body = data[10:], b""
                while True:
                    while len(rest) < 4:
                        rest += conn.recv(4096)
                    (size,) = struct.unpack("!L", rest[:4])
                    rest = rest[4:]
                    if size == 0:
                        break
                    while len(rest) < size:
                        rest += conn.recv(65536)
                    body, rest = body + rest[:size], rest[size:]
                self.received.append(body)
                conn.sendall(b"stream: Eicar-Test-Signature FOUND\0" if self.EICAR in body else b"stream: OK\0")

    def close(self):
        self.server.close()


def test_the_clamd_hook_refuses_what_it_finds(app, api, tmp_path):
    uid = usager(app)
    clamd = FakeClamd(str(tmp_path / "clamd.sock"))
    app.config["SILLAGE_CLAMD_SOCKET"] = clamd.path
    client = api("secretaire.tilleuls")
    try:
        assert post(client, uid, PDF, "propre.pdf").status_code == 201
        infected = post(client, uid, b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + FakeClamd.EICAR + b"!$H+H*", "eicar.txt",
                        type_code="courrier")
        assert infected.status_code == 422 and "Eicar-Test-Signature" in infected.json["message"]["fichier"][0]
        assert clamd.received[0] == PDF and len(clamd.received) == 2
        clamd.close()
        os.unlink(clamd.path)
        down = post(client, uid, PDF, "propre.pdf")
        assert down.status_code == 422 and "antivirus" in down.json["message"]["fichier"][0].lower()
    finally:
        app.config["SILLAGE_CLAMD_SOCKET"] = ""
        clamd.close()
    assert len(stored_files(app, uid)) == 1
    with app.app_context():
        assert db.session.execute(select(AuditEvent).where(AuditEvent.action == "virus_refuse")).first()


def test_the_dossier_page_shows_the_panel_and_uploads(app, as_user):
    uid = usager(app)
    web = as_user("secretaire.tilleuls")
    page = web.get(f"/dossier/{uid}").data.decode()
    assert 'id="documents"' in page and "Pièces obligatoires" in page and 'data-statut="manquant"' in page
    sent = web.post(f"/dossier/{uid}/documents", content_type="multipart/form-data",
                    data={"type_code": "livret_accueil", "titre": "Livret remis", "date_document": "2026-01-02",
                          "fichier": (io.BytesIO(PDF), "livret.pdf")})
    assert sent.status_code == 303
    page = web.get(f"/dossier/{uid}").data.decode()
    assert "Livret remis" in page and "<iframe" in page
    refused = web.post(f"/dossier/{uid}/documents", content_type="multipart/form-data", follow_redirects=True,
                       data={"type_code": "courrier", "titre": "x", "fichier": (io.BytesIO(b"<html>"), "x.pdf")})
    assert "ne correspond pas" in refused.data.decode()
    assert as_user("qualite").get(f"/dossier/{uid}/documents/1/fichier").status_code in (302, 403, 404)


def test_anonymisation_erases_documents_and_their_files(app, api):
    from app.models import Document
    from app.services import rgpd

    uid = usager(app)
    post(api("soin.tilleuls"), uid, PDF, "ordo.pdf", type_code="ordonnance", titre="Ordonnance Mme X")
    assert len(stored_files(app, uid)) == 1
    with app.app_context():
        rgpd.anonymise(db.session, db.session.get(Usager, uid), app.config["SILLAGE_DATA_DIR"], "test")
        assert db.session.execute(select(Document).where(Document.usager_id == uid)).first() is None
        assert db.session.execute(select(DocumentVersion).where(DocumentVersion.usager_id == uid)).first() is None
        db.session.remove()
    assert stored_files(app, uid) == []
