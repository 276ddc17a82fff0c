"""The audit trail: reads and writes recorded by one mechanism, hash chain verified by
`flask sillage audit verify` (its end against the anchor file outside the database), purge with a
signed checkpoint, sensitive values not copied."""
from __future__ import annotations

import datetime as dt
import html
import os
import re

import pytest
from sqlalchemy import delete, insert, select, update

from app.domain import clock
from app.extensions import db
from app.models import AuditCheckpoint, AuditEvent, AuditHead, AuditVerification, FormDefinition, Usager
from app.security import audit_chain
from app.security.audit import record_event
from app.security.audit_chain import GENESIS

from . import factories as f
from .conftest import DATABASES, provision, release


def last_events(app, **filters):
    with app.app_context():
        stmt = select(AuditEvent).filter_by(**filters).order_by(AuditEvent.id.desc()).limit(5)
        rows = db.session.execute(stmt).scalars().all()
        db.session.expunge_all()
        return rows


def test_a_dossier_read_is_recorded_with_the_usager(app, as_user):
    with app.app_context():
        uid = f.gen_usager().id
    as_user("secretaire.tilleuls").get(f"/dossier/{uid}")
    event = last_events(app, action="read", usager_id=uid)[0]
    assert event.username == "secretaire.tilleuls" and event.details["path"] == f"/dossier/{uid}"
    assert event.remote_addr == "127.0.0.1"


def test_api_and_search_reads_record_every_id_returned(app, as_user, api):
    with app.app_context():
        name = "AUDITLU" + f.unique_name()
        a, b = f.gen_usager(nom_naissance=name), f.gen_usager(nom_naissance=name)
        ids = {a.id, b.id}
    client = as_user("secretaire.tilleuls")
    client.get(f"/usagers/?q={name.lower()}")
    first = last_events(app, action="read", username="secretaire.tilleuls")[0]
    assert ids <= set(first.details["usagers"])
    client.get(f"/usagers/?q={name.lower()}")  # the same search again: its kept page, read and recorded
    again = last_events(app, action="read", username="secretaire.tilleuls")[0]
    assert again.id > first.id and ids <= set(again.details["usagers"])
    api("secretaire.tilleuls").get(f"/api/v1/usager/{a.id}")
    event = last_events(app, action="read", usager_id=a.id)[0]
    assert event.details["path"] == f"/api/v1/usager/{a.id}"


def test_role_changes_are_audited(app, as_user, make_user):
    username = make_user("audit.roles", "Éducatif", [f.TILLEULS])
    with app.app_context():
        sm = app.appbuilder.sm
        user = sm.find_user(username=username)
        user.roles.append(sm.find_role("Soin"))
        db.session.commit()
        uid = user.id
    event = last_events(app, entity="User", entity_id=uid, action="update")[0]
    assert "Soin" in event.changes["roles"]["ajouts"]


def test_sensitive_answers_are_recorded_as_changed_not_copied(app):
    from app.models import Evaluation

    with app.app_context():
        definition = FormDefinition(code="psy-test", version=1, status="published", kind="evaluation",
                                    title="Bilan psy", source_text="", data={"sensitivity": "psychologique", "sections": []})
        db.session.add(definition)
        db.session.flush()
        usager = f.gen_usager()
        evaluation = Evaluation(usager_id=usager.id, definition_id=definition.id, form_code="psy-test",
                                form_version=1, evaluated_on=clock.today(), answers={"humeur": "très triste"})
        db.session.add(evaluation)
        db.session.commit()
        eid = evaluation.id
        events = db.session.execute(select(AuditEvent).where(AuditEvent.entity == "Evaluation",
                                                             AuditEvent.entity_id == eid)).scalars().all()
        assert events and all("très triste" not in str(e.changes) for e in events)
        assert events[0].changes["answers"] == {"humeur": "modifié"}


