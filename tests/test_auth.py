"""Authentication on every path: TOTP (enrolment, replay, recovery codes), API login with the
second factor, throttling without enumeration, sessions (timeouts, revocation), password rule,
first-login change, personal API tokens, security headers."""
from __future__ import annotations

import datetime as dt
import re

import pyotp
import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models.base import utcnow
from app.models import LoginThrottle, RecoveryCode, User, UserSecurity, WebSession

from .conftest import PASSWORD, TOTP_SECRET, login, open_session, totp_code
from .factories import unique_name

LOGIN = "/api/v1/security/login"


@pytest.fixture(autouse=True)
def forget_failures(app):
    """Every test starts without failed attempts counted against the test client's address."""
    yield
    with app.app_context():
        db.session.execute(LoginThrottle.__table__.delete())
        db.session.commit()


def new_account(app, role="Secrétariat", password=PASSWORD, enrol=True) -> str:
    """A fresh account (its own throttle, sessions and TOTP steps), enrolled with TOTP_SECRET."""
    from app.security.auth import enrol_with_secret

    username = "u" + unique_name().lower()
    with app.app_context():
        sm = app.appbuilder.sm
        user = sm.add_user(username, "Prénom", "Nom", f"{username}@test.invalid", [sm.find_role(role)], password)
        if enrol:
            enrol_with_secret(user, TOTP_SECRET)
        db.session.commit()
    return username


def security(app, username) -> UserSecurity:
    with app.app_context():
        user = db.session.execute(select(User).where(User.username == username)).scalar_one()
        row = db.session.get(UserSecurity, user.id)
        db.session.expunge_all()
        return row


def csrf(page: bytes) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.decode()).group(1)


# --- form login and TOTP ---------------------------------------------------------------------------

def test_password_alone_does_not_sign_in(app):
    username = new_account(app)
    client = app.test_client()
    response = client.post("/login/", data={"username": username, "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login/code")
    assert client.get("/api/v1/usager/").status_code == 401  # not signed in between the two steps
    assert client.get("/dossier/nouveau").status_code == 302


def test_totp_signs_in_and_a_replayed_code_is_refused(app):
    username = new_account(app)
    first = login(app.test_client(), username)
    assert first.get("/api/v1/usager/").status_code == 200
    used = pyotp.TOTP(TOTP_SECRET).at(security(app, username).totp_last_step * 30)
    client = app.test_client()
    client.post("/login/", data={"username": username, "password": PASSWORD})
    replay = client.post("/login/code", data={"code": used})
    assert replay.status_code == 401 and "déjà utilisé" in replay.data.decode()
    assert client.get("/api/v1/usager/").status_code == 401


def test_a_code_two_steps_away_is_refused(app):
    username = new_account(app)
    client = app.test_client()
    client.post("/login/", data={"username": username, "password": PASSWORD})
    far = pyotp.TOTP(TOTP_SECRET).at(dt.datetime.now() + dt.timedelta(seconds=95))
    assert client.post("/login/code", data={"code": far}).status_code == 401


def test_enrolment_shows_the_secret_and_qr_then_gives_ten_single_use_recovery_codes(app):
    username = new_account(app, enrol=False)
    client = app.test_client()
    assert client.post("/login/", data={"username": username, "password": PASSWORD}).headers["Location"].endswith(
        "/login/enrolement")
    page = client.get("/login/enrolement").data.decode()
    secret = re.search(r'id="totp-secret"[^>]*>([A-Z2-7]+)<', page).group(1)
    assert "<svg" in page and "http" not in page.split("<svg", 1)[1].split("</svg>")[0].replace(
        "http://www.w3.org/2000/svg", "")  # QR made locally, inline
    assert client.post("/login/enrolement", data={"code": "000000"}).status_code == 401
    page = client.post("/login/enrolement", data={"code": pyotp.TOTP(secret).now()}).data.decode()
    codes = re.findall(r"<code>([0-9a-f]{6}-[0-9a-f]{6})</code>", page)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get("/api/v1/usager/").status_code == 200
    with app.app_context():
        stored = db.session.execute(select(RecoveryCode.code_hash)).scalars().all()
        assert not any(c in h for c in codes for h in stored)  # hashed, never in clear
    # A recovery code signs in once
    other = app.test_client()
    other.post("/login/", data={"username": username, "password": PASSWORD})
    assert other.post("/login/code", data={"code": codes[0]}).status_code == 302
    again = app.test_client()
    again.post("/login/", data={"username": username, "password": PASSWORD})
    assert again.post("/login/code", data={"code": codes[0]}).status_code == 401


def test_the_own_profile_page_shows_without_the_reset_form(as_user):
    """FAB's /users/userinfo/ renders the same show template without a record id."""
    page = as_user("admin").get("/users/userinfo/")
    assert page.status_code == 200 and "admin" in page.data.decode() and 'id="reset-mfa-form"' not in page.data.decode()
    assert as_user("secretaire.tilleuls").get("/users/userinfo/").status_code in (200, 302, 403)


def test_admin_resets_a_second_factor_without_seeing_it_and_it_is_audited(app, as_user):
    from app.models import AuditEvent

    username = new_account(app)
    victim = login(app.test_client(), username)
    with app.app_context():
        uid = db.session.execute(select(User.id).where(User.username == username)).scalar_one()
    admin = as_user("admin")
    show = admin.get(f"/users/show/{uid}").data.decode()
    assert TOTP_SECRET not in show and 'id="reset-mfa-form"' in show
    assert admin.post(f"/users/reset-mfa/{uid}").status_code == 302
    assert security(app, username).totp_secret is None
    assert victim.get("/api/v1/usager/").status_code == 401  # sessions ended
    with app.app_context():
        event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "mfa_reset",
                                                            AuditEvent.entity_id == uid)).scalar_one()
        assert event.username == "admin"


