"""Sign-in behind the documented reverse proxy, tokens, sessions and passwords (issue 14 §3-4):
nobody locks out others, the audit records the real address, tokens die with the password or
the second factor, logout is a POST, anonymous visits write nothing, guessable passwords and
names are refused whoever sets them, display names are not self-edited, next= stays local."""
from __future__ import annotations

import html

from sqlalchemy import func, select

from app import create_app
from app.extensions import db
from app.models import ApiToken, AuditEvent, User, WebSession
from app.security import auth

from .conftest import PASSWORD, open_session, totp_code
from .factories import unique_name
from .test_auth import LOGIN, new_account


def _client(app, address):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def test_failures_from_one_address_never_lock_another_out(app, monkeypatch):
    # The throttle's clock stands still: on a slow machine the 1-2-4 s delays would otherwise end
    # between two attempts, and how many failures count would depend on the machine's speed.
    frozen = auth.utcnow()
    monkeypatch.setattr(auth, "utcnow", lambda: frozen)
    attacker = _client(app, "198.51.100.7")
    for _ in range(40):  # random names, then the real one
        attacker.post(LOGIN, json={"username": "x" + unique_name().lower(), "password": "mauvais mot de passe"})
    victim = new_account(app)
    for _ in range(12):  # the victim's own account, failed from the attacker's address: locked there only
        attacker.post(LOGIN, json={"username": victim, "password": "mauvais mot de passe"})
    assert attacker.post(LOGIN, json={"username": victim, "password": PASSWORD,
                                      "totp": totp_code(app, victim)}).status_code == 429
    office = _client(app, "192.0.2.10")
    signed_in = office.post(LOGIN, json={"username": victim, "password": PASSWORD, "totp": totp_code(app, victim)})
    assert signed_in.status_code == 200 and "access_token" in signed_in.json


def test_behind_the_proxy_the_real_address_is_throttled_and_audited(app):
    proxied = create_app("config.TestConfig", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                         SILLAGE_DATA_DIR=app.config["SILLAGE_DATA_DIR"], SILLAGE_PROXY_COUNT=1)
    name = "fantome" + unique_name().lower()
    client = proxied.test_client()
    client.post(LOGIN, json={"username": name, "password": "faux"}, headers={"X-Forwarded-For": "203.0.113.9"})
    with app.app_context():
        entry = db.session.execute(select(AuditEvent).where(AuditEvent.action == "login_failed",
                                                             AuditEvent.username == name)).scalar_one()
        assert entry.remote_addr == "203.0.113.9"
    with proxied.app_context():
        db.session.remove()


def test_the_current_password_check_is_throttled_and_audited(app):
    username = new_account(app)
    me = open_session(app, _client(app, "192.0.2.20"), username)
    for _ in range(12):
        refused = me.post("/compte/mot-de-passe", data={"current": "pas le bon", "password": "x", "confirm": "x"})
        assert refused.status_code == 422
    assert "Trop d'essais" in html.unescape(refused.data.decode())
    with app.app_context():
        actions = db.session.execute(select(AuditEvent.action).where(
            AuditEvent.action.like("password_check%"), AuditEvent.username == username)).scalars().all()
        assert actions.count("password_check_failed") >= 3 and len(actions) == 12  # each try recorded


def _token(app, username):
    with app.app_context():
        user = db.session.execute(select(User).where(User.username == username)).scalar_one()
        raw = auth.create_token(user, "read", 30, "tableur")
        db.session.remove()
    return raw


def _works(app, raw):
    return app.test_client().get("/api/v1/usager/", headers={"Authorization": f"Bearer {raw}"}).status_code == 200


def test_tokens_die_with_the_password_the_second_factor_and_the_account(app):
    username = new_account(app)
    raw = _token(app, username)
    assert _works(app, raw)
    with app.app_context():
        user = db.session.execute(select(User).where(User.username == username)).scalar_one()
        app.appbuilder.sm.set_password(user, "une autre phrase de passe tout à fait neuve", by_admin=True)
    assert not _works(app, raw)
    raw = _token(app, username)
    with app.app_context():
        user = db.session.execute(select(User).where(User.username == username)).scalar_one()
        auth.reset_second_factor(user, "admin")
    assert not _works(app, raw)
    raw = _token(app, username)
    with app.app_context():
        from app.security.manager import SillageUserView

        user = db.session.execute(select(User).where(User.username == username)).scalar_one()
        user.active = False
        db.session.commit()
        SillageUserView.post_update(None, user)
        assert db.session.execute(select(func.count()).select_from(ApiToken).where(
            ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))).scalar() == 0
    assert not _works(app, raw)


def test_creating_a_token_asks_for_the_password_and_a_code(app):
    username = new_account(app)
    me = open_session(app, app.test_client(), username)
    base = {"name": "Tableur", "scope": "read", "days": "30"}
    me.post("/compte/jetons", data=base)
    me.post("/compte/jetons", data={**base, "password": PASSWORD, "code": "000000"})
    me.post("/compte/jetons", data={**base, "password": "pas le bon", "code": totp_code(app, username)})
    with app.app_context():
        user_id = db.session.execute(select(User.id).where(User.username == username)).scalar_one()
        assert db.session.execute(select(func.count()).select_from(ApiToken).where(
            ApiToken.user_id == user_id)).scalar() == 0
    me.post("/compte/jetons", data={**base, "password": PASSWORD, "code": totp_code(app, username)})
    assert 'id="new-token"' in me.get("/compte/").data.decode()