def test_a_medical_field_of_a_shipped_grid_is_recorded_as_changed_not_copied(app):
    """Field-level categories (GEVA's volet 4) are redacted like whole sensitive forms; the rest
    of a social-educative grid is not administrative either: recorded as changed, not copied."""
    from app.models import Evaluation
    from app.services import forms

    with app.app_context():
        usager = f.gen_usager(f.SOURCES)
        evaluation = forms.save_evaluation(db.session, usager=usager, code="geva", version=2, status="validated",
                                           answers={"pathologies": "DIAGNOSTIC-SECRET", "projet_de_vie": "Foyer",
                                                    "synthese": "ok"})
        changes = db.session.execute(select(AuditEvent.changes).where(
            AuditEvent.entity == "Evaluation", AuditEvent.entity_id == evaluation.id)).scalars().all()
        assert changes and "DIAGNOSTIC-SECRET" not in str(changes)
        assert changes[0]["answers"]["pathologies"] == "modifié"
        assert changes[0]["answers"]["projet_de_vie"] == "modifié"
        assert "Foyer" not in str(changes)
        assert db.session.get(Evaluation, evaluation.id).answers["pathologies"] == "DIAGNOSTIC-SECRET"


# --- the chain, on a database of its own (these tests break it on purpose, then undo it) --------

@pytest.fixture(scope="module", params=DATABASES)
def own_app(request):
    app = provision(request.param, "audit")
    yield app
    release(app)


def verify(app, complete=True, jobs=None):
    """The whole chain by default: these tests change entries a previous run already verified."""
    return app.test_cli_runner().invoke(args=["sillage", "audit", "verify", *(["--complet"] if complete else []),
                                              *(["--jobs", str(jobs)] if jobs else [])])


def some_id(app, n=10):
    with app.app_context():
        return db.session.execute(select(AuditEvent.id).order_by(AuditEvent.id).offset(n).limit(1)).scalar_one()


def _rows(app, *conditions):
    with app.app_context():
        return [dict(r) for r in db.session.execute(select(AuditEvent.__table__).where(*conditions)).mappings()]


def _put_back(app, rows):
    with app.app_context():
        db.session.execute(insert(AuditEvent.__table__), rows)
        db.session.commit()
    assert verify(app).exit_code == 0


def test_verify_passes_then_catches_a_changed_row(own_app):
    ok = verify(own_app)
    assert ok.exit_code == 0 and "intègre" in ok.output
    target = some_id(own_app)
    original = _rows(own_app, AuditEvent.id == target)[0]["username"]
    with own_app.app_context():
        db.session.execute(update(AuditEvent).where(AuditEvent.id == target).values(username="mallory"))
        db.session.commit()
    bad = verify(own_app)
    assert bad.exit_code == 1 and f"n° {target}" in bad.output
    with own_app.app_context():
        db.session.execute(update(AuditEvent).where(AuditEvent.id == target).values(username=original))
        db.session.commit()
    assert verify(own_app).exit_code == 0


def test_verify_catches_a_removed_row(own_app):
    assert verify(own_app).exit_code == 0
    target = some_id(own_app)
    saved = _rows(own_app, AuditEvent.id == target)
    with own_app.app_context():
        db.session.execute(delete(AuditEvent).where(AuditEvent.id == target))
        db.session.commit()
    bad = verify(own_app)
    assert bad.exit_code == 1 and f"n° {target + 1}" in bad.output
    _put_back(own_app, saved)


def test_verify_catches_an_inserted_row_and_a_removed_tail(own_app):
    with own_app.app_context():
        row = db.session.execute(select(AuditEvent.__table__).where(AuditEvent.id == some_id(own_app))).mappings().one()
        last = db.session.execute(select(AuditHead.last_id)).scalar_one()
        db.session.execute(insert(AuditEvent.__table__).values({**row, "id": last + 1, "username": "ghost"}))
        db.session.commit()
    assert verify(own_app).exit_code == 1
    tail = _rows(own_app, AuditEvent.id > last - 2, AuditEvent.id <= last)
    with own_app.app_context():
        db.session.execute(delete(AuditEvent).where(AuditEvent.id > last - 2))
        db.session.commit()
    bad = verify(own_app)
    assert bad.exit_code == 1 and "fin de la chaîne" in bad.output
    _put_back(own_app, tail)


# --- the chain's end, anchored outside the database ---------------------------------------------

