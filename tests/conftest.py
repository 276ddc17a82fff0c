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
    if kind == "sqlite":
        return f"sqlite:///{tmpdir}/{name}.db"
    url = os.environ["TEST_DATABASE_URL"]
    if name != "sillage":
        return fresh_postgresql_database(url, name)
    reset_postgresql(url)
    return url


def make_app(kind: str, tmpdir: str, name: str = "sillage"):
    app = create_app("config.TestConfig", SQLALCHEMY_DATABASE_URI=database_url(kind, tmpdir, name),
                     SILLAGE_DATA_DIR=os.path.join(tmpdir, "data"))
    return app


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
        result = runner.invoke(args=["sillage", "demo", "--password", PASSWORD])
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


def login(client, username, password=PASSWORD):
    client.get("/logout/")
    response = client.post("/login/", data={"username": username, "password": password})
    assert response.status_code == 302, response.data[:500]
    return client


@pytest.fixture
def as_user(app):
    """as_user("secretaire.tilleuls") → a test client logged in as that demo account."""

    def make(username):
        return login(app.test_client(), username)

    return make


@pytest.fixture
def api(app):
    """api("admin") → a client whose requests carry that account's Bearer token."""

    def make(username):
        client = app.test_client()
        response = client.post("/api/v1/security/login",
                               json={"username": username, "password": PASSWORD, "provider": "db"})
        assert response.status_code == 200, response.json
        token = response.json["access_token"]
        return ApiClient(client, token)

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
