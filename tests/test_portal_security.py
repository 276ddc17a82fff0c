"""An attacker's probe of the family portal (`/portail/`), over real HTTP through the test
client: a portal session against every staff page and API, other people's ids in every portal
route, invitation and recovery links (reuse, revoked, expired, kept only hashed), redirects,
CSRF, session fixation, logout, idle and absolute limits, a disabled account or an ended
access with a session still open, the audit trail without message bodies, documents outside the
granted types or medical, and the security headers. Each finding of the probe is one test."""
from __future__ import annotations

import datetime as dt
import io
import re
import time

import pyotp
import pytest
from sqlalchemy import select, text
from werkzeug.datastructures import FileStorage

from app.domain import clock
from app.extensions import db
from app.models import AuditEvent, MesureProtection, PortalAccess, Usager

from . import factories as f
from .test_csp import _check as check_csp
from .test_portal import NEW_PASSWORD, SECRETARY, family, invite, path_of, signup  # noqa: F401  (fixture)

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _denied(app, path_part):
    with app.app_context():
        rows = db.session.execute(select(AuditEvent).where(AuditEvent.action == "denied",
                                                           AuditEvent.username.like("portail:%"))).scalars().all()
        db.session.remove()
    return [r for r in rows if path_part in (r.details or {}).get("path", "")]


def _upload(app, usager_id, type_code, titre, category=None):
    from app.services import documents

    with app.app_context():
        usager = db.session.get(Usager, usager_id)
        upload = FileStorage(stream=io.BytesIO(PDF), filename="piece.pdf", content_type="application/pdf")
        found = documents.upload(db.session, scope=None, usager=usager, type_code=type_code, titre=titre,
                                 upload=upload, **({"categorie": category} if category else {})).id
        db.session.remove()
    return found


def _measure(app, usager_id):
    """A curatelle in force (a curator's access needs one)."""
    with app.app_context():
        db.session.add(MesureProtection(usager_id=usager_id, type_mesure="curatelle", date_debut=dt.date(2020, 1, 1)))
        db.session.commit()
        db.session.remove()


def _fill(rule, value):
    """A URL of a rule, every argument given `value` (ints) or "1"."""
    url = rule.rule
    for arg in rule.arguments:
        url = re.sub(r"<(?:[^:<>]+:)?%s>" % arg, str(value), url)
    return url


# --- a portal session on the staff side ---------------------------------------------------------

def test_a_portal_session_gets_no_data_from_any_staff_page_or_api(app, api, family):
    client = signup(app, invite(api, family, ["agenda", "messages", "coordonnees", "consultations",
                                              "documents:courrier", "projet"])["url"])
    with app.app_context():
        name = db.session.get(Usager, family["uid"]).nom_naissance
        db.session.remove()
    public = {"static", "appbuilder.static", "SillageAuthView.login", "SillageAuthView.logout",
              "SillageAuthView.code", "HomeView.index", "favicon"}  # (what an anonymous visitor sees)
    opened = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/portail") or rule.endpoint.endswith("static"):
            continue
        url = _fill(rule, family["uid"])
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method, json={} if url.startswith("/api/") else None)
            body = response.get_data(as_text=True)
            assert name not in body, (method, url)
            if url.startswith("/api/v1/") and rule.endpoint not in public:
                assert response.status_code in (400, 401, 404, 405), (method, url, response.status_code)
            elif response.status_code == 200 and rule.endpoint not in public:
                opened.append((method, url, rule.endpoint))
    assert opened == []


# --- other people's ids in every portal route ---------------------------------------------------

PAGES = ("", "agenda", "projet", "projet.pdf", "documents", "coordonnees", "consultations", "messages", "rgpd")