def _anchor_lines(app):
    with open(app.config["SILLAGE_AUDIT_ANCHOR"]) as fh:
        return fh.read().splitlines()


def _head(app):
    with app.app_context():
        return tuple(db.session.execute(select(AuditHead.last_id, AuditHead.last_hash)).one())


def _set_head(app, last_id, last_hash):
    with app.app_context():
        db.session.execute(update(AuditHead).values(last_id=last_id, last_hash=last_hash))
        db.session.commit()


def _cut_tail(app, keep_to):
    """Delete the entries after `keep_to` and move the head back onto it, as an intruder would."""
    tail = _rows(app, AuditEvent.id > keep_to)
    with app.app_context():
        kept = db.session.execute(select(AuditEvent.hash).where(AuditEvent.id == keep_to)).scalar()
        db.session.execute(delete(AuditEvent).where(AuditEvent.id > keep_to))
        db.session.commit()
    _set_head(app, keep_to, kept or GENESIS)
    return tail


def _restore(app, tail, head, anchor_text=None):
    with app.app_context():
        db.session.execute(delete(AuditEvent).where(AuditEvent.id > min(r["id"] for r in tail) - 1))
        db.session.commit()
    _set_head(app, *head)
    if anchor_text is not None:
        with open(app.config["SILLAGE_AUDIT_ANCHOR"], "w") as fh:
            fh.write(anchor_text)
    _put_back(app, tail)


# --- verification from the last signed checkpoint ----------------------------------------------

def _tamper(app, entry_id, username):
    with app.app_context():
        original = db.session.execute(select(AuditEvent.username).where(AuditEvent.id == entry_id)).scalar_one()
        db.session.execute(update(AuditEvent).where(AuditEvent.id == entry_id).values(username=username))
        db.session.commit()
    return original


def test_verify_checks_only_what_came_after_its_last_checkpoint(own_app):
    first = verify(own_app)
    assert first.exit_code == 0 and "depuis le début" in first.output
    checkpoint = _head(own_app)[0]
    with own_app.app_context():
        for n in range(3):
            record_event("login_failed", username=f"apres.controle{n}")
    again = verify(own_app, complete=False)
    assert again.exit_code == 0 and "3 entrées vérifiées" in again.output, again.output
    assert f"point de contrôle de l'entrée n° {checkpoint}" in again.output


def test_a_change_after_the_checkpoint_is_caught_by_the_incremental_check(own_app):
    assert verify(own_app).exit_code == 0
    with own_app.app_context():
        for n in range(3):
            record_event("login_failed", username=f"nouvelle{n}")
    target = _head(own_app)[0] - 1
    original = _tamper(own_app, target, "mallory")
    bad = verify(own_app, complete=False)
    assert bad.exit_code == 1 and f"n° {target}" in bad.output and "--complet" in bad.output
    _tamper(own_app, target, original)
    assert verify(own_app, complete=False).exit_code == 0


def test_a_change_before_the_checkpoint_is_caught_by_the_complete_check(own_app):
    assert verify(own_app).exit_code == 0
    target = some_id(own_app)
    original = _tamper(own_app, target, "mallory")
    assert verify(own_app, complete=False).exit_code == 0  # already verified: not read again…
    bad = verify(own_app)  # …but the complete check reads everything
    assert bad.exit_code == 1 and f"n° {target}" in bad.output
    _tamper(own_app, target, original)
    assert verify(own_app).exit_code == 0


def test_a_forged_or_moved_checkpoint_is_refused(own_app):
    assert verify(own_app).exit_code == 0
    last_id, last_hash = _head(own_app)
    with own_app.app_context():
        cp = db.session.execute(select(AuditVerification).order_by(AuditVerification.id.desc())).scalars().first()
        cp_id, signature = cp.id, cp.signature
        cp.checked = cp.checked + 1  # any field changed: the signature no longer matches
        db.session.commit()
    bad = verify(own_app, complete=False)
    assert bad.exit_code == 1 and "point de contrôle de vérification falsifié" in bad.output
    with own_app.app_context():
        db.session.execute(update(AuditVerification).where(AuditVerification.id == cp_id)
                           .values(checked=AuditVerification.checked - 1))
        db.session.commit()
    original = _tamper(own_app, last_id, "mallory")  # the checkpoint's own entry changed
    bad = verify(own_app, complete=False)
    assert bad.exit_code == 1 and "point de contrôle de vérification" in bad.output
    _tamper(own_app, last_id, original)
    with own_app.app_context():
        assert db.session.get(AuditVerification, cp_id).signature == signature
    assert verify(own_app, complete=False).exit_code == 0


