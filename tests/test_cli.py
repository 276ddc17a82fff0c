"""`flask sillage demo` is idempotent; `flask sillage generate` makes realistic bulk data."""
import tempfile

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select

from app.extensions import db
from app.models import Admission, AuditEvent, ContactPerson, Foyer, Usager, User
from app.services.demo import ACCOUNTS

from .conftest import DATABASES, make_app

TABLES = (Usager, Admission, Foyer, ContactPerson, User)


def counts():
    return {m.__name__: db.session.execute(select(func.count()).select_from(m)).scalar_one() for m in TABLES}


@pytest.fixture(params=DATABASES)
def empty_app(request):
    app = make_app(request.param, tempfile.mkdtemp(prefix="sillage-cli-"), name="cli")
    with app.app_context():
        upgrade()
        yield app
        db.session.remove()
        db.engine.dispose()


def test_demo_twice_changes_nothing_and_prints_the_accounts(empty_app):
    runner = empty_app.test_cli_runner()
    first = runner.invoke(args=["sillage", "demo"])
    assert first.exit_code == 0, first.output
    assert "secretaire.tilleuls" in first.output and "Mot de passe des comptes créés" in first.output
    before = counts()
    assert before["Usager"] >= 38 and before["User"] == len(ACCOUNTS)
    audit_before = db.session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    second = runner.invoke(args=["sillage", "demo"])
    assert second.exit_code == 0, second.output
    assert counts() == before
    assert db.session.execute(select(func.count()).select_from(AuditEvent)).scalar_one() == audit_before
    assert "déjà" in second.output


def test_demo_has_siblings_history_and_a_transfer(empty_app):
    empty_app.test_cli_runner().invoke(args=["sillage", "demo", "--password", "un-mot-de-passe-assez-long"])
    siblings = db.session.execute(select(Usager.foyer_id).where(Usager.foyer_id.is_not(None))
                                  .group_by(Usager.foyer_id).having(func.count() > 1)).all()
    assert siblings
    assert db.session.execute(select(Admission).where(Admission.transfert_de_id.is_not(None))).first()
    assert db.session.execute(select(Admission).where(Admission.date_sortie.is_not(None))).first()
    assert empty_app.appbuilder.sm.auth_user_db("educ.sources", "un-mot-de-passe-assez-long")


def test_generate_makes_usagers_with_foyers_and_admissions(empty_app):
    runner = empty_app.test_cli_runner()
    refused = runner.invoke(args=["sillage", "generate", "--usagers", "5"])
    assert refused.exit_code != 0 and "demo" in refused.output
    runner.invoke(args=["sillage", "demo"])
    before = counts()
    result = runner.invoke(args=["sillage", "generate", "--usagers", "120", "--seed", "7"])
    assert result.exit_code == 0, result.output
    after = counts()
    assert after["Usager"] - before["Usager"] == 120
    assert after["Admission"] - before["Admission"] == 120 and after["Foyer"] > before["Foyer"]
    bad = runner.invoke(args=["sillage", "generate", "--usagers", "0"])
    assert bad.exit_code != 0


@pytest.fixture(params=DATABASES)
def app_without_views(request):
    """What `flask sillage …` builds: the app without its views and routes (issue 20: a command
    starts in well under 1.5 s)."""
    import os

    from app import create_app

    from .conftest import database_url

    tmpdir = tempfile.mkdtemp(prefix="sillage-cli-")
    app = create_app("config.TestConfig", web=False, SQLALCHEMY_DATABASE_URI=database_url(request.param, tmpdir, "cli"),
                     SILLAGE_DATA_DIR=os.path.join(tmpdir, "data"),
                     SILLAGE_AUDIT_ANCHOR=os.path.join(tmpdir, "cli-audit-anchor.log"))
    with app.app_context():
        upgrade()
        yield app
        db.session.remove()
        db.engine.dispose()


def test_a_command_starts_without_the_views_and_init_still_grants_every_permission(app_without_views):
    from app.models import Role

    assert not any(rule.rule.startswith("/audit/") for rule in app_without_views.url_map.iter_rules())
    runner = app_without_views.test_cli_runner()
    assert runner.invoke(args=["sillage", "audit", "verify"]).exit_code == 0
    result = runner.invoke(args=["sillage", "init"])
    assert result.exit_code == 0, result.output
    assert any(rule.rule.startswith("/audit/") for rule in app_without_views.url_map.iter_rules())
    dpo = db.session.execute(select(Role).where(Role.name == "DPO")).scalar_one()
    assert ("can_read", "Audit") in {(p.permission.name, p.view_menu.name) for p in dpo.permissions}