def test_other_usagers_documents_and_threads_are_404_and_leave_a_denied_entry(app, api, family):
    mine = _upload(app, family["uid"], "courrier", "Courrier de rentrée")
    theirs = _upload(app, family["other"], "courrier", "Courrier d'un autre")
    medical = _upload(app, family["uid"], "courrier", "Courrier du pédopsychiatre", "medical")
    identity = _upload(app, family["uid"], "identite", "Carte d'identité")
    rights = ["agenda", "projet", "documents:courrier", "coordonnees", "consultations", "messages"]
    client = signup(app, invite(api, family, rights)["url"])
    for usager_id in (family["other"], family["elsewhere"], 999999):
        for page in PAGES:
            for method in ("GET", "POST") if page in ("messages", "rgpd") else ("GET",):
                got = client.open(f"/portail/{usager_id}/{page}", method=method, data={"texte": "x", "sujet": "x",
                                                                                      "type": "acces"})
                assert got.status_code == 404, (method, usager_id, page)
        assert _denied(app, f"/portail/{usager_id}/")
    assert client.get(f"/portail/{family['uid']}/documents/{mine}").status_code == 200
    for document_id in (theirs, medical, identity, 999999):
        assert client.get(f"/portail/{family['uid']}/documents/{document_id}").status_code == 404
        assert client.get(f"/portail/{family['other']}/documents/{document_id}").status_code == 404
        assert _denied(app, f"/documents/{document_id}")
    # another account's thread about the same usager: a reply is refused as a 404, traced
    _measure(app, family["uid"])
    other = signup(app, invite(api, family, ["messages"], contact="curator")["url"])
    assert other.post(f"/portail/{family['uid']}/messages", data={"sujet": "Rendez-vous",
                                                                   "texte": "Puis-je venir mardi ?"}).status_code == 302
    with app.app_context():
        from app.models import MessageThread

        thread_id = db.session.execute(select(MessageThread.id).where(MessageThread.usager_id == family["uid"])
                                       .order_by(MessageThread.id.desc())).scalars().first()
        db.session.remove()
    reply = client.post(f"/portail/{family['uid']}/messages", data={"thread_id": thread_id, "texte": "Intrusion"})
    assert reply.status_code == 404
    assert [e for e in _denied(app, f"/portail/{family['uid']}/messages") if e.usager_id == family["uid"]]
    assert "Puis-je venir mardi" not in client.get(f"/portail/{family['uid']}/messages").get_data(as_text=True)


def test_a_right_not_granted_is_a_404_even_for_ones_own_usager(app, api, family):
    client = signup(app, invite(api, family, [])["url"])
    for page in ("agenda", "projet", "projet.pdf", "documents", "coordonnees", "consultations", "messages"):
        assert client.get(f"/portail/{family['uid']}/{page}").status_code == 404, page


# --- links ------------------------------------------------------------------------------------------

def test_links_are_one_use_die_with_revocation_and_expiry_and_are_kept_only_hashed(app, api, family):
    made = invite(api, family, ["agenda"])
    token = made["url"].rsplit("/", 1)[1]
    near = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert app.test_client().get(f"/portail/invitation/{near}").status_code == 404
    signup(app, made["url"])
    assert app.test_client().get(path_of(made["url"])).status_code == 404  # reuse
    assert app.test_client().post(path_of(made["url"]), data={"password": NEW_PASSWORD}).status_code == 404
    reset = api(SECRETARY).post(f"/api/v1/usager/{family['uid']}/portail/invitations/{made['id']}/reinitialiser")
    reset_token = reset.json["url"].rsplit("/", 1)[1]
    with app.app_context():  # nothing of either link in the database, but its SHA-256
        dump = " ".join(str(row) for table in ("portal_access", "portal_account", "audit_event")
                        for row in db.session.execute(text(f"select * from {table}")).all())
        db.session.remove()
    assert token not in dump and reset_token not in dump
    # a revoked access's recovery link and a disabled account's recovery link do not open
    assert api(SECRETARY).post(f"/api/v1/usager/{family['uid']}/portail/invitations/{made['id']}/desactiver") \
        .status_code == 200
    assert app.test_client().get(path_of(reset.json["url"])).status_code == 404
    revoked = invite(api, family, ["agenda"])
    api(SECRETARY).delete(f"/api/v1/usager/{family['uid']}/portail/invitations/{revoked['id']}")
    assert app.test_client().get(path_of(revoked["url"])).status_code == 404
    expired = invite(api, family, ["agenda"])
    with app.app_context():
        db.session.get(PortalAccess, expired["id"]).token_expires_at = dt.datetime(2020, 1, 1)
        db.session.commit()
        db.session.remove()
    assert app.test_client().get(path_of(expired["url"])).status_code == 404


def test_link_lookup_compares_digests_not_tokens():
    """Timing: the token is looked up by its SHA-256 in the database, so a comparison that stops
    early leaks a prefix of the digest, never of the token; codes compare in constant time."""
    import inspect

    from app.services import portal

    assert "_digest(raw)" in inspect.getsource(portal.invitation_for_token)
    assert "_digest(raw)" in inspect.getsource(portal.account_for_reset_token)
    assert "compare_digest" in inspect.getsource(portal.accept_totp)


# --- sign-in: redirects, CSRF, fixation, logout, limits -----------------------------------------