def test_details_are_hashed_as_written_whatever_the_text_before_them(own_app):
    """The walk puts each `details` back into the hashed text by hand: a value before it that
    reads like its key, keys out of order, quotes and accents change nothing, and a change of
    the details is still caught."""
    with own_app.app_context():
        for _n in range(2):  # (the second from the walk's memory of the first)
            record_event('export "details":null', username="dpo",
                         details={"z": 1, "a": ['é "q"', None], "details": None, "m": {"b": 2, "a": 1.5}})
    target = _head(own_app)[0]
    ok = verify(own_app)
    assert ok.exit_code == 0 and "intègre" in ok.output, ok.output
    with own_app.app_context():
        db.session.execute(update(AuditEvent).where(AuditEvent.id == target)
                           .values(details={"z": 2, "a": ['é "q"', None], "details": None, "m": {"b": 2, "a": 1.5}}))
        db.session.commit()
    bad = verify(own_app)
    assert bad.exit_code == 1 and f"n° {target} " in bad.output and "contenu modifié" in bad.output
    with own_app.app_context():
        db.session.execute(update(AuditEvent).where(AuditEvent.id == target)
                           .values(details={"z": 1, "a": ['é "q"', None], "details": None, "m": {"b": 2, "a": 1.5}}))
        db.session.commit()
    assert verify(own_app).exit_code == 0


# --- the chain in segments, each checked by a process of its own ---------------------------------

@pytest.fixture
def in_segments(monkeypatch):
    """Segments of a few entries (at scale, a process is worth it from 100,000)."""
    monkeypatch.setattr(audit_chain, "MIN_SEGMENT", 1)


def _boundaries(app, jobs=3):
    """The last entry of each segment but the last, as `verify --jobs` cuts the chain."""
    with app.app_context(), db.engine.connect() as conn:
        return [start for start, _prev, _end in audit_chain._segments(conn, 0, GENESIS, _head(app)[0], jobs)[1:]]


def _same_verdict_in_segments(app, expected_id, complete=True):
    """Three processes name the entry one walk names, with the same count of entries checked before it."""
    alone, together = verify(app, complete, jobs=1), verify(app, complete, jobs=3)
    assert together.exit_code == alone.exit_code == 1 and f"n° {expected_id} " in together.output, together.output
    assert together.output == alone.output


def test_a_change_in_any_segment_or_at_their_boundaries_is_caught_as_by_one_walk(own_app, in_segments):
    assert verify(own_app, jobs=3).exit_code == 0
    first, boundaries, last = some_id(own_app, 0), _boundaries(own_app), _head(own_app)[0]
    assert len(boundaries) == 2
    middle = (boundaries[0] + boundaries[1]) // 2
    for target in (first, boundaries[0], boundaries[0] + 1, middle, boundaries[1], boundaries[1] + 1, last):
        original = _tamper(own_app, target, "mallory")
        _same_verdict_in_segments(own_app, target)
        _tamper(own_app, target, original)
    assert verify(own_app, jobs=3).exit_code == 0


def test_a_removed_entry_at_a_boundary_breaks_the_link_of_the_next_segment(own_app, in_segments):
    assert verify(own_app, jobs=3).exit_code == 0
    boundary = _boundaries(own_app)[0]
    saved = _rows(own_app, AuditEvent.id == boundary)
    with own_app.app_context():
        db.session.execute(delete(AuditEvent).where(AuditEvent.id == boundary))
        db.session.commit()
    _same_verdict_in_segments(own_app, boundary + 1)
    _put_back(own_app, saved)


