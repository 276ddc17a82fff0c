"""Test fixtures: one app per database (SQLite always, PostgreSQL when TEST_DATABASE_URL is set),
each migrated from empty with Alembic and loaded with the demo organisation."""
from __future__ import annotations

import os
import tempfile

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from app import create_app
from app.extensions import db

PASSWORD = "mot-de-passe-de-test-2026"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # every demo account is enrolled with it

DATABASES = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


def reset_postgresql(url: str) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def fresh_postgresql_database(base_url: str, suffix: str) -> str:
    """A separate, empty database beside TEST_DATABASE_URL's (for tests that need their own)."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    base = make_url(base_url)
    name = f"{base.database}_{suffix}"
    engine = create_engine(base, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def database_url(kind: str, tmpdir: str, name: str = "sillage") -> str:
    """SQLite: a file in the test's folder. PostgreSQL: TEST_DATABASE_URL's database, or beside it
    one per name and per process when the suite runs in several (pytest-xdist: gw0, gw1…)."""
    if kind == "sqlite":
        return f"sqlite:///{tmpdir}/{name}.db"
    url = os.environ["TEST_DATABASE_URL"]
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if name != "sillage" or worker:
        return fresh_postgresql_database(url, f"{name}_{worker}" if worker else name)
    reset_postgresql(url)
    return url


def make_app(kind: str, tmpdir: str, name: str = "sillage"):
    app = create_app("config.TestConfig", SQLALCHEMY_DATABASE_URI=database_url(kind, tmpdir, name),
                     SILLAGE_DATA_DIR=os.path.join(tmpdir, "data"),
                     SILLAGE_AUDIT_ANCHOR=os.path.join(tmpdir, f"{name}-audit-anchor.log"))
    return app


def provision(kind: str, name: str):
    """A database of its own, migrated and loaded with the demo organisation, for tests that
    damage it on purpose or fill it at random. `release` removes it."""
    tmpdir = tempfile.mkdtemp(prefix=f"sillage-{name}-")
    app = make_app(kind, tmpdir, name=name)
    app.tmpdir = tmpdir
    with app.app_context():
        upgrade()
        runner = app.test_cli_runner()
        assert runner.invoke(args=["sillage", "init"]).exit_code == 0
        assert runner.invoke(args=["sillage", "demo", "--password", PASSWORD]).exit_code == 0
    return app


def release(app) -> None:
    import shutil

    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if "sillage_reads_engine" in app.extensions:  # the read audit's own pool (PostgreSQL)
        app.extensions["sillage_reads_engine"].dispose()
    shutil.rmtree(app.tmpdir, ignore_errors=True)


@pytest.fixture(scope="session", params=DATABASES)
def app(request):
    """A migrated database with the demo organisation, shared by the tests of one session.

    Tests create what they change (their own usagers) and never rely on row counts of others.
    """
    tmpdir = tempfile.mkdtemp(prefix="sillage-test-")
    app = make_app(request.param, tmpdir)
    app.db_kind = request.param
    with app.app_context():
        upgrade()
        runner = app.test_cli_runner()
        result = runner.invoke(args=["sillage", "init"])
        assert result.exit_code == 0, result.output
        result = runner.invoke(args=["sillage", "demo", "--password", PASSWORD, "--totp-secret", TOTP_SECRET])
        assert result.exit_code == 0, result.output
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield
        db.session.rollback()
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


def totp_code(app, username, secret=TOTP_SECRET) -> str:
    """The next code the server will accept for `username` (a step is accepted once: replay)."""
    import time

    import pyotp

    from app.models import User, UserSecurity

    with app.app_context():
        user = db.session.query(User).filter_by(username=username).one()
        row = db.session.get(UserSecurity, user.id)
        last = row.totp_last_step if row and row.totp_last_step is not None else -1
        db.session.remove()
    while True:
        now = int(time.time()) // 30
        # The current step or the next, never the previous: that one leaves the server's
        # window at the next boundary, maybe before a slow browser has submitted it.
        for step in (now, now + 1):
            if step > last:
                return pyotp.TOTP(secret).at(step * 30)
        time.sleep(1)


def open_session(app, client, username):
    """Sign `client` in as `username` by opening its server-side session directly, as a
    completed login would (the login steps themselves are tested in test_auth)."""
    import secrets

    from sqlalchemy import insert

    from app.models import User, WebSession
    from app.models.base import utcnow
    from app.security.sessions import digest, serializer

    with app.app_context():
        user = db.session.query(User).filter_by(username=username).one()
        sid, now = secrets.token_urlsafe(32), utcnow()
        data = serializer.dumps({"_user_id": str(user.id), "_fresh": True, "_id": "test"})
        with db.engine.begin() as conn:
            conn.execute(insert(WebSession.__table__).values(id=digest(sid), user_id=user.id, kind="web", data=data,
                                                              created_at=now, last_seen_at=now))
        db.session.remove()
    client.set_cookie(app.config["SESSION_COOKIE_NAME"], sid)
    return client


def login(client, username, password=PASSWORD):
    """The real sign-in: password, then the second factor for an enrolled account."""
    client.post("/logout/")
    response = client.post("/login/", data={"username": username, "password": password})
    assert response.status_code == 302, response.data[:500]
    if response.headers["Location"].endswith("/login/code"):
        response = client.post("/login/code", data={"code": totp_code(client.application, username)})
        assert response.status_code == 302, response.data[:500]
    return client


def sql_statements(app, call):
    """(what `call()` returned, the SQL statements the app's engine ran meanwhile), as SQLAlchemy
    wrote them (on PostgreSQL, a kept statement is sent as `EXECUTE name(…)`: its SQL is counted)."""
    from sqlalchemy import event

    with app.app_context():
        engine = db.engine
    statements = []
    listener = lambda conn, cursor, statement, params, context, many: statements.append(  # noqa: E731
        context.statement if context is not None and context.statement else statement)
    event.listen(engine, "before_cursor_execute", listener)
    try:
        return call(), statements
    finally:
        event.remove(engine, "before_cursor_execute", listener)


@pytest.fixture
def steady_caches(monkeypatch):
    """For tests that count a request's statements: the per-minute period of the cached counts
    and the session's 30-second "last seen" write never turn over between two requests (a run that
    crossed a minute boundary counted two more statements once)."""
    import datetime as dt

    from app.security import sessions, stamp

    monkeypatch.setattr(stamp, "DATA_CACHE_SECONDS", 10 ** 9)
    monkeypatch.setattr(sessions, "TOUCH_EVERY", dt.timedelta(days=1))


@pytest.fixture
def as_user(app):
    """as_user("secretaire.tilleuls") → a test client signed in as that account."""

    def make(username):
        return open_session(app, app.test_client(), username)

    return make


@pytest.fixture
def api(app):
    """api("admin") → a client whose requests carry a JWT of that account (as the API login
    gives; the login itself, with its second factor, is tested in test_auth)."""
    from flask_jwt_extended import create_access_token

    from app.models import User
    from app.security.sessions import open_api_session

    def make(username):
        with app.test_request_context():
            user = db.session.query(User).filter_by(username=username).one()
            sid = open_api_session(user.id)
            token = create_access_token(identity=str(user.id), additional_claims={"sid": sid})
            db.session.remove()
        return ApiClient(app.test_client(), token)

    return make


class ApiClient:
    def __init__(self, client, token):
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    def __getattr__(self, method):
        def call(url, **kwargs):
            headers = {**self.headers, **kwargs.pop("headers", {})}
            return getattr(self.client, method)(url, headers=headers, **kwargs)

        return call


@pytest.fixture
def make_user(app):
    """make_user("chef.sources", "Chef de service", [SOURCES]) → the username (created once)."""
    from app.models import Etablissement, StaffAssignment

    def make(username, role, etablissements=(), service_id=None):
        with app.app_context():
            sm = app.appbuilder.sm
            if sm.find_user(username=username):
                return username
            user = sm.add_user(username, "Prénom", "Nom", f"{username}@test.invalid", [sm.find_role(role)], PASSWORD)
            for name in etablissements:
                etab = db.session.query(Etablissement).filter_by(name=name).one()
                db.session.add(StaffAssignment(user_id=user.id, etablissement_id=etab.id, service_id=service_id))
            db.session.commit()
        return username

    return make