# --- API login ---------------------------------------------------------------------------------

def test_api_login_needs_the_totp(app, client):
    username = new_account(app)
    without = client.post(LOGIN, json={"username": username, "password": PASSWORD, "provider": "db"})
    assert without.status_code == 401 and without.json["mfa_required"] is True
    wrong = client.post(LOGIN, json={"username": username, "password": PASSWORD, "provider": "db", "totp": "123456"})
    assert wrong.status_code == 401 and wrong.json["mfa_required"] is True
    ok = client.post(LOGIN, json={"username": username, "password": PASSWORD, "provider": "db",
                                  "totp": totp_code(app, username)})
    assert ok.status_code == 200
    token = ok.json["access_token"]
    assert client.get("/api/v1/usager/", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_api_login_bad_payloads_are_400_json(client):
    for body in ("not json", "[]", '{"username": 3, "password": []}', '{"username": "a"}'):
        response = client.post(LOGIN, data=body, content_type="application/json")
        assert response.status_code == 400 and "message" in response.json


def test_api_login_with_a_wrong_password_says_so_in_the_request_language(client):
    body = {"username": "admin", "password": "pas-le-bon-mot-de-passe", "provider": "db"}
    assert client.post(LOGIN, json=body).json == {"message": "Identifiant ou mot de passe incorrect."}
    english = client.post(LOGIN + "?_l_=en", json=body).json["message"]
    assert english != "Identifiant ou mot de passe incorrect." and "Not authorized" not in english


def test_logout_revokes_api_tokens_of_the_user(app, client):
    username = new_account(app)
    token = client.post(LOGIN, json={"username": username, "password": PASSWORD, "totp": totp_code(app, username)}
                        ).json["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/usager/", headers=headers).status_code == 200
    browser = open_session(app, app.test_client(), username)
    browser.post("/logout/")
    assert client.get("/api/v1/usager/", headers=headers).status_code == 401


# --- throttling and enumeration ----------------------------------------------------------------

def _failures(client, username, n):
    return [client.post("/login/", data={"username": username, "password": "wrong password!"}) for _ in range(n)]


def test_failures_slow_down_then_lock_the_same_way_for_unknown_accounts(app):
    existing, ghost = new_account(app), "nobody-" + unique_name().lower()
    answers = {}
    for username in (existing, ghost):
        client = app.test_client()
        first = _failures(client, username, 1)[0]
        answers[username] = (first.status_code, re.sub(r'value="[^"]+"', "", first.data.decode()))
        with app.app_context():  # simulate time passing between attempts (no sleeping in tests)
            for i in range(9):
                db.session.execute(update(LoginThrottle).where(LoginThrottle.key == f"user:{username}@127.0.0.1")
                                   .values(last_failure_at=utcnow() - dt.timedelta(minutes=6)))
                db.session.commit()
                _failures(client, username, 1)
            row = db.session.get(LoginThrottle, f"user:{username}@127.0.0.1")
            assert row.failures == 10 and row.locked_until is not None
            db.session.remove()
        locked = client.post("/login/", data={"username": username, "password": PASSWORD})
        assert locked.status_code == 401 and "réessayez dans" in locked.data.decode()
    assert answers[existing] == answers[ghost]  # same status, same page: no enumeration
    api = app.test_client().post(LOGIN, json={"username": existing, "password": PASSWORD, "totp": "000000"})
    assert api.status_code == 429  # the API door is throttled too


def test_a_delay_follows_the_free_attempts(app):
    username = new_account(app)
    client = app.test_client()
    _failures(client, username, 3)
    refused = client.post("/login/", data={"username": username, "password": PASSWORD})
    assert refused.status_code == 401 and "réessayez dans" in refused.data.decode()


# --- sessions ----------------------------------------------------------------------------------

def test_session_id_changes_at_login_and_cookie_is_httponly(app):
    username = new_account(app)
    client = app.test_client()
    client.get("/login/")
    before = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    response = client.post("/login/", data={"username": username, "password": PASSWORD})
    assert "HttpOnly" in response.headers["Set-Cookie"] and "SameSite=Lax" in response.headers["Set-Cookie"]
    client.post("/login/code", data={"code": totp_code(app, username)})
    after = client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    assert before != after
    with app.app_context():  # only a digest of the id is stored
        assert db.session.get(WebSession, after) is None


@pytest.mark.parametrize("column,age", [("last_seen_at", dt.timedelta(minutes=31)),
                                        ("created_at", dt.timedelta(hours=12, minutes=1))])
def test_idle_and_absolute_timeouts(app, column, age):
    from app.models.base import utcnow

    username = new_account(app)
    client = login(app.test_client(), username)
    assert client.get("/api/v1/usager/").status_code == 200
    with app.app_context():
        uid = db.session.execute(select(User.id).where(User.username == username)).scalar_one()
        db.session.execute(update(WebSession).where(WebSession.user_id == uid).values({column: utcnow() - age}))
        db.session.commit()
    assert client.get("/api/v1/usager/").status_code == 401


def test_logout_ends_every_session_of_the_user(app):
    username = new_account(app)
    one, two = open_session(app, app.test_client(), username), open_session(app, app.test_client(), username)
    assert two.get("/api/v1/usager/").status_code == 200
    one.post("/logout/")
    assert two.get("/api/v1/usager/").status_code == 401


def test_password_change_needs_the_current_one_follows_the_rule_and_ends_other_sessions(app):
    username = new_account(app)
    me, elsewhere = open_session(app, app.test_client(), username), open_session(app, app.test_client(), username)
    wrong = me.post("/compte/mot-de-passe", data={"current": "nope", "password": "x", "confirm": "x"})
    assert wrong.status_code == 422 and "actuel est incorrect" in wrong.data.decode()
    for weak in ("court", "azertyuiop123", "motdepasse2026", username + "-2026-abc"):
        page = me.post("/compte/mot-de-passe", data={"current": PASSWORD, "password": weak, "confirm": weak})
        assert page.status_code == 422, weak
    new = "grenadine vélo cerf-volant"
    ok = me.post("/compte/mot-de-passe", data={"current": PASSWORD, "password": new, "confirm": new})
    assert ok.status_code == 302
    assert me.get("/api/v1/usager/").status_code == 200
    assert elsewhere.get("/api/v1/usager/").status_code == 401
    client = app.test_client()
    assert client.post("/login/", data={"username": username, "password": new}).status_code == 302


def test_account_created_by_an_administrator_changes_its_password_first(app, as_user):
    admin = as_user("admin")
    username = "nouveau" + unique_name().lower()
    with app.app_context():
        role_id = app.appbuilder.sm.find_role("Éducatif").id
    weak = admin.post("/users/add", data={"first_name": "N", "last_name": "V", "username": username + "x",
                                          "email": f"{username}x@test.invalid", "active": "y", "roles": [role_id],
                                          "password": "azerty", "conf_password": "azerty"})
    assert "12 caractères" in weak.data.decode()
    temporary = "provisoire Lune-Orange 77"
    admin.post("/users/add", data={"first_name": "N", "last_name": "V", "username": username,
                                   "email": f"{username}@test.invalid", "active": "y", "roles": [role_id],
                                   "password": temporary, "conf_password": temporary})
    assert security(app, username).must_change_password
    with app.app_context():
        from app.security.auth import enrol_with_secret

        enrol_with_secret(app.appbuilder.sm.find_user(username=username), TOTP_SECRET)
        db.session.commit()
    client = login(app.test_client(), username, temporary)
    assert client.get("/dossier/nouveau").headers["Location"].endswith("/compte/mot-de-passe")
    assert client.get("/api/v1/usager/").json.get("password_change_required") is True
    new = "ma phrase secrète du mardi"
    client.post("/compte/mot-de-passe", data={"current": temporary, "password": new, "confirm": new})
    assert not security(app, username).must_change_password


def test_lock_hides_everything_until_the_password(app):
    username = new_account(app)
    client = open_session(app, app.test_client(), username)
    client.post("/verrou/")
    assert client.get("/dossier/nouveau").headers["Location"].endswith("/verrou/deverrouiller")
    assert client.get("/api/v1/usager/").status_code == 423
    assert client.post("/verrou/deverrouiller", data={"password": "faux"}).status_code == 401
    client.post("/verrou/deverrouiller", data={"password": PASSWORD})
    assert client.get("/api/v1/usager/").status_code == 200


# --- personal API tokens -------------------------------------------------------------------------

def test_cli_token_create_read_scope_expiry_and_revocation(app):
    username = new_account(app)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["sillage", "token", "create", username, "--scope", "read", "--expires", "90d"])
    assert result.exit_code == 0, result.output
    raw = result.output.strip().splitlines()[-1]
    client = app.test_client()
    headers = {"Authorization": f"Bearer {raw}"}
    assert client.get("/api/v1/usager/", headers=headers).status_code == 200
    write = client.post("/api/v1/usager/", headers=headers, json={"nom_naissance": "X"})
    assert write.status_code == 403 and "lecture" in write.json["message"]
    listed = runner.invoke(args=["sillage", "token", "list", username]).output
    assert raw not in listed and raw[:12] in listed and "actif" in listed
    token_id = int(listed.split("\t")[0])
    assert runner.invoke(args=["sillage", "token", "revoke", str(token_id)]).exit_code == 0
    assert client.get("/api/v1/usager/", headers=headers).status_code == 401
    bad = runner.invoke(args=["sillage", "token", "create", username, "--scope", "read", "--expires", "soon"])
    assert bad.exit_code != 0 and "durée" in bad.output