def test_the_incremental_check_in_segments_catches_a_change_and_refuses_a_forged_checkpoint(own_app, in_segments):
    assert verify(own_app, jobs=3).exit_code == 0
    with own_app.app_context():
        for n in range(9):
            record_event("login_failed", username=f"segment{n}")
    target = _head(own_app)[0] - 4
    original = _tamper(own_app, target, "mallory")
    _same_verdict_in_segments(own_app, target, complete=False)
    _tamper(own_app, target, original)
    with own_app.app_context():
        cp = db.session.execute(select(AuditVerification).order_by(AuditVerification.id.desc())).scalars().first()
        cp.checked = cp.checked + 1
        db.session.commit()
    bad = verify(own_app, complete=False, jobs=3)
    assert bad.exit_code == 1 and "point de contrôle de vérification falsifié" in bad.output
    with own_app.app_context():
        cp = db.session.execute(select(AuditVerification).order_by(AuditVerification.id.desc())).scalars().first()
        cp.checked = cp.checked - 1
        db.session.commit()
    ok = verify(own_app, complete=False, jobs=3)
    assert ok.exit_code == 0 and "intègre" in ok.output, ok.output


def test_one_anchor_line_per_committed_transaction_none_for_a_rollback_or_a_failed_commit(app):
    with app.app_context():
        ids = [f.gen_usager().id for _ in range(3)]
    before = len(_anchor_lines(app))
    with app.app_context():
        for uid in ids:
            db.session.get(Usager, uid).nom_utilise = "ANCRÉ"
        db.session.commit()
    after = _anchor_lines(app)
    assert len(after) == before + 1  # three entries, one transaction: one line
    at, kind, seq, entry_hash, mac = after[-1].split()
    assert kind == "head" and (int(seq), entry_hash) == _head(app)
    with app.app_context():
        db.session.get(Usager, ids[0]).nom_utilise = "ANNULÉ"
        db.session.flush()
        db.session.rollback()
        dialect = db.engine.dialect
        db.session.get(Usager, ids[1]).nom_utilise = "JAMAIS"
        db.session.flush()
        real = dialect.do_commit

        def failing(dbapi_connection):
            raise dialect.loaded_dbapi.OperationalError("disque plein")

        dialect.do_commit = failing
        try:
            with pytest.raises(Exception):
                db.session.commit()
        finally:
            dialect.do_commit = real
        db.session.rollback()
    assert len(_anchor_lines(app)) == before + 1
    with app.app_context():
        assert db.session.get(Usager, ids[1]).nom_utilise == "ANCRÉ"
    assert verify(app).exit_code == 0
    assert oct(os.stat(app.config["SILLAGE_AUDIT_ANCHOR"]).st_mode)[-3:] == "600"


def test_verify_catches_a_removed_tail_with_the_head_moved_back(own_app):
    assert verify(own_app).exit_code == 0
    head = _head(own_app)
    tail = _cut_tail(own_app, head[0] - 3)
    bad = verify(own_app)
    assert bad.exit_code == 1 and "fin de la chaîne supprimée" in bad.output and f"n° {head[0]}" in bad.output
    _restore(own_app, tail, head)


def test_verify_catches_an_emptied_trail(own_app):
    head = _head(own_app)
    everything = _rows(own_app)
    with own_app.app_context():
        db.session.execute(delete(AuditEvent))
        db.session.commit()
    _set_head(own_app, 0, GENESIS)
    bad = verify(own_app)
    assert bad.exit_code == 1 and "journal d'audit vidé" in bad.output
    _restore(own_app, everything, head)


def test_verify_catches_a_replaced_end_of_the_chain(own_app):
    head = _head(own_app)
    _set_head(own_app, head[0], "f" * 64)  # the head row alone
    assert verify(own_app).exit_code == 1
    _set_head(own_app, *head)
    anchors = "\n".join(_anchor_lines(own_app)) + "\n"
    tail = _cut_tail(own_app, head[0] - 3)
    with own_app.app_context():  # the application goes on writing over the removed entries
        for n in range(5):
            record_event("login_failed", username=f"intrus{n}")
    assert _head(own_app)[0] > head[0]
    bad = verify(own_app)
    _restore(own_app, tail, head, anchors)
    assert bad.exit_code == 1 and "fin de la chaîne remplacée" in bad.output
    # the first replaced entry that an anchor line vouched for (each committed batch has its line)
    first = int(re.search(r"première entrée fautive n° (\d+)", bad.output).group(1))
    assert head[0] - 3 < first <= head[0], bad.output


