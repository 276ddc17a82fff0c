"""Backup while running, restore on an empty instance: nothing lost, audit chain included."""
from __future__ import annotations

import os
import tempfile

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEvent, Usager

from . import factories as f
from .conftest import DATABASES, PASSWORD, make_app


def _counts(app):
    with app.app_context():
        result = {"usagers": db.session.execute(select(func.count(Usager.id))).scalar(),
                  "audit": db.session.execute(select(func.count(AuditEvent.id))).scalar(),
                  "names": sorted(db.session.execute(select(Usager.nom_naissance)).scalars())}
        db.session.remove()
        return result


@pytest.mark.parametrize("kind", DATABASES)
def test_backup_then_restore_on_an_empty_instance_loses_nothing(kind):
    tmp = tempfile.mkdtemp(prefix="sillage-backup-test-")
    source = make_app(kind, tmp, name="source")
    with source.app_context():
        upgrade()
        runner = source.test_cli_runner()
        assert runner.invoke(args=["sillage", "init"]).exit_code == 0
        assert runner.invoke(args=["sillage", "demo", "--password", PASSWORD]).exit_code == 0
        f.gen_usager(nom_naissance="SAUVEGARDÉ")
        db.session.commit()
    doc = os.path.join(source.config["SILLAGE_DATA_DIR"], "documents", "1", "compte-rendu.pdf")
    os.makedirs(os.path.dirname(doc))
    with open(doc, "wb") as fh:
        fh.write(b"%PDF-1.4 contenu")
    archive = os.path.join(tmp, "sillage.tar.gz")
    before = _counts(source)
    result = source.test_cli_runner().invoke(args=["sillage", "backup", archive])
    assert result.exit_code == 0, result.output
    assert oct(os.stat(archive).st_mode)[-3:] == "600"
    again = source.test_cli_runner().invoke(args=["sillage", "backup", archive])
    assert again.exit_code != 0 and "existe déjà" in again.output

    target = make_app(kind, tmp, name="target")
    target.config["SILLAGE_DATA_DIR"] = os.path.join(tmp, "target-data")
    result = target.test_cli_runner().invoke(args=["sillage", "restore", archive])
    assert result.exit_code == 0, result.output
    after = _counts(target)
    assert after["usagers"] == before["usagers"] and after["names"] == before["names"]
    assert after["audit"] == before["audit"]  # the trail as it was at the snapshot
    with open(os.path.join(target.config["SILLAGE_DATA_DIR"], "documents", "1", "compte-rendu.pdf"), "rb") as fh:
        assert fh.read() == b"%PDF-1.4 contenu"
    assert "reanchor --confirm" in result.output
    unanchored = target.test_cli_runner().invoke(args=["sillage", "audit", "verify"])
    assert unanchored.exit_code == 1 and "aucun ancrage externe" in unanchored.output
    anchored = target.test_cli_runner().invoke(args=["sillage", "audit", "reanchor", "--confirm"])
    assert anchored.exit_code == 0, anchored.output
    verified = target.test_cli_runner().invoke(args=["sillage", "audit", "verify"])
    assert verified.exit_code == 0, verified.output
    refused = target.test_cli_runner().invoke(args=["sillage", "restore", archive])
    assert refused.exit_code != 0 and "pas vide" in refused.output
    for app in (source, target):
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_restore_refuses_a_broken_archive(app, tmp_path):
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(b"not an archive")
    result = app.test_cli_runner().invoke(args=["sillage", "restore", str(bad)])
    assert result.exit_code != 0 and "illisible" in result.output


@pytest.mark.skipif("postgresql" not in DATABASES, reason="pg_dump: set TEST_DATABASE_URL")
def test_a_backup_taken_while_others_write_restores_as_its_manifest_says(monkeypatch):
    """Entries committed while pg_dump runs are not in the dump: the manifest (counts, audit head)
    must describe the dump's own snapshot, or every backup taken under load fails to restore."""
    from app.security.audit import record_event
    from app.services import backup as backup_service

    tmp = tempfile.mkdtemp(prefix="sillage-backup-load-")
    source = make_app("postgresql", tmp, name="busy")
    with source.app_context():
        upgrade()
        assert source.test_cli_runner().invoke(args=["sillage", "init"]).exit_code == 0
    dump = backup_service._run

    def dump_while_others_write(cmd, env):
        dump(cmd, env)
        record_event("login_failed", username="pendant la sauvegarde")  # another worker, meanwhile

    monkeypatch.setattr(backup_service, "_run", dump_while_others_write)
    archive = os.path.join(tmp, "busy.tar.gz")
    result = source.test_cli_runner().invoke(args=["sillage", "backup", archive])
    assert result.exit_code == 0, result.output
    monkeypatch.setattr(backup_service, "_run", dump)
    target = make_app("postgresql", tmp, name="busy_target")
    target.config["SILLAGE_DATA_DIR"] = os.path.join(tmp, "target-data")
    restored = target.test_cli_runner().invoke(args=["sillage", "restore", archive])
    assert restored.exit_code == 0, restored.output
    assert target.test_cli_runner().invoke(args=["sillage", "audit", "reanchor", "--confirm"]).exit_code == 0
    verified = target.test_cli_runner().invoke(args=["sillage", "audit", "verify"])
    assert verified.exit_code == 0, verified.output
    for app in (source, target):
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