def test_logout_is_a_post_and_anonymous_visits_write_no_session(app):
    username = new_account(app)
    me = open_session(app, app.test_client(), username)
    asked = me.get("/logout/")
    assert asked.status_code == 200 and 'id="logout-confirm"' in asked.data.decode()
    assert me.get("/api/v1/usager/").status_code == 200  # a GET (a link, an image elsewhere) ends nothing
    assert me.post("/logout/").status_code == 302
    assert me.get("/api/v1/usager/").status_code == 401

    def rows():
        with app.app_context():
            return db.session.execute(select(func.count()).select_from(WebSession)).scalar()

    before = rows()
    visitor = app.test_client()
    for _ in range(5):
        assert visitor.get("/login/").status_code == 200
        visitor.post("/login/", data={"username": "personne" + unique_name().lower(), "password": "x"})
        visitor.get("/lang/en")
    assert rows() == before


def test_guessable_passwords_and_names_are_refused_whoever_sets_them(app, as_user):
    username = new_account(app)
    me = open_session(app, app.test_client(), username)
    for guessable in ("Motdepasse123!", "M0tdepasse2024!", "Bonjour2026!!"):
        refused = me.post("/compte/mot-de-passe", data={"current": PASSWORD, "password": guessable, "confirm": guessable})
        assert refused.status_code == 422, guessable
    admin = as_user("admin")
    with app.app_context():
        pk = db.session.execute(select(User.id).where(User.username == username)).scalar_one()
    named = "Prénom cherche une maison bleue"  # holds the account's first name
    admin.post(f"/resetpassword/form?pk={pk}", data={"password": named, "conf_password": named})
    with app.app_context():
        user = db.session.get(User, pk)
        from werkzeug.security import check_password_hash

        assert not check_password_hash(user.password, named)
    login = "nouveau" + unique_name().lower()
    admin.post("/users/add", data={"first_name": "Gaston", "last_name": "Lagaffe", "username": login,
                                   "email": f"{login}@test.invalid", "active": "y", "roles": "1",
                                   "password": f"{login} et ses amis du bureau", "conf_password": f"{login} et ses amis du bureau"})
    with app.app_context():
        assert db.session.execute(select(User).where(User.username == login)).scalar() is None


def test_users_cannot_change_their_own_display_name(app):
    username = new_account(app)
    me = open_session(app, app.test_client(), username)
    assert me.get("/users/userinfoedit").status_code != 200
    me.post("/users/userinfoedit", data={"first_name": "Usurpé", "last_name": "Nom"})
    with app.app_context():
        assert db.session.execute(select(User.first_name).where(User.username == username)).scalar_one() == "Prénom"


def test_next_accepts_only_a_local_path(app):
    username = new_account(app)
    me = open_session(app, app.test_client(), username)
    for target in ("/%09/evil.example", "//evil.example", "/\\evil.example", "https://evil.example", "\\\\evil"):
        me.post("/verrou/")
        response = me.post(f"/verrou/deverrouiller?next={target}", data={"password": PASSWORD})
        assert response.status_code == 302 and response.headers["Location"] in ("/", "http://localhost/"), target
    me.post("/verrou/")
    kept = me.post("/verrou/deverrouiller?next=/usagers/", data={"password": PASSWORD})
    assert kept.headers["Location"].endswith("/usagers/")


def test_a_second_factor_reset_or_a_password_change_ends_the_sessions_or_changes_nothing(app, monkeypatch):
    """The change, the end of the sessions and tokens, and the audit entry share one transaction: a
    worker dying between two commits cannot leave a reset factor with its old sessions still open."""
    from app.security import audit

    username = new_account(app)
    client = open_session(app, app.test_client(), username)
    raw = _token(app, username)

    def fails(*args, **kwargs):
        raise RuntimeError("the worker dies here")

    monkeypatch.setattr(auth, "record_event", fails)
    monkeypatch.setattr(audit, "record_event", fails)
    with app.app_context():
        user = db.session.execute(select(User).where(User.username == username)).scalar_one()
        for change in (lambda: auth.reset_second_factor(user, "admin"),
                       lambda: app.appbuilder.sm.set_password(user, "une autre phrase de passe toute neuve",
                                                              by_admin=True)):
            try:
                change()
            except RuntimeError:
                db.session.rollback()
        db.session.remove()
    monkeypatch.undo()
    assert security_enrolled(app, username)
    assert client.get("/compte/").status_code == 200 and _works(app, raw)  # still signed in, token alive
    with app.app_context():
        user = db.session.execute(select(User).where(User.username == username)).scalar_one()
        auth.reset_second_factor(user, "admin")
    assert client.get("/compte/").status_code == 302 and not _works(app, raw)


def security_enrolled(app, username) -> bool:
    with app.app_context():
        user = db.session.execute(select(User).where(User.username == username)).scalar_one()
        enrolled = auth.mfa_enrolled(user)
        db.session.remove()
    return enrolled