def test_verify_catches_a_forged_anchor_line(own_app):
    path = own_app.config["SILLAGE_AUDIT_ANCHOR"]
    anchors = "\n".join(_anchor_lines(own_app)) + "\n"
    last_id, last_hash = _head(own_app)
    forged = f"2030-01-01T00:00:00.000000Z head {last_id} {last_hash} {'0' * 64}\n"
    with open(path, "a") as fh:
        fh.write(forged)
    bad = verify(own_app)
    assert bad.exit_code == 1 and "ligne d'ancrage falsifiée" in bad.output
    with open(path, "w") as fh:
        fh.write(anchors + "n'importe quoi\n")
    bad = verify(own_app)
    assert bad.exit_code == 1 and "ligne d'ancrage illisible" in bad.output
    with open(path, "w") as fh:
        fh.write(anchors)
    assert verify(own_app).exit_code == 0


def test_verify_reads_the_anchor_files_of_every_server(own_app, tmp_path):
    other = tmp_path / "serveur-2.log"
    other.write_text("\n".join(_anchor_lines(own_app)[:5]) + "\n")
    path = own_app.config["SILLAGE_AUDIT_ANCHOR"]
    ok = own_app.test_cli_runner().invoke(args=["sillage", "audit", "verify", "--anchor", path,
                                                "--anchor", str(other)])
    assert ok.exit_code == 0 and "attestée hors de la base" in ok.output
    other.write_text("2030-01-01T00:00:00.000000Z head 1 " + "0" * 64 + " " + "0" * 64 + "\n")
    bad = own_app.test_cli_runner().invoke(args=["sillage", "audit", "verify", "--anchor", path,
                                                 "--anchor", str(other)])
    assert bad.exit_code == 1 and "serveur-2.log" in bad.output


def test_purge_keeps_the_chain_verifiable_with_a_signed_checkpoint(own_app):
    with own_app.app_context():
        cut = some_id(own_app, 20)
        db.session.execute(update(AuditEvent).where(AuditEvent.id <= cut)
                           .values(at=dt.datetime(2020, 1, 1)))  # breaks those rows' hashes…
        db.session.commit()
    assert verify(own_app).exit_code == 1
    result = own_app.test_cli_runner().invoke(args=["sillage", "audit", "purge", "--days", "365"])
    assert result.exit_code == 0 and "purgées" in result.output  # …which the purge removes
    assert verify(own_app).exit_code == 0
    with own_app.app_context():
        count = db.session.execute(select(AuditCheckpoint.purged_count)).scalar_one()
        db.session.execute(update(AuditCheckpoint).values(purged_count=1))
        db.session.commit()
    assert verify(own_app).exit_code == 1
    with own_app.app_context():
        db.session.execute(update(AuditCheckpoint).values(purged_count=count))
        db.session.commit()
    assert verify(own_app).exit_code == 0


def test_after_a_purge_an_emptied_trail_is_still_caught(own_app):
    head = _head(own_app)
    with own_app.app_context():
        checkpoint = db.session.execute(select(AuditCheckpoint.last_id, AuditCheckpoint.last_hash)).one()
    rest = _rows(own_app, AuditEvent.id > checkpoint.last_id)
    with own_app.app_context():
        db.session.execute(delete(AuditEvent))
        db.session.commit()
    _set_head(own_app, *checkpoint)
    bad = verify(own_app)
    assert bad.exit_code == 1 and "journal d'audit vidé" in bad.output
    _restore(own_app, rest, head)