def test_a_user_creates_a_token_for_themselves(app):
    username = new_account(app)
    client = open_session(app, app.test_client(), username)
    client.post("/compte/jetons", data={"name": "Tableur", "scope": "write", "days": "30", "password": PASSWORD,
                                        "code": totp_code(app, username)})
    page = client.get("/compte/").data.decode()
    raw = re.search(r'id="new-token">([^<]+)<', page).group(1)
    assert raw not in client.get("/compte/").data.decode()  # shown once
    assert app.test_client().get("/api/v1/usager/", headers={"Authorization": f"Bearer {raw}"}).status_code == 200


def test_demo_totp_secret_is_checked(app):
    result = app.test_cli_runner().invoke(args=["sillage", "demo", "--totp-secret", "not-base32!"])
    assert result.exit_code != 0 and "base32" in result.output


# --- browser hardening -------------------------------------------------------------------------

def test_security_headers_and_no_open_redirect(app, as_user):
    response = app.test_client().get("/login/")
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    username = new_account(app)
    client = app.test_client()
    client.post("/login/?next=https://evil.example/", data={"username": username, "password": PASSWORD})
    done = client.post("/login/code", data={"code": totp_code(app, username)})
    assert "evil.example" not in done.headers["Location"]


def test_cookie_authenticated_api_writes_need_the_csrf_header(app, as_user):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        client = as_user("secretaire.tilleuls")
        refused = client.post("/api/v1/usager/", json={"nom_naissance": "CSRF"})
        assert refused.status_code == 400 and "CSRF" in refused.json["message"]
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_deactivating_an_account_ends_its_sessions(app, as_user):
    username = new_account(app)
    victim = open_session(app, app.test_client(), username)
    assert victim.get("/api/v1/usager/").status_code == 200
    with app.app_context():
        user = app.appbuilder.sm.find_user(username=username)
        uid, role_ids = user.id, [r.id for r in user.roles]
    admin = as_user("admin")
    admin.post(f"/users/edit/{uid}", data={"first_name": "Prénom", "last_name": "Nom", "username": username,
                                           "email": f"{username}@test.invalid", "roles": role_ids})  # active unticked
    with app.app_context():
        assert not app.appbuilder.sm.find_user(username=username).active
    assert victim.get("/api/v1/usager/").status_code == 401


def test_administrator_password_forms_explain_the_rule(app, as_user):
    admin = as_user("admin")
    for url in ("/users/add", "/resetpassword/form?pk=1"):
        page = admin.get(url).data.decode()
        assert "Au moins 12 caractères" in page, url
        assert "does not check" not in page and "ne vérifie pas" not in page, url