def _sign_in(app, client, family, made):
    with app.app_context():
        account = db.session.get(PortalAccess, made["id"]).account
        account.totp_last_step, secret, email = None, account.totp_secret, account.email
        db.session.commit()
        db.session.remove()
    first = client.post("/portail/connexion?next=https://evil.example/", data={"email": email, "password": NEW_PASSWORD,
                                                                              "next": "https://evil.example/"})
    assert first.status_code == 302 and "evil" not in first.headers["Location"]
    done = client.post("/portail/connexion/code?next=//evil.example/", data={"code": pyotp.TOTP(secret).now(),
                                                                            "next": "//evil.example/"})
    assert done.status_code == 302 and "evil" not in done.headers["Location"]
    assert done.headers["Location"].startswith("/portail/")
    return done


def _cookie(client, app):
    cookie = client.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session"))
    return cookie.value if cookie else None


def test_no_open_redirect_and_the_session_cookie_changes_at_sign_in(app, api, family):
    made = invite(api, family, ["agenda"])
    signup(app, made["url"])
    client = app.test_client()
    client.get("/portail/connexion")
    client.post("/portail/connexion", data={"email": "x@exemple.fr", "password": "faux"})
    planted = _cookie(client, app)
    _sign_in(app, client, family, made)
    assert _cookie(client, app) != planted
    assert client.get(f"/portail/{family['uid']}/agenda").status_code == 200
    fixed = app.test_client()  # the attacker kept the cookie they planted: it opens nothing
    if planted:
        fixed.set_cookie(app.config.get("SESSION_COOKIE_NAME", "session"), planted)
    assert fixed.get(f"/portail/{family['uid']}/agenda").status_code == 302


def test_a_copy_of_the_session_cookie_dies_at_logout(app, api, family):
    made = invite(api, family, ["agenda"])
    client = signup(app, made["url"])
    client.get(f"/portail/{family['uid']}/agenda")
    stolen = _cookie(client, app)
    assert client.post("/portail/deconnexion").status_code == 302
    thief = app.test_client()
    thief.set_cookie(app.config.get("SESSION_COOKIE_NAME", "session"), stolen)
    assert thief.get(f"/portail/{family['uid']}/agenda").status_code == 302