def test_reanchor_after_a_legitimate_restore(own_app):
    """An older copy of the database put back: verify names the lost tail until the operator
    re-anchors, which the trail records."""
    head = _head(own_app)
    _cut_tail(own_app, head[0] - 4)
    assert verify(own_app).exit_code == 1
    runner = own_app.test_cli_runner()
    refused = runner.invoke(args=["sillage", "audit", "reanchor"])
    assert refused.exit_code == 2 and "--confirm" in refused.output
    done = runner.invoke(args=["sillage", "audit", "reanchor", "--confirm"])
    assert done.exit_code == 0 and f"entrée n° {head[0] - 3}" in done.output and f"n° {head[0]}" in done.output
    assert verify(own_app).exit_code == 0
    event = last_events(own_app, action="audit_reanchor")[0]
    assert event.details["ancrage_precedent"]["entree"] == head[0] and event.client == "cli"
    with own_app.app_context():
        record_event("login_failed", username="apres.reancrage")
    assert verify(own_app).exit_code == 0


def test_a_change_is_not_committed_when_its_audit_row_cannot_be_written(own_app):
    with own_app.app_context():
        head = dict(db.session.execute(select(AuditHead.__table__)).mappings().one())
        db.session.execute(delete(AuditHead))
        db.session.commit()
        usager = db.session.execute(select(Usager).limit(1)).scalar_one()
        uid, before = usager.id, usager.nom_utilise
        usager.nom_utilise = "JAMAIS"
        with pytest.raises(Exception):
            db.session.commit()
        db.session.rollback()
        assert db.session.get(Usager, uid).nom_utilise == before
        db.session.execute(insert(AuditHead.__table__).values(head))
        db.session.commit()
    assert verify(own_app).exit_code == 0


def test_only_the_dpo_reads_the_audit(app, as_user):
    assert as_user("dpo").get("/audit/").status_code == 200
    for username in ("admin", "direction", "secretaire.tilleuls"):
        assert as_user(username).get("/audit/").status_code in (302, 403)


def test_direction_and_dpo_see_who_read_a_dossier_others_do_not(app, as_user):
    with app.app_context():
        uid = f.gen_usager().id
    as_user("secretaire.tilleuls").get(f"/dossier/{uid}")
    for username in ("direction", "dpo"):
        client = as_user(username)
        assert "Qui a consulté ce dossier" in client.get(f"/dossier/{uid}").data.decode()
        page = client.get(f"/dossier/{uid}/acces").data.decode()
        assert "secretaire.tilleuls" in page and "consultation" in page
    secretary = as_user("secretaire.tilleuls")
    assert "Qui a consulté" not in secretary.get(f"/dossier/{uid}").data.decode()
    assert secretary.get(f"/dossier/{uid}/acces").status_code in (302, 403)


def test_dpo_checks_the_chain_from_the_view(app, as_user):
    page = as_user("dpo").post("/audit/verifier").data.decode()
    assert 'id="chain-status"' in page and "intègre" in page
    assert "secretaire.tilleuls" in as_user("dpo").get("/audit/?user=secretaire.tilleuls").data.decode()


def test_the_audit_pages_read_actions_and_objects_in_french(app, as_user):
    from app.services import forms

    from .test_evaluations import profile

    with app.app_context():
        usager = f.gen_usager()
        forms.save_evaluation(db.session, usager=usager, code="aggir", version=None, status="validated",
                              answers=profile({}))
        uid = usager.id
    as_user("soin.tilleuls").get(f"/dossier/{uid}")
    page = html.unescape(as_user("dpo").get("/audit/").data.decode())
    assert "consultation" in page and "Évaluation" in page and "création" in page
    assert ">read<" not in page and ">EvaluationResult" not in page and ">create<" not in page


def test_the_audit_page_counts_no_further_than_it_needs(app, as_user, monkeypatch):
    """Millions of entries (issue 20): beyond the limit the page says "plus de", with the next page."""
    from app.services import audit_log

    monkeypatch.setattr(audit_log, "COUNT_LIMIT", 3)
    with app.app_context():
        for n in range(55):
            record_event("login_failed", username=f"compte.{n}")
    page = html.unescape(as_user("dpo").get("/audit/").data.decode())
    assert "Plus de 50 entrées" in page and "Suivantes" in page