def test_idle_and_absolute_limits_end_a_portal_session(app, api, family, monkeypatch):
    client = signup(app, invite(api, family, ["agenda"])["url"])
    idle = app.config["SILLAGE_SESSION_IDLE_MINUTES"] * 60
    start = time.time()
    monkeypatch.setattr(time, "time", lambda: start + idle + 60)
    assert client.get(f"/portail/{family['uid']}/agenda").status_code == 302  # idle
    monkeypatch.undo()
    client = signup(app, invite(api, family, ["agenda"], contact=None, email=f"soi{family['uid']}@exemple.fr")["url"])
    start, step = time.time(), idle // 2
    for n in range(1, app.config["SILLAGE_SESSION_MAX_HOURS"] * 3600 // step + 2):
        monkeypatch.setattr(time, "time", lambda n=n: start + n * step)
        if client.get(f"/portail/{family['uid']}/agenda").status_code != 200:
            break
    else:
        pytest.fail("a portal session kept busy never ends")
    assert n * step > app.config["SILLAGE_SESSION_MAX_HOURS"] * 3600 - step


def test_every_portal_post_needs_the_csrf_token(app, api, family):
    made = invite(api, family, ["messages"])
    pending = invite(api, family, ["agenda"], contact=None, email=f"soi{family['uid']}@exemple.fr")
    client = signup(app, made["url"])
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        for path, data in ((f"/portail/{family['uid']}/messages", {"sujet": "CSRF", "texte": "CSRF"}),
                           (f"/portail/{family['uid']}/rgpd", {"type": "acces"}),
                           ("/portail/deconnexion", {}),
                           ("/portail/connexion", {"email": "a@b.fr", "password": "x"}),
                           ("/portail/connexion/code", {"code": "123456"}),
                           (path_of(pending["url"]), {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})):
            assert client.post(path, data=data).status_code == 400, path
        assert client.get(f"/portail/{family['uid']}/messages").status_code == 200  # still signed in
        page = client.get(f"/portail/{family['uid']}/messages").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        sent = client.post(f"/portail/{family['uid']}/messages", data={"sujet": "Avec jeton", "texte": "Bonjour",
                                                                        "csrf_token": token})
        assert sent.status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


# --- an open session after the account or the access ended -------------------------------------

def test_an_open_session_stops_at_majority_and_at_the_end_of_the_measure(app, api, family):
    _measure(app, family["uid"])
    parent = signup(app, invite(api, family, ["agenda"])["url"])
    curator = signup(app, invite(api, family, ["agenda"], contact="curator")["url"])
    assert parent.get(f"/portail/{family['uid']}/agenda").status_code == 200
    assert curator.get(f"/portail/{family['uid']}/agenda").status_code == 200
    with app.app_context():
        usager = db.session.get(Usager, family["uid"])
        usager.date_naissance = clock.today().replace(year=clock.today().year - 19)
        measure = db.session.execute(select(MesureProtection).where(MesureProtection.usager_id == family["uid"])) \
            .scalar_one()
        measure.date_fin = clock.today() - dt.timedelta(days=1)
        db.session.commit()
        db.session.remove()
    assert parent.get(f"/portail/{family['uid']}/agenda").status_code == 404
    assert curator.get(f"/portail/{family['uid']}/agenda").status_code == 404


def test_a_disabled_account_is_refused_at_its_next_request(app, api, family):
    made = invite(api, family, ["agenda"])
    client = signup(app, made["url"])
    with app.app_context():
        db.session.get(PortalAccess, made["id"]).account.disabled_at = dt.datetime(2026, 1, 1)
        db.session.commit()
        db.session.remove()
    assert client.get(f"/portail/{family['uid']}/agenda").status_code == 302
    assert client.get("/portail/").status_code == 302


# --- the audit trail ----------------------------------------------------------------------------

def test_message_and_request_bodies_never_reach_the_audit_trail(app, api, family):
    client = signup(app, invite(api, family, ["messages"])["url"])
    body, rectif, sujet = "Corps secret du message 7f3a", "Rectification secrète 9c2e", "Sujet 4b1d"
    assert client.post(f"/portail/{family['uid']}/messages", data={"sujet": sujet, "texte": body}).status_code == 302
    assert client.post(f"/portail/{family['uid']}/rgpd", data={"type": "rectification", "texte": rectif}) \
        .status_code == 302
    with app.app_context():
        rows = db.session.execute(text("select * from audit_event")).all()
        db.session.remove()
    dump = " ".join(str(r) for r in rows)
    assert body not in dump and rectif not in dump and "Intrusion" not in dump


# --- headers ---------------------------------------------------------------------------------------

def test_portal_pages_carry_the_staff_pages_security_headers(app, api, family):
    mine = _upload(app, family["uid"], "courrier", "Courrier de rentrée")
    client = signup(app, invite(api, family, ["agenda", "messages", "coordonnees", "consultations",
                                              "documents:courrier"])["url"])
    for path in ("/portail/connexion", f"/portail/{family['uid']}/", f"/portail/{family['uid']}/agenda",
                 f"/portail/{family['uid']}/messages", f"/portail/{family['uid']}/coordonnees",
                 f"/portail/{family['uid']}/consultations", f"/portail/{family['uid']}/documents",
                 f"/portail/{family['uid']}/rgpd", f"/portail/{family['uid']}/documents/{mine}"):
        got = client.get(path)
        assert got.status_code == 200, path
        h = got.headers
        assert "frame-ancestors 'none'" in h["Content-Security-Policy"] and h["X-Frame-Options"] == "DENY", path
        assert h["Cache-Control"] == "no-store" and h["X-Content-Type-Options"] == "nosniff", path
        if got.mimetype == "text/html":
            check_csp(got, path)
    invalid = app.test_client().get("/portail/invitation/" + "x" * 40)
    assert invalid.headers["Cache-Control"] == "no-store" and "Content-Security-Policy" in invalid.headers


def test_a_new_recovery_link_replaces_the_previous_one(app, api, family):
    made = invite(api, family, ["agenda"])
    signup(app, made["url"])
    path = f"/api/v1/usager/{family['uid']}/portail/invitations/{made['id']}/reinitialiser"
    first = api(SECRETARY).post(path).json["url"]
    second = api(SECRETARY).post(path).json["url"]
    assert app.test_client().get(path_of(first)).status_code == 404
    assert app.test_client().get(path_of(second)).status_code == 200
    pending = invite(api, family, ["agenda"], contact=None, email=f"attente{family['uid']}@exemple.fr")
    not_yet = api(SECRETARY).post(f"/api/v1/usager/{family['uid']}/portail/invitations/{pending['id']}/reinitialiser")
    assert not_yet.status_code == 422  # no account behind an invitation not accepted


def test_staff_actions_on_an_access_need_its_own_usager_in_the_path(app, api, as_user, family):
    made = invite(api, family, ["agenda"])
    signup(app, made["url"])
    for action in ("reinitialiser", "desactiver", "reactiver"):
        wrong = f"/api/v1/usager/{family['other']}/portail/invitations/{made['id']}/{action}"
        assert api(SECRETARY).post(wrong).status_code == 404, action
        assert as_user(SECRETARY).post(f"/acces-portail/usager/{family['other']}/{made['id']}/{action}") \
            .status_code == 404, action
    assert api(SECRETARY).delete(f"/api/v1/usager/{family['other']}/portail/invitations/{made['id']}") \
        .status_code == 404
